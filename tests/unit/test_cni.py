"""Flannel as the network stage renders it (nordkube/cni.py, templates/network)."""

from __future__ import annotations

import json

import yaml

from nordkube import cni
from nordkube.bundle.catalog import FLANNEL
from nordkube.settings import Settings
from pyinfra_ext.templating import render


def manifest(settings: Settings, interfaces: list[str], mtus: list[int]) -> dict[str, dict]:
    values = cni.flannel_values(settings, interfaces, mtus)
    text = render("network", "kube-flannel.yml", **values, digest="d" * 64)
    return {doc["kind"]: doc for doc in yaml.safe_load_all(text) if doc}


def test_images_come_from_the_bundle_or_upstream() -> None:
    assert cni.images("bundle") == {
        "flannel": f"ghcr.io/flannel-io/flannel:{FLANNEL}",
        "cni_plugin": f"ghcr.io/flannel-io/flannel:{FLANNEL}",
    }
    assert cni.images("upstream")["cni_plugin"] == cni.UPSTREAM_CNI_PLUGIN_IMAGE


def test_backend_mtu_is_the_smallest_private_nic() -> None:
    assert cni.backend_mtu([1500, 1450, 1500]) == 1450
    assert cni.pod_mtu(1450) == 1400


def test_each_private_interface_name_once_in_inventory_order() -> None:
    assert cni.interfaces(["eth1", "ens4", "eth1"]) == ["eth1", "ens4"]


def test_net_conf_sets_network_vxlan_and_the_underlay_mtu() -> None:
    docs = manifest(Settings(pod_cidr="10.244.0.0/16"), ["eth1"], [1500, 1450])
    net_conf = json.loads(docs["ConfigMap"]["data"]["net-conf.json"])
    assert net_conf == {
        "Network": "10.244.0.0/16",
        "EnableNFTables": False,
        "Backend": {"Type": "vxlan", "MTU": 1450},
    }
    assert json.loads(docs["ConfigMap"]["data"]["cni-conf.json"])["plugins"][0]["type"] == "flannel"


def test_flanneld_uses_the_private_interfaces() -> None:
    docs = manifest(Settings(), ["eth1", "ens4"], [1500])
    container = docs["DaemonSet"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"ghcr.io/flannel-io/flannel:{FLANNEL}"
    assert container["args"][-2:] == ["--iface=eth1", "--iface=ens4"]
    assert "--kube-subnet-mgr" in container["args"]


def test_the_daemonset_carries_the_manifests_digest() -> None:
    docs = manifest(Settings(), ["eth1"], [1500])
    assert docs["DaemonSet"]["metadata"]["annotations"] == {"nordkube.io/sha256": "d" * 64}
    assert docs["DaemonSet"]["metadata"]["namespace"] == cni.NAMESPACE == "kube-flannel"
    assert docs["DaemonSet"]["metadata"]["name"] == cni.DAEMONSET


def test_the_cni_plugin_is_copied_from_the_bundles_image_with_a_bundle() -> None:
    docs = manifest(Settings(kubernetes_package_source="bundle"), ["eth1"], [1500])
    init = docs["DaemonSet"]["spec"]["template"]["spec"]["initContainers"]
    assert [c["image"] for c in init] == [f"ghcr.io/flannel-io/flannel:{FLANNEL}"] * 2
    assert init[0]["command"] == ["cp"] and init[0]["args"][-1] == "/opt/cni/bin/flannel"


def test_nftables_masquerading_where_kube_proxy_uses_nftables() -> None:
    docs = manifest(Settings(kube_proxy_mode="nftables"), ["eth1"], [1500])
    assert json.loads(docs["ConfigMap"]["data"]["net-conf.json"])["EnableNFTables"] is True


def test_the_digest_is_of_the_manifest_without_it() -> None:
    values = cni.flannel_values(Settings(), ["eth1"], [1500])
    draft = render("network", "kube-flannel.yml", **values, digest="")
    assert cni.manifest_digest(draft) == cni.manifest_digest(draft)
    other = render("network", "kube-flannel.yml", **{**values, "mtu": 1400}, digest="")
    assert cni.manifest_digest(other) != cni.manifest_digest(draft)

"""The pod network the network stage applies: Flannel with its VXLAN backend, rendered by nordkube
from the pinned release's own manifest (templates/network/kube-flannel.yml.j2).

Pure (no pyinfra). Sources: flannel v0.28.10's Documentation/kube-flannel.yml (images, objects)
and backend/vxlan (Backend.MTU is the underlay MTU, flannel subtracts its 50 bytes); see
docs/domain.md, "Overlay MTU" and "Flannel".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from nordkube.bundle.catalog import FLANNEL
from nordkube.bundle.images import FLANNEL_IMAGE
from nordkube.settings import Settings

NAMESPACE = "kube-flannel"
DAEMONSET = "kube-flannel-ds"
# The image whose /flannel the upstream manifest copies to /opt/cni/bin (flannel v0.28.10's
# kube-flannel.yml); the bundle's flannel image carries /flannel itself.
UPSTREAM_CNI_PLUGIN_IMAGE = "ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3"
# The CNI spec version of the conflist flannel's DaemonSet writes (cni-conf.json). Every plugin
# it names must support it: the bundle's flannel plugin (containernetworking/plugins v0.9.1,
# the last release that carried it) supports 0.1.0 to 0.4.0 only, upstream's flannel-cni-plugin
# v1.x 0.1.0 to 1.0.0, the reference bridge and portmap of v1.x 0.1.0 to 1.1.0. Seen with
# 1.0.0 in the lab: every node Ready, and no pod sandbox ever made ("incompatible CNI
# versions; config is \"1.0.0\", plugin supports [... \"0.4.0\"]"). The bundle build asks each
# plugin it bundles (CNI_COMMAND=VERSION) and refuses one that does not support it.
CNI_CONF_VERSION = "0.4.0"
# The plugins that conflist runs: flannel, which delegates to bridge, then portmap.
CONFLIST_PLUGINS = ("flannel", "bridge", "portmap")
# What VXLAN adds to every packet on an IPv4 underlay (docs/domain.md, "Overlay MTU").
VXLAN_OVERHEAD = 50


def images(package_source: str) -> dict[str, str]:
    """The images flannel's DaemonSet runs: the flanneld image, and the one its init container
    copies the CNI plugin from (the bundle's flannel image has it; upstream has its own)."""
    plugin = FLANNEL_IMAGE if package_source == "bundle" else UPSTREAM_CNI_PLUGIN_IMAGE
    return {"flannel": FLANNEL_IMAGE, "cni_plugin": plugin}


def backend_mtu(private_mtus: Iterable[int]) -> int:
    """Backend.MTU, the underlay MTU: the smallest private NIC MTU of any node, so that no
    node's overlay packets are larger than the smallest link carries (the path MTU measured
    between nodes is the next issue's)."""
    return min(private_mtus)


def interfaces(private_interfaces: Iterable[str]) -> list[str]:
    """flanneld's --iface arguments: each node's private NIC name, once, in inventory order
    (flanneld uses the first one that exists on its node)."""
    return list(dict.fromkeys(private_interfaces))


def flannel_values(
    settings: Settings, private_interfaces: Iterable[str], private_mtus: Iterable[int]
) -> dict[str, Any]:
    """What templates/network/kube-flannel.yml.j2 fills in."""
    return {
        "version": FLANNEL,
        "images": images(settings.kubernetes_package_source),
        "network": settings.pod_cidr,
        "mtu": backend_mtu(private_mtus),
        "interfaces": interfaces(private_interfaces),
        # flannel masquerades with nftables where kube-proxy uses it, else with iptables.
        "nftables": settings.kube_proxy_mode == "nftables",
        "namespace": NAMESPACE,
        "daemonset": DAEMONSET,
        "cni_version": CNI_CONF_VERSION,
    }


def manifest_digest(rendered_without_digest: str) -> str:
    """The sha256 nordkube annotates the DaemonSet with: of the manifest rendered without it."""
    return hashlib.sha256(rendered_without_digest.encode()).hexdigest()


def pod_mtu(backend: int) -> int:
    """The MTU flannel gives pods over VXLAN (for the docs and the node suite)."""
    return backend - VXLAN_OVERHEAD

"""The formed cluster, as each node sees it: the kubelet, its node Ready on the private network,
kube-proxy's mode and the kubernetes Service in IPVS, cluster DNS, and who may read admin.conf.

Every test here is a state of a formed cluster (marker `cluster`): conftest selects them only
for hosts whose stages include kubernetes. The node's own API client is the kubelet's
kubeconfig, which may read its own Node object.
"""

from __future__ import annotations

import ipaddress
import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from nordkube import dnsquery
from nordkube.bundle.install import KUBERNETES_PROGRAMS, bundle_dir
from nordkube.kubeadm import (
    KUBERNETES_SERVICE_NAME,
    cluster_dns_address,
    kubernetes_service_address,
)

pytestmark = pytest.mark.cluster

KUBELET_KUBECONFIG = "/etc/kubernetes/kubelet.conf"
ADMIN_CONF = "/etc/kubernetes/admin.conf"
KUBEADM_FLAGS = "/var/lib/kubelet/kubeadm-flags.env"
PINNED = ("kubeadm", "kubelet", "kubectl")
API_PORT = 6443


def node_name(host: Any) -> str:
    return str(host.file("/proc/sys/kernel/hostname").content_string.strip().lower())


def own_node(host: Any, node: Any, jsonpath: str) -> str:
    result = host.run(
        "kubectl --kubeconfig=%s --request-timeout=10s get node %s -o jsonpath=%s",
        KUBELET_KUBECONFIG,
        node_name(host),
        jsonpath,
    )
    assert result.rc == 0, f"{node}: the API does not answer for this node: {result.stderr.strip()}"
    return str(result.stdout.strip())


def private_ip(host: Any, node: Any) -> str:
    """The node's private address: the private_address setting, else its private NIC's."""
    settings = node.settings
    if settings.private_address:
        return str(settings.private_address)
    addresses = host.run("ip -o -4 addr show").stdout.splitlines()
    for line in addresses:
        fields = line.split()
        if len(fields) < 4:
            continue
        address = ipaddress.ip_interface(fields[3])
        if settings.private_interface and fields[1] == settings.private_interface:
            return str(address.ip)
        if settings.node_network and address.ip in ipaddress.ip_network(settings.node_network):
            return str(address.ip)
    pytest.fail(f"{node}: no private address (set private_address or node_network)", pytrace=False)


def test_kubelet_running_and_enabled(host: Any, node: Any) -> None:
    service = host.service("kubelet")
    assert service.is_running, f"{node}: the kubelet is not running"
    assert service.is_enabled, f"{node}: the kubelet is not enabled at boot"


@pytest.mark.parametrize("package", PINNED)
def test_kubernetes_package_pinned_and_held(
    host: Any, node: Any, os_family: str, package: str
) -> None:
    if node.settings.kubernetes_package_source in ("bundle", "none"):
        pytest.skip(f"{node}: not installed from packages")
    version = node.settings.kubernetes_version
    installed = host.package(package)
    assert installed.is_installed, f"{node}: {package} is not installed"
    assert installed.version.startswith(f"{version}"), (
        f"{node}: {package} {installed.version} is installed, not {version}"
    )
    if os_family == "debian":
        held = host.run("apt-mark showhold").stdout.split()
    else:
        listing = host.run("dnf versionlock list 2>/dev/null || yum versionlock list").stdout
        held = [name for name in PINNED if re.search(rf"(^|\s|:){name}-", listing, re.M)]
    assert package in held, f"{node}: {package} is not held, an upgrade may move it"


@pytest.mark.parametrize("program", sorted(KUBERNETES_PROGRAMS))
def test_kubernetes_program_is_the_bundles(host: Any, node: Any, program: str) -> None:
    settings = node.settings
    if settings.kubernetes_package_source != "bundle":
        pytest.skip(f"{node}: installed from packages, not from a bundle")
    directory = bundle_dir(settings.kubernetes_bundle, settings.kubernetes_version)
    records = json.loads((Path(directory) / "bundle.json").read_text())["artifacts"]
    (record,) = [r for r in records if r["kind"] == "binary" and r["name"] == program]
    path = KUBERNETES_PROGRAMS[program]
    found = host.run("sha256sum %s", path)
    assert found.rc == 0, f"{node}: {path} is missing"
    assert found.stdout.split()[0] == record["sha256"], (
        f"{node}: {path} is not the bundle's {program} {record['version']}"
    )


def test_kubeadm_and_kubelet_run_the_chosen_release(host: Any, node: Any) -> None:
    version = f"v{node.settings.kubernetes_version}"
    kubeadm = host.run("kubeadm version -o short").stdout.strip()
    kubelet = host.run("kubelet --version").stdout.strip()
    assert kubeadm == version, f"{node}: kubeadm says {kubeadm!r}, expected {version}"
    assert kubelet == f"Kubernetes {version}", f"{node}: kubelet says {kubelet!r}"


def test_node_ready(host: Any, node: Any) -> None:
    ready = own_node(host, node, '{.status.conditions[?(@.type=="Ready")]}')
    condition = json.loads(ready) if ready else {}
    assert condition.get("status") == "True", (
        f"{node}: node {node_name(host)} is not Ready: {condition.get('reason')}: "
        f"{condition.get('message')}"
    )


def test_kubelet_node_ip_on_the_private_network(host: Any, node: Any) -> None:
    address = private_ip(host, node)
    internal = own_node(host, node, '{.status.addresses[?(@.type=="InternalIP")].address}')
    assert internal == address, (
        f"{node}: the node's InternalIP is {internal}, not its private address {address}"
    )
    flags = host.file(KUBEADM_FLAGS).content_string
    assert f"--node-ip={address}" in flags, f"{node}: {KUBEADM_FLAGS} lacks --node-ip={address}"


def kube_proxy_mode(host: Any) -> str:
    """What kube-proxy's metrics endpoint says it runs (127.0.0.1:10249/proxyMode)."""
    answer = host.run(
        "timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/10249 && "
        'printf "GET /proxyMode HTTP/1.0\\r\\n\\r\\n" >&3 && cat <&3\''
    )
    lines = answer.stdout.strip().splitlines()
    return lines[-1].strip() if answer.rc == 0 and lines else ""


def test_kube_proxy_runs_the_configured_mode(host: Any, node: Any) -> None:
    mode = kube_proxy_mode(host)
    assert mode == node.settings.kube_proxy_mode, (
        f"{node}: kube-proxy runs in {mode or 'no answer from :10249'} mode, "
        f"expected {node.settings.kube_proxy_mode}"
    )


def kubernetes_virtual_server(host: Any, node: Any) -> list[list[str]]:
    """`ipvsadm -Ln` of the kubernetes Service, each line split into its fields."""
    if node.settings.kube_proxy_mode != "ipvs":
        pytest.skip(f"{node}: kube-proxy runs in {node.settings.kube_proxy_mode} mode, not IPVS")
    service = kubernetes_service_address(node.settings.service_cidr)
    listing = host.run("ipvsadm -Ln -t %s:443", service)
    assert listing.rc == 0, (
        f"{node}: IPVS has no virtual server for the kubernetes Service {service}:443 "
        f"({listing.stderr.strip()})"
    )
    return [line.split() for line in listing.stdout.splitlines()]


def test_ipvs_scheduler_of_the_kubernetes_service(host: Any, node: Any) -> None:
    lines = kubernetes_virtual_server(host, node)
    service = kubernetes_service_address(node.settings.service_cidr)
    (virtual,) = [fields for fields in lines if fields[:2] == ["TCP", f"{service}:443"]]
    assert virtual[2] == node.settings.ipvs_scheduler, (
        f"{node}: the kubernetes Service uses IPVS scheduler {virtual[2]}, "
        f"expected {node.settings.ipvs_scheduler}"
    )


def test_ipvs_sends_the_kubernetes_service_to_the_control_planes_private_addresses(
    host: Any, node: Any
) -> None:
    lines = kubernetes_virtual_server(host, node)
    real = [fields[1] for fields in lines if fields and fields[0] == "->" and ":" in fields[1]]
    real = [server for server in real if server != "RemoteAddress:Port"]
    expected = node.cluster.get("control_planes")
    assert real, f"{node}: the kubernetes Service has no real server in IPVS"
    if expected:
        assert len(real) == expected, f"{node}: real servers {real}, {expected} control planes"
    network = node.settings.node_network
    for server in real:
        address, _, port = server.rpartition(":")
        assert port == str(API_PORT), f"{node}: real server {server} is not an API server"
        if network:
            assert ipaddress.ip_address(address) in ipaddress.ip_network(network), (
                f"{node}: the API is reached at {address}, outside the private network {network}"
            )


def test_cluster_dns_answers_for_the_kubernetes_service(host: Any, node: Any) -> None:
    dns = cluster_dns_address(node.settings.service_cidr)
    name = KUBERNETES_SERVICE_NAME
    answer = host.run(dnsquery.command(dns, name))
    addresses, error = dnsquery.parse(answer.stdout.splitlines())
    expected = kubernetes_service_address(node.settings.service_cidr)
    assert expected in addresses, (
        f"{node}: the cluster DNS at {dns} answers {addresses or error!r} for {name}, "
        f"expected {expected}"
    )


def test_admin_kubeconfig_not_readable_by_others(host: Any, node: Any) -> None:
    if not node.cluster.get("control_plane"):
        pytest.skip(f"{node}: a worker has no admin.conf")
    config = host.file(ADMIN_CONF)
    assert config.exists, f"{node}: {ADMIN_CONF} is missing"
    assert config.mode & 0o077 == 0, f"{node}: {ADMIN_CONF} has mode {config.mode:o}"


def test_operators_admin_kubeconfig_not_readable_by_others(node: Any) -> None:
    path = node.cluster.get("admin_kubeconfig")
    if not path:
        pytest.skip(f"{node}: the operator's copy is fetched from the first control-plane node")
    copy = Path(path)
    assert copy.is_file(), f"{node}: the operator's admin kubeconfig {path} is missing"
    mode = stat.S_IMODE(copy.stat().st_mode)
    assert mode & 0o077 == 0, f"{node}: {path} has mode {mode:o}, readable by others"

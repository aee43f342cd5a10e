"""Validation before anything changes: first the inventory and its settings, then host facts.

Layer 1 (`validate_inventory`) needs no host: it is what `nordkube validate INVENTORY` runs in
an operator's CI, and what the deploy runs before it gathers a single fact.
Layer 2 (`check_host`, `check_unique_identities`) judges facts read from the hosts (read-only)
and runs in `roles/validate.py` before any operation.
Both report every problem at once, each naming the host and the setting.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nordkube import kubeadm, support
from nordkube.bundle import install
from nordkube.inventory import CONTROL_PLANE, ETCD, ROLE_GROUPS, InventoryHost
from nordkube.settings import (
    Problem,
    Settings,
    SettingsError,
    cluster_setting_names,
    split_endpoint,
)

NETWORK_SETTINGS = ("pod_cidr", "service_cidr", "node_network")
# kube-apiserver refuses a service range of more than 20 host bits (validateClusterIPFlags).
MAX_SERVICE_HOST_BITS = 20
# kube-controller-manager's default node subnet per IP family, and the widest pod range it
# splits into them (kubeadm: PodSubnetNodeMaskMaxDiff; nodeipam: clusterSubnetMaxDiff).
NODE_CIDR_MASK = {4: 24, 6: 64}
MAX_NODE_MASK_DIFFERENCE = 16


def merge_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Fold the same problem on several hosts into one line naming them all."""
    hosts_by_issue: dict[tuple[str, str], list[str]] = defaultdict(list)
    for problem in problems:
        hosts = hosts_by_issue[(problem.setting, problem.message)]
        if problem.host and problem.host not in hosts:
            hosts.append(problem.host)
    return [
        Problem(", ".join(hosts) or None, setting, message)
        for (setting, message), hosts in hosts_by_issue.items()
    ]


def etcd_hosts(hosts: list[InventoryHost], settings: Settings) -> list[InventoryHost]:
    """The hosts that run etcd: the etcd group, or the control plane when stacked."""
    explicit = [host for host in hosts if ETCD in host.groups]
    if explicit or settings.etcd_topology == "external":
        return explicit
    return [host for host in hosts if CONTROL_PLANE in host.groups]


def validate_inventory(hosts: list[InventoryHost]) -> list[Problem]:
    """Every problem in the inventory and its settings; needs no connection to any host."""
    problems: list[Problem] = []
    settings_by_host: dict[str, Settings] = {}
    for host in hosts:
        try:
            settings_by_host[host.name] = Settings.from_data(host.data, host.name)
        except SettingsError as error:
            problems.extend(error.problems)
    for name, settings in settings_by_host.items():
        directory = install.settings_bundle(settings)
        problem = directory and install.bundle_problem(directory, settings.kubernetes_version)
        if problem:
            problems.append(Problem(name, "kubernetes_bundle", problem))
    for host in hosts:
        problems.extend(_network_problems(host.name, host.data))
        if not host.groups & set(ROLE_GROUPS):
            problems.append(
                Problem(host.name, "groups", f"in none of the groups {', '.join(ROLE_GROUPS)}")
            )
    if not settings_by_host:
        return merge_problems(problems) if problems else [Problem(None, "hosts", "no hosts")]
    problems.extend(_cluster_split_problems(settings_by_host))
    cluster = next(iter(settings_by_host.values()))
    problems.extend(_topology_problems(hosts, cluster))
    problems.extend(_duplicate_address_problems(hosts))
    problems.extend(_pod_network_problems(cluster))
    problems.extend(_range_size_problems(cluster, len(hosts)))
    problems.extend(_cluster_formation_problems(hosts, settings_by_host, cluster))
    return merge_problems(problems)


def _pod_network_problems(settings: Settings) -> list[Problem]:
    """Only Flannel with VXLAN is built; the others are refused, never silently ignored."""
    problems = []
    if settings.cni != "flannel":
        problems.append(
            Problem(
                None,
                "cni",
                f"{settings.cni!r} is not built yet (Calico and Canal come with a later "
                "release): set cni = 'flannel'",
            )
        )
    elif settings.flannel_backend != "vxlan":
        problems.append(
            Problem(
                None,
                "flannel_backend",
                f"{settings.flannel_backend!r} is not built yet (a later release adds "
                "Flannel's WireGuard backend): set flannel_backend = 'vxlan'",
            )
        )
    return problems


def _range_size_problems(settings: Settings, host_count: int) -> list[Problem]:
    """What kube-apiserver and kube-controller-manager would refuse later (docs/domain.md,
    "Address ranges"): a service range over 20 host bits; a pod range too small to give
    every node its own node subnet (/24 for IPv4, /64 for IPv6), or more than 16 bits wider
    than one; pods and services of different IP families."""
    try:
        pods = ipaddress.ip_network(settings.pod_cidr)
        services = ipaddress.ip_network(settings.service_cidr)
    except ValueError:
        return []  # reported by the settings
    problems = []
    if services.max_prefixlen - services.prefixlen > MAX_SERVICE_HOST_BITS:
        smallest = services.max_prefixlen - MAX_SERVICE_HOST_BITS
        problems.append(
            Problem(
                None,
                "service_cidr",
                f"{services} is too large: kube-apiserver accepts at most "
                f"{MAX_SERVICE_HOST_BITS} host bits (/{smallest} or smaller, e.g. 10.96.0.0/12)",
            )
        )
    if pods.version != services.version:
        problems.append(
            Problem(
                None,
                "pod_cidr",
                f"{pods} and service_cidr {services} are of different IP families: nordkube "
                "forms single-stack clusters",
            )
        )
    node_mask = NODE_CIDR_MASK[pods.version]
    if pods.prefixlen > node_mask:
        problems.append(
            Problem(
                None,
                "pod_cidr",
                f"{pods} is smaller than one node's pod subnet (/{node_mask}): it has no room "
                f"for the {host_count} node(s)",
            )
        )
    elif node_mask - pods.prefixlen > MAX_NODE_MASK_DIFFERENCE:
        problems.append(
            Problem(
                None,
                "pod_cidr",
                f"{pods} is more than {MAX_NODE_MASK_DIFFERENCE} bits wider than a node's "
                f"/{node_mask}: kubeadm and kube-controller-manager refuse it",
            )
        )
    elif 2 ** (node_mask - pods.prefixlen) < host_count:
        problems.append(
            Problem(
                None,
                "pod_cidr",
                f"{pods} holds {2 ** (node_mask - pods.prefixlen)} node subnets (/{node_mask} "
                f"each), fewer than the {host_count} nodes",
            )
        )
    return problems


def _cluster_formation_problems(
    hosts: list[InventoryHost], settings_by_host: Mapping[str, Settings], cluster: Settings
) -> list[Problem]:
    """kubeadm's rules for the cluster the kubernetes stage forms: an endpoint for several
    control-plane nodes, the same Kubernetes minor on every node, keys kubeadm can make."""
    control_planes = [host.name for host in hosts if CONTROL_PLANE in host.groups]
    forming = {name: s for name, s in settings_by_host.items() if kubeadm.forms_cluster(s)}
    if not forming or not control_planes or control_planes[0] not in settings_by_host:
        return []
    problems = []
    if control_planes[0] not in forming:
        problems.append(
            Problem(
                control_planes[0],
                "stages",
                f"{', '.join(forming)} run the kubernetes stage, but the first control-plane "
                "node does not: it initialises the cluster and makes every join token",
            )
        )
        return problems
    if len(control_planes) > 1 and not cluster.control_plane_endpoint:
        problems.append(
            Problem(
                None,
                "control_plane_endpoint",
                f"{len(control_planes)} control-plane nodes ({', '.join(control_planes)}) need "
                "an address every node reaches all of them through: a load balancer's, or a "
                "free address in node_network with kube_vip = True",
            )
        )
    if cluster.kube_vip:
        problems.extend(_kube_vip_problems(hosts, cluster))
    first = settings_by_host[control_planes[0]]
    for name, settings in forming.items():
        if settings.kubernetes_minor() != first.kubernetes_minor():
            problems.append(
                Problem(
                    name,
                    "kubernetes_version",
                    f"{settings.kubernetes_version} differs from the control plane's "
                    f"{first.kubernetes_version} ({control_planes[0]}): kubeadm joins nodes of "
                    "its own minor; form a cluster of its own, or leave the host out of the "
                    "kubernetes stage (stages)",
                )
            )
        if settings.encryption_algorithm != "RSA-2048" and settings.kubernetes_minor() < 31:
            problems.append(
                Problem(
                    name,
                    "encryption_algorithm",
                    f"{settings.encryption_algorithm} needs kubeadm's v1beta4 API (Kubernetes "
                    f">= 1.31); {settings.kubernetes_version} has RSA-2048 only",
                )
            )
    return problems


def _kube_vip_problems(hosts: list[InventoryHost], settings: Settings) -> list[Problem]:
    """kube-vip announces the endpoint by ARP on the private network: it must be a free IPv4
    address there."""
    if not settings.control_plane_endpoint:
        return []
    address, _ = split_endpoint(settings.control_plane_endpoint)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return [
            Problem(
                None,
                "kube_vip",
                f"control_plane_endpoint {address!r} is a name: kube-vip needs the virtual IP "
                "address itself",
            )
        ]
    problems = []
    if settings.node_network and parsed not in ipaddress.ip_network(settings.node_network):
        problems.append(
            Problem(
                None,
                "kube_vip",
                f"control_plane_endpoint {parsed} is outside node_network "
                f"{settings.node_network}: kube-vip's ARP mode serves an address of the "
                "nodes' own network",
            )
        )
    taken = [host.name for host in hosts if str(host.data.get("private_address")) == str(parsed)]
    if taken:
        problems.append(
            Problem(
                None,
                "kube_vip",
                f"control_plane_endpoint {parsed} is the private address of {', '.join(taken)}:"
                " the virtual IP must be an unused address",
            )
        )
    return problems


def _cluster_split_problems(settings_by_host: Mapping[str, Settings]) -> list[Problem]:
    """A cluster setting must be the same on every host: one host's pod_cidr or
    kube_proxy_mode set apart (in its host data, a group file) splits the cluster."""
    problems = []
    for name in cluster_setting_names():
        hosts_by_value: dict[str, list[str]] = defaultdict(list)
        for host, settings in settings_by_host.items():
            hosts_by_value[_comparable(name, getattr(settings, name))].append(host)
        if len(hosts_by_value) > 1:
            split = "; ".join(
                f"{value} on {', '.join(hosts)}" for value, hosts in hosts_by_value.items()
            )
            problems.append(
                Problem(
                    None,
                    name,
                    f"differs between hosts ({split}): it is cluster-wide, set it once "
                    "(group_data/all.py)",
                )
            )
    return problems


def _comparable(name: str, value: Any) -> str:
    """A value as compared across hosts: networks in their parsed form (an IPv6 range
    written in two spellings is one range), everything else by its repr."""
    if name in NETWORK_SETTINGS and isinstance(value, str):
        with contextlib.suppress(ValueError):
            return str(ipaddress.ip_network(value))
    return repr(value)


def _network_problems(host: str, data: Mapping[str, Any]) -> list[Problem]:
    """Overlaps between the ranges that parse (a malformed one is reported by the settings)."""
    problems = []
    named = []
    defaults = Settings()
    for name in NETWORK_SETTINGS:
        value = data.get(name) or getattr(defaults, name)
        if value is None:
            continue
        try:
            named.append((name, ipaddress.ip_network(str(value))))
        except ValueError:
            continue
    for index, (name, network) in enumerate(named):
        for other_name, other in named[index + 1 :]:
            if network.overlaps(other):
                problems.append(
                    Problem(
                        host,
                        other_name,
                        f"{other} overlaps {name} {network}: pods, services and nodes each "
                        "need their own range",
                    )
                )
    return problems


def _topology_problems(hosts: list[InventoryHost], settings: Settings) -> list[Problem]:
    problems = []
    control_plane = [host.name for host in hosts if CONTROL_PLANE in host.groups]
    if not control_plane:
        problems.append(Problem(None, CONTROL_PLANE, "no host in the control_plane group"))
    etcd = etcd_hosts(hosts, settings)
    if len(etcd) % 2 == 0:
        names = ", ".join(host.name for host in etcd) or "none"
        problems.append(
            Problem(
                None,
                ETCD,
                f"{len(etcd)} etcd hosts ({names}): etcd needs an odd number (1, 3, 5) to keep "
                "quorum; an even member adds no fault tolerance",
            )
        )
    for host in etcd:
        if not host.data.get("etcd_device"):
            problems.append(
                Problem(
                    host.name,
                    "etcd_device",
                    "missing: every etcd host needs its own disk for etcd's data "
                    "(e.g. /dev/nvme1n1)",
                )
            )
    explicit_etcd = {host.name for host in hosts if ETCD in host.groups}
    if (
        settings.etcd_topology == "stacked"
        and explicit_etcd
        and explicit_etcd != set(control_plane)
    ):
        problems.append(
            Problem(
                None,
                "etcd_topology",
                "stacked etcd runs on the control-plane nodes, but the etcd group "
                f"({', '.join(sorted(explicit_etcd))}) differs from control_plane "
                f"({', '.join(sorted(control_plane))})",
            )
        )
    if settings.etcd_topology == "external":
        shared = explicit_etcd & set(control_plane)
        if shared:
            problems.append(
                Problem(
                    None,
                    "etcd_topology",
                    "external etcd hosts must not be control-plane nodes: "
                    + ", ".join(sorted(shared)),
                )
            )
    return problems


def _duplicate_address_problems(hosts: list[InventoryHost]) -> list[Problem]:
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    for host in hosts:
        ssh_address = (
            f"{host.data.get('ssh_hostname') or host.name}:{host.data.get('ssh_port') or 22}"
        )
        seen[("ssh_hostname", ssh_address)].append(host.name)
        if host.data.get("private_address"):
            seen[("private_address", str(host.data["private_address"]))].append(host.name)
    return [
        Problem(", ".join(names), setting, f"{address} is used by {len(names)} hosts")
        for (setting, address), names in seen.items()
        if len(names) > 1
    ]


# -- Layer 2: host facts ----------------------------------------------------------------------


@dataclass
class HostReport:
    """What the host-fact checks found on one host."""

    host: str
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    platform: support.Platform | None = None
    private_interface: str | None = None


def private_interface(settings: Settings, facts: Mapping[str, Any]) -> tuple[str | None, str]:
    """The private NIC: named in the settings, or the one with an address in node_network."""
    interfaces: Mapping[str, Mapping[str, Any]] = facts.get("interfaces", {})
    if settings.private_interface:
        if settings.private_interface in interfaces:
            return settings.private_interface, ""
        known = ", ".join(sorted(interfaces)) or "none"
        return None, f"{settings.private_interface!r} does not exist on the host (it has: {known})"
    if not settings.node_network:
        return None, "set private_interface, or node_network so the private NIC can be found"
    network = ipaddress.ip_network(settings.node_network)
    for name, interface in sorted(interfaces.items()):
        for address in interface.get("addresses", []):
            if ipaddress.ip_interface(address).ip in network:
                return name, ""
    return None, f"no interface has an address in node_network {network}"


def check_host(
    host: str,
    settings: Settings,
    facts: Mapping[str, Any],
    *,
    containerd: support.ContainerdOffer,
) -> HostReport:
    """Judge one host's facts (from `pyinfra_ext.facts.NodeFacts`, and `containerd` from
    `ContainerdPackages`: what its package manager offers) against the settings."""
    report = HostReport(host)
    platform = support.find_platform(facts.get("os_id", ""), facts.get("version_id", ""))
    report.platform = platform
    minor = settings.kubernetes_minor()
    if platform is None:
        report.errors.append(
            Problem(
                host,
                "os",
                f"{facts.get('pretty_name') or 'this OS'} is not supported "
                f"(supported: {support.supported_names()})",
            )
        )
    else:
        _version_problems(report, settings, platform, containerd)
    if (
        facts.get("cgroup") != "cgroup2fs"
        and minor >= support.KUBELET_REFUSES_CGROUP_V1_FROM
        and not settings.allow_cgroup_v1
    ):
        report.errors.append(
            Problem(
                host,
                "allow_cgroup_v1",
                "the host runs cgroup v1 and the kubelet of Kubernetes "
                f"{settings.kubernetes_version} "
                "refuses it; boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1), or set "
                "allow_cgroup_v1: true to run the kubelet with failCgroupV1: false",
            )
        )
    report.errors.extend(_proxy_mode_problems(host, settings, facts))
    if settings.kube_proxy_mode == "ipvs" and minor >= support.IPVS_DEPRECATED_FROM:
        report.warnings.append(
            Problem(
                host,
                "kube_proxy_mode",
                f"ipvs is deprecated from Kubernetes 1.{support.IPVS_DEPRECATED_FROM}; "
                "plan the move to nftables",
            )
        )
    interface, why = private_interface(settings, facts)
    report.private_interface = interface
    if interface is None:
        report.errors.append(Problem(host, "private_interface", why))
    else:
        report.errors.extend(_interface_problems(host, settings, facts["interfaces"][interface]))
    return report


def _version_problems(
    report: HostReport,
    settings: Settings,
    platform: support.Platform,
    containerd: support.ContainerdOffer,
) -> None:
    """The Kubernetes version against what upstream maintains and what this host can run.

    An end-of-life minor is accepted, with a warning, only where no maintained minor can run
    (the newest containerd installable there is too old); elsewhere it is refused.
    """
    host, version, minor = report.host, settings.kubernetes_version, settings.kubernetes_minor()
    maintained = f"1.{support.OLDEST_MAINTAINED_MINOR} to 1.{support.NEWEST_MINOR}"
    bundled = install.bundled_containerd(settings)
    runnable = support.installable_minors(platform, containerd, bundled)
    newest = max(runnable, default=None)
    if not support.OLDEST_MINOR <= minor <= support.NEWEST_MINOR:
        report.errors.append(
            Problem(
                host,
                "kubernetes_version",
                f"{version} is outside what nordkube prepares: upstream maintains {maintained};"
                f" end-of-life minors down to 1.{support.OLDEST_MINOR} only on an OS that can"
                " run no maintained one",
            )
        )
    elif minor not in runnable:
        report.errors.append(
            Problem(
                host,
                "kubernetes_version",
                f"no containerd installable on {platform.name} supports Kubernetes {version}; "
                + (
                    f"the newest that works there is 1.{newest}"
                    if newest
                    else "no Kubernetes version nordkube prepares works there"
                ),
            )
        )
    elif support.is_end_of_life(minor):
        if newest is not None and not support.is_end_of_life(newest):
            report.errors.append(
                Problem(
                    host,
                    "kubernetes_version",
                    f"Kubernetes 1.{minor} is end-of-life (upstream maintains {maintained}) "
                    f"and {platform.name} can run 1.{newest}: use a maintained release",
                )
            )
        else:
            report.warnings.append(
                Problem(
                    host,
                    "kubernetes_version",
                    f"Kubernetes 1.{minor} is end-of-life (upstream maintains {maintained}); "
                    f"accepted because the newest {platform.name} can run is 1.{newest}",
                )
            )
    choice = support.choose_containerd(platform, minor, containerd, bundled)
    if choice is not None and choice.source != "bundle" and not containerd.metadata:
        report.warnings.append(
            Problem(
                host,
                "os",
                f"the package manager has no package lists, so which containerd "
                f"{platform.name} offers is unknown: {choice.package} {choice.series} is used "
                "(refresh the lists, e.g. apt-get update or dnf makecache, to let the OS's "
                "own containerd be considered)",
            )
        )


def _proxy_mode_problems(host: str, settings: Settings, facts: Mapping[str, Any]) -> list[Problem]:
    if settings.kube_proxy_mode != "nftables":
        return []
    problems = []
    if settings.kubernetes_minor() < support.NFTABLES_MODE_FROM:
        problems.append(
            Problem(
                host,
                "kube_proxy_mode",
                f"nftables mode needs Kubernetes >= 1.{support.NFTABLES_MODE_FROM}",
            )
        )
    kernel = facts.get("kernel", "")
    if not support.kernel_at_least(kernel, support.NFTABLES_MIN_KERNEL):
        problems.append(
            Problem(
                host,
                "kube_proxy_mode",
                f"nftables mode needs kernel >= 5.13; this host runs {kernel}",
            )
        )
    if not facts.get("nf_tables"):
        problems.append(
            Problem(host, "kube_proxy_mode", "nftables mode needs nf_tables, absent on this kernel")
        )
    return problems


def _interface_problems(
    host: str, settings: Settings, interface: Mapping[str, Any]
) -> list[Problem]:
    problems = []
    if settings.private_address:
        addresses = [str(ipaddress.ip_interface(a).ip) for a in interface.get("addresses", [])]
        if settings.private_address not in addresses:
            problems.append(
                Problem(
                    host,
                    "private_address",
                    f"{settings.private_address} is not on the private interface "
                    f"(it has {', '.join(addresses) or 'no address'})",
                )
            )
    if settings.node_mtu and interface.get("mtu") != settings.node_mtu:
        problems.append(
            Problem(
                host,
                "node_mtu",
                f"the private interface has MTU {interface.get('mtu')}, "
                f"expected {settings.node_mtu}",
            )
        )
    return problems


def check_unique_identities(
    facts_by_host: Mapping[str, Mapping[str, Any]], private_nics: Mapping[str, str | None]
) -> list[Problem]:
    """Hostname, machine-id, product_uuid and private MAC must differ between hosts.

    Cloned VPS images share them; kubeadm refuses duplicates, and a shared machine-id gives
    VXLAN interfaces the same MAC, which silently drops overlay traffic.
    """
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    for host, facts in facts_by_host.items():
        for key in ("hostname", "machine_id", "product_uuid"):
            if facts.get(key):
                seen[(key, str(facts[key]))].append(host)
        nic = private_nics.get(host)
        mac = facts.get("interfaces", {}).get(nic, {}).get("mac") if nic else None
        if mac:
            seen[("private_mac", mac)].append(host)
    return [
        Problem(
            ", ".join(hosts),
            key,
            f"{value} is shared by {len(hosts)} hosts (cloned image?): make it unique per host",
        )
        for (key, value), hosts in seen.items()
        if len(hosts) > 1
    ]

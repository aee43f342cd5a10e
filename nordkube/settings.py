"""The settings model: every nordkube setting, declared, typed, defaulted and documented once.

Cluster-wide values live in `group_data/all.py`; per-host values (`etcd_device`,
`private_interface`, `private_address`) in the inventory's host data. pyinfra merges both into
each host's data; `Settings.from_data` reads them back, and collects every problem at once
instead of stopping at the first.

Pure Python: no pyinfra import, so the CLI (`nordkube validate`), the roles, the node suite and
the docs all read the same declarations.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

# Scopes: a cluster setting must be equal on every host of an inventory (the validation
# refuses a split); a node setting is usually set once for all but may differ per node (a
# lagging OS, a per-region mirror); a host setting belongs to one host only.
CLUSTER = "cluster"
NODE = "node"
# The deploy's stages that can be chosen, in build order (validate always runs first).
STAGES = ("base", "kernel", "runtime", "etcd", "kubernetes", "network")
HOST = "host"


# Where kubeadm, kubelet and kubectl come from, besides a mirror URL of pkgs.k8s.io.
PACKAGE_SOURCES = ("upstream", "bundle", "none")
# The pod networks nordkube knows; only flannel with VXLAN is built so far.
CNIS = ("flannel", "calico", "canal")

# kube-proxy modes, and the IPVS schedulers offered (each has its ip_vs_<name> module).
KUBE_PROXY_MODES = ("ipvs", "nftables", "iptables")
IPVS_SCHEDULERS = ("rr", "wrr", "sh", "lc", "wlc")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the inventory or a host, naming where and which setting."""

    host: str | None
    setting: str
    message: str

    def __str__(self) -> str:
        where = self.host if self.host else "inventory"
        return f"{where}: {self.setting}: {self.message}"


class SettingsError(ValueError):
    """Raised with every problem found, so the user fixes them in one go."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def _setting(
    default: Any,
    doc: str,
    *,
    choices: tuple[str, ...] | None = None,
    scope: str = CLUSTER,
    check: Callable[[Any], str | None] | None = None,
) -> Any:
    """Declare one setting: its default, what it means, and how its value is checked."""
    meta = {"doc": doc, "choices": choices, "scope": scope, "check": check}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


_VERSION = re.compile(r"^1\.(\d+)\.(\d+)$")


def _check_kubernetes_version(value: str) -> str | None:
    if not _VERSION.match(value):
        return f"{value!r} is not a Kubernetes release like '1.35.4'"
    return None


def _check_cidr(value: str) -> str | None:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as error:
        return f"{value!r} is not a network in CIDR notation ({error})"
    return None


def _check_optional_cidr(value: str | None) -> str | None:
    return None if value is None else _check_cidr(value)


def _check_optional_address(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return f"{value!r} is not an IP address"
    return None


def _check_package_source(value: str) -> str | None:
    if value in PACKAGE_SOURCES or re.match(r"^https?://\S+$", value):
        return None
    return f"{value!r} must be 'upstream', 'bundle', 'none' or a mirror URL (http:// or https://)"


# A DNS name (RFC 1123 labels) or an IPv4 address, optionally with a port.
_ENDPOINT = re.compile(
    r"^(?P<host>[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}"
    r"[A-Za-z0-9])?)*)(:(?P<port>[0-9]{1,5}))?$"
)


def split_endpoint(value: str) -> tuple[str, int | None]:
    """'api.oslo.example:6443' -> ('api.oslo.example', 6443); the port is None when absent."""
    match = _ENDPOINT.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a DNS name or IPv4 address, with an optional :port")
    port = match.group("port")
    return match.group("host"), int(port) if port else None


def _check_endpoint(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        _, port = split_endpoint(value)
    except ValueError as error:
        return str(error)
    if port is not None and not 1 <= port <= 65535:
        return f"port {port} of {value!r} is outside 1..65535"
    return None


def _check_sans(value: list[str]) -> str | None:
    for name in value:
        try:
            ipaddress.ip_address(name)
        except ValueError:
            if not _ENDPOINT.match(name) or ":" in name:
                return f"{name!r} is neither an IP address nor a DNS name"
    return None


# kubeadm v1beta4 `timeouts` (docs/domain.md, "kubeadm"), each a Go duration such as 10m0s.
KUBEADM_TIMEOUTS = (
    "controlPlaneComponentHealthCheck",
    "kubeletHealthCheck",
    "kubernetesAPICall",
    "etcdAPICall",
    "tlsBootstrap",
    "discovery",
)
_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(h|m|s|ms))+$")


def _check_durations(
    value: dict[str, str], known: Iterable[str], what: str, example: str
) -> str | None:
    """Each key one of `known` (a `what`), each value a duration such as `example`."""
    names = tuple(known)
    for name, duration in value.items():
        if name not in names:
            return f"unknown {what} {name!r}; known: {', '.join(names)}"
        if not isinstance(duration, str) or not _DURATION.match(duration):
            return f"{name}: {duration!r} is not a duration such as {example}"
    return None


def _check_timeouts(value: dict[str, str]) -> str | None:
    return _check_durations(value, KUBEADM_TIMEOUTS, "kubeadm timeout", "'10m' or '90s'")


# The control plane's leader election (kube-controller-manager and kube-scheduler flags
# --leader-elect-lease-duration, -renew-deadline, -retry-period) and upstream's defaults.
LEADER_ELECTION_DEFAULTS = {"lease-duration": "15s", "renew-deadline": "10s", "retry-period": "2s"}


def duration_seconds(text: str) -> float:
    """'1m30s' -> 90.0 (the Go duration units the settings accept)."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(
        float(number) * units[unit]
        for number, unit in re.findall(r"([0-9]+(?:\.[0-9]+)?)(h|ms|m|s)", text)
    )


def _check_leader_election(value: dict[str, str]) -> str | None:
    problem = _check_durations(value, LEADER_ELECTION_DEFAULTS, "leader election setting", "'60s'")
    if problem:
        return problem
    timing = {**LEADER_ELECTION_DEFAULTS, **value}
    lease, renew, retry = (duration_seconds(timing[name]) for name in LEADER_ELECTION_DEFAULTS)
    # The controller manager and the scheduler refuse to start otherwise (client-go's
    # leaderelection: leaseDuration > renewDeadline > retryPeriod * 1.2).
    if not lease > renew > retry * 1.2:
        return (
            f"lease-duration {timing['lease-duration']} > renew-deadline "
            f"{timing['renew-deadline']} > 1.2 x retry-period {timing['retry-period']} "
            "must hold (with upstream's defaults for what is unset)"
        )
    return None


# kubeadm's liveness probe of each control-plane static pod (kube-apiserver,
# kube-controller-manager, kube-scheduler, etcd): cmd/kubeadm/app/util/staticpod's
# LivenessProbe. Its startup probe already follows controlPlaneComponentHealthCheck.
CONTROL_PLANE_LIVENESS_DEFAULTS = {"timeoutSeconds": 15, "periodSeconds": 10, "failureThreshold": 8}


def _check_liveness(value: dict[str, int]) -> str | None:
    names = tuple(CONTROL_PLANE_LIVENESS_DEFAULTS)
    for name, number in value.items():
        if name not in names:
            return f"unknown liveness probe field {name!r}; known: {', '.join(names)}"
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            return f"{name}: {number!r} is not a whole number of at least 1"
    return None


def _check_positive(value: int) -> str | None:
    return None if value > 0 else f"{value} must be a positive number of seconds"


def _check_above_zero(value: int) -> str | None:
    return None if value > 0 else f"{value} must be above 0"


def _check_device(value: str | None) -> str | None:
    if value is None or value.startswith("/dev/"):
        return None
    if value.startswith("serial:") and re.match(r"^[A-Za-z0-9_.-]+$", value[len("serial:") :]):
        return None
    return (
        f"{value!r} must be a block device path under /dev/ (a /dev/disk/by-id/ name "
        "survives renaming) or serial:NAME (the disk's serial number, as lsblk -o SERIAL prints)"
    )


def _check_mtu(value: int | None) -> str | None:
    if value is None or 1280 <= value <= 9000:
        return None
    return f"{value} is outside 1280..9000"


def _check_stages(value: list[str]) -> str | None:
    unknown = [stage for stage in value if stage not in STAGES]
    if unknown:
        return f"unknown stage(s) {', '.join(unknown)}; known: {', '.join(STAGES)}"
    return None


def _check_mirrors(value: dict[str, list[str]]) -> str | None:
    for registry, endpoints in value.items():
        if not isinstance(endpoints, list) or not all(isinstance(e, str) for e in endpoints):
            return f"mirrors of {registry!r} must be a list of URLs"
        for endpoint in endpoints:
            if not re.match(r"^https?://\S+$", endpoint):
                return f"mirror {endpoint!r} of {registry!r} is not an http(s) URL"
    return None


@dataclass(frozen=True)
class Settings:
    """Every setting nordkube reads. Field order is the order of the README's table."""

    # -- Kubernetes ---------------------------------------------------------------------------
    kubernetes_version: str = _setting(
        "1.35.4",
        "Kubernetes release to prepare nodes for (decides containerd, the pause image, cgroup "
        "v1): a maintained one (1.35 to 1.37); an end-of-life one only where the OS needs it.",
        check=_check_kubernetes_version,
        scope=NODE,
    )
    kubernetes_package_source: str = _setting(
        "upstream",
        "Where kubeadm, kubelet and kubectl come from: 'upstream' (pkgs.k8s.io), a mirror URL "
        "of it, 'bundle' (nordkube's offline bundle, see kubernetes_bundle), or 'none' "
        "(installed some other way).",
        check=_check_package_source,
        scope=NODE,
    )
    allow_cgroup_v1: bool = _setting(
        False,
        "Accept cgroup v1 hosts on Kubernetes >= 1.35 "
        "(the kubelet then needs failCgroupV1: false).",
        scope=NODE,
    )
    kubernetes_bundle: str | None = _setting(
        None,
        "Directory of the offline bundle on the machine running the deploy (with "
        "kubernetes_package_source 'bundle'); unset: the bundle `nordkube bundle build "
        "--kubernetes VERSION` left in ~/.cache/nordkube/bundle/bundles/vVERSION.",
        scope=NODE,
    )
    # -- Cluster formation (kubeadm) ----------------------------------------------------------
    control_plane_endpoint: str | None = _setting(
        None,
        "Address (DNS name or IP, optional :port, 6443 by default) every node reaches the API "
        "through; required with several control-plane nodes (a load balancer, or kube_vip); "
        "unset with one: that node's private address.",
        check=_check_endpoint,
    )
    kube_vip: bool = _setting(
        False,
        "Serve control_plane_endpoint (an unused address in node_network) as a virtual IP from "
        "the control-plane nodes with kube-vip (static pod, ARP mode); off: the operator's own "
        "load balancer.",
    )
    certificate_sans: list[str] = _setting(
        [],
        "Extra names and addresses in the API server's certificate (the endpoint and every "
        "control-plane node's private address are always in it).",
        check=_check_sans,
    )
    encryption_algorithm: str = _setting(
        "RSA-2048",
        "Key type of the cluster's certificates: RSA-2048, or ECDSA-P256 (much cheaper on slow "
        "machines; Kubernetes >= 1.31).",
        choices=("RSA-2048", "ECDSA-P256"),
    )
    kubeadm_timeouts: dict[str, str] = _setting(
        {},
        "kubeadm timeouts to raise on slow machines, e.g. {'controlPlaneComponentHealthCheck': "
        "'10m'} (v1beta4 names; kubeadm's defaults where unset).",
        check=_check_timeouts,
        scope=NODE,
    )
    leader_election: dict[str, str] = _setting(
        {},
        "Leader election of kube-controller-manager and kube-scheduler, e.g. {'lease-duration': "
        "'60s', 'renew-deadline': '40s', 'retry-period': '10s'} (upstream's 15s/10s/2s where "
        "unset). A control plane too slow to renew its lease within the deadline restarts "
        "them over and over (seen under software emulation: DaemonSets never got their pods).",
        check=_check_leader_election,
    )
    control_plane_liveness: dict[str, int] = _setting(
        {},
        "The liveness probe of the control-plane static pods (kube-apiserver, "
        "kube-controller-manager, kube-scheduler, etcd) to relax on slow machines, e.g. "
        "{'timeoutSeconds': 60, 'failureThreshold': 30} (kubeadm's 15/10/8 for timeoutSeconds/"
        "periodSeconds/failureThreshold where unset); kubeadm patches applied at init and at a "
        "control-plane join. A busy API server killed by its probe restarts slower still (seen "
        "under software emulation).",
        check=_check_liveness,
    )
    node_ready_timeout: int = _setting(
        600,
        "Seconds the network stage waits for every node to be Ready before it fails, naming "
        "each node that is not and why.",
        check=_check_positive,
    )
    # -- Networking ---------------------------------------------------------------------------
    cni: str = _setting(
        "flannel",
        "Pod network: flannel (calico and canal are not built yet and are refused).",
        choices=CNIS,
    )
    calico_encapsulation: str = _setting(
        "vxlan",
        "Calico encapsulation: none (plain BGP), ipip or vxlan.",
        choices=("none", "ipip", "vxlan"),
    )
    calico_wireguard: bool = _setting(False, "Encrypt Calico pod traffic with WireGuard.")
    flannel_backend: str = _setting(
        "vxlan",
        "Flannel backend: vxlan (wireguard is not built yet and is refused).",
        choices=("vxlan", "wireguard"),
    )
    kube_proxy_mode: str = _setting(
        "ipvs",
        "kube-proxy mode: ipvs (deprecated from Kubernetes 1.35), nftables or iptables.",
        choices=KUBE_PROXY_MODES,
    )
    ipvs_scheduler: str = _setting(
        "rr",
        "IPVS scheduler: rr, wrr, sh, lc or wlc (its kernel module is loaded).",
        choices=IPVS_SCHEDULERS,
    )
    ipvs_strict_arp: bool = _setting(
        True, "IPVS strictARP (needed by MetalLB L2 and kube-vip ARP mode)."
    )
    pod_cidr: str = _setting("10.244.0.0/16", "Pod network CIDR.", check=_check_cidr)
    service_cidr: str = _setting("10.96.0.0/12", "Service network CIDR.", check=_check_cidr)
    node_network: str | None = _setting(
        None,
        "CIDR of the private network between the nodes; the private interface is found in it.",
        check=_check_optional_cidr,
    )
    private_interface: str | None = _setting(
        None,
        "Name of the private NIC; when unset it is the NIC with an address in node_network.",
        scope=HOST,
    )
    private_address: str | None = _setting(
        None,
        "The node's address on the private network (kubelet node IP, etcd peer URLs).",
        scope=HOST,
        check=_check_optional_address,
    )
    node_mtu: int | None = _setting(
        None,
        "Expected MTU of the private NIC; unset means whatever the provider gives.",
        check=_check_mtu,
        scope=NODE,
    )
    # -- etcd ---------------------------------------------------------------------------------
    etcd_topology: str = _setting(
        "stacked",
        "stacked (etcd on the control-plane nodes) or external (its own hosts).",
        choices=("stacked", "external"),
    )
    etcd_device: str | None = _setting(
        None,
        "The whole disk (NVMe) for etcd's data: a /dev path (best a /dev/disk/by-id/ name) or "
        "serial:NAME; required on every etcd host. Formatted only while blank (no filesystem, "
        "partition table or other signature), then mounted by UUID at /var/lib/etcd.",
        scope=HOST,
        check=_check_device,
    )
    etcd_wipe_device: str | None = _setting(
        None,
        "Erase the etcd disk although it holds signatures (a filesystem, a partition table): "
        "only when this names exactly the etcd_device value; the deploy says what it erases.",
        scope=HOST,
    )
    etcd_allow_non_nvme: bool = _setting(
        False,
        "Accept an etcd_device that is not NVMe (etcd on a shared or rotating disk is the "
        "classic cause of leader elections; the fsync gate still applies).",
        scope=HOST,
    )
    etcd_filesystem: str = _setting(
        "ext4",
        "Filesystem made on a blank etcd disk.",
        choices=("ext4", "xfs"),
    )
    etcd_fsync_p99_max_ms: int = _setting(
        10,
        "Slowest 99th-percentile WAL fdatasync (ms) the etcd stage's gate accepts, measured "
        "with fio on the mounted etcd disk before etcd starts: etcd's rule is under 10 ms.",
        check=_check_above_zero,
        scope=NODE,
    )
    etcd_fsync_probe_mb: int = _setting(
        22,
        "MiB the fsync gate's fio job writes in 2300-byte fdatasync'd writes: etcd's own probe "
        "writes 22 (about 10 000 fdatasyncs); fewer measure a rougher p99, sooner.",
        check=_check_above_zero,
        scope=NODE,
    )
    etcd_accept_slow_disk: bool = _setting(
        False,
        "Let a host whose etcd disk fails the fsync gate go on (with a warning) instead of "
        "being refused.",
        scope=HOST,
    )
    etcd_heartbeat_interval: int = _setting(
        100,
        "etcd's heartbeat interval in ms (etcd's default); the doctor judges the RTT between "
        "etcd members against it: about the RTT, 0.5-1.5x (etcd's tuning guide).",
        check=_check_above_zero,
    )
    etcd_election_timeout: int = _setting(
        1000,
        "etcd's election timeout in ms (etcd's default); the doctor requires at least 10x the "
        "RTT between etcd members (etcd's tuning guide).",
        check=_check_above_zero,
    )
    # -- Container runtime --------------------------------------------------------------------
    containerd_registry_mirrors: dict[str, list[str]] = _setting(
        {},
        "Registry mirrors for containerd, e.g. {'docker.io': ['https://mirror.example/']}.",
        check=_check_mirrors,
        scope=NODE,
    )
    # -- Doctor (nordkube doctor's thresholds, each with its source in docs/domain.md) --------
    doctor_steal_max_percent: int = _setting(
        10,
        "Most CPU steal (%) the doctor accepts over its sample: above 10% the VM runs slower "
        "than it should (Scout APM, 'Understanding CPU Steal Time').",
        check=_check_above_zero,
        scope=NODE,
    )
    doctor_steal_window: int = _setting(
        5, "Seconds over which the doctor samples CPU steal from /proc/stat.", check=_check_positive
    )
    doctor_fsync_p99_max_ms: int = _setting(
        10,
        "Slowest 99th-percentile WAL fdatasync (ms) the doctor accepts on an etcd disk: "
        "etcd's rule is under 10 ms (etcd hardware guide).",
        check=_check_above_zero,
    )
    doctor_min_iops: int = _setting(
        50,
        "Fewest sequential write IOPS (fdatasync after each) the doctor accepts on an etcd "
        "disk: 50, or 500 for busy clusters (etcd hardware guide).",
        check=_check_above_zero,
    )
    doctor_time_offset_max_ms: int = _setting(
        500,
        "Largest clock offset (ms) the doctor accepts: two nodes within it of true time stay "
        "under etcd's 1 s peer clock-difference warning.",
        check=_check_above_zero,
    )
    doctor_lan_rtt_ms: int = _setting(
        5,
        "RTT (ms) above which the doctor flags a node pair as not on one local network: etcd's "
        "default timing is for a local network (etcd tuning guide); a data centre answers in "
        "about 1 ms, another city in 10 ms or more.",
        check=_check_above_zero,
    )
    doctor_rtt_targets: list[str] = _setting(
        [],
        "Addresses the doctor measures every node's RTT to as well (an internet exchange, the "
        "operator's office), e.g. ['193.156.90.1'].",
    )
    # -- Node ---------------------------------------------------------------------------------
    stages: list[str] = _setting(
        [],
        "Deploy stages to run (e.g. ['base', 'kernel']); empty runs every stage.",
        check=_check_stages,
        scope=NODE,
    )

    @classmethod
    def from_data(cls, data: Mapping[str, Any], host: str | None = None) -> Settings:
        """Build settings from a host's merged data; raise SettingsError naming every problem."""
        values: dict[str, Any] = {}
        problems: list[Problem] = []
        for spec in fields(cls):
            if spec.name not in data or data[spec.name] is None:
                continue
            value, message = _coerce(spec.name, data[spec.name], _type_name(spec.type))
            if message is None:
                message = _check_value(spec.metadata, value)
            if message is None:
                values[spec.name] = value
            else:
                problems.append(Problem(host, spec.name, message))
        if problems:
            raise SettingsError(problems)
        return cls(**values)

    def kubernetes_minor(self) -> int:
        """The minor release number: 35 for '1.35.0'."""
        match = _VERSION.match(self.kubernetes_version)
        assert match, "kubernetes_version was checked in from_data"
        return int(match.group(1))


def _type_name(annotation: Any) -> str:
    text = str(annotation)
    for name in ("dict", "list", "bool", "int"):
        if text.startswith(name):
            return name
    return "str"


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def _coerce(name: str, value: Any, kind: str) -> tuple[Any, str | None]:
    """Accept what pyinfra's `--data` and Python inventories give; say what was expected."""
    if kind == "bool":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE, None
        return value, f"{value!r} must be true or false"
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value, None
        if isinstance(value, str) and value.isdigit():
            return int(value), None
        return value, f"{value!r} must be a whole number"
    if kind == "list":
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()], None
        if isinstance(value, (list, tuple)) and all(isinstance(i, str) for i in value):
            return list(value), None
        return value, f"{value!r} must be a list of strings"
    if kind == "dict":
        if isinstance(value, dict):
            return value, None
        return value, f"{value!r} must be a mapping"
    if isinstance(value, str):
        return value, None
    return value, f"{value!r} must be a string"


def _check_value(metadata: Mapping[str, Any], value: Any) -> str | None:
    choices = metadata.get("choices")
    if choices and value not in choices:
        return f"{value!r} is not one of: {', '.join(choices)}"
    check = metadata.get("check")
    if check is not None:
        result: str | None = check(value)
        return result
    return None


def cluster_setting_names() -> list[str]:
    """The settings that must be equal on every host of one inventory."""
    return [spec.name for spec in fields(Settings) if spec.metadata["scope"] == CLUSTER]


@dataclass(frozen=True)
class SettingDoc:
    """One row of the README's settings table."""

    name: str
    type: str
    default: Any
    scope: str
    doc: str


def describe() -> list[SettingDoc]:
    """Every setting with its type, default, scope and meaning, in declaration order."""
    rows = []
    defaults = Settings()
    for spec in fields(Settings):
        default = getattr(defaults, spec.name)
        type_text = str(spec.type).replace("typing.", "")
        rows.append(
            SettingDoc(spec.name, type_text, default, spec.metadata["scope"], spec.metadata["doc"])
        )
    return rows


def settings_table() -> str:
    """The settings as a Markdown table (the README embeds it; a test keeps them equal)."""
    lines = ["| setting | type | default | scope | meaning |", "|---|---|---|---|---|"]
    for row in describe():
        default = "unset" if row.default is None else f"`{row.default!r}`"
        type_text = row.type.replace("|", "or")
        lines.append(f"| `{row.name}` | `{type_text}` | {default} | {row.scope} | {row.doc} |")
    return "\n".join(lines)

"""The doctor's judgement: measurements (pyinfra_ext/probes.py's JSON) and settings in,
findings out. Pure: every rule is a plain function of sample inputs, tested directly.

Levels: `ok`, `warn` (worth knowing, the deploy still works), `fail` (the cluster would suffer:
unfit hardware, a conflicting port, a path that drops overlay packets) and `could not tell`
(not measured: the host was unreachable, fio is missing). Exit codes as drift's: 0 fit, 1 a
failure, 2 something could not be told.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nordkube import cni, overlay, ports, support
from nordkube.settings import Settings
from nordkube.validation import check_host, check_unique_identities

OK, WARN, FAIL, UNKNOWN = "ok", "warn", "fail", "could not tell"
_SEVERITY = (OK, WARN, FAIL, UNKNOWN)
EXIT_CODES = {OK: 0, WARN: 0, FAIL: 1, UNKNOWN: 2}

# IPv4's smallest MTU, where the path-MTU probes start (pyinfra_ext/probes.py): every host
# accepts 576-byte datagrams (RFC 791).
MIN_MTU = 576
# kubeadm's preflight on control-plane nodes (cmd/kubeadm/app/constants: ControlPlaneNumCPU,
# ControlPlaneMem; docs/domain.md, "kubeadm preflight and ports").
KUBEADM_MIN_CPUS = 2
KUBEADM_MIN_MEMORY_MIB = 1700
# etcd's tuning guide: the heartbeat interval about the RTT between members (0.5-1.5x), the
# election timeout at least 10x the RTT; etcd itself wants election >= 5x heartbeat.
ETCD_TIMING_SETTINGS = ("etcd_heartbeat_interval", "etcd_election_timeout")
HEARTBEAT_LOW_RATIO = 0.5
ELECTION_RTT_RATIO = 10
ELECTION_HEARTBEAT_RATIO = 5


@dataclass(frozen=True)
class Finding:
    check: str
    level: str
    host: str | None  # None: about the cluster (a matrix), not one host
    message: str
    setting: str | None = None  # the setting it is judged against, where one is
    # The node pairs (from, to) a finding between hosts names, for the matrices.
    pairs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Node:
    """One inventory host as the doctor judges it."""

    name: str
    settings: Settings
    control_plane: bool
    etcd: bool


def verdict(findings: Iterable[Finding]) -> str:
    return max((finding.level for finding in findings), key=_SEVERITY.index, default=OK)


# -- per host ----------------------------------------------------------------------------------


def steal(node: Node, measured: Mapping[str, Any]) -> Finding:
    share = measured.get("steal", {}).get("steal_percent")
    limit, window = node.settings.doctor_steal_max_percent, node.settings.doctor_steal_window
    if share is None:
        return Finding("steal", UNKNOWN, node.name, "/proc/stat gave no CPU steal sample")
    text = f"CPU steal {share:.1f}% over {window} s"
    if share > limit:
        return Finding(
            "steal",
            FAIL,
            node.name,
            f"{text}, above {limit}%: the hypervisor is oversold; ask the provider for "
            "another host or dedicated CPUs",
            "doctor_steal_max_percent",
        )
    return Finding("steal", OK, node.name, f"{text} (at most {limit}%)", "doctor_steal_max_percent")


def resources(node: Node, measured: Mapping[str, Any]) -> list[Finding]:
    found = measured.get("resources", {})
    cpus, memory = found.get("cpus"), found.get("memory_mib")
    if cpus is None or memory is None:
        return [Finding("resources", UNKNOWN, node.name, "nproc or /proc/meminfo gave nothing")]
    text = f"{cpus} CPUs, {memory} MiB"
    if not node.control_plane:
        return [Finding("resources", OK, node.name, text)]
    problems = []
    if cpus < KUBEADM_MIN_CPUS:
        problems.append(f"{cpus} CPUs, kubeadm's preflight needs {KUBEADM_MIN_CPUS}")
    if memory < KUBEADM_MIN_MEMORY_MIB:
        problems.append(f"{memory} MiB of memory, kubeadm needs {KUBEADM_MIN_MEMORY_MIB}")
    if problems:
        return [
            Finding("resources", FAIL, node.name, f"control-plane node with {p}") for p in problems
        ]
    return [Finding("resources", OK, node.name, f"{text} (control plane: enough for kubeadm)")]


def supported(node: Node, measured: Mapping[str, Any]) -> list[Finding]:
    """The deploy's own verdict on this OS, kernel, cgroup and Kubernetes version."""
    facts = measured["facts"]
    report = check_host(
        node.name,
        node.settings,
        facts,
        containerd=support.ContainerdOffer.from_fact(measured.get("containerd", {})),
    )
    findings = [
        Finding("support", FAIL, node.name, problem.message, problem.setting)
        for problem in report.errors
    ] + [
        Finding("support", WARN, node.name, problem.message, problem.setting)
        for problem in report.warnings
    ]
    if not report.errors:
        platform = report.platform.name if report.platform else facts.get("pretty_name")
        findings.append(
            Finding(
                "support",
                OK,
                node.name,
                f"{platform}, kernel {facts.get('kernel')}, {facts.get('cgroup')}: the deploy "
                f"accepts it for Kubernetes {node.settings.kubernetes_version}",
                "kubernetes_version",
            )
        )
    return findings


def swap(node: Node, measured: Mapping[str, Any]) -> Finding:
    found = measured.get("swap", {})
    where = [*found.get("active", []), *found.get("fstab", []), *found.get("units", [])]
    if not where:
        return Finding("swap", OK, node.name, "swap off, and none at boot")
    state = "on" if found.get("active") else "off now, on at boot"
    return Finding(
        "swap",
        WARN,
        node.name,
        f"swap {state} ({'; '.join(where)}): kubeadm refuses swap; the base stage turns it off "
        "and keeps it off",
    )


def clock(node: Node, measured: Mapping[str, Any]) -> Finding:
    found = measured.get("time", {})
    limit = node.settings.doctor_time_offset_max_ms
    offset = found.get("offset_ms")
    if offset is not None:
        text = (
            f"clock {abs(offset):.1f} ms {'ahead' if offset > 0 else 'behind'} ({found['source']})"
        )
        if abs(offset) > limit:
            return Finding(
                "time",
                FAIL,
                node.name,
                f"{text}, more than {limit} ms: fix time sync before etcd and TLS depend on it",
                "doctor_time_offset_max_ms",
            )
        if not found.get("synchronised"):
            return Finding("time", WARN, node.name, f"{text}, but chrony has no source now")
        return Finding("time", OK, node.name, text, "doctor_time_offset_max_ms")
    if found.get("synchronised") is True:
        return Finding("time", OK, node.name, "synchronised (systemd-timesyncd, no offset shown)")
    if found.get("synchronised") is False:
        return Finding("time", WARN, node.name, "the clock is not synchronised")
    return Finding("time", WARN, node.name, "no time sync answers (the base stage installs chrony)")


def _needs(port: ports.Port, node: Node) -> bool:
    if port.networks and overlay.encapsulation(node.settings) not in port.networks:
        return False
    if port.needed_on == ports.CONTROL_PLANE:
        return node.control_plane
    if port.needed_on == ports.ETCD:
        return node.etcd
    return True


def listening_ports(node: Node, measured: Mapping[str, Any]) -> list[Finding]:
    """Each port the node needs is free or held by the process that should hold it."""
    sockets = measured.get("sockets", [])
    findings = []
    for port in ports.PORTS:
        if not _needs(port, node):
            continue
        holders = sorted(
            {
                process
                for socket in sockets
                if socket["port"] == port.number and socket["protocol"] == port.protocol
                for process in socket["processes"]
            }
        )
        wrong = [process for process in holders if process not in port.owners]
        label = f"{port.number}/{port.protocol} ({port.purpose})"
        if wrong:
            owner = " or ".join(port.owners) or "the kernel"
            findings.append(
                Finding(
                    "ports",
                    FAIL,
                    node.name,
                    f"{label} is held by {', '.join(wrong)}; {owner} needs it",
                )
            )
        elif holders:
            findings.append(Finding("ports", OK, node.name, f"{label} held by {holders[0]}"))
    taken = sorted(
        {
            f"{socket['port']}/{socket['protocol']} ({', '.join(socket['processes'])})"
            for socket in sockets
            if socket["port"] in ports.NODE_PORT_RANGE
            and socket["processes"]
            and not set(socket["processes"]) <= set(ports.NODE_PORT_OWNERS)
        }
    )
    if taken:
        findings.append(
            Finding(
                "ports",
                WARN,
                node.name,
                f"NodePort range 30000-32767 in use: {', '.join(taken)}; a Service given one of "
                "these ports will not answer here",
            )
        )
    if not any(finding.level != OK for finding in findings):
        findings.append(Finding("ports", OK, node.name, "every port it needs is free or its own"))
    return findings


def etcd_disk(node: Node, measured: Mapping[str, Any]) -> list[Finding]:
    disk = measured.get("etcd_disk")
    if not node.etcd or disk is None:
        return []
    settings = node.settings
    findings = []
    where = f"{disk['directory']} on {disk['source']} ({disk['type']})"
    if settings.etcd_device and not disk.get("mounted_at"):
        findings.append(
            Finding(
                "etcd disk",
                WARN,
                node.name,
                f"etcd_device {settings.etcd_device} has no mounted filesystem, so {where} was "
                "measured, where kubeadm's stacked etcd writes until the etcd stage mounts "
                "its disk",
                "etcd_device",
            )
        )
    if disk.get("fio_missing"):
        findings.append(
            Finding(
                "etcd disk",
                UNKNOWN,
                node.name,
                "fio is not installed: install it (apt-get install fio, dnf install fio) and run "
                "the doctor again; the doctor installs nothing",
            )
        )
        return findings
    fio = disk.get("fio") or {"error": "fio did not run"}
    if "error" in fio:
        findings.append(Finding("etcd disk", UNKNOWN, node.name, f"{where}: {fio['error']}"))
        return findings
    p99, iops = fio["fsync_p99_ms"], fio["iops"]
    text = f"{where}: fdatasync p99 {p99:.2f} ms, {iops:.0f} IOPS"
    if p99 > settings.doctor_fsync_p99_max_ms:
        findings.append(
            Finding(
                "etcd disk",
                FAIL,
                node.name,
                f"{text}; etcd needs p99 under {settings.doctor_fsync_p99_max_ms} ms: give etcd "
                "its own NVMe disk",
                "doctor_fsync_p99_max_ms",
            )
        )
    if iops < settings.doctor_min_iops:
        findings.append(
            Finding(
                "etcd disk",
                FAIL,
                node.name,
                f"{text}; etcd needs at least {settings.doctor_min_iops} sequential IOPS",
                "doctor_min_iops",
            )
        )
    if not any(finding.level == FAIL for finding in findings):
        findings.append(Finding("etcd disk", OK, node.name, text, "doctor_fsync_p99_max_ms"))
    return findings


def identities(measured_hosts: Mapping[str, Mapping[str, Any]]) -> list[Finding]:
    """Hostname, machine-id, product_uuid and private MAC unique (the deploy's own check)."""
    problems = check_unique_identities(
        {name: found["facts"] for name, found in measured_hosts.items()},
        {name: found.get("private_interface") for name, found in measured_hosts.items()},
    )
    if not problems:
        return [Finding("identity", OK, None, "hostname, machine-id, product_uuid, MAC unique")]
    return [
        Finding("identity", FAIL, problem.host, problem.message, problem.setting)
        for problem in problems
    ]


# -- between hosts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Matrix:
    """A value from each host to each other (and to targets): RTT in ms or path MTU."""

    rows: list[str]
    columns: list[str]
    cells: dict[tuple[str, str], Any]


def rtt_matrix(measured: Mapping[str, Any], targets: Iterable[str]) -> Matrix:
    addresses: Mapping[str, str] = measured["addresses"]
    name_of = {address: name for name, address in addresses.items()}
    rows = [name for name in measured["hosts"] if name in addresses]
    columns = rows + [target for target in targets if target not in name_of]
    cells = {}
    for row in rows:
        for target, result in measured["hosts"][row].get("rtt", {}).items():
            cells[(row, name_of.get(target, target))] = result
    return Matrix(rows, columns, cells)


def mtu_matrix(measured: Mapping[str, Any]) -> Matrix:
    addresses: Mapping[str, str] = measured["addresses"]
    name_of = {address: name for name, address in addresses.items()}
    rows = [name for name in measured["hosts"] if name in addresses]
    cells = {
        (row, name_of[target]): mtu
        for row in rows
        for target, mtu in measured["hosts"][row].get("mtu", {}).items()
        if target in name_of
    }
    return Matrix(rows, rows, cells)


def _round_up(value: float, step: int) -> int:
    return int(math.ceil(value / step) * step)


def etcd_timing(rtts: Mapping[tuple[str, str], float], settings: Settings) -> Finding:
    """The RTT between etcd members against the heartbeat interval and election timeout,
    with what etcd's tuning guide would set for it."""
    heartbeat, election = settings.etcd_heartbeat_interval, settings.etcd_election_timeout
    tolerated = election / ELECTION_RTT_RATIO
    if not rtts:
        return Finding(
            "etcd timing",
            OK,
            None,
            f"one etcd member, no RTT between members to judge; heartbeat {heartbeat} ms and "
            f"election {election} ms tolerate members up to {tolerated:.0f} ms apart",
            "etcd_election_timeout",
        )
    (first, second), rtt = max(rtts.items(), key=lambda item: item[1])
    advice_heartbeat = max(heartbeat, _round_up(rtt, 10))
    advice_election = max(
        election,
        _round_up(rtt * ELECTION_RTT_RATIO, 100),
        advice_heartbeat * ELECTION_HEARTBEAT_RATIO,
    )
    text = (
        f"largest RTT between etcd members {rtt:.1f} ms ({first} - {second}); etcd wants the "
        f"heartbeat about the RTT and the election timeout at least {ELECTION_RTT_RATIO}x it "
        f"({ELECTION_RTT_RATIO * rtt:.0f} ms)"
    )
    if election < ELECTION_RTT_RATIO * rtt or heartbeat < HEARTBEAT_LOW_RATIO * rtt:
        return Finding(
            "etcd timing",
            FAIL,
            None,
            f"{text}: heartbeat {heartbeat} ms and election {election} ms are too short; set "
            f"etcd_heartbeat_interval = {advice_heartbeat} and etcd_election_timeout = "
            f"{advice_election}, or keep etcd members in one site",
            "etcd_election_timeout",
        )
    return Finding(
        "etcd timing",
        OK,
        None,
        f"{text}: heartbeat {heartbeat} ms and election {election} ms hold, up to "
        f"{tolerated:.0f} ms between members",
        "etcd_election_timeout",
    )


def network(measured: Mapping[str, Any], nodes: Mapping[str, Node]) -> list[Finding]:
    """RTT between nodes and to the operator's targets, judged against a local network and
    etcd's timing."""
    cluster = next(iter(nodes.values())).settings
    matrix = rtt_matrix(measured, cluster.doctor_rtt_targets)
    findings = []
    members: dict[tuple[str, str], float] = {}
    for (source, target), result in sorted(matrix.cells.items()):
        node = target in nodes
        where, pair = f"{source} -> {target}", (source, target)
        if "error" in result or result.get("avg_ms") is None:
            level = FAIL if node else WARN
            why = result.get("error") or f"{result.get('loss_percent', 100):.0f}% loss"
            findings.append(
                Finding("rtt", level, source, f"{where}: no answer ({why})", None, (pair,))
            )
            continue
        # The typical RTT (the median: a busy moment moves the average, not it), and the
        # fastest, which only distance moves.
        rtt = result.get("median_ms") or result["avg_ms"]
        if result["loss_percent"] > 0:
            findings.append(
                Finding(
                    "rtt",
                    WARN,
                    source,
                    f"{where}: {result['loss_percent']:.0f}% loss",
                    None,
                    (pair,),
                )
            )
        # Judged by the fastest answer: distance shows in every ping, a busy host in some.
        fastest = result.get("min_ms") or rtt
        if node and fastest > cluster.doctor_lan_rtt_ms:
            findings.append(
                Finding(
                    "rtt",
                    WARN,
                    source,
                    f"{where}: {rtt:.1f} ms typically, {fastest:.1f} ms at the fastest, above "
                    f"{cluster.doctor_lan_rtt_ms} ms: not one local network (another site)",
                    "doctor_lan_rtt_ms",
                    (pair,),
                )
            )
        if node and nodes[source].etcd and nodes[target].etcd:
            members[(source, target)] = rtt
    findings.append(etcd_timing(members, cluster))
    return findings


def path_mtus(measured: Mapping[str, Any], nodes: Mapping[str, Node]) -> list[Finding]:
    """Every pair's path MTU against what the pod network sends: the underlay MTU it uses is
    the smallest private NIC MTU (cni.backend_mtu), and every path must carry it."""
    cluster = next(iter(nodes.values())).settings
    matrix = mtu_matrix(measured)
    nic_mtus = [
        found["facts"]["interfaces"][found["private_interface"]]["mtu"]
        for name, found in measured["hosts"].items()
        if name in matrix.rows and found.get("private_interface")
    ]
    if not nic_mtus or not matrix.cells:
        return [Finding("mtu", OK, None, "fewer than two nodes: no path to measure")]
    underlay = cni.backend_mtu(nic_mtus)
    extra = overlay.overhead(cluster)
    network_name = "/".join(overlay.encapsulation(cluster))
    findings = []
    short = {}
    for (source, target), mtu in sorted(matrix.cells.items()):
        if mtu is None:
            findings.append(
                Finding(
                    "mtu",
                    FAIL,
                    source,
                    f"{source} -> {target}: not even a {MIN_MTU}-byte don't-fragment packet "
                    "arrives",
                    None,
                    ((source, target),),
                )
            )
        elif mtu < underlay:
            short[(source, target)] = mtu
    smallest = min((mtu for mtu in matrix.cells.values() if mtu), default=None)
    if short:
        pairs = ", ".join(f"{a} -> {b} ({mtu})" for (a, b), mtu in short.items())
        findings.append(
            Finding(
                "mtu",
                FAIL,
                None,
                f"path MTU below the private NICs' {underlay} between {pairs}: {network_name} "
                f"adds {extra} bytes, so pods would get {underlay - extra} but packets over "
                f"{smallest - extra if smallest else '?'} bytes between these nodes are dropped "
                f"silently; set node_mtu = {smallest} on the private NICs (pods then get "
                f"{smallest - extra if smallest else '?'})",
                "node_mtu",
                tuple(short),
            )
        )
    else:
        findings.append(
            Finding(
                "mtu",
                OK,
                None,
                f"every path carries {underlay} bytes, the private NICs' MTU: {network_name} "
                f"adds {extra}, pods get {underlay - extra}",
            )
        )
    return findings


def judge(
    measured: Mapping[str, Any], nodes: Mapping[str, Node], unreachable: Mapping[str, str]
) -> list[Finding]:
    """Every finding: per host (in inventory order), then between hosts."""
    findings = [
        Finding("reachable", UNKNOWN, name, f"not measured: {why}")
        for name, why in unreachable.items()
    ]
    hosts: Mapping[str, Mapping[str, Any]] = measured.get("hosts", {})
    for name, node in nodes.items():
        if name not in hosts:
            continue
        found = hosts[name]
        findings.append(steal(node, found))
        findings += etcd_disk(node, found)
        findings += supported(node, found)
        findings += resources(node, found)
        findings.append(swap(node, found))
        findings.append(clock(node, found))
        findings += listening_ports(node, found)
    if hosts:
        findings += identities(hosts)
        findings += network(measured, {name: nodes[name] for name in hosts if name in nodes})
        findings += path_mtus(measured, {name: nodes[name] for name in hosts if name in nodes})
    return findings

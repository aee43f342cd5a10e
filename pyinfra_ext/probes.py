"""What `nordkube doctor` measures on the nodes: facts that read (CPU steal over a window, the
clock's offset, listening sockets, RTTs, path MTUs) and one that measures the etcd disk with
fio in a temporary directory it removes. Nothing here changes a node.

`measure` runs them for every host of the run in rounds (each host at once within a round):
what each node is and its CPU steal while nothing else runs; the RTT from every node to every
other; the path-MTU probes between them; fio on the etcd nodes. Rounds keep one probe's load
out of another's numbers. The doctor probe file (doctor.py) calls it; nordkube.doctor judges
what it wrote.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import statistics
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pyinfra import host, inventory
from pyinfra.api import FactBase, Host

from nordkube import kubeadm
from nordkube.doctor.judge import MIN_MTU
from nordkube.inventory import inventory_hosts
from nordkube.settings import Settings, SettingsError
from nordkube.support import ContainerdOffer, find_platform
from nordkube.validation import etcd_hosts, private_interface
from pyinfra_ext import context, factcache
from pyinfra_ext.facts import SECTION, NodeFacts, SwapState, marker, sections

# An echo request of N bytes of payload is an IP packet of N + 28 (20 IP, 8 ICMP).
ICMP_IPV4_OVERHEAD = 28
# Echo requests per RTT measurement and their interval (0.2 s is the least a user may set).
PINGS, PING_INTERVAL = 10, 0.2


# The etcd WAL's write pattern (docs/domain.md, "etcd"): 2300-byte writes, fdatasync after each.
def fio_job(size_mb: int = 22) -> str:
    """fio's etcd WAL job: 2300-byte writes, each followed by fdatasync; etcd's own probe
    writes 22 MiB (about 10 000 fdatasyncs)."""
    return (
        f"--rw=write --ioengine=sync --fdatasync=1 --size={size_mb}m --bs=2300 --output-format=json"
    )


FIO_JOB = fio_job()


def _section(name: str, command: str) -> str:
    return f"echo '{SECTION}{name}'; {command}"


def _number(pattern: str, text: str) -> float | None:
    match = re.search(pattern, text)
    return float(match.group(1)) if match else None


# -- CPU steal ---------------------------------------------------------------------------------


def parse_cpu_line(line: str) -> tuple[int, int]:
    """`cpu  user nice system idle iowait irq softirq steal guest guest_nice` (proc(5)) ->
    (steal, total). guest time is already counted in user, so it is not added again."""
    fields = [int(value) for value in line.split()[1:9]]
    return fields[7], sum(fields)


class CpuSteal(FactBase[dict[str, Any]]):
    """The share of time the hypervisor gave this VM's CPUs to others, over `seconds`."""

    default = dict

    def command(self, seconds: int) -> str:
        return (
            f"{marker('CpuSteal')} head -n 1 /proc/stat; sleep {int(seconds)}; head -n 1 /proc/stat"
        )

    def process(self, output: list[str]) -> dict[str, Any]:
        samples = [parse_cpu_line(line) for line in output if line.startswith("cpu ")]
        if len(samples) != 2 or samples[1][1] <= samples[0][1]:
            return {"steal_percent": None}
        (steal_before, total_before), (steal_after, total_after) = samples
        share = (steal_after - steal_before) / (total_after - total_before) * 100
        return {"steal_percent": round(share, 2)}


# -- CPUs, memory, clock, sockets --------------------------------------------------------------


class NodeResources(FactBase[dict[str, Any]]):
    """CPUs this node's processes may use and its memory in MiB, as kubeadm's preflight
    counts them (runtime.NumCPU, sysinfo's total RAM)."""

    default = dict

    def command(self) -> str:
        return f"{marker('NodeResources')} " + "; ".join(
            [
                _section("cpus", "nproc"),
                _section("memory", "awk '/^MemTotal:/ {print $2}' /proc/meminfo"),
            ]
        )

    def process(self, output: list[str]) -> dict[str, Any]:
        parts = sections(output)
        cpus = "".join(parts.get("cpus", [])).strip()
        memory_kib = "".join(parts.get("memory", [])).strip()
        return {
            "cpus": int(cpus) if cpus.isdigit() else None,
            "memory_mib": int(memory_kib) // 1024 if memory_kib.isdigit() else None,
        }


def parse_chrony_tracking(lines: Iterable[str]) -> dict[str, Any]:
    """`chronyc -n tracking` (chronyc(1)): `System time : 0.000012 seconds slow of NTP time`
    is the clock's offset now; `Leap status : Not synchronised` means chrony has no source."""
    values = {}
    for line in lines:
        key, _, value = line.partition(":")
        values[key.strip()] = value.strip()
    system = re.match(r"([0-9.]+) seconds (fast|slow)", values.get("System time", ""))
    if not system:
        return {}
    offset = float(system.group(1)) * 1000 * (1 if system.group(2) == "fast" else -1)
    return {
        "source": "chrony",
        "offset_ms": round(offset, 3),
        "synchronised": values.get("Leap status") != "Not synchronised",
    }


class TimeSync(FactBase[dict[str, Any]]):
    """The clock's offset from NTP time (chrony's), or at least whether systemd-timesyncd
    says the clock is synchronised."""

    default = dict

    def command(self) -> str:
        return f"{marker('TimeSync')} " + "; ".join(
            [
                _section("chrony", "chronyc -n tracking 2>/dev/null || true"),
                _section(
                    "timedatectl",
                    "timedatectl show -p NTPSynchronized --value 2>/dev/null || true",
                ),
            ]
        )

    def process(self, output: list[str]) -> dict[str, Any]:
        parts = sections(output)
        chrony = parse_chrony_tracking(parts.get("chrony", []))
        if chrony:
            return chrony
        answer = "".join(parts.get("timedatectl", [])).strip()
        if answer in ("yes", "no"):
            return {"source": "timedatectl", "offset_ms": None, "synchronised": answer == "yes"}
        return {"source": None, "offset_ms": None, "synchronised": None}


def parse_ss(lines: Iterable[str]) -> list[dict[str, Any]]:
    """`ss -Hlntup`: `tcp LISTEN 0 4096 *:10250 *:* users:(("kubelet",pid=9,fd=21))` per
    socket -> protocol, address, port and the processes holding it (none: the kernel's)."""
    sockets = []
    for line in lines:
        fields = line.split()
        if len(fields) < 5 or fields[0] not in ("tcp", "udp"):
            continue
        address, _, port = fields[4].rpartition(":")
        if not port.isdigit():
            continue
        processes = sorted(set(re.findall(r'\("([^"]+)",pid=', line)))
        sockets.append(
            {"protocol": fields[0], "address": address, "port": int(port), "processes": processes}
        )
    return sockets


class ListeningSockets(FactBase[list[dict[str, Any]]]):
    """Every listening TCP and bound UDP socket with the processes holding it (root sees all)."""

    default = list

    def command(self) -> str:
        return f"{marker('ListeningSockets')} ss -Hlntup"

    def process(self, output: list[str]) -> list[dict[str, Any]]:
        return parse_ss(output)


# -- RTT and path MTU --------------------------------------------------------------------------


def parse_ping(text: str) -> dict[str, Any]:
    """One target's answer: each reply's `time=0.196 ms` (iputils), then ping's closing lines,
    `3 packets transmitted, 3 received, 0% packet loss` and `rtt min/avg/max/mdev = ...`;
    anything else is ping's error. The median is the typical RTT, which a busy moment on
    either end does not move as it moves the average."""
    loss = _number(r"([0-9.]+)% packet loss", text)
    if loss is None:
        return {"error": text.strip() or "ping printed nothing"}
    times = sorted(float(value) for value in re.findall(r"time=([0-9.]+)", text))
    rtt = re.search(r"= ([0-9.]+)/([0-9.]+)/([0-9.]+)/([0-9.]+) ms", text)
    return {
        "loss_percent": loss,
        "min_ms": float(rtt.group(1)) if rtt else None,
        "median_ms": round(statistics.median(times), 3) if times else None,
        "avg_ms": float(rtt.group(2)) if rtt else None,
        "max_ms": float(rtt.group(3)) if rtt else None,
    }


class Pings(FactBase[dict[str, dict[str, Any]]]):
    """The RTT to each target: PINGS echo requests each, every target at once. Each target's
    result is one line (`TARGET` and the reply times and summary ping printed), so the
    parallel answers never interleave."""

    default = dict

    def command(self, targets: tuple[str, ...]) -> str:
        ping = f"ping -n -c {PINGS} -i {PING_INTERVAL} -w {PINGS}"
        jobs = " ".join(shlex.quote(target) for target in targets)
        return (
            f"{marker('Pings')} for t in {jobs}; do "
            f'( out=$({ping} "$t" 2>&1); echo "$t $(echo "$out" | grep -o "time=[0-9.]*" '
            '| tr "\\n" " ")$(echo "$out" | tail -n 2 | tr "\\n" " ")" ) & done; wait'
        )

    def process(self, output: list[str]) -> dict[str, dict[str, Any]]:
        results = {}
        for line in output:
            target, _, answer = line.partition(" ")
            if target:
                results[target] = parse_ping(answer)
        return results


class PathMtu(FactBase[dict[str, int | None]]):
    """The largest IPv4 packet that reaches each target with the don't-fragment bit set: the
    path MTU, found by halving between this NIC's MTU and 576. A size is passed when any of
    three echo requests within a second is answered; a path that drops big packets silently
    (a provider underlay) fails those sizes, and so does one that answers frag-needed."""

    default = dict

    def command(self, targets: tuple[str, ...], largest: int) -> str:
        probe = (
            "probe() { ping -n -q -M do -c 3 -i 0.2 -w 1 "
            f'-s $(($2 - {ICMP_IPV4_OVERHEAD})) "$1" >/dev/null 2>&1; }}'
        )
        search = (
            'search() { t=$1; hi=$2; lo=$3; if probe "$t" "$hi"; then echo "$t $hi"; return; fi; '
            'if ! probe "$t" "$lo"; then echo "$t none"; return; fi; '
            "while [ $((hi - lo)) -gt 1 ]; do mid=$(((hi + lo) / 2)); "
            'if probe "$t" "$mid"; then lo=$mid; else hi=$mid; fi; done; echo "$t $lo"; }'
        )
        jobs = " ".join(shlex.quote(target) for target in targets)
        return (
            f"{marker('PathMtu')} {probe}; {search}; "
            f'for t in {jobs}; do search "$t" {int(largest)} {MIN_MTU} & done; wait'
        )

    def process(self, output: list[str]) -> dict[str, int | None]:
        results: dict[str, int | None] = {}
        for line in output:
            target, _, mtu = line.partition(" ")
            if target:
                results[target] = int(mtu) if mtu.isdigit() else None
        return results


# -- etcd's disk -------------------------------------------------------------------------------


def parse_fio(text: str) -> dict[str, Any]:
    """fio's JSON: the fdatasync latency's 99th percentile (jobs[0].sync.lat_ns, fio >= 3.5)
    and the write IOPS of the job."""
    try:
        job = json.loads(text[text.index("{") :])["jobs"][0]
    except (ValueError, KeyError, IndexError):
        return {"error": "fio printed no result"}
    percentiles = job.get("sync", {}).get("lat_ns", {}).get("percentile", {})
    if "99.000000" not in percentiles:
        return {"error": "this fio reports no fdatasync percentiles (fio 3.5 or later does)"}
    return {
        "fsync_p99_ms": round(percentiles["99.000000"] / 1e6, 3),
        "iops": round(float(job["write"]["iops"]), 1),
        "fsyncs": int(job["sync"]["lat_ns"].get("N", 0)),
    }


class EtcdDisk(FactBase[dict[str, Any]]):
    """etcd's disk as fio finds it: the filesystem etcd_device is mounted on, else the one
    kubeadm's stacked etcd writes to (its data directory or the nearest directory above it),
    and fio's etcd WAL job in a temporary directory there, removed afterwards. Never the raw
    device. Without fio installed it says so: the doctor installs nothing."""

    default = dict

    def command(self, device: str) -> str:
        fio = (
            f't=$(mktemp -d "$dir/.nordkube-doctor.XXXXXX") && '
            f'{{ fio --name=etcd-wal --directory="$t" {FIO_JOB}; rm -rf "$t"; }}'
        )
        return f"{marker('EtcdDisk')} " + "; ".join(
            [
                f"dev={shlex.quote(device)}",
                'mnt=$([ -n "$dev" ] && lsblk -nrpo MOUNTPOINT "$dev" 2>/dev/null '
                "| grep -m 1 '^/')",
                f"dir=${{mnt:-{kubeadm.ETCD_DATA_DIR}}}",
                'while [ ! -d "$dir" ]; do dir=$(dirname "$dir"); done',
                _section("mounted", 'echo "$mnt"'),
                _section("directory", 'echo "$dir"'),
                _section("filesystem", 'df -PT "$dir" | tail -n 1'),
                "if command -v fio >/dev/null 2>&1; then "
                + _section("fio", fio)
                + "; else "
                + _section("fio-missing", "true")
                + "; fi",
            ]
        )

    def process(self, output: list[str]) -> dict[str, Any]:
        parts = sections(output)
        filesystem = "".join(parts.get("filesystem", [])).split()
        result: dict[str, Any] = {
            "mounted_at": "".join(parts.get("mounted", [])).strip() or None,
            "directory": "".join(parts.get("directory", [])).strip() or None,
            "source": filesystem[0] if filesystem else None,
            "type": filesystem[1] if len(filesystem) > 1 else None,
            "fio_missing": "fio-missing" in parts,
            "fio": None,
        }
        if "fio" in parts:
            result["fio"] = parse_fio("\n".join(parts["fio"]))
        return result


# -- the rounds --------------------------------------------------------------------------------


def _describe(target: Host, settings: Settings) -> dict[str, Any]:
    """Round one on one host: what it is, and its CPU steal while nothing else runs."""
    facts = factcache.read(NodeFacts)
    if target not in inventory.get_active_hosts():
        return {}
    interface, _ = private_interface(settings, facts)
    nic = facts["interfaces"].get(interface) if interface else None
    platform = find_platform(facts["os_id"], facts["version_id"])
    offer = context.containerd_offer(platform, target) if platform else ContainerdOffer()
    return {
        "facts": facts,
        "containerd": dataclasses.asdict(offer),
        "private_interface": interface,
        "private_address": kubeadm.private_address(settings, nic),
        "resources": factcache.read(NodeResources),
        "swap": factcache.read(SwapState),
        "time": factcache.read(TimeSync),
        "sockets": factcache.read(ListeningSockets),
        "steal": factcache.read(CpuSteal, seconds=settings.doctor_steal_window),
    }


def _rtts(settings: Settings, addresses: Mapping[str, str]) -> dict[str, Any]:
    """Round two on one host: the RTT to every other node and to the operator's targets."""
    others = tuple(address for name, address in addresses.items() if name != host.name)
    targets = others + tuple(settings.doctor_rtt_targets)
    return factcache.read(Pings, targets=targets) if targets else {}


def _path_mtus(described: Mapping[str, Any], addresses: Mapping[str, str]) -> dict[str, Any]:
    """Round three on one host: the path MTU to every other node, from its own NIC's MTU."""
    others = tuple(address for name, address in addresses.items() if name != host.name)
    nic = described["facts"]["interfaces"].get(described["private_interface"] or "", {})
    largest = nic.get("mtu") or 1500
    return factcache.read(PathMtu, targets=others, largest=largest) if others else {}


def _measure_every_host() -> dict[str, Any]:
    hosts = list(inventory.get_active_hosts())
    settings = {each.name: Settings.from_data(each.data.dict(), each.name) for each in hosts}
    described = factcache.each_host(lambda each: _describe(each, settings[each.name]), hosts)
    reached = [each for each in hosts if described.get(each.name)]
    addresses = {
        each.name: described[each.name]["private_address"]
        for each in reached
        if described[each.name]["private_address"]
    }
    connected = [each for each in reached if each.name in addresses]
    rtts = factcache.each_host(lambda each: _rtts(settings[each.name], addresses), connected)
    mtus = factcache.each_host(lambda each: _path_mtus(described[each.name], addresses), connected)
    cluster = Settings.from_data(hosts[0].data.dict(), hosts[0].name) if hosts else Settings()
    members = {member.name for member in etcd_hosts(inventory_hosts(inventory), cluster)}
    disks = factcache.each_host(
        lambda each: factcache.read(EtcdDisk, device=settings[each.name].etcd_device or ""),
        [each for each in reached if each.name in members],
    )
    return {
        "addresses": addresses,
        "etcd_members": sorted(members),
        "hosts": {
            each.name: {
                **described[each.name],
                "rtt": rtts.get(each.name, {}),
                "mtu": mtus.get(each.name, {}),
                "etcd_disk": disks.get(each.name),
            }
            for each in reached
        },
    }


def measure(output: Path) -> None:
    """Measure every host once per run (the first host's probe file does it, the others wait)
    and write the measurements as JSON to `output`."""

    def write() -> None:
        output.write_text(json.dumps(_measure_every_host(), indent=1, sort_keys=True) + "\n")

    try:
        factcache.once("doctor", write)
    except SettingsError as error:
        raise SystemExit(f"nordkube doctor: {error}") from error

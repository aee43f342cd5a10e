"""Time `nordkube drift` over 10 and 100 lightweight SSH hosts on this machine.

    uv run python benchmarks/drift_scale.py [--sizes 10,100] [--runs 3]

Needs root (network namespaces) and sshd (`scripts/host-deps.sh` installs openssh-server).
Each host is a stand-in, not a VM: an sshd in a network namespace this script creates, behind
a veth on a bridge it creates, with an address in 10.251.0.0/24 (private; the namespaces
have no route anywhere else, so every packet stays between this machine and them). All of it
is removed at the end, also on an error or Ctrl-C, and a run refuses to start over leftovers.

The namespaces share this machine's filesystem and kernel, so a stand-in answers drift's fact
commands with this machine's own state. What makes each one a host of its own, and a fair
model of a node, is set up inside its namespace only: its own hostname (a UTS namespace) and
machine-id (`ip netns exec` binds /etc/netns/NAME/machine-id over /etc/machine-id), a root
home without this machine's shell start-up (which runs pyenv for 0.4 s per command), and
apt's package cache, which this machine's Docker-style apt configuration turns off (rebuilding
it costs every `apt-cache` call 0.4 s of CPU; a node keeps it, so it is built once here).

What drift does per host here is what it can do meaningfully on such a stand-in: plan the
real deploy (`--no-suite`: the node suite's states are a node's, and every one of them is a
separate SSH command, which 100 stand-ins sharing two cores cannot run as 100 nodes would),
with `stages=runtime`. Validation always runs first (NodeFacts, ContainerdPackages,
KernelModules, BootConfig) and the runtime stage reads the packages, managed files and
services; every fact command is sent, over SSH, to every host. The kernel stage is left out
because this machine's kernel has no modules (the deploy refuses such a host), and the base
stage because its swap-unit probe lists unit files without systemd running here (0.15 s of CPU
per host on this machine, a D-Bus call on a node). Each run must report every host, none as
"could not tell", or the benchmark fails: a fast run that tells nothing would prove nothing.

Targets (DESIGN.md): 100 hosts in at most 15 s, and t(100)/t(10) at most 3.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ipaddress
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SUBNET = ipaddress.ip_network("10.251.0.0/24")
PREFIX = "nkd"  # every namespace and link this script makes starts with it
BRIDGE = f"{PREFIX}0"
MAX_HOSTS = 200  # a /24 with room for the bridge's own address
TARGET_SECONDS, TARGET_RATIO = 15.0, 3.0
NETNS_ETC = Path("/etc/netns")
DOCKER_APT_CLEAN = Path("/etc/apt/apt.conf.d/docker-clean")
DRIFT_DATA = ("stages=runtime",)


def _run(*command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=check)


class Fleet:
    """`count` sshd stand-ins in network namespaces; a context manager that always cleans up."""

    def __init__(self, count: int, workdir: Path) -> None:
        if not 1 <= count <= MAX_HOSTS:
            raise SystemExit(f"between 1 and {MAX_HOSTS} hosts, not {count}")
        self.count, self.workdir = count, workdir
        self.sshd: list[subprocess.Popen[bytes]] = []
        self.made_netns_etc = False

    def address(self, index: int) -> str:
        return str(SUBNET.network_address + 10 + index)

    def namespace(self, index: int) -> str:
        return f"{PREFIX}-{index}"

    def __enter__(self) -> Fleet:
        if _run("ip", "link", "show", BRIDGE, check=False).returncode == 0:
            raise SystemExit(
                f"{BRIDGE} exists: another run is going, or one left it (ip link del {BRIDGE})"
            )
        atexit.register(self.teardown)
        try:
            self._up()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.teardown()

    def _up(self) -> None:
        work = self.workdir
        for key in ("client", "hostkey"):
            _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / key))
        (work / "authorized_keys").write_text((work / "client.pub").read_text())
        (work / "authorized_keys").chmod(0o600)
        (work / "home").mkdir()
        (work / "aptcache").mkdir()
        (work / "empty").write_text("")
        # Build apt's cache once, as a node has it (see the module docstring).
        _run(
            "apt-cache",
            "-o", f"Dir::Cache::pkgcache={work}/aptcache/pkgcache.bin",
            "-o", f"Dir::Cache::srcpkgcache={work}/aptcache/srcpkgcache.bin",
            "policy", "containerd",
        )  # fmt: skip
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
        self.made_netns_etc = not NETNS_ETC.exists()
        prefix = f"/{SUBNET.prefixlen}"
        _run("ip", "link", "add", BRIDGE, "type", "bridge")
        _run("ip", "addr", "add", str(SUBNET.network_address + 1) + prefix, "dev", BRIDGE)
        _run("ip", "link", "set", BRIDGE, "up")
        host_key = (work / "hostkey.pub").read_text().split()
        known_hosts = []
        for index in range(1, self.count + 1):
            namespace, address = self.namespace(index), self.address(index)
            _run("ip", "netns", "add", namespace)
            _run("ip", "link", "add", f"{PREFIX}h{index}", "type", "veth", "peer", "name",
                 "eth1", "netns", namespace)  # fmt: skip
            _run("ip", "link", "set", f"{PREFIX}h{index}", "master", BRIDGE, "up")
            _run("ip", "-n", namespace, "addr", "add", address + prefix, "dev", "eth1")
            _run("ip", "-n", namespace, "link", "set", "eth1", "up")
            _run("ip", "-n", namespace, "link", "set", "lo", "up")
            etc = NETNS_ETC / namespace
            etc.mkdir(parents=True, exist_ok=True)
            (etc / "machine-id").write_text(f"{index:032x}\n")
            config = work / f"sshd-{index}.conf"
            config.write_text(
                f"ListenAddress {address}:22\nHostKey {work / 'hostkey'}\n"
                f"AuthorizedKeysFile {work / 'authorized_keys'}\n"
                "PermitRootLogin prohibit-password\n"
                "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
                f"StrictModes no\nPidFile {work}/sshd-{index}.pid\nMaxStartups 200\n"
                "MaxSessions 200\nPrintMotd no\n"
            )
            mounts = [
                f"mount --bind {work}/home /root",
                f"mount --bind {work}/aptcache /var/cache/apt",
            ]
            if DOCKER_APT_CLEAN.exists():
                mounts.append(f"mount --bind {work}/empty {DOCKER_APT_CLEAN}")
            script = " && ".join(
                [*mounts, f"hostname bench-{index:03d}", f"exec /usr/sbin/sshd -D -e -f {config}"]
            )
            with (work / f"sshd-{index}.log").open("w") as log:
                self.sshd.append(
                    subprocess.Popen(
                        ["ip", "netns", "exec", namespace, "unshare", "--uts", "sh", "-c", script],
                        stdout=subprocess.DEVNULL,
                        stderr=log,
                    )
                )
            known_hosts.append(f"{address} {host_key[0]} {host_key[1]}")
        (work / "known_hosts").write_text("\n".join(known_hosts) + "\n")
        for index in range(1, self.count + 1):
            self._wait_for_sshd(index)

    def _wait_for_sshd(self, index: int) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection((self.address(index), 22), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        log = (self.workdir / f"sshd-{index}.log").read_text()
        raise SystemExit(f"sshd of {self.namespace(index)} did not answer within 30 s:\n{log}")

    def inventory(self) -> Path:
        hosts = [
            (
                f"bench-{index:03d}",
                {
                    "ssh_hostname": self.address(index),
                    "ssh_user": "root",
                    "ssh_key": str(self.workdir / "client"),
                    "ssh_known_hosts_file": str(self.workdir / "known_hosts"),
                    "ssh_strict_host_key_checking": "yes",
                    "node_network": str(SUBNET),
                    # This machine's cgroup hierarchy is v1; the deploy accepts it when told.
                    "allow_cgroup_v1": True,
                    **({"etcd_device": "/dev/vdb"} if index == 1 else {}),
                },
            )
            for index in range(1, self.count + 1)
        ]
        path = self.workdir / f"fleet-{self.count}.py"
        path.write_text(f"control_plane = {hosts[:1]!r}\nworkers = {hosts[1:]!r}\n")
        return path

    def cpu_seconds(self) -> float:
        """CPU time the stand-ins used so far: each sshd with the sessions and commands it
        reaped (utime, stime, cutime and cstime of /proc/PID/stat)."""
        ticks = 0
        for process in self.sshd:
            try:
                fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            ticks += sum(int(value) for value in fields[11:15])
        return ticks / os.sysconf("SC_CLK_TCK")

    def teardown(self) -> None:
        """Stop every process in the namespaces (sshd and its sessions), then remove them."""
        for process in self.sshd:
            process.terminate()
        for index in range(1, self.count + 1):
            namespace = self.namespace(index)
            pids = _run("ip", "netns", "pids", namespace, check=False).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            _run("ip", "netns", "del", namespace, check=False)
            shutil.rmtree(NETNS_ETC / namespace, ignore_errors=True)
        for process in self.sshd:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
        self.sshd.clear()
        _run("ip", "link", "del", BRIDGE, check=False)
        # A veth whose namespace was still held by a dying process outlives it briefly.
        for index in range(1, self.count + 1):
            _run("ip", "link", "del", f"{PREFIX}h{index}", check=False)
        if self.made_netns_etc and NETNS_ETC.is_dir() and not any(NETNS_ETC.iterdir()):
            NETNS_ETC.rmdir()


def time_drift(inventory: Path, count: int, reports: Path) -> tuple[float, float]:
    """Run drift once; its wall time and the CPU time of drift and its children."""
    command = [str(BIN / "nordkube"), "drift", str(inventory), "--no-suite", "--report-dir",
               str(reports)]  # fmt: skip
    for item in DRIFT_DATA:
        command += ["--data", item]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    elapsed = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    control = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    report = json.loads((reports / "drift.json").read_text())
    unknown = [host["name"] for host in report["hosts"] if host["verdict"] == "could not tell"]
    if result.returncode != 1 or len(report["hosts"]) != count or unknown or report["errors"]:
        raise SystemExit(
            f"drift over {count} hosts exited {result.returncode}, reported "
            f"{len(report['hosts'])} hosts, could not tell {unknown[:5]}, errors "
            f"{report['errors']}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    return elapsed, control


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100", help="fleet sizes, comma separated")
    parser.add_argument("--runs", type=int, default=3, help="drift runs per size (median)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root: it creates network namespaces")
    if not Path("/usr/sbin/sshd").exists():
        raise SystemExit("needs sshd: scripts/host-deps.sh installs openssh-server")

    def interrupted(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    sizes = [int(size) for size in args.sizes.split(",")]
    medians: dict[int, float] = {}
    for count in sizes:
        with (
            tempfile.TemporaryDirectory(prefix="nordkube-drift-scale-") as workdir,
            Fleet(count, Path(workdir)) as fleet,
        ):
            inventory = fleet.inventory()
            times = []
            for run in range(args.runs):
                reports = Path(workdir) / f"reports-{run}"
                load, remote = _load(), fleet.cpu_seconds()
                elapsed, control = time_drift(inventory, count, reports)
                remote = fleet.cpu_seconds() - remote
                times.append(elapsed)
                print(
                    f"  {count} hosts, run {run + 1}: {elapsed:.1f} s; CPU: drift and pyinfra"
                    f" {control:.1f} s, the stand-ins' sshd and fact commands {remote:.1f} s"
                    f" ({remote / count * 1000:.0f} ms per host); load before {load}"
                )
            medians[count] = statistics.median(times)
    print()
    for count, seconds in medians.items():
        target = f" (target <= {TARGET_SECONDS:.0f} s)" if count == 100 else ""
        print(f"t({count}) = {seconds:.1f} s{target}")
    if 10 in medians and 100 in medians:
        ratio = medians[100] / medians[10]
        print(f"t(100)/t(10) = {ratio:.2f} (target <= {TARGET_RATIO:.0f})")


if __name__ == "__main__":
    main()

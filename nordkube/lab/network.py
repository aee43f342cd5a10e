"""The private segment: vde2 switches joined by wirefilters, only the lab's VMs on it.

    node1 NIC - switch node1 - wirefilter -+
    node2 NIC - switch node2 - wirefilter -+- core switch
    node3 NIC - switch node3 - wirefilter -+

Each node's wirefilter is its provider underlay: `--path-mtu` drops larger packets (a NIC MTU
alone cannot, since receivers accept bigger frames) and `--delay` adds one-way latency, in both
directions of that node's link. A packet between two nodes crosses both nodes' wirefilters.
"""

from __future__ import annotations

import time
from pathlib import Path

from nordkube.lab.errors import LabError
from nordkube.lab.host import run
from nordkube.lab.spec import NodePlan, wirefilter_mtu
from nordkube.lab.state import Daemon

CORE = "core"
START_TIMEOUT = 10.0


def switch_socket(lab_dir: Path, name: str) -> Path:
    """A vde_switch's socket directory, which QEMU's `-netdev vde,sock=` takes."""
    return lab_dir / "net" / f"{name}.ctl"


def wirefilter_command(lab_dir: Path, node: NodePlan) -> list[str]:
    """The wirefilter joining the node's switch to the core, with its path MTU and delay."""
    command = [
        "wirefilter",
        "-v",
        f"{switch_socket(lab_dir, CORE)}:{switch_socket(lab_dir, node.name)}",
    ]
    if node.path_mtu is not None:
        command += ["-m", str(wirefilter_mtu(node.path_mtu))]
    if node.delay_ms:
        command += ["-d", str(node.delay_ms)]
    return command


def start_network(lab_dir: Path, nodes: list[NodePlan]) -> list[Daemon]:
    """Start the core switch, then one switch and one wirefilter per node."""
    (lab_dir / "net").mkdir(parents=True, exist_ok=True)
    daemons = [_start_switch(lab_dir, CORE)]
    for node in nodes:
        daemons.append(_start_switch(lab_dir, node.name))
        daemons.append(
            _start_daemon(lab_dir, "wirefilter", node.name, wirefilter_command(lab_dir, node))
        )
    return daemons


def _start_switch(lab_dir: Path, name: str) -> Daemon:
    command = ["vde_switch", "--sock", str(switch_socket(lab_dir, name))]
    daemon = _start_daemon(lab_dir, "vde_switch", name, command)
    _wait_for(switch_socket(lab_dir, name) / "ctl", f"vde_switch {name}")
    return daemon


def _start_daemon(lab_dir: Path, kind: str, name: str, command: list[str]) -> Daemon:
    """Run a vde2 program as a daemon and record its pid from its pidfile."""
    pidfile = lab_dir / "net" / f"{kind}-{name}.pid"
    run([*command, "--daemon", "--pidfile", str(pidfile)])
    _wait_for(pidfile, f"{kind} {name}")
    return Daemon(kind=kind, name=name, pid=int(pidfile.read_text()))


def _wait_for(path: Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not path.exists() or (path.suffix == ".pid" and not path.read_text().strip()):
        if time.monotonic() > deadline:
            raise LabError(f"{what} did not start within {START_TIMEOUT:.0f} s (no {path})")
        time.sleep(0.05)

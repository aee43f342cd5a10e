"""The running lab's record (`.lab/state.json`): what was started, with which identity and pids.

The inventory, `lab status` and the lab tests read it; only `lab up/start/stop/down` write it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from nordkube.lab.errors import LabError
from nordkube.lab.paths import lab_dir
from nordkube.lab.procs import is_running
from nordkube.lab.spec import LAB_USER, NODE_NETWORK, PRIVATE_INTERFACE, LabSpec, NodePlan

STATE_VERSION = 1
NO_LAB = "no lab is running: run `nordkube lab up`"


@dataclass(frozen=True)
class Daemon:
    """A vde_switch or wirefilter the lab started, to be ended by `lab down`."""

    kind: str
    name: str
    pid: int


@dataclass(frozen=True)
class LabState:
    spec: LabSpec
    directory: Path
    image_dir: Path
    nodes: tuple[NodePlan, ...]
    qemu_pids: Mapping[str, int] = field(default_factory=dict)
    daemons: tuple[Daemon, ...] = ()

    @property
    def ssh_key(self) -> Path:
        return self.directory / "ssh" / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.directory / "known_hosts"

    def node(self, name: str) -> NodePlan:
        for node in self.nodes:
            if node.name == name:
                return node
        names = ", ".join(node.name for node in self.nodes)
        raise LabError(f"no node {name!r} in the lab (nodes: {names})")

    def node_dir(self, name: str) -> Path:
        return self.directory / "nodes" / name

    def is_node_running(self, name: str) -> bool:
        return is_running(self.qemu_pids.get(name), self.directory)

    def with_qemu_pid(self, name: str, pid: int | None) -> LabState:
        pids = {key: value for key, value in self.qemu_pids.items() if key != name}
        if pid is not None:
            pids[name] = pid
        return replace(self, qemu_pids=pids)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "image": self.spec.image,
            "image_dir": str(self.image_dir),
            "node_network": str(NODE_NETWORK),
            "private_interface": PRIVATE_INTERFACE,
            "ssh_user": LAB_USER,
            "ssh_key": str(self.ssh_key),
            "known_hosts": str(self.known_hosts),
            "spec": self.spec.to_json(),
            "nodes": [
                asdict(node)
                | {"roles": list(node.roles), "qemu_pid": self.qemu_pids.get(node.name)}
                for node in self.nodes
            ],
            "daemons": [asdict(daemon) for daemon in self.daemons],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], directory: Path) -> LabState:
        if data.get("version") != STATE_VERSION:
            raise LabError(
                f"{directory / 'state.json'} was written by another nordkube version: "
                "run `nordkube lab down` and `nordkube lab up`"
            )
        nodes = []
        pids = {}
        for raw in data["nodes"]:
            fields = dict(raw)
            pid = fields.pop("qemu_pid")
            if pid is not None:
                pids[fields["name"]] = pid
            nodes.append(NodePlan(**fields | {"roles": tuple(fields["roles"])}))
        return cls(
            spec=LabSpec.from_json(data["spec"]),
            directory=directory,
            image_dir=Path(data["image_dir"]),
            nodes=tuple(nodes),
            qemu_pids=pids,
            daemons=tuple(Daemon(**daemon) for daemon in data["daemons"]),
        )


def state_file(directory: Path | None = None) -> Path:
    return (directory or lab_dir()) / "state.json"


def load_state(directory: Path | None = None) -> LabState:
    """The lab's record; a LabError saying how to start a lab when there is none."""
    directory = directory or lab_dir()
    try:
        data = json.loads(state_file(directory).read_text())
    except FileNotFoundError:
        raise LabError(NO_LAB) from None
    return LabState.from_json(data, directory)


def save_state(state: LabState) -> None:
    """Write atomically, so readers never see half a file."""
    path = state_file(state.directory)
    temporary = path.with_suffix(f".tmp{os.getpid()}")
    temporary.write_text(json.dumps(state.to_json(), indent=2) + "\n")
    temporary.replace(path)


def status_rows(state: LabState) -> list[dict[str, Any]]:
    """One row per node, as `nordkube lab status --json` prints them."""
    return [
        {
            "name": node.name,
            "state": "running" if state.is_node_running(node.name) else "stopped",
            "ssh_host": "127.0.0.1",
            "ssh_port": node.ssh_port,
            "ssh_user": LAB_USER,
            "ssh_key": str(state.ssh_key),
            "known_hosts": str(state.known_hosts),
            "private_ip": node.private_ip,
            "mtu": node.mtu,
            "path_mtu": node.path_mtu,
            "roles": list(node.roles),
        }
        for node in state.nodes
    ]

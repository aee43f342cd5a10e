"""The running lab as pyinfra inventory groups (used by inventories/lab.py)."""

from __future__ import annotations

from typing import Any

from nordkube.lab.spec import PRIVATE_INTERFACE, NodePlan
from nordkube.lab.state import SSH_USER, LabState, load_state

HostEntry = tuple[str, dict[str, Any]]
GROUPS = ("control_plane", "etcd", "workers")
_GROUP_OF_ROLE = {"control_plane": "control_plane", "etcd": "etcd", "worker": "workers"}


def host_data(state: LabState, node: NodePlan) -> dict[str, Any]:
    """pyinfra host data (keys as pyinfra's SSH connector names them) for one node."""
    data: dict[str, Any] = {
        "ssh_hostname": "127.0.0.1",
        "ssh_port": node.ssh_port,
        "ssh_user": SSH_USER,
        "ssh_key": str(state.ssh_key),
        "ssh_known_hosts_file": str(state.known_hosts),
        "ssh_strict_host_key_checking": "yes",
        "_sudo": True,
        "private_interface": PRIVATE_INTERFACE,
    }
    if node.etcd_device:
        data["etcd_device"] = node.etcd_device
    return data


def inventory_groups(state: LabState) -> dict[str, list[HostEntry]]:
    """Each group's hosts, in node order; a node is in one group per role."""
    groups: dict[str, list[HostEntry]] = {group: [] for group in GROUPS}
    for node in state.nodes:
        for role in node.roles:
            groups[_GROUP_OF_ROLE[role]].append((node.name, host_data(state, node)))
    return groups


def lab_inventory() -> dict[str, list[HostEntry]]:
    """The running lab's groups; a LabError saying how to start one when none runs."""
    return inventory_groups(load_state())

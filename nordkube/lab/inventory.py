"""The running lab as pyinfra inventory groups (used by inventories/lab.py)."""

from __future__ import annotations

from typing import Any

from nordkube.inventory import CONTROL_PLANE, ETCD, ROLE_GROUPS, WORKERS
from nordkube.lab.spec import NODE_NETWORK, PRIVATE_INTERFACE, NodePlan
from nordkube.lab.state import LAB_USER, LabState, load_state

HostEntry = tuple[str, dict[str, Any]]
GROUPS = ROLE_GROUPS
_GROUP_OF_ROLE = {"control_plane": CONTROL_PLANE, "etcd": ETCD, "worker": WORKERS}


# Settings the lab's images force. Guests reach only Debian's mirror, so containerd must come
# from Debian: bookworm's 1.6.20 is recommended by containerd up to Kubernetes 1.28
# (nordkube.support); trixie's 1.7.24 runs the default. pkgs.k8s.io is not reachable either.
_IMAGE_SETTINGS: dict[str, dict[str, Any]] = {
    "debian-12": {"kubernetes_version": "1.28.15"},
    "debian-13": {},
}


def host_data(state: LabState, node: NodePlan) -> dict[str, Any]:
    """pyinfra host data (keys as pyinfra's SSH connector names them) for one node."""
    data: dict[str, Any] = {
        **_IMAGE_SETTINGS[state.spec.image],
        "kubernetes_package_source": "none",
        "node_network": str(NODE_NETWORK),
        "ssh_hostname": "127.0.0.1",
        "ssh_port": node.ssh_port,
        "ssh_user": LAB_USER,
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

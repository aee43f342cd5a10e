"""The lab's shape and each node's identity, as pure functions of the user's request.

Nothing here touches the host, so ports, MACs, UUIDs, roles and validation are unit-tested
directly. Identities are deterministic per node name: a re-created lab looks the same.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from nordkube.lab.errors import LabError

# The lab's default base image. Guests reach only Debian's mirror and the offline bundle:
# bookworm's own containerd (1.6.20) supports no maintained Kubernetes minor, so its nodes run
# the bundle's containerd 2.x, as an air-gapped Debian 12 site would.
DEFAULT_IMAGE = "debian-12"

# The sudo user of every lab node (made in the base image; pyinfra and testinfra log in as it).
LAB_USER = "nordkube"

NODE_NETWORK = ipaddress.IPv4Network("192.168.77.0/24")
PRIVATE_INTERFACE = "eth1"
# The resolver in every node's resolv.conf: an address of the private segment no node holds
# (nodes take .11 onwards), so nothing answers and no lookup leaves the lab.
LAB_RESOLVER = str(NODE_NETWORK.network_address + 2)
ETCD_DEVICE = "/dev/nvme0n1"
DEFAULT_SSH_PORT_BASE = 2220  # node i listens on 127.0.0.1:(base + i)
MAX_NODES = 9  # 2 cores emulate every guest: more would not boot in any useful time
# vde2 carries at most 1500-byte IP packets; below 576 IPv4 itself breaks.
MIN_MTU, MAX_MTU = 576, 1500
# wirefilter's -m counts an IP packet's 14-byte Ethernet header and 2 bytes more. Measured:
# with -m 1414, DF pings of 1398-byte IP packets pass and of 1399 bytes are dropped.
WIREFILTER_OVERHEAD = 16
# Locally administered, QEMU's own prefix; the 4th octet tells the NIC apart.
MAC_PREFIX = "52:54:00"
MGMT_NIC, PRIVATE_NIC = 0x4E, 0x50
UUID_NAMESPACE = uuid.UUID("6f1c1f2e-5d2b-4c59-9a57-6e6f72646b75")
_SIZE = re.compile(r"^[1-9][0-9]*[MG]$")


@dataclass(frozen=True)
class LabSpec:
    """What `nordkube lab up` was asked for. Two labs of equal specs have the same shape."""

    nodes: int = 3
    control_planes: int = 1
    image: str = DEFAULT_IMAGE
    mtu: int = 1500
    node_mtu: Mapping[str, int] = field(default_factory=dict)
    path_mtu: Mapping[str, int] = field(default_factory=dict)
    delay_ms: Mapping[str, int] = field(default_factory=dict)
    nvme_size: str = "2G"
    # The lab inventory's stages: node preparation only, or every stage (the cluster formed).
    cluster: bool = False

    def to_json(self) -> dict[str, object]:
        return asdict(self) | {
            "node_mtu": dict(sorted(self.node_mtu.items())),
            "path_mtu": dict(sorted(self.path_mtu.items())),
            "delay_ms": dict(sorted(self.delay_ms.items())),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> LabSpec:
        return cls(**data)  # type: ignore[arg-type]


@dataclass(frozen=True)
class NodePlan:
    """One node's identity and wiring, derived from the spec and its position."""

    name: str
    index: int
    roles: tuple[str, ...]
    ssh_port: int
    private_ip: str
    mtu: int
    path_mtu: int | None
    delay_ms: int
    mgmt_mac: str
    private_mac: str
    uuid: str
    etcd_device: str | None


def node_name(index: int) -> str:
    return f"node{index}"


def parse_assignment(text: str) -> tuple[str, int]:
    """Parse a NAME=VALUE option (`node2=1450`) into a name and a non-negative integer."""
    name, sep, value = text.partition("=")
    if not sep or not name or not value.isdigit():
        raise ValueError(f"expected NAME=NUMBER (like node2=1450), got {text!r}")
    return name, int(value)


def validate(spec: LabSpec) -> None:
    """Stop on a request the lab cannot honour, naming the option and what would work."""
    if not 1 <= spec.nodes <= MAX_NODES:
        raise LabError(f"--nodes {spec.nodes}: choose 1 to {MAX_NODES}")
    if not 1 <= spec.control_planes <= spec.nodes:
        raise LabError(
            f"--control-planes {spec.control_planes}: choose 1 to --nodes ({spec.nodes})"
        )
    if not _SIZE.match(spec.nvme_size):
        raise LabError(f"--nvme-size {spec.nvme_size!r}: give a size like 2G or 512M")
    _check_mtu("--mtu", spec.mtu)
    names = {node_name(index) for index in range(1, spec.nodes + 1)}
    for option, values in (
        ("--node-mtu", spec.node_mtu),
        ("--path-mtu", spec.path_mtu),
        ("--delay", spec.delay_ms),
    ):
        for name, value in values.items():
            if name not in names:
                raise LabError(
                    f"{option} {name}={value}: no such node (nodes are node1..node{spec.nodes})"
                )
            if option != "--delay":
                _check_mtu(f"{option} {name}", value)


def _check_mtu(option: str, value: int) -> None:
    if not MIN_MTU <= value <= MAX_MTU:
        raise LabError(f"{option} {value}: choose an MTU from {MIN_MTU} to {MAX_MTU}")


def plan_nodes(spec: LabSpec, ssh_port_base: int = DEFAULT_SSH_PORT_BASE) -> list[NodePlan]:
    """Every node's identity: the first `control_planes` nodes run the control plane and etcd."""
    validate(spec)
    return [_plan_node(spec, index, ssh_port_base) for index in range(1, spec.nodes + 1)]


def _plan_node(spec: LabSpec, index: int, ssh_port_base: int) -> NodePlan:
    name = node_name(index)
    control_plane = index <= spec.control_planes
    return NodePlan(
        name=name,
        index=index,
        roles=("control_plane", "etcd") if control_plane else ("worker",),
        ssh_port=ssh_port_base + index,
        private_ip=str(NODE_NETWORK.network_address + 10 + index),
        mtu=spec.node_mtu.get(name, spec.mtu),
        path_mtu=spec.path_mtu.get(name),
        delay_ms=spec.delay_ms.get(name, 0),
        mgmt_mac=mac_address(MGMT_NIC, index),
        private_mac=mac_address(PRIVATE_NIC, index),
        uuid=str(uuid.uuid5(UUID_NAMESPACE, name)),
        etcd_device=ETCD_DEVICE if control_plane else None,
    )


def mac_address(nic: int, index: int) -> str:
    return f"{MAC_PREFIX}:{nic:02x}:00:{index:02x}"


def wirefilter_mtu(path_mtu: int) -> int:
    """wirefilter's -m value that lets IP packets of exactly `path_mtu` bytes pass, no larger."""
    return path_mtu + WIREFILTER_OVERHEAD


def shape_difference(running: LabSpec, requested: LabSpec) -> list[str]:
    """The options whose values differ between the running lab and a new request."""
    running_json, requested_json = running.to_json(), requested.to_json()
    return [
        f"{key}: running {running_json[key]!r}, requested {requested_json[key]!r}"
        for key in running_json
        if running_json[key] != requested_json[key]
    ]

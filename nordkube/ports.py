"""The ports a node of the cluster needs, and which process may hold each (docs/domain.md,
"kubeadm preflight and ports"). Pure: the doctor judges a node's listening sockets with it."""

from __future__ import annotations

from dataclasses import dataclass

from nordkube import kubeadm

# Which nodes need a port.
EVERY_NODE = "every node"
CONTROL_PLANE = "control-plane nodes"
ETCD = "etcd members"


@dataclass(frozen=True)
class Port:
    number: int
    protocol: str  # "tcp" or "udp"
    # Process names that may hold it, as ss prints them (the kernel's comm: at most 15
    # characters, so kube-controller-manager is "kube-controller"); () is the kernel's own
    # socket (a VXLAN device's), which no process holds.
    owners: tuple[str, ...]
    purpose: str
    needed_on: str
    # The pod networks that need it, as nordkube.overlay.encapsulation names them; () is all.
    networks: tuple[tuple[str, str], ...] = ()


PORTS = (
    Port(kubeadm.API_PORT, "tcp", ("kube-apiserver",), "the Kubernetes API", CONTROL_PLANE),
    Port(2379, "tcp", ("etcd",), "etcd's clients", ETCD),
    Port(2380, "tcp", ("etcd",), "etcd's peers", ETCD),
    Port(10250, "tcp", ("kubelet",), "the kubelet's API", EVERY_NODE),
    Port(10256, "tcp", ("kube-proxy",), "kube-proxy's health check", EVERY_NODE),
    Port(10257, "tcp", ("kube-controller",), "the controller-manager", CONTROL_PLANE),
    Port(10259, "tcp", ("kube-scheduler",), "the scheduler", CONTROL_PLANE),
    # Flannel's VXLAN device uses the Linux default port 8472, Calico's IANA's 4789.
    Port(
        8472,
        "udp",
        (),
        "Flannel's VXLAN traffic",
        EVERY_NODE,
        (("flannel", "vxlan"), ("canal", "vxlan")),
    ),
    Port(4789, "udp", (), "Calico's VXLAN traffic", EVERY_NODE, (("calico", "vxlan"),)),
    Port(
        179,
        "tcp",
        ("bird",),
        "Calico's BGP sessions",
        EVERY_NODE,
        (("calico", "none"), ("calico", "ipip")),
    ),
)
# Services of type NodePort listen here on every node (kube-apiserver's default range).
NODE_PORT_RANGE = range(30000, 32768)
NODE_PORT_OWNERS = ("kube-proxy",)

"""State that running components own: they set it themselves, so it is never drift.

One list, read by `nordkube drift` (every item it would report passes through `owner`) and by
the tests that keep the deploy from declaring what a component sets (docs/domain.md, "State
owned by running components"). Pure: no pyinfra.

An entry names the component, the kind of state and a glob over its names, and when it
applies. Where a component sets a value the deploy also declares (the kubelet sets
vm.overcommit_memory, kernel.panic and kernel.panic_on_oops to the values nordkube/node.py
gives them; kube-proxy in IPVS mode sets net.ipv4.ip_forward to 1), the key stays the
deploy's desired state and is not listed here: a node where it differs has drifted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from nordkube.settings import Settings

# The kinds of state a drift item can be about.
SYSCTL = "sysctl"
FILE = "file"
MODULE = "module"
PACKAGE = "package"
SERVICE = "service"


def _always(settings: Settings) -> bool:
    return True


def _ipvs(settings: Settings) -> bool:
    return settings.kube_proxy_mode == "ipvs"


def _ipvs_strict_arp(settings: Settings) -> bool:
    return settings.kube_proxy_mode == "ipvs" and settings.ipvs_strict_arp


def _iptables(settings: Settings) -> bool:
    return settings.kube_proxy_mode == "iptables"


@dataclass(frozen=True)
class Owned:
    """State a running component sets itself."""

    component: str
    kind: str
    pattern: str  # fnmatch glob over the state's name (a sysctl key, a path, a module)
    reason: str
    applies: Callable[[Settings], bool] = _always


OWNED: tuple[Owned, ...] = (
    # kube-proxy, pkg/proxy/ipvs/proxier.go: the IPVS keys it sets at start-up
    # (conntrack, conn_reuse_mode, expire_nodest_conn, expire_quiescent_template).
    Owned("kube-proxy", SYSCTL, "net.ipv4.vs.*", "kube-proxy sets its IPVS keys", _ipvs),
    Owned(
        "kube-proxy",
        SYSCTL,
        "net.ipv4.conf.all.arp_ignore",
        "kube-proxy sets arp_ignore=1 with strictARP",
        _ipvs_strict_arp,
    ),
    Owned(
        "kube-proxy",
        SYSCTL,
        "net.ipv4.conf.all.arp_announce",
        "kube-proxy sets arp_announce=2 with strictARP",
        _ipvs_strict_arp,
    ),
    # kube-proxy's conntrack configuration (cmd/kube-proxy/app/conntrack.go): the table size
    # from conntrack.maxPerCore and the TCP timeouts, in every mode.
    Owned(
        "kube-proxy",
        SYSCTL,
        "net.netfilter.nf_conntrack_max",
        "kube-proxy sizes the conntrack table (conntrack.maxPerCore)",
    ),
    Owned(
        "kube-proxy",
        SYSCTL,
        "net.netfilter.nf_conntrack_tcp_timeout_*",
        "kube-proxy sets the conntrack TCP timeouts",
    ),
    Owned(
        "kube-proxy",
        SYSCTL,
        "net.ipv4.conf.all.route_localnet",
        "kube-proxy allows NodePorts on localhost (iptables mode; nftables mode has none)",
        _iptables,
    ),
    # The kubelet, pkg/kubelet/cm/container_manager_linux.go (setupKernelTunables): the keys
    # it sets that the deploy does not declare.
    Owned(
        "kubelet",
        SYSCTL,
        "kernel.keys.root_max*",
        "the kubelet raises root's key quotas (root_maxkeys, root_maxbytes)",
    ),
    Owned("kubelet", SYSCTL, "vm.panic_on_oom", "the kubelet sets vm.panic_on_oom=0"),
    Owned("kubelet", FILE, "/var/lib/kubelet/*", "the kubelet's own state and certificates"),
    # The CNI: keys of the interfaces it creates and removes as pods come and go (its bridge,
    # VXLAN device and the pods' veth ends), and the files its install step writes.
    *(
        Owned("CNI", SYSCTL, f"net.ipv[46].conf.{interface}*", f"the CNI configures {interface}")
        for interface in ("cni0", "flannel", "cali", "veth", "vxlan", "tunl0")
    ),
    Owned("CNI", FILE, "/etc/cni/net.d/*", "the CNI's install step writes its network config"),
    Owned("CNI", FILE, "/opt/cni/bin/*", "the CNI's install step copies its plugins"),
    Owned("CNI", FILE, "/run/flannel/*", "flanneld writes its subnet lease"),
    # containerd's own state: images, snapshots, sockets, task state.
    Owned("containerd", FILE, "/var/lib/containerd/*", "containerd's images and snapshots"),
    Owned("containerd", FILE, "/run/containerd/*", "containerd's sockets and task state"),
)


def owner(kind: str, name: str, settings: Settings) -> Owned | None:
    """The component that owns this piece of state on a host with these settings, if any."""
    for entry in OWNED:
        if entry.kind == kind and fnmatchcase(name, entry.pattern) and entry.applies(settings):
            return entry
    return None

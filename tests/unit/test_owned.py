"""State owned by running components: the one list drift excludes, and the deploy never
declaring what a component sets (so a converged cluster reports clean)."""

from __future__ import annotations

from fnmatch import fnmatchcase

import pytest

from nordkube import node, owned
from nordkube.drift.model import CHECK, HostResult, Item
from nordkube.drift.run import _owner
from nordkube.managed import MANAGED_FILES, MANAGED_SERVICES
from nordkube.settings import IPVS_SCHEDULERS, KUBE_PROXY_MODES, Settings

IPVS = Settings(kube_proxy_mode="ipvs", ipvs_strict_arp=True)
IPVS_NO_STRICT_ARP = Settings(kube_proxy_mode="ipvs", ipvs_strict_arp=False)
NFTABLES = Settings(kube_proxy_mode="nftables")
IPTABLES = Settings(kube_proxy_mode="iptables")


@pytest.mark.parametrize(
    ("kind", "name", "settings", "component"),
    [
        (owned.SYSCTL, "net.ipv4.vs.conntrack", IPVS, "kube-proxy"),
        (owned.SYSCTL, "net.ipv4.vs.conn_reuse_mode", IPVS, "kube-proxy"),
        (owned.SYSCTL, "net.ipv4.vs.conntrack", NFTABLES, None),
        (owned.SYSCTL, "net.ipv4.conf.all.arp_ignore", IPVS, "kube-proxy"),
        (owned.SYSCTL, "net.ipv4.conf.all.arp_announce", IPVS, "kube-proxy"),
        (owned.SYSCTL, "net.ipv4.conf.all.arp_ignore", IPVS_NO_STRICT_ARP, None),
        (owned.SYSCTL, "net.netfilter.nf_conntrack_max", NFTABLES, "kube-proxy"),
        (owned.SYSCTL, "net.ipv4.conf.all.route_localnet", IPTABLES, "kube-proxy"),
        (owned.SYSCTL, "net.ipv4.conf.all.route_localnet", NFTABLES, None),
        (owned.SYSCTL, "kernel.keys.root_maxkeys", IPVS, "kubelet"),
        (owned.SYSCTL, "net.ipv4.conf.flannel/1.rp_filter", IPVS, "CNI"),
        (owned.SYSCTL, "net.ipv4.conf.cni0.forwarding", IPVS, "CNI"),
        (owned.SYSCTL, "net.ipv6.conf.veth1a2b3c.disable_ipv6", IPVS, "CNI"),
        (owned.SYSCTL, "net.ipv4.conf.eth1.rp_filter", IPVS, None),
        (owned.FILE, "/etc/cni/net.d/10-flannel.conflist", IPVS, "CNI"),
        (owned.FILE, "/var/lib/containerd/io.containerd.content.v1.content", IPVS, "containerd"),
        # Values a component sets that the deploy declares too stay the deploy's.
        (owned.SYSCTL, "net.ipv4.ip_forward", IPVS, None),
        (owned.SYSCTL, "vm.overcommit_memory", IPVS, None),
        (owned.SYSCTL, "kernel.panic", IPVS, None),
    ],
)
def test_owner(kind: str, name: str, settings: Settings, component: str | None) -> None:
    found = owned.owner(kind, name, settings)
    assert (found.component if found else None) == component


def _every_settings() -> list[Settings]:
    return [
        Settings(kube_proxy_mode=mode, ipvs_scheduler=scheduler, ipvs_strict_arp=strict)
        for mode in KUBE_PROXY_MODES
        for scheduler in IPVS_SCHEDULERS
        for strict in (True, False)
    ]


@pytest.mark.parametrize("settings", _every_settings(), ids=repr)
def test_the_deploy_declares_no_state_a_component_owns(settings: Settings) -> None:
    """What the deploy sets, the drift check compares: none of it may be owned state."""
    declared = (
        [(owned.SYSCTL, key) for key in node.SYSCTLS]
        + [(owned.FILE, path) for path in MANAGED_FILES]
        + [(owned.SERVICE, service) for service in MANAGED_SERVICES]
        + [(owned.MODULE, module) for module in node.candidate_modules(settings)]
    )
    assert [(kind, name) for kind, name in declared if owned.owner(kind, name, settings)] == []


def test_every_entry_is_a_known_kind_with_a_reason() -> None:
    kinds = {owned.SYSCTL, owned.FILE, owned.MODULE, owned.PACKAGE, owned.SERVICE}
    for entry in owned.OWNED:
        assert entry.kind in kinds and entry.reason and entry.component
        assert not fnmatchcase("", entry.pattern)


def test_drift_moves_owned_items_aside_naming_the_component() -> None:
    conntrack = Item(
        "node1",
        "kernel",
        CHECK,
        "test_sysctl_live[net.ipv4.vs.conntrack]",
        "test_sysctl_live[net.ipv4.vs.conntrack]",
        subject="sysctl:net.ipv4.vs.conntrack",
    )
    found = _owner(conntrack, IPVS)
    assert found is not None and found.component == "kube-proxy"
    assert _owner(conntrack, NFTABLES) is None
    assert HostResult("node1", excluded=[conntrack]).verdict == "clean"

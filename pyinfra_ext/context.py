"""What every role needs about the current host: its settings and validated platform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyinfra import host
from pyinfra.api import Host, State
from pyinfra.context import ctx_state

from nordkube import kubeadm
from nordkube.bundle.install import bundled_containerd
from nordkube.etcd_disk import ETCD_MOUNT, GATE_RESULT
from nordkube.inventory import CONTROL_PLANE, ROLE_GROUPS, inventory_hosts
from nordkube.settings import STAGES, Problem, Settings
from nordkube.support import (
    ContainerdChoice,
    ContainerdOffer,
    Platform,
    choose_containerd,
    find_platform,
)
from nordkube.validation import etcd_hosts, private_interface
from pyinfra_ext import factcache
from pyinfra_ext.facts import (
    ClusterState,
    ContainerdPackages,
    EtcdDiskState,
    KubeadmState,
    NodeFacts,
)


@dataclass(frozen=True)
class HostContext:
    settings: Settings
    platform: Platform
    facts: dict
    # Where containerd comes from, decided from what the host's package manager offers.
    containerd: ContainerdChoice


def containerd_offer(platform: Platform, target: Host | None = None) -> ContainerdOffer:
    """What the package manager of `target` (default: the current host) says about
    containerd; read once per run."""
    answer = factcache.read(ContainerdPackages, target, manager=platform.package_manager)
    return ContainerdOffer.from_fact(answer)


def current() -> HostContext:
    """Settings and platform of the host being prepared (validated before any role runs)."""
    settings = Settings.from_data(host.data.dict(), host.name)
    node = factcache.read(NodeFacts)
    platform = find_platform(node["os_id"], node["version_id"])
    assert platform is not None, "roles.validate refuses unsupported hosts first"
    choice = choose_containerd(
        platform,
        settings.kubernetes_minor(),
        containerd_offer(platform),
        bundled_containerd(settings),
    )
    assert choice is not None, "roles.validate refuses unsupported Kubernetes/OS pairs first"
    return HostContext(settings, platform, node, choice)


@dataclass(frozen=True)
class ClusterView:
    """The cluster this run forms or grows, seen from every host in it; made once per run
    (cluster()). `plan` says who initialises and who joins; `states` where each node stands."""

    inventory: str  # the inventory's name (the group pyinfra names after its file)
    members: dict[str, kubeadm.Member]  # by host name, in inventory order
    control_planes: tuple[kubeadm.Member, ...]
    workers: tuple[kubeadm.Member, ...]
    cgroups: dict[str, str]
    interfaces: dict[str, str]  # each host's private NIC
    mtus: dict[str, int]  # and its MTU
    states: dict[str, kubeadm.NodeState]
    plan: kubeadm.JoinPlan
    # What stops the run before any change: half-finished kubeadm steps, a join without the
    # first control-plane node, a node at another release.
    problems: tuple[Problem, ...]

    @property
    def first(self) -> kubeadm.Member:
        return self.control_planes[0]


_CLUSTER = "_nordkube_cluster_view"


def prepares_etcd_disk(target: Host) -> bool:
    """Whether the etcd stage runs on `target` and it has an etcd disk: an etcd host (the
    etcd group, or the control plane when stacked) with etcd_device set."""
    settings = Settings.from_data(target.data.dict(), target.name)
    if "etcd" not in (settings.stages or STAGES) or not settings.etcd_device:
        return False

    def names() -> frozenset[str]:
        # etcd_topology is cluster-wide: any host's settings say who runs etcd. Once per run,
        # not once per host over the whole inventory.
        hosts = inventory_hosts(ctx_state.get().inventory)
        return frozenset(each.name for each in etcd_hosts(hosts, settings))

    return target.name in factcache.once("etcd-hosts", names)


def etcd_disk_state(target: Host | None = None) -> dict[str, Any]:
    """EtcdDiskState of `target` (default: the current host), read once per run."""
    each = target or host
    settings = Settings.from_data(each.data.dict(), each.name)
    return factcache.read(
        EtcdDiskState,
        target,
        device=settings.etcd_device,
        mount=ETCD_MOUNT,
        result=GATE_RESULT,
    )


def forms_cluster(target: Host) -> bool:
    """Whether a cluster stage (kubernetes, network) runs on `target`."""
    return kubeadm.forms_cluster(Settings.from_data(target.data.dict(), target.name))


def cluster() -> ClusterView:
    """The cluster of this run's hosts that run the kubernetes stage, read once per run:
    NodeFacts and KubeadmState of each, ClusterState of the first control-plane node."""
    state = ctx_state.get()
    view = getattr(state, _CLUSTER, None)
    if view is None:
        view = _cluster_view(state)
        setattr(state, _CLUSTER, view)
    return view


def _cluster_view(state: State) -> ClusterView:
    hosts = [each for each in state.inventory if forms_cluster(each)]
    active = {each.name for each in state.inventory.get_active_hosts()}
    members: dict[str, kubeadm.Member] = {}
    cgroups, interfaces, mtus = {}, {}, {}
    for each in hosts:
        if each.name not in active:
            continue
        settings = Settings.from_data(each.data.dict(), each.name)
        facts = factcache.read(NodeFacts, each)
        interface, _ = private_interface(settings, facts)
        assert interface, "roles.validate refuses a host without its private interface"
        nic = facts["interfaces"][interface]
        address = kubeadm.private_address(settings, nic)
        assert address, "roles.validate refuses a private interface without an address"
        members[each.name] = kubeadm.Member(
            each.name,
            kubeadm.node_name(facts["hostname"]),
            address,
            CONTROL_PLANE in _group_names(each),
        )
        cgroups[each.name] = facts["cgroup"]
        interfaces[each.name] = interface
        mtus[each.name] = nic["mtu"]
    control_plane_names = [each.name for each in hosts if CONTROL_PLANE in _group_names(each)]
    worker_names = [each.name for each in hosts if each.name not in control_plane_names]
    states: dict[str, kubeadm.NodeState] = {}
    versions: list[Problem] = []
    for name in members:
        node = factcache.read(KubeadmState, state.inventory.get_host(name))
        settings = Settings.from_data(state.inventory.get_host(name).data.dict(), name)
        problem = kubeadm.version_problem(name, node, settings.kubernetes_version)
        if problem:
            versions.append(problem)
        if name == control_plane_names[0]:
            answer = factcache.read(ClusterState, state.inventory.get_host(name))
            states[name] = kubeadm.first_control_plane_state(node, answer)
        else:
            states[name] = kubeadm.joining_node_state(node, name in control_plane_names)
    for name in control_plane_names + worker_names:
        states.setdefault(name, kubeadm.NodeState(kubeadm.FRESH))
    plan = kubeadm.join_plan(control_plane_names, worker_names, states, members)
    return ClusterView(
        inventory=kubeadm.inventory_name((_group_names(each) for each in hosts), ROLE_GROUPS),
        members=members,
        control_planes=tuple(members[n] for n in control_plane_names if n in members),
        workers=tuple(members[n] for n in worker_names if n in members),
        cgroups=cgroups,
        interfaces=interfaces,
        mtus=mtus,
        states=states,
        plan=plan,
        problems=(*kubeadm.state_problems(states), *plan.problems, *versions),
    )


def _group_names(target: Host) -> set[str]:
    return {group.name if hasattr(group, "name") else str(group) for group in target.groups}

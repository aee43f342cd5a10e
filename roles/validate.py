"""Stage validate: refuse bad settings or unfit hosts before any change on any host."""

from __future__ import annotations

from pyinfra import host, inventory, logger
from pyinfra.api import DeployError, Host, deploy

from nordkube import bootstate, etcd_disk, node
from nordkube.inventory import inventory_hosts
from nordkube.managed import SYSCTL_FILE
from nordkube.settings import Problem, Settings
from nordkube.support import ContainerdOffer, find_platform
from nordkube.validation import (
    HostReport,
    check_host,
    check_unique_identities,
    validate_inventory,
)
from pyinfra_ext import context, factcache
from pyinfra_ext.facts import BootConfig, KernelModules, NodeFacts


def _fail(problems: list) -> None:
    lines = "\n".join(f"  {problem}" for problem in problems)
    raise DeployError(f"{len(problems)} problem(s), nothing was changed on any host:\n{lines}")


def _boot_state_problems(target: Host, settings: Settings) -> list[Problem]:
    """What the node's own files would undo at boot of what the kernel stage persists: a
    later sysctl.d file setting a key otherwise, a modprobe.d rule that keeps a module out.

    The deploy does not override another administrator's files; it stops and names them.
    """
    candidates = tuple(node.candidate_modules(settings))
    probed = factcache.read(KernelModules, target, modules=candidates)
    modules = node.modules_to_persist(node.required_modules(settings, probed), probed)
    own = bootstate.ConfigFile(
        SYSCTL_FILE, SYSCTL_FILE, tuple(node.render_sysctl_file(node.SYSCTLS).splitlines())
    )
    boot = factcache.read(BootConfig, target)
    return bootstate.boot_state_problems(target.name, boot, node.SYSCTLS, own, modules)


def _etcd_disk_problem(each: Host) -> Problem | None:
    settings = Settings.from_data(each.data.dict(), each.name)
    state = context.etcd_disk_state(each)
    if each not in inventory.get_active_hosts():
        return None  # reading the fact failed: pyinfra dropped the host and names the fact
    plan = etcd_disk.plan_disk(each.name, settings, state)
    return plan if isinstance(plan, Problem) else None


def _host_report(each: Host) -> tuple[HostReport, Host] | None:
    """Judge one host's facts; None when reading them failed (pyinfra then drops the host)."""
    settings = Settings.from_data(each.data.dict(), each.name)
    node_facts = factcache.read(NodeFacts, each)
    if each not in inventory.get_active_hosts():
        return None
    platform = find_platform(node_facts["os_id"], node_facts["version_id"])
    offer = context.containerd_offer(platform, each) if platform else ContainerdOffer()
    if each not in inventory.get_active_hosts():
        return None
    return check_host(each.name, settings, node_facts, containerd=offer), each


def _judge_every_host() -> dict[str, tuple[HostReport, Host]]:
    """Every check over the inventory and the reachable hosts, done once per run (every
    host's deploy gets the same verdict), each host's facts read in parallel: a run over N
    hosts reads each host's facts once instead of judging the whole inventory N times over.
    Raises DeployError naming every problem."""
    problems = validate_inventory(inventory_hosts(inventory))
    if problems:
        _fail(problems)

    judged = factcache.each_host(_host_report, inventory.get_active_hosts())
    reports = {name: result for name, result in judged.items() if result is not None}
    errors = [problem for report, _ in reports.values() for problem in report.errors]
    errors += check_unique_identities(
        {name: factcache.read(NodeFacts, each) for name, (_, each) in reports.items()},
        {name: report.private_interface for name, (report, _) in reports.items()},
    )
    if errors:
        _fail(errors)
    # Hosts fit so far: would their own files undo the persisted state at the next boot?
    boot = factcache.each_host(
        lambda each: _boot_state_problems(each, Settings.from_data(each.data.dict(), each.name)),
        [each for _, each in reports.values()],
    )
    errors = [problem for problems in boot.values() for problem in problems]
    if errors:
        _fail(errors)
    # etcd's disks: one that holds data, is mounted elsewhere or is not the disk it should be
    # stops the run before anything is formatted (nordkube/etcd_disk.py).
    disks = factcache.each_host(
        _etcd_disk_problem,
        [each for _, each in reports.values() if context.prepares_etcd_disk(each)],
    )
    errors = [problem for problem in disks.values() if problem is not None]
    if errors:
        _fail(errors)
    # Where the cluster stands: a half-finished kubeadm step stops the run, never repeated.
    if any(context.forms_cluster(each) for _, each in reports.values()):
        view = context.cluster()
        if view.problems:
            _fail(list(view.problems))
    return reports


@deploy("Validate settings, inventory and host facts")
def validate() -> None:
    """Read-only checks, first for the inventory, then for every reachable host.

    Reads every setting (nordkube/settings.py): kubernetes_version, allow_cgroup_v1,
    kube_proxy_mode, private_interface, private_address, node_network, node_mtu, the
    network ranges, etcd_topology and etcd_device; and NodeFacts of all reachable hosts, so
    hostname, machine-id, product_uuid and the private NIC's MAC are compared across the run,
    with ContainerdPackages (which containerd the host's package manager offers).
    Once every host passes those, their BootConfig and KernelModules: whether a file of the
    node's own would undo at the next boot what the kernel stage persists. Where the etcd
    stage runs: each etcd host's EtcdDiskState (etcd_device, etcd_wipe_device,
    etcd_allow_non_nvme), so a disk that holds data is refused before anything is formatted.
    Where a cluster stage runs: every cluster host's KubeadmState and the first control-plane node's
    ClusterState, so a half-finished init or join stops the run before any change.
    """
    reports = factcache.once("validate", _judge_every_host)
    if host.name not in reports:
        return  # pyinfra dropped this host while judging it (a fact failed) and names it
    for warning in reports[host.name][0].warnings:
        logger.warning(f"{host.print_prefix}warning: {warning}")

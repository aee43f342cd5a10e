"""Stage etcd: etcd's own disk, formatted only while blank, mounted by UUID with noatime at
/var/lib/etcd, and the fsync gate (fio's etcd WAL job on it) before etcd starts. Stacked etcd
(kubeadm's local etcd) keeps its data in /var/lib/etcd/data, on that disk."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy

from nordkube import etcd_disk
from nordkube.etcd_disk import ETCD_MOUNT
from nordkube.settings import Problem
from pyinfra_ext import context
from pyinfra_ext.etcd import disk_uuid, etcd_disk_mounted, etcd_fsync_gated
from pyinfra_ext.operations import packages_installed

MKFS_PACKAGES = {"ext4": "e2fsprogs", "xfs": "xfsprogs"}


@deploy("Prepare etcd's disk")
def etcd() -> None:
    """Reads: etcd_device, etcd_wipe_device, etcd_allow_non_nvme, etcd_filesystem,
    etcd_fsync_p99_max_ms, etcd_fsync_probe_mb, etcd_accept_slow_disk, etcd_topology; facts:
    EtcdDiskState.
    Nothing on a host that runs no etcd or has no etcd_device."""
    if not context.prepares_etcd_disk(host):
        return
    ctx = context.current()
    settings = ctx.settings
    state = context.etcd_disk_state()
    plan = etcd_disk.plan_disk(host.name, settings, state)
    assert not isinstance(plan, Problem), "roles.validate refuses such a disk first"
    packages_installed(
        name="Ensure fio and the filesystem's tools are installed",
        manager=ctx.platform.package_manager,
        packages=["fio", MKFS_PACKAGES[plan.fstype]],
    )
    uuid = disk_uuid(plan)
    erasing = (
        f", erasing what it holds first (etcd_wipe_device): {', '.join(plan.holds)} "
        f"(wipefs: {'; '.join(plan.erases)})"
        if plan.action == etcd_disk.WIPE
        else ""
    )
    etcd_disk_mounted(
        name=f"Ensure {plan.device} is mounted at {ETCD_MOUNT} by UUID with noatime{erasing}",
        plan=plan,
        uuid=uuid,
    )
    etcd_fsync_gated(
        name=(
            f"Ensure etcd's disk passes the fsync gate (p99 <= {settings.etcd_fsync_p99_max_ms} ms)"
        ),
        device=plan.device,
        uuid=uuid,
        stored=state.get("gate"),
        limit=settings.etcd_fsync_p99_max_ms,
        accept=settings.etcd_accept_slow_disk,
        size_mb=settings.etcd_fsync_probe_mb,
    )

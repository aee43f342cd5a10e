"""etcd's own disk: what the etcd stage may do to it, decided from what the host reports
(pyinfra_ext.facts.EtcdDiskState), and the fsync gate's verdict. Pure: unit-tested directly.

The rules that keep data: a disk is formatted only while blank (no filesystem, partition
table, partition or any other signature wipefs or blkid finds) or when etcd_wipe_device names
exactly that etcd_device; never while it or a partition of it is mounted; never over an etcd
data directory that already holds data on another disk. A filesystem this project made
(label nordkube-etcd) is mounted again, never re-made. The mount is by UUID, so a disk the
kernel names differently after a reboot still mounts at the same place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nordkube.settings import Problem, Settings

# The disk's mount point, and etcd's data directory on it (kubeadm's dataDir): a fresh
# filesystem's root holds lost+found, which kubeadm's preflight check that the data directory
# is empty (DirAvailable) would refuse.
ETCD_MOUNT = "/var/lib/etcd"
ETCD_DATA_DIR = f"{ETCD_MOUNT}/data"
LABEL = "nordkube-etcd"
MOUNT_OPTIONS = "defaults,noatime"
# The fsync gate's measurement, kept on the node for the doctor and the drift check.
GATE_RESULT = "/var/lib/nordkube/etcd-fsync.json"

READY = "ready"  # mounted at ETCD_MOUNT by UUID with noatime, in fstab by UUID
PERSIST = "persist"  # ours and mounted, but fstab or the options need mending
MOUNT = "mount"  # a filesystem this project made, not mounted: mount it, keep its data
FORMAT = "format"  # blank: make the filesystem, then mount it
WIPE = "wipe"  # holds signatures that etcd_wipe_device allows erasing: erase, then format


@dataclass(frozen=True)
class DiskPlan:
    action: str
    device: str  # the resolved block device, e.g. /dev/nvme0n1
    uuid: str | None  # the filesystem's, when it has one already
    fstype: str
    erases: tuple[str, ...] = ()  # WIPE: the signatures wipefs listed, checked again before
    holds: tuple[str, ...] = ()  # WIPE: what is on the disk, in words (partitions included)


def _nvme(state: Mapping[str, Any]) -> bool:
    name = (state.get("device") or "").rsplit("/", 1)[-1]
    return state.get("transport") == "nvme" or bool(re.match(r"^nvme\d+n\d+$", name))


def _holds(state: Mapping[str, Any]) -> list[str]:
    """What is on the disk, in words: its filesystem, partition table, partitions and any
    other signature."""
    blkid, found = state.get("blkid") or {}, []
    if blkid.get("TYPE"):
        label = f" labelled {blkid['LABEL']!r}" if blkid.get("LABEL") else ""
        found.append(f"a {blkid['TYPE']} filesystem{label}")
    if blkid.get("PTTYPE"):
        found.append(f"a {blkid['PTTYPE']} partition table")
    if state.get("children"):
        found.append(f"partitions {', '.join(state['children'])}")
    if state.get("signatures") and not found:
        found.append(f"signatures {'; '.join(state['signatures'])}")
    return found


def _ours(state: Mapping[str, Any]) -> bool:
    blkid = state.get("blkid") or {}
    return bool(
        blkid.get("LABEL") == LABEL
        and blkid.get("TYPE") in ("ext4", "xfs")
        and blkid.get("UUID")
        and not state.get("children")
    )


def fstab_line(uuid: str, fstype: str) -> str:
    return f"UUID={uuid} {ETCD_MOUNT} {fstype} {MOUNT_OPTIONS} 0 2"


def plan_disk(host: str, settings: Settings, state: Mapping[str, Any]) -> DiskPlan | Problem:
    """What the etcd stage does to this host's etcd_device, or why it must not touch it."""
    spec = settings.etcd_device
    assert spec, "only hosts with an etcd_device have an etcd disk"

    def refuse(reason: str) -> Problem:
        return Problem(host, "etcd_device", f"{spec}: {reason}")

    matches = state.get("matches") or []
    if len(matches) > 1:
        return refuse(f"matches several disks ({', '.join(matches)}); name one by its /dev path")
    device = state.get("device")
    if not device or not state.get("type"):
        return refuse("no such block device on the host (lsblk -o NAME,SERIAL lists the disks)")
    if state["type"] != "disk":
        return refuse(f"{device} is a {state['type']}, not a whole disk; name the disk itself")
    if state.get("probe_error"):
        return refuse(
            f"{device} could not be read to see what it holds ({state['probe_error']}); "
            "nothing is formatted on a disk nordkube cannot see into"
        )
    if not _nvme(state) and not settings.etcd_allow_non_nvme:
        transport = state.get("transport") or "unknown"
        return refuse(
            f"{device} is not NVMe (transport {transport}); etcd on a shared or rotating disk "
            "misses heartbeats. Set etcd_allow_non_nvme: true to use it anyway"
        )
    blkid = state.get("blkid") or {}
    at_mount = state.get("at_mount")
    mounted_here = bool(at_mount and at_mount["source"] == device)
    elsewhere = {
        name: point for name, point in (state.get("mounted") or {}).items() if point != ETCD_MOUNT
    }
    if elsewhere:
        where = ", ".join(f"{name} at {point}" for name, point in sorted(elsewhere.items()))
        return refuse(f"mounted ({where}); nothing on it is formatted or moved")
    if mounted_here:
        if not _ours(state):
            return refuse(
                f"{device} is mounted at {ETCD_MOUNT} but is not a filesystem nordkube made "
                f"(label {LABEL}); found {', '.join(_holds(state)) or 'no filesystem'}"
            )
        ready = state.get("fstab") == [fstab_line(blkid["UUID"], blkid["TYPE"])] and (
            "noatime" in at_mount["options"]  # type: ignore[index]
        )
        return DiskPlan(READY if ready else PERSIST, device, blkid["UUID"], blkid["TYPE"])
    if at_mount:
        return refuse(
            f"{ETCD_MOUNT} already has {at_mount['source']} mounted on it; nothing is mounted "
            "over it"
        )
    if state.get("mount_content"):
        listing = ", ".join(state["mount_content"][:5])
        return refuse(
            f"etcd's data directory {ETCD_MOUNT} already holds data ({listing}) on another "
            "disk (a cluster formed before the etcd stage?); mounting the etcd disk over it "
            "would hide it. Move it onto the disk with etcd stopped, or empty it"
        )
    if _ours(state):
        foreign = _foreign_fstab(state, device, blkid["UUID"])
        if foreign:
            return refuse(foreign)
        return DiskPlan(MOUNT, device, blkid["UUID"], blkid["TYPE"])
    foreign = _foreign_fstab(state, device, None)
    if foreign:
        return refuse(foreign)
    holds = _holds(state)
    if holds:
        if settings.etcd_wipe_device == spec:
            if not _stable(spec):
                return refuse(
                    f"{device} holds {', '.join(holds)}; etcd_wipe_device erases only a disk "
                    "named so that the name cannot move to another disk at a reboot: give "
                    "etcd_device as serial:NAME or /dev/disk/by-id/..."
                )
            signatures = tuple(state.get("signatures") or ())
            if not signatures:
                return refuse(
                    f"{device} holds {', '.join(holds)} but wipefs lists nothing to erase"
                )
            return DiskPlan(WIPE, device, None, settings.etcd_filesystem, signatures, tuple(holds))
        return refuse(
            f"{device} holds {', '.join(holds)} (wipefs/blkid): never formatted unless "
            f"etcd_wipe_device names it ({spec!r}), and then everything on it is erased"
        )
    return DiskPlan(FORMAT, device, None, settings.etcd_filesystem)


def _stable(spec: str) -> bool:
    """A name that stays with its disk across reboots (a /dev/nvmeXnY may not)."""
    return spec.startswith(("serial:", "/dev/disk/by-id/"))


def _foreign_fstab(state: Mapping[str, Any], device: str, uuid: str | None) -> str | None:
    """An fstab line for ETCD_MOUNT that names another filesystem: the stage replaces only
    lines naming this disk (its device, its UUID, nordkube's label)."""
    ours = {device, f"LABEL={LABEL}"} | ({f"UUID={uuid}"} if uuid else set())
    others = [line for line in state.get("fstab") or [] if line.split()[0] not in ours]
    if not others:
        return None
    return (
        f"/etc/fstab already mounts something else at {ETCD_MOUNT} ({'; '.join(others)}); "
        "nothing is formatted or mounted there until that line is gone"
    )


def gate_verdict(host: str, limit: int, measured: Mapping[str, Any]) -> Problem | None:
    """The fsync gate: fio's fdatasync p99 on the mounted disk against `limit`
    (etcd_fsync_p99_max_ms)."""
    if "error" in measured:
        return Problem(host, "etcd_fsync_p99_max_ms", f"fio measured nothing: {measured['error']}")
    p99 = measured["fsync_p99_ms"]
    if p99 <= limit:
        return None
    return Problem(
        host,
        "etcd_fsync_p99_max_ms",
        f"etcd disk fsync p99 {p99} ms is above the threshold {limit} ms "
        f"({measured.get('iops')} IOPS): etcd would miss heartbeats on it. Give etcd a "
        "faster disk, or set etcd_accept_slow_disk: true to go on anyway",
    )

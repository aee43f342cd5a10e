"""What the etcd stage may do to etcd's disk (nordkube/etcd_disk.py): format only a blank
whole NVMe disk, or one etcd_wipe_device names exactly; mount its own filesystem again; refuse
everything that could lose data, naming the device and why. And the fsync gate's verdict."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from nordkube import etcd_disk
from nordkube.etcd_disk import FORMAT, MOUNT, PERSIST, READY, WIPE, DiskPlan, plan_disk
from nordkube.settings import Problem, Settings
from pyinfra_ext.etcd import _fstab

UUID = "0f3b2c1e-2d4a-4b7e-9c1f-5a6b7c8d9e0f"


def blank(**changes: Any) -> dict[str, Any]:
    """EtcdDiskState of a blank whole NVMe disk (as the fact reads it) with `changes`."""
    state: dict[str, Any] = {
        "device": "/dev/nvme0n1",
        "type": "disk",
        "transport": "nvme",
        "children": [],
        "mounted": {},
        "matches": ["/dev/nvme0n1"],
        "blkid": {},
        "signatures": [],
        "probe_error": None,
        "at_mount": None,
        "mount_content": [],
        "fstab": [],
        "gate": None,
        "fio": False,
    }
    return {**state, **changes}


def ours(**changes: Any) -> dict[str, Any]:
    return blank(blkid={"TYPE": "ext4", "UUID": UUID, "LABEL": "nordkube-etcd"}, **changes)


def settings(**values: Any) -> Settings:
    return Settings.from_data({"etcd_device": "/dev/disk/by-id/nvme-etcd0", **values}, "cp1")


def refused(state: dict[str, Any], **values: Any) -> str:
    plan = plan_disk("cp1", settings(**values), state)
    assert isinstance(plan, Problem), plan
    assert (plan.host, plan.setting) == ("cp1", "etcd_device")
    assert plan.message.startswith("/dev/disk/by-id/nvme-etcd0: ")
    return plan.message


def test_a_blank_nvme_disk_is_formatted_with_the_chosen_filesystem() -> None:
    assert plan_disk("cp1", settings(), blank()) == DiskPlan(FORMAT, "/dev/nvme0n1", None, "ext4")
    xfs = plan_disk("cp1", settings(etcd_filesystem="xfs"), blank())
    assert xfs == DiskPlan(FORMAT, "/dev/nvme0n1", None, "xfs")


def test_a_disk_holding_a_filesystem_is_never_formatted() -> None:
    state = blank(blkid={"TYPE": "ext4", "UUID": UUID}, signatures=["0x438,x,,ext4"])
    message = refused(state)
    assert "/dev/nvme0n1 holds a ext4 filesystem" in message
    assert "etcd_wipe_device" in message


@pytest.mark.parametrize(
    ("state", "found"),
    [
        (blank(blkid={"PTTYPE": "gpt"}), "a gpt partition table"),
        (blank(children=["/dev/nvme0n1p1"]), "partitions /dev/nvme0n1p1"),
        (blank(signatures=["0x1000,,,LVM2_member"]), "signatures 0x1000,,,LVM2_member"),
    ],
)
def test_partition_tables_partitions_and_other_signatures_are_refused(state, found) -> None:
    assert found in refused(state)


def test_wiping_needs_the_exact_etcd_device_value() -> None:
    state = blank(blkid={"TYPE": "xfs", "UUID": UUID}, signatures=["0x0,u,,xfs"])
    wipe = plan_disk("cp1", settings(etcd_wipe_device="/dev/disk/by-id/nvme-etcd0"), state)
    assert wipe == DiskPlan(
        WIPE, "/dev/nvme0n1", None, "ext4", ("0x0,u,,xfs",), ("a xfs filesystem",)
    )
    # The resolved name is not the setting's value: no wipe.
    assert "holds a xfs filesystem" in refused(state, etcd_wipe_device="/dev/nvme0n1")


def test_a_mounted_disk_or_partition_is_refused_even_with_wipe() -> None:
    state = blank(
        children=["/dev/nvme0n1p1"],
        mounted={"/dev/nvme0n1p1": "/srv"},
        blkid={"PTTYPE": "gpt"},
    )
    message = refused(state, etcd_wipe_device="/dev/disk/by-id/nvme-etcd0")
    assert "mounted (/dev/nvme0n1p1 at /srv)" in message


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (blank(device="", type=None), "no such block device"),
        (blank(device="/dev/nvme0n1p1", type="part"), "is a part, not a whole disk"),
        (blank(device="/dev/sdb", transport="sata"), "is not NVMe (transport sata)"),
    ],
)
def test_missing_partition_and_non_nvme_devices_are_refused(state, reason) -> None:
    assert reason in refused(state)


def test_a_disk_that_could_not_be_read_is_never_taken_for_blank() -> None:
    """Recorded (tests/unit/facts/EtcdDiskState): blkid prints nothing and exits 2 both for
    a blank disk and for one it may not open; wipefs's status tells them apart."""
    error = "wipefs: error: /dev/nvme0n1: probing initialization failed: Operation not permitted"
    message = refused(blank(probe_error=error))
    assert "could not be read to see what it holds" in message and error in message


def test_a_non_nvme_disk_is_accepted_when_allowed() -> None:
    state = blank(device="/dev/vdb", transport=None)
    plan = plan_disk("cp1", settings(etcd_allow_non_nvme=True), state)
    assert plan == DiskPlan(FORMAT, "/dev/vdb", None, "ext4")


def test_data_already_in_the_etcd_directory_is_never_hidden_under_the_mount() -> None:
    message = refused(blank(mount_content=["member"]))
    assert "/var/lib/etcd already holds data (member)" in message
    assert "mounting the etcd disk over it would hide it" in message
    # Another filesystem mounted there is not covered either.
    other = {"source": "/dev/vdb", "fstype": "ext4", "options": ["rw"]}
    assert "already has /dev/vdb mounted on it" in refused(blank(at_mount=other))


def test_its_own_filesystem_is_mounted_again_never_made_again() -> None:
    assert plan_disk("cp1", settings(), ours()) == DiskPlan(MOUNT, "/dev/nvme0n1", UUID, "ext4")


def test_mounted_by_uuid_with_noatime_is_ready_and_anything_less_is_mended() -> None:
    line = etcd_disk.fstab_line(UUID, "ext4")
    assert line == f"UUID={UUID} /var/lib/etcd ext4 defaults,noatime 0 2"
    here = {"source": "/dev/nvme0n1", "fstype": "ext4", "options": ["rw", "noatime"]}
    mounted = {"/dev/nvme0n1": "/var/lib/etcd"}
    ready = ours(at_mount=here, mounted=mounted, fstab=[line], mount_content=["data"])
    assert plan_disk("cp1", settings(), ready).action == READY  # type: ignore[union-attr]
    by_name = ours(at_mount=here, mounted=mounted, fstab=["/dev/nvme0n1 /var/lib/etcd ext4 0 2"])
    assert plan_disk("cp1", settings(), by_name).action == PERSIST  # type: ignore[union-attr]
    atime = {**here, "options": ["rw", "relatime"]}
    relatime = ours(at_mount=atime, mounted=mounted, fstab=[line])
    assert plan_disk("cp1", settings(), relatime).action == PERSIST  # type: ignore[union-attr]


def test_a_foreign_filesystem_mounted_at_the_etcd_directory_is_refused() -> None:
    here = {"source": "/dev/nvme0n1", "fstype": "ext4", "options": ["rw"]}
    state = blank(
        blkid={"TYPE": "ext4", "UUID": UUID},
        at_mount=here,
        mounted={"/dev/nvme0n1": "/var/lib/etcd"},
    )
    assert "is not a filesystem nordkube made" in refused(state)


def test_the_gate_refuses_a_p99_above_the_threshold_naming_both() -> None:
    fast = {"fsync_p99_ms": 2.1, "iops": 900.0, "fsyncs": 10029}
    assert etcd_disk.gate_verdict("cp1", 10, fast) is None
    slow = {"fsync_p99_ms": 48.497, "iops": 31.5, "fsyncs": 10029}
    problem = etcd_disk.gate_verdict("cp1", 10, slow)
    assert problem is not None
    assert (problem.host, problem.setting) == ("cp1", "etcd_fsync_p99_max_ms")
    assert "fsync p99 48.497 ms is above the threshold 10 ms" in problem.message
    failed = etcd_disk.gate_verdict("cp1", 10, {"error": "fio printed no result"})
    assert failed is not None and "fio printed no result" in failed.message


def test_the_fstab_rewrite_replaces_only_the_etcd_mounts_lines(tmp_path) -> None:
    """The operation's own shell, run on a messy fstab: tabs, an indented comment, the mount
    point with a trailing slash, no final newline."""
    fstab = tmp_path / "fstab"
    fstab.write_text(
        "# <file system> <mount point> <type>\n"
        "/dev/vda\t/\text4\terrors=remount-ro 0 1\n"
        "  # UUID=old /var/lib/etcd ext4 defaults 0 2\n"
        "\n"
        "/dev/nvme0n1 /var/lib/etcd/ ext4 defaults 0 2\n"
        "UUID=abc /var/lib/etcd2 xfs defaults 0 0"
    )
    line = etcd_disk.fstab_line(UUID, "ext4")
    subprocess.run(["sh", "-c", _fstab(line, str(fstab))], check=True)
    assert fstab.read_text().splitlines() == [
        "# <file system> <mount point> <type>",
        "/dev/vda\t/\text4\terrors=remount-ro 0 1",
        "  # UUID=old /var/lib/etcd ext4 defaults 0 2",
        "",
        "UUID=abc /var/lib/etcd2 xfs defaults 0 0",
        line,
    ]
    assert not (tmp_path / "fstab.nordkube").exists()


def test_a_serial_shared_by_several_disks_is_refused() -> None:
    state = blank(device=None, matches=["/dev/nvme0n1", "/dev/nvme0n2"])
    assert "matches several disks (/dev/nvme0n1, /dev/nvme0n2)" in refused(state)


def test_an_fstab_line_of_another_disk_at_the_etcd_mount_is_refused() -> None:
    message = refused(blank(fstab=["UUID=feed /var/lib/etcd xfs defaults 0 0"]))
    assert "/etc/fstab already mounts something else at /var/lib/etcd" in message
    # A line naming this disk by its device is this disk's: it is replaced by the UUID.
    named = blank(fstab=["/dev/nvme0n1 /var/lib/etcd ext4 defaults 0 2"])
    assert plan_disk("cp1", settings(), named).action == FORMAT  # type: ignore[union-attr]


def test_wiping_needs_a_name_that_cannot_move_to_another_disk() -> None:
    state = blank(blkid={"TYPE": "ext4", "UUID": UUID}, signatures=["0x438,x,,ext4"])
    by_path = {"etcd_device": "/dev/nvme0n1", "etcd_wipe_device": "/dev/nvme0n1"}
    plan = plan_disk("cp1", Settings.from_data(by_path, "cp1"), state)
    assert isinstance(plan, Problem)
    assert "give etcd_device as serial:NAME or /dev/disk/by-id/" in plan.message
    by_serial = {"etcd_device": "serial:etcd0", "etcd_wipe_device": "serial:etcd0"}
    wipe = plan_disk("cp1", Settings.from_data(by_serial, "cp1"), state)
    assert wipe == DiskPlan(
        WIPE, "/dev/nvme0n1", None, "ext4", ("0x438,x,,ext4",), ("a ext4 filesystem",)
    )

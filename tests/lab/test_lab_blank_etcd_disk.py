"""etcd's own disk on a real (virtual) NVMe: never formatted while it holds data, formatted and
mounted by UUID with noatime once the operator names it for wiping, still mounted after a
reboot, never mounted over data already in the etcd directory, and the fsync gate: a throttled
disk (QEMU's I/O throttling, `nordkube lab throttle`) fails it naming the host and the p99,
the same disk unthrottled passes, and the p99 the deploy prints is the one stored on the node.

A fresh 1-node lab (node1: control plane, stacked etcd, /dev/nvme0n1), converging the etcd
stage alone (its tools, fio and e2fsprogs, come from Debian's own repositories; the session
lab's converge in test_lab_deploy.py runs it within the whole node preparation); the tests run
in file order, each building on the last. Runs first (file order), on a lab of its own, down
before the other modules' labs start.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.lab.labtools import check_outcomes, converge, nordkube, on_node

pytestmark = pytest.mark.lab

NODE = "node1"
DEVICE = "/dev/nvme0n1"
SERIAL = "serial:etcd0"  # the lab's NVMe disk (nordkube/lab/vm.py)
MOUNT = "/var/lib/etcd"
GATE_RESULT = "/var/lib/nordkube/etcd-fsync.json"
# The node suite's checks of etcd's disk (tests/node/test_etcd_disk.py).
CHECKS = {
    (NODE, "test_etcd_disk_mounted_by_uuid_with_noatime"),
    (NODE, "test_fsync_gate_result_is_stored_and_under_the_threshold"),
}
STAGE = ("--data", "stages=etcd")
PRINTED = re.compile(
    rf"etcd disk {DEVICE}: fsync p99 ([0-9.]+) ms \(threshold ([0-9]+) ms\), ([0-9.]+) IOPS"
)


def mounted() -> str:
    """`SOURCE OPTIONS` of what is mounted at the etcd directory, or ''."""
    return on_node(NODE, f"findmnt -rno SOURCE,OPTIONS --mountpoint {MOUNT} || true").strip()


def stored() -> dict:
    return json.loads(on_node(NODE, f"cat {GATE_RESULT}"))


def etcd_checks(tmp_path) -> tuple[set[tuple[str, str]], set[tuple[str, str]], str]:
    """(which of CHECKS failed, which of them ran, the output) of `nordkube check`."""
    _, outcomes, output = check_outcomes(tmp_path)
    ran = {state for state in outcomes if state in CHECKS}
    return {state for state in ran if not outcomes[state]}, ran, output


def reboot() -> None:
    nordkube("lab", "stop", NODE, check=True, timeout=300)
    nordkube("lab", "start", NODE, check=True, timeout=600)


def test_a_disk_holding_a_file_is_refused_before_any_change_and_the_file_stays(one_node_lab):
    assert [node["name"] for node in one_node_lab["nodes"]] == [NODE]
    on_node(
        NODE,
        f"mkfs.ext4 -q -L provider-data {DEVICE} && mkdir -p /mnt/provider && "
        f"mount {DEVICE} /mnt/provider && echo keep-me > /mnt/provider/precious.txt && "
        "umount /mnt/provider",
    )
    result = converge(*STAGE)
    assert result.returncode != 0
    assert "nothing was changed on any host" in result.output, result.output[-4000:]
    assert (
        f"{NODE}: etcd_device: {DEVICE}: {DEVICE} holds a ext4 filesystem labelled "
        "'provider-data' (wipefs/blkid): never formatted unless etcd_wipe_device names it"
        in result.output
    ), result.output[-4000:]
    assert result.changed[NODE] == 0
    assert mounted() == ""
    assert MOUNT not in on_node(NODE, "cat /etc/fstab")
    text = on_node(
        NODE,
        f"mount -o ro {DEVICE} /mnt/provider && cat /mnt/provider/precious.txt; "
        "umount /mnt/provider",
    )
    assert text.strip() == "keep-me"


def test_named_for_wiping_it_is_erased_formatted_mounted_by_uuid_and_gated(one_node_lab, tmp_path):
    # Erasing needs a name that stays with the disk: its serial (the lab's NVMe is etcd0).
    by_path = converge(*STAGE, "--data", f"etcd_wipe_device={DEVICE}")
    assert by_path.returncode != 0 and by_path.changed[NODE] == 0
    assert "give etcd_device as serial:NAME or /dev/disk/by-id/" in by_path.output
    wipe = ("--data", f"etcd_device={SERIAL}", "--data", f"etcd_wipe_device={SERIAL}")
    result = converge(*STAGE, *wipe)
    assert result.returncode == 0, result.output[-6000:]
    assert (
        "erasing what it holds first (etcd_wipe_device): a ext4 filesystem labelled "
        "'provider-data' (wipefs: 0x438," in result.output
    ), result.output[-4000:]
    source, options = mounted().split()
    assert source == DEVICE and "noatime" in options.split(",")
    uuid = on_node(NODE, f"blkid -s UUID -o value {DEVICE}").strip()
    assert f"UUID={uuid} {MOUNT} ext4 defaults,noatime 0 2" in on_node(NODE, "cat /etc/fstab")
    assert on_node(NODE, f"blkid -s LABEL -o value {DEVICE}").strip() == "nordkube-etcd"
    # The p99 the deploy printed is the one stored on the node, for this filesystem.
    printed = PRINTED.search(result.output)
    assert printed, result.output[-4000:]
    record = stored()
    assert float(printed.group(1)) == record["fsync_p99_ms"]
    assert record["uuid"] == uuid and record["fsyncs"] >= 450  # the lab probes 1 MiB
    print(f"lab NVMe, idle: fsync p99 {record['fsync_p99_ms']} ms, {record['iops']} IOPS")
    failures, ran, output = etcd_checks(tmp_path)
    assert ran == CHECKS and failures == set(), output[-4000:]


def test_a_second_converge_changes_nothing_and_the_disk_is_found_by_serial(one_node_lab):
    result = converge(*STAGE)
    assert result.returncode == 0, result.output[-4000:]
    assert result.changed[NODE] == 0, result.output[-4000:]
    by_serial = converge(*STAGE, "--data", f"etcd_device={SERIAL}")
    assert by_serial.returncode == 0, by_serial.output[-4000:]
    assert by_serial.changed[NODE] == 0, by_serial.output[-4000:]


def test_after_a_reboot_the_disk_is_mounted_by_uuid_again(one_node_lab, tmp_path):
    reboot()
    source, options = mounted().split()
    assert source == DEVICE and "noatime" in options.split(",")
    failures, ran, output = etcd_checks(tmp_path)
    assert ran == CHECKS and failures == set(), output[-4000:]


def test_data_already_in_the_etcd_directory_is_never_hidden_under_the_mount(one_node_lab):
    on_node(NODE, f"umount {MOUNT} && mkdir -p {MOUNT}/member && echo wal > {MOUNT}/member/0.wal")
    result = converge(*STAGE)
    assert result.returncode != 0
    assert (
        f"etcd's data directory {MOUNT} already holds data (member) on another disk"
        in result.output
    ), result.output[-4000:]
    assert mounted() == ""
    assert on_node(NODE, f"cat {MOUNT}/member/0.wal").strip() == "wal"
    # Once the operator moved it away, the disk (its own filesystem) is mounted again, its
    # data and the gate's stored result kept.
    on_node(NODE, f"mv {MOUNT}/member /root/old-member")
    result = converge(*STAGE)
    assert result.returncode == 0, result.output[-4000:]
    assert mounted().split()[0] == DEVICE
    assert on_node(NODE, f"ls -A {MOUNT}").split() == ["data", "lost+found"]


def test_a_throttled_disk_fails_the_gate_and_unthrottled_passes_again(one_node_lab):
    on_node(NODE, f"rm -f {GATE_RESULT}")
    nordkube("lab", "throttle", NODE, "--iops", "5", check=True)
    try:
        result = converge(*STAGE)
    finally:
        nordkube("lab", "throttle", NODE, "--iops", "0", check=True)
    assert result.returncode != 0
    printed = PRINTED.search(result.output)
    assert printed, result.output[-4000:]
    p99, limit = float(printed.group(1)), int(printed.group(2))
    assert p99 > limit
    assert (
        f"{NODE}: etcd_fsync_p99_max_ms: etcd disk fsync p99 {printed.group(1)} ms is above "
        f"the threshold {limit} ms" in result.output
    ), result.output[-4000:]
    assert stored()["fsync_p99_ms"] == p99
    print(f"lab NVMe at 5 IOPS: fsync p99 {p99} ms, {printed.group(3)} IOPS")

    result = converge(*STAGE)
    assert result.returncode == 0, result.output[-4000:]
    printed = PRINTED.search(result.output)
    assert printed and float(printed.group(1)) <= limit, result.output[-4000:]
    assert stored()["fsync_p99_ms"] == float(printed.group(1))

"""etcd's own disk: mounted at /var/lib/etcd by its filesystem's UUID with noatime, in fstab by
that UUID (a disk the kernel names differently after a reboot still mounts there), and the
fsync gate's stored result for that filesystem under the threshold."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.etcd_disk

MOUNT = "/var/lib/etcd"
GATE_RESULT = "/var/lib/nordkube/etcd-fsync.json"


def _mounted_uuid(host: Any, node: Any) -> tuple[str, str, list[str]]:
    """(source device, its filesystem UUID, mount options) of what is mounted at MOUNT."""
    # /proc/self/mounts, not findmnt --mountpoint (util-linux 2.27+; CentOS 7 has 2.23); its
    # last line for the mount point is the mount on top.
    mounts = host.file("/proc/self/mounts").content_string.splitlines()
    found = [line.split() for line in mounts if line.split()[1:2] == [MOUNT]]
    assert found, f"{node}: nothing is mounted at {MOUNT}"
    source, options = found[-1][0], found[-1][3]
    uuid = host.run(f"blkid -s UUID -o value {source}").stdout.strip()
    assert uuid, f"{node}: {source} at {MOUNT} has no filesystem UUID"
    return source, uuid, options.split(",")


def test_etcd_disk_mounted_by_uuid_with_noatime(host: Any, node: Any) -> None:
    source, uuid, options = _mounted_uuid(host, node)
    assert "noatime" in options, f"{node}: {MOUNT} ({source}) is mounted without noatime"
    entries = [
        fields
        for fields in (line.split() for line in host.file("/etc/fstab").content_string.splitlines())
        if len(fields) >= 4 and not fields[0].startswith("#") and fields[1] == MOUNT
    ]
    assert len(entries) == 1, f"{node}: /etc/fstab has {len(entries)} lines for {MOUNT}"
    assert entries[0][0] == f"UUID={uuid}", (
        f"{node}: /etc/fstab mounts {entries[0][0]} at {MOUNT}, not UUID={uuid} ({source})"
    )
    assert "noatime" in entries[0][3].split(","), f"{node}: fstab's {MOUNT} line lacks noatime"


def test_fsync_gate_result_is_stored_and_under_the_threshold(host: Any, node: Any) -> None:
    _, uuid, _ = _mounted_uuid(host, node)
    stored = host.file(GATE_RESULT)
    assert stored.exists, f"{node}: no fsync gate result in {GATE_RESULT}"
    result = json.loads(stored.content_string)
    assert result.get("uuid") == uuid, (
        f"{node}: the stored gate result is for filesystem {result.get('uuid')}, not {uuid}"
    )
    limit = node.settings.etcd_fsync_p99_max_ms
    p99 = result.get("fsync_p99_ms")
    assert p99 is not None, f"{node}: the stored gate result has no p99: {result}"
    assert p99 <= limit or node.settings.etcd_accept_slow_disk, (
        f"{node}: etcd disk fsync p99 {p99} ms is above etcd_fsync_p99_max_ms {limit} ms"
    )

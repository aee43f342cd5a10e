"""The etcd stage's operations: the etcd disk formatted (only as nordkube.etcd_disk allows),
mounted by UUID with noatime and in fstab; and the fsync gate, fio's etcd WAL job on the
mounted disk before etcd starts, its result stored on the node."""

from __future__ import annotations

import json
import shlex
import time
import uuid as uuids
from typing import Any

from pyinfra import host, logger
from pyinfra.api import FunctionCommand, Host, State, operation

from nordkube import etcd_disk
from nordkube.etcd_disk import ETCD_DATA_DIR, ETCD_MOUNT, GATE_RESULT, LABEL, DiskPlan
from pyinfra_ext.operations import run_now
from pyinfra_ext.probes import fio_job, parse_fio


def gate_command(size_mb: int) -> str:
    """fio's etcd WAL job in a directory of its own on the mounted disk, removed afterwards;
    never on whatever disk holds the directory when the etcd disk is not mounted there."""
    return (
        f"mountpoint -q {ETCD_MOUNT} || {{ echo '{ETCD_MOUNT} is not mounted' >&2; exit 1; }}; "
        f"t=$(mktemp -d {ETCD_MOUNT}/.nordkube-gate.XXXXXX) || exit 1; "
        f'fio --name=etcd-wal --directory="$t" {fio_job(size_mb)}; s=$?; rm -rf "$t"; exit $s'
    )


def _unchanged(plan: DiskPlan) -> str:
    """The disk checked again in the shell that changes it, right before: not mounted, and
    wipefs lists what the plan saw (nothing for FORMAT, the signatures WIPE may erase). A
    disk that changed since the plan, or that wipefs or lsblk cannot read, stops it."""
    device = shlex.quote(plan.device)
    expected = shlex.quote("\n".join(plan.erases))
    return (
        f"m=$(lsblk -nro MOUNTPOINT {device}) || exit 1; "
        f'if [ -n "$(printf %s "$m" | tr -d "[:space:]")" ]; then '
        f"echo '{plan.device} is mounted now; nothing erased or formatted' >&2; exit 1; fi; "
        f"s=$(wipefs --no-act --parsable {device}) || exit 1; "
        "s=$(printf '%s\\n' \"$s\" | grep -v '^#'); "
        f'if [ "$s" != {expected} ]; then '
        f'echo "{plan.device} changed since the plan: $s; nothing erased or formatted" >&2; '
        "exit 1; fi"
    )


def _mkfs(plan: DiskPlan, uuid: str) -> str:
    device = shlex.quote(plan.device)
    # mke2fs asks before overwriting a filesystem only on a terminal, so the check above is
    # what protects it; stdin from /dev/null so no prompt ever waits.
    if plan.fstype == "xfs":
        return f"mkfs.xfs -q -L {LABEL} -m uuid={uuid} {device} < /dev/null"
    return f"mkfs.ext4 -q -L {LABEL} -U {uuid} {device} < /dev/null"


def _fstab(line: str, fstab: str = "/etc/fstab") -> str:
    """`fstab` with every line for ETCD_MOUNT (with or without a trailing slash) replaced by
    `line`, comments and every other line kept; written in place, so its owner, mode and
    SELinux label stay. plan_disk refuses first where such a line names another disk."""
    work = f"{fstab}.nordkube"
    return (
        f"awk -v d={ETCD_MOUNT} '$1 ~ /^#/ || ($2 != d && $2 != d \"/\")' {fstab} > {work} && "
        f"echo {shlex.quote(line)} >> {work} && cat {work} > {fstab} && rm -f {work}"
    )


def disk_uuid(plan: DiskPlan) -> str:
    """The filesystem's UUID: its own, or one chosen here for the filesystem about to be
    made (so fstab and the gate's record can name it before it exists)."""
    return plan.uuid or str(uuids.uuid4())


@operation()
def etcd_disk_mounted(plan: DiskPlan, uuid: str) -> Any:
    """The etcd disk mounted at ETCD_MOUNT by UUID with noatime, in fstab by UUID, and etcd's
    data directory on it (mode 0700). `plan` is nordkube.etcd_disk.plan_disk's decision,
    made in the validate stage, which refuses the host before any change otherwise."""
    if plan.action == etcd_disk.READY:
        host.noop(f"{plan.device} ({plan.fstype}, UUID {uuid}) is mounted at {ETCD_MOUNT}")
        return
    if plan.action == etcd_disk.WIPE:  # the role's operation name lists what this erases
        yield f"{_unchanged(plan)}; wipefs --all {shlex.quote(plan.device)}"
        yield _mkfs(plan, uuid)
    elif plan.action == etcd_disk.FORMAT:
        yield f"{_unchanged(plan)}; {_mkfs(plan, uuid)}"
    yield f"mkdir -p {ETCD_MOUNT} && " + _fstab(etcd_disk.fstab_line(uuid, plan.fstype))
    # systemd makes mount units from fstab: it must see the new line before mount uses it.
    yield "systemctl daemon-reload"
    if plan.action == etcd_disk.PERSIST:
        yield f"mount -o remount,noatime {ETCD_MOUNT}"
    else:
        yield f"mount {ETCD_MOUNT}"
    yield f"install -d -m 0700 {ETCD_DATA_DIR}"


def measure_gate(
    state: State, host: Host, device: str, uuid: str, limit: int, accept: bool, size_mb: int
) -> bool:
    """Run during execution: fio on the mounted disk, the result stored in GATE_RESULT and
    printed, then the verdict. Returns False (pyinfra fails the operation on this host)
    when the disk is too slow and etcd_accept_slow_disk does not let it go on."""
    _, lines = run_now(host, gate_command(size_mb))
    measured = parse_fio("\n".join(lines))
    record = {
        "device": device,
        "uuid": uuid,
        "threshold_ms": limit,
        "probe_mb": size_mb,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **measured,
    }
    text = json.dumps(record, sort_keys=True)
    run_now(
        host,
        f"mkdir -p $(dirname {GATE_RESULT}) && printf '%s\\n' {shlex.quote(text)} > {GATE_RESULT}",
    )
    problem = etcd_disk.gate_verdict(host.name, limit, measured)
    if "error" not in measured:
        host.log_styled(
            f"etcd disk {device}: fsync p99 {measured['fsync_p99_ms']} ms "
            f"(threshold {limit} ms), {measured['iops']} IOPS, "
            f"stored in {GATE_RESULT}",
            log_func=logger.info,
        )
    if problem is None:
        return True
    if accept and "error" not in measured:
        host.log_styled(f"warning: {problem} (etcd_accept_slow_disk)", log_func=logger.warning)
        return True
    host.log_styled(f"Error: {problem}", fg="red", log_func=logger.error)
    return False


@operation()
def etcd_fsync_gated(
    device: str,
    uuid: str,
    stored: dict[str, Any] | None,
    limit: int,
    accept: bool,
    size_mb: int = 22,
) -> Any:
    """The etcd disk passed the fsync gate: a stored result for this filesystem under the
    threshold is kept; otherwise fio measures (again: a disk that failed may have got
    faster) and a disk above `limit` (etcd_fsync_p99_max_ms) fails this host unless `accept`
    (etcd_accept_slow_disk)."""
    if (
        stored
        and stored.get("uuid") == uuid
        and "fsync_p99_ms" in stored
        and stored["fsync_p99_ms"] <= limit
    ):
        host.noop(
            f"etcd disk {device}: fsync p99 {stored['fsync_p99_ms']} ms (threshold {limit} "
            f"ms), measured {stored.get('measured_at')}"
        )
        return
    yield FunctionCommand(measure_gate, (device, uuid, limit, accept, size_mb), {})

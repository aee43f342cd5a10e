"""The lab's host processes (QEMU, vde_switch, wirefilter, apt proxy), found and ended by pid.

A pid alone can be reused by an unrelated process, so every check reads /proc and accepts a
process only when its command line names one of the lab's programs and the lab's directory.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path

LAB_PROGRAMS = frozenset({"qemu-system-x86_64", "vde_switch", "wirefilter", "aptproxy.py"})


def command_line(pid: int) -> list[str]:
    """A process's argv, or [] when it has exited (zombies included)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def is_lab_process(argv: list[str], lab_dir: Path) -> bool:
    """Whether argv is one of the lab's programs started for this lab directory."""
    programs = {os.path.basename(part) for part in argv[:2]}
    return bool(programs & LAB_PROGRAMS) and any(str(lab_dir) in part for part in argv)


def is_running(pid: int | None, lab_dir: Path) -> bool:
    return pid is not None and pid > 0 and is_lab_process(command_line(pid), lab_dir)


def lab_processes(lab_dir: Path) -> list[int]:
    """Every live process of this lab, recorded or not (e.g. apt proxies QEMU spawned)."""
    pids = [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    return [pid for pid in pids if pid != os.getpid() and is_running(pid, lab_dir)]


def is_zombie(pid: int) -> bool:
    """Exited but not yet reaped: the lab's daemons are reaped by PID 1, a moment later."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def wait_reaped(pids: Iterable[int], timeout: float = 10.0) -> None:
    """Wait, briefly, until ended processes no longer show even as zombies (`ps`, `pgrep`)."""
    deadline = time.monotonic() + timeout
    while any(is_zombie(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)


def wait_exit(pid: int, lab_dir: Path, timeout: float) -> bool:
    """Wait up to `timeout` seconds for the process to go; True when it has."""
    deadline = time.monotonic() + timeout
    while is_running(pid, lab_dir):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)
    return True


def terminate(pid: int, lab_dir: Path, grace: float = 10.0) -> None:
    """End one lab process: SIGTERM, then SIGKILL after `grace` seconds; verified in /proc."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        if not is_running(pid, lab_dir):
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if wait_exit(pid, lab_dir, wait):
            return

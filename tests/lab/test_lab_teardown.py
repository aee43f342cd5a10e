"""`nordkube lab down` leaves no VM, switch, filter or runtime file of the lab behind.

Runs after test_lab_deploy.py (file order), on the same session lab.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lab.labtools import ROOT, nordkube

pytestmark = pytest.mark.lab

LAB_PROGRAMS = ("qemu-system-x86_64", "vde_switch", "wirefilter")


def lab_processes(lab_dir: Path) -> list[str]:
    """Command lines of running QEMU / vde_switch / wirefilter processes that use the lab."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        text = b" ".join(argv).decode(errors="replace")
        if any(Path(argv[0].decode(errors="replace")).name == p for p in LAB_PROGRAMS) and (
            str(lab_dir) in text
        ):
            found.append(text)
    return found


def test_lab_down_leaves_no_process_and_no_runtime_file(lab):
    lab_dir = ROOT / ".lab"
    assert lab_processes(lab_dir), "the session lab should be running before down"
    result = nordkube("lab", "down", check=True, timeout=300)
    assert lab_processes(lab_dir) == [], result.stdout
    assert not lab_dir.exists() or not any(lab_dir.iterdir())

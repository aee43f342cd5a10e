"""Host-side checks: missing tools and lab processes are named precisely."""

from __future__ import annotations

from pathlib import Path

from nordkube.lab.host import missing_tools_message
from nordkube.lab.procs import is_lab_process


def test_nothing_missing_means_no_message() -> None:
    assert missing_tools_message([]) is None


def test_missing_tools_name_their_debian_packages_and_the_script() -> None:
    message = missing_tools_message(["wirefilter", "vde_switch", "qemu-img"])
    assert message == (
        "missing host tools: qemu-img, vde_switch, wirefilter; install the Debian packages "
        "qemu-utils vde2 (scripts/host-deps.sh installs everything the lab needs)"
    )


LAB = Path("/work/main/.lab")


def test_lab_programs_of_this_lab_are_recognised() -> None:
    assert is_lab_process(["qemu-system-x86_64", "-pidfile", f"{LAB}/nodes/node1/qemu.pid"], LAB)
    assert is_lab_process(
        ["/usr/bin/wirefilter", "-v", f"{LAB}/net/core.ctl:{LAB}/net/node1.ctl"], LAB
    )
    assert is_lab_process(
        ["/venv/bin/python", "/src/aptproxy.py", "--log", f"{LAB}/apt-proxy.log"], LAB
    )


def test_other_processes_are_never_taken_for_the_labs() -> None:
    assert not is_lab_process(["tail", "-f", f"{LAB}/nodes/node1/console.log"], LAB)
    assert not is_lab_process(["qemu-system-x86_64", "-pidfile", "/elsewhere/qemu.pid"], LAB)
    assert not is_lab_process([], LAB)

"""The host side: which tools the lab needs, and running them with errors a user can act on."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from nordkube.lab.errors import LabError

# Each host command the lab runs, and the Debian package that provides it.
DEBIAN_PACKAGE_OF = {
    "qemu-system-x86_64": "qemu-system-x86",
    "qemu-img": "qemu-utils",
    "vde_switch": "vde2",
    "wirefilter": "vde2",
    "debootstrap": "debootstrap",
    "mkfs.ext4": "e2fsprogs",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
}


def missing_tools_message(missing: Iterable[str]) -> str | None:
    """Name the missing commands and their Debian packages, or None when nothing is missing."""
    names = sorted(set(missing))
    if not names:
        return None
    packages = sorted({DEBIAN_PACKAGE_OF[name] for name in names})
    return (
        f"missing host tools: {', '.join(names)}; install the Debian packages "
        f"{' '.join(packages)} (scripts/host-deps.sh installs everything the lab needs)"
    )


def require_tools(names: Iterable[str]) -> None:
    """Stop before any change when a host tool is missing."""
    message = missing_tools_message(name for name in names if shutil.which(name) is None)
    if message:
        raise LabError(message)


def tail(path: Path, lines: int = 25) -> str:
    """The last lines of a log file, for error messages (empty when there is no file yet)."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def run(command: Sequence[str], *, log: Path | None = None) -> None:
    """Run a host command; on failure raise a LabError with the end of its output.

    With `log`, the output goes to that file (long builds), otherwise it is captured.
    """
    if log is None:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        output = (result.stdout + result.stderr).strip()
        if result.returncode != 0:
            last_lines = "\n".join(output.splitlines()[-15:])
            raise LabError(f"`{' '.join(command)}` failed ({result.returncode}):\n{last_lines}")
        return
    with log.open("a") as stream:
        stream.write(f"$ {' '.join(command)}\n")
        stream.flush()
        returncode = subprocess.run(
            command, stdout=stream, stderr=subprocess.STDOUT, check=False
        ).returncode
    if returncode != 0:
        raise LabError(f"`{command[0]}` failed ({returncode}); the end of {log}:\n{tail(log)}")

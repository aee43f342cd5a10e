"""Running a pyinfra file against an inventory without changing anything (`--dry`), and
reading from pyinfra's progress output which hosts it reached.

pyinfra's JSON says nothing about hosts it dropped (unreachable, a fact that failed): they are
simply absent, and the exit code is 1. Which hosts got through comes from its progress on
stderr, where each host that prepared the whole file prints `[HOST] Ready: FILE`, and why the
others did not from the lines pyinfra printed about them (`[HOST] Could not connect (...)`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from nordkube.inventory import project_root

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_HOST_LINE = re.compile(r"^\s*\[(?P<host>[^\]]+)\]\s+(?P<text>.*\S)\s*$")
_READY = "Ready: "
# What pyinfra prints about a host that is progress, not a problem.
_PROGRESS = ("Connected", _READY, "warning:")


def pyinfra_command(
    pyinfra: str,
    inventory: str,
    deploy: str,
    limit: list[str],
    flags: tuple[str, ...] = ("--dry", "--json"),
) -> list[str]:
    """`pyinfra INVENTORY FILE --dry ...`; `limit` holds pyinfra --limit patterns (names,
    groups, globs)."""
    command = [pyinfra, inventory, deploy, *flags]
    for pattern in limit:
        command += ["--limit", pattern]
    return command


def progress_lines(stderr: str) -> list[str]:
    """pyinfra's progress output without its colours."""
    return [_ANSI.sub("", line.rstrip("\n")) for line in stderr.splitlines()]


def host_progress(lines: list[str]) -> tuple[set[str], dict[str, list[str]]]:
    """The hosts that prepared the whole deploy file (`[HOST] Ready: FILE`), and what pyinfra
    printed about each other host (why it dropped it)."""
    ready: set[str] = set()
    errors: dict[str, list[str]] = {}
    for line in lines:
        match = _HOST_LINE.match(line)
        if not match:
            continue
        host, text = match["host"], match["text"]
        if text.startswith(_READY):
            ready.add(host)
        elif not text.startswith(_PROGRESS):
            errors.setdefault(host, []).append(text)
    return ready, errors


def run_dry(
    file: str,
    inventory: str,
    limit: list[str],
    data: Mapping[str, str],
    timeout: float,
    flags: tuple[str, ...] = ("--dry", "--json"),
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a pyinfra file of this checkout against the inventory, from the project root as a
    user runs the deploy; raises subprocess.TimeoutExpired after `timeout` seconds."""
    command = pyinfra_command(
        str(Path(sys.executable).with_name("pyinfra")),
        str(Path(inventory).resolve()),
        file,
        limit,
        flags,
    )
    for key, value in data.items():
        command += ["--data", f"{key}={value}"]
    return subprocess.run(
        command,
        cwd=project_root(),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYINFRA_PROGRESS": "off", **(env or {})},
        check=False,
    )


def run_error(lines: list[str]) -> str | None:
    """pyinfra's reason for stopping: `--> pyinfra error ...` with the problem lines under it
    (validation lists one per line), or the last line of a traceback."""
    for index, line in enumerate(lines):
        lowered = line.lower()
        if not line.startswith("--> ") or ("error" not in lowered and "exception" not in lowered):
            continue
        rest = lines[index + 1 :]
        if "exception occurred" in lowered:
            last = next((text.strip() for text in reversed(rest) if text.strip()), "")
            return f"{line[4:].strip()} {last}".strip()
        details = [text.strip() for text in rest if text.startswith("  ") and text.strip()]
        return "\n".join([line[4:].strip(), *details])
    return None

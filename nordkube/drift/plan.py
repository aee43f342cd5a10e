"""The deploy's plan as drift reads it: `pyinfra INVENTORY deploy.py --dry --json`.

The JSON lists each operation once, keyed by `op_hash` (names are not unique, and one
operation may carry a different name per host), with the hosts it would change. It says
nothing about hosts pyinfra dropped (unreachable, a fact that failed): they are simply absent,
and the exit code is 1. So which hosts were planned comes from pyinfra's progress on stderr,
where each host that prepared the whole deploy prints `[HOST] Ready: deploy.py`, and why the
others were not from the lines pyinfra printed about them (`[HOST] Could not connect (...)`).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field

from nordkube.drift import stages
from nordkube.drift.model import PLAN, Item

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_HOST_LINE = re.compile(r"^\s*\[(?P<host>[^\]]+)\]\s+(?P<text>.*\S)\s*$")
_READY = "Ready: "
# What pyinfra prints about a host that is progress, not a problem.
_PROGRESS = ("Connected", _READY, "warning:")
CONDITIONAL = "conditional: changes only if the operation it depends on changes"


@dataclass
class PlanResult:
    """What the plan says per host."""

    items: dict[str, list[Item]] = field(default_factory=dict)
    planned: set[str] = field(default_factory=set)
    # host -> what pyinfra printed about a host it dropped
    host_errors: dict[str, list[str]] = field(default_factory=dict)
    # Why the deploy stopped before it planned any host (validation refused, an error).
    error: str | None = None


def pyinfra_command(pyinfra: str, inventory: str, deploy: str, limit: list[str]) -> list[str]:
    """The plan command; `limit` holds pyinfra --limit patterns (names, groups, globs)."""
    command = [pyinfra, inventory, deploy, "--dry", "--json"]
    for pattern in limit:
        command += ["--limit", pattern]
    return command


def parse_plan(stdout: str, stderr: str) -> PlanResult:
    """Read the plan's JSON (stdout) and pyinfra's progress (stderr)."""
    lines = [_ANSI.sub("", line.rstrip("\n")) for line in stderr.splitlines()]
    result = PlanResult()
    for line in lines:
        match = _HOST_LINE.match(line)
        if not match:
            continue
        host, text = match["host"], match["text"]
        if text.startswith(_READY):
            result.planned.add(host)
        elif not text.startswith(_PROGRESS):
            result.host_errors.setdefault(host, []).append(text)
    try:
        plan = json.loads(stdout[stdout.index("{") :]) if "{" in stdout else None
    except ValueError:
        plan = None
    if plan is None:
        result.planned.clear()  # without the JSON nothing is known about any host
        result.error = _run_error(lines) or "pyinfra printed no plan"
        return result
    items: dict[str, list[Item]] = defaultdict(list)
    for operation in plan.get("plan", []):
        for host in operation["hosts_with_change"]:
            items[host].append(_item(host, operation, ""))
        for host in operation["hosts_with_conditional_change"]:
            items[host].append(_item(host, operation, CONDITIONAL))
    result.items = dict(items)
    if not result.planned:
        result.error = _run_error(lines)
    return result


def _item(host: str, operation: dict, detail: str) -> Item:
    names = operation.get("names") or [operation["name"]]
    return Item(
        host=host,
        stage=stages.stage_of_operation(names[0]),
        source=PLAN,
        key=operation["op_hash"],
        # One operation may be named differently per host; the JSON does not say which.
        title=" / ".join(name.split(" | ", 1)[-1] for name in names),
        detail=detail,
    )


def _run_error(lines: list[str]) -> str | None:
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

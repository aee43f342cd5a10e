"""The deploy's plan as drift reads it: `pyinfra INVENTORY deploy.py --dry --json`.

The JSON lists each operation once, keyed by `op_hash` (names are not unique, and one
operation may carry a different name per host), with the hosts it would change. Which hosts
were planned at all, and why the others were not, comes from pyinfra's progress
(nordkube.pyinfra_run).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from nordkube.drift import stages
from nordkube.drift.model import PLAN, Item
from nordkube.pyinfra_run import host_progress, progress_lines, run_error

# pyinfra plans an operation with `_if` (run only if an earlier one changed) as a conditional
# change whenever its own commands would run, which for a reload is always: drift lists such
# changes apart and does not count them.
CONDITIONAL = "conditional: runs only if the operation it depends on changes"


@dataclass
class PlanResult:
    """What the plan says per host."""

    items: dict[str, list[Item]] = field(default_factory=dict)
    planned: set[str] = field(default_factory=set)
    # host -> what pyinfra printed about a host it dropped
    host_errors: dict[str, list[str]] = field(default_factory=dict)
    # Why the deploy stopped before it planned any host (validation refused, an error).
    error: str | None = None


def parse_plan(stdout: str, stderr: str) -> PlanResult:
    """Read the plan's JSON (stdout) and pyinfra's progress (stderr)."""
    lines = progress_lines(stderr)
    result = PlanResult()
    result.planned, result.host_errors = host_progress(lines)
    try:
        plan = json.loads(stdout[stdout.index("{") :]) if "{" in stdout else None
    except ValueError:
        plan = None
    if plan is None:
        result.planned.clear()  # without the JSON nothing is known about any host
        result.error = run_error(lines) or "pyinfra printed no plan"
        return result
    items: dict[str, list[Item]] = defaultdict(list)
    for operation in plan.get("plan", []):
        for host in operation["hosts_with_change"]:
            items[host].append(_item(host, operation, ""))
        for host in operation["hosts_with_conditional_change"]:
            items[host].append(_item(host, operation, CONDITIONAL))
    result.items = dict(items)
    if not result.planned:
        result.error = run_error(lines)
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

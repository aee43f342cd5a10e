"""One drift run: plan the deploy and run the node suite side by side, then judge per host.

Both are read-only: pyinfra's `--dry` reads facts and changes nothing, and the node suite only
reads. They run at the same time (the plan in a pyinfra subprocess, the suite in pytest's),
so a run takes as long as the slower of the two.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from nordkube import owned
from nordkube.check import InventoryError, over_ssh, run_suite, select_hosts, suite_targets
from nordkube.drift import plan as plans
from nordkube.drift import reports
from nordkube.drift import suite as suites
from nordkube.drift.model import Changes, HostResult, Item, Report, changes_since
from nordkube.inventory import InventoryHost
from nordkube.pyinfra_run import run_dry
from nordkube.settings import STAGES, Settings, SettingsError

DEPLOY = "deploy.py"
REPORT_FILES = {
    "json": "drift.json",
    "markdown": "drift.md",
    "junit": "drift.junit.xml",
    "prometheus": "drift.prom",
}
# The previous run's JSON, kept beside the new one; the Markdown says what changed since.
PREVIOUS = "drift.previous.json"
SUITE_LOG = "drift.check.log"
# How much of the suite's log a run error quotes when pytest left no report.
_LOG_TAIL = 1500


@dataclass(frozen=True)
class Options:
    inventory: str
    limit: list[str]
    data: Mapping[str, str]  # pyinfra --data overrides
    suite: bool = True  # run the node suite as well as the plan
    timeout: float = 1800.0  # seconds for each of the plan and the suite


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def drift(options: Options, log_dir: Path | None = None) -> Report:
    """Run both sources and return the report. Problems with the inventory itself (it does
    not load, a setting is invalid) make a report with no hosts and the problems as errors."""
    started, clock = _now(), time.monotonic()
    try:
        hosts = select_hosts(options.inventory, options.limit, options.data, ssh_only=False)
        settings = {host.name: Settings.from_data(host.data, host.name) for host in hosts}
        ssh_hosts = [host for host in hosts if over_ssh(host.name)] if options.suite else []
        targets = suite_targets(options.inventory, ssh_hosts) if ssh_hosts else []
    except InventoryError as error:
        return _failed(options, started, clock, error.problems)
    except SettingsError as error:
        return _failed(options, started, clock, [str(problem) for problem in error.problems])
    with tempfile.TemporaryDirectory(prefix="nordkube-drift-") as workdir:
        junit = Path(workdir) / "check.xml"
        log = (log_dir or Path(workdir)) / SUITE_LOG
        log.parent.mkdir(parents=True, exist_ok=True)
        suite_exit: list[str] = []

        def check() -> None:
            try:
                with log.open("w") as output:
                    suite_exit.append(f"exited {run_suite(targets, Path(workdir), junit, output)}")
            except OSError as error:
                suite_exit.append(f"could not start: {error}")

        worker = threading.Thread(target=check, daemon=True)
        if targets:
            worker.start()
        plan, plan_error = _plan(options)
        if targets:
            worker.join(options.timeout)
        errors = [plan_error] if plan_error else []
        suite = None
        if targets:
            if worker.is_alive():
                errors.append(f"the node suite did not finish within {options.timeout:.0f} s")
            elif junit.exists():
                suite = suites.parse_junit(junit)
            else:
                tail = log.read_text()[-_LOG_TAIL:] if log.exists() else ""
                how = suite_exit[0] if suite_exit else "stopped"
                errors.append(f"the node suite {how} without a report:\n{tail}")
    if plan.error:
        errors.append(f"the deploy stopped before planning any host: {plan.error}")
    checked = {target.name for target in targets}
    results = [
        _host_result(host, settings[host.name], plan, suite, checked, options) for host in hosts
    ]
    return Report(
        inventory=options.inventory,
        started=started,
        duration_seconds=time.monotonic() - clock,
        stages=_compared_stages(settings.values()),
        hosts=results,
        errors=errors,
    )


def _failed(options: Options, started: str, clock: float, problems: list[str]) -> Report:
    return Report(
        inventory=options.inventory,
        started=started,
        duration_seconds=time.monotonic() - clock,
        stages=list(STAGES),
        hosts=[],
        errors=problems,
    )


def _plan(options: Options) -> tuple[plans.PlanResult, str | None]:
    """pyinfra's dry run of the real deploy, from the project root as a user runs it."""
    try:
        result = run_dry(DEPLOY, options.inventory, options.limit, options.data, options.timeout)
    except subprocess.TimeoutExpired:
        return plans.PlanResult(), f"the plan did not finish within {options.timeout:.0f} s"
    return plans.parse_plan(result.stdout, result.stderr), None


def _compared_stages(settings: Iterable[Settings]) -> list[str]:
    """The stages some host compares (each host's `stages` setting, empty meaning all)."""
    chosen = {stage for each in settings for stage in (each.stages or STAGES)}
    return [stage for stage in STAGES if stage in chosen]


def _host_result(
    host: InventoryHost,
    settings: Settings,
    plan: plans.PlanResult,
    suite: suites.SuiteResult | None,
    checked: set[str],
    options: Options,
) -> HostResult:
    result = HostResult(host.name)
    found: list[Item] = []
    if host.name in plan.planned:
        result.sources["plan"] = "planned"
        found += plan.items.get(host.name, [])
    else:
        result.sources["plan"] = "not planned"
        reasons = plan.host_errors.get(host.name) or (
            ["the deploy stopped (see the run's errors)"] if plan.error else ["not planned"]
        )
        result.unknown += [f"plan: {reason}" for reason in reasons]
    if not options.suite:
        result.sources["check"] = "not run (--no-suite)"
    elif host.name not in checked:
        result.sources["check"] = "not run: the node suite reaches hosts over SSH only"
    elif suite is None:
        result.sources["check"] = "failed (see the run's errors)"
        result.unknown.append("check: the node suite gave no report")
    elif host.name in suite.unknown or host.name not in suite.checked:
        result.sources["check"] = "could not judge"
        reasons = suite.unknown.get(host.name) or ["the node suite reported nothing"]
        result.unknown += [f"check: {reason}" for reason in reasons]
        found += suite.items.get(host.name, [])
    else:
        result.sources["check"] = "checked"
        found += suite.items.get(host.name, [])
    chosen = set(settings.stages or STAGES)
    for item in found:
        if item.stage in STAGES and item.stage not in chosen:
            continue  # a stage this host's `stages` setting leaves out
        if item.detail == plans.CONDITIONAL:
            result.conditional.append(item)
            continue
        component = _owner(item, settings)
        if component is None:
            result.items.append(item)
        else:
            result.excluded.append(
                replace(item, owner=f"{component.component}: {component.reason}")
            )
    return result


def _owner(item: Item, settings: Settings) -> owned.Owned | None:
    if item.subject is None:
        return None
    kind, _, name = item.subject.partition(":")
    return owned.owner(kind, name, settings)


def write_reports(report: Report, directory: Path) -> Changes | None:
    """Write every report into `directory`, keeping the previous run's JSON as PREVIOUS;
    return what changed since that run (None on a first run, or when it is unreadable)."""
    directory.mkdir(parents=True, exist_ok=True)
    current = directory / REPORT_FILES["json"]
    changes = None
    if current.exists():
        try:
            previous = Report.from_json(json.loads(current.read_text()))
        except (ValueError, KeyError, TypeError):
            previous = None
        current.replace(directory / PREVIOUS)
        changes = changes_since(previous, report) if previous else None
    renderings = {
        "json": json.dumps(report.to_json(), indent=2) + "\n",
        "markdown": reports.markdown(report, changes),
        "junit": reports.junit(report),
        "prometheus": reports.prometheus(report),
    }
    for kind, text in renderings.items():
        path = directory / REPORT_FILES[kind]
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text)
        temporary.replace(path)  # readers (node_exporter) never see half a file
    return changes

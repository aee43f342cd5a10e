"""The drift report's renderings: Markdown for people, JUnit XML for CI, a Prometheus textfile
for alerting (node_exporter's textfile collector reads it). All from `Report`; pure."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from datetime import datetime
from pathlib import Path

from nordkube.drift.model import CLEAN, EXIT_CODES, UNKNOWN, Changes, Item, Report


def _when(started: str) -> str:
    return datetime.fromisoformat(started).strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _line(item: Item, with_host: bool = True, markup: bool = True) -> str:
    where = f"{item.host} · " if with_host else ""
    title = f"`{item.title}`" if item.source == "check" and markup else item.title
    stage = f"**{item.stage}**" if markup else item.stage
    text = f"{where}{stage} ({item.source}) {title}"
    if item.detail:
        text += f": {item.detail}"
    if item.owner:
        text += f" (owned by {item.owner})"
    return text


def _summary(report: Report) -> str:
    counts = {verdict: 0 for verdict in EXIT_CODES}
    for host in report.hosts:
        counts[host.verdict] += 1
    return (
        f"{_when(report.started)}, {report.duration_seconds:.1f} s: **{report.verdict}** "
        f"(exit {report.exit_code}); {len(report.hosts)} host(s): {counts[CLEAN]} clean, "
        f"{counts['drift']} drifted, {counts[UNKNOWN]} could not tell."
    )


def markdown(report: Report, changes: Changes | None) -> str:
    """The report a person reads: what changed since the previous run first, then each host."""
    lines = [f"# nordkube drift: {report.inventory}", "", _summary(report), ""]
    if changes is None:
        lines += ["No previous report: this is the first run.", ""]
    elif not changes.any:
        lines += [
            f"Nothing changed since the previous run ({_when(changes.previous_started)}).",
            "",
        ]
    else:
        lines += [f"## Since the previous run ({_when(changes.previous_started)})", ""]
        lines += [f"- {host}: {before} -> {now}" for host, before, now in changes.verdicts]
        lines += [f"- new: {_line(item)}" for item in changes.new]
        lines += [f"- resolved: {_line(item)}" for item in changes.resolved]
        lines.append("")
    if report.errors:
        lines += ["## The run", ""] + [f"- {error}" for error in report.errors] + [""]
    lines += _host_table(report)
    for host in report.hosts:
        if host.verdict == CLEAN:
            continue
        lines += [f"### {host.name}: {host.verdict}", ""]
        lines += [f"- could not tell: {reason}" for reason in host.unknown]
        lines += [f"- {_line(item, with_host=False)}" for item in host.items]
        lines += [f"- would follow: {_line(item, with_host=False)}" for item in host.conditional]
        lines.append("")
    excluded = [item for host in report.hosts for item in host.excluded]
    if excluded:
        lines += ["## Not drift: state owned by running components", ""]
        lines += [f"- {_line(item)}" for item in excluded] + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _stages(report: Report) -> list[str]:
    extra = sorted({i.stage for h in report.hosts for i in h.items} - set(report.stages))
    return [*report.stages, *extra]


def _host_table(report: Report) -> list[str]:
    stages = _stages(report)
    lines = [
        "## Hosts",
        "",
        "| host | verdict | " + " | ".join(stages) + " |",
        "|---|---|" + "---|" * len(stages),
    ]
    for host in report.hosts:
        counts = host.counts_by_stage()
        cells = " | ".join(str(counts.get(stage, 0)) for stage in stages)
        lines.append(f"| {host.name} | {host.verdict} | {cells} |")
    return [*lines, ""]


def junit(report: Report) -> str:
    """One test case per host and stage (failed: it drifted), and one per host saying whether
    its state could be told (errored: it could not)."""
    stages = _stages(report)
    suite = ElementTree.Element(
        "testsuite",
        name="nordkube drift",
        timestamp=report.started,
        time=f"{report.duration_seconds:.3f}",
    )
    failures = errors = tests = 0
    for message in report.errors:
        case = ElementTree.SubElement(suite, "testcase", classname="nordkube.drift", name="run")
        ElementTree.SubElement(case, "error", message=message.splitlines()[0]).text = message
        tests, errors = tests + 1, errors + 1
    for host in report.hosts:
        classname = f"nordkube.drift.{host.name}"
        case = ElementTree.SubElement(suite, "testcase", classname=classname, name="reachable")
        tests += 1
        if host.unknown:
            text = "\n".join(host.unknown)
            ElementTree.SubElement(case, "error", message=host.unknown[0]).text = text
            errors += 1
        for stage in stages:
            items = [item for item in host.items if item.stage == stage]
            case = ElementTree.SubElement(suite, "testcase", classname=classname, name=stage)
            tests += 1
            if items:
                text = "\n".join(_line(item, with_host=False, markup=False) for item in items)
                message = f"{len(items)} drift item(s) in {stage}"
                ElementTree.SubElement(case, "failure", message=message).text = text
                failures += 1
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    ElementTree.indent(suite)
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _label(value: str) -> str:
    """A label value in Prometheus' text format: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus(report: Report) -> str:
    """The textfile: drift items per host and stage, whether each host could be told, when the
    run started and how long it took. Every series carries the inventory (its file's stem), so
    the runs of several inventories can share one textfile directory."""
    inventory = _label(Path(report.inventory).stem)
    metrics: list[tuple[str, str, list[tuple[str, float]]]] = [
        (
            "nordkube_drift_items",
            "Drift items (planned changes and failing node-suite states) per host and stage.",
            [
                (
                    f'{{inventory="{inventory}",host="{_label(host.name)}",stage="{_label(stage)}"}}',
                    host.counts_by_stage().get(stage, 0),
                )
                for host in report.hosts
                for stage in _stages(report)
            ],
        ),
        (
            "nordkube_drift_host_reachable",
            "1 when drift could tell the host's state, 0 when it could not.",
            [
                (f'{{inventory="{inventory}",host="{_label(host.name)}"}}', int(host.reachable))
                for host in report.hosts
            ],
        ),
        (
            "nordkube_drift_last_run_timestamp_seconds",
            "When the last drift run started, as a Unix timestamp.",
            [(f'{{inventory="{inventory}"}}', datetime.fromisoformat(report.started).timestamp())],
        ),
        (
            "nordkube_drift_run_duration_seconds",
            "How long the last drift run took.",
            [(f'{{inventory="{inventory}"}}', round(report.duration_seconds, 3))],
        ),
        (
            "nordkube_drift_exit_code",
            "The last run's exit code: 0 clean, 1 drift, 2 could not tell.",
            [(f'{{inventory="{inventory}"}}', report.exit_code)],
        ),
    ]
    lines = []
    for name, help_text, samples in metrics:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        lines += [f"{name}{labels} {_number(value)}" for labels, value in samples]
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))

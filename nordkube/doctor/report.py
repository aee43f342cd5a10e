"""The doctor's report: one Markdown page a person reads top to bottom (what is wrong first,
then each measurement), and the same as JSON (docs/doctor.md). Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from nordkube.doctor.judge import (
    ETCD_TIMING_SETTINGS,
    EXIT_CODES,
    FAIL,
    OK,
    UNKNOWN,
    WARN,
    Finding,
    Matrix,
    Node,
    mtu_matrix,
    rtt_matrix,
    verdict,
)
from nordkube.settings import Settings

SCHEMA_VERSION = 1
VERDICT_WORDS = {OK: "fit", WARN: "fit, with warnings", FAIL: "unfit", UNKNOWN: "could not tell"}
_MARK = {OK: "", WARN: " (warn)", FAIL: " (fail)", UNKNOWN: " (?)"}


@dataclass
class DoctorReport:
    inventory: str
    started: str
    duration_seconds: float
    nodes: dict[str, Node]
    measured: dict[str, Any]
    findings: list[Finding]
    errors: list[str]

    @property
    def verdict(self) -> str:
        level = verdict(self.findings)
        return UNKNOWN if self.errors or not self.nodes else level

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def to_json(self) -> dict[str, Any]:
        settings = next(iter(self.nodes.values())).settings if self.nodes else None
        thresholds = thresholds_of(settings) if settings else {}
        return {
            "schema": SCHEMA_VERSION,
            "inventory": self.inventory,
            "started": self.started,
            "duration_seconds": round(self.duration_seconds, 3),
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "errors": self.errors,
            "thresholds": thresholds,
            "findings": [asdict(finding) for finding in self.findings],
            "measured": self.measured,
        }


def thresholds_of(settings: Settings) -> dict[str, Any]:
    """The settings the doctor judges against: its own (doctor_*) and etcd's timing."""
    return {
        spec.name: getattr(settings, spec.name)
        for spec in fields(settings)
        if spec.name.startswith("doctor_") or spec.name in ETCD_TIMING_SETTINGS
    }


def _of(findings: Iterable[Finding], check: str, host: str | None = None) -> list[Finding]:
    return [f for f in findings if f.check == check and (host is None or f.host == host)]


def _level(findings: Iterable[Finding]) -> str:
    return verdict(findings)


def _matrix(
    matrix: Matrix,
    cell: Any,
    flagged: Mapping[tuple[str, str], str],
) -> list[str]:
    lines = [
        "| from \\ to | " + " | ".join(matrix.columns) + " |",
        "|---|" + "---|" * len(matrix.columns),
    ]
    for row in matrix.rows:
        cells = []
        for column in matrix.columns:
            if column == row:
                cells.append("-")
                continue
            value = matrix.cells.get((row, column))
            text = cell(value) if value is not None or (row, column) in matrix.cells else ""
            cells.append(text + _MARK.get(flagged.get((row, column), OK), ""))
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return lines


def _rtt_cell(result: Mapping[str, Any]) -> str:
    if "error" in result or result.get("avg_ms") is None:
        return "no answer"
    text = f"{result.get('median_ms') or result['avg_ms']:.2f}"
    return text + (f" ({result['loss_percent']:.0f}% loss)" if result["loss_percent"] else "")


def _mtu_cell(mtu: int | None) -> str:
    return "none" if mtu is None else str(mtu)


def _flags(findings: Iterable[Finding], check: str) -> dict[tuple[str, str], str]:
    """The matrix cells the findings of a check name, at each one's worst level."""
    flags: dict[tuple[str, str], str] = {}
    for finding in findings:
        if finding.check != check or finding.level == OK:
            continue
        for pair in finding.pairs:
            flags[pair] = verdict([finding, Finding(check, flags.get(pair, OK), None, "")])
    return flags


def markdown(report: DoctorReport) -> str:
    findings = report.findings
    counts = {level: sum(f.level == level for f in findings) for level in (FAIL, WARN, UNKNOWN)}
    started = datetime.fromisoformat(report.started).strftime("%Y-%m-%d %H:%M:%S %Z")
    lines = [
        f"# nordkube doctor: {report.inventory}",
        "",
        f"{started}, {report.duration_seconds:.0f} s: **{VERDICT_WORDS[report.verdict]}** "
        f"(exit {report.exit_code}); {counts[FAIL]} failed, {counts[WARN]} warnings, "
        f"{counts[UNKNOWN]} could not tell. Read-only: the one write is fio's 22 MiB test file "
        "on each etcd member, in a temporary directory it removes.",
        "",
    ]
    if report.errors:
        lines += ["## The run", ""] + [f"- {error}" for error in report.errors] + [""]
    problems = [f for f in findings if f.level != OK]
    lines += ["## Findings", ""]
    lines += [
        f"- **{f.level}** {f.check}"
        + (f" · {f.host}" if f.host else "")
        + f": {f.message}"
        + (f" (`{f.setting}`)" if f.setting else "")
        for f in problems
    ] or ["- nothing wrong found"]
    lines.append("")
    measured = report.measured
    names = [name for name in report.nodes if name in measured.get("hosts", {})]
    settings = next(iter(report.nodes.values())).settings if report.nodes else None
    if settings and names:
        lines += _steal_and_disk(report, names, settings)
        lines += _network(report, settings)
        lines += _nodes(report, names)
    return "\n".join(lines).rstrip("\n") + "\n"


def _steal_and_disk(report: DoctorReport, names: list[str], settings: Any) -> list[str]:
    hosts = report.measured["hosts"]
    lines = [
        f"## CPU steal (over {settings.doctor_steal_window} s; at most "
        f"{settings.doctor_steal_max_percent}%)",
        "",
        "| host | steal | verdict |",
        "|---|---|---|",
    ]
    for name in names:
        share = hosts[name].get("steal", {}).get("steal_percent")
        level = _level(_of(report.findings, "steal", name))
        lines.append(f"| {name} | {'?' if share is None else f'{share:.1f}%'} | {level} |")
    lines += [
        "",
        f"## etcd's disk (fio, the WAL's 2300-byte writes with fdatasync; p99 under "
        f"{settings.doctor_fsync_p99_max_ms} ms, at least {settings.doctor_min_iops} IOPS)",
        "",
        "| host | filesystem measured | fdatasync p99 | IOPS | verdict |",
        "|---|---|---|---|---|",
    ]
    for name in names:
        disk = hosts[name].get("etcd_disk")
        if not disk:
            continue
        fio = disk.get("fio") or {}
        where = f"{disk['directory']} on {disk['source']}"
        p99 = f"{fio['fsync_p99_ms']:.2f} ms" if "fsync_p99_ms" in fio else "-"
        iops = f"{fio['iops']:.0f}" if "iops" in fio else "-"
        level = _level(_of(report.findings, "etcd disk", name))
        lines.append(f"| {name} | {where} | {p99} | {iops} | {level} |")
    return [*lines, ""]


def _network(report: DoctorReport, settings: Any) -> list[str]:
    measured = report.measured
    lines = [
        "## RTT between nodes (ms, the median of 10 pings over the private network; local "
        f"network up to {settings.doctor_lan_rtt_ms} ms)",
        "",
    ]
    lines += _matrix(
        rtt_matrix(measured, settings.doctor_rtt_targets),
        _rtt_cell,
        _flags(report.findings, "rtt"),
    )
    timing = _of(report.findings, "etcd timing")
    lines += ["", *[f"etcd timing ({f.level}): {f.message}." for f in timing], ""]
    lines += ["## Path MTU between nodes (bytes, don't-fragment probes)", ""]
    lines += _matrix(mtu_matrix(measured), _mtu_cell, _flags(report.findings, "mtu"))
    lines += ["", *[f"{f.level}: {f.message}." for f in _of(report.findings, "mtu")], ""]
    return lines


def _nodes(report: DoctorReport, names: list[str]) -> list[str]:
    lines = [
        "## Nodes",
        "",
        "| host | role | OS and Kubernetes | CPUs, memory | swap | clock | ports | identity |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        node = report.nodes[name]
        role = "control plane" if node.control_plane else "worker"
        if node.etcd:
            role += ", etcd"
        cells = [
            _level(_of(report.findings, check, name))
            for check in ("support", "resources", "swap", "time", "ports", "identity")
        ]
        cells[1] = f"{_first(report.findings, 'resources', name)} ({cells[1]})"
        lines.append(f"| {name} | {role} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _first(findings: Iterable[Finding], check: str, host: str) -> str:
    found = _of(findings, check, host)
    return found[0].message.split(" (")[0] if found else "?"

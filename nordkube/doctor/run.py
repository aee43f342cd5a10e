"""One doctor run: pyinfra runs the probe file (doctor.py) against the inventory as the deploy
would reach it (its SSH settings, sudo), the measurements come back as JSON, and the judgement
and report follow. Hosts pyinfra dropped are named with what it said about them."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from nordkube.check import InventoryError, select_hosts
from nordkube.doctor import OUTPUT_ENV
from nordkube.doctor.judge import Node, judge
from nordkube.doctor.report import DoctorReport
from nordkube.inventory import CONTROL_PLANE
from nordkube.pyinfra_run import host_progress, progress_lines, run_dry, run_error
from nordkube.settings import Settings, SettingsError
from nordkube.validation import etcd_hosts

PROBE_FILE = "doctor.py"
REPORT_FILES = {"json": "doctor.json", "markdown": "doctor.md"}


def doctor(
    inventory: str, limit: list[str], data: Mapping[str, str], timeout: float = 1800.0
) -> DoctorReport:
    started, clock = datetime.now(UTC).isoformat(timespec="seconds"), time.monotonic()
    try:
        hosts = select_hosts(inventory, limit, data, ssh_only=False)
        settings = {host.name: Settings.from_data(host.data, host.name) for host in hosts}
    except InventoryError as error:
        return DoctorReport(inventory, started, 0.0, {}, {}, [], error.problems)
    except SettingsError as error:
        return DoctorReport(inventory, started, 0.0, {}, {}, [], [str(p) for p in error.problems])
    members = {host.name for host in etcd_hosts(hosts, next(iter(settings.values())))}
    nodes = {
        host.name: Node(
            host.name, settings[host.name], CONTROL_PLANE in host.groups, host.name in members
        )
        for host in hosts
    }
    errors: list[str] = []
    measured: dict = {}
    with tempfile.TemporaryDirectory(prefix="nordkube-doctor-") as workdir:
        output = Path(workdir) / "measured.json"
        try:
            result = run_dry(
                PROBE_FILE,
                inventory,
                limit,
                data,
                timeout,
                flags=("--dry",),
                env={OUTPUT_ENV: str(output)},
            )
            lines = progress_lines(result.stderr)
        except subprocess.TimeoutExpired:
            lines, errors = [], [f"the probes did not finish within {timeout:.0f} s"]
        if output.exists():
            measured = json.loads(output.read_text())
        elif not errors:
            errors.append(run_error(lines) or "the probe file wrote no measurements")
    _, dropped = host_progress(lines)
    measured_hosts = measured.get("hosts", {})
    unreachable = {
        name: "; ".join(dropped.get(name, [])) or "pyinfra did not reach it"
        for name in nodes
        if name not in measured_hosts
    }
    return DoctorReport(
        inventory=inventory,
        started=started,
        duration_seconds=time.monotonic() - clock,
        nodes=nodes,
        measured=measured,
        findings=judge(measured, nodes, unreachable),
        errors=errors,
    )

"""The doctor's one readable report (Markdown) and its JSON: what is wrong first, then the
steal and disk tables, the RTT matrix with etcd's timing, the path-MTU matrix."""

from __future__ import annotations

import json

from nordkube.doctor.judge import judge
from nordkube.doctor.report import SCHEMA_VERSION, DoctorReport, markdown
from tests.unit.test_doctor_judge import measured, nodes


def _report(**kwargs) -> DoctorReport:
    data = measured(**kwargs)
    every = nodes()
    return DoctorReport(
        "inventories/lab.py",
        "2026-12-01T20:00:00+00:00",
        63.0,
        every,
        data,
        judge(data, every, {}),
        [],
    )


def test_markdown_puts_findings_first_and_flags_the_pairs_through_the_slow_small_node() -> None:
    text = markdown(_report(node3_rtt=21.3, node3_mtu=1450))
    lines = text.splitlines()
    assert lines[0] == "# nordkube doctor: inventories/lab.py"
    assert "**unfit** (exit 1)" in lines[2]
    assert lines.index("## Findings") < lines.index("## CPU steal (over 5 s; at most 10%)")
    assert (
        "- **warn** rtt · node1: node1 -> node3: 21.3 ms typically, 19.2 ms at the fastest" in text
    )
    rtt = lines.index(next(line for line in lines if line.startswith("## RTT between nodes")))
    assert lines[rtt + 2 : rtt + 7] == [
        "| from \\ to | node1 | node2 | node3 |",
        "|---|---|---|---|",
        "| node1 | - | 0.50 | 21.30 (warn) |",
        "| node2 | 0.50 | - | 21.30 (warn) |",
        "| node3 | 21.30 (warn) | 21.30 (warn) | - |",
    ]
    assert any(
        line.startswith("etcd timing (ok): largest RTT between etcd members 21.3 ms")
        for line in lines
    )
    mtu = lines.index("## Path MTU between nodes (bytes, don't-fragment probes)")
    assert lines[mtu + 4 : mtu + 7] == [
        "| node1 | - | 1500 | 1450 (fail) |",
        "| node2 | 1500 | - | 1450 (fail) |",
        "| node3 | 1450 (fail) | 1450 (fail) | - |",
    ]
    assert "| node1 | /var/lib/etcd on /dev/nvme0n1 | 4.60 ms | 412 | ok |" in lines


def test_json_has_the_schema_verdict_thresholds_findings_and_measurements() -> None:
    data = json.loads(json.dumps(_report(node3_mtu=1450).to_json()))
    assert (data["schema"], data["verdict"], data["exit_code"]) == (SCHEMA_VERSION, "fail", 1)
    assert data["thresholds"]["doctor_fsync_p99_max_ms"] == 10
    assert data["thresholds"]["etcd_election_timeout"] == 1000
    (mtu,) = [finding for finding in data["findings"] if finding["check"] == "mtu"]
    assert mtu["level"] == "fail" and ["node1", "node3"] in mtu["pairs"]
    assert data["measured"]["hosts"]["node1"]["steal"] == {"steal_percent": 0.4}


def test_a_run_that_could_not_start_could_not_tell() -> None:
    report = DoctorReport("missing.py", "2026-12-01T20:00:00+00:00", 0.0, {}, {}, [],
                          ["inventory missing.py is not a file"])  # fmt: skip
    assert (report.verdict, report.exit_code) == ("could not tell", 2)
    assert "- inventory missing.py is not a file" in markdown(report)

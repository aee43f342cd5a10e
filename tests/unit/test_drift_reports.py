"""The drift report's renderings: Markdown (changes since the previous run first), JUnit XML,
and the Prometheus textfile, parsed by prometheus_client's own text-format parser."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from nordkube.drift import reports
from nordkube.drift.model import CHECK, PLAN, HostResult, Item, Report, changes_since
from nordkube.drift.run import PREVIOUS, REPORT_FILES, write_reports

STAGES = ["base", "kernel", "runtime"]
FORWARDING = Item(
    "node1", "kernel", CHECK, "test_sysctl_live[net.ipv4.ip_forward]",
    "test_sysctl_live[net.ipv4.ip_forward]", "net.ipv4.ip_forward is 0, expected 1",
)  # fmt: skip
CONTAINERD = Item("node2", "runtime", PLAN, "bbb", "Ensure containerd is running")
CONNTRACK = Item(
    "node2", "kernel", CHECK, "test_sysctl_live[net.ipv4.vs.conntrack]",
    "test_sysctl_live[net.ipv4.vs.conntrack]", owner="kube-proxy: kube-proxy sets its IPVS keys",
)  # fmt: skip


def _report(started: str = "2026-12-02T03:30:00+00:00", **hosts: HostResult) -> Report:
    return Report("inventories/oslo.py", started, 42.25, STAGES, list(hosts.values()))


def current() -> Report:
    return _report(
        node1=HostResult("node1", items=[FORWARDING]),
        node2=HostResult("node2", items=[CONTAINERD], excluded=[CONNTRACK]),
        node3=HostResult("node3", unknown=['plan: Could not connect (port 22 "refused")']),
    )


def previous() -> Report:
    return _report(
        "2026-12-01T03:30:00+00:00",
        node1=HostResult("node1", items=[FORWARDING]),
        node2=HostResult("node2"),
        node3=HostResult("node3"),
    )


def test_markdown_says_what_changed_since_the_previous_run_before_the_hosts() -> None:
    text = reports.markdown(current(), changes_since(previous(), current()))
    lines = text.splitlines()
    assert lines[0] == "# nordkube drift: inventories/oslo.py"
    assert "**could not tell** (exit 2); 3 host(s): 0 clean, 2 drifted, 1 could not tell" in text
    since = lines.index("## Since the previous run (2026-12-01 03:30:00 UTC)")
    assert since < lines.index("## Hosts")
    assert lines[since + 2 : since + 5] == [
        "- node2: clean -> drift",
        "- node3: clean -> could not tell",
        "- new: node2 · **runtime** (plan) Ensure containerd is running",
    ]
    assert "| node1 | drift | 0 | 1 | 0 |" in lines
    assert '- could not tell: plan: Could not connect (port 22 "refused")' in lines
    assert lines[-1].startswith("- node2 · **kernel** (check) `test_sysctl_live[net.ipv4.vs.conn")
    assert lines[-1].endswith("(owned by kube-proxy: kube-proxy sets its IPVS keys)")


def test_markdown_of_a_first_and_an_unchanged_run() -> None:
    assert "No previous report: this is the first run." in reports.markdown(current(), None)
    same = reports.markdown(current(), changes_since(current(), current()))
    assert "Nothing changed since the previous run (2026-12-02 03:30:00 UTC)." in same


def test_junit_has_a_case_per_host_and_stage_and_one_per_host_for_reachability() -> None:
    suite = ElementTree.fromstring(reports.junit(current()))
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("12", "2", "1")
    cases = {(case.get("classname"), case.get("name")): case for case in suite.iter("testcase")}
    kernel = cases[("nordkube.drift.node1", "kernel")].find("failure")
    assert kernel is not None and kernel.get("message") == "1 drift item(s) in kernel"
    assert kernel.text == (
        "kernel (check) test_sysctl_live[net.ipv4.ip_forward]: net.ipv4.ip_forward is 0, expected 1"
    )
    unreachable = cases[("nordkube.drift.node3", "reachable")].find("error")
    assert unreachable is not None and "Could not connect" in unreachable.get("message", "")
    assert cases[("nordkube.drift.node2", "kernel")].find("failure") is None  # owned: not drift


def test_prometheus_textfile_parses_with_prometheus_clients_parser() -> None:
    families = {
        family.name: family
        for family in text_string_to_metric_families(reports.prometheus(current()))
    }
    assert set(families) == {
        "nordkube_drift_items",
        "nordkube_drift_host_reachable",
        "nordkube_drift_last_run_timestamp_seconds",
        "nordkube_drift_run_duration_seconds",
        "nordkube_drift_exit_code",
    }
    assert all(family.type == "gauge" for family in families.values())
    items = {
        (sample.labels["host"], sample.labels["stage"]): sample.value
        for sample in families["nordkube_drift_items"].samples
    }
    assert len(items) == 9  # every host and stage, zeros included
    assert items[("node1", "kernel")] == 1 and items[("node2", "runtime")] == 1
    assert items[("node2", "kernel")] == 0
    reachable = {
        s.labels["host"]: s.value for s in families["nordkube_drift_host_reachable"].samples
    }
    assert reachable == {"node1": 1, "node2": 1, "node3": 0}
    (started,) = families["nordkube_drift_last_run_timestamp_seconds"].samples
    assert started.value == 1796182200 and started.labels == {"inventory": "oslo"}
    (duration,) = families["nordkube_drift_run_duration_seconds"].samples
    assert duration.value == 42.25
    assert families["nordkube_drift_exit_code"].samples[0].value == 2


def test_prometheus_label_values_are_escaped() -> None:
    report = _report(odd=HostResult('we"ird\\host\n', items=[FORWARDING]))
    (family,) = [
        f
        for f in text_string_to_metric_families(reports.prometheus(report))
        if f.name.endswith("reachable")
    ]
    assert family.samples[0].labels["host"] == 'we"ird\\host\n'


def test_report_directory_keeps_the_previous_run(tmp_path: Path) -> None:
    assert write_reports(previous(), tmp_path) is None
    changes = write_reports(current(), tmp_path)
    assert changes is not None and [item.key for item in changes.new] == ["bbb"]
    assert json.loads((tmp_path / PREVIOUS).read_text())["started"] == "2026-12-01T03:30:00+00:00"
    assert json.loads((tmp_path / REPORT_FILES["json"]).read_text())["exit_code"] == 2
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [*REPORT_FILES.values(), PREVIOUS]
    )
    assert "## Since the previous run" in (tmp_path / REPORT_FILES["markdown"]).read_text()

"""The drift report's verdicts, exit codes, JSON form and what changed since the last run."""

from __future__ import annotations

import json

import pytest

from nordkube.drift.model import (
    CHECK,
    PLAN,
    SCHEMA_VERSION,
    HostResult,
    Item,
    Report,
    changes_since,
)

FORWARDING = Item(
    "node1",
    "kernel",
    CHECK,
    "test_sysctl_live[net.ipv4.ip_forward]",
    "test_sysctl_live[net.ipv4.ip_forward]",
    "net.ipv4.ip_forward is 0, expected 1",
    subject="sysctl:net.ipv4.ip_forward",
)
SYSCTLS_LIVE = Item("node1", "kernel", PLAN, "aaa", "Ensure the kernel parameters are live")
CONNTRACK = Item(
    "node2",
    "kernel",
    CHECK,
    "test_sysctl_live[net.ipv4.vs.conntrack]",
    "test_sysctl_live[net.ipv4.vs.conntrack]",
    subject="sysctl:net.ipv4.vs.conntrack",
    owner="kube-proxy: kube-proxy sets its IPVS keys",
)


def _report(*hosts: HostResult, errors: list[str] | None = None) -> Report:
    return Report("inventories/oslo.py", "2026-12-01T03:30:00+00:00", 12.5, ["base", "kernel"],
                  list(hosts), errors or [])  # fmt: skip


@pytest.mark.parametrize(
    ("hosts", "errors", "verdict", "exit_code"),
    [
        ([HostResult("node1"), HostResult("node2", excluded=[CONNTRACK])], [], "clean", 0),
        ([HostResult("node1", items=[FORWARDING]), HostResult("node2")], [], "drift", 1),
        (
            [HostResult("node1", items=[FORWARDING]), HostResult("node3", unknown=["plan: x"])],
            [],
            "could not tell",
            2,
        ),
        ([HostResult("node1")], ["the deploy stopped"], "could not tell", 2),
        ([], [], "could not tell", 2),
    ],
    ids=["clean, owned state excluded", "drift", "a host unknown", "a run error", "no hosts"],
)
def test_verdict_and_exit_code(hosts, errors, verdict, exit_code) -> None:
    report = _report(*hosts, errors=errors)
    assert (report.verdict, report.exit_code) == (verdict, exit_code)


def test_json_round_trip_keeps_everything() -> None:
    reload = Item("node1", "runtime", PLAN, "ccc", "Reload systemd's units", "conditional: ...")
    report = _report(
        HostResult(
            "node1",
            items=[FORWARDING, SYSCTLS_LIVE],
            conditional=[reload],
            sources={"plan": "planned"},
        ),
        HostResult("node2", excluded=[CONNTRACK]),
        HostResult("node3", unknown=["plan: Could not connect"]),
    )
    data = json.loads(json.dumps(report.to_json()))
    assert data["schema"] == SCHEMA_VERSION
    assert (data["verdict"], data["exit_code"]) == ("could not tell", 2)
    assert data["hosts"][0]["items"][0] == {
        "stage": "kernel",
        "source": "check",
        "key": "test_sysctl_live[net.ipv4.ip_forward]",
        "title": "test_sysctl_live[net.ipv4.ip_forward]",
        "detail": "net.ipv4.ip_forward is 0, expected 1",
        "subject": "sysctl:net.ipv4.ip_forward",
    }
    again = Report.from_json(data)
    assert again.to_json() == report.to_json()


def test_another_schema_is_refused() -> None:
    data = _report(HostResult("node1")).to_json() | {"schema": SCHEMA_VERSION + 1}
    with pytest.raises(ValueError, match="schema"):
        Report.from_json(data)


def test_changes_since_the_previous_run_by_item_identity_and_verdict() -> None:
    retitled = Item("node1", "kernel", PLAN, "aaa", "Ensure kernel parameters are live (renamed)")
    previous = _report(
        HostResult("node1", items=[FORWARDING, SYSCTLS_LIVE]),
        HostResult("node3"),
    )
    swap = Item("node2", "base", CHECK, "test_swap_off_now", "test_swap_off_now", "swap is on")
    current = _report(
        HostResult("node1", items=[retitled]),
        HostResult("node2", items=[swap]),
        HostResult("node3", unknown=["plan: Could not connect"]),
    )
    changes = changes_since(previous, current)
    assert changes.previous_started == "2026-12-01T03:30:00+00:00"
    assert changes.new == [swap]
    assert changes.resolved == [FORWARDING]  # the renamed operation is the same item
    assert changes.verdicts == [
        ("node2", "not in the previous run", "drift"),
        ("node3", "clean", "could not tell"),
    ]
    assert changes.any
    assert not changes_since(current, current).any

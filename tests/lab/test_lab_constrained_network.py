"""`nordkube doctor` on a lab whose node3 sits behind 10 ms of delay and a 1450-byte path
(`--delay node3=10 --path-mtu node3=1450`), with all three nodes etcd members.

Without fio on the nodes the doctor says so and cannot tell (exit 2), and still measures the
rest: steal on every node, node3 flagged in the RTT matrix with etcd's timing advice, and the
MTU matrix naming every pair through node3. Once the operator has installed fio, every etcd
member's fdatasync p99 is reported. The doctor itself changes nothing (the nodes' packages are
the same before and after).

Runs before test_lab_deploy.py (file order) on a lab of its own, down before that one starts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.lab.labtools import NODES, nordkube, on_node

pytestmark = pytest.mark.lab

THROUGH_NODE3 = {("node1", "node3"), ("node2", "node3"), ("node3", "node1"), ("node3", "node2")}
PACKAGES = "dpkg-query -W -f=\\${Package}=\\${Version}\\\\n | sort"


def doctor(reports: Path) -> tuple[int, dict, str]:
    result = nordkube("doctor", "inventories/lab.py", "--report-dir", str(reports), timeout=1800)
    return result.returncode, json.loads((reports / "doctor.json").read_text()), result.stdout


def findings(report: dict, check: str) -> list[dict]:
    return [finding for finding in report["findings"] if finding["check"] == check]


def test_without_fio_it_cannot_tell_the_disk_and_flags_node3_in_both_matrices(
    slow_small_node_lab, tmp_path
):
    before = {node: on_node(node, PACKAGES) for node in NODES}
    returncode, report, markdown = doctor(tmp_path)
    assert returncode == 2, markdown[-4000:]
    disks = findings(report, "etcd disk")
    assert {(f["host"], f["level"]) for f in disks if "fio is not installed" in f["message"]} == {
        (node, "could not tell") for node in NODES
    }
    assert {f["host"] for f in findings(report, "steal")} == set(NODES)

    slow = [f for f in findings(report, "rtt") if f["setting"] == "doctor_lan_rtt_ms"]
    assert {tuple(pair) for f in slow for pair in f["pairs"]} == THROUGH_NODE3, markdown
    (timing,) = findings(report, "etcd timing")
    assert "node3" in timing["message"] and "largest RTT between etcd members" in timing["message"]
    rtts = {
        (row, column): cell
        for row, found in report["measured"]["hosts"].items()
        for column, cell in found["rtt"].items()
    }
    assert all(cell["avg_ms"] >= 10 for (row, _), cell in rtts.items() if row == "node3")

    (mtu,) = [f for f in findings(report, "mtu") if f["level"] == "fail"]
    assert {tuple(pair) for pair in mtu["pairs"]} == THROUGH_NODE3
    assert "1450" in mtu["message"]
    assert "| node1 | - | 1500 | 1450 (fail) |" in markdown
    assert "etcd timing (" in markdown
    assert {node: on_node(node, PACKAGES) for node in NODES} == before


def test_with_fio_installed_every_etcd_members_fsync_p99_is_reported(slow_small_node_lab, tmp_path):
    install = (
        "sudo sh -c 'dpkg --configure -a; apt-get update -q -o Acquire::Languages=none && "
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends fio'"
    )
    for node in NODES:  # as the operator would; under emulation this takes minutes
        for _ in range(2):  # once seen on the lab: the SSH session dropped halfway through dpkg
            if nordkube("lab", "ssh", node, install, timeout=1200).returncode == 0:
                break
        assert on_node(node, "command -v fio").strip(), f"{node}: fio did not install"
    returncode, report, markdown = doctor(tmp_path)
    assert returncode == 1, markdown[-4000:]  # the path MTU through node3 fails
    disks = report["measured"]["hosts"]
    for node in NODES:
        fio = disks[node]["etcd_disk"]["fio"]
        assert fio["fsync_p99_ms"] > 0 and fio["iops"] > 0, fio
    assert not [f for f in findings(report, "etcd disk") if f["level"] == "could not tell"]
    assert "## etcd's disk" in markdown

"""`nordkube drift` on the session's 3-node lab: clean after a converge, and changing nothing;
four drifts on different nodes reported exactly, per host, and gone after one converge; a
stopped VM named as could not tell while the others are reported.

Runs after test_lab_deploy.py (file order) on the same lab; it converges first itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.lab.labtools import NODES, converge, nordkube, on_node

pytestmark = pytest.mark.lab

REPORTS = ("drift.json", "drift.md", "drift.junit.xml", "drift.prom")
SYSCTLS_LIVE = "Ensure the kernel parameters are live"
PACKAGES = "Ensure the packages kube-proxy and kubeadm need are installed"
MODULES_FILE = "Persist kernel modules in /etc/modules-load.d/nordkube.conf"
CONTAINERD = "Ensure containerd is running and enabled at boot"
# What a node's state is, for "drift changed nothing": the deploy's kernel parameters live,
# the loaded modules, the managed files' digests, the installed packages, the managed services.
FINGERPRINT = (
    "for k in net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables vm.overcommit_memory "
    "kernel.panic fs.inotify.max_user_watches; do sysctl -n $k; done; "
    "cut -d\\  -f1 /proc/modules | sort; "
    "sha256sum /etc/sysctl.d/*.conf /etc/modules-load.d/*.conf /etc/containerd/config.toml "
    "2>/dev/null; dpkg-query -W -f=\\${Package}=\\${Version}\\\\n | sort; "
    "systemctl is-active containerd chrony; systemctl is-enabled containerd chrony; "
    "cat /proc/swaps"
)


def drift(reports: Path, *extra: str) -> tuple[int, dict, str]:
    result = nordkube(
        "drift", "inventories/lab.py", "--report-dir", str(reports), *extra, timeout=1800
    )
    report = json.loads((reports / "drift.json").read_text())
    print(f"drift on the lab: {report['duration_seconds']:.1f} s, exit {result.returncode}")
    return result.returncode, report, result.stdout + result.stderr


def hosts(report: dict) -> dict[str, dict]:
    return {host["name"]: host for host in report["hosts"]}


def items(report: dict) -> set[tuple[str, str, str, str]]:
    """(host, stage, source, title) of every item."""
    return {
        (host["name"], item["stage"], item["source"], item["title"])
        for host in report["hosts"]
        for item in host["items"]
    }


def test_after_a_converge_drift_is_clean_writes_every_report_and_changes_nothing(lab, tmp_path):
    result = converge()
    assert result.returncode == 0, result.output[-4000:]
    before = {node: on_node(node, FINGERPRINT) for node in NODES}
    returncode, report, output = drift(tmp_path)
    assert returncode == 0, output[-4000:]
    assert {host["name"]: host["verdict"] for host in report["hosts"]} == dict.fromkeys(
        NODES, "clean"
    ), json.dumps(report, indent=1)[-4000:]
    assert all(
        host["sources"] == {"plan": "planned", "check": "checked"} for host in report["hosts"]
    )
    for name in REPORTS:
        assert (tmp_path / name).stat().st_size > 0, name
    families = list(text_string_to_metric_families((tmp_path / "drift.prom").read_text()))
    reachable = next(f for f in families if f.name == "nordkube_drift_host_reachable")
    assert {sample.labels["host"]: sample.value for sample in reachable.samples} == dict.fromkeys(
        NODES, 1.0
    )
    assert {node: on_node(node, FINGERPRINT) for node in NODES} == before


def test_four_drifts_on_different_nodes_are_reported_exactly_and_one_converge_clears_them(
    lab, tmp_path
):
    on_node("node1", "sysctl -qw vm.overcommit_memory=0")
    on_node("node1", "DEBIAN_FRONTEND=noninteractive apt-get remove -y -q socat")
    on_node("node2", "rm /etc/modules-load.d/nordkube.conf")
    on_node("node3", "systemctl stop containerd")

    returncode, report, output = drift(tmp_path / "drifted")
    assert returncode == 1, output[-4000:]
    found = items(report)
    plans = {(h, stage, title) for h, stage, source, title in found if source == "plan"}
    assert {(h, s, t.split(" (")[0].split(",")[0]) for h, s, t in plans} == {
        ("node1", "kernel", SYSCTLS_LIVE),
        ("node1", "base", PACKAGES),
        ("node2", "kernel", MODULES_FILE),
        ("node3", "runtime", CONTAINERD),
    }, json.dumps(report, indent=1)[-6000:]
    checks = {(h, stage, title) for h, stage, source, title in found if source == "check"}
    node1 = {(stage, title) for h, stage, title in checks if h == "node1"}
    assert node1 == {
        ("kernel", "test_sysctl_live[vm.overcommit_memory]"),
        ("base", "test_package_installed[socat]"),
    }
    node2 = {(stage, title.split("[")[0]) for h, stage, title in checks if h == "node2"}
    assert node2 == {("kernel", "test_module_persisted")}
    node3 = {(stage, title) for h, stage, title in checks if h == "node3"}
    assert ("runtime", "test_containerd_running_and_enabled") in node3
    assert {stage for stage, _ in node3} == {"runtime"}
    markdown = (tmp_path / "drifted" / "drift.md").read_text()
    assert "| node1 | drift |" in markdown and "| node3 | drift |" in markdown

    result = converge()
    assert result.returncode == 0, result.output[-4000:]
    returncode, report, output = drift(tmp_path / "drifted")
    assert returncode == 0, output[-4000:]
    markdown = (tmp_path / "drifted" / "drift.md").read_text()
    assert "- node2: drift -> clean" in markdown
    assert "- resolved: node3 · **runtime** (plan) " + CONTAINERD in markdown


def test_a_stopped_vm_is_could_not_tell_by_name_and_the_others_are_reported(lab, tmp_path):
    nordkube("lab", "stop", "node3", check=True, timeout=300)
    try:
        returncode, report, output = drift(tmp_path)
    finally:
        nordkube("lab", "start", "node3", check=True, timeout=600)
    assert returncode == 2, output[-4000:]
    by_name = hosts(report)
    assert by_name["node3"]["verdict"] == "could not tell"
    assert any("Could not connect" in reason for reason in by_name["node3"]["unknown"])
    assert "node3: could not tell" in output
    assert {by_name["node1"]["verdict"], by_name["node2"]["verdict"]} == {"clean"}

"""`nordkube drift` end to end without a machine: the real deploy planned against @fake hosts.

Two @fake hosts answer from the fresh Debian 13 recording (inventories/recordings); one of
them already has the kernel parameters live and persisted, so the kernel stage's two sysctl
operations change only the other. A third host is an SSH host at a loopback port nothing
listens on: pyinfra drops it from its plan and the node suite cannot reach it. Drift must
attribute every change to its host and stage, name the unreachable host and exit 2, and exit 1
once that host is left out.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SYSCTLS_LIVE = "Ensure the kernel parameters are live"
SYSCTLS_PERSISTED = "Persist kernel parameters in /etc/sysctl.d/90-nordkube.conf"
MODULES_PERSISTED = "Persist kernel modules in /etc/modules-load.d/nordkube.conf"

INVENTORY = """
import dataclasses, hashlib, sys
sys.path.insert(0, {root!r})
from inventories.recordings import RECORDINGS
from nordkube import node
from nordkube.managed import SYSCTL_FILE

_base = RECORDINGS["debian-13"]


def _host(name, index, **changes):
    old = _base.identity
    new = dataclasses.replace(
        old,
        hostname=name,
        machine_id=f"{{index:032x}}",
        product_uuid=f"00000000-0000-4000-8000-{{index:012x}}",
        public_mac=f"52:54:00:aa:00:{{index:02x}}",
        private_mac=f"52:54:00:bb:00:{{index:02x}}",
        private_address=f"10.20.0.{{10 + index}}/24",
    )
    swap = {{old.public_mac: new.public_mac, old.private_mac: new.private_mac,
             old.private_address: new.private_address}}

    def renamed(lines):
        for before, after in swap.items():
            lines = [line.replace(before, after) for line in lines]
        return lines

    recording = dataclasses.replace(
        _base, host="@fake/" + name, identity=new, links=renamed(_base.links),
        addresses=renamed(_base.addresses), **changes,
    )
    return recording.host, {{
        "fake_responses": recording.fake_responses(), "fake_delay": 0, "fake_delay_jitter": 0,
        "node_network": "10.20.0.0/24", "private_address": new.private_ip,
    }}


_sysctl_file = node.render_sysctl_file(node.SYSCTLS)
_tuned = {{
    "sysctls": {{**_base.sysctls, **node.SYSCTLS}},
    "files": {{SYSCTL_FILE: hashlib.sha256(_sysctl_file.encode()).hexdigest() + " 644"}},
}}
control_plane = [_host("fresh", 1) + ()]
control_plane[0][1]["etcd_device"] = "/dev/nvme0n1"
workers = [
    _host("tuned", 2, **_tuned),
    ("node-down", {{"ssh_hostname": "127.0.0.1", "ssh_port": {port},
                    "node_network": "10.20.0.0/24"}}),
]
"""


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _drift(inventory: Path, reports: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "nordkube"), "drift", str(inventory), "--report-dir", str(reports), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    directory = tmp_path_factory.mktemp("drift")
    inventory = directory / "fleet.py"
    inventory.write_text(INVENTORY.format(root=str(ROOT), port=_closed_port()))
    reports = directory / "reports"
    first = _drift(inventory, reports)
    first_json = json.loads((reports / "drift.json").read_text())
    second = _drift(inventory, reports, "--limit", "@fake/*")
    return reports, [
        (first, first_json),
        (second, json.loads((reports / "drift.json").read_text())),
    ]


def _hosts(report: dict) -> dict[str, dict]:
    return {host["name"]: host for host in report["hosts"]}


def _titles(host: dict, stage: str) -> set[str]:
    return {item["title"] for item in host["items"] if item["stage"] == stage}


def test_an_unreachable_host_is_could_not_tell_by_name_and_the_others_are_reported(runs) -> None:
    _, [(result, report), _] = runs
    assert result.returncode == 2, result.stdout + result.stderr
    assert report["exit_code"] == 2
    hosts = _hosts(report)
    down = hosts["node-down"]
    assert (down["verdict"], down["reachable"]) == ("could not tell", False)
    assert any("Could not connect" in reason for reason in down["unknown"]), down
    assert any(
        reason.startswith("check: cannot reach the node over SSH") for reason in down["unknown"]
    )
    assert "node-down: could not tell" in result.stdout
    assert {hosts["@fake/fresh"]["verdict"], hosts["@fake/tuned"]["verdict"]} == {"drift"}


def test_changes_are_attributed_to_their_host_and_stage(runs) -> None:
    _, [(_, report), _] = runs
    hosts = _hosts(report)
    fresh, tuned = hosts["@fake/fresh"], hosts["@fake/tuned"]
    assert {SYSCTLS_LIVE, SYSCTLS_PERSISTED, MODULES_PERSISTED} <= _titles(fresh, "kernel")
    assert MODULES_PERSISTED in _titles(tuned, "kernel")
    assert not {SYSCTLS_LIVE, SYSCTLS_PERSISTED} & _titles(tuned, "kernel")
    for host in (fresh, tuned):
        assert {item["source"] for item in host["items"]} == {"plan"}
        assert host["sources"]["check"] == "not run: the node suite reaches hosts over SSH only"
        stages = {item["stage"] for item in host["items"]}
        assert {"base", "kernel", "runtime"} <= stages <= set(report["stages"])
    # One operation, one op_hash, on every host it changes.
    keys = {
        h: {i["title"]: i["key"] for i in hosts[h]["items"]} for h in ("@fake/fresh", "@fake/tuned")
    }
    assert keys["@fake/fresh"][MODULES_PERSISTED] == keys["@fake/tuned"][MODULES_PERSISTED]


def test_without_the_unreachable_host_it_is_drift_and_the_markdown_says_what_changed(runs) -> None:
    reports, [_, (result, report)] = runs
    assert result.returncode == 1, result.stdout + result.stderr
    assert sorted(_hosts(report)) == ["@fake/fresh", "@fake/tuned"]
    markdown = (reports / "drift.md").read_text()
    assert markdown.index("## Since the previous run") < markdown.index("## Hosts")
    assert "- node-down: could not tell -> not in this run" in markdown
    assert (reports / "drift.previous.json").exists()
    assert "nordkube_drift_host_reachable" in (reports / "drift.prom").read_text()


def test_a_converged_node_is_clean_and_a_reload_that_follows_nothing_is_not_counted(
    tmp_path: Path,
) -> None:
    """A Debian 12 lab node's recorded answers after a converge (test_idempotence.py's replay):
    the plan changes nothing but the daemon-reload that runs only after containerd's unit
    changed, which pyinfra plans as a conditional change on every dry run."""
    from tests.unit.test_idempotence import lab_like_inventory

    inventory = tmp_path / "converged.py"
    lab_like_inventory(inventory)
    result = _drift(inventory, tmp_path / "reports")
    assert result.returncode == 0, result.stdout + result.stderr
    (host,) = json.loads((tmp_path / "reports" / "drift.json").read_text())["hosts"]
    assert (host["verdict"], host["items"]) == ("clean", [])
    assert [item["stage"] for item in host["conditional"]] == ["runtime"]

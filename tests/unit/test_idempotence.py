"""A converged node needs nothing: every custom fact and operation, replayed on real output.

tests/unit/recordings/debian-12-converged.json holds what a Debian 12 lab node answered after
a converge (recorded with record_converged.py next to it). The whole deploy, planned against
those answers through pyinfra's @fake connector, must plan no change and ask nothing else.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pyinfra.context import ctx_host

from nordkube import managed
from pyinfra_ext import factcache, operations
from pyinfra_ext.facts import FileStates, SelinuxState

ROOT = Path(__file__).resolve().parents[2]
RECORDED = Path(__file__).resolve().parent / "recordings" / "debian-12-converged.json"
BIN = Path(sys.executable).parent


def lab_like_inventory(path: Path) -> None:
    """One @fake host answering only with the recorded output, set up like the lab's node1."""
    path.write_text(
        f"""import json, re
from pathlib import Path
_recorded = json.loads(Path({str(RECORDED)!r}).read_text())
_responses = {{command: lines for command, lines in _recorded.items()}}
_responses[re.compile(".")] = {{"success": False, "stderr": ["UNRECORDED COMMAND"]}}
control_plane = [("@fake/node1", {{
    "fake_delay": 0, "fake_delay_jitter": 0, "fake_responses": _responses,
    "kubernetes_version": "1.28.15", "kubernetes_package_source": "none",
    "node_network": "192.168.77.0/24", "private_interface": "eth1",
    "etcd_device": "/dev/nvme0n1",
}})]
"""
    )


def test_converged_node_plans_no_change_and_asks_only_recorded_facts(tmp_path):
    inventory = tmp_path / "converged.py"
    lab_like_inventory(inventory)
    result = subprocess.run(
        [str(BIN / "pyinfra"), str(inventory), "deploy.py", "--dry", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "UNRECORDED COMMAND" not in result.stderr
    plan = json.loads(result.stdout[result.stdout.find("{") :])["plan"]
    assert len(plan) >= 9
    changing = [op["name"] for op in plan if op["hosts_with_change"]]
    assert changing == []


# -- operations whose converged case the Debian lab cannot record -------------------------


class RecordingHost:
    """Just enough of a pyinfra host for an operation's generator: its no-op notes."""

    name = "node1"

    def __init__(self) -> None:
        self.notes: list[str] = []

    def noop(self, text: str) -> None:
        self.notes.append(text)


def replay(monkeypatch, outputs: dict[type, list[str]]):
    def read(fact: type, target: Any = None, **arguments: Any) -> Any:
        return fact().process(outputs[fact])

    monkeypatch.setattr(factcache, "read", read)


def run_operation(operation: Any, **arguments: Any) -> tuple[list[Any], list[str]]:
    fake = RecordingHost()
    with ctx_host.use(fake):
        commands = list(operation._inner(**arguments))
    return commands, fake.notes


def test_downloaded_key_present_is_not_fetched_again(monkeypatch):
    # `sha256sum` + `stat -c %a` line for an existing key file, as FileStates prints it.
    key = managed.KUBERNETES_APT_KEY
    replay(monkeypatch, {FileStates: [f"{'ab' * 32} 644 {key}"]})
    commands, notes = run_operation(
        operations.file_downloaded, path=key, url="https://pkgs.k8s.io/x/Release.key"
    )
    assert commands == []
    assert notes == [f"{key} exists"]


def test_downloaded_key_missing_is_fetched(monkeypatch):
    replay(monkeypatch, {FileStates: []})
    commands, _ = run_operation(
        operations.file_downloaded,
        path=managed.DOCKER_APT_KEY,
        url="https://download.docker.com/linux/debian/gpg",
    )
    assert any("curl -fsSL" in str(command) for command in commands)


# getenforce(8) prints Enforcing, Permissive or Disabled; /etc/selinux/config holds SELINUX=.
@pytest.mark.parametrize(
    ("live", "config"), [("Permissive", "SELINUX=permissive"), ("Disabled", "SELINUX=disabled")]
)
def test_selinux_already_permissive_needs_nothing(monkeypatch, live, config):
    replay(monkeypatch, {SelinuxState: ["::nordkube:live", live, "::nordkube:config", config]})
    commands, notes = run_operation(operations.selinux_permissive)
    assert commands == []
    assert notes == ["SELinux is not enforcing"]


def test_selinux_enforcing_is_made_permissive_now_and_at_boot(monkeypatch):
    replay(
        monkeypatch,
        {SelinuxState: ["::nordkube:live", "Enforcing", "::nordkube:config", "SELINUX=enforcing"]},
    )
    commands, _ = run_operation(operations.selinux_permissive)
    assert [str(command) for command in commands] == [
        "setenforce 0",
        "sed -i 's/^SELINUX=enforcing$/SELINUX=permissive/' /etc/selinux/config",
    ]


def test_recorded_commands_are_the_ones_the_deploy_sends():
    """The recording's keys are real fact commands (a changed fact must be re-recorded)."""
    recorded = json.loads(RECORDED.read_text())
    names = {re.match(r": nordkube-fact (\w+);", command).group(1) for command in recorded}
    assert names == {
        "NodeFacts",
        "FileStates",
        "InstalledPackages",
        "ServiceStates",
        "SwapState",
        "KernelModules",
        "SysctlValues",
    }

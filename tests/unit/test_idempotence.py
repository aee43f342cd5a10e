"""A converged node needs nothing: the whole deploy, replayed on a real node's answers.

tests/unit/recordings/debian-12-converged.json holds the settings of a Debian 12 lab node and
what it answered to every command the deploy sent it after a converge (recorded with
record_converged.py next to it, which says how to regenerate it). The deploy, planned against
those answers through pyinfra's @fake connector, must plan no change and ask nothing else.
Each fact's and operation's own cases are JSON fixtures (test_fixtures.py), so a change to a
fact's command text needs a new recording only for this replay.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = Path(__file__).resolve().parent / "recordings"
RECORDED = RECORDINGS / "debian-12-converged.json"
BIN = Path(sys.executable).parent
RERECORD = "the deploy asks other commands than the recording: re-record (record_converged.py)"


def lab_like_inventory(path: Path) -> None:
    """One @fake host with the recorded node's settings, answering only the recorded output."""
    path.write_text(
        f"""import json, re
from pathlib import Path
_recorded = json.loads(Path({str(RECORDED)!r}).read_text())
_responses = dict(_recorded["responses"])
_responses[re.compile(".")] = {{"success": False, "stderr": ["UNRECORDED COMMAND"]}}
_settings = dict(_recorded["settings"])
if "bundle" in _recorded:  # the recorded node's bundle, as its manifest
    _bundle = Path({str(path.parent)!r}) / "recorded-bundle"
    _bundle.mkdir(exist_ok=True)
    (_bundle / "bundle.json").write_text(json.dumps(_recorded["bundle"]))
    _settings["kubernetes_bundle"] = str(_bundle)
control_plane = [("@fake/node1", {{
    **_settings,
    "fake_delay": 0, "fake_delay_jitter": 0, "fake_responses": _responses,
}})]
"""
    )


def test_converged_node_plans_no_change_and_asks_only_recorded_facts(tmp_path: Path) -> None:
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
    assert "UNRECORDED COMMAND" not in result.stderr, RERECORD
    plan = json.loads(result.stdout[result.stdout.find("{") :])["plan"]
    assert len(plan) >= 9
    changing = [op["name"] for op in plan if op["hosts_with_change"]]
    assert changing == []


def test_recorded_commands_are_the_ones_the_deploy_sends(tmp_path: Path) -> None:
    """Recording the replayed node gives the recording back: every command the deploy sends
    is recorded, and every recorded command is still sent (a changed fact must be re-recorded).
    This also runs record_converged.py as an operator runs it against the lab."""
    inventory = tmp_path / "converged.py"
    lab_like_inventory(inventory)
    again = tmp_path / "again.json"
    result = subprocess.run(
        [
            str(BIN / "python"),
            str(RECORDINGS / "record_converged.py"),
            f"--inventory={inventory}",
            "--host=@fake/node1",
            f"--output={again}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    recorded, replayed = json.loads(RECORDED.read_text()), json.loads(again.read_text())
    assert replayed["settings"] == recorded["settings"]
    assert sorted(replayed["responses"]) == sorted(recorded["responses"]), RERECORD
    assert replayed["responses"] == recorded["responses"]

"""Helpers of the lab tier: run the real deploy and the real node suite on the lab."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NODES = ("node1", "node2", "node3")


def run(*args: str, timeout: int = 1800, check: bool = False) -> subprocess.CompletedProcess:
    result = subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {result.returncode}\n{result.stdout[-3000:]}"
            f"\n{result.stderr[-3000:]}"
        )
    return result


def nordkube(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return run(str(BIN / "nordkube"), *args, **kwargs)


def on_node(node: str, command: str) -> str:
    """Run a root command on a lab node (to tamper with it, or read its state); its stdout."""
    return nordkube(
        "lab", "ssh", node, f"sudo sh -c {shlex.quote(command)}", check=True, timeout=300
    ).stdout


@dataclass
class Converge:
    returncode: int
    changed: dict[str, int]  # host -> operations that changed it
    errors: dict[str, int]  # host -> operations that failed on it
    failed_hosts: list[str]
    output: str


def converge(*extra: str, timeout: int = 1800) -> Converge:
    """`pyinfra -y --json inventories/lab.py deploy.py`, counted per host."""
    result = run(
        str(BIN / "pyinfra"),
        "-y",
        "--json",
        "inventories/lab.py",
        "deploy.py",
        *extra,
        timeout=timeout,
    )
    start = result.stdout.find("{")
    payload = json.loads(result.stdout[start:]) if start >= 0 else {}
    results = payload.get("results", {})
    changed = {node: 0 for node in NODES}
    errors = {node: 0 for node in NODES}
    for operation in results.get("operations", []):
        for host in operation["success"]:
            changed[host] = changed.get(host, 0) + 1
        for host in operation["error"]:
            errors[host] = errors.get(host, 0) + 1
    return Converge(
        result.returncode,
        changed,
        errors,
        results.get("failed_hosts", []),
        result.stdout + result.stderr,
    )


def check(tmp_path: Path) -> tuple[int, set[tuple[str, str]], str]:
    """`nordkube check inventories/lab.py`: exit code, failed (host, test id), output."""
    returncode, outcomes, output = check_outcomes(tmp_path)
    failures = {state for state, passed in outcomes.items() if not passed}
    return returncode, failures, output


def check_outcomes(tmp_path: Path) -> tuple[int, dict[tuple[str, str], bool], str]:
    """`nordkube check inventories/lab.py`: exit code, whether each (host, test id) that ran
    passed, output."""
    junit = tmp_path / f"check-{len(list(tmp_path.iterdir()))}.xml"
    result = nordkube("check", "inventories/lab.py", "--junit", str(junit))
    outcomes = {}
    if junit.exists():
        for case in ElementTree.parse(junit).iter("testcase"):
            properties = {item.get("name"): item.get("value") for item in case.iter("property")}
            failed = case.find("failure") is not None or case.find("error") is not None
            skipped = case.find("skipped") is not None
            if not skipped:
                outcomes[(properties.get("host", "?"), properties.get("state", "?"))] = not failed
    return result.returncode, outcomes, result.stdout + result.stderr

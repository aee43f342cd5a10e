"""Time the lab: boot, first converge, no-change converge (each split by stage), 1 and 3 nodes.

    uv run python benchmarks/converge.py [--nodes 1,3]

Prints each figure beside its target (the README lists them). Each converge is one full
`pyinfra -y --json inventories/lab.py deploy.py`, as a user runs it. Its stage figures are cut
from pyinfra's progress output where the next stage's first operation starts; the first phase,
"connect, facts, plan", is connecting, reading facts, validating and planning. Boots fresh labs
(brings any running lab down first), so it takes tens of minutes under software emulation.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from nordkube.settings import STAGES

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Performance targets (seconds), by node count, as the README states them.
TARGETS = {
    ("no-change converge", 1): 14,
    ("no-change converge", 3): 30,
    ("first converge", 1): 240,
    ("first converge", 3): 240,
}


def timed(*args: str) -> tuple[float, subprocess.CompletedProcess]:
    start = time.monotonic()
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return elapsed, result


# How each stage's operations are named in pyinfra's progress output: the name its role
# gives @deploy (roles.<stage>.<stage>, as deploy.py calls them).
STAGE_NAMES = {
    stage: getattr(importlib.import_module(f"roles.{stage}"), stage).deploy_name for stage in STAGES
}
PHASES = ("connect, facts, plan", *STAGES)


def converge() -> tuple[float, int, dict[str, float]]:
    """One full `pyinfra -y --json` run, as a user runs it: its seconds, the operations it
    changed, and the seconds of each phase, split where the first operation of the next
    stage starts in pyinfra's progress output."""
    command = [str(BIN / "pyinfra"), "-y", "--json", "inventories/lab.py", "deploy.py"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    start = time.monotonic()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    lines: list[tuple[float, str]] = []
    stdout: list[str] = []

    def read(stream: IO[str], keep: list[str] | None) -> None:
        for line in stream:
            lines.append((time.monotonic(), line))
            if keep is not None:
                keep.append(line)

    readers = [
        threading.Thread(target=read, args=(process.stdout, stdout)),
        threading.Thread(target=read, args=(process.stderr, None)),
    ]
    for reader in readers:
        reader.start()
    process.wait()
    for reader in readers:
        reader.join()
    elapsed = time.monotonic() - start
    text = "".join(stdout)
    if process.returncode != 0:
        tail = "".join(line for _, line in lines[-40:])
        sys.exit(f"{' '.join(command)} failed:\n{tail}")
    payload = json.loads(text[text.find("{") :])
    return elapsed, payload["results"]["totals"]["success"], phases(start, lines, elapsed)


def phases(start: float, lines: list[tuple[float, str]], elapsed: float) -> dict[str, float]:
    """Seconds per phase: each phase ends where the next one's first operation starts."""
    begins = {PHASES[0]: start}
    for stamp, line in sorted(lines):
        for stage, name in STAGE_NAMES.items():
            if stage not in begins and f"Starting operation: {name} |" in line:
                begins[stage] = stamp
    ordered = [phase for phase in PHASES if phase in begins]
    ends = [begins[phase] for phase in ordered[1:]] + [start + elapsed]
    return {phase: end - begins[phase] for phase, end in zip(ordered, ends, strict=True)}


def measure(nodes: int) -> list[tuple[str, float, int | None]]:
    rows: list[tuple[str, float, int | None]] = []
    timed(str(BIN / "nordkube"), "lab", "down")
    boot, _ = timed(str(BIN / "nordkube"), "lab", "up", "--nodes", str(nodes))
    rows.append(("lab boot to SSH", boot, None))
    for label in ("first converge", "no-change converge"):
        seconds, changed, split = converge()
        for phase, phase_seconds in split.items():
            rows.append((f"  {label}: {phase}", phase_seconds, None))
        rows.append((label, seconds, changed))
    timed(str(BIN / "nordkube"), "lab", "down")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default="1,3", help="node counts to measure, e.g. 1,3")
    counts = [int(count) for count in parser.parse_args().nodes.split(",")]
    print(f"{'nodes':>5}  {'measure':<46} {'seconds':>8} {'target':>7} {'changed ops':>11}")
    for nodes in counts:
        for label, seconds, changed in measure(nodes):
            target = TARGETS.get((label, nodes))
            verdict = "" if target is None else ("ok" if seconds <= target else "OVER")
            print(
                f"{nodes:>5}  {label:<46} {seconds:>8.1f} "
                f"{'<= ' + str(target) if target else '':>7} "
                f"{'' if changed is None else changed:>11} {verdict}",
                flush=True,
            )


if __name__ == "__main__":
    main()

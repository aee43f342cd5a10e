"""Time the lab: boot, first converge per stage, no-change converge, for 1 and 3 nodes.

    uv run python benchmarks/converge.py [--nodes 1,3]

Prints each figure beside its target from DESIGN.md. Boots fresh labs (brings any running
lab down first), so it takes tens of minutes under software emulation.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STAGES = ("base", "kernel", "runtime")
# DESIGN.md "Performance targets" (seconds), by node count.
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


def converge(*extra: str) -> tuple[float, int]:
    """Seconds for one `pyinfra -y --json` run, and the operations it changed."""
    elapsed, result = timed(
        str(BIN / "pyinfra"), "-y", "--json", "inventories/lab.py", "deploy.py", *extra
    )
    payload = json.loads(result.stdout[result.stdout.find("{") :])
    return elapsed, payload["results"]["totals"]["success"]


def measure(nodes: int) -> list[tuple[str, float, int | None]]:
    rows: list[tuple[str, float, int | None]] = []
    timed(str(BIN / "nordkube"), "lab", "down")
    boot, _ = timed(str(BIN / "nordkube"), "lab", "up", "--nodes", str(nodes))
    rows.append(("lab boot to SSH", boot, None))
    first_total = 0.0
    for stage in STAGES:
        seconds, changed = converge("--data", f"stages={stage}")
        first_total += seconds
        rows.append((f"first converge: {stage}", seconds, changed))
    rows.append(("first converge", first_total, None))
    for stage in STAGES:
        seconds, changed = converge("--data", f"stages={stage}")
        rows.append((f"no-change converge: {stage}", seconds, changed))
    seconds, changed = converge()
    rows.append(("no-change converge", seconds, changed))
    timed(str(BIN / "nordkube"), "lab", "down")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default="1,3", help="node counts to measure, e.g. 1,3")
    counts = [int(count) for count in parser.parse_args().nodes.split(",")]
    print(f"{'nodes':>5}  {'measure':<32} {'seconds':>8} {'target':>7} {'changed ops':>11}")
    for nodes in counts:
        for label, seconds, changed in measure(nodes):
            target = TARGETS.get((label, nodes))
            verdict = "" if target is None else ("ok" if seconds <= target else "OVER")
            print(
                f"{nodes:>5}  {label:<32} {seconds:>8.1f} "
                f"{'<= ' + str(target) if target else '':>7} "
                f"{'' if changed is None else changed:>11} {verdict}",
                flush=True,
            )


if __name__ == "__main__":
    main()

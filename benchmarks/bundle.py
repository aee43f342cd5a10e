"""Time the offline bundle: a cold build (empty bundle cache), a warm one, and their sizes.

    uv run python benchmarks/bundle.py [--kubernetes 1.35.4] [--cache DIR] [--warm-only]

The cold build runs in a fresh bundle cache (DIR, default a new directory under /tmp), so every
artifact and the Go build cache start empty; Go modules already in the user's module cache are
not downloaded again. A cold build of all of Kubernetes takes tens of minutes on two cores.
--warm-only times warm builds against an existing cache (e.g. ~/.cache/nordkube/bundle).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WARM_TARGET = 30  # DESIGN.md: "a warm bundle build: seconds"


def build(version: str, cache: Path, out: Path) -> tuple[float, dict[str, Any]]:
    """One `nordkube bundle build --json`, as a user runs it: its seconds and its summary."""
    command = [str(BIN / "nordkube"), "bundle", "build", "--kubernetes", version]
    command += ["--out", str(out), "--json"]
    env = {**os.environ, "NORDKUBE_BUNDLE_CACHE": str(cache)}
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    summary: dict[str, Any] = json.loads(result.stdout)
    return elapsed, summary


def sizes(summary: dict[str, Any]) -> dict[str, int]:
    """Bytes per top directory of the bundle (bin, cni, images)."""
    totals: dict[str, int] = {}
    for record in summary["artifacts"]:
        top = record["path"].split("/", 1)[0]
        totals[top] = totals.get(top, 0) + record["size"]
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubernetes", default="1.35.4")
    parser.add_argument("--cache", type=Path, help="bundle cache to use (default: a new one)")
    parser.add_argument("--warm-only", action="store_true", help="skip the cold build")
    args = parser.parse_args()
    cache = args.cache or Path(tempfile.mkdtemp(prefix="nordkube-bundle-bench-"))
    out = Path(tempfile.mkdtemp(prefix="nordkube-bundle-out-")) / "bundle"
    rows = []
    if not args.warm_only:
        if any(cache.glob("artifacts/*")):
            sys.exit(f"{cache} already holds artifacts: a cold build needs an empty cache")
        seconds, summary = build(args.kubernetes, cache, out)
        rows.append(("cold build", seconds, None))
        slowest = sorted(summary["timings"].items(), key=lambda item: -item[1])[:8]
        print("slowest artifacts (cold): " + ", ".join(f"{n} {s:.0f} s" for n, s in slowest))
    for run in (1, 2):
        seconds, summary = build(args.kubernetes, cache, out)
        rows.append((f"warm build {run}", seconds, WARM_TARGET))
    print(f"{'measure':<16} {'seconds':>8} {'target':>7}")
    for name, seconds, target in rows:
        print(f"{name:<16} {seconds:>8.1f} {target if target else '':>7}")
    print(
        f"bundle {summary['kubernetes_version']}: {summary['size'] / 1e6:.0f} MB in "
        f"{len(summary['artifacts'])} files ({out.parent})"
    )
    for top, size in sorted(sizes(summary).items()):
        print(f"  {top + '/':<8} {size / 1e6:>7.0f} MB")
    for record in summary["artifacts"]:
        print(f"  {record['path']:<40} {record['version']:<22} {record['size'] / 1e6:>7.1f} MB")


if __name__ == "__main__":
    main()

"""The etcd disk of a lab node: fio's etcd WAL job (the fsync gate's) on the mounted disk, idle
and under background write load, and what the gate costs a deploy.

    uv run python benchmarks/etcd_disk.py [--node node1] [--mb 22] [--skip-deploy]

Needs a running lab whose node has converged node preparation (its etcd disk mounted at
/var/lib/etcd). Prints p99 and p50 of fdatasync, IOPS and seconds per case, beside etcd's
targets (p99 under 10 ms, at least 50 sequential IOPS). The gate's cost: a converge of the
etcd stage with the stored result removed (fio runs) against one with it kept (no-op).
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
MOUNT = "/var/lib/etcd"
GATE_RESULT = "/var/lib/nordkube/etcd-fsync.json"
P99_TARGET_MS, IOPS_TARGET = 10, 50
# Background writes: 64 MiB direct writes, over and over, beside the probe.
LOAD = (
    f"while :; do dd if=/dev/zero of={MOUNT}/.bench-load bs=1M count=64 oflag=direct "
    "status=none; done"
)


def on_node(node: str, command: str, timeout: int = 3600) -> str:
    result = subprocess.run(
        [str(BIN / "nordkube"), "lab", "ssh", node, f"sudo sh -c '{command}'"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        sys.exit(f"{node}: {command} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def probe(node: str, mb: int, loaded: bool) -> dict[str, float]:
    job = (
        f"fio --name=etcd-wal --directory=$t --rw=write --ioengine=sync --fdatasync=1 "
        f"--size={mb}m --bs=2300 --output-format=json"
    )
    load = f"({LOAD}) & l=$!; " if loaded else ""
    stop = "kill $l; wait $l 2>/dev/null; rm -f " + f"{MOUNT}/.bench-load; " if loaded else ""
    started = time.monotonic()
    text = on_node(node, f"t=$(mktemp -d {MOUNT}/.bench.XXXXXX); {load}{job}; {stop}rm -rf $t")
    seconds = time.monotonic() - started
    job_result = json.loads(text[text.index("{") :])["jobs"][0]
    percentiles = job_result["sync"]["lat_ns"]["percentile"]
    return {
        "p99_ms": round(percentiles["99.000000"] / 1e6, 2),
        "p50_ms": round(percentiles["50.000000"] / 1e6, 2),
        "iops": round(job_result["write"]["iops"], 1),
        "seconds": round(seconds, 1),
    }


def converge_seconds() -> float:
    command = [str(BIN / "pyinfra"), "-y", "inventories/lab.py", "deploy.py"]
    command += ["--data", "stages=etcd"]
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        sys.exit(f"the etcd stage failed:\n{(result.stdout + result.stderr)[-3000:]}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--node", default="node1")
    parser.add_argument("--mb", type=int, default=22, help="MiB fio writes (etcd's probe: 22)")
    parser.add_argument("--skip-deploy", action="store_true", help="do not time the gate")
    args = parser.parse_args()
    mounted = on_node(args.node, f"findmnt -rno SOURCE --mountpoint {MOUNT} || true").strip()
    if not mounted:
        sys.exit(f"{args.node}: nothing is mounted at {MOUNT}; converge the lab first")
    print(f"{args.node}: {mounted} at {MOUNT}, fio etcd WAL job of {args.mb} MiB")
    print(f"target: fdatasync p99 < {P99_TARGET_MS} ms, >= {IOPS_TARGET} IOPS (etcd)")
    for name, loaded in (("idle", False), ("under write load", True)):
        result = probe(args.node, args.mb, loaded)
        print(
            f"  {name:17} p99 {result['p99_ms']:8.2f} ms  p50 {result['p50_ms']:7.2f} ms  "
            f"{result['iops']:7.1f} IOPS  {result['seconds']:6.1f} s"
        )
    if args.skip_deploy:
        return
    kept = converge_seconds()
    saved = on_node(args.node, f"cat {GATE_RESULT}")
    on_node(args.node, f"rm -f {GATE_RESULT}")
    measured = converge_seconds()
    print(f"the etcd stage, gate result stored (no fio): {kept:.1f} s")
    print(f"the etcd stage, gate measuring (lab's probe): {measured:.1f} s")
    print(f"the gate's cost in a deploy: {measured - kept:.1f} s")
    print(f"before: {saved.strip()}")
    print(f"after:  {on_node(args.node, f'cat {GATE_RESULT}').strip()}")


if __name__ == "__main__":
    main()

"""How many times each fact command is sent per host, in each of pyinfra's run modes.

    uv run python benchmarks/fact_reads.py

Runs the real deploy against one @fake host twice over: a converged Debian 12 node (the
recorded answers of tests/unit/recordings/debian-12-converged.json: nothing to do) and a fresh
Debian 13 node (inventories/recordings: every stage changes it). Each run mode is measured
from the @fake connector's own log of the commands it was sent (`--debug`):
`--dry` (plan only), `-y` (plan, then execute) and the confirm prompt (plan, show the changes, press
Enter on stdin, execute). The counts are what pyinfra_ext/factcache.py's docstring states.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from tests.unit.test_idempotence import lab_like_inventory  # noqa: E402

# Fact commands answer from the recording; the operations' own commands succeed (the recording's
# catch-all would fail them), so `-y` executes every stage. The answers stay those of a fresh
# node, so every fact read after a change is counted.
FRESH_INVENTORY = """import re, sys
sys.path.insert(0, {root!r})
from inventories.recordings import RECORDINGS
_r = RECORDINGS["debian-13"]
_responses = {{re.compile("^(?!.*nordkube-fact)"): {{"success": True}}, **_r.fake_responses()}}
control_plane = [(_r.host, {{"fake_responses": _responses, "fake_delay": 0,
    "fake_delay_jitter": 0, "node_network": "10.20.0.0/24",
    "private_address": _r.identity.private_ip, "etcd_device": "/dev/nvme0n1"}})]
"""

MODES = {
    "--dry": (["--dry"], None),
    "-y": (["-y"], None),
    "confirm prompt": ([], "\n"),
}
FACT = re.compile(r"\[fake\] simulating command on [^:]+: : nordkube-fact (\w+);")


def count_reads(inventory: Path, flags: list[str], stdin: str | None) -> Counter[str]:
    result = subprocess.run(
        [str(BIN / "pyinfra"), str(inventory), "deploy.py", "--debug", *flags],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    reads = Counter(FACT.findall(result.stdout + result.stderr))
    if not reads:
        raise SystemExit(
            f"no fact command seen (exit {result.returncode}):\n{result.stderr[-2000:]}"
        )
    return reads


def main() -> int:
    with tempfile.TemporaryDirectory() as workdir:
        converged = Path(workdir) / "converged.py"
        lab_like_inventory(converged)
        fresh = Path(workdir) / "fresh.py"
        fresh.write_text(FRESH_INVENTORY.format(root=str(ROOT)))
        for label, inventory in (("converged node", converged), ("fresh node", fresh)):
            print(f"== {label}: fact commands sent per host")
            for mode, (flags, stdin) in MODES.items():
                reads = count_reads(inventory, flags, stdin)
                detail = ", ".join(f"{name} {count}" for name, count in sorted(reads.items()))
                print(f"{mode:>15}: {sum(reads.values()):3d} ({detail})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

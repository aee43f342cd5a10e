"""Record what a converged lab node answers to every command the deploy asks it.

From the repository root, with the checkout whose deploy converged the lab (Debian 12 by default):

    uv run nordkube lab up
    uv run pyinfra -y inventories/lab.py deploy.py
    uv run python tests/unit/recordings/record_converged.py

The deploy is planned with `--dry` against `inventories/lab.py` (nothing changes on the node),
and every command pyinfra sends to node1 while planning is recorded with its output, so the
recording follows the deploy whatever facts it reads. It writes debian-12-converged.json here:
{"settings": node1's nordkube settings from the inventory, "responses": {command: [lines]},
"bundle": the files of the bundle it installs from, with their sha256 (lab nodes do)},
which tests/unit/test_idempotence.py replays through pyinfra's @fake connector.

`--inventory`, `--host` and `--output` record another node; the replay test runs this script
against a @fake node answering from the recording and expects the recording back.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pyinfra_cli.main  # first, as pyinfra's own entry point: it sets up gevent
from pyinfra.api import Host

from nordkube.bundle.install import bundle_dir
from nordkube.bundle.manifest import load_manifest
from nordkube.settings import Settings

HERE = Path(__file__).resolve().parent
RECORDING = HERE / "debian-12-converged.json"
SETTING_NAMES = {spec.name for spec in fields(Settings)}


def record(inventory: str, host_name: str) -> dict[str, Any]:
    """Plan deploy.py on `host_name` and return its settings and every command's answer."""
    settings: dict[str, Any] = {}
    responses: dict[str, Any] = {}
    run_shell_command = Host.run_shell_command

    def recording(host: Host, command: Any, *args: Any, **kwargs: Any) -> Any:
        success, output = run_shell_command(host, command, *args, **kwargs)
        if host.name == host_name:
            own = host.inventory.get_host_data(host.name)
            settings.update({key: value for key, value in own.items() if key in SETTING_NAMES})
            answer: Any = output.stdout_lines
            if not success:
                answer = {"success": False, "stdout": answer, "stderr": output.stderr_lines}
            responses[str(command)] = answer
        return success, output

    sys.argv = ["pyinfra", inventory, "deploy.py", "--dry", "--limit", host_name]
    with patch.object(Host, "run_shell_command", recording):
        try:
            pyinfra_cli.main.main()
        except SystemExit as result:
            if result.code:
                raise
    if not responses:
        raise SystemExit(f"pyinfra sent no command to {host_name}: is it in {inventory}?")
    bundle = _bundle_manifest(settings)
    recording: dict[str, Any] = {"settings": dict(sorted(settings.items())), "responses": responses}
    if bundle is not None:
        recording["bundle"] = bundle
    return recording


def _bundle_manifest(settings: dict[str, Any]) -> dict[str, Any] | None:
    """What the node's bundle says of its files, for a node that installs from one: the replay
    plans against these checksums. The bundle's path is the recording machine's, so it is left
    out of the settings and the replay puts this manifest where its own run can read it."""
    if settings.get("kubernetes_package_source") != "bundle":
        return None
    node = Settings.from_data(settings, "recorded")
    directory = bundle_dir(settings.pop("kubernetes_bundle", None), node.kubernetes_version)
    manifest = load_manifest(directory)
    return {key: manifest[key] for key in ("format", "kubernetes_version", "artifacts")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", default="inventories/lab.py", help="pyinfra inventory")
    parser.add_argument("--host", default="node1", help="the converged node to record")
    parser.add_argument("--output", type=Path, default=RECORDING, help="recording to write")
    args = parser.parse_args()
    recorded = record(args.inventory, args.host)
    args.output.write_text(json.dumps(recorded, indent=1) + "\n")
    print(f"recorded {len(recorded['responses'])} commands from {args.host} into {args.output}")


if __name__ == "__main__":
    main()

"""Record what a converged lab node answers to each fact command the deploy asks.

    uv run nordkube lab up && uv run pyinfra -y inventories/lab.py deploy.py
    uv run python tests/unit/recordings/record_converged.py node1

Writes tests/unit/recordings/debian-12-converged.json: {fact command: [output lines]}, the
real output of a Debian 12 lab node after a converge, which the idempotence tests replay.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from nordkube import node, support
from nordkube.managed import MANAGED_FILES, MANAGED_SERVICES
from nordkube.settings import Settings
from pyinfra_ext.facts import (
    FileStates,
    InstalledPackages,
    KernelModules,
    NodeFacts,
    ServiceStates,
    SwapState,
    SysctlValues,
)

HERE = Path(__file__).resolve().parent


def fact_commands(settings: Settings, platform: support.Platform) -> list[str]:
    """The fact commands the deploy sends to such a node, as the roles build them."""
    choice = support.choose_containerd(platform, settings.kubernetes_minor())
    assert choice is not None
    return [
        NodeFacts().command(),
        FileStates().command(paths=MANAGED_FILES),
        InstalledPackages().command(
            manager=platform.package_manager,
            packages=tuple(
                node.base_packages(platform, node.uses_https_repositories(settings, choice.source))
            ),
        ),
        InstalledPackages().command(manager=platform.package_manager, packages=(choice.package,)),
        ServiceStates().command(services=MANAGED_SERVICES),
        SwapState().command(),
        KernelModules().command(modules=tuple(node.candidate_modules(settings))),
        SysctlValues().command(keys=tuple(node.SYSCTLS)),
    ]


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "node1"
    # The lab inventory's settings (nordkube/lab/inventory.py) for a debian-12 lab.
    settings = Settings.from_data(
        {"kubernetes_version": "1.28.15", "kubernetes_package_source": "none"}
    )
    platform = support.find_platform("debian", "12")
    assert platform is not None
    recorded = {}
    for command in fact_commands(settings, platform):
        result = subprocess.run(
            ["nordkube", "lab", "ssh", name, "sudo sh -c " + _quote(command)],
            capture_output=True,
            text=True,
            check=True,
        )
        recorded[command] = result.stdout.splitlines()
    target = HERE / "debian-12-converged.json"
    target.write_text(json.dumps(recorded, indent=1) + "\n")
    print(f"recorded {len(recorded)} fact commands from {name} into {target}")


def _quote(command: str) -> str:
    return "'" + command.replace("'", "'\"'\"'") + "'"


if __name__ == "__main__":
    main()

"""`nordkube check INVENTORY`: the testinfra node suite against the inventory's hosts."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from nordkube.check import USAGE_ERROR, InventoryError, run_suite, select_hosts, suite_targets
from nordkube.cli import options


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "check",
        help="prove every node's state with the testinfra node suite",
        description="Run the testinfra node suite (tests/node) against the hosts of a pyinfra "
        "inventory, over SSH with the inventory's settings, all hosts in parallel. "
        "Exit code is pytest's: 0 when every check passed.",
    )
    parser.add_argument("inventory", help="pyinfra inventory, e.g. inventories/oslo.py")
    parser.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report")
    options.add_limit(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        hosts = select_hosts(args.inventory, options.limit_patterns(args))
        targets = suite_targets(args.inventory, hosts)
    except InventoryError as error:
        for problem in error.problems:
            print(f"nordkube check: {problem}", file=sys.stderr)
        return USAGE_ERROR
    junit = Path(args.junit).resolve() if args.junit else None
    for host in hosts:
        if host.data.get("_sudo_password"):
            print(
                f"nordkube check: {host.name}: _sudo_password is ignored; "
                "the node suite needs passwordless sudo",
                file=sys.stderr,
            )
    print(f"nordkube check: {len(targets)} host(s): {', '.join(t.name for t in targets)}")
    with tempfile.TemporaryDirectory(prefix="nordkube-check-") as workdir:
        return run_suite(targets, Path(workdir), junit)

"""`nordkube validate INVENTORY`: the inventory and its settings, connecting to nothing."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nordkube.inventory import load_hosts
from nordkube.validation import validate_inventory


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "validate",
        help="check an inventory and its settings without connecting to any host",
    )
    parser.add_argument("inventory", help="pyinfra inventory file, e.g. inventories/oslo.py")
    parser.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, as pyinfra's --data does",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    override = dict(item.split("=", 1) for item in args.data)
    hosts = load_hosts(args.inventory, override)
    problems = validate_inventory(hosts)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        print(f"{args.inventory}: {len(problems)} problem(s); nothing was changed", file=sys.stderr)
        return 1
    print(f"{args.inventory}: {len(hosts)} hosts, settings valid")
    return 0

"""The `nordkube` command: validate, lab, check, bundle, drift, doctor."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nordkube",
        description="Prepare KVM VPS nodes for Kubernetes and prove their state.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from nordkube import lab
    from nordkube.cli import bundle, check, doctor, drift, validate

    validate.add_parser(commands)
    lab.add_parser(commands)
    check.add_parser(commands)
    bundle.add_parser(commands)
    drift.add_parser(commands)
    doctor.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())

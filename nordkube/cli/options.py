"""Options that several `nordkube` commands take alike: --limit, --data, --timeout."""

from __future__ import annotations

import argparse
from typing import Any


def add_limit(parser: Any) -> None:
    """--limit HOST,..., as pyinfra's patterns: host names, group names, globs."""
    parser.add_argument(
        "--limit",
        metavar="HOST,...",
        help="only these hosts: names, group names or glob patterns, comma separated",
    )


def add_host_options(parser: Any, data_example: str) -> None:
    """--limit, --data KEY=VALUE as pyinfra takes them, and --timeout."""
    add_limit(parser)
    parser.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"override a setting for this run, as pyinfra's --data does (e.g. {data_example})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        metavar="SECONDS",
        help="give up on the hosts after this long (default 1800)",
    )


def limit_patterns(args: argparse.Namespace) -> list[str]:
    return [part.strip() for part in (args.limit or "").split(",") if part.strip()]


def data_pairs(args: argparse.Namespace) -> dict[str, str]:
    """--data items as a mapping; ValueError naming an item that is not KEY=VALUE."""
    pairs = {}
    for item in args.data:
        key, separator, value = item.partition("=")
        if not separator or not key:
            raise ValueError(f"--data {item!r}: expected KEY=VALUE")
        pairs[key] = value
    return pairs

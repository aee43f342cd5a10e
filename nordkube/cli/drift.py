"""`nordkube drift INVENTORY`: what differs from the desired state, per host and stage."""

from __future__ import annotations

import argparse
import getpass
import shutil
import sys
from pathlib import Path
from typing import Any

from nordkube.cli import options
from nordkube.drift import units
from nordkube.drift.model import EXIT_CODES, UNKNOWN
from nordkube.drift.reports import markdown
from nordkube.drift.run import REPORT_FILES, Options, drift, write_reports
from nordkube.inventory import project_root

# Where --print-units points the service's reports when --report-dir is not given.
DEFAULT_UNIT_REPORT_DIR = "/var/lib/nordkube/drift"


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "drift",
        help="report what differs from the desired state on each host (read-only)",
        description="Plan the deploy (pyinfra --dry) and run the node suite against the "
        "inventory's hosts, both read-only, and report per host and stage what a converge "
        "would change and which node states fail. State that running components set "
        "themselves (nordkube/owned.py) is not drift. Exit code: 0 clean, 1 drift, 2 could "
        "not tell (a host unreachable, the deploy refused to plan, an invalid inventory).",
    )
    parser.add_argument("inventory", help="pyinfra inventory, e.g. inventories/oslo.py")
    parser.add_argument(
        "--report-dir",
        metavar="DIR",
        help="write drift.json, drift.md, drift.junit.xml and drift.prom there, keeping the "
        "previous drift.json as drift.previous.json (without it the Markdown goes to stdout)",
    )
    parser.add_argument(
        "--no-suite",
        action="store_true",
        help="only plan the deploy; do not run the node suite",
    )
    options.add_host_options(parser, "stages=base")
    parser.add_argument(
        "--print-units",
        action="store_true",
        help="print a systemd service and timer that run this drift check nightly, and exit",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.print_units:
        report_dir = str(Path(args.report_dir or DEFAULT_UNIT_REPORT_DIR).absolute())
        sys.stdout.write(
            units.render(
                project=str(project_root()),
                inventory=str(Path(args.inventory).absolute()),
                report_dir=report_dir,
                uv=shutil.which("uv") or "uv",
                user=getpass.getuser(),
            )
        )
        return 0
    try:
        data = options.data_pairs(args)
    except ValueError as error:
        print(f"nordkube drift: {error}", file=sys.stderr)
        return EXIT_CODES[UNKNOWN]
    run_options = Options(
        inventory=args.inventory,
        limit=options.limit_patterns(args),
        data=data,
        suite=not args.no_suite,
        timeout=args.timeout,
    )
    directory = Path(args.report_dir) if args.report_dir else None
    report = drift(run_options, log_dir=directory)
    if directory is None:
        sys.stdout.write(markdown(report, None))
        return report.exit_code
    write_reports(report, directory)
    for problem in report.errors:
        print(f"nordkube drift: {problem}", file=sys.stderr)
    for host in report.hosts:
        stages = ", ".join(f"{stage} {count}" for stage, count in host.counts_by_stage().items())
        print(f"{host.name}: {host.verdict}" + (f" ({stages})" if stages else ""))
        for reason in host.unknown:
            print(f"  could not tell: {reason}")
    written = ", ".join(str(directory / name) for name in REPORT_FILES.values())
    print(f"nordkube drift: {report.verdict} (exit {report.exit_code}); wrote {written}")
    return report.exit_code

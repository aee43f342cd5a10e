"""`nordkube doctor INVENTORY`: is this hardware fit for the cluster? Read-only."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from nordkube.cli import options
from nordkube.doctor.judge import EXIT_CODES, UNKNOWN
from nordkube.doctor.report import markdown
from nordkube.doctor.run import REPORT_FILES, doctor


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "doctor",
        help="judge whether the inventory's hosts are fit for the cluster (read-only)",
        description="Measure every host of the inventory over SSH, read-only: CPU steal, "
        "etcd's disk (fio, where installed), RTT and path MTU between every node pair and to "
        "doctor_rtt_targets, the OS and Kubernetes support verdict, identity, swap, clock "
        "offset, kubeadm's CPU and memory minimums, the ports the cluster needs. Thresholds "
        "are settings (doctor_*, etcd_*). Exit code: 0 fit, 1 a failure, 2 could not tell "
        "(a host unreachable, fio missing).",
    )
    parser.add_argument("inventory", help="pyinfra inventory, e.g. inventories/oslo.py")
    parser.add_argument(
        "--report-dir",
        metavar="DIR",
        help="write doctor.md and doctor.json there (the Markdown also goes to stdout)",
    )
    options.add_host_options(parser, "doctor_rtt_targets=192.0.2.1")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        data = options.data_pairs(args)
    except ValueError as error:
        print(f"nordkube doctor: {error}", file=sys.stderr)
        return EXIT_CODES[UNKNOWN]
    report = doctor(args.inventory, options.limit_patterns(args), data, args.timeout)
    text = markdown(report)
    sys.stdout.write(text)
    if args.report_dir:
        directory = Path(args.report_dir)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / REPORT_FILES["markdown"]).write_text(text)
        (directory / REPORT_FILES["json"]).write_text(
            json.dumps(report.to_json(), indent=2, sort_keys=True) + "\n"
        )
    return report.exit_code

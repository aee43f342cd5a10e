"""`nordkube bundle build --kubernetes VERSION`: the offline bundle, built from Go modules;
`nordkube bundle kubeadm --kubernetes VERSION`: kubeadm alone, for configuration validation;
`nordkube bundle verify DIR`: every file of a bundle against its bundle.json."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from nordkube.bundle.build import build_bundle, build_kubeadm, default_out
from nordkube.bundle.errors import BundleError
from nordkube.bundle.manifest import load_manifest, verify_bundle
from nordkube.bundle.versions import parse_kubernetes_version


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "bundle", help="build or verify the offline bundle of Kubernetes binaries and images"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser("build", help="build a bundle (cached: a warm build takes seconds)")
    build.add_argument("--kubernetes", required=True, metavar="VERSION", help="1.N.P or v1.N.P")
    build.add_argument("--out", type=Path, help="bundle directory (default: in the bundle cache)")
    build.add_argument("--json", action="store_true", help="print a machine summary on stdout")
    build.set_defaults(handler=run_build)
    kubeadm = actions.add_parser(
        "kubeadm",
        help="build kubeadm alone (cached; the bundle's own recipe) and print its path, "
        "to run `kubeadm config validate` with that release",
    )
    kubeadm.add_argument("--kubernetes", required=True, metavar="VERSION", help="1.N.P or v1.N.P")
    kubeadm.set_defaults(handler=run_kubeadm)
    verify = actions.add_parser("verify", help="check every file's sha256 against bundle.json")
    verify.add_argument("bundle", type=Path, help="bundle directory")
    verify.set_defaults(handler=run_verify)


def run_build(args: argparse.Namespace) -> int:
    # With --json, stdout carries only the summary; progress goes to stderr.
    progress = sys.stderr if args.json else sys.stdout
    started = time.monotonic()

    def report(line: str) -> None:
        print(f"{time.monotonic() - started:7.1f} s  {line}", file=progress, flush=True)

    try:
        out = args.out or default_out(parse_kubernetes_version(args.kubernetes))
        manifest, timings = build_bundle(args.kubernetes, out, report)
    except BundleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.json:
        summary = {
            "bundle": str(out),
            "kubernetes_version": manifest["kubernetes_version"],
            "seconds": round(time.monotonic() - started, 1),
            "size": manifest["size"],
            "artifacts": [
                {key: record[key] for key in ("path", "version", "sha256", "size")}
                for record in manifest["artifacts"]
            ],
            "timings": timings,
        }
        print(json.dumps(summary, indent=2))
    return 0


def run_kubeadm(args: argparse.Namespace) -> int:
    """The path of the built kubeadm on stdout; progress on stderr."""
    started = time.monotonic()

    def report(line: str) -> None:
        print(f"{time.monotonic() - started:7.1f} s  {line}", file=sys.stderr, flush=True)

    try:
        kubeadm = build_kubeadm(args.kubernetes, report)
    except BundleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(kubeadm)
    return 0


def run_verify(args: argparse.Namespace) -> int:
    try:
        manifest = load_manifest(args.bundle)
        problems = verify_bundle(args.bundle)
    except BundleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"error: {args.bundle}/{problem}", file=sys.stderr)
    if problems:
        return 1
    count = len(manifest["artifacts"])
    version = manifest["kubernetes_version"]
    print(f"{args.bundle}: {count} files match bundle.json (Kubernetes {version})")
    return 0

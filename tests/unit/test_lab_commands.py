"""`nordkube lab` argument handling and the answers that need no VM."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from nordkube.lab import add_parser


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nordkube")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["lab", *argv])


def test_up_defaults_to_three_nodes_one_control_plane() -> None:
    args = parse("up")
    assert (args.nodes, args.control_planes, args.image, args.mtu, args.nvme_size) == (
        3, 1, "debian-12", 1500, "2G",
    )  # fmt: skip


def test_repeated_node_options_collect_pairs() -> None:
    args = parse(
        "up", "--path-mtu", "node2=1464", "--path-mtu", "node3=1400", "--delay", "node3=40"
    )
    assert args.path_mtu == [("node2", 1464), ("node3", 1400)]
    assert args.delay == [("node3", 40)]


def test_malformed_node_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse("up", "--node-mtu", "node2")
    assert exit_info.value.code == 2
    assert "expected NAME=NUMBER" in capsys.readouterr().err


def test_ssh_passes_the_remote_command_through() -> None:
    args = parse("ssh", "node2", "sudo", "ip", "-br", "link")
    assert (args.node, args.command) == ("node2", ["sudo", "ip", "-br", "link"])


def test_status_without_a_lab(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NORDKUBE_LAB_DIR", str(tmp_path))
    args = parse("status", "--json")
    assert args.handler(args) == 0
    assert json.loads(capsys.readouterr().out) == {"nodes": []}


def test_an_invalid_request_is_refused_before_any_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NORDKUBE_LAB_DIR", str(tmp_path / "lab"))
    args = parse("up", "--nodes", "2", "--path-mtu", "node3=1400")
    assert args.handler(args) == 1
    assert "--path-mtu node3=1400: no such node" in capsys.readouterr().err
    assert not (tmp_path / "lab").exists()


def test_ssh_to_a_lab_that_is_not_there_says_how_to_start_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NORDKUBE_LAB_DIR", str(tmp_path))
    args = parse("ssh", "node1")
    assert args.handler(args) == 1
    assert "no lab is running: run `nordkube lab up`" in capsys.readouterr().err

"""The lab's state file: what the inventory, status and tests read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nordkube.lab.errors import LabError
from nordkube.lab.spec import LabSpec, plan_nodes
from nordkube.lab.state import Daemon, LabState, load_state, save_state, status_rows


def make_state(directory: Path, spec: LabSpec | None = None) -> LabState:
    spec = spec or LabSpec()
    return LabState(
        spec=spec,
        directory=directory,
        image_dir=directory / "image",
        nodes=tuple(plan_nodes(spec)),
        qemu_pids={"node1": 4242},
        daemons=(Daemon("vde_switch", "core", 4000),),
    )


def test_state_round_trips_through_the_file(tmp_path: Path) -> None:
    state = make_state(tmp_path, LabSpec(path_mtu={"node2": 1400}))
    save_state(state)
    assert load_state(tmp_path) == state


def test_state_file_carries_what_the_inventory_needs(tmp_path: Path) -> None:
    save_state(make_state(tmp_path))
    data = json.loads((tmp_path / "state.json").read_text())
    assert data["node_network"] == "192.168.77.0/24"
    assert data["private_interface"] == "eth1"
    assert data["image"] == "debian-12"
    assert [node["etcd_device"] for node in data["nodes"]] == ["/dev/nvme0n1", None, None]


def test_missing_state_says_how_to_start_a_lab(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="no lab is running: run `nordkube lab up`"):
        load_state(tmp_path)


def test_state_of_another_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text(json.dumps({"version": 0}))
    with pytest.raises(LabError, match="nordkube lab down"):
        load_state(tmp_path)


def test_status_rows_have_exactly_the_documented_keys(tmp_path: Path) -> None:
    rows = status_rows(make_state(tmp_path, LabSpec(path_mtu={"node2": 1400})))
    assert set(rows[0]) == {
        "name", "state", "ssh_host", "ssh_port", "ssh_user", "ssh_key",
        "known_hosts", "private_ip", "mtu", "path_mtu", "roles",
    }  # fmt: skip
    assert [row["path_mtu"] for row in rows] == [None, 1400, None]
    assert rows[0]["roles"] == ["control_plane", "etcd"]
    assert rows[1]["roles"] == ["worker"]


def test_a_node_whose_pid_is_not_a_lab_qemu_is_stopped(tmp_path: Path) -> None:
    # pid 4242 is not a QEMU started for this lab directory (whatever runs under it).
    rows = status_rows(make_state(tmp_path))
    assert {row["state"] for row in rows} == {"stopped"}


def test_recording_a_stop_forgets_the_pid(tmp_path: Path) -> None:
    state = make_state(tmp_path).with_qemu_pid("node1", None).with_qemu_pid("node2", 7)
    assert state.qemu_pids == {"node2": 7}


def test_unknown_node_lists_the_lab_nodes(tmp_path: Path) -> None:
    with pytest.raises(
        LabError, match="no node 'node7' in the lab \\(nodes: node1, node2, node3\\)"
    ):
        make_state(tmp_path).node("node7")

"""inventories/lab.py's groups and host data, built from a lab state."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from nordkube.lab.errors import LabError
from nordkube.lab.inventory import (
    CONTROL_PLANE_LIVENESS,
    KUBEADM_TIMEOUTS,
    LEADER_ELECTION,
    inventory_groups,
)
from nordkube.lab.spec import LabSpec, plan_nodes
from nordkube.lab.state import LabState, save_state

INVENTORY = Path(__file__).resolve().parents[2] / "inventories" / "lab.py"


def make_state(directory: Path) -> LabState:
    spec = LabSpec(nodes=4, control_planes=2)
    return LabState(
        spec=spec, directory=directory, image_dir=directory, nodes=tuple(plan_nodes(spec))
    )


def test_groups_follow_the_roles(tmp_path: Path) -> None:
    groups = inventory_groups(make_state(tmp_path))
    assert {group: [name for name, _ in hosts] for group, hosts in groups.items()} == {
        "control_plane": ["node1", "node2"],
        "etcd": ["node1", "node2"],
        "workers": ["node3", "node4"],
    }


def test_host_data_uses_pyinfra_ssh_keys_and_strict_host_keys(tmp_path: Path) -> None:
    name, data = inventory_groups(make_state(tmp_path))["control_plane"][0]
    assert name == "node1"
    assert data == {
        "ssh_hostname": "127.0.0.1",
        "ssh_port": 2221,
        "ssh_user": "nordkube",
        "ssh_key": str(tmp_path / "ssh" / "id_ed25519"),
        "ssh_known_hosts_file": str(tmp_path / "known_hosts"),
        "ssh_strict_host_key_checking": "yes",
        "_sudo": True,
        "private_interface": "eth1",
        "etcd_device": "/dev/nvme0n1",
        "etcd_fsync_probe_mb": 1,
        "etcd_fsync_p99_max_ms": 150,
        "node_network": "192.168.77.0/24",
        "kubernetes_package_source": "bundle",
        "stages": ["base", "kernel", "runtime", "etcd"],
        "kubeadm_timeouts": KUBEADM_TIMEOUTS,
        "leader_election": LEADER_ELECTION,
        "control_plane_liveness": CONTROL_PLANE_LIVENESS,
        "encryption_algorithm": "ECDSA-P256",
        "node_ready_timeout": 1200,
    }


def test_workers_have_no_etcd_device(tmp_path: Path) -> None:
    for _, data in inventory_groups(make_state(tmp_path))["workers"]:
        assert "etcd_device" not in data


def test_inventory_file_reads_the_lab_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NORDKUBE_LAB_DIR", str(tmp_path))
    save_state(make_state(tmp_path))
    inventory = runpy.run_path(str(INVENTORY))
    assert [name for name, _ in inventory["workers"]] == ["node3", "node4"]
    assert all(data["node_network"] == "192.168.77.0/24" for _, data in inventory["workers"])


def test_inventory_file_without_a_lab_says_how_to_start_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NORDKUBE_LAB_DIR", str(tmp_path))
    with pytest.raises(LabError, match="no lab is running: run `nordkube lab up`"):
        runpy.run_path(str(INVENTORY))

"""What the per-node seed disk tells a node at its first boot."""

from __future__ import annotations

from pathlib import Path

from nordkube.lab.seed import known_hosts_lines, private_interface_config, seed_files, seed_id
from nordkube.lab.spec import LabSpec, plan_nodes


def test_private_nic_gets_its_static_address_and_mtu() -> None:
    node = plan_nodes(LabSpec(node_mtu={"node2": 1450}))[1]
    assert private_interface_config(node).splitlines()[1:] == [
        "auto eth1",
        "iface eth1 inet static",
        "    address 192.168.77.12/24",
        "    mtu 1450",
    ]


def test_seed_names_the_node_and_authorizes_the_lab_key() -> None:
    files = seed_files(plan_nodes(LabSpec())[0], "ssh-ed25519 AAAA nordkube-lab\n\n")
    assert files["hostname"] == "node1\n"
    assert files["authorized_keys"] == "ssh-ed25519 AAAA nordkube-lab\n"
    assert set(files) == {"hostname", "authorized_keys", "interfaces.d/eth1"}


def test_known_hosts_entries_name_the_forwarded_port() -> None:
    node = plan_nodes(LabSpec())[2]
    assert known_hosts_lines(node, ["ssh-ed25519 AAAAkey"]) == [
        "[127.0.0.1]:2223 ssh-ed25519 AAAAkey"
    ]


def test_seed_id_changes_with_any_seed_file(tmp_path: Path) -> None:
    (tmp_path / "hostname").write_text("node1\n")
    before = seed_id(tmp_path)
    (tmp_path / "seed-id").write_text(before)
    assert seed_id(tmp_path) == before
    (tmp_path / "hostname").write_text("node2\n")
    assert seed_id(tmp_path) != before

"""The lab's shape and node identities: pure functions of the request."""

from __future__ import annotations

import pytest

from nordkube.lab.errors import LabError
from nordkube.lab.spec import (
    LabSpec,
    parse_assignment,
    plan_nodes,
    shape_difference,
    validate,
    wirefilter_mtu,
)


def test_default_lab_is_one_control_plane_and_two_workers() -> None:
    nodes = plan_nodes(LabSpec())
    assert [node.name for node in nodes] == ["node1", "node2", "node3"]
    assert [node.roles for node in nodes] == [("control_plane", "etcd"), ("worker",), ("worker",)]


def test_only_control_planes_get_the_etcd_nvme_disk() -> None:
    nodes = plan_nodes(LabSpec(nodes=4, control_planes=2))
    assert [node.etcd_device for node in nodes] == ["/dev/nvme0n1", "/dev/nvme0n1", None, None]


def test_ports_and_private_addresses_follow_the_node_index() -> None:
    nodes = plan_nodes(LabSpec(), ssh_port_base=3000)
    assert [node.ssh_port for node in nodes] == [3001, 3002, 3003]
    assert [node.private_ip for node in nodes] == [
        "192.168.77.11",
        "192.168.77.12",
        "192.168.77.13",
    ]


def test_every_identity_is_unique_across_nodes() -> None:
    nodes = plan_nodes(LabSpec(nodes=9))
    for field in ("uuid", "mgmt_mac", "private_mac", "ssh_port", "private_ip"):
        values = [getattr(node, field) for node in nodes]
        assert len(set(values)) == len(values), field
    assert not {node.mgmt_mac for node in nodes} & {node.private_mac for node in nodes}


def test_identities_are_stable_across_labs() -> None:
    assert plan_nodes(LabSpec()) == plan_nodes(LabSpec())


def test_macs_are_locally_administered_unicast() -> None:
    for node in plan_nodes(LabSpec()):
        for mac in (node.mgmt_mac, node.private_mac):
            first_octet = int(mac.split(":")[0], 16)
            assert first_octet & 0b10 and not first_octet & 0b1


def test_node_mtu_overrides_the_lab_mtu_for_that_node_only() -> None:
    nodes = plan_nodes(LabSpec(mtu=1450, node_mtu={"node2": 1400}))
    assert [node.mtu for node in nodes] == [1450, 1400, 1450]


def test_path_mtu_and_delay_apply_to_the_named_node() -> None:
    nodes = plan_nodes(LabSpec(path_mtu={"node2": 1464}, delay_ms={"node3": 20}))
    assert [node.path_mtu for node in nodes] == [None, 1464, None]
    assert [node.delay_ms for node in nodes] == [0, 0, 20]


def test_wirefilter_limit_lets_exactly_the_path_mtu_through() -> None:
    # Measured on lab VMs: wirefilter -m 1416 passes 1400-byte IP packets and drops 1401.
    assert wirefilter_mtu(1400) == 1416


@pytest.mark.parametrize(
    ("text", "expected"), [("node2=1450", ("node2", 1450)), ("node1=0", ("node1", 0))]
)
def test_assignment_parses(text: str, expected: tuple[str, int]) -> None:
    assert parse_assignment(text) == expected


@pytest.mark.parametrize("text", ["node2", "node2=", "=1450", "node2=big", "node2=-5"])
def test_assignment_rejects_malformed_text(text: str) -> None:
    with pytest.raises(ValueError, match="NAME=NUMBER"):
        parse_assignment(text)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (LabSpec(nodes=0), "--nodes 0"),
        (LabSpec(nodes=10), "--nodes 10"),
        (LabSpec(control_planes=0), "--control-planes 0"),
        (LabSpec(nodes=2, control_planes=3), "--control-planes 3"),
        (LabSpec(mtu=9000), "--mtu 9000"),
        (LabSpec(node_mtu={"node2": 500}), "--node-mtu node2"),
        (LabSpec(path_mtu={"node4": 1400}), "no such node"),
        (LabSpec(delay_ms={"db1": 5}), "--delay db1=5: no such node"),
        (LabSpec(nvme_size="2GB"), "--nvme-size"),
        (LabSpec(nvme_size="0G"), "--nvme-size"),
    ],
)
def test_invalid_requests_name_the_option(spec: LabSpec, message: str) -> None:
    with pytest.raises(LabError, match=message):
        validate(spec)


def test_same_request_has_the_same_shape() -> None:
    assert (
        shape_difference(LabSpec(path_mtu={"node2": 1400}), LabSpec(path_mtu={"node2": 1400})) == []
    )


def test_shape_difference_names_each_changed_option() -> None:
    difference = shape_difference(LabSpec(), LabSpec(nodes=2, delay_ms={"node2": 30}))
    assert difference == [
        "nodes: running 3, requested 2",
        "delay_ms: running {}, requested {'node2': 30}",
    ]


def test_spec_survives_json() -> None:
    spec = LabSpec(nodes=2, node_mtu={"node2": 1400}, path_mtu={"node1": 1450}, nvme_size="1G")
    assert LabSpec.from_json(spec.to_json()) == spec

"""The doctor's judgement from sample measurements: steal, etcd's disk, RTT and etcd timing,
path MTU against the pod network's overhead, ports, clock, swap, kubeadm's minimums, support
and identity, and the exit codes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from nordkube.doctor import judge
from nordkube.doctor.judge import FAIL, OK, UNKNOWN, WARN, Node
from nordkube.settings import Settings

ADDRESSES = {"node1": "192.168.77.11", "node2": "192.168.77.12", "node3": "192.168.77.13"}
SETTINGS = Settings(
    private_interface="eth1", kubernetes_version="1.35.4", cni="flannel", kube_proxy_mode="nftables"
)


def _facts(name: str, index: int, mtu: int = 1500) -> dict[str, Any]:
    return {
        "os_id": "debian",
        "version_id": "13",
        "pretty_name": "Debian GNU/Linux 13 (trixie)",
        "kernel": "6.12.48+deb13-amd64",
        "cgroup": "cgroup2fs",
        "hostname": name,
        "machine_id": f"{index:032x}",
        "product_uuid": f"00000000-0000-4000-8000-{index:012x}",
        "interfaces": {
            "eth1": {
                "mac": f"52:54:00:50:00:{index:02x}",
                "mtu": mtu,
                "addresses": [f"{ADDRESSES[name]}/24"],
            }
        },
        "nf_tables": True,
        "networkmanager": False,
    }


def _ping(avg: float, loss: float = 0.0, fastest: float | None = None) -> dict[str, Any]:
    return {
        "loss_percent": loss,
        "min_ms": avg * 0.9 if fastest is None else fastest,
        "median_ms": avg,
        "avg_ms": avg,
        "max_ms": avg * 1.5,
    }


def measured(rtt: float = 0.5, node3_rtt: float = 0.5, node3_mtu: int = 1500) -> dict[str, Any]:
    hosts = {}
    for index, name in enumerate(ADDRESSES, start=1):
        others = {other: address for other, address in ADDRESSES.items() if other != name}
        hosts[name] = {
            "facts": _facts(name, index),
            "containerd": {
                "installed": {},
                "candidates": {"containerd": "1.7.24~ds1-6+deb13u1"},
                "metadata": True,
            },
            "private_interface": "eth1",
            "private_address": ADDRESSES[name],
            "resources": {"cpus": 2, "memory_mib": 3919},
            "swap": {"active": [], "fstab": [], "units": []},
            "time": {"source": "chrony", "offset_ms": -0.2, "synchronised": True},
            "sockets": [],
            "steal": {"steal_percent": 0.4},
            "rtt": {
                address: _ping(node3_rtt if "node3" in (name, other) else rtt)
                for other, address in others.items()
            },
            "mtu": {
                address: node3_mtu if "node3" in (name, other) else 1500
                for other, address in others.items()
            },
            "etcd_disk": {
                "mounted_at": "/var/lib/etcd",
                "directory": "/var/lib/etcd",
                "source": "/dev/nvme0n1",
                "type": "ext4",
                "fio_missing": False,
                "fio": {"fsync_p99_ms": 4.6, "iops": 412.0, "fsyncs": 10029},
            },
        }
    return {"addresses": ADDRESSES, "etcd_members": list(ADDRESSES), "hosts": hosts}


def nodes(settings: Settings = SETTINGS, etcd: int = 3) -> dict[str, Node]:
    return {
        name: Node(name, settings, control_plane=index < etcd, etcd=index < etcd)
        for index, name in enumerate(ADDRESSES)
    }


def _levels(findings: list[judge.Finding], check: str) -> list[tuple[str | None, str]]:
    return [(f.host, f.level) for f in findings if f.check == check]


def test_a_healthy_three_member_cluster_is_fit() -> None:
    findings = judge.judge(measured(), nodes(), {})
    assert [f for f in findings if f.level != OK] == []
    assert judge.verdict(findings) == OK
    assert judge.EXIT_CODES[judge.verdict(findings)] == 0


@pytest.mark.parametrize(("share", "level"), [(0.4, OK), (10.0, OK), (10.5, FAIL), (None, UNKNOWN)])
def test_steal_against_its_threshold(share: float | None, level: str) -> None:
    found = judge.steal(nodes()["node1"], {"steal": {"steal_percent": share}})
    assert found.level == level
    if level == FAIL:
        assert found.setting == "doctor_steal_max_percent"
        assert "10.5% over 5 s, above 10%" in found.message


def test_a_delayed_node_is_flagged_in_the_rtt_matrix_with_etcds_timing() -> None:
    findings = judge.network(measured(node3_rtt=21.3), nodes())
    slow = [f for f in findings if f.check == "rtt"]
    assert {pair for f in slow for pair in f.pairs} == {
        ("node1", "node3"), ("node2", "node3"), ("node3", "node1"), ("node3", "node2"),
    }  # fmt: skip
    assert all(f.level == WARN and f.setting == "doctor_lan_rtt_ms" for f in slow)
    (timing,) = [f for f in findings if f.check == "etcd timing"]
    assert timing.level == OK
    assert "largest RTT between etcd members 21.3 ms" in timing.message
    assert "(213 ms)" in timing.message and "up to 100 ms between members" in timing.message


def test_a_busy_node_whose_fastest_ping_is_local_is_not_flagged() -> None:
    data = measured()
    data["hosts"]["node2"]["rtt"]["192.168.77.11"] = _ping(7.9, fastest=0.6)
    assert [f for f in judge.network(data, nodes()) if f.check == "rtt"] == []


def test_etcd_timing_takes_the_typical_rtt_not_an_average_a_spike_moved() -> None:
    data = measured()
    data["hosts"]["node1"]["rtt"]["192.168.77.12"] = _ping(0.8) | {"avg_ms": 131.9}
    (timing,) = [f for f in judge.network(data, nodes()) if f.check == "etcd timing"]
    assert timing.level == OK and "0.8 ms" in timing.message


def test_etcd_timing_fails_across_sites_and_advises_values() -> None:
    far = {("node1", "node3"): 180.0, ("node3", "node1"): 176.0}
    found = judge.etcd_timing(far, SETTINGS)
    assert found.level == FAIL
    assert "etcd_heartbeat_interval = 180 and etcd_election_timeout = 1800" in found.message
    tuned = Settings(etcd_heartbeat_interval=250, etcd_election_timeout=5000)
    assert judge.etcd_timing(far, tuned).level == OK
    assert judge.etcd_timing({}, SETTINGS).message.startswith("one etcd member")


def test_an_unreachable_peer_fails_and_an_unreachable_target_warns() -> None:
    data = measured()
    data["hosts"]["node1"]["rtt"]["192.168.77.12"] = _ping(0.0, loss=100.0) | {"avg_ms": None}
    data["hosts"]["node1"]["rtt"]["193.156.90.1"] = {
        "error": "ping: connect: Network is unreachable"
    }
    settings = Settings(cni="flannel", doctor_rtt_targets=["193.156.90.1"])
    findings = judge.network(data, nodes(settings))
    assert _levels(findings, "rtt") == [("node1", WARN), ("node1", FAIL)]


def test_a_smaller_path_through_one_node_names_every_pair_through_it() -> None:
    findings = judge.path_mtus(measured(node3_mtu=1450), nodes())
    (mtu,) = findings
    assert mtu.level == FAIL and mtu.setting == "node_mtu"
    assert set(mtu.pairs) == {
        ("node1", "node3"), ("node2", "node3"), ("node3", "node1"), ("node3", "node2"),
    }  # fmt: skip
    assert "flannel/vxlan adds 50 bytes" in mtu.message
    assert "pods would get 1450 but packets over 1400 bytes" in mtu.message
    assert "set node_mtu = 1450" in mtu.message


def test_path_mtu_judged_against_the_chosen_encapsulation() -> None:
    (fine,) = judge.path_mtus(
        measured(), nodes(Settings(cni="flannel", flannel_backend="wireguard"))
    )
    assert fine.level == OK and "flannel/wireguard adds 80, pods get 1420" in fine.message


def test_a_path_nothing_crosses_fails_that_pair() -> None:
    data = measured()
    data["hosts"]["node2"]["mtu"]["192.168.77.11"] = None
    findings = judge.path_mtus(data, nodes())
    assert [(f.level, f.pairs) for f in findings if f.host == "node2"] == [
        (FAIL, (("node2", "node1"),))
    ]


@pytest.mark.parametrize(
    ("fio", "missing", "levels"),
    [
        ({"fsync_p99_ms": 4.6, "iops": 412.0}, False, [OK]),
        ({"fsync_p99_ms": 13.0, "iops": 446.0}, False, [FAIL]),
        ({"fsync_p99_ms": 13.0, "iops": 30.0}, False, [FAIL, FAIL]),
        (None, True, [UNKNOWN]),
        ({"error": "fio printed no result"}, False, [UNKNOWN]),
    ],
    ids=["fast", "slow fsync", "slow and few IOPS", "fio missing", "fio failed"],
)
def test_etcd_disk(fio: dict | None, missing: bool, levels: list[str]) -> None:
    disk = measured()["hosts"]["node1"]["etcd_disk"] | {"fio": fio, "fio_missing": missing}
    findings = judge.etcd_disk(nodes()["node1"], {"etcd_disk": disk})
    assert [f.level for f in findings] == levels
    if missing:
        assert "install it (apt-get install fio" in findings[0].message


def test_an_unmounted_etcd_device_says_which_filesystem_was_measured() -> None:
    settings = Settings(cni="flannel", etcd_device="/dev/nvme0n1")
    disk = measured()["hosts"]["node1"]["etcd_disk"] | {
        "mounted_at": None, "directory": "/var/lib", "source": "/dev/vda",
    }  # fmt: skip
    findings = judge.etcd_disk(Node("node1", settings, True, True), {"etcd_disk": disk})
    assert [f.level for f in findings] == [WARN, OK]
    assert "etcd_device /dev/nvme0n1 has no mounted filesystem, so /var/lib on /dev/vda" in (
        findings[0].message
    )
    assert judge.etcd_disk(Node("node3", settings, False, False), {"etcd_disk": disk}) == []


def test_ports_free_owned_or_taken() -> None:
    control_plane = nodes()["node1"]
    sockets = [
        {"protocol": "tcp", "address": "0.0.0.0", "port": 6443, "processes": ["nginx"]},
        {"protocol": "tcp", "address": "*", "port": 10250, "processes": ["kubelet"]},
        {"protocol": "udp", "address": "0.0.0.0", "port": 8472, "processes": []},
        {"protocol": "tcp", "address": "*", "port": 30080, "processes": ["node_exporter"]},
    ]
    findings = judge.listening_ports(control_plane, {"sockets": sockets})
    assert [(f.level, f.message) for f in findings] == [
        (FAIL, "6443/tcp (the Kubernetes API) is held by nginx; kube-apiserver needs it"),
        (OK, "10250/tcp (the kubelet's API) held by kubelet"),
        (WARN, "NodePort range 30000-32767 in use: 30080/tcp (node_exporter); a Service given "
               "one of these ports will not answer here"),
    ]  # fmt: skip
    worker = nodes(etcd=1)["node3"]
    assert [f.level for f in judge.listening_ports(worker, {"sockets": sockets[:1]})] == [OK]


@pytest.mark.parametrize(
    ("time", "level"),
    [
        ({"source": "chrony", "offset_ms": -0.2, "synchronised": True}, OK),
        ({"source": "chrony", "offset_ms": 1204.0, "synchronised": False}, FAIL),
        ({"source": "chrony", "offset_ms": 3.0, "synchronised": False}, WARN),
        ({"source": "timedatectl", "offset_ms": None, "synchronised": True}, OK),
        ({"source": None, "offset_ms": None, "synchronised": None}, WARN),
    ],
)
def test_clock(time: dict, level: str) -> None:
    assert judge.clock(nodes()["node1"], {"time": time}).level == level


def test_kubeadms_minimums_apply_to_control_planes_only() -> None:
    small = {"resources": {"cpus": 1, "memory_mib": 1000}}
    assert [f.level for f in judge.resources(nodes()["node1"], small)] == [FAIL, FAIL]
    assert [f.level for f in judge.resources(nodes(etcd=1)["node3"], small)] == [OK]


def test_swap_on_warns_that_the_deploy_turns_it_off() -> None:
    found = judge.swap(
        nodes()["node1"], {"swap": {"active": ["/swapfile"], "fstab": [], "units": []}}
    )
    assert found.level == WARN and "the base stage turns it off" in found.message


def test_support_and_identity_are_the_deploys_own_verdicts() -> None:
    data = measured()
    data["hosts"]["node2"]["facts"]["machine_id"] = data["hosts"]["node1"]["facts"]["machine_id"]
    data["hosts"]["node3"]["facts"]["cgroup"] = "tmpfs"
    findings = judge.judge(data, nodes(), {})
    assert _levels(findings, "identity") == [("node1, node2", FAIL)]
    (cgroup,) = [f for f in findings if f.check == "support" and f.level == FAIL]
    assert (cgroup.host, cgroup.setting) == ("node3", "allow_cgroup_v1")


def test_an_unreachable_host_could_not_be_told_and_the_others_are_judged() -> None:
    data = copy.deepcopy(measured())
    del data["hosts"]["node3"]
    findings = judge.judge(data, nodes(), {"node3": "Could not connect (timed out)"})
    assert findings[0] == judge.Finding(
        "reachable", UNKNOWN, "node3", "not measured: Could not connect (timed out)"
    )
    assert judge.verdict(findings) == UNKNOWN and judge.EXIT_CODES[UNKNOWN] == 2
    assert {f.host for f in findings if f.check == "steal"} == {"node1", "node2"}

"""Both validation layers: the inventory (no host needed) and host facts."""

import pytest

from nordkube import validation
from nordkube.settings import Settings, cluster_setting_names
from nordkube.support import ContainerdOffer
from nordkube.validation import (
    InventoryHost,
    check_unique_identities,
    validate_inventory,
)

# What Debian 12's apt offers (inventories/recordings/debian_12.py).
DEBIAN_12 = ContainerdOffer(candidates={"containerd": "1.6.20~ds1-1+deb12u3"})


def check_host(name, settings, facts, containerd=DEBIAN_12):
    return validation.check_host(name, settings, facts, containerd=containerd)


def host(name, *groups, **data):
    return InventoryHost(name, frozenset(groups), data)


def fleet(cp=3, workers=1, **data):
    """cp control-plane nodes and some workers; several control planes share an endpoint."""
    if cp > 1:
        data.setdefault("control_plane_endpoint", "api.oslo.example")
    hosts = [
        host(f"cp{i}", "control_plane", etcd_device=f"/dev/nvme{i}n1", **data) for i in range(cp)
    ]
    return hosts + [host(f"w{i}", "workers", **data) for i in range(workers)]


def messages(problems):
    return [str(problem) for problem in problems]


def test_valid_fleet_has_no_problems():
    assert validate_inventory(fleet()) == []


def test_two_etcd_hosts_are_refused():
    problems = validate_inventory(fleet(cp=2))
    assert [problem.setting for problem in problems] == ["etcd"]
    assert "2 etcd hosts (cp0, cp1)" in str(problems[0])


def test_etcd_host_without_device_is_named():
    hosts = [*fleet(cp=1), host("cp9", "control_plane"), host("cp8", "control_plane")]
    problems = validate_inventory(hosts)
    assert "cp9, cp8: etcd_device: missing" in messages(problems)[0]


def test_overlapping_ranges_are_refused_once_for_all_hosts():
    problems = validate_inventory(fleet(pod_cidr="10.96.0.0/12", service_cidr="10.96.0.0/16"))
    assert len(problems) == 1
    assert problems[0].setting == "service_cidr"
    assert problems[0].host == "cp0, cp1, cp2, w0"


def test_node_network_overlapping_pods_is_refused():
    problems = validate_inventory(fleet(node_network="10.244.8.0/24"))
    assert [problem.setting for problem in problems] == ["node_network"]


def test_duplicate_addresses_are_refused():
    hosts = [
        *fleet(cp=1),
        host("w1", "workers", ssh_hostname="10.0.0.5", private_address="10.0.0.5"),
        host("w2", "workers", ssh_hostname="10.0.0.5", private_address="10.0.0.5"),
    ]
    assert sorted(p.setting for p in validate_inventory(hosts)) == [
        "private_address",
        "ssh_hostname",
    ]


def test_all_problems_are_reported_together():
    hosts = [*fleet(cp=2, kube_proxy_mode="ipvz"), host("stray")]
    settings = sorted(problem.setting for problem in validate_inventory(hosts))
    assert settings == ["etcd", "groups", "kube_proxy_mode"]


def test_a_cluster_setting_set_apart_on_one_host_is_refused():
    hosts = [
        *fleet(cp=3, workers=0),
        host(
            "w0", "workers", kube_proxy_mode="nftables", control_plane_endpoint="api.oslo.example"
        ),
    ]
    assert messages(validate_inventory(hosts)) == [
        "inventory: kube_proxy_mode: differs between hosts ('ipvs' on cp0, cp1, cp2; "
        "'nftables' on w0): it is cluster-wide, set it once (group_data/all.py)"
    ]


def test_pod_ranges_are_compared_as_networks():
    v6 = {"service_cidr": "fd00:20::/108"}
    same = [
        *fleet(cp=1, workers=0, pod_cidr="fd00:10::/56", **v6),
        host("w0", "workers", pod_cidr="fd00:0010::/56", **v6),
    ]
    assert validate_inventory(same) == []
    split = [*fleet(cp=1, workers=0), host("w0", "workers", pod_cidr="10.245.0.0/16")]
    assert [problem.setting for problem in validate_inventory(split)] == ["pod_cidr"]


def test_node_settings_may_differ_per_node():
    hosts = [
        *fleet(cp=1, workers=0),
        host("w0", "workers", kubernetes_version="1.35.5", allow_cgroup_v1=True),
        host(
            "w1",
            "workers",
            node_mtu=1450,
            containerd_registry_mirrors={"docker.io": ["https://m.example/"]},
        ),
    ]
    assert validate_inventory(hosts) == []


def test_the_cluster_wide_settings():
    assert cluster_setting_names() == [
        "control_plane_endpoint",
        "kube_vip",
        "certificate_sans",
        "encryption_algorithm",
        "leader_election",
        "control_plane_liveness",
        "node_ready_timeout",
        "cni",
        "calico_encapsulation",
        "calico_wireguard",
        "flannel_backend",
        "kube_proxy_mode",
        "ipvs_scheduler",
        "ipvs_strict_arp",
        "pod_cidr",
        "service_cidr",
        "node_network",
        "etcd_topology",
        "etcd_filesystem",
        "etcd_heartbeat_interval",
        "etcd_election_timeout",
        "doctor_steal_window",
        "doctor_fsync_p99_max_ms",
        "doctor_min_iops",
        "doctor_time_offset_max_ms",
        "doctor_lan_rtt_ms",
        "doctor_rtt_targets",
    ]


def test_stacked_etcd_group_must_match_control_plane():
    hosts = [*fleet(cp=1), host("e1", "etcd", etcd_device="/dev/vdb")]
    hosts += [host("e2", "etcd", etcd_device="/dev/vdb")]
    problems = validate_inventory(hosts)
    assert "etcd_topology" in [problem.setting for problem in problems]


# -- host facts ---------------------------------------------------------------------------


def facts(**overrides):
    base = {
        "os_id": "debian",
        "version_id": "12",
        "pretty_name": "Debian GNU/Linux 12 (bookworm)",
        "kernel": "6.1.0-41-amd64",
        "cgroup": "cgroup2fs",
        "hostname": "node1",
        "machine_id": "1" * 32,
        "product_uuid": "0000-1",
        "nf_tables": True,
        "interfaces": {
            "eth0": {"mac": "52:54:00:00:00:01", "mtu": 1500, "addresses": ["10.0.2.15/24"]},
            "eth1": {"mac": "52:54:00:00:01:01", "mtu": 1450, "addresses": ["192.168.77.11/24"]},
        },
    }
    base.update(overrides)
    return base


def settings(**data):
    return Settings.from_data({"node_network": "192.168.77.0/24", **data})


def test_private_interface_is_found_from_node_network():
    report = check_host("node1", settings(), facts())
    assert report.errors == []
    assert report.private_interface == "eth1"


def test_ipvs_on_1_35_is_a_warning_naming_nftables():
    report = check_host("node1", settings(), facts())
    assert [str(w) for w in report.warnings] == [
        "node1: kube_proxy_mode: ipvs is deprecated from Kubernetes 1.35; plan the move to nftables"
    ]


def test_cgroup_v1_is_refused_on_1_35_unless_allowed():
    refused = check_host("node1", settings(), facts(cgroup="tmpfs"))
    assert [p.setting for p in refused.errors] == ["allow_cgroup_v1"]
    allowed = check_host("node1", settings(allow_cgroup_v1=True), facts(cgroup="tmpfs"))
    assert allowed.errors == []
    # 1.34 itself is refused on Debian 12 (end-of-life, and Debian 12 runs 1.35), but not
    # for cgroup v1.
    older = check_host("node1", settings(kubernetes_version="1.34.2"), facts(cgroup="tmpfs"))
    assert "allow_cgroup_v1" not in [p.setting for p in older.errors]


def test_unsupported_os_is_refused():
    report = check_host("node1", settings(), facts(os_id="fedora", version_id="40"))
    assert [p.setting for p in report.errors] == ["os"]


def test_centos7_beyond_its_cap_is_refused_naming_kubernetes_version():
    centos = facts(os_id="centos", version_id="7", cgroup="tmpfs", kernel="3.10.0-1160.el7.x86_64")
    report = check_host("node1", settings(allow_cgroup_v1=True), centos, ContainerdOffer())
    assert [p.setting for p in report.errors] == ["kubernetes_version"]
    assert "newest that works there is 1.30" in str(report.errors[0])


def test_an_end_of_life_minor_is_a_warning_where_the_os_needs_it():
    centos = facts(os_id="centos", version_id="7", cgroup="tmpfs", kernel="3.10.0-1160.el7.x86_64")
    report = check_host("node1", settings(kubernetes_version="1.30.14"), centos, ContainerdOffer())
    assert report.errors == []
    assert [str(w) for w in report.warnings] == [
        "node1: kubernetes_version: Kubernetes 1.30 is end-of-life (upstream maintains 1.35 to "
        "1.37); accepted because the newest CentOS 7 can run is 1.30"
    ]


def test_an_end_of_life_minor_is_refused_where_a_maintained_one_runs():
    report = check_host("node1", settings(kubernetes_version="1.28.15"), facts())
    assert [str(p) for p in report.errors] == [
        "node1: kubernetes_version: Kubernetes 1.28 is end-of-life (upstream maintains 1.35 to "
        "1.37) and Debian 12 can run 1.37: use a maintained release"
    ]


def test_a_minor_beyond_the_newest_is_refused():
    report = check_host("node1", settings(kubernetes_version="1.38.0"), facts())
    assert [p.setting for p in report.errors] == ["kubernetes_version"]
    assert "upstream maintains 1.35 to 1.37" in str(report.errors[0])


def test_unknown_package_lists_are_a_warning_naming_the_choice():
    report = check_host("node1", settings(), facts(), ContainerdOffer(metadata=False))
    assert report.errors == []
    assert any(
        "no package lists" in str(w) and "containerd.io 2.2" in str(w) for w in report.warnings
    )


def test_nftables_needs_kernel_5_13_and_nf_tables():
    old = facts(kernel="5.10.0-30-amd64", nf_tables=False)
    report = check_host("node1", settings(kube_proxy_mode="nftables"), old)
    assert len(report.errors) == 2
    assert all(p.setting == "kube_proxy_mode" for p in report.errors)
    assert check_host("node1", settings(kube_proxy_mode="nftables"), facts()).errors == []


def test_private_interface_problems_are_named():
    report = check_host("node1", settings(private_interface="ens7"), facts())
    assert [p.setting for p in report.errors] == ["private_interface"]
    report = check_host("node1", settings(node_network="10.9.0.0/24"), facts())
    assert [p.setting for p in report.errors] == ["private_interface"]
    report = check_host("node1", settings(private_address="192.168.77.99"), facts())
    assert [p.setting for p in report.errors] == ["private_address"]
    report = check_host("node1", settings(node_mtu=1500), facts())
    assert [p.setting for p in report.errors] == ["node_mtu"]


def test_cloned_identities_are_refused():
    clone = facts(hostname="node2")
    problems = check_unique_identities(
        {"node1": facts(), "node2": clone}, {"node1": "eth1", "node2": "eth1"}
    )
    assert sorted(p.setting for p in problems) == ["machine_id", "private_mac", "product_uuid"]
    assert all(p.host == "node1, node2" for p in problems)


def test_unique_identities_pass():
    other = facts(
        hostname="node2",
        machine_id="2" * 32,
        product_uuid="0000-2",
        interfaces={"eth1": {"mac": "52:54:00:00:01:02", "mtu": 1450, "addresses": []}},
    )
    assert (
        check_unique_identities(
            {"node1": facts(), "node2": other}, {"node1": "eth1", "node2": "eth1"}
        )
        == []
    )


@pytest.mark.parametrize("mode", ["iptables", "ipvs"])
def test_non_nftables_modes_do_not_need_nf_tables(mode):
    report = check_host(
        "node1", settings(kube_proxy_mode=mode), facts(nf_tables=False, kernel="4.18.0")
    )
    assert report.errors == []


# -- forming the cluster ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "setting", "wording"),
    [
        ({"cni": "calico"}, "cni", "'calico' is not built yet"),
        ({"cni": "canal"}, "cni", "'canal' is not built yet"),
        ({"flannel_backend": "wireguard"}, "flannel_backend", "'wireguard' is not built yet"),
    ],
)
def test_pod_networks_not_built_yet_are_refused(data, setting, wording):
    problems = validate_inventory(fleet(**data))
    assert [problem.setting for problem in problems] == [setting]
    assert wording in problems[0].message


def test_a_service_range_over_20_host_bits_is_refused():
    problems = validate_inventory(fleet(service_cidr="172.0.0.0/11"))
    assert messages(problems) == [
        "inventory: service_cidr: 172.0.0.0/11 is too large: kube-apiserver accepts at most 20 "
        "host bits (/12 or smaller, e.g. 10.96.0.0/12)"
    ]
    assert validate_inventory(fleet(service_cidr="10.96.0.0/12")) == []


def test_a_pod_range_without_room_for_every_node_is_refused():
    too_small = validate_inventory(fleet(pod_cidr="10.244.0.0/25"))
    assert "smaller than one node's pod subnet (/24)" in messages(too_small)[0]
    full = validate_inventory(fleet(cp=3, workers=2, pod_cidr="10.244.0.0/23"))
    assert messages(full) == [
        "inventory: pod_cidr: 10.244.0.0/23 holds 2 node subnets (/24 each), fewer than the 5 nodes"
    ]
    too_wide = validate_inventory(fleet(pod_cidr="10.0.0.0/7", service_cidr="192.168.0.0/16"))
    assert "more than 16 bits wider" in messages(too_wide)[0]


def test_pods_and_services_of_different_families_are_refused():
    problems = validate_inventory(fleet(pod_cidr="fd00:10::/56"))
    assert [problem.setting for problem in problems] == ["pod_cidr"]
    assert "different IP families" in problems[0].message


def test_several_control_planes_need_an_endpoint():
    problems = validate_inventory(fleet(cp=3, control_plane_endpoint=None))
    assert [problem.setting for problem in problems] == ["control_plane_endpoint"]
    assert "3 control-plane nodes (cp0, cp1, cp2)" in problems[0].message
    assert validate_inventory(fleet(cp=1)) == []


@pytest.mark.parametrize(
    ("endpoint", "wording"),
    [
        ("api.oslo.example", "is a name: kube-vip needs the virtual IP address itself"),
        ("10.30.0.10", "is outside node_network 10.20.0.0/24"),
        ("10.20.0.5", "is the private address of w0"),
    ],
)
def test_kube_vip_needs_a_free_address_of_the_private_network(endpoint, wording):
    hosts = fleet(
        cp=3, workers=0, control_plane_endpoint=endpoint, kube_vip=True, node_network="10.20.0.0/24"
    )
    hosts.append(
        host(
            "w0",
            "workers",
            private_address="10.20.0.5",
            control_plane_endpoint=endpoint,
            kube_vip=True,
            node_network="10.20.0.0/24",
        )
    )
    problems = validate_inventory(hosts)
    assert [problem.setting for problem in problems] == ["kube_vip"]
    assert wording in problems[0].message


def test_every_node_runs_the_control_planes_minor():
    hosts = [*fleet(cp=1, workers=0), host("w0", "workers", kubernetes_version="1.30.14")]
    assert messages(validate_inventory(hosts)) == [
        "w0: kubernetes_version: 1.30.14 differs from the control plane's 1.35.4 (cp0): kubeadm "
        "joins nodes of its own minor; form a cluster of its own, or leave the host out of the "
        "kubernetes stage (stages)"
    ]
    prepared_only = host("w0", "workers", kubernetes_version="1.30.14", stages=["base"])
    assert validate_inventory([*fleet(cp=1, workers=0), prepared_only]) == []


def test_ecdsa_keys_need_kubeadms_v1beta4():
    problems = validate_inventory(
        fleet(cp=1, workers=0, kubernetes_version="1.30.14", encryption_algorithm="ECDSA-P256")
    )
    assert [problem.setting for problem in problems] == ["encryption_algorithm"]


def test_the_first_control_plane_must_run_the_cluster_stages():
    hosts = [*fleet(cp=1, workers=0, stages=["base"]), host("w0", "workers")]
    problems = validate_inventory(hosts)
    assert [(problem.host, problem.setting) for problem in problems] == [("cp0", "stages")]

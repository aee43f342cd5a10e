"""The cluster's pure decisions (nordkube/kubeadm.py): secrets, who inits and joins, where each
node stands, and what the kubeadm, kubelet and kube-proxy configuration files say."""

from __future__ import annotations

import posixpath
from pathlib import Path

import pytest
import yaml

from nordkube import kubeadm
from nordkube.kubeadm import FRESH, INITIALISED, JOINED, PARTIAL, UNREACHABLE, Member, NodeState
from nordkube.settings import Settings
from pyinfra_ext.templating import render

DATA = Path(__file__).resolve().parent / "data"
CP1 = Member("cp1", "oslo-cp1", "10.20.0.11", True)
CP2 = Member("cp2", "oslo-cp2", "10.20.0.12", True)
W1 = Member("w1", "oslo-w1", "10.20.0.21", False)
TOKEN = "abcdef.0123456789abcdef"
KEY = "a" * 64
CA_HASH = "sha256:" + "0" * 64


# -- secrets --------------------------------------------------------------------------------


def test_tokens_have_kubeadms_format_and_differ() -> None:
    tokens = {kubeadm.new_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(kubeadm.TOKEN_FORMAT.match(token) for token in tokens)


def test_certificate_keys_are_32_random_bytes_in_hex() -> None:
    keys = {kubeadm.new_certificate_key() for _ in range(20)}
    assert len(keys) == 20
    assert all(kubeadm.CERTIFICATE_KEY_FORMAT.match(key) for key in keys)


def test_token_id_is_the_public_half() -> None:
    assert kubeadm.token_id(TOKEN) == "abcdef"


@pytest.mark.parametrize(
    ("certificate", "expected"),
    [
        ("ca-rsa.crt", "8f880e2dd1d27c41242152a3fd680b687111a001fc8f69f5fc29707755fd6515"),
        ("ca-ecdsa.crt", "105c344cdb9bb6b465e1f4461eab33e81f24913bea455a6a4ec635174808a058"),
    ],
)
def test_ca_cert_hash_is_the_sha256_of_the_public_key_info(certificate: str, expected: str) -> None:
    """Hashes computed with openssl as kubeadm's documentation says (tests/unit/data)."""
    assert kubeadm.ca_cert_hash((DATA / certificate).read_text()) == f"sha256:{expected}"


# -- who is who -----------------------------------------------------------------------------


def test_node_names_are_lower_case_hostnames() -> None:
    assert kubeadm.node_name(" Oslo-CP1\n") == "oslo-cp1"


def test_private_address_from_the_setting_else_the_nic() -> None:
    nic = {"addresses": ["fe80::1/64", "10.20.0.11/24"]}
    assert kubeadm.private_address(Settings(), nic) == "10.20.0.11"
    assert kubeadm.private_address(Settings(private_address="10.20.0.99"), nic) == "10.20.0.99"
    assert kubeadm.private_address(Settings(), {"addresses": []}) is None


def test_api_endpoint() -> None:
    assert kubeadm.api_endpoint(Settings(), [CP1]) == "10.20.0.11:6443"
    assert kubeadm.api_endpoint(Settings(), [CP1, CP2]) is None
    named = Settings(control_plane_endpoint="api.oslo.example")
    assert kubeadm.api_endpoint(named, [CP1, CP2]) == "api.oslo.example:6443"
    with_port = Settings(control_plane_endpoint="10.20.0.10:8443")
    assert kubeadm.api_endpoint(with_port, [CP1]) == "10.20.0.10:8443"


def test_service_addresses() -> None:
    assert kubeadm.kubernetes_service_address("10.96.0.0/12") == "10.96.0.1"
    assert kubeadm.cluster_dns_address("10.96.0.0/12") == "10.96.0.10"


def test_certificate_sans_hold_endpoint_control_planes_and_extras_once() -> None:
    settings = Settings(certificate_sans=["api.oslo.example", "10.20.0.12"])
    sans = kubeadm.certificate_sans(settings, [CP1, CP2], "10.20.0.10:6443")
    assert sans == ["10.20.0.10", "10.20.0.11", "10.20.0.12", "api.oslo.example"]


# -- where each node stands -----------------------------------------------------------------

ALL_INIT_FILES = {"files": list(kubeadm.INIT_FILES), "kubelet_active": True}
ADDONS = {
    "api_error": None,
    "objects": [
        {"kind": "DaemonSet", "namespace": "kube-system", "name": "kube-proxy", "sha256": None},
        {"kind": "Deployment", "namespace": "kube-system", "name": "coredns", "sha256": None},
    ],
}


def test_a_fresh_first_control_plane_node() -> None:
    assert kubeadm.first_control_plane_state({"files": []}, {}) == NodeState(FRESH)


def test_an_initialised_cluster() -> None:
    assert kubeadm.first_control_plane_state(ALL_INIT_FILES, ADDONS).phase == INITIALISED


def test_init_that_left_some_files_and_no_api_is_partial() -> None:
    node = {"files": [kubeadm.CA_CERT, kubeadm.APISERVER_MANIFEST]}
    state = kubeadm.first_control_plane_state(node, {"api_error": "connection refused"})
    assert state.phase == PARTIAL
    assert "present: /etc/kubernetes/pki/ca.crt, /etc/kubernetes/manifests/" in state.detail
    assert "missing: /etc/kubernetes/admin.conf, /etc/kubernetes/kubelet.conf" in state.detail
    assert "the API does not answer (connection refused)" in state.detail


def test_init_that_stopped_before_its_addons_is_partial() -> None:
    state = kubeadm.first_control_plane_state(ALL_INIT_FILES, {**ADDONS, "objects": []})
    assert state.phase == PARTIAL
    assert "DaemonSet kube-system/kube-proxy, Deployment kube-system/coredns" in state.detail


def test_an_initialised_control_plane_whose_api_is_down_is_unreachable() -> None:
    state = kubeadm.first_control_plane_state(ALL_INIT_FILES, {"api_error": "refused"})
    assert state.phase == UNREACHABLE
    assert "kubelet running" in state.detail


def test_joining_nodes() -> None:
    assert kubeadm.joining_node_state({"files": []}, False).phase == FRESH
    assert kubeadm.joining_node_state({"files": [kubeadm.KUBELET_CONF]}, False).phase == JOINED
    half = kubeadm.joining_node_state({"files": [kubeadm.BOOTSTRAP_KUBELET_CONF]}, True)
    assert half.phase == PARTIAL
    assert half.detail.startswith("a kubeadm control-plane join stopped halfway")


def test_state_problems_name_the_host_and_what_to_do() -> None:
    problems = kubeadm.state_problems(
        {
            "cp1": NodeState(PARTIAL, "a kubeadm init stopped halfway (...)"),
            "w1": NodeState(FRESH),
            "cp2": NodeState(UNREACHABLE, "the API does not answer"),
        }
    )
    assert [(p.host, p.setting) for p in problems] == [("cp1", "kubeadm"), ("cp2", "kubeadm")]
    assert "kubeadm reset -f" in problems[0].message
    assert "deploy again in a minute" in problems[1].message


# -- the join plan --------------------------------------------------------------------------


def states(**phases: str) -> dict[str, NodeState]:
    return {host: NodeState(phase) for host, phase in phases.items()}


def test_a_new_cluster_inits_and_everyone_else_joins_with_inits_token() -> None:
    plan = kubeadm.join_plan(
        ["cp1", "cp2", "cp3"],
        ["w1"],
        states(cp1=FRESH, cp2=FRESH, cp3=FRESH, w1=FRESH),
        ["cp1", "cp2", "cp3", "w1"],
    )
    assert plan.init and plan.first == "cp1"
    assert plan.control_planes == ("cp2", "cp3") and plan.workers == ("w1",)
    assert not plan.create_token, "init makes the token"
    assert plan.upload_certificates and plan.clean_up


def test_a_formed_cluster_makes_no_token() -> None:
    plan = kubeadm.join_plan(["cp1"], ["w1"], states(cp1=INITIALISED, w1=JOINED), ["cp1", "w1"])
    assert not plan.init and plan.joiners == ()
    assert not plan.create_token and not plan.clean_up and not plan.upload_certificates


def test_a_worker_added_later_gets_a_token_and_nothing_else() -> None:
    plan = kubeadm.join_plan(
        ["cp1"], ["w1", "w2"], states(cp1=INITIALISED, w1=JOINED, w2=FRESH), ["cp1", "w1", "w2"]
    )
    assert plan.workers == ("w2",) and plan.create_token and plan.clean_up
    assert not plan.upload_certificates


def test_a_control_plane_added_later_gets_the_certificates_uploaded() -> None:
    plan = kubeadm.join_plan(
        ["cp1", "cp2", "cp3"],
        [],
        states(cp1=INITIALISED, cp2=JOINED, cp3=FRESH),
        ["cp1", "cp2", "cp3"],
    )
    assert plan.control_planes == ("cp3",) and plan.create_token and plan.upload_certificates


def test_a_run_without_the_first_control_plane_is_refused() -> None:
    plan = kubeadm.join_plan(
        ["cp1", "cp2"],
        ["w1", "w2"],
        states(cp1=INITIALISED, cp2=JOINED, w1=JOINED, w2=FRESH),
        ["cp2", "w2"],
    )
    assert [(p.host, p.setting) for p in plan.problems] == [("cp2, w2", "limit")]
    assert not plan.init and plan.joiners == ()


def test_hosts_left_out_of_the_run_do_not_join() -> None:
    plan = kubeadm.join_plan(["cp1"], ["w1"], states(cp1=INITIALISED, w1=FRESH), ["cp1"])
    assert plan.joiners == () and plan.problems == ()


# -- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minor", "api"), [(28, "v1beta3"), (30, "v1beta3"), (31, "v1beta4"), (37, "v1beta4")]
)
def test_kubeadm_api_per_minor(minor: int, api: str) -> None:
    assert kubeadm.kubeadm_api(minor) == api
    assert kubeadm.template_name("join", minor) == f"kubeadm-join.{api}.yaml"


@pytest.mark.parametrize(
    ("version", "allow", "cgroup", "accepted"),
    [
        ("1.35.4", True, "tmpfs", True),
        ("1.35.4", False, "tmpfs", False),
        ("1.35.4", True, "cgroup2fs", False),
        ("1.33.13", True, "tmpfs", False),
    ],
)
def test_failcgroupv1_off_only_where_a_v1_host_was_accepted(
    version: str, allow: bool, cgroup: str, accepted: bool
) -> None:
    settings = Settings(kubernetes_version=version, allow_cgroup_v1=allow)
    assert kubeadm.cgroup_v1_accepted(settings, cgroup) is accepted
    assert kubeadm.ignored_preflight_errors(settings, cgroup) == (
        ["SystemVerification"] if accepted else []
    )


def test_install_names_pin_the_exact_version() -> None:
    assert kubeadm.install_names("apt", "1.35.4")["kubeadm"] == "kubeadm=1.35.4-*"
    assert kubeadm.install_names("dnf", "1.35.4")["kubelet"] == "kubelet-1.35.4"
    assert set(kubeadm.install_names("yum", "1.28.15")) == set(kubeadm.PINNED_PACKAGES)


def test_forms_cluster_follows_the_stages() -> None:
    assert kubeadm.forms_cluster(Settings())
    assert kubeadm.forms_cluster(Settings(stages=["network"]))
    assert not kubeadm.forms_cluster(Settings(stages=["base", "kernel"]))


def documents(text: str) -> dict[str, dict]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all(text) if doc}


def init_config(settings: Settings, cgroup: str = "cgroup2fs", **secrets: str | None) -> dict:
    values = kubeadm.init_values(settings, CP1, [CP1], cgroup)
    name = kubeadm.template_name("init", settings.kubernetes_minor())
    text = render(
        "kubernetes", name, **values, token=secrets.get("token"), certificate_key=secrets.get("key")
    )
    return documents(text)


def join_config(settings: Settings, member: Member, cgroup: str = "cgroup2fs") -> dict:
    values = kubeadm.join_values(settings, member, [CP1], cgroup)
    name = kubeadm.template_name("join", settings.kubernetes_minor())
    key = KEY if member.control_plane else None
    return documents(
        render("kubernetes", name, **values, token=TOKEN, ca_cert_hash=CA_HASH, certificate_key=key)
    )


def test_init_configuration_v1beta4() -> None:
    settings = Settings(
        encryption_algorithm="ECDSA-P256",
        kubeadm_timeouts={"controlPlaneComponentHealthCheck": "10m"},
        certificate_sans=["api.oslo.example"],
    )
    docs = init_config(settings, token=TOKEN, key=KEY)
    init, cluster = docs["InitConfiguration"], docs["ClusterConfiguration"]
    assert init["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert init["bootstrapTokens"][0]["token"] == TOKEN
    assert init["bootstrapTokens"][0]["ttl"] == kubeadm.JOIN_TOKEN_TTL
    assert init["certificateKey"] == KEY
    assert init["localAPIEndpoint"] == {"advertiseAddress": "10.20.0.11", "bindPort": 6443}
    registration = init["nodeRegistration"]
    assert registration["name"] == "oslo-cp1"
    assert registration["criSocket"] == "unix:///run/containerd/containerd.sock"
    assert registration["kubeletExtraArgs"] == [{"name": "node-ip", "value": "10.20.0.11"}]
    assert init["timeouts"] == {"controlPlaneComponentHealthCheck": "10m"}
    assert cluster["kubernetesVersion"] == "v1.35.4"
    assert cluster["controlPlaneEndpoint"] == "10.20.0.11:6443"
    assert cluster["encryptionAlgorithm"] == "ECDSA-P256"
    assert cluster["networking"] == {
        "podSubnet": "10.244.0.0/16",
        "serviceSubnet": "10.96.0.0/12",
        "dnsDomain": "cluster.local",
    }
    assert cluster["apiServer"]["certSANs"] == ["10.20.0.11", "api.oslo.example"]
    assert cluster["etcd"]["local"]["dataDir"] == "/var/lib/etcd/data"
    kubelet = docs["KubeletConfiguration"]
    assert kubelet["cgroupDriver"] == "systemd" and kubelet["clusterDNS"] == ["10.96.0.10"]
    assert "failCgroupV1" not in kubelet, "a per-node patch, never the cluster's ConfigMap"


def test_init_without_secrets_has_neither_token_nor_key() -> None:
    init = init_config(Settings())["InitConfiguration"]
    assert "bootstrapTokens" not in init and "certificateKey" not in init


@pytest.mark.parametrize(
    ("mode", "ipvs"),
    [("ipvs", {"scheduler": "wrr", "strictARP": True}), ("nftables", None), ("iptables", None)],
)
def test_kube_proxy_configuration_per_mode(mode: str, ipvs: dict | None) -> None:
    proxy = init_config(Settings(kube_proxy_mode=mode, ipvs_scheduler="wrr"))[
        "KubeProxyConfiguration"
    ]
    assert proxy["apiVersion"] == "kubeproxy.config.k8s.io/v1alpha1"
    assert proxy["mode"] == mode and proxy["clusterCIDR"] == "10.244.0.0/16"
    assert proxy.get("ipvs") == ipvs


def test_an_accepted_cgroup_v1_host_gets_the_patch_and_skips_the_check() -> None:
    init = init_config(Settings(allow_cgroup_v1=True), cgroup="tmpfs")["InitConfiguration"]
    assert init["patches"] == {"directory": kubeadm.PATCHES_DIR}
    assert init["nodeRegistration"]["ignorePreflightErrors"] == ["SystemVerification"]
    patch = yaml.safe_load(render("kubernetes", "kubeletconfiguration+merge.yaml"))
    assert patch == {"failCgroupV1": False}


def test_worker_join_configuration() -> None:
    join = join_config(Settings(kubeadm_timeouts={"discovery": "8m"}), W1)["JoinConfiguration"]
    assert join["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert join["discovery"]["bootstrapToken"] == {
        "apiServerEndpoint": "10.20.0.11:6443",
        "token": TOKEN,
        "caCertHashes": [CA_HASH],
    }
    assert "controlPlane" not in join
    assert join["nodeRegistration"]["kubeletExtraArgs"] == [
        {"name": "node-ip", "value": "10.20.0.21"}
    ]
    assert join["timeouts"] == {"discovery": "8m"}


def test_control_plane_join_configuration() -> None:
    join = join_config(Settings(), CP2)["JoinConfiguration"]
    assert join["controlPlane"] == {
        "localAPIEndpoint": {"advertiseAddress": "10.20.0.12", "bindPort": 6443},
        "certificateKey": KEY,
    }


def test_leader_election_raised_for_controller_manager_and_scheduler_alike() -> None:
    raised = {"lease-duration": "90s", "renew-deadline": "60s"}
    cluster = init_config(Settings(leader_election=raised), token=TOKEN)["ClusterConfiguration"]
    expected = [
        {"name": "leader-elect-lease-duration", "value": "90s"},
        {"name": "leader-elect-renew-deadline", "value": "60s"},
    ]
    assert cluster["controllerManager"] == {"extraArgs": expected}
    assert cluster["scheduler"] == {"extraArgs": expected}
    old = Settings(kubernetes_version="1.30.14", leader_election=raised)
    v1beta3 = init_config(old, token=TOKEN)["ClusterConfiguration"]
    assert v1beta3["scheduler"]["extraArgs"] == {
        "leader-elect-lease-duration": "90s",
        "leader-elect-renew-deadline": "60s",
    }
    default = init_config(Settings(), token=TOKEN)["ClusterConfiguration"]
    assert "controllerManager" not in default and "scheduler" not in default


def test_control_plane_liveness_patches_every_static_pod_of_a_control_plane_node() -> None:
    settings = Settings(control_plane_liveness={"timeoutSeconds": 60, "failureThreshold": 30})
    patches = kubeadm.static_pod_patches(settings, CP2)
    assert sorted(posixpath.basename(path) for path in patches) == [
        "etcd+strategic.yaml",
        "kube-apiserver+strategic.yaml",
        "kube-controller-manager+strategic.yaml",
        "kube-scheduler+strategic.yaml",
    ]
    path = f"{kubeadm.PATCHES_DIR}/kube-apiserver+strategic.yaml"
    patch = yaml.safe_load(render("kubernetes", "static-pod+strategic.yaml", **patches[path]))
    assert patch == {
        "spec": {
            "containers": [
                {
                    "name": "kube-apiserver",
                    "livenessProbe": {"failureThreshold": 30, "timeoutSeconds": 60},
                }
            ]
        }
    }
    # kubeadm reads the patches directory named in the join of a control-plane node...
    join = join_config(settings, CP2)["JoinConfiguration"]
    assert join["patches"] == {"directory": kubeadm.PATCHES_DIR}
    # ...not on a worker, which has no static pods, nor with nothing set.
    assert kubeadm.static_pod_patches(settings, W1) == {}
    assert "patches" not in join_config(settings, W1)["JoinConfiguration"]
    assert kubeadm.static_pod_patches(Settings(), CP1) == {}
    assert "patches" not in init_config(Settings(), token=TOKEN)["InitConfiguration"]


def test_v1beta3_for_end_of_life_minors_maps_the_timeouts() -> None:
    settings = Settings(
        kubernetes_version="1.30.14",
        kubeadm_timeouts={"controlPlaneComponentHealthCheck": "10m", "discovery": "8m"},
    )
    docs = init_config(settings, token=TOKEN)
    assert docs["InitConfiguration"]["apiVersion"] == "kubeadm.k8s.io/v1beta3"
    assert docs["InitConfiguration"]["nodeRegistration"]["kubeletExtraArgs"] == {
        "node-ip": "10.20.0.11"
    }
    assert docs["ClusterConfiguration"]["apiServer"]["timeoutForControlPlane"] == "10m"
    assert "encryptionAlgorithm" not in docs["ClusterConfiguration"]
    join = join_config(settings, W1)["JoinConfiguration"]
    assert join["discovery"]["timeout"] == "8m"


def test_bootstrap_token_secret() -> None:
    secret = yaml.safe_load(kubeadm.bootstrap_token_secret(TOKEN, "2026-12-01T12:30:00Z"))
    assert secret["type"] == "bootstrap.kubernetes.io/token"
    assert secret["metadata"] == {"name": "bootstrap-token-abcdef", "namespace": "kube-system"}
    data = secret["stringData"]
    assert (data["token-id"], data["token-secret"]) == ("abcdef", "0123456789abcdef")
    assert data["expiration"] == "2026-12-01T12:30:00Z"
    assert data["auth-extra-groups"] == kubeadm.BOOTSTRAP_GROUP
    assert data["usage-bootstrap-authentication"] == "true"


# -- kube-vip -------------------------------------------------------------------------------


def test_kube_vip_uses_super_admin_only_where_init_runs() -> None:
    settings = Settings(control_plane_endpoint="10.20.0.10", kube_vip=True)
    first = kubeadm.kube_vip_values(settings, "eth1", initialises=True)
    other = kubeadm.kube_vip_values(settings, "eth1", initialises=False)
    assert first["kubeconfig"] == kubeadm.SUPER_ADMIN_CONF
    assert other["kubeconfig"] == kubeadm.ADMIN_CONF
    assert (first["address"], first["port"], first["interface"]) == ("10.20.0.10", 6443, "eth1")
    old = Settings(
        control_plane_endpoint="10.20.0.10:8443", kube_vip=True, kubernetes_version="1.28.15"
    )
    assert (
        kubeadm.kube_vip_values(old, "eth1", initialises=True)["kubeconfig"] == kubeadm.ADMIN_CONF
    )
    pod = yaml.safe_load(render("kubernetes", "kube-vip.yaml", **first))
    env = {item["name"]: item["value"] for item in pod["spec"]["containers"][0]["env"]}
    assert env["vip_arp"] == "true" and env["address"] == "10.20.0.10" and env["port"] == "6443"
    assert pod["spec"]["volumes"][0]["hostPath"]["path"] == kubeadm.SUPER_ADMIN_CONF


# -- readiness and the operator's kubeconfig ------------------------------------------------


def test_not_ready_names_each_node_and_its_condition() -> None:
    nodes = {
        "cp1": {
            "status": "True",
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
        },
        "w1": {
            "status": "False",
            "reason": "KubeletNotReady",
            "message": (
                "container runtime network not ready: NetworkReady=false "
                "reason:NetworkPluginNotReady"
            ),
        },
        "w2": {
            "status": "Unknown",
            "reason": "NodeStatusUnknown",
            "message": "Kubelet stopped posting node status.",
        },
    }
    assert kubeadm.not_ready(["cp1", "w1", "w2", "w3"], nodes) == [
        "w1: Ready=False (KubeletNotReady: container runtime network not ready: NetworkReady=false "
        "reason:NetworkPluginNotReady)",
        "w2: Ready=Unknown (NodeStatusUnknown: Kubelet stopped posting node status.)",
        "w3: not registered with the API (its kubelet never posted status)",
    ]


def test_inventory_name_is_the_group_named_after_its_file() -> None:
    groups = [{"oslo", "control_plane", "@fake"}, {"oslo", "workers", "@fake"}]
    assert kubeadm.inventory_name(groups, ("control_plane", "etcd", "workers")) == "oslo"
    assert kubeadm.inventory_name([{"a"}, {"b"}], ()) == "cluster"


def test_admin_kubeconfig_path() -> None:
    assert (
        kubeadm.admin_kubeconfig_path("/srv/fleet/", "oslo")
        == "/srv/fleet/.nordkube/oslo/admin.conf"
    )


@pytest.mark.parametrize("version", ["1.28.15", "1.30.14", "1.35.4", "1.36.3", "1.37.2"])
def test_every_rendered_variant_is_yaml_of_known_kinds(version: str) -> None:
    """The files the kubeadm validation tier hands to `kubeadm config validate`."""
    from kubeadm_configs import rendered

    api = kubeadm.kubeadm_api(int(version.split(".")[1]))
    for name, text in rendered(version).items():
        kinds = {doc["kind"]: doc["apiVersion"] for doc in yaml.safe_load_all(text) if doc}
        if name.startswith("init"):
            assert kinds == {
                "InitConfiguration": f"kubeadm.k8s.io/{api}",
                "ClusterConfiguration": f"kubeadm.k8s.io/{api}",
                "KubeletConfiguration": "kubelet.config.k8s.io/v1beta1",
                "KubeProxyConfiguration": "kubeproxy.config.k8s.io/v1alpha1",
            }, name
        else:
            assert kinds == {"JoinConfiguration": f"kubeadm.k8s.io/{api}"}, name

"""The settings model: types, defaults, every problem at once, and the README's table."""

from pathlib import Path

import pytest

from nordkube.settings import Settings, SettingsError, settings_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults_are_valid_settings():
    settings = Settings.from_data({})
    assert settings.kube_proxy_mode == "ipvs"
    assert settings.kubernetes_minor() == 35


def test_cli_strings_are_coerced_to_their_types():
    settings = Settings.from_data(
        {"allow_cgroup_v1": "true", "node_mtu": "1450", "stages": "base,kernel"}
    )
    assert settings.allow_cgroup_v1 is True
    assert settings.node_mtu == 1450
    assert settings.stages == ["base", "kernel"]


def test_every_problem_is_reported_at_once_naming_host_and_setting():
    with pytest.raises(SettingsError) as error:
        Settings.from_data(
            {
                "kube_proxy_mode": "ipvz",
                "pod_cidr": "10.0.0.1/8",
                "allow_cgroup_v1": "maybe",
                "kubernetes_version": "v1.35",
                "stages": ["base", "kernal"],
            },
            "oslo-cp1",
        )
    messages = [str(problem) for problem in error.value.problems]
    assert len(messages) == 5
    assert all(message.startswith("oslo-cp1: ") for message in messages)
    settings_named = {problem.setting for problem in error.value.problems}
    assert settings_named == {
        "kube_proxy_mode",
        "pod_cidr",
        "allow_cgroup_v1",
        "kubernetes_version",
        "stages",
    }


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("cni", "weave"),
        ("calico_encapsulation", "gre"),
        ("flannel_backend", "host-gw"),
        ("ipvs_scheduler", "dh"),
        ("etcd_topology", "sidecar"),
        ("kubernetes_package_source", "ftp://mirror"),
        ("etcd_device", "nvme0n1"),
        ("node_mtu", 576),
        ("private_address", "10.20.0"),
        ("containerd_registry_mirrors", {"docker.io": ["mirror.local"]}),
        ("calico_wireguard", "sometimes"),
        ("leader_election", {"lease-duration": "10s"}),  # not above the 10 s renew deadline
        ("leader_election", {"renew-deadline": "40s"}),
        ("leader_election", {"lease_duration": "60s"}),
        ("leader_election", {"retry-period": "soon"}),
        ("control_plane_liveness", {"timeoutSeconds": 0}),
        ("control_plane_liveness", {"timeout": 60}),
        ("control_plane_liveness", {"failureThreshold": "30"}),
        ("control_plane_liveness", {"periodSeconds": True}),
    ],
)
def test_bad_value_is_refused_naming_the_setting(setting, value):
    with pytest.raises(SettingsError) as error:
        Settings.from_data({setting: value}, "h1")
    assert [problem.setting for problem in error.value.problems] == [setting]


def test_readme_settings_table_equals_the_model():
    text = README.read_text()
    start = text.index("<!-- settings-table:start -->")
    end = text.index("<!-- settings-table:end -->")
    assert text[start:end].split("\n", 1)[1].strip() == settings_table()


def test_leader_election_names_what_must_hold():
    with pytest.raises(SettingsError) as error:
        Settings.from_data({"leader_election": {"renew-deadline": "1m", "lease-duration": "45s"}})
    assert "lease-duration 45s > renew-deadline 1m > 1.2 x retry-period 2s" in str(error.value)
    accepted = {"lease-duration": "1m30s", "renew-deadline": "60s", "retry-period": "10s"}
    assert Settings.from_data({"leader_election": accepted}).leader_election == accepted


def test_etcd_device_by_path_or_by_serial():
    for value in ("/dev/disk/by-id/nvme-etcd-oslo-cp1", "/dev/nvme1n1", "serial:etcd0"):
        assert Settings.from_data({"etcd_device": value}, "h1").etcd_device == value
    for value in ("serial:", "serial:two words", "nvme0n1"):
        with pytest.raises(SettingsError) as error:
            Settings.from_data({"etcd_device": value}, "h1")
        assert "serial:NAME" in str(error.value)

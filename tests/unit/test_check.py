"""`nordkube check` offline: ssh config from inventory host data, the hosts file, the command."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from paramiko import SSHConfig

from nordkube import check
from nordkube.cli import check as check_command
from nordkube.settings import Settings

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\n"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home without ~/.ssh/config, so the developer's own ssh config never leaks in."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "id_node"
    path.write_text(KEY)
    return path


def options(
    name: str, data: dict, user_config: str | None = None, project: Path = Path("/")
) -> dict[str, str]:
    config = SSHConfig.from_text(user_config) if user_config is not None else None
    return dict(check.ssh_options(name, data, config, project))


def test_options_come_from_host_data(key: Path) -> None:
    data = {
        "ssh_hostname": "10.0.0.1",
        "ssh_port": 2222,
        "ssh_user": "debian",
        "ssh_key": str(key),
        "ssh_known_hosts_file": "~/known_hosts",
        "ssh_strict_host_key_checking": "accept-new",
    }
    assert options("cp1", data) == {
        "HostName": "10.0.0.1",
        "Port": "2222",
        "User": "debian",
        "IdentityFile": str(key),
        "IdentitiesOnly": "yes",
        "UserKnownHostsFile": str(Path("~/known_hosts").expanduser()),
        "StrictHostKeyChecking": "accept-new",
    }


def test_bare_host_uses_its_name_and_checks_host_keys() -> None:
    assert options("node1.example", {}) == {
        "HostName": "node1.example",
        "StrictHostKeyChecking": "yes",
    }


def test_user_ssh_config_is_looked_up_by_ssh_hostname_and_data_wins() -> None:
    user_config = (
        "Host 10.0.0.*\n"
        "    User ops\n"
        "    Port 2200\n"
        "    ProxyJump bastion\n"
        "    IdentityFile /keys/fleet\n"
        "    UserKnownHostsFile /keys/known_hosts\n"
        "Host cp1\n"
        "    User never-used\n"
    )
    found = options("cp1", {"ssh_hostname": "10.0.0.1", "ssh_user": "debian"}, user_config)
    assert found == {
        "HostName": "10.0.0.1",
        "User": "debian",
        "Port": "2200",
        "IdentityFile": "/keys/fleet",
        "IdentitiesOnly": "yes",
        "UserKnownHostsFile": "/keys/known_hosts",
        "StrictHostKeyChecking": "yes",
        "ProxyJump": "bastion",
    }


def test_proxy_command_wins_over_proxy_jump_as_in_pyinfra() -> None:
    user_config = "Host w1\n    ProxyCommand ssh -W %h:%p gw\n    ProxyJump bastion\n"
    found = options("w1", {}, user_config)
    assert found["ProxyCommand"] == "ssh -W w1:22 gw"
    assert "ProxyJump" not in found


def test_relative_key_resolves_against_the_project(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "node").write_text(KEY)
    found = options("w1", {"ssh_key": "keys/node"}, project=tmp_path)
    assert found["IdentityFile"] == str(tmp_path / "keys" / "node")


def test_paths_with_spaces_are_quoted(tmp_path: Path) -> None:
    path = tmp_path / "my keys" / "node"
    path.parent.mkdir()
    path.write_text(KEY)
    assert options("w1", {"ssh_key": str(path)})["IdentityFile"] == f'"{path}"'


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"ssh_key": "/nonexistent/key"}, "w1: ssh_key: /nonexistent/key does not exist"),
        ({"ssh_password": "hunter2"}, "w1: ssh_password: nordkube check logs in with keys only"),
        (
            {"ssh_strict_host_key_checking": "maybe"},
            "w1: ssh_strict_host_key_checking: 'maybe' is not one of",
        ),
        ({"ssh_hostname": "10.0.0.1\nProxyCommand x"}, "w1: HostName"),
    ],
)
def test_unusable_ssh_data_names_the_host_and_setting(data: dict, problem: str) -> None:
    with pytest.raises(check.InventoryError) as error:
        options("w1", data)
    assert error.value.problems[0].startswith(problem)


@pytest.mark.parametrize(
    ("name", "taken", "alias"),
    [
        ("node1", set(), "node1"),
        ("node-1.example.net", set(), "node-1.example.net"),
        ("fe80::1", set(), "fe80-1"),
        ("@ssh/10.0.0.1", set(), "ssh-10.0.0.1"),
        ("node 1", {"node-1"}, "node-1-2"),
        ("node1", {"node1"}, "node1-2"),
    ],
)
def test_host_alias_is_the_name_when_ssh_and_testinfra_take_it(
    name: str, taken: set[str], alias: str
) -> None:
    assert check.host_alias(name, taken) == alias


def targets(hosts: list[tuple[str, dict]]) -> list[check.Target]:
    return check.make_targets(hosts, Path("/"))


def test_targets_carry_sudo_and_validated_settings() -> None:
    [cp1, db] = targets(
        [
            ("cp1", {"_sudo": True, "_sudo_user": "root", "kube_proxy_mode": "nftables"}),
            ("db 1", {"ipvs_scheduler": "wlc"}),
        ]
    )
    assert cp1.hostspec() == "ssh://cp1?sudo=true&sudo_user=root"
    assert cp1.settings.kube_proxy_mode == "nftables"
    assert (db.alias, db.hostspec()) == ("db-1", "ssh://db-1")
    assert db.settings.ipvs_scheduler == "wlc"


def test_every_bad_setting_is_reported_with_its_host() -> None:
    with pytest.raises(check.InventoryError) as error:
        targets([("w1", {"kube_proxy_mode": "userspace"}), ("w2", {"ipvs_scheduler": "x"})])
    assert [problem.split(":")[:2] for problem in error.value.problems] == [
        ["w1", " kube_proxy_mode"],
        ["w2", " ipvs_scheduler"],
    ]


def test_hosts_json_maps_testinfra_names_to_inventory_names_and_settings() -> None:
    hosts = json.loads(
        check.hosts_json(targets([("db 1", {"kube_proxy_mode": "iptables"}), ("w1", {})]))
    )
    assert set(hosts) == {"db-1", "w1"}
    assert hosts["db-1"]["name"] == "db 1"
    settings = Settings.from_data(hosts["db-1"]["settings"], "db 1")
    assert settings == Settings(kube_proxy_mode="iptables")
    assert Settings.from_data(hosts["w1"]["settings"]) == Settings()


def test_ssh_config_has_a_block_per_host_then_shared_options(tmp_path: Path, key: Path) -> None:
    user_config = tmp_path / "ssh_config"
    user_config.write_text("Host bastion\n    HostName 192.0.2.10\n")
    [w1, w2] = targets(
        [
            ("w1", {"ssh_hostname": "10.0.0.1", "ssh_key": str(key)}),
            ("w2", {"ssh_config_file": str(user_config)}),
        ]
    )
    text = check.render_ssh_config([w1, w2], tmp_path / "control")
    assert text.splitlines()[1:] == [
        "Host w1",
        "    HostName 10.0.0.1",
        f"    IdentityFile {key}",
        "    IdentitiesOnly yes",
        "    StrictHostKeyChecking yes",
        f"    ControlPath {tmp_path / 'control' / 'ssh-0'}",
        "",
        "Host w2",
        "    HostName w2",
        "    StrictHostKeyChecking yes",
        f"    ControlPath {tmp_path / 'control' / 'ssh-1'}",
        "",
        "Host *",
        "    BatchMode yes",
        f"    Include {user_config}",
    ]


@pytest.mark.skipif(shutil.which("ssh") is None, reason="needs the OpenSSH client")
def test_openssh_reads_the_config_as_intended(tmp_path: Path, key: Path) -> None:
    user_config = tmp_path / "ssh_config"
    user_config.write_text("Host bastion\n    HostName 192.0.2.10\n    User jump\n")
    found = targets(
        [
            (
                "cp1",
                {
                    "ssh_hostname": "10.0.0.1",
                    "ssh_port": 2222,
                    "ssh_user": "debian",
                    "ssh_key": str(key),
                    "ssh_config_file": str(user_config),
                },
            )
        ]
    )
    config = tmp_path / "generated"
    config.write_text(check.render_ssh_config(found, tmp_path))

    def resolved(host: str) -> dict[str, str]:
        output = subprocess.run(
            ["ssh", "-G", "-F", str(config), host], capture_output=True, text=True, check=True
        ).stdout
        return dict(line.split(" ", 1) for line in output.splitlines() if " " in line)

    cp1 = resolved("cp1")
    assert (cp1["hostname"], cp1["port"], cp1["user"]) == ("10.0.0.1", "2222", "debian")
    assert cp1["identityfile"] == str(key)
    assert (cp1["batchmode"], cp1["stricthostkeychecking"]) == ("yes", "true")
    assert resolved("bastion")["hostname"] == "192.0.2.10"


def test_pytest_command_runs_the_node_suite_on_every_host_in_parallel(tmp_path: Path) -> None:
    hosts = [(f"w{number}", {"_sudo": number == 0}) for number in range(40)]
    command = check.pytest_command(targets(hosts), tmp_path / "ssh", tmp_path / "out.xml")
    assert command[1:4] == ["-m", "pytest", str(check.NODE_SUITE)]
    assert (check.NODE_SUITE / "conftest.py").is_file()
    assert "--hosts=ssh://w0?sudo=true,ssh://w1,ssh://w2," in ",".join(command)
    assert f"--ssh-config={tmp_path / 'ssh'}" in command
    assert command[command.index("-n") + 1] == str(check.MAX_WORKERS)
    assert "--dist=loadscope" in command
    assert command[command.index("-p") : command.index("-p") + 2] == ["-p", "no:cacheprovider"]
    assert f"--junitxml={tmp_path / 'out.xml'}" in command


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An inventory with group_data beside it, where pyinfra looks for it."""
    (tmp_path / "inventories" / "group_data").mkdir(parents=True)
    (tmp_path / "inventories" / "oslo.py").write_text(
        'control_plane = [("cp1", {"ssh_hostname": "10.0.0.1"})]\n'
        'workers = ["w1", "w2"]\n'
        'edge = [("@local", {})]\n'
    )
    (tmp_path / "inventories" / "group_data" / "workers.py").write_text(
        'kube_proxy_mode = "nftables"\n'
    )
    return tmp_path


def test_limit_selects_by_group_and_name_pattern(project: Path) -> None:
    inventory = str(project / "inventories" / "oslo.py")
    hosts = check.select_hosts(inventory, ["workers", "cp*"])
    assert [host.name for host in hosts] == ["cp1", "w1", "w2"]
    assert hosts[1].data["kube_proxy_mode"] == "nftables"


def test_unusable_inventory_is_reported_before_anything_runs(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    check_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(
        ["check", str(project / "inventories" / "oslo.py"), "--limit", "edge,nope"]
    )
    assert args.handler(args) == check.USAGE_ERROR
    errors = capsys.readouterr().err
    assert "--limit nope: no host or group of that name" in errors
    assert "@local: nordkube check reaches nodes over SSH only" in errors


def test_missing_inventory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(check.InventoryError, match="is not a file"):
        check.select_hosts(str(tmp_path / "missing.py"), [])

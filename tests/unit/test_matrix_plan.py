"""The offline per-OS plan: the real deploy against inventories/matrix.py's recorded hosts.

Each @fake host answers nordkube's fact commands with output recorded from (or sourced for)
one supported OS (inventories/recordings/). These tests plan the whole deploy for all twelve
and assert the decisions that differ per OS, the refusals that must stop a run before any
operation, and that an unrecorded command fails loudly instead of passing silently.

Two kinds of run: the CLI (`pyinfra inventories/matrix.py deploy.py --dry --json`) in a
subprocess, for exit codes, messages and the JSON plan; and one in-process plan through
pyinfra's API, which lists each host's planned commands (the JSON names an operation once for
all hosts, so per-host differences such as the conntrack module show only in the commands).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import offline_plan  # noqa: E402

from inventories.recordings import RECORDINGS  # noqa: E402
from nordkube import support  # noqa: E402
from pyinfra_ext.facts import NodeFacts, marker  # noqa: E402

MATRIX = ROOT / "inventories" / "matrix.py"
DEPLOY = ROOT / "deploy.py"
HOSTS = sorted(recording.host for recording in RECORDINGS.values())


@dataclass(frozen=True)
class Expected:
    """What the plan must decide for one OS (sources: nordkube/support.py and docs/domain.md)."""

    install: str  # how the base packages are installed
    conntrack_ipv4: bool  # nf_conntrack_ipv4 still a separate module
    cgroup_v1: bool
    containerd: str  # the install command's package argument
    kubernetes_minor: str
    config_schema: int  # containerd config version: 2 for containerd 1.x, 3 for 2.x
    docker_repo: str | None  # Docker's repository file, where containerd comes from Docker


APT = "apt-get install"
EXPECTED = {
    "centos-7": Expected(
        "yum install", True, True, "'containerd.io-1.6.*'", "1.30", 2,
        "/etc/yum.repos.d/docker-ce.repo",
    ),
    "rocky-8": Expected(
        "dnf install", False, True, "'containerd.io-2.2.*'", "1.35", 3,
        "/etc/yum.repos.d/docker-ce.repo",
    ),
    "rocky-9": Expected(
        "dnf install", False, False, "'containerd.io-2.2.*'", "1.35", 3,
        "/etc/yum.repos.d/docker-ce.repo",
    ),
    "almalinux-8": Expected(
        "dnf install", False, True, "'containerd.io-2.2.*'", "1.35", 3,
        "/etc/yum.repos.d/docker-ce.repo",
    ),
    "almalinux-9": Expected(
        "dnf install", False, False, "'containerd.io-2.2.*'", "1.35", 3,
        "/etc/yum.repos.d/docker-ce.repo",
    ),
    "ubuntu-18.04": Expected(
        APT, True, True, "containerd.io", "1.28", 2, "/etc/apt/sources.list.d/docker.list"
    ),
    "ubuntu-20.04": Expected(APT, False, True, "containerd", "1.33", 2, None),
    "ubuntu-22.04": Expected(APT, False, False, "containerd", "1.35", 3, None),
    "ubuntu-24.04": Expected(APT, False, False, "containerd", "1.35", 3, None),
    "debian-11": Expected(
        APT, False, False, "containerd.io", "1.35", 3, "/etc/apt/sources.list.d/docker.list"
    ),
    "debian-12": Expected(
        APT, False, False, "containerd.io", "1.35", 3, "/etc/apt/sources.list.d/docker.list"
    ),
    "debian-13": Expected(
        APT, False, False, "containerd.io", "1.35", 3, "/etc/apt/sources.list.d/docker.list"
    ),
}  # fmt: skip
CGROUP_V1_AT_1_35 = sorted(
    f"@fake/{name}"
    for name, expected in EXPECTED.items()
    if expected.cgroup_v1 and expected.kubernetes_minor == "1.35"
)


def run_pyinfra(*args: str, inventory: Path = MATRIX) -> subprocess.CompletedProcess[str]:
    """`pyinfra INVENTORY deploy.py --dry --json ARGS` from the project root."""
    pyinfra = Path(sys.executable).with_name("pyinfra")
    return subprocess.run(
        [str(pyinfra), str(inventory), "deploy.py", "--dry", "--json", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYINFRA_PROGRESS": "off"},
        check=False,
    )


def asked_facts(stderr: str) -> set[str]:
    """The nordkube facts the hosts were asked for (from --debug's fake connector log)."""
    return set(re.findall(r"simulating command on \S+: : nordkube-fact (\w+);", stderr))


@pytest.fixture(scope="module")
def cli_plan() -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    result = run_pyinfra()
    plan = json.loads(result.stdout) if result.returncode == 0 else {}
    return result, plan


def _plan_commands() -> dict[str, list[str]]:
    """Plan the deploy in-process and list every host's planned commands.

    Uploads appear as "upload <path>" followed by the file's content.
    """
    _, planned = offline_plan.plan(MATRIX)
    return {host: [offline_plan.shown(c) for c in listed] for host, listed in planned.items()}


@pytest.fixture(scope="module")
def commands() -> dict[str, list[str]]:
    return _plan_commands()


def _uploaded(commands: list[str], path: str) -> str | None:
    for command in commands:
        if command.startswith(f"upload {path}\n"):
            return command.split("\n", 1)[1]
    return None


def _op(plan: dict[str, Any], pattern: str) -> Iterator[dict[str, Any]]:
    return (op for op in plan["plan"] if re.search(pattern, " ".join(op["names"])))


# -- The recordings themselves (no pyinfra run) -----------------------------------------------


@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_each_recording_is_the_os_it_claims(name: str) -> None:
    recording = RECORDINGS[name]
    facts = NodeFacts().process(recording.node_facts())
    platform = support.find_platform(facts["os_id"], facts["version_id"])
    assert platform is not None and platform.key == name
    assert facts["cgroup"] == ("tmpfs" if EXPECTED[name].cgroup_v1 else "cgroup2fs")
    assert facts["kernel"] == recording.kernel
    assert facts["interfaces"]["eth1"]["addresses"] == [recording.identity.private_address]


def test_identities_differ_between_hosts() -> None:
    for field in ("hostname", "machine_id", "product_uuid", "private_mac", "private_address"):
        values = [getattr(recording.identity, field) for recording in RECORDINGS.values()]
        assert len(set(values)) == len(values), field


@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_every_unrecorded_command_fails(name: str) -> None:
    responses = RECORDINGS[name].fake_responses()
    catch_all, answer = list(responses.items())[-1]
    assert isinstance(catch_all, re.Pattern) and catch_all.search("anything at all")
    assert answer["success"] is False
    assert f"no recording for this command on @fake/{name}" in answer["stderr"][0]


# -- The plan -------------------------------------------------------------------------------


def test_the_matrix_plans_every_host(cli_plan: tuple[Any, dict[str, Any]]) -> None:
    result, plan = cli_plan
    assert result.returncode == 0, result.stderr
    assert "no recording" not in result.stderr
    planned = {host for op in plan["plan"] for host in op["hosts_with_change"]}
    assert planned == set(HOSTS)


def test_package_manager_per_os(commands: dict[str, list[str]]) -> None:
    for name, expected in EXPECTED.items():
        installs = [c for c in commands[f"@fake/{name}"] if "install -y" in c]
        assert installs, name
        assert all(expected.install in c for c in installs), (name, installs)


def test_centos_7_alone_is_pointed_at_the_vault(
    cli_plan: tuple[Any, dict[str, Any]], commands: dict[str, list[str]]
) -> None:
    (vault_op,) = _op(cli_plan[1], r"repositories point at the vault")
    assert vault_op["hosts_with_change"] == ["@fake/centos-7"]
    for name in EXPECTED:
        repo = _uploaded(commands[f"@fake/{name}"], "/etc/yum.repos.d/CentOS-Base.repo")
        assert (repo is not None) == (name == "centos-7"), name
    repo = _uploaded(commands["@fake/centos-7"], "/etc/yum.repos.d/CentOS-Base.repo")
    assert repo is not None and "vault.centos.org" in repo


def test_repositories_per_os(commands: dict[str, list[str]]) -> None:
    for name, expected in EXPECTED.items():
        host = commands[f"@fake/{name}"]
        for path in ("/etc/yum.repos.d/docker-ce.repo", "/etc/apt/sources.list.d/docker.list"):
            assert (_uploaded(host, path) is not None) == (path == expected.docker_repo), name
        kubernetes = _uploaded(host, "/etc/yum.repos.d/kubernetes.repo") or _uploaded(
            host, "/etc/apt/sources.list.d/kubernetes.list"
        )
        assert kubernetes is not None and f"/v{expected.kubernetes_minor}/" in kubernetes, name


def test_docker_repository_operations_only_where_containerd_comes_from_docker(
    cli_plan: tuple[Any, dict[str, Any]],
) -> None:
    plan = cli_plan[1]
    docker_hosts = {f"@fake/{name}" for name, e in EXPECTED.items() if e.docker_repo}
    docker_ops = list(_op(plan, r"\| (Ensure Docker's|Pin containerd\.io)"))
    assert docker_ops
    assert {h for op in docker_ops for h in op["hosts_with_change"]} == docker_hosts


def test_conntrack_module_name_per_kernel(
    cli_plan: tuple[Any, dict[str, Any]], commands: dict[str, list[str]]
) -> None:
    (modules_op,) = _op(cli_plan[1], r"Ensure kernel modules")
    with_ipv4 = [n for n in modules_op["names"] if "nf_conntrack_ipv4" in n]
    assert len(with_ipv4) == 1 and len(modules_op["names"]) == 2
    for name, expected in EXPECTED.items():
        host = commands[f"@fake/{name}"]
        assert ("modprobe nf_conntrack_ipv4" in host) == expected.conntrack_ipv4, name
        assert "modprobe nf_conntrack" in host, name
        persisted = _uploaded(host, "/etc/modules-load.d/nordkube.conf") or ""
        assert ("nf_conntrack_ipv4" in persisted.split("\n")) == expected.conntrack_ipv4, name


def test_containerd_source_and_config_schema(
    cli_plan: tuple[Any, dict[str, Any]], commands: dict[str, list[str]]
) -> None:
    plan = cli_plan[1]
    (config_op,) = _op(plan, r"containerd uses the systemd cgroup driver")
    assert config_op["hosts_with_change"] == HOSTS
    (install_op,) = _op(plan, r"is installed and held")
    for name, expected in EXPECTED.items():
        platform = support.find_platform(*name.rsplit("-", 1))
        assert platform is not None
        package = "containerd.io" if "containerd.io" in expected.containerd else "containerd"
        assert any(
            n.split(" | ")[1].startswith(f"Ensure {package} ") and f"({platform.name} " in n
            for n in install_op["names"]
        ), name
        host = commands[f"@fake/{name}"]
        installs = [
            c
            for c in host
            if re.search(rf"install -y\b.*\s{re.escape(expected.containerd)}(\s|;|$)", c)
        ]
        assert len(installs) == 1, name
        assert any(c.endswith(f"hold {package}") or c.endswith(f"add {package}") for c in host)
        config = _uploaded(host, "/etc/containerd/config.toml")
        assert config is not None and f"\nversion = {expected.config_schema}\n" in config, name
        assert "SystemdCgroup = true" in config, name


def test_selinux_and_networkmanager_only_on_el(cli_plan: tuple[Any, dict[str, Any]]) -> None:
    el = sorted(f"@fake/{name}" for name, e in EXPECTED.items() if e.install != APT)
    for pattern in (r"SELinux is permissive", r"NetworkManager leaves CNI"):
        (op,) = _op(cli_plan[1], pattern)
        assert op["hosts_with_change"] == el, pattern


def test_the_etcd_disk_is_formatted_and_mounted_by_uuid_on_the_etcd_host_only(
    cli_plan: tuple[Any, dict[str, Any]], commands: dict[str, list[str]]
) -> None:
    """The control plane (stacked etcd) has a blank NVMe disk in its modelled recording: the
    plan makes ext4 with a UUID and mounts it by that UUID with noatime; no worker is
    touched."""
    (op,) = _op(cli_plan[1], r"mounted at /var/lib/etcd by UUID with noatime")
    assert op["hosts_with_change"] == ["@fake/debian-12"]
    planned = " ; ".join(commands["@fake/debian-12"])
    made = re.search(r"mkfs\.ext4 -q -L nordkube-etcd -U ([0-9a-f-]{36}) /dev/nvme0n1", planned)
    assert made, planned
    assert f"UUID={made.group(1)} /var/lib/etcd ext4 defaults,noatime 0 2" in planned
    (gate,) = _op(cli_plan[1], r"passes the fsync gate \(p99 <= 10 ms\)")
    assert gate["hosts_with_change"] == ["@fake/debian-12"]
    for host, listed in commands.items():
        if host != "@fake/debian-12":
            assert not any("mkfs" in command for command in listed), host


# -- Refusals before any operation, and the catch-all ------------------------------------------


def test_cgroup_v1_hosts_are_refused_at_1_35_without_allow_cgroup_v1() -> None:
    result = run_pyinfra("--data", "allow_cgroup_v1=false", "--debug")
    assert result.returncode != 0
    assert result.stdout.strip() == "", "no plan may be printed"
    assert "nothing was changed on any host" in result.stderr
    refused = re.findall(r"(@fake/\S+): allow_cgroup_v1: the host runs cgroup v1", result.stderr)
    assert sorted(refused) == CGROUP_V1_AT_1_35
    # Only the facts validation needs were read: no operation was prepared on any host.
    assert asked_facts(result.stderr) == {"NodeFacts", "ContainerdPackages"}


def test_an_unknown_kube_proxy_mode_is_refused_before_any_fact() -> None:
    result = run_pyinfra("--data", "kube_proxy_mode=ipvz", "--debug")
    assert result.returncode != 0
    assert result.stdout.strip() == ""
    assert "kube_proxy_mode: 'ipvz' is not one of: ipvs, nftables, iptables" in result.stderr
    assert asked_facts(result.stderr) == set()


def test_overlapping_service_cidr_is_refused_before_any_fact() -> None:
    result = run_pyinfra(
        "--data", "pod_cidr=10.96.0.0/12", "--data", "service_cidr=10.96.0.0/16", "--debug"
    )
    assert result.returncode != 0
    assert result.stdout.strip() == ""
    assert "service_cidr: 10.96.0.0/16 overlaps pod_cidr 10.96.0.0/12" in result.stderr
    assert asked_facts(result.stderr) == set()


def test_a_missing_recording_fails_loudly(tmp_path: Path) -> None:
    """The matrix with debian-13's SwapState recording removed must not plan silently."""
    variant = tmp_path / "matrix_without_swapstate.py"
    variant.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from inventories import matrix\n"
        "\n"
        "def _without_swapstate(hosts):\n"
        "    for name, data in hosts:\n"
        "        if name == '@fake/debian-13':\n"
        f"            del data['fake_responses'][{marker('SwapState')!r}]\n"
        "    return hosts\n"
        "\n"
        "control_plane = matrix.control_plane\n"
        "workers = _without_swapstate(matrix.workers)\n"
    )
    result = run_pyinfra(inventory=variant)
    assert result.returncode != 0
    assert "nordkube matrix: no recording for this command on @fake/debian-13" in result.stderr
    assert "could not load fact: pyinfra_ext.facts.SwapState" in result.stderr

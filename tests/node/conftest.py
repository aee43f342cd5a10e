"""The node suite's wiring: which node a test runs on, its settings, and a summary per node.

Run by `nordkube check INVENTORY`, which writes the hosts file named by NORDKUBE_CHECK_HOSTS:
`{"<testinfra host>": {"name": "<inventory host>", "settings": {...}, "cluster": {...}}}`
(cluster: nordkube.check.cluster_roles). Without it (plain `pytest tests/node --hosts=...`),
every host gets the default settings and counts as a worker.

Tests marked `cluster` check a formed cluster (kubelet, Ready, kube-proxy, DNS): they are
selected only for the hosts whose stages include kubernetes (an empty stages setting runs
every stage), and must pass on every such host; a host prepared only (stages without
kubernetes) is not expected to be in a cluster, so they are deselected there, not skipped.

Expected states are written out in the test modules; only the input settings come from nordkube.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import testinfra
from xdist.scheduler import LoadScopeScheduling

from nordkube.check import HOSTS_ENV
from nordkube.settings import Settings, SettingsError

DEBIAN_FAMILY = ("debian", "ubuntu")
EL_FAMILY = ("centos", "rocky", "almalinux", "rhel")


def _load_hosts() -> dict[str, dict[str, Any]]:
    path = os.environ.get(HOSTS_ENV)
    if not path:
        return {}
    hosts: dict[str, dict[str, Any]] = json.loads(Path(path).read_text())
    return hosts


HOSTS = _load_hosts()


def inventory_name(testinfra_name: str) -> str:
    """The inventory's name for a testinfra host (they differ only for unusual names)."""
    entry = HOSTS.get(testinfra_name)
    return str(entry["name"]) if entry else testinfra_name


@dataclass(frozen=True)
class Node:
    """The node under test; every failure message starts with its inventory name."""

    name: str
    settings: Settings
    # control_plane, control_planes (how many), admin_kubeconfig (nordkube.check.cluster_roles)
    cluster: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


@pytest.fixture(scope="module")
def node(host: Any) -> Node:
    """The node under test, once it answers over SSH (with sudo when asked)."""
    testinfra_name = host.backend.get_hostname()
    if HOSTS and testinfra_name not in HOSTS:
        pytest.fail(f"{testinfra_name}: not in {os.environ[HOSTS_ENV]}", pytrace=False)
    name = inventory_name(testinfra_name)
    problems: str | None
    try:
        settings = Settings.from_data(HOSTS.get(testinfra_name, {}).get("settings", {}), name)
    except SettingsError as error:
        problems = str(error)
    else:
        problems = _cannot_run_commands(host)
    if problems:
        pytest.fail(f"{name}: {problems}", pytrace=False)
    return Node(name, settings, dict(HOSTS.get(testinfra_name, {}).get("cluster", {})))


def _cannot_run_commands(host: Any) -> str | None:
    try:
        answer = host.run("true")
    except RuntimeError as error:  # testinfra's ssh backend: ssh itself failed
        stderr = getattr(error.args[0], "stderr", str(error)).strip()
        return f"cannot reach the node over SSH: {stderr}"
    if answer.rc != 0:
        how = "with sudo" if host.backend.sudo else "over SSH"
        return f"cannot run commands {how}: {answer.stderr.strip()}"
    return None


@pytest.fixture(scope="module")
def os_family(host: Any, node: Node) -> str:
    """`debian` (Debian, Ubuntu) or `el` (CentOS, Rocky, Alma, RHEL)."""
    distribution = host.system_info.distribution
    if distribution in DEBIAN_FAMILY:
        return "debian"
    if distribution in EL_FAMILY:
        return "el"
    pytest.fail(f"{node}: distribution {distribution!r} is not supported", pytrace=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "cluster: a state of a formed cluster (hosts whose stages include kubernetes)"
    )
    config.addinivalue_line(
        "markers",
        "etcd_disk: a state of etcd's own disk (hosts with etcd_device whose stages include etcd)",
    )


def _forms_cluster(testinfra_name: str) -> bool:
    stages = HOSTS.get(testinfra_name, {}).get("settings", {}).get("stages") or []
    return not stages or "kubernetes" in stages


def _has_etcd_disk(testinfra_name: str) -> bool:
    settings = HOSTS.get(testinfra_name, {}).get("settings", {})
    stages = settings.get("stages") or []
    return bool(settings.get("etcd_device")) and (not stages or "etcd" in stages)


# Each marker and which hosts its states are expected on; deselected elsewhere.
_EXPECTED_ON = {"cluster": _forms_cluster, "etcd_disk": _has_etcd_disk}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Label each test with its node and state, for JUnit properties and the summary; keep the
    cluster states only for hosts that run the kubernetes stage, and etcd's disk only for
    hosts with an etcd_device that run the etcd stage."""
    deselected = []
    for item in items:
        params = getattr(item, "callspec", None)
        testinfra_host = params.params.get("_testinfra_host") if params else None
        if testinfra_host is None:
            continue
        name = testinfra_host.backend.get_hostname()
        if any(
            item.get_closest_marker(marker) and not expected(name)
            for marker, expected in _EXPECTED_ON.items()
        ):
            deselected.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]
    for item in items:
        params = getattr(item, "callspec", None)
        if params is None or "_testinfra_host" not in params.params:
            continue
        backend = params.params["_testinfra_host"].backend
        rest = _without_host_id(params.id, backend.get_pytest_id()) or ""
        state = getattr(item, "originalname", item.name) + (f"[{rest}]" if rest else "")
        name = inventory_name(backend.get_hostname())
        item.user_properties.extend([("host", name), ("state", state)])


def _without_host_id(test_id: str, host_id: str) -> str | None:
    """`ssh://node1-ip_vs` -> `ip_vs`: a test's own parameters; None if not on that host."""
    if test_id == host_id:
        return ""
    if test_id.startswith(host_id + "-"):
        return test_id[len(host_id) + 1 :]
    if test_id.endswith("-" + host_id):
        return test_id[: -len(host_id) - 1]
    return None


class NodeScheduling(LoadScopeScheduling):
    """`--dist=loadscope` where a scope is a node: one worker runs all of a node's tests, so
    its module fixtures run once, and the nodes are checked in parallel. (xdist's loadgroup
    would do this with marks, but loses the groups on pytest 9.2: pytest-xdist#1386.)
    """

    def __init__(self, config: pytest.Config, log: Any = None) -> None:
        super().__init__(config, log)
        hosts = testinfra.get_hosts(
            config.option.hosts.split(","), connection=config.option.connection
        )
        # Longest first, so that host node1-2 is not taken for node1 with a parameter 2.
        ids = {host.backend.get_pytest_id() for host in hosts}
        self.host_ids = sorted(ids, key=len, reverse=True)

    def _split_scope(self, nodeid: str) -> str:
        params = nodeid[nodeid.find("[") + 1 : nodeid.rfind("]")] if "[" in nodeid else ""
        for host_id in self.host_ids:
            if _without_host_id(params, host_id) is not None:
                return host_id
        return str(super()._split_scope(nodeid))


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") == "loadscope" and config.option.hosts:
        return NodeScheduling(config, log)
    return None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """What failed, per node: one line per failed state; a setup error that stopped many
    checks (node unreachable, sudo refused) once, with the number of checks it stopped.
    """
    failed: dict[str, dict[str, str]] = defaultdict(dict)
    errors: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    hosts: set[str] = set()
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            properties = dict(getattr(report, "user_properties", ()))
            if "host" not in properties:
                continue
            host = properties["host"]
            hosts.add(host)
            if outcome == "failed":
                failed[host][report.nodeid] = f"{properties['state']}: {_message(report, host)}"
            elif outcome == "error":
                errors[host][_message(report, host)].add(report.nodeid)
    if not hosts:
        return
    terminalreporter.section("node state per host")
    for host in sorted(hosts):
        if not failed[host] and not errors[host]:
            terminalreporter.write_line(f"{host}: every check passed", green=True)
            continue
        count = len(failed[host]) + sum(len(ids) for ids in errors[host].values())
        terminalreporter.write_line(f"{host}: {count} failed", red=True, bold=True)
        for message, ids in errors[host].items():
            terminalreporter.write_line(f"    {len(ids)} checks could not run: {message}")
        for problem in failed[host].values():
            terminalreporter.write_line(f"    {problem}")


def _message(report: Any, host: str) -> str:
    """The failure's message without the exception type and host name it starts with."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    line = text.strip().splitlines()[0] if text.strip() else report.outcome
    for prefix in ("AssertionError: ", "Failed: ", f"{host}: "):
        line = line.removeprefix(prefix)
    return line

"""Reading the deploy's dry-run plan: items per host and stage keyed on op_hash, which hosts
were planned, and why the others were not (pyinfra's output as printed by pyinfra 3.10)."""

from __future__ import annotations

import json

from nordkube.drift.plan import CONDITIONAL, parse_plan
from nordkube.pyinfra_run import pyinfra_command


def _operation(op_hash: str, names: list[str], change=(), conditional=()) -> dict:
    return {
        "op_hash": op_hash,
        "name": names[0],
        "names": names,
        "args": [],
        "hosts_with_change": list(change),
        "hosts_with_conditional_change": list(conditional),
    }


MIRRORS = "Prepare the container runtime | Ensure containerd pulls docker.io through its mirrors"
PLAN = json.dumps(
    {
        "plan": [
            _operation(
                "aaa",
                ["Prepare the kernel | Ensure the kernel parameters are live"],
                change=["node1"],
            ),
            # Two operations with the same name: told apart by op_hash only.
            _operation("bbb", [MIRRORS], change=["node1", "node2"]),
            _operation("ccc", [MIRRORS], change=["node2"]),
            _operation(
                "ddd",
                [
                    "Prepare the base system | Ensure the Kubernetes 1.35 repository is in "
                    "/etc/apt/sources.list.d/kubernetes.list",
                    "Prepare the base system | Ensure the Kubernetes 1.35 repository is in "
                    "/etc/yum.repos.d/kubernetes.repo",
                ],
                conditional=["node2"],
            ),
            _operation("eee", ["Somebody's own deploy | Ensure something"], change=["node1"]),
            _operation("fff", ["Prepare the kernel | Persist kernel modules"]),
        ],
        "results": None,
    }
)
# What pyinfra printed with one host unreachable (ANSI colours as on a terminal).
STDERR = """--> Loading config...
--> Loading inventory...
--> Connecting to hosts...
    [node1] \x1b[32mConnected\x1b[0m
    [node2] Connected
    Failed to load host keys from /root/.ssh/known_hosts: [Errno 2] No such file or directory
    [node3]       Could not connect ([Errno None] Unable to connect to port 2223 on 127.0.0.1)

--> Preparing operation files...
    Loading: deploy.py
    [node1] warning: node1: kube_proxy_mode: ipvs is deprecated from Kubernetes 1.35
    [node1] \x1b[32mReady:\x1b[0m \x1b[1mdeploy.py\x1b[0m
    [node2] Ready: deploy.py

--> Disconnecting from hosts...
"""


def test_items_are_per_host_keyed_on_op_hash_and_staged_by_deploy_title() -> None:
    result = parse_plan(PLAN, STDERR)
    assert result.planned == {"node1", "node2"}
    assert result.error is None
    node1 = {(item.key, item.stage, item.title) for item in result.items["node1"]}
    assert node1 == {
        ("aaa", "kernel", "Ensure the kernel parameters are live"),
        ("bbb", "runtime", "Ensure containerd pulls docker.io through its mirrors"),
        ("eee", "other", "Ensure something"),
    }
    assert [item.key for item in result.items["node2"]] == ["bbb", "ccc", "ddd"]
    assert all(item.source == "plan" for items in result.items.values() for item in items)


def test_a_conditional_change_is_an_item_saying_so() -> None:
    (repository,) = [item for item in parse_plan(PLAN, STDERR).items["node2"] if item.key == "ddd"]
    assert repository.stage == "base"
    assert repository.detail == CONDITIONAL
    # Per-host names are not in the JSON: both are given.
    assert repository.title == (
        "Ensure the Kubernetes 1.35 repository is in /etc/apt/sources.list.d/kubernetes.list / "
        "Ensure the Kubernetes 1.35 repository is in /etc/yum.repos.d/kubernetes.repo"
    )


def test_an_unreachable_host_is_not_planned_and_says_why() -> None:
    result = parse_plan(PLAN, STDERR)
    assert "node3" not in result.planned
    assert result.host_errors == {
        "node3": ["Could not connect ([Errno None] Unable to connect to port 2223 on 127.0.0.1)"]
    }
    assert "node3" not in result.items


def test_a_refused_validation_is_the_runs_error_with_every_problem() -> None:
    stderr = """--> Connecting to hosts...
    [node1] Connected
--> Preparing operation files...
    Loading: deploy.py

--> Disconnecting from hosts...
--> pyinfra error in /srv/roles/validate.py line 24: 2 problem(s), nothing was changed on any host:
  node1, node2: machine_id: 3d12 is shared by 2 hosts (cloned image?): make it unique per host
  node3: os: Windows is not supported
"""
    result = parse_plan("", stderr)
    assert result.planned == set()
    assert result.error == (
        "pyinfra error in /srv/roles/validate.py line 24: 2 problem(s), nothing was "
        "changed on any host:\n"
        "node1, node2: machine_id: 3d12 is shared by 2 hosts (cloned image?): make it unique "
        "per host\nnode3: os: Windows is not supported"
    )


def test_an_exception_in_the_deploy_is_its_last_traceback_line() -> None:
    stderr = """--> Preparing operation files...
    [node1] Ready: deploy.py
--> An exception occurred in: deploy.py:

Traceback (most recent call last):
  File "deploy.py", line 17, in <module>
    validate()
KeyError: 'os_id'
"""
    result = parse_plan("", stderr)
    assert result.planned == set()  # no JSON: nothing is known about any host
    assert result.error == "An exception occurred in: deploy.py: KeyError: 'os_id'"


def test_every_host_failing_leaves_each_reason_with_its_host() -> None:
    stderr = """--> Connecting to hosts...
    [node1] Could not connect (timed out)
    [node2] Could not connect (timed out)
--> pyinfra error: No hosts remaining!
"""
    result = parse_plan("", stderr)
    assert result.host_errors == {
        "node1": ["Could not connect (timed out)"],
        "node2": ["Could not connect (timed out)"],
    }
    assert result.error == "pyinfra error: No hosts remaining!"


def test_the_command_is_the_real_deploys_dry_json_run_with_each_limit() -> None:
    assert pyinfra_command("pyinfra", "inv.py", "deploy.py", ["node1", "workers"]) == [
        "pyinfra", "inv.py", "deploy.py", "--dry", "--json",
        "--limit", "node1", "--limit", "workers",
    ]  # fmt: skip

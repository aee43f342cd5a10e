"""Reading the node suite's JUnit report: failing states per host with their stage and subject,
and states the suite could not judge (in the form pytest 9 writes with --junitxml)."""

from __future__ import annotations

from pathlib import Path

from nordkube.drift.suite import parse_junit


def _case(module: str, host: str, state: str, body: str = "") -> str:
    return (
        f'<testcase classname="tests.node.{module}" name="{state}" time="0.1">'
        f'<properties><property name="host" value="{host}" />'
        f'<property name="state" value="{state}" /></properties>{body}</testcase>'
    )


UNREACHABLE = (
    '<error message="failed on setup with &quot;Failed: node3: cannot reach the node over SSH: '
    'ssh: connect to host 127.0.0.1 port 2223: Connection refused&quot;">trace</error>'
)
CASES = [
    _case(
        "test_sysctl",
        "node1",
        "test_sysctl_live[net.ipv4.ip_forward]",
        '<failure message="AssertionError: node1: net.ipv4.ip_forward is 0, expected 1&#10;'
        "assert '0' == '1'\">trace</failure>",
    ),
    _case("test_sysctl", "node1", "test_sysctl_persisted[net.ipv4.ip_forward]"),
    _case(
        "test_packages",
        "node2",
        "test_package_installed[containerd]",
        '<failure message="AssertionError: node2: package containerd or containerd.io is not '
        'installed">trace</failure>',
    ),
    _case(
        "test_packages",
        "node2",
        "test_package_installed[socat]",
        '<failure message="AssertionError: node2: package socat is not installed">t</failure>',
    ),
    _case(
        "test_kernel_modules",
        "node2",
        "test_module_loaded[nf_conntrack_ipv4]",
        '<skipped message="node2: this kernel has no nf_conntrack_ipv4" />',
    ),
    _case(
        "test_sysctl",
        "node2",
        "test_sysctl_persisted_value_wins[kernel.panic]",
        '<error message="failed on setup with &quot;AssertionError: node2: cannot list the '
        'sysctl.d files: permission denied&quot;">t</error>',
    ),
    _case("test_swap", "node3", "test_swap_off_now", UNREACHABLE),
    _case("test_time_sync", "node3", "test_time_sync_running", UNREACHABLE),
]
REPORT = (
    '<?xml version="1.0" encoding="utf-8"?>\n<testsuites name="pytest tests">'
    '<testsuite name="pytest" errors="3" failures="3" skipped="1" tests="8">'
    + "\n".join(CASES)
    + "</testsuite></testsuites>\n"
)


def _parsed(tmp_path: Path):
    path = tmp_path / "check.xml"
    path.write_text(REPORT)
    return parse_junit(path)


def test_failing_states_are_items_of_their_host_and_stage(tmp_path: Path) -> None:
    result = _parsed(tmp_path)
    assert result.checked == {"node1", "node2", "node3"}
    (forwarding,) = result.items["node1"]
    assert (forwarding.stage, forwarding.source, forwarding.key) == (
        "kernel",
        "check",
        "test_sysctl_live[net.ipv4.ip_forward]",
    )
    assert forwarding.detail == "net.ipv4.ip_forward is 0, expected 1"
    assert forwarding.subject == "sysctl:net.ipv4.ip_forward"


def test_the_containerd_package_is_the_runtime_stages_and_other_packages_the_base_stages(
    tmp_path: Path,
) -> None:
    stages = {item.key: (item.stage, item.subject) for item in _parsed(tmp_path).items["node2"]}
    assert stages == {
        "test_package_installed[containerd]": ("runtime", "package:containerd"),
        "test_package_installed[socat]": ("base", "package:socat"),
    }


def test_an_error_repeated_over_a_hosts_states_is_told_once_and_a_single_one_with_its_state(
    tmp_path: Path,
) -> None:
    result = _parsed(tmp_path)
    assert result.unknown == {
        "node2": [
            "test_sysctl_persisted_value_wins[kernel.panic]: cannot list the sysctl.d files: "
            "permission denied"
        ],
        "node3": [
            "cannot reach the node over SSH: ssh: connect to host 127.0.0.1 port 2223: "
            "Connection refused"
        ],
    }
    assert "node3" not in result.items

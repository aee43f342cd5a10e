"""The waits the cluster operations run during execution (pyinfra_ext/cluster.py): polled
until nothing is left to wait for, or failed with a message naming why, once the time is up."""

from __future__ import annotations

from typing import Any

import pytest

from pyinfra_ext import cluster


class LoggingHost:
    """What a wait needs of a pyinfra Host: somewhere to log its error."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def log_styled(self, message: str, **_: Any) -> None:
        self.errors.append(message)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(cluster.gevent, "sleep", slept.append)
    return slept


def test_a_wait_polls_until_nothing_is_left_and_logs_nothing(no_sleep: list[float]) -> None:
    answers = iter(["NotReady", "NotReady", None])
    host = LoggingHost()
    assert cluster._poll_until(host, 600, lambda: next(answers), lambda why: why)  # type: ignore[arg-type]
    assert no_sleep == [cluster.READY_POLL_SECONDS] * 2
    assert host.errors == []


def test_a_wait_past_its_timeout_fails_naming_the_last_reason() -> None:
    host = LoggingHost()
    reasons: list[str] = []
    ok = cluster._poll_until(
        host,  # type: ignore[arg-type]
        0,
        lambda: "KubeletNotReady: cni plugin not initialized",
        lambda why: reasons.append(why) or f"not Ready: {why}",
    )
    assert ok is False
    assert reasons == ["KubeletNotReady: cni plugin not initialized"]
    assert host.errors == ["Error: not Ready: KubeletNotReady: cni plugin not initialized"]


def test_the_cluster_dns_wait_names_the_newest_warning_of_its_pods(monkeypatch) -> None:
    warning = (
        'coredns-7d764666f9-ffw6k: FailedCreatePodSandBox: plugin type="flannel" failed (add):'
        ' incompatible CNI versions; config is "1.0.0"'
    )
    asked: list[str] = []

    def run_now(_host: Any, command: str) -> tuple[bool, list[str]]:
        asked.append(command)
        if command == cluster._DNS_AVAILABLE:
            return True, []  # kubectl prints nothing while no replica is available
        return True, [warning]

    monkeypatch.setattr(cluster, "run_now", run_now)
    host = LoggingHost()
    assert cluster.wait_for_cluster_dns(None, host, 0) is False  # type: ignore[arg-type]
    assert asked == [cluster._DNS_AVAILABLE, cluster._DNS_WARNINGS]
    (error,) = host.errors
    assert error.startswith("Error: the cluster DNS (kube-system/coredns) has no pod available")
    assert error.endswith(warning)


def test_the_cluster_dns_wait_ends_once_a_pod_is_available(monkeypatch) -> None:
    answers = iter([(True, []), (True, ["0"]), (True, ["2"])])
    monkeypatch.setattr(cluster, "run_now", lambda _host, _command: next(answers))
    host = LoggingHost()
    assert cluster.wait_for_cluster_dns(None, host, 600) is True  # type: ignore[arg-type]
    assert host.errors == []

"""Time sync: chrony keeps the clock right (etcd and TLS certificates depend on it)."""

from __future__ import annotations

from typing import Any

from nordkube.node import TIME_SYNC_SERVICE


def test_time_sync_running(host: Any, node: Any, os_family: str) -> None:
    name = TIME_SYNC_SERVICE["redhat" if os_family == "el" else os_family]
    service = host.service(name)
    assert service.is_running, f"{node}: {name} is not running"
    assert service.is_enabled, f"{node}: {name} is not enabled at boot"

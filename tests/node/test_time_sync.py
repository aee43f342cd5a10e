"""Time sync: chrony keeps the clock right (etcd and TLS certificates depend on it)."""

from __future__ import annotations

from typing import Any

CHRONY_SERVICE = {"debian": "chrony", "el": "chronyd"}


def test_time_sync_running(host: Any, node: Any, os_family: str) -> None:
    name = CHRONY_SERVICE[os_family]
    service = host.service(name)
    assert service.is_running, f"{node}: {name} is not running"
    assert service.is_enabled, f"{node}: {name} is not enabled at boot"

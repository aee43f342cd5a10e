"""What every role needs about the current host: its settings and validated platform."""

from __future__ import annotations

from dataclasses import dataclass

from pyinfra import host

from nordkube.settings import Settings
from nordkube.support import Platform, find_platform
from pyinfra_ext import factcache
from pyinfra_ext.facts import NodeFacts


@dataclass(frozen=True)
class HostContext:
    settings: Settings
    platform: Platform
    facts: dict


def current() -> HostContext:
    """Settings and platform of the host being prepared (validated before any role runs)."""
    settings = Settings.from_data(host.data.dict(), host.name)
    node = factcache.read(NodeFacts)
    platform = find_platform(node["os_id"], node["version_id"])
    assert platform is not None, "roles.validate refuses unsupported hosts first"
    return HostContext(settings, platform, node)

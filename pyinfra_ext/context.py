"""What every role needs about the current host: its settings and validated platform."""

from __future__ import annotations

from dataclasses import dataclass

from pyinfra import host
from pyinfra.api import Host

from nordkube.settings import Settings
from nordkube.support import (
    ContainerdChoice,
    ContainerdOffer,
    Platform,
    choose_containerd,
    find_platform,
)
from pyinfra_ext import factcache
from pyinfra_ext.facts import ContainerdPackages, NodeFacts


@dataclass(frozen=True)
class HostContext:
    settings: Settings
    platform: Platform
    facts: dict
    # Where containerd comes from, decided from what the host's package manager offers.
    containerd: ContainerdChoice


def containerd_offer(platform: Platform, target: Host | None = None) -> ContainerdOffer:
    """What the package manager of `target` (default: the current host) says about
    containerd; read once per run."""
    answer = factcache.read(ContainerdPackages, target, manager=platform.package_manager)
    return ContainerdOffer.from_fact(answer)


def current() -> HostContext:
    """Settings and platform of the host being prepared (validated before any role runs)."""
    settings = Settings.from_data(host.data.dict(), host.name)
    node = factcache.read(NodeFacts)
    platform = find_platform(node["os_id"], node["version_id"])
    assert platform is not None, "roles.validate refuses unsupported hosts first"
    choice = choose_containerd(platform, settings.kubernetes_minor(), containerd_offer(platform))
    assert choice is not None, "roles.validate refuses unsupported Kubernetes/OS pairs first"
    return HostContext(settings, platform, node, choice)

"""Which operating systems nordkube supports, and the decisions that differ between them.

Pure data and functions (no pyinfra): the deploy, `nordkube validate`, the doctor and the
offline per-OS plans all decide the same way. Every number here has its source next to it;
re-check them when a distribution or Kubernetes release moves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Kubernetes minors upstream maintains (patch releases for the newest three minors,
# https://kubernetes.io/releases/; 1.38 is in beta, v1.38.0-beta.0 on the Go module proxy).
OLDEST_MAINTAINED_MINOR = 35
NEWEST_MINOR = 37
# End-of-life minors are prepared only on a host that cannot run a maintained one (CentOS 7,
# Ubuntu 18.04 and 20.04: their newest installable containerd is too old); 1.28 is the
# oldest containerd's table lists with CRI v1.
OLDEST_MINOR = 28

# From 1.35 the kubelet refuses cgroup v1 unless failCgroupV1 is false (KEP-5573).
KUBELET_REFUSES_CGROUP_V1_FROM = 35
# kube-proxy's IPVS mode is deprecated in 1.35 in favour of nftables (GA in 1.33).
IPVS_DEPRECATED_FROM = 35
NFTABLES_MODE_FROM = 31
# The big installers require 5.13 for kube-proxy's nftables mode (nft features it uses).
NFTABLES_MIN_KERNEL = (5, 13)

# containerd's RELEASES.md, "Kubernetes Support": the oldest patch of each containerd series
# recommended for a Kubernetes minor. Rows 1.32 to 1.37 from containerd v2.4.2's RELEASES.md
# (https://github.com/containerd/containerd/blob/v2.4.2/RELEASES.md#kubernetes-support); rows
# 1.28 to 1.31 from the v2.0-era table, which listed them (1.29: 1.7.11+, 1.6.27+; 1.30:
# 2.0.0+, 1.7.13+, 1.6.28+; 1.31: 2.0.0+, 1.7.20+, 1.6.34+). containerd 1.x ends with 1.35.
_CONTAINERD_FOR_KUBERNETES: dict[int, dict[tuple[int, int], int]] = {
    28: {(1, 6): 15, (1, 7): 0},
    29: {(1, 6): 27, (1, 7): 11},
    30: {(1, 6): 28, (1, 7): 13, (2, 0): 0},
    31: {(1, 6): 34, (1, 7): 20, (2, 0): 0},
    32: {(1, 6): 36, (1, 7): 24, (2, 0): 1, (2, 1): 0},
    33: {(1, 6): 36, (1, 7): 24, (2, 0): 4, (2, 1): 0},
    34: {(1, 6): 39, (1, 7): 28, (2, 0): 6, (2, 1): 3},
    35: {(1, 7): 28, (2, 1): 5, (2, 2): 0},
    36: {(2, 2): 0, (2, 3): 0},
    37: {(2, 3): 0, (2, 4): 0},
}

# The pause image kubeadm expects: kubeadm's constants.PauseVersion
# (cmd/kubeadm/app/constants/constants.go), read for 1.35 to 1.37 at the tags v1.35.4, v1.36.3
# and v1.37.2 of k8s.io/kubernetes from the Go module proxy (the versions the bundle builds);
# `kubeadm config images list` prints the same once built.
_PAUSE_VERSION = {
    28: "3.9",
    29: "3.9",
    30: "3.9",
    31: "3.10",
    32: "3.10",
    33: "3.10",
    34: "3.10.1",
    35: "3.10.1",
    36: "3.10.2",
    37: "3.10.2",
}

# The containerd.io series Docker's live repositories offer, newest first, each as the oldest
# patch the checks assume (the pin accepts any patch of the series, and the package manager
# installs the newest). Seen on download.docker.com: 2.2.x (2.2.0 to 2.2.5;
# https://github.com/docker/packaging/issues/467 says release/2.2 was the packaged line in
# July 2026) and 2.3.x (2.3.3 to 2.3.6 for noble, trixie and resolute in install transcripts).
# The first series containerd's table recommends for the Kubernetes minor is pinned.
DOCKER_CONTAINERD = ("2.3.0", "2.2.0")


@dataclass(frozen=True)
class Platform:
    """One supported OS release and how nodes on it are prepared.

    Which containerd the OS itself offers is not listed here: it is read from the host's
    package manager (pyinfra_ext.facts.ContainerdPackages) and judged by `choose_containerd`.
    """

    os_id: str
    version: str
    name: str
    family: str  # "debian" or "redhat"
    package_manager: str  # "apt", "yum" or "dnf"
    codename: str
    # The last containerd.io of a Docker repository that gets no more builds for this release
    # (None: Docker's live repository, DOCKER_CONTAINERD).
    docker_frozen_at: str | None = None
    # Repositories that moved to an archive (CentOS 7 lives only in the vault since 2024-07).
    vault: bool = False

    @property
    def key(self) -> str:
        return f"{self.os_id}-{self.version}"


PLATFORMS: tuple[Platform, ...] = (
    # Docker stopped building for bullseye when Debian 11's LTS ended
    # (https://github.com/docker/packaging/pull/514, 2026-09-07). The 2.2 series it built before
    # the 2.3 line is inferred, not seen for bullseye.
    Platform("debian", "11", "Debian 11", "debian", "apt", "bullseye", docker_frozen_at="2.2.0"),
    Platform("debian", "12", "Debian 12", "debian", "apt", "bookworm"),
    Platform("debian", "13", "Debian 13", "debian", "apt", "trixie"),
    # Docker's bionic repository stopped at containerd.io 1.6.21 (docs dropped 18.04 in
    # https://github.com/docker/docs/pull/17588, 2023-06; 1.6.21-1 is what bionic hosts
    # install from it, e.g. next to docker-buildx-plugin 0.10.5-1~ubuntu.18.04~bionic).
    Platform("ubuntu", "18.04", "Ubuntu 18.04", "debian", "apt", "bionic", "1.6.21"),
    # Docker stopped building for focal on 2025-05-20
    # (https://github.com/docker/containerd-packaging/pull/421); its last containerd.io there
    # is 1.7.27 (installed next to docker-ce 27.5.1~ubuntu.20.04~focal in transcripts).
    Platform("ubuntu", "20.04", "Ubuntu 20.04", "debian", "apt", "focal", "1.7.27"),
    Platform("ubuntu", "22.04", "Ubuntu 22.04", "debian", "apt", "jammy"),
    Platform("ubuntu", "24.04", "Ubuntu 24.04", "debian", "apt", "noble"),
    # CentOS 7: EOL 2024-06-30, mirrors gone, only vault.centos.org; Docker's centos/7
    # repository ends with containerd.io 1.6.33.
    Platform("centos", "7", "CentOS 7", "redhat", "yum", "el7", "1.6.33", vault=True),
    Platform("rocky", "8", "Rocky Linux 8", "redhat", "dnf", "el8"),
    Platform("rocky", "9", "Rocky Linux 9", "redhat", "dnf", "el9"),
    Platform("almalinux", "8", "AlmaLinux 8", "redhat", "dnf", "el8"),
    Platform("almalinux", "9", "AlmaLinux 9", "redhat", "dnf", "el9"),
)


def find_platform(os_id: str, version_id: str) -> Platform | None:
    """The platform for /etc/os-release's ID and VERSION_ID (EL minor releases fold in)."""
    major = version_id if os_id == "ubuntu" else version_id.split(".")[0]
    for platform in PLATFORMS:
        if platform.os_id == os_id and platform.version == major:
            return platform
    return None


def supported_names() -> str:
    return ", ".join(platform.name for platform in PLATFORMS)


def parse_version(text: str) -> tuple[int, ...]:
    """The leading numeric part of a version: '1.6.20~ds1-1' -> (1, 6, 20)."""
    match = re.match(r"^(\d+(?:\.\d+)*)", text)
    if not match:
        return ()
    return tuple(int(part) for part in match.group(1).split("."))


def containerd_supports(containerd_version: str, kubernetes_minor: int) -> bool:
    """Whether containerd's own table recommends this containerd for that Kubernetes."""
    parts = parse_version(containerd_version)
    if len(parts) < 3:
        return False
    oldest_patch = _CONTAINERD_FOR_KUBERNETES.get(kubernetes_minor, {}).get((parts[0], parts[1]))
    return oldest_patch is not None and parts[2] >= oldest_patch


OS_CONTAINERD = "containerd"  # the distribution's own package
DOCKER_CONTAINERD_PACKAGE = "containerd.io"  # Docker's package


@dataclass(frozen=True)
class ContainerdOffer:
    """What one host's package manager says about containerd, as
    pyinfra_ext.facts.ContainerdPackages reads it: the versions installed, the version an
    install would get (the candidate) from the repositories configured now, and whether it
    had package lists to answer from at all."""

    installed: Mapping[str, str] = field(default_factory=dict)
    candidates: Mapping[str, str] = field(default_factory=dict)
    metadata: bool = True

    @classmethod
    def from_fact(cls, value: Mapping[str, Any]) -> ContainerdOffer:
        return cls(
            dict(value.get("installed", {})),
            dict(value.get("candidates", {})),
            bool(value.get("metadata")),
        )


@dataclass(frozen=True)
class ContainerdChoice:
    """Where containerd comes from on one host for one Kubernetes minor."""

    source: str  # "os", "docker" or "bundle" (the offline bundle's binaries)
    package: str  # "containerd" or "containerd.io"
    series: str  # "1.6", "2.3": decides the config schema and the version pin
    reason: str

    @property
    def major(self) -> int:
        return int(self.series.split(".")[0])


def docker_releases(platform: Platform) -> tuple[str, ...]:
    """The containerd.io releases Docker's repository has for this platform, newest first."""
    return (platform.docker_frozen_at,) if platform.docker_frozen_at else DOCKER_CONTAINERD


def choose_containerd(
    platform: Platform,
    kubernetes_minor: int,
    offer: ContainerdOffer,
    bundled: str | None = None,
) -> ContainerdChoice | None:
    """Which containerd a host runs for this Kubernetes minor; None when none installable does.

    A containerd already installed keeps its source while it supports the minor (switching
    between containerd and containerd.io replaces the runtime under running pods); otherwise
    the OS's own candidate when containerd's table recommends it, else the offline bundle's
    containerd (`bundled`, its version, when the deploy installs from a bundle: such a site
    reaches no Docker repository), else Docker's containerd.io.
    """
    minor = f"Kubernetes 1.{kubernetes_minor}"
    installed_docker = offer.installed.get(DOCKER_CONTAINERD_PACKAGE)
    installed_os = offer.installed.get(OS_CONTAINERD)
    docker = next(
        (r for r in docker_releases(platform) if containerd_supports(r, kubernetes_minor)), None
    )
    if installed_docker:
        if containerd_supports(installed_docker, kubernetes_minor):
            return _docker(
                installed_docker, f"{platform.name} has containerd.io {installed_docker}"
            )
        if docker:
            return _docker(
                docker, f"{platform.name} has containerd.io {installed_docker}, too old for {minor}"
            )
    candidate = offer.candidates.get(OS_CONTAINERD)
    for version, how in ((installed_os, "has installed"), (candidate, "offers")):
        if version and containerd_supports(version, kubernetes_minor):
            return ContainerdChoice(
                "os",
                OS_CONTAINERD,
                _series(version),
                f"{platform.name} {how} containerd {version}, which supports {minor}",
            )
    if candidate:
        why = f"{platform.name} offers containerd {candidate}, too old for {minor}"
    elif offer.metadata:
        why = f"{platform.name} offers no containerd in its repositories"
    else:
        why = f"{platform.name} has no package lists, so which containerd it offers is unknown"
    if bundled is not None:
        version = bundled.removeprefix("v")
        if not containerd_supports(version, kubernetes_minor):
            return None
        return ContainerdChoice(
            "bundle",
            OS_CONTAINERD,
            _series(version),
            f"{why}; using the bundle's containerd {version}",
        )
    if docker is None:
        return None
    return _docker(docker, why)


def _docker(version: str, why: str) -> ContainerdChoice:
    series = _series(version)
    return ContainerdChoice(
        "docker", DOCKER_CONTAINERD_PACKAGE, series, f"{why}; using Docker's containerd.io {series}"
    )


def _series(version: str) -> str:
    return ".".join(str(part) for part in parse_version(version)[:2])


def installable_minors(
    platform: Platform, offer: ContainerdOffer, bundled: str | None = None
) -> list[int]:
    """Every Kubernetes minor some installable containerd supports on this host."""
    return [
        minor
        for minor in range(OLDEST_MINOR, NEWEST_MINOR + 1)
        if choose_containerd(platform, minor, offer, bundled) is not None
    ]


def is_end_of_life(kubernetes_minor: int) -> bool:
    return kubernetes_minor < OLDEST_MAINTAINED_MINOR


def pause_image(kubernetes_minor: int) -> str:
    """The sandbox image kubeadm pulls for that Kubernetes minor."""
    return f"registry.k8s.io/pause:{_PAUSE_VERSION[kubernetes_minor]}"


def kernel_at_least(release: str, minimum: tuple[int, int]) -> bool:
    """Compare `uname -r` ('5.14.0-427.el9.x86_64') with (major, minor)."""
    parts = parse_version(release)
    return parts[:2] >= minimum

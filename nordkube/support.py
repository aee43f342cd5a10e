"""Which operating systems nordkube supports, and the decisions that differ between them.

Pure data and functions (no pyinfra): the deploy, `nordkube validate`, the doctor and the
offline per-OS plans all decide the same way. Every number here has its source next to it;
re-check them when a distribution or Kubernetes release moves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Kubernetes minors nordkube prepares nodes for. 1.28 is the oldest the containerd project
# still lists with CRI v1; newer minors are added here after checking the tables below.
MIN_KUBERNETES_MINOR = 28
MAX_KUBERNETES_MINOR = 36

# From 1.35 the kubelet refuses cgroup v1 unless failCgroupV1 is false (KEP-5573).
KUBELET_REFUSES_CGROUP_V1_FROM = 35
# kube-proxy's IPVS mode is deprecated in 1.35 in favour of nftables (GA in 1.33).
IPVS_DEPRECATED_FROM = 35
NFTABLES_MODE_FROM = 31
# The big installers require 5.13 for kube-proxy's nftables mode (nft features it uses).
NFTABLES_MIN_KERNEL = (5, 13)

# containerd's RELEASES.md, "Kubernetes Support": the oldest patch of each containerd series
# recommended for a Kubernetes minor. containerd 1.x support ends with Kubernetes 1.35, so
# 1.36 lists only 2.x (Kubernetes 1.35 release notes).
_CONTAINERD_FOR_KUBERNETES: dict[int, dict[tuple[int, int], int]] = {
    28: {(1, 6): 15, (1, 7): 0, (2, 0): 0, (2, 1): 0},
    29: {(1, 6): 27, (1, 7): 11, (2, 0): 0, (2, 1): 0},
    30: {(1, 6): 28, (1, 7): 13, (2, 0): 0, (2, 1): 0},
    31: {(1, 6): 34, (1, 7): 20, (2, 0): 0, (2, 1): 0},
    32: {(1, 6): 36, (1, 7): 24, (2, 0): 1, (2, 1): 0},
    33: {(1, 6): 36, (1, 7): 24, (2, 0): 4, (2, 1): 0},
    34: {(1, 7): 24, (2, 0): 4, (2, 1): 0},
    35: {(1, 7): 24, (2, 0): 4, (2, 1): 0},
    36: {(2, 1): 0},
}

# The pause image kubeadm expects (kubeadm's constants.PauseVersion per release).
_PAUSE_VERSION = {
    28: "3.9",
    29: "3.9",
    30: "3.9",
    31: "3.10",
    32: "3.10",
    33: "3.10",
    34: "3.10.1",
    35: "3.10.1",
    36: "3.10.1",
}

# The containerd.io release nordkube installs from Docker's repository: the 2.1 series (its
# oldest patch is what the version checks assume; the pin accepts any 2.1.x).
DOCKER_CONTAINERD = "2.1.0"


@dataclass(frozen=True)
class Platform:
    """One supported OS release and how nodes on it are prepared."""

    os_id: str
    version: str
    name: str
    family: str  # "debian" or "redhat"
    package_manager: str  # "apt", "yum" or "dnf"
    codename: str
    # cgroup version the OS boots with by default (the host fact decides; this documents it).
    default_cgroup: int
    # containerd the distribution itself ships (package "containerd"), or None where its
    # repositories have none. Source: the distribution's package index, named per row.
    os_containerd: str | None
    # Docker's containerd.io for this release (a frozen repository stops at an older one).
    docker_containerd: str = DOCKER_CONTAINERD
    end_of_life: bool = False
    # Repositories that moved to an archive (CentOS 7 lives only in the vault since 2024-07).
    vault: bool = False

    @property
    def key(self) -> str:
        return f"{self.os_id}-{self.version}"


PLATFORMS: tuple[Platform, ...] = (
    # packages.debian.org/bullseye/containerd: 1.4.13~ds1-1~deb11u4
    Platform("debian", "11", "Debian 11", "debian", "apt", "bullseye", 2, "1.4.13"),
    # packages.debian.org/bookworm/containerd: 1.6.20~ds1-1+deb12u3 (checked with apt here)
    Platform("debian", "12", "Debian 12", "debian", "apt", "bookworm", 2, "1.6.20"),
    # packages.debian.org/trixie/containerd: 1.7.24~ds1-6
    Platform("debian", "13", "Debian 13", "debian", "apt", "trixie", 2, "1.7.24"),
    # packages.ubuntu.com bionic-updates/containerd: 1.6.12; Docker's bionic repository
    # stopped in the containerd.io 1.6 series.
    Platform(
        "ubuntu",
        "18.04",
        "Ubuntu 18.04",
        "debian",
        "apt",
        "bionic",
        1,
        "1.6.12",
        docker_containerd="1.6.15",
        end_of_life=True,
    ),
    # packages.ubuntu.com focal-updates/containerd: 1.7.24
    Platform("ubuntu", "20.04", "Ubuntu 20.04", "debian", "apt", "focal", 1, "1.7.24"),
    # packages.ubuntu.com jammy-updates/containerd: 1.7.27
    Platform("ubuntu", "22.04", "Ubuntu 22.04", "debian", "apt", "jammy", 2, "1.7.27"),
    # packages.ubuntu.com noble-updates/containerd: 1.7.27
    Platform("ubuntu", "24.04", "Ubuntu 24.04", "debian", "apt", "noble", 2, "1.7.27"),
    # CentOS 7: EOL 2024-06-30, mirrors gone, only vault.centos.org; Docker's centos/7
    # repository ends with containerd.io 1.6.33.
    Platform(
        "centos",
        "7",
        "CentOS 7",
        "redhat",
        "yum",
        "el7",
        1,
        None,
        docker_containerd="1.6.33",
        end_of_life=True,
        vault=True,
    ),
    Platform("rocky", "8", "Rocky Linux 8", "redhat", "dnf", "el8", 1, None),
    Platform("rocky", "9", "Rocky Linux 9", "redhat", "dnf", "el9", 2, None),
    Platform("almalinux", "8", "AlmaLinux 8", "redhat", "dnf", "el8", 1, None),
    Platform("almalinux", "9", "AlmaLinux 9", "redhat", "dnf", "el9", 2, None),
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


@dataclass(frozen=True)
class ContainerdChoice:
    """Where containerd comes from on one platform for one Kubernetes minor."""

    source: str  # "os" or "docker"
    package: str  # "containerd" or "containerd.io"
    series: str  # "1.6", "2.1": decides the config schema and the version pin
    reason: str

    @property
    def major(self) -> int:
        return int(self.series.split(".")[0])


def choose_containerd(platform: Platform, kubernetes_minor: int) -> ContainerdChoice | None:
    """The OS's containerd when it supports this Kubernetes, else Docker's containerd.io.

    None means no containerd we can install supports that Kubernetes on this platform.
    """
    os_version = platform.os_containerd
    if os_version and containerd_supports(os_version, kubernetes_minor):
        return ContainerdChoice(
            "os",
            "containerd",
            _series(os_version),
            f"{platform.name} ships containerd {os_version}, which supports "
            f"Kubernetes 1.{kubernetes_minor}",
        )
    if not containerd_supports(platform.docker_containerd, kubernetes_minor):
        return None
    why = (
        f"{platform.name} ships containerd {os_version}, "
        f"too old for Kubernetes 1.{kubernetes_minor}"
        if os_version
        else f"{platform.name} ships no containerd"
    )
    return ContainerdChoice(
        "docker",
        "containerd.io",
        _series(platform.docker_containerd),
        f"{why}; using Docker's containerd.io",
    )


def _series(version: str) -> str:
    return ".".join(version.split(".")[:2])


def max_kubernetes_minor(platform: Platform) -> int:
    """The newest Kubernetes minor some installable containerd supports on this platform."""
    supported = [
        minor
        for minor in range(MIN_KUBERNETES_MINOR, MAX_KUBERNETES_MINOR + 1)
        if choose_containerd(platform, minor) is not None
    ]
    return max(supported, default=0)


def pause_image(kubernetes_minor: int) -> str:
    """The sandbox image kubeadm pulls for that Kubernetes minor."""
    return f"registry.k8s.io/pause:{_PAUSE_VERSION[kubernetes_minor]}"


def kernel_at_least(release: str, minimum: tuple[int, int]) -> bool:
    """Compare `uname -r` ('5.14.0-427.el9.x86_64') with (major, minor)."""
    parts = parse_version(release)
    return parts[:2] >= minimum

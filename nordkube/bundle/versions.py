"""Kubernetes versions as the user writes them (1.N.P or v1.N.P) and as Go modules spell them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from nordkube.bundle.errors import BundleError

_VERSION = re.compile(r"v?(1)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class KubernetesVersion:
    major: int
    minor: int
    patch: int

    @property
    def tag(self) -> str:
        """The release tag and the k8s.io/kubernetes module version: v1.35.4."""
        return f"v{self.major}.{self.minor}.{self.patch}"

    @property
    def staging(self) -> str:
        """The version the staging modules (k8s.io/api, ...) publish for this release: v0.35.4."""
        return f"v0.{self.minor}.{self.patch}"

    @property
    def minor_line(self) -> str:
        return f"{self.major}.{self.minor}"


def parse_kubernetes_version(text: str) -> KubernetesVersion:
    """Accept 1.N.P or v1.N.P; a release only (no pre-release or build suffix)."""
    match = _VERSION.fullmatch(text.strip())
    if not match:
        raise BundleError(
            f"Kubernetes version {text!r} is not of the form 1.N.P or v1.N.P (e.g. 1.35.4)"
        )
    major, minor, patch = (int(part) for part in match.groups())
    return KubernetesVersion(major, minor, patch)

"""Packages a node needs: IPVS and conntrack tools, socat, ethtool, iptables, chrony, containerd."""

from __future__ import annotations

from typing import Any

import pytest

# Per state: the package names that satisfy it on Debian/Ubuntu and on the EL family.
# ipvsadm stays installed whatever kube_proxy_mode is (it is how IPVS state is inspected).
PACKAGES: dict[str, dict[str, tuple[str, ...]]] = {
    "ipvsadm": {"debian": ("ipvsadm",), "el": ("ipvsadm",)},
    "ipset": {"debian": ("ipset",), "el": ("ipset",)},
    "conntrack": {"debian": ("conntrack",), "el": ("conntrack-tools",)},
    "socat": {"debian": ("socat",), "el": ("socat",)},
    "ethtool": {"debian": ("ethtool",), "el": ("ethtool",)},
    # EL 9 has no `iptables` package: iptables-nft provides the commands.
    "iptables": {"debian": ("iptables",), "el": ("iptables", "iptables-nft")},
    "chrony": {"debian": ("chrony",), "el": ("chrony",)},
    # Debian's own containerd, or containerd.io from Docker's repository (containerd 2.x).
    "containerd": {"debian": ("containerd", "containerd.io"), "el": ("containerd.io",)},
}


@pytest.mark.parametrize("package", PACKAGES)
def test_package_installed(host: Any, node: Any, os_family: str, package: str) -> None:
    if package == "containerd" and node.settings.kubernetes_package_source == "bundle":
        pytest.skip("containerd comes from the bundle here: tests/node/test_bundle.py checks it")
    candidates = PACKAGES[package][os_family]
    installed = [name for name in candidates if host.package(name).is_installed]
    assert installed, f"{node}: package {' or '.join(candidates)} is not installed"

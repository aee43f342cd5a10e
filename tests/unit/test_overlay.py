"""Each pod network's per-packet overhead on an IPv4 underlay (docs/domain.md, "Overlay MTU")."""

from __future__ import annotations

import pytest

from nordkube import overlay
from nordkube.settings import Settings


@pytest.mark.parametrize(
    ("settings", "name", "bytes_added"),
    [
        (Settings(cni="flannel"), ("flannel", "vxlan"), 50),
        (Settings(cni="flannel", flannel_backend="wireguard"), ("flannel", "wireguard"), 80),
        (Settings(cni="calico", calico_encapsulation="none"), ("calico", "none"), 0),
        (Settings(cni="calico", calico_encapsulation="ipip"), ("calico", "ipip"), 20),
        (Settings(cni="calico", calico_encapsulation="vxlan"), ("calico", "vxlan"), 50),
        # WireGuard on top of any encapsulation: its overhead is the one that counts.
        (Settings(cni="calico", calico_encapsulation="ipip", calico_wireguard=True),
         ("calico", "wireguard"), 60),
        (Settings(cni="canal"), ("canal", "vxlan"), 50),
    ],
)  # fmt: skip
def test_overhead(settings: Settings, name: tuple[str, str], bytes_added: int) -> None:
    assert overlay.encapsulation(settings) == name
    assert overlay.overhead(settings) == bytes_added

"""What each pod network's encapsulation adds to every packet (docs/domain.md, "Overlay MTU").

Pure: the doctor judges measured path MTUs with it; the pods' MTU is the smallest path MTU
between any two nodes minus this.
"""

from __future__ import annotations

from nordkube import cni
from nordkube.settings import Settings

# Bytes added per packet on an IPv4 underlay, by (cni, encapsulation). Calico's WireGuard is
# layered on whichever encapsulation is chosen and its overhead is then the one that counts.
OVERHEAD_IPV4 = {
    ("flannel", "vxlan"): cni.VXLAN_OVERHEAD,
    ("flannel", "wireguard"): 80,
    ("calico", "none"): 0,
    ("calico", "ipip"): 20,
    ("calico", "vxlan"): 50,
    ("calico", "wireguard"): 60,
    ("canal", "vxlan"): cni.VXLAN_OVERHEAD,
}


def encapsulation(settings: Settings) -> tuple[str, str]:
    """(cni, encapsulation) as the settings choose them; Canal is Flannel's VXLAN."""
    if settings.cni == "flannel":
        return "flannel", settings.flannel_backend
    if settings.cni == "canal":
        return "canal", "vxlan"
    return "calico", "wireguard" if settings.calico_wireguard else settings.calico_encapsulation


def overhead(settings: Settings) -> int:
    """Bytes the chosen pod network adds to each packet on an IPv4 underlay."""
    return OVERHEAD_IPV4[encapsulation(settings)]

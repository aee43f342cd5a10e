"""The offline plan of a highly available cluster: three control-plane nodes behind kube-vip.

    uv run pyinfra inventories/matrix_ha.py deploy.py --dry --json

Debian 12 initialises the cluster; Ubuntu 24.04 and Rocky Linux 9 join its control plane one at
a time with the uploaded certificates; Debian 13 joins as a worker. Every node reaches the API
through 10.20.0.100, a free address of the private network that kube-vip (a static pod on each
control-plane node, ARP mode) serves. HA joins are proven by this plan only: the lab runs one
control-plane node.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from inventories.matrix import fake_host  # noqa: E402

# Cluster-wide, so given to every host alike (validation refuses a split).
_HA = {"control_plane_endpoint": "10.20.0.100", "kube_vip": True}

control_plane = [
    fake_host("debian-12", etcd_device="/dev/nvme0n1", **_HA),
    fake_host("ubuntu-24.04", etcd_device="/dev/nvme0n1", **_HA),
    fake_host("rocky-9", etcd_device="/dev/nvme0n1", **_HA),
]

workers = [
    fake_host("debian-13", **_HA),
]

"""The offline per-OS matrix: one @fake host per supported OS, answering from recordings.

    uv run pyinfra inventories/matrix.py deploy.py --dry --json

plans the whole deploy for CentOS 7, Rocky 8/9, AlmaLinux 8/9, Ubuntu 18.04-24.04 and
Debian 11-13 without a single machine. Each host's `fake_responses` answer every fact command
the deploy sends with output recorded from (or sourced for) that OS (inventories/recordings/),
and anything unrecorded fails loudly: pyinfra then drops the host and exits non-zero.

The Debian 12 host is the control plane (stacked etcd on its own NVMe disk); all others are
workers of its Kubernetes 1.35 cluster, except the three OSes that can run only an end-of-life
minor (CentOS 7, Ubuntu 18.04 and 20.04): kubeadm joins no node of another minor, so here they
are only prepared, and inventories/matrix_eol.py plans their own 1.28 cluster.
inventories/matrix_ha.py plans a cluster of three control-plane nodes behind kube-vip.

Cluster settings come from group_data/all.py like every inventory; the per-host settings below
are what an operator on that OS must set, each with its reason.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

# pyinfra executes this file with the deploy directory as working directory; make the
# project importable however it was started.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from inventories.recordings import RECORDINGS  # noqa: E402

# What a host gets whose Kubernetes minor cannot join this cluster's control plane (kubeadm
# joins nodes of its own minor): node preparation only. inventories/matrix_eol.py forms the
# cluster of these end-of-life hosts.
_NODE_PREPARATION = ["base", "kernel", "runtime"]


def fake_host(name: str, **settings: Any) -> tuple[str, dict[str, Any]]:
    """The @fake host of one recording, on the provider's private network 10.20.0.0/24."""
    recording = RECORDINGS[name]
    return (
        recording.host,
        {
            "fake_responses": recording.fake_responses(),
            # Instant answers: no simulated command time.
            "fake_delay": 0,
            "fake_delay_jitter": 0,
            # The provider's private network; the private NIC is the one with an address in it.
            "node_network": "10.20.0.0/24",
            "private_address": recording.identity.private_ip,
            **settings,
        },
    )


control_plane = [
    fake_host("debian-12", etcd_device="/dev/nvme0n1"),
]

workers = [
    # CentOS 7: no containerd installable there supports Kubernetes above 1.30 (Docker's
    # frozen centos/7 repository ends with containerd.io 1.6.33), so an operator must pin
    # 1.30 (end-of-life, accepted with a warning). cgroup v1 is its only option, which the
    # 1.30 kubelet still accepts.
    fake_host("centos-7", kubernetes_version="1.30.14", stages=_NODE_PREPARATION),
    # Rocky/AlmaLinux 8 boot with cgroup v1: the 1.35 kubelet refuses it unless the operator
    # accepts it (failCgroupV1: false) or boots with systemd.unified_cgroup_hierarchy=1.
    fake_host("rocky-8", allow_cgroup_v1=True),
    fake_host("rocky-9"),
    fake_host("almalinux-8", allow_cgroup_v1=True),
    fake_host("almalinux-9"),
    # Ubuntu 18.04: its own containerd 1.6.12 is too old even for Kubernetes 1.28, and Docker's
    # bionic repository ends with containerd.io 1.6.21, which containerd's table supports up to
    # 1.28: an operator must pin 1.28. cgroup v1 is accepted by the 1.28 kubelet.
    fake_host("ubuntu-18.04", kubernetes_version="1.28.15", stages=_NODE_PREPARATION),
    # Ubuntu 20.04: its own containerd 1.7.24 and Docker's frozen focal repository's 1.7.27 are
    # both below the 1.7.28 containerd's table wants from Kubernetes 1.34 on, so an operator
    # must pin 1.33 (end-of-life, accepted with a warning). Its cgroup v1 is fine for 1.33.
    fake_host("ubuntu-20.04", kubernetes_version="1.33.13", stages=_NODE_PREPARATION),
    fake_host("ubuntu-22.04"),
    fake_host("ubuntu-24.04"),
    fake_host("debian-11"),
    fake_host("debian-13"),
]

"""The offline plan of a cluster of the OSes that can run only an end-of-life Kubernetes minor.

    uv run pyinfra inventories/matrix_eol.py deploy.py --dry --json

CentOS 7 (up to 1.30), Ubuntu 18.04 (up to 1.28) and Ubuntu 20.04 (up to 1.33) cannot join the
1.35 cluster of inventories/matrix.py, and kubeadm joins only nodes of its own minor, so they
form one of their own at 1.28, the newest minor all three can run: CentOS 7 initialises it, the
Ubuntu hosts join. The same recorded hosts as the matrix, answering the same way.
"""

from __future__ import annotations

import sys
from pathlib import Path

# pyinfra executes this file with the deploy directory as working directory.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from inventories.matrix import fake_host  # noqa: E402

# End-of-life (accepted with a warning: none of these OSes can run a maintained minor); every
# kubelet here accepts cgroup v1.
_EOL_VERSION = "1.28.15"

control_plane = [
    fake_host("centos-7", kubernetes_version=_EOL_VERSION, etcd_device="/dev/nvme0n1"),
]

workers = [
    fake_host("ubuntu-18.04", kubernetes_version=_EOL_VERSION),
    fake_host("ubuntu-20.04", kubernetes_version=_EOL_VERSION),
]

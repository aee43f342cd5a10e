"""A node's QEMU monitor (QMP, a JSON protocol on a unix socket in the node's directory): the
lab throttles a node's NVMe disk through it while the node runs (`nordkube lab throttle`), the
way a VPS on an oversold storage host would see its disk."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from nordkube.lab.errors import LabError

# The NVMe disk's drive id in the QEMU command (nordkube/lab/vm.py).
NVME_DRIVE = "nv0"
SOCKET_NAME = "qmp.sock"


def qmp_socket(node_dir: Path) -> Path:
    return node_dir / SOCKET_NAME


def _command(stream: Any, execute: str, arguments: dict[str, Any] | None = None) -> Any:
    request: dict[str, Any] = {"execute": execute}
    if arguments is not None:
        request["arguments"] = arguments
    stream.write(json.dumps(request) + "\n")
    stream.flush()
    while True:  # events (e.g. a disk's I/O status) may come first
        reply = json.loads(stream.readline())
        if "return" in reply:
            return reply["return"]
        if "error" in reply:
            raise LabError(f"QEMU refused {execute}: {reply['error'].get('desc', reply)}")


def set_nvme_iops(node_dir: Path, node: str, iops: int) -> None:
    """Limit the node's NVMe disk to `iops` I/O operations per second (0: unlimited)."""
    path = qmp_socket(node_dir)
    if not path.exists():
        raise LabError(
            f"{node} has no QEMU monitor at {path}: it was started by an older nordkube; "
            f"restart it (nordkube lab stop {node} && nordkube lab start {node})"
        )
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(30)
        connection.connect(str(path))
        stream = connection.makefile("rw")
        json.loads(stream.readline())  # the greeting
        _command(stream, "qmp_capabilities")
        limits = {"bps": 0, "bps_rd": 0, "bps_wr": 0, "iops": iops, "iops_rd": 0, "iops_wr": 0}
        _command(stream, "block_set_io_throttle", {"device": NVME_DRIVE, **limits})

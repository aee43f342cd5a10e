"""The lab's NVMe throttle speaks QMP as QEMU does: greeting, capabilities, then the command
(events may come before a reply); a refusal is a LabError with QEMU's reason."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from nordkube.lab.errors import LabError
from nordkube.lab.qmp import qmp_socket, set_nvme_iops


def fake_qemu(path: Path, refuse: bool = False) -> tuple[threading.Thread, list[dict[str, Any]]]:
    """A unix socket that answers like QEMU's QMP server; records the requests."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    received: list[dict[str, Any]] = []

    def serve() -> None:
        connection, _ = server.accept()
        with connection, connection.makefile("rw") as stream:
            stream.write(json.dumps({"QMP": {"version": {}, "capabilities": []}}) + "\n")
            stream.flush()
            for line in stream:
                request = json.loads(line)
                received.append(request)
                stream.write(json.dumps({"event": "BLOCK_IO_ERROR", "data": {}}) + "\n")
                if refuse and request["execute"] == "block_set_io_throttle":
                    reply: dict[str, Any] = {"error": {"class": "GenericError", "desc": "no nv0"}}
                else:
                    reply = {"return": {}}
                stream.write(json.dumps(reply) + "\n")
                stream.flush()
        server.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread, received


def test_the_nvme_drive_gets_the_iops_limit(tmp_path: Path) -> None:
    thread, received = fake_qemu(qmp_socket(tmp_path))
    set_nvme_iops(tmp_path, "node1", 40)
    thread.join(timeout=10)
    assert [request["execute"] for request in received] == [
        "qmp_capabilities",
        "block_set_io_throttle",
    ]
    assert received[1]["arguments"] == {
        "device": "nv0",
        "bps": 0,
        "bps_rd": 0,
        "bps_wr": 0,
        "iops": 40,
        "iops_rd": 0,
        "iops_wr": 0,
    }


def test_a_refusal_names_qemus_reason(tmp_path: Path) -> None:
    thread, _ = fake_qemu(qmp_socket(tmp_path), refuse=True)
    with pytest.raises(LabError, match="QEMU refused block_set_io_throttle: no nv0"):
        set_nvme_iops(tmp_path, "node1", 40)
    thread.join(timeout=10)


def test_a_node_without_a_monitor_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="nordkube lab stop node1 && nordkube lab start node1"):
        set_nvme_iops(tmp_path, "node1", 40)

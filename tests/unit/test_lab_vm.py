"""Each node's QEMU command line: identity, disks and NICs as a VPS provider would set them."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nordkube.lab.errors import LabError
from nordkube.lab.image import BaseImage
from nordkube.lab.spec import LabSpec, plan_nodes
from nordkube.lab.state import LabState
from nordkube.lab.vm import (
    WORKER_NICE,
    accel_args,
    apt_proxy_command,
    lower_priority,
    port_problem,
    qemu_command,
    qemu_option_value,
)


@pytest.fixture
def state(tmp_path: Path) -> LabState:
    spec = LabSpec()
    return LabState(
        spec=spec, directory=tmp_path, image_dir=tmp_path / "img", nodes=tuple(plan_nodes(spec))
    )


@pytest.fixture(autouse=True)
def software_emulation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Command-line tests must not depend on whether this machine's /dev/kvm boots guests."""
    monkeypatch.setenv("NORDKUBE_LAB_ACCEL", "tcg")


def command_of(state: LabState, name: str) -> list[str]:
    return qemu_command(state, state.node(name), BaseImage("debian-12", state.image_dir))


def option_values(command: list[str], option: str) -> list[str]:
    return [command[i + 1] for i, part in enumerate(command) if part == option]


def test_node_identity_is_set_explicitly(state: LabState) -> None:
    command = command_of(state, "node2")
    node = state.node("node2")
    assert option_values(command, "-uuid") == [node.uuid]
    devices = option_values(command, "-device")
    assert f"virtio-net-pci,netdev=mgmt,mac={node.mgmt_mac}" in devices
    assert f"virtio-net-pci,netdev=priv,mac={node.private_mac}" in devices


def test_management_nic_is_restricted_to_ssh_and_the_apt_proxy(state: LabState) -> None:
    (management, _) = option_values(command_of(state, "node1"), "-netdev")
    assert management.startswith("user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:2221-:22,")
    assert "guestfwd=tcp:10.0.2.100:3142-cmd:" in management


def test_private_nic_joins_the_nodes_own_switch(state: LabState) -> None:
    (_, private) = option_values(command_of(state, "node3"), "-netdev")
    assert private == f"vde,id=priv,sock={state.directory}/net/node3.ctl"


def test_only_control_planes_get_the_nvme_disk(state: LabState) -> None:
    assert "nvme,serial=etcd0,drive=nv0" in option_values(command_of(state, "node1"), "-device")
    assert not any(
        "nvme" in device for device in option_values(command_of(state, "node2"), "-device")
    )


def test_boots_the_image_kernel_with_classic_nic_names(state: LabState) -> None:
    command = command_of(state, "node1")
    assert option_values(command, "-kernel") == [str(state.image_dir / "vmlinuz")]
    assert option_values(command, "-append") == ["root=/dev/vda rw console=ttyS0 net.ifnames=0"]


def test_commas_in_paths_are_escaped_for_qemu() -> None:
    assert qemu_option_value("/a,b/c") == "/a,,b/c"


def test_apt_proxy_command_refuses_paths_with_spaces(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="spaces"):
        apt_proxy_command(tmp_path / "my lab")


def test_tcg_when_the_probe_found_kvm_does_not_boot(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("NORDKUBE_LAB_ACCEL", raising=False)
    (tmp_path / "kvm-probe").write_text("does not boot\n")
    assert accel_args(BaseImage("debian-12", tmp_path)) == [
        "-accel", "tcg,thread=multi", "-cpu", "max"
    ]  # fmt: skip


def test_kvm_when_the_probe_saw_the_kernel_boot(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("NORDKUBE_LAB_ACCEL", raising=False)
    (tmp_path / "kvm-probe").write_text("boots\n")
    assert accel_args(BaseImage("debian-12", tmp_path)) == ["-accel", "kvm", "-cpu", "host"]


def test_override_skips_the_probe(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NORDKUBE_LAB_ACCEL", "tcg")
    (tmp_path / "kvm-probe").write_text("boots\n")
    assert accel_args(BaseImage("debian-12", tmp_path))[1] == "tcg,thread=multi"


def test_unknown_accelerator_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NORDKUBE_LAB_ACCEL", "hvf")
    with pytest.raises(LabError, match="NORDKUBE_LAB_ACCEL='hvf'"):
        accel_args(BaseImage("debian-12", tmp_path))


def test_control_planes_get_more_memory_than_workers(state: LabState) -> None:
    assert option_values(command_of(state, "node1"), "-m") == ["3072"]
    assert option_values(command_of(state, "node2"), "-m") == ["2048"]


def test_each_node_has_a_monitor_socket_in_its_directory(state: LabState) -> None:
    (monitor,) = option_values(command_of(state, "node1"), "-qmp")
    assert monitor == f"unix:{state.node_dir('node1')}/qmp.sock,server=on,wait=off"


def test_a_worker_vm_is_lowered_with_every_thread_and_its_session(tmp_path: Path) -> None:
    """On a process of its own session (as QEMU's -daemonize makes it), so the test's own
    session keeps its weight."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import threading, time; threading.Thread(target=time.sleep, "
            "args=(30,)).start(); time.sleep(30)",
        ],
        start_new_session=True,
    )
    try:
        time.sleep(0.5)
        lower_priority(child.pid, WORKER_NICE)
        tasks = [int(task.name) for task in Path(f"/proc/{child.pid}/task").iterdir()]
        assert len(tasks) == 2
        assert {os.getpriority(os.PRIO_PROCESS, task) for task in tasks} == {WORKER_NICE}
        autogroup = Path(f"/proc/{child.pid}/autogroup")
        if autogroup.exists():
            assert autogroup.read_text().split()[-1] == str(WORKER_NICE)
    finally:
        child.kill()
        child.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_port_something_listens_on_is_refused_and_one_left_in_time_wait_is_not(state):
    """QEMU's user network listens with SO_REUSEADDR, so a port whose last connection is in
    TIME_WAIT (a lab just brought down) is usable; one with a listener is not."""
    node = dataclasses.replace(state.nodes[0], ssh_port=_free_port())
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as QEMU's
    listener.bind(("127.0.0.1", node.ssh_port))
    listener.listen()
    problem = port_problem(node)
    assert problem is not None and f"127.0.0.1:{node.ssh_port} for node1's SSH" in problem
    client = socket.create_connection(("127.0.0.1", node.ssh_port))
    accepted, _ = listener.accept()
    accepted.close()  # the listening side closes first: TIME_WAIT on the port itself
    client.recv(1)
    client.close()
    listener.close()
    states = subprocess.run(
        ["ss", "-Htan", "state", "time-wait", f"sport = :{node.ssh_port}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert states.strip(), "the port was expected in TIME_WAIT"
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind(("127.0.0.1", node.ssh_port))  # what the probe used to see
    assert port_problem(node) is None

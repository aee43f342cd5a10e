"""One lab node as a QEMU VM: its disks, its command line, booting it and powering it off.

Measured on the 2-core development host (TCG): one VM answers SSH about 32 s after start with
2 vCPUs (about 45 s with 1), so every node gets 2 vCPUs and 2 GiB, what kubeadm asks of a
control plane. A booted node's QEMU holds about 1.1 GiB, mostly TCG's translated-code cache.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from nordkube.lab.errors import LabError
from nordkube.lab.host import run, tail
from nordkube.lab.image import BaseImage
from nordkube.lab.network import switch_socket
from nordkube.lab.paths import cache_dir
from nordkube.lab.procs import is_running, terminate, wait_exit
from nordkube.lab.qmp import NVME_DRIVE, qmp_socket
from nordkube.lab.spec import NodePlan
from nordkube.lab.state import LAB_USER, LabState

MEMORY_MIB = 2048
# A control-plane node runs etcd, the API server, the controller manager and the scheduler
# beside its kubelet: kubeadm's 1700 MB minimum is tight at 2 GiB, and memory is what the lab's
# host has plenty of (its 2 cores are what is scarce).
CONTROL_PLANE_MEMORY_MIB = 3072
CPUS = 2
# The workers' VMs yield the host's 2 cores to the control plane's when both are busy: at
# nice 5 the kernel weighs a worker about a third of a control-plane VM. Seen without it: the
# joined workers starting their pods starved node1 (load 20), its API server missed its probes.
WORKER_NICE = 5
KERNEL_ARGS = "root=/dev/vda rw console=ttyS0 net.ifnames=0"
APT_PROXY_ADDRESS = "10.0.2.100:3142"  # the guests' apt proxy (assets/.../01nordkube-lab-proxy)
APT_PROXY_SCRIPT = Path(__file__).with_name("aptproxy.py")  # stdlib only, run by path
DEFAULT_BOOT_TIMEOUT = 600.0  # several guests booting at once on 2 emulating cores
POWER_OFF_TIMEOUT = 60.0


TCG_ARGS = ["-accel", "tcg,thread=multi", "-cpu", "max"]
KVM_ARGS = ["-accel", "kvm", "-cpu", "host"]
KVM_PROBE_SECONDS = 20.0
# What a Linux kernel prints on the console as soon as it runs: proof the guest got past
# the boot loader (on the development host, a stock Debian kernel under KVM printed nothing).
KERNEL_BANNER = b"Linux version"


def accel_args(image: BaseImage) -> list[str]:
    """KVM when /dev/kvm actually boots this image's kernel, else software emulation (TCG).

    NORDKUBE_LAB_ACCEL=tcg|kvm overrides; the probe's verdict is kept with the image.
    """
    accel = os.environ.get("NORDKUBE_LAB_ACCEL", "auto")
    if accel == "tcg":
        return TCG_ARGS
    if accel == "kvm":
        return KVM_ARGS
    if accel != "auto":
        raise LabError(f"NORDKUBE_LAB_ACCEL={accel!r}: use tcg, kvm or auto")
    return KVM_ARGS if kvm_boots(image) else TCG_ARGS


def kvm_boots(image: BaseImage) -> bool:
    """Whether the image's kernel starts under KVM, probed once per image and remembered."""
    verdict = image.directory / "kvm-probe"
    if verdict.exists():
        return verdict.read_text().strip() == "boots"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    boots = _kernel_prints_banner(image)
    verdict.write_text("boots\n" if boots else "does not boot\n")
    return boots


def _kernel_prints_banner(image: BaseImage) -> bool:
    """Boot only the kernel (no disk: it panics at once) and watch its console for the banner."""
    probe = subprocess.Popen(
        [
            "qemu-system-x86_64",
            *KVM_ARGS,
            "-m",
            "256",
            "-nodefaults",
            "-display",
            "none",
            "-no-reboot",
            "-serial",
            "stdio",
            "-kernel",
            str(image.kernel),
            "-append",
            "console=ttyS0 panic=-1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert probe.stdout is not None
    os.set_blocking(probe.stdout.fileno(), False)
    seen = b""
    deadline = time.monotonic() + KVM_PROBE_SECONDS
    try:
        while time.monotonic() < deadline and KERNEL_BANNER not in seen:
            chunk = probe.stdout.read()
            if chunk:
                seen += chunk
            elif probe.poll() is not None:
                break
            else:
                time.sleep(0.2)
    finally:
        probe.kill()
        probe.wait()
    return KERNEL_BANNER in seen


def boot_timeout() -> float:
    value = os.environ.get("NORDKUBE_LAB_BOOT_TIMEOUT", str(DEFAULT_BOOT_TIMEOUT))
    try:
        return float(value)
    except ValueError:
        raise LabError(f"NORDKUBE_LAB_BOOT_TIMEOUT={value!r}: give seconds") from None


def qemu_option_value(text: str) -> str:
    """Escape a value for a QEMU option list, where a comma is written as two."""
    return text.replace(",", ",,")


def apt_proxy_command(lab_dir: Path) -> str:
    """The command QEMU spawns per guest connection to the apt proxy.

    libslirp splits it on spaces without a shell, so no part may contain one.
    """
    parts = [
        sys.executable,
        str(APT_PROXY_SCRIPT),
        "--cache",
        str(cache_dir() / "apt"),
        "--log",
        str(lab_dir / "apt-proxy.log"),
    ]
    spaced = [part for part in parts if " " in part]
    if spaced:
        raise LabError(
            f"the lab cannot use paths with spaces (QEMU's guestfwd splits on them): {spaced}"
        )
    return " ".join(parts)


def qemu_command(state: LabState, node: NodePlan, image: BaseImage) -> list[str]:
    """The node's full QEMU command line; the same for its first boot and every later one."""
    node_dir = state.node_dir(node.name)
    management = (
        f"user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:{node.ssh_port}-:22,"
        f"guestfwd=tcp:{APT_PROXY_ADDRESS}-cmd:{qemu_option_value(apt_proxy_command(state.directory))}"
    )
    command = [
        "qemu-system-x86_64",
        "-name",
        node.name,
        *accel_args(image),
        "-smp",
        str(CPUS),
        "-m",
        str(CONTROL_PLANE_MEMORY_MIB if "control_plane" in node.roles else MEMORY_MIB),
        "-uuid",
        node.uuid,
        "-nodefaults",
        "-display",
        "none",
        "-kernel",
        str(image.kernel),
        "-initrd",
        str(image.initrd),
        "-append",
        KERNEL_ARGS,
        "-netdev",
        management,
        "-device",
        f"virtio-net-pci,netdev=mgmt,mac={node.mgmt_mac}",
        "-netdev",
        f"vde,id=priv,sock={qemu_option_value(str(switch_socket(state.directory, node.name)))}",
        "-device",
        f"virtio-net-pci,netdev=priv,mac={node.private_mac}",
        "-drive",
        f"file={qemu_option_value(str(node_dir / 'root.qcow2'))},if=virtio,format=qcow2",
        "-drive",
        f"file={qemu_option_value(str(node_dir / 'seed.img'))},if=virtio,format=raw,readonly=on",
        "-device",
        "virtio-rng-pci",
        "-chardev",
        f"file,id=console,path={qemu_option_value(str(node_dir / 'console.log'))},append=on",
        "-serial",
        "chardev:console",
        "-qmp",
        f"unix:{qemu_option_value(str(qmp_socket(node_dir)))},server=on,wait=off",
        "-daemonize",
        "-pidfile",
        str(node_dir / "qemu.pid"),
    ]
    if node.etcd_device:
        command += [
            "-drive",
            f"file={qemu_option_value(str(node_dir / 'nvme.qcow2'))},if=none,id={NVME_DRIVE},"
            "format=qcow2",
            "-device",
            f"nvme,serial=etcd0,drive={NVME_DRIVE}",
        ]
    return command


def create_disks(state: LabState, node: NodePlan, image: BaseImage) -> None:
    """A copy-on-write root disk over the base image, and the empty etcd NVMe disk."""
    node_dir = state.node_dir(node.name)
    _create_qcow2(node_dir / "root.qcow2", "-b", str(image.disk), "-F", "raw")
    if node.etcd_device:
        _create_qcow2(node_dir / "nvme.qcow2", size=state.spec.nvme_size)


def _create_qcow2(path: Path, *options: str, size: str | None = None) -> None:
    run(["qemu-img", "create", "-q", "-f", "qcow2", *options, str(path), *([size] if size else [])])


def port_problem(node: NodePlan) -> str | None:
    """Why the node's SSH port cannot be forwarded, or None when it is free.

    Probed as QEMU's user network listens (libslirp sets SO_REUSEADDR): a connection of a
    lab just brought down, still in TIME_WAIT on the port, does not stop QEMU, so it must not
    stop the probe either (seen: `lab up` refused for a minute after a `lab down`)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", node.ssh_port))
        except OSError:
            return (
                f"port 127.0.0.1:{node.ssh_port} for {node.name}'s SSH is already in use: stop "
                f"what listens there (ss -ltnp 'sport = :{node.ssh_port}') or choose other ports "
                "with NORDKUBE_LAB_SSH_PORT_BASE (node i gets BASE+i)"
            )
    return None


def launch(state: LabState, node: NodePlan, image: BaseImage) -> int:
    """Start the node's VM in the background and return QEMU's pid."""
    problem = port_problem(node)
    if problem:
        raise LabError(problem)
    pidfile = state.node_dir(node.name) / "qemu.pid"
    pidfile.unlink(missing_ok=True)
    result = subprocess.run(
        qemu_command(state, node, image), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise LabError(f"QEMU could not start {node.name}:\n{result.stderr.strip()}")
    pid = int(pidfile.read_text())
    if "control_plane" not in node.roles:
        lower_priority(pid, WORKER_NICE)
    return pid


def lower_priority(pid: int, nice: int) -> None:
    """Give a running QEMU (every thread: each vCPU is one) the nice value `nice`. QEMU's
    -daemonize starts a session of its own, so where the kernel groups sessions
    (sched_autogroup) that group's nice is what weighs against the other VMs: set it too."""
    autogroup = Path(f"/proc/{pid}/autogroup")
    if autogroup.exists():
        autogroup.write_text(f"{nice}\n")
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.setpriority(os.PRIO_PROCESS, int(task.name), nice)


def ssh_command(
    state: LabState, node: NodePlan, remote: list[str], *, batch: bool = False
) -> list[str]:
    """ssh to the node as the sudo user with the lab key, trusting only the recorded host keys."""
    options = {
        "IdentitiesOnly": "yes",
        "StrictHostKeyChecking": "yes",
        "UserKnownHostsFile": str(state.known_hosts),
        "GlobalKnownHostsFile": "/dev/null",
        "LogLevel": "ERROR",
    }
    if batch:
        options |= {"BatchMode": "yes", "ConnectTimeout": "5"}
    command = ["ssh", "-i", str(state.ssh_key), "-p", str(node.ssh_port)]
    for key, value in options.items():
        command += ["-o", f"{key}={value}"]
    return [*command, f"{LAB_USER}@127.0.0.1", *remote]


def wait_for_ssh(
    state: LabState, node: NodePlan, pid: int, started: float, timeout: float
) -> float:
    """Wait until the node accepts the lab key over SSH; return seconds since `started`."""
    console = state.node_dir(node.name) / "console.log"
    while True:
        probe = subprocess.run(
            ssh_command(state, node, ["true"], batch=True),
            capture_output=True,
            timeout=30,
            check=False,
        )
        if probe.returncode == 0:
            return time.monotonic() - started
        if not is_running(pid, state.directory):
            raise LabError(
                f"{node.name}'s QEMU exited during boot; the end of {console}:\n{tail(console)}"
            )
        if time.monotonic() - started > timeout:
            raise LabError(
                f"{node.name} did not answer SSH on 127.0.0.1:{node.ssh_port} "
                f"within {timeout:.0f} s "
                f"(NORDKUBE_LAB_BOOT_TIMEOUT); the end of {console}:\n{tail(console)}"
            )
        time.sleep(1)


def power_off(state: LabState, node: NodePlan, pid: int) -> str:
    """Shut the guest down cleanly over SSH; kill QEMU if it is not off within the timeout."""
    # The connection drops as the guest goes down; whatever ssh says, QEMU's exit decides.
    with contextlib.suppress(subprocess.TimeoutExpired):
        subprocess.run(
            ssh_command(state, node, ["sudo", "systemctl", "poweroff"], batch=True),
            capture_output=True,
            timeout=30,
            check=False,
        )
    if wait_exit(pid, state.directory, POWER_OFF_TIMEOUT):
        return "powered off"
    terminate(pid, state.directory)
    return f"killed (no clean power-off within {POWER_OFF_TIMEOUT:.0f} s)"

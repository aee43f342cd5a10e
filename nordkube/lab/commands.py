"""`nordkube lab ...`: start, inspect, reach and remove the local VMs standing in for VPS nodes."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from nordkube.lab.errors import LabError
from nordkube.lab.host import require_tools
from nordkube.lab.image import IMAGES, BaseImage, ensure_image
from nordkube.lab.network import start_network
from nordkube.lab.paths import cache_dir, lab_dir
from nordkube.lab.procs import is_running, lab_processes, terminate, wait_reaped
from nordkube.lab.qmp import set_nvme_iops
from nordkube.lab.seed import build_seed_disk, create_keypair, known_hosts_lines
from nordkube.lab.spec import (
    DEFAULT_IMAGE,
    DEFAULT_SSH_PORT_BASE,
    LabSpec,
    NodePlan,
    parse_assignment,
    plan_nodes,
    shape_difference,
)
from nordkube.lab.state import NO_LAB, LabState, load_state, save_state, state_file, status_rows
from nordkube.lab.vm import (
    boot_timeout,
    create_disks,
    launch,
    port_problem,
    power_off,
    ssh_command,
    wait_for_ssh,
)

RUNTIME_TOOLS = (
    "qemu-system-x86_64",
    "qemu-img",
    "vde_switch",
    "wirefilter",
    "ssh",
    "ssh-keygen",
    "mkfs.ext4",
)
# What `lab down` removes from the lab directory; anything else a user put there stays.
RUNTIME_FILES = ("state.json", "known_hosts", "apt-proxy.log", "ssh", "net", "nodes")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `nordkube lab` and its subcommands."""
    lab = commands.add_parser(
        "lab",
        help="local VMs that behave like KVM VPS nodes (inventories/lab.py points at them)",
        description="Local QEMU VMs that behave like KVM VPS nodes, to try nordkube and for CI.",
    )
    actions = lab.add_subparsers(dest="lab_command", required=True, metavar="ACTION")

    up = actions.add_parser("up", help="build the base image if needed and boot the nodes")
    up.add_argument("--nodes", type=int, default=3, help="number of nodes (default 3)")
    up.add_argument(
        "--control-planes",
        type=int,
        default=1,
        help="the first C nodes run the control plane and etcd (default 1)",
    )
    up.add_argument(
        "--image",
        choices=sorted(IMAGES),
        default=DEFAULT_IMAGE,
        help=f"base image (default {DEFAULT_IMAGE})",
    )
    up.add_argument("--mtu", type=int, default=1500, help="MTU of every private NIC (default 1500)")
    _node_option(up, "--node-mtu", "NAME=M", "one node's private NIC MTU")
    _node_option(
        up,
        "--path-mtu",
        "NAME=M",
        "largest IP packet to or from the node on the private segment (default unlimited)",
    )
    _node_option(up, "--delay", "NAME=MS", "one-way delay added to the node's private link")
    up.add_argument(
        "--nvme-size",
        default="2G",
        help="size of the control plane's empty etcd NVMe disk (default 2G)",
    )
    up.add_argument(
        "--cluster",
        action="store_true",
        help="the lab inventory runs every stage, so a deploy forms the Kubernetes cluster "
        "(default: node preparation only)",
    )
    up.set_defaults(handler=_handler(cmd_up))

    status = actions.add_parser("status", help="list the nodes and how to reach them")
    status.add_argument("--json", action="store_true", help="print JSON for scripts and tests")
    status.set_defaults(handler=_handler(cmd_status))

    ssh = actions.add_parser("ssh", help="open a shell or run a command on a node")
    ssh.add_argument("node", metavar="NODE")
    ssh.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        metavar="COMMAND",
        help="command to run (default: a shell)",
    )
    ssh.set_defaults(handler=_handler(cmd_ssh))

    stop = actions.add_parser("stop", help="power a node off cleanly (killed after a timeout)")
    stop.add_argument("node", metavar="NODE")
    stop.set_defaults(handler=_handler(cmd_stop))

    start = actions.add_parser("start", help="boot a stopped node again from its disks")
    start.add_argument("node", metavar="NODE")
    start.set_defaults(handler=_handler(cmd_start))

    throttle = actions.add_parser(
        "throttle", help="limit a running node's NVMe disk to some I/O operations per second"
    )
    throttle.add_argument("node", metavar="NODE")
    throttle.add_argument(
        "--iops", type=int, required=True, help="operations per second; 0 lifts the limit"
    )
    throttle.set_defaults(handler=_handler(cmd_throttle))

    down = actions.add_parser(
        "down", help="end every lab process and remove the lab's files (keeps caches)"
    )
    down.set_defaults(handler=_handler(cmd_down))


def _node_option(parser: argparse.ArgumentParser, flag: str, metavar: str, text: str) -> None:
    """A repeatable NAME=NUMBER option that applies to one node."""
    parser.add_argument(
        flag, type=_assignment, action="append", default=[], metavar=metavar, help=text
    )


def _assignment(text: str) -> tuple[str, int]:
    try:
        return parse_assignment(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _handler(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Print a LabError as one readable message instead of a traceback."""

    def handle(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except LabError as error:
            print(f"nordkube lab: error: {error}", file=sys.stderr, flush=True)
            return 1

    return handle


def say(message: str) -> None:
    print(message, flush=True)


def ssh_port_base() -> int:
    value = os.environ.get("NORDKUBE_LAB_SSH_PORT_BASE", str(DEFAULT_SSH_PORT_BASE))
    if not value.isdigit() or not 1024 <= int(value) <= 65000:
        raise LabError(f"NORDKUBE_LAB_SSH_PORT_BASE={value!r}: give a port from 1024 to 65000")
    return int(value)


def cmd_up(args: argparse.Namespace) -> int:
    spec = LabSpec(
        nodes=args.nodes,
        control_planes=args.control_planes,
        image=args.image,
        mtu=args.mtu,
        node_mtu=dict(args.node_mtu),
        path_mtu=dict(args.path_mtu),
        delay_ms=dict(args.delay),
        nvme_size=args.nvme_size,
        cluster=args.cluster,
    )
    nodes = plan_nodes(spec, ssh_port_base())
    if state_file().exists():
        return _up_existing(load_state(), spec)
    directory = lab_dir()
    leftovers = lab_processes(directory)
    if leftovers:
        raise LabError(
            f"processes of an earlier lab in {directory} still run (pids {leftovers}): "
            "run `nordkube lab down`"
        )
    require_tools(RUNTIME_TOOLS)
    _remove_runtime_files(directory)  # left by an `up` that failed before recording its state
    problems = [problem for node in nodes if (problem := port_problem(node))]
    if problems:
        raise LabError("\n".join(problems))
    image = ensure_image(spec.image)
    state = LabState(spec=spec, directory=directory, image_dir=image.directory, nodes=tuple(nodes))
    say(f"preparing {len(nodes)} node(s) in {directory}: disks, SSH host keys, seed disks")
    _prepare(state, image)
    state = replace(state, daemons=tuple(start_network(directory, nodes)))
    save_state(state)
    _boot(state, image, nodes)
    say("inventory: inventories/lab.py; shell: nordkube lab ssh node1")
    return 0


def _up_existing(state: LabState, spec: LabSpec) -> int:
    """`up` on an existing lab: nothing to do, start its stopped nodes, or refuse another shape."""
    difference = shape_difference(state.spec, spec)
    if difference:
        raise LabError(
            "a lab of another shape exists:\n  "
            + "\n  ".join(difference)
            + "\nrun `nordkube lab down` first"
        )
    stopped = [node for node in state.nodes if not state.is_node_running(node.name)]
    if not stopped:
        say(f"the lab is already up with this shape ({len(state.nodes)} nodes): nothing to do")
        return 0
    _boot(state, _restart_image(state), stopped)
    return 0


def _restart_image(state: LabState) -> BaseImage:
    """What restarting a node needs: the image under its disk, and the lab's private network."""
    image = BaseImage(state.spec.image, state.image_dir)
    if not image.disk.exists():
        raise LabError(
            f"the lab's base image {image.disk} is gone: "
            "run `nordkube lab down`, then `nordkube lab up`"
        )
    dead = [
        f"{daemon.kind} {daemon.name}"
        for daemon in state.daemons
        if not is_running(daemon.pid, state.directory)
    ]
    if dead:
        raise LabError(
            f"the lab's private network is gone ({', '.join(dead)} not running): "
            "run `nordkube lab down`, then `nordkube lab up`"
        )
    return image


def _prepare(state: LabState, image: BaseImage) -> None:
    """Everything a node needs before its first boot: lab key, disks, seed, known_hosts."""
    create_keypair(state.ssh_key, "nordkube-lab")
    authorized_key = state.ssh_key.with_suffix(".pub").read_text()
    known_hosts: list[str] = []
    for node in state.nodes:
        state.node_dir(node.name).mkdir(parents=True)
        create_disks(state, node, image)
        public_keys = build_seed_disk(node, state.node_dir(node.name), authorized_key)
        known_hosts += known_hosts_lines(node, public_keys)
    state.known_hosts.write_text("\n".join(known_hosts) + "\n")


def _boot(state: LabState, image: BaseImage, nodes: list[NodePlan]) -> None:
    """Boot the nodes in parallel, record their pids, and wait until each answers SSH."""
    timeout = boot_timeout()
    started = time.monotonic()
    lock = threading.Lock()
    recorded = state

    def boot_one(node: NodePlan) -> None:
        nonlocal recorded
        node_started = time.monotonic()
        pid = launch(state, node, image)
        with lock:
            recorded = recorded.with_qemu_pid(node.name, pid)
            save_state(recorded)
        say(f"{node.name}: started (QEMU pid {pid}), waiting for SSH on 127.0.0.1:{node.ssh_port}")
        seconds = wait_for_ssh(state, node, pid, node_started, timeout)
        say(f"{node.name}: SSH answered after {seconds:.1f} s")

    with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
        futures = [pool.submit(boot_one, node) for node in nodes]
    failures = [error for future in futures if (error := future.exception()) is not None]
    for failure in failures:
        if not isinstance(failure, LabError):
            raise failure
    if failures:
        raise LabError(
            "\n".join(str(failure) for failure in failures)
            + f"\nthe lab is left for inspection (logs under {state.directory / 'nodes'}); "
            "`nordkube lab down` removes it"
        )
    say(f"{len(nodes)} node(s) answered SSH in {time.monotonic() - started:.1f} s")


def cmd_status(args: argparse.Namespace) -> int:
    if not state_file().exists():
        print(json.dumps({"nodes": []}) if args.json else NO_LAB)
        return 0
    rows = status_rows(load_state())
    if args.json:
        print(json.dumps({"nodes": rows}, indent=2))
        return 0
    header = f"{'NODE':<8}{'STATE':<9}{'SSH':<17}{'PRIVATE IP':<15}{'MTU':<6}{'PATH MTU':<10}ROLES"
    print(header)
    for row in rows:
        path_mtu = row["path_mtu"] or "-"
        print(
            f"{row['name']:<8}{row['state']:<9}{row['ssh_host'] + ':' + str(row['ssh_port']):<17}"
            f"{row['private_ip']:<15}{row['mtu']:<6}{path_mtu:<10}{','.join(row['roles'])}"
        )
    first = rows[0]
    print(f"user {first['ssh_user']}, key {first['ssh_key']}, known_hosts {first['known_hosts']}")
    return 0


def _running_node(state: LabState, name: str) -> NodePlan:
    node = state.node(name)
    if not state.is_node_running(name):
        raise LabError(f"{name} is stopped: run `nordkube lab start {name}`")
    return node


def cmd_ssh(args: argparse.Namespace) -> int:
    state = load_state()
    node = _running_node(state, args.node)
    remote = args.command[1:] if args.command[:1] == ["--"] else args.command
    command = ssh_command(state, node, remote)
    os.execvp(command[0], command)


def cmd_stop(args: argparse.Namespace) -> int:
    state = load_state()
    node = state.node(args.node)
    pid = state.qemu_pids.get(node.name)
    if pid is None or not state.is_node_running(node.name):
        say(f"{node.name} is already stopped")
        return 0
    say(f"{node.name}: {power_off(state, node, pid)}")
    save_state(state.with_qemu_pid(node.name, None))
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    state = load_state()
    node = state.node(args.node)
    if state.is_node_running(node.name):
        say(f"{node.name} is already running")
        return 0
    _boot(state, _restart_image(state), [node])
    return 0


def cmd_throttle(args: argparse.Namespace) -> int:
    state = load_state()
    node = _running_node(state, args.node)
    if not node.etcd_device:
        raise LabError(f"{node.name} has no NVMe disk (only etcd nodes have one)")
    if args.iops < 0:
        raise LabError(f"--iops {args.iops}: give 0 (no limit) or more")
    set_nvme_iops(state.node_dir(node.name), node.name, args.iops)
    limit = f"{args.iops} IOPS" if args.iops else "no limit"
    say(f"{node.name}: NVMe disk at {limit}")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    """End the lab's processes (recorded ones first, then any left), verify, remove its files."""
    directory = lab_dir()
    recorded: list[int] = []
    if state_file(directory).exists():
        state = load_state(directory)
        recorded = [*state.qemu_pids.values(), *(daemon.pid for daemon in reversed(state.daemons))]
    candidates = dict.fromkeys([*recorded, *lab_processes(directory)])
    ended = [pid for pid in candidates if is_running(pid, directory)]
    for pid in ended:
        terminate(pid, directory)
    remaining = lab_processes(directory)
    if remaining:
        raise LabError(
            f"lab processes still run after SIGKILL (pids {remaining}); files in {directory} kept"
        )
    wait_reaped(ended)
    if not _remove_runtime_files(directory) and not ended:
        say("no lab to take down")
        return 0
    say(
        f"lab down: ended {len(ended)} lab process(es), none left; "
        f"removed the lab's files in {directory} "
        f"(base images and apt cache kept in {cache_dir()})"
    )
    return 0


def _remove_runtime_files(directory: Path) -> bool:
    removed = False
    for name in RUNTIME_FILES:
        path = directory / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            continue
        removed = True
    if directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
    return removed

"""The deploy planned in-process on @fake inventories, as `pyinfra INVENTORY deploy.py --dry`
plans it, with every host's commands (the JSON plan names an operation once for all hosts, so
per-host differences show only in the commands)."""

from __future__ import annotations

import hashlib
import json
from io import StringIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy.py"


def plan(inventory: Path, **data: Any) -> tuple[Any, dict[str, list[Any]]]:
    """The planned State and each host's commands, in operation order.

    As the CLI does (pyinfra.is_cli): operations are told apart by the lines that call them,
    so one operation is one across all hosts (pyinfra's API mode numbers them per host).
    `data` overrides host data as `--data` does.
    """
    import pyinfra
    from pyinfra.api import Config, State
    from pyinfra.api.connect import connect_all
    from pyinfra.api.state import StateStage
    from pyinfra.context import ctx_config, ctx_host, ctx_inventory, ctx_state
    from pyinfra_cli.inventory import make_inventory
    from pyinfra_cli.util import load_deploy_file

    state = State(check_for_changes=True)
    state.cwd = str(ROOT)
    config = Config()
    commands: dict[str, list[Any]] = {}
    cli, pyinfra.is_cli = pyinfra.is_cli, True
    try:
        with ctx_state.use(state), ctx_config.use(config):
            inventory = make_inventory(str(inventory), cwd=str(ROOT), override_data=data)
            with ctx_inventory.use(inventory):
                state.init(inventory, config)
                state.set_stage(StateStage.Connect)
                connect_all(state)
                state.set_stage(StateStage.Prepare)
                load_deploy_file(state, str(DEPLOY))
                for host in inventory.iter_activated_hosts():
                    listed = commands.setdefault(host.name, [])
                    for op_hash in state.get_op_order():
                        if op_hash in state.ops[host]:
                            op_data = state.get_op_data_for_host(host, op_hash)
                            with ctx_host.use(host):
                                listed.extend(op_data.command_generator())
    finally:
        pyinfra.is_cli = cli
    return state, commands


def shown(command: Any) -> str:
    """A command as pyinfra shows it (masked); an upload as "upload <path>" and its content."""
    from pyinfra.api.command import FileUploadCommand

    if isinstance(command, FileUploadCommand):
        src = command.src
        return f"upload {command.dest}\n{src.getvalue() if isinstance(src, StringIO) else src}"
    return str(command)


def fake_bundle(directory: Path) -> Path:
    """A bundle.json with small stand-in files for every program and image a node gets."""
    records = []
    programs = [
        ("containerd", "containerd", "bin"),
        ("containerd", "containerd-shim-runc-v2", "bin"),
        ("containerd", "ctr", "bin"),
        ("runc", "runc", "bin"),
        ("cni-plugins", "bridge", "cni"),
        *((name, name, "bin") for name in ("kubeadm", "kubelet", "kubectl", "crictl")),
    ]
    for artifact, name, folder in programs:
        path = directory / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"#!/bin/sh\necho {name}\n".encode())
        records.append(
            {
                "path": f"{folder}/{name}",
                "kind": "binary",
                "name": name,
                "artifact": artifact,
                "version": "v2.2.9" if artifact == "containerd" else "v1.35.4",
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "size": path.stat().st_size,
            }
        )
    for name, ref in (
        ("kube-apiserver", "registry.k8s.io/kube-apiserver:v1.35.4"),
        ("etcd", "registry.k8s.io/etcd:3.6.6-0"),
        ("pause", "registry.k8s.io/pause:3.10.1"),
        ("flannel", "ghcr.io/flannel-io/flannel:v0.28.10"),
    ):
        path = directory / "images" / f"{name}.oci.tar"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(name.encode())
        records.append(
            {
                "path": f"images/{name}.oci.tar",
                "kind": "image",
                "name": name,
                "ref": ref,
                "version": ref.rpartition(":")[2],
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "size": path.stat().st_size,
                "manifest_digest": "sha256:" + hashlib.sha256(ref.encode()).hexdigest(),
            }
        )
    manifest = {"format": 1, "kubernetes_version": "v1.35.4", "artifacts": records}
    (directory / "bundle.json").write_text(json.dumps(manifest))
    return directory

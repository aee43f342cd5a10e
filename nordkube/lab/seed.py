"""Per-node seed disks: a node's identity, made on the host and applied at its first boot.

The host kernel cannot mount a qcow2 overlay (no nbd), so identity reaches a node the way
cloud-init's NoCloud does it: a small disk (ext4, label NKSEED) that the first-boot unit baked
into the base image (assets/rootfs/usr/local/sbin/nordkube-seed) reads before sshd starts.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from nordkube.lab.host import run
from nordkube.lab.spec import NODE_NETWORK, PRIVATE_INTERFACE, NodePlan

SEED_LABEL = "NKSEED"
SEED_SIZE = "8M"
# All three, as `ssh-keygen -A` leaves on a stock Debian host; known_hosts lists them all.
HOST_KEY_TYPES = ("ed25519", "ecdsa", "rsa")


def create_keypair(path: Path, comment: str) -> None:
    """An unencrypted ed25519 key pair at `path` and `path`.pub."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])


def private_interface_config(node: NodePlan) -> str:
    """ifupdown stanza of the node's private NIC: static address and MTU, as a provider sets."""
    return (
        "# The lab's private segment, from the nordkube lab seed.\n"
        f"auto {PRIVATE_INTERFACE}\n"
        f"iface {PRIVATE_INTERFACE} inet static\n"
        f"    address {node.private_ip}/{NODE_NETWORK.prefixlen}\n"
        f"    mtu {node.mtu}\n"
    )


def seed_files(node: NodePlan, authorized_key: str) -> dict[str, str]:
    """The seed's text files by relative path (host keys are added by `build_seed_disk`)."""
    return {
        "hostname": f"{node.name}\n",
        "authorized_keys": authorized_key.strip() + "\n",
        f"interfaces.d/{PRIVATE_INTERFACE}": private_interface_config(node),
    }


def seed_id(directory: Path) -> str:
    """A digest of every seed file: the first-boot unit applies a given seed only once."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.name != "seed-id":
            digest.update(str(path.relative_to(directory)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def build_seed_disk(node: NodePlan, node_dir: Path, authorized_key: str) -> list[str]:
    """Write `node_dir`/seed.img; return the node's public host keys for known_hosts."""
    staging = node_dir / "seed"
    shutil.rmtree(staging, ignore_errors=True)
    for relative, text in seed_files(node, authorized_key).items():
        path = staging / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    keys = staging / "ssh"
    keys.mkdir()
    for key_type in HOST_KEY_TYPES:
        key = keys / f"ssh_host_{key_type}_key"
        run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                key_type,
                "-N",
                "",
                "-C",
                f"root@{node.name}",
                "-f",
                str(key),
            ]
        )
    (staging / "seed-id").write_text(seed_id(staging) + "\n")
    image = node_dir / "seed.img"
    image.unlink(missing_ok=True)
    run(["mkfs.ext4", "-q", "-L", SEED_LABEL, "-d", str(staging), str(image), SEED_SIZE])
    public_keys = [
        " ".join((keys / f"ssh_host_{key_type}_key.pub").read_text().split()[:2])
        for key_type in HOST_KEY_TYPES
    ]
    shutil.rmtree(staging)
    return public_keys


def known_hosts_lines(node: NodePlan, public_keys: list[str]) -> list[str]:
    """known_hosts entries for the node's forwarded SSH port (`[127.0.0.1]:PORT type key`)."""
    return [f"[127.0.0.1]:{node.ssh_port} {key}" for key in public_keys]

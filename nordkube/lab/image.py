"""The lab's base image: a minimal Debian like a VPS provider's, built with debootstrap, cached.

The cache key hashes the whole recipe (suite, packages, sizes, the files baked in and the code
that bakes them), so an image is rebuilt exactly when what would go into it changes.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from nordkube.lab.errors import LabError
from nordkube.lab.host import require_tools, run
from nordkube.lab.paths import cache_dir
from nordkube.lab.spec import LAB_RESOLVER, LAB_USER

IMAGES = {"debian-12": "bookworm", "debian-13": "trixie"}
MIRROR = "http://deb.debian.org/debian"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"

# What boot, SSH, sudo and python3 need, plus ping for the probes; nothing else. The deploy
# under test installs the rest. No package here may trigger update-initramfs inside a guest.
PACKAGES = (
    "linux-image-amd64",
    "systemd-sysv",
    "udev",
    "kmod",
    "openssh-server",
    "sudo",
    "python3",
    "ifupdown",
    "isc-dhcp-client",
    "iproute2",
    "procps",
    "iputils-ping",
)
# Trixie moved the sysctl that lets users ping (ICMP sockets) into a package of its own.
EXTRA_PACKAGES = {"debian-13": ("linux-sysctl-defaults",)}
DISK_SIZE = 4 * 1024**3  # sparse raw image; the nodes' qcow2 overlays grow on top of it
SWAP_SIZE = 256 * 1024**2
ASSETS = Path(__file__).parent / "assets" / "rootfs"
SEED_UNIT = "nordkube-seed.service"


@dataclass(frozen=True)
class BaseImage:
    """A built image: the root disk plus the kernel and initrd QEMU boots directly."""

    name: str
    directory: Path

    @property
    def disk(self) -> Path:
        return self.directory / "base.raw"

    @property
    def kernel(self) -> Path:
        return self.directory / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.directory / "initrd.img"


def recipe(name: str) -> dict[str, object]:
    """Everything that decides the image's content; its hash names the cache directory."""
    if name not in IMAGES:
        raise LabError(f"unknown image {name!r}: choose one of {', '.join(IMAGES)}")
    assets = {
        str(path.relative_to(ASSETS)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(ASSETS.rglob("*"))
        if path.is_file()
    }
    return {
        "suite": IMAGES[name],
        "mirror": MIRROR,
        "packages": list(packages(name)),
        "disk_size": DISK_SIZE,
        "swap_size": SWAP_SIZE,
        "sudo_user": LAB_USER,
        "assets": assets,
        "build_code": [inspect.getsource(step) for step in _BUILD_STEPS],
    }


def packages(name: str) -> tuple[str, ...]:
    return PACKAGES + EXTRA_PACKAGES.get(name, ())


def recipe_hash(name: str) -> str:
    encoded = json.dumps(recipe(name), sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()[:12]


def cached_image(name: str) -> BaseImage:
    """The image this recipe produces, whether or not it is built yet."""
    return BaseImage(name, cache_dir() / "images" / f"{name}-{recipe_hash(name)}")


def ensure_image(name: str) -> BaseImage:
    """Return the cached image, building it first when its recipe has no image yet."""
    image = cached_image(name)
    if image.disk.exists():
        return image
    require_tools(["debootstrap", "mkfs.ext4"])
    if os.geteuid() != 0:
        raise LabError("building the lab image needs root (debootstrap, chroot): run as root")
    _build(image)
    return image


def _build(image: BaseImage) -> None:
    """Build into a temporary directory and rename it into place only when complete.

    A crashed build therefore never leaves a directory that looks like a cached image.
    """
    images = image.directory.parent
    images.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(images)
    work = images / f".build-{image.directory.name}-{os.getpid()}"
    log = images / f"{image.directory.name}.build.log"
    log.unlink(missing_ok=True)
    suite = IMAGES[image.name]
    root = work / "root"
    started = time.monotonic()
    print(f"building base image {image.name} ({suite}) once; log: {log}", flush=True)
    try:
        work.mkdir()
        run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(packages(image.name))}",
                suite,
                str(root),
                MIRROR,
            ],
            log=log,
        )
        print(f"  debootstrap done after {time.monotonic() - started:.0f} s", flush=True)
        _customize_root(root, suite)
        _make_boot_files(root, work)
        disk = work / "base.raw"
        with disk.open("wb") as stream:
            stream.truncate(DISK_SIZE)
        run(["mkfs.ext4", "-q", "-F", "-L", "nkroot", "-d", str(root), str(disk)], log=log)
        shutil.rmtree(root)
        (work / "recipe.json").write_text(json.dumps(recipe(image.name), indent=2) + "\n")
        work.rename(image.directory)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"  image ready after {time.monotonic() - started:.0f} s: {image.directory}", flush=True)


def _remove_stale_builds(images: Path) -> None:
    """Remove temporary build directories whose builder process is gone."""
    for stale in images.glob(".build-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if not (pid.isdigit() and Path(f"/proc/{pid}").exists()):
            shutil.rmtree(stale, ignore_errors=True)


def _customize_root(root: Path, suite: str) -> None:
    """Make the debootstrapped tree look like a common VPS image.

    Identity is left out on purpose (empty machine-id, no SSH host keys, hostname localhost):
    each node gets its own at first boot, from systemd and from the lab's seed disk.
    """
    shutil.copytree(ASSETS, root, dirs_exist_ok=True, symlinks=True)
    (root / "etc/sudoers.d/nordkube").chmod(0o440)
    wants = root / "etc/systemd/system/sysinit.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    (wants / SEED_UNIT).symlink_to(f"/etc/systemd/system/{SEED_UNIT}")
    (root / "etc/apt/sources.list").write_text(
        f"deb {MIRROR} {suite} main\n"
        f"deb {MIRROR} {suite}-updates main\n"
        f"deb {SECURITY_MIRROR} {suite}-security main\n"
    )
    (root / "etc/machine-id").write_text("")
    (root / "var/lib/dbus/machine-id").unlink(missing_ok=True)
    for host_key in (root / "etc/ssh").glob("ssh_host_*"):
        host_key.unlink()
    # A VPS always has a resolver in resolv.conf, and the kubelet hands it to every pod (it
    # refuses to start pod sandboxes without one). The lab's guests reach no resolver: this
    # address on the private segment belongs to no node, so lookups of names outside the
    # cluster time out there, as at an air-gapped site, and never leave the lab.
    (root / "etc/resolv.conf").unlink(missing_ok=True)
    (root / "etc/resolv.conf").write_text(f"nameserver {LAB_RESOLVER}\n")
    run(["chroot", str(root), "useradd", "--create-home", "--shell", "/bin/bash", LAB_USER])
    # "*" rather than useradd's "!": no password, but not a locked account sshd would refuse.
    run(["chroot", str(root), "usermod", "--password", "*", LAB_USER])
    _write_swapfile(root / "swapfile")
    for package in (root / "var/cache/apt/archives").glob("*.deb"):
        package.unlink()


def _write_swapfile(path: Path) -> None:
    """Write a swap file with no all-zero block.

    mkfs.ext4 -d turns all-zero blocks into holes, and swapon refuses a file with holes.
    """
    chunk = b"\xff" * (1024 * 1024)
    with path.open("wb") as stream:
        for _ in range(SWAP_SIZE // len(chunk)):
            stream.write(chunk)
    path.chmod(0o600)
    run(["mkswap", str(path)])


def _make_boot_files(root: Path, work: Path) -> None:
    """Put the kernel, and an initrd made for QEMU's direct boot, next to the disk.

    The initrd holds just the drivers that mount the root disk: Debian's MODULES=most one
    unpacks and probes for about 8 s longer under emulation. The image's own /boot is untouched.
    """
    kernels = sorted((root / "boot").glob("vmlinuz-*"))
    if len(kernels) != 1:
        raise LabError(f"expected one kernel in {root}/boot, found {[k.name for k in kernels]}")
    version = kernels[0].name.removeprefix("vmlinuz-")
    config = root / "tmp/nordkube-initramfs"
    shutil.copytree(root / "etc/initramfs-tools", config)
    settings = config / "initramfs.conf"
    settings.write_text(re.sub(r"(?m)^MODULES=.*$", "MODULES=list", settings.read_text()))
    with (config / "modules").open("a") as modules:
        modules.write("virtio_pci\nvirtio_blk\next4\n")
    initrd = "/tmp/nordkube-initrd.img"
    run(
        ["chroot", str(root), "mkinitramfs", "-d", "/tmp/nordkube-initramfs", "-o", initrd, version]
    )
    shutil.move(root / initrd.lstrip("/"), work / "initrd.img")
    shutil.rmtree(config)
    shutil.copy2(kernels[0], work / "vmlinuz")


# The code whose changes change the image, hashed into the recipe.
_BUILD_STEPS = (_customize_root, _write_swapfile, _make_boot_files)

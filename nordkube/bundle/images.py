"""The bundle's container images: what each holds, and building them into OCI archives.

Control-plane, etcd, CoreDNS and pause images carry the bundle's own binaries under the names
`kubeadm config images list` prints; kube-proxy and flannel add the netfilter tools they exec
(iptables, ip6tables, ipset, nft, conntrack), taken from Debian packages; the toolbox is a
debugging and test image (shell, curl, nslookup, tcpdump, and nk-http for large responses).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nordkube.bundle import cache, debian, oci
from nordkube.bundle.catalog import FLANNEL
from nordkube.bundle.errors import BundleError
from nordkube.bundle.gobuild import GoArtifact

TOOLBOX = "nordkube.local/toolbox:bookworm"
FLANNEL_IMAGE = f"ghcr.io/flannel-io/flannel:{FLANNEL}"

# What every image has: the users programs look up (tcpdump drops to its own user), name
# resolution through files then DNS, a writable /tmp.
BASE = (
    oci.Entry(
        "/etc/passwd",
        0o644,
        data=b"root:x:0:0:root:/root:/bin/sh\n"
        b"tcpdump:x:101:101::/nonexistent:/usr/sbin/nologin\n"
        b"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    ),
    oci.Entry("/etc/group", 0o644, data=b"root:x:0:\ntcpdump:x:101:\nnogroup:x:65534:\n"),
    oci.Entry("/etc/nsswitch.conf", 0o644, data=b"passwd: files\ngroup: files\nhosts: files dns\n"),
    oci.Entry("/root", 0o700),
    oci.Entry("/tmp", 0o1777),
)
NETFILTER = ("iptables", "ipset", "nftables", "conntrack")
# Debian's iptables picks its backend through alternatives, which no maintainer script sets up
# here: choose nftables, the backend of every supported distribution's current release.
IPTABLES_NFT = tuple(
    (f"/usr/sbin/{command}", "xtables-nft-multi")
    for family in ("iptables", "ip6tables")
    for command in (family, f"{family}-save", f"{family}-restore")
)
NETFILTER_CHECKS = (
    ("iptables", "--version"),
    ("ip6tables-restore", "--version"),
    ("nft", "--version"),
    ("ipset", "version"),
    ("conntrack", "--version"),
)


@dataclass(frozen=True)
class ImageSpec:
    """One image: programs are (path in the image, artifact, file of that artifact)."""

    name: str
    ref: str
    version: str
    programs: tuple[tuple[str, str, str], ...]
    config: oci.ImageConfig
    packages: tuple[str, ...] = ()
    links: tuple[tuple[str, str], ...] = ()
    busybox: bool = False
    # Commands run in the unpacked packages (chroot) to prove their libraries are all there.
    checks: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class BuiltImage:
    spec: ImageSpec
    entry: Path
    meta: dict[str, Any]
    cached: bool

    @property
    def archive(self) -> Path:
        return self.entry / "image.oci.tar"


def image_specs(kubeadm_images: list[str]) -> list[ImageSpec]:
    """Every image of the bundle; those kubeadm pulls carry exactly the names it printed."""
    refs = {ref.rpartition(":")[0].rsplit("/", 1)[-1]: ref for ref in kubeadm_images}
    missing = {"kube-apiserver", "etcd", "coredns", "pause"} - set(refs)
    if missing:
        raise BundleError(f"kubeadm's image list has no {', '.join(sorted(missing))}")

    def tag(name: str) -> str:
        return refs[name].rpartition(":")[2]

    specs = [
        ImageSpec(
            name,
            refs[name],
            tag(name),
            ((f"/usr/local/bin/{name}", name, name),),
            oci.ImageConfig(entrypoint=(f"/usr/local/bin/{name}",)),
        )
        for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
    ]
    specs += [
        ImageSpec(
            "kube-proxy",
            refs["kube-proxy"],
            tag("kube-proxy"),
            (("/usr/local/bin/kube-proxy", "kube-proxy", "kube-proxy"),),
            oci.ImageConfig(entrypoint=("/usr/local/bin/kube-proxy",)),
            packages=NETFILTER,
            links=IPTABLES_NFT,
            checks=NETFILTER_CHECKS,
        ),
        ImageSpec(
            "etcd",
            refs["etcd"],
            tag("etcd"),
            (
                ("/usr/local/bin/etcd", "etcd", "etcd"),
                ("/usr/local/bin/etcdctl", "etcd", "etcdctl"),
            ),
            oci.ImageConfig(entrypoint=("/usr/local/bin/etcd",)),
        ),
        ImageSpec(
            "coredns",
            refs["coredns"],
            tag("coredns"),
            (("/coredns", "coredns", "coredns"),),
            oci.ImageConfig(entrypoint=("/coredns",)),
        ),
        ImageSpec(
            "pause",
            refs["pause"],
            tag("pause"),
            (("/pause", "pause", "pause"),),
            oci.ImageConfig(entrypoint=("/pause",)),
        ),
        # flannel's manifest copies its CNI plugin from the image (`cp /flannel ...`), so the
        # image carries the plugin at /flannel and a shell for its init containers.
        ImageSpec(
            "flannel",
            FLANNEL_IMAGE,
            FLANNEL,
            (("/opt/bin/flanneld", "flannel", "flanneld"), ("/flannel", "flannel-cni", "flannel")),
            oci.ImageConfig(entrypoint=("/opt/bin/flanneld",)),
            packages=("iptables", "nftables", "busybox-static"),
            links=IPTABLES_NFT,
            busybox=True,
            checks=(("iptables", "--version"), ("nft", "--version"), ("sh", "-c", "command -v cp")),
        ),
        ImageSpec(
            "toolbox",
            TOOLBOX,
            TOOLBOX.rpartition(":")[2],
            (("/usr/local/bin/nk-http", "nk-http", "nk-http"),),
            oci.ImageConfig(cmd=("sh",)),
            packages=("busybox-static", "curl", "tcpdump"),
            busybox=True,
            checks=(
                ("curl", "--version"),
                ("tcpdump", "--version"),
                ("sh", "-c", "command -v nslookup"),
            ),
        ),
    ]
    return specs


def _writer_digest() -> str:
    """The code that turns inputs into image bytes: a change to it rebuilds every image."""
    digest = hashlib.sha256()
    for module in (oci, debian):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()


def image_key(spec: ImageSpec, programs: dict[str, str], packages: dict[str, str]) -> str:
    return cache.recipe_key(
        {
            "kind": "image",
            "spec": asdict(spec),
            "base": [repr(entry) for entry in BASE],
            "programs": programs,
            "packages": packages,
            "writer": _writer_digest(),
        }
    )


def ensure_image(
    spec: ImageSpec,
    artifacts: dict[str, GoArtifact],
    bundle_cache: Path,
    starting: Callable[[], None] = lambda: None,
) -> BuiltImage:
    """The cached image archive for this spec and these inputs, built first when missing
    (then `starting` is told first)."""
    programs = {
        path: artifacts[artifact].meta["binaries"][file]["sha256"]
        for path, artifact, file in spec.programs
    }
    packages = debian.closure(spec.packages) if spec.packages else {}
    entry = cache.entry_dir(bundle_cache, f"image-{spec.name}", image_key(spec, programs, packages))

    def build(work: Path) -> dict[str, Any]:
        started = time.monotonic()
        starting()
        layers = [list(BASE)]
        checked = False
        if packages:
            root = work / "root"
            debian.unpack(debian.fetch(packages, bundle_cache / "debs"), root)
            _finish_root(spec, root)
            checked = _check_root(spec, root)
            layers.append(oci.tree_entries(root))
        layers.append(
            [
                oci.Entry(path, 0o755, source=artifacts[artifact].file(file))
                for path, artifact, file in spec.programs
            ]
        )
        archive = work / "image.oci.tar"
        written = oci.write_image(spec.ref, layers, spec.config, archive, work / "blobs")
        shutil.rmtree(work / "blobs")
        shutil.rmtree(work / "root", ignore_errors=True)
        return {
            "ref": spec.ref,
            "version": spec.version,
            "manifest_digest": written.manifest_digest,
            "sha256": cache.file_digest(archive),
            "size": archive.stat().st_size,
            "programs": programs,
            "debian_packages": packages,
            "tools_checked": checked,
            "seconds": round(time.monotonic() - started, 1),
        }

    meta, cached = cache.cached_or_built(entry, build)
    return BuiltImage(spec, entry, meta, cached=cached)


def _finish_root(spec: ImageSpec, root: Path) -> None:
    """What the packages' maintainer scripts would have set up: alternatives, busybox links."""
    for path, target in spec.links:
        (root / path.lstrip("/")).symlink_to(target)
    if spec.busybox:
        busybox = root / "usr/bin/busybox"
        applets = subprocess.run(
            [str(busybox), "--list-full"], capture_output=True, text=True, check=True
        ).stdout.split()
        for applet in applets:
            link = root / applet
            if not (link.exists() or link.is_symlink()):
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to("/usr/bin/busybox")


def _check_root(spec: ImageSpec, root: Path) -> bool:
    """Run the spec's checks inside the unpacked root; False when they cannot run (not root)."""
    if os.geteuid() != 0 or not shutil.which("chroot"):
        return False
    for check in spec.checks:
        result = subprocess.run(
            ["chroot", str(root), *check], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise BundleError(
                f"image {spec.name}: `{' '.join(check)}` fails in its root filesystem: "
                f"{(result.stderr or result.stdout).strip()[-400:]}"
            )
    return True

"""What a node gets from an offline bundle: which bundled file goes where, with its checksum.

Pure decisions (no pyinfra): the deploy's stages upload exactly these files, the node suite
checks them, and validation refuses a bundle that is missing or built for another release
before anything changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nordkube.bundle.cache import bundle_cache
from nordkube.bundle.errors import BundleError
from nordkube.bundle.manifest import MANIFEST, load_manifest
from nordkube.settings import Settings

# Programs from the bundle, where they go on a node. /usr/local keeps them apart from anything
# the OS's package manager installs; /opt/cni/bin is where containerd and kubelet look for CNI
# plugins by default.
RUNTIME_PROGRAMS = {
    "containerd": "/usr/local/bin/containerd",
    "containerd-shim-runc-v2": "/usr/local/bin/containerd-shim-runc-v2",
    "ctr": "/usr/local/bin/ctr",
    "runc": "/usr/local/sbin/runc",
}
CNI_BIN_DIR = "/opt/cni/bin"
PROGRAM_MODE = "755"


@dataclass(frozen=True)
class NodeFile:
    """One bundled file as a node gets it."""

    name: str
    version: str
    source: str  # absolute path on the machine running the deploy
    path: str  # absolute path on the node
    sha256: str
    mode: str = PROGRAM_MODE


def default_bundle_dir(kubernetes_version: str) -> Path:
    """Where `nordkube bundle build --kubernetes VERSION` leaves its bundle by default."""
    return bundle_cache() / "bundles" / f"v{kubernetes_version.removeprefix('v')}"


def bundle_dir(kubernetes_bundle: str | None, kubernetes_version: str) -> Path:
    return (
        Path(kubernetes_bundle).expanduser().resolve()
        if kubernetes_bundle
        else default_bundle_dir(kubernetes_version)
    )


def bundle_problem(directory: Path, kubernetes_version: str) -> str | None:
    """Why this bundle cannot serve `kubernetes_version`; None when it can."""
    try:
        manifest = load_manifest(directory)
    except BundleError as error:
        return f"{error} (build it with `nordkube bundle build --kubernetes {kubernetes_version}`)"
    built = str(manifest.get("kubernetes_version", ""))
    if built.removeprefix("v") != kubernetes_version.removeprefix("v"):
        return (
            f"{directory / MANIFEST} is a bundle of Kubernetes {built}, not "
            f"v{kubernetes_version.removeprefix('v')}"
        )
    return None


def settings_bundle(settings: Settings) -> Path | None:
    """The bundle a host installs from (None unless kubernetes_package_source is 'bundle')."""
    if settings.kubernetes_package_source != "bundle":
        return None
    return bundle_dir(settings.kubernetes_bundle, settings.kubernetes_version)


def bundled_containerd(settings: Settings) -> str | None:
    """The containerd version of the host's bundle; None without a usable bundle."""
    directory = settings_bundle(settings)
    if directory is None or bundle_problem(directory, settings.kubernetes_version):
        return None
    return artifact_version(load_manifest(directory), "containerd")


def _records(manifest: dict[str, Any], artifact: str) -> list[dict[str, Any]]:
    return [r for r in manifest["artifacts"] if r["kind"] == "binary" and r["artifact"] == artifact]


def artifact_version(manifest: dict[str, Any], artifact: str) -> str | None:
    """The version of one bundled artifact (e.g. containerd's v2.2.1), None when absent."""
    records = _records(manifest, artifact)
    return str(records[0]["version"]) if records else None


def _node_file(directory: Path, record: dict[str, Any], path: str) -> NodeFile:
    return NodeFile(
        name=record["name"],
        version=record["version"],
        source=str(directory / record["path"]),
        path=path,
        sha256=record["sha256"],
    )


def runtime_files(directory: Path, manifest: dict[str, Any]) -> list[NodeFile]:
    """containerd, its shim, ctr, runc and the CNI plugins (flannel's included)."""
    files = []
    for artifact in ("containerd", "runc"):
        for record in _records(manifest, artifact):
            if record["name"] in RUNTIME_PROGRAMS:
                files.append(_node_file(directory, record, RUNTIME_PROGRAMS[record["name"]]))
    for artifact in ("cni-plugins", "flannel-cni"):
        for record in _records(manifest, artifact):
            files.append(_node_file(directory, record, f"{CNI_BIN_DIR}/{record['name']}"))
    missing = set(RUNTIME_PROGRAMS) - {file.name for file in files}
    if missing:
        raise BundleError(f"the bundle has no {', '.join(sorted(missing))}: rebuild it")
    return files


def by_path(files: Iterable[NodeFile]) -> dict[str, NodeFile]:
    return {file.path: file for file in files}


# The Kubernetes programs from the bundle, where pkgs.k8s.io's packages put them, so the
# kubelet's unit and every command name the same paths whichever source installed them (and
# EL's sudo, whose secure_path lacks /usr/local/bin, finds them).
KUBERNETES_PROGRAMS = {
    "kubeadm": "/usr/bin/kubeadm",
    "kubelet": "/usr/bin/kubelet",
    "kubectl": "/usr/bin/kubectl",
    "crictl": "/usr/bin/crictl",
}
# The bundle's image archives stay on the node once uploaded, so an image removed from
# containerd is imported again without a second upload.
IMAGE_DIR = "/var/lib/nordkube/images"
IMAGE_MODE = "644"
# Images only the control-plane nodes run (static pods); every node runs the others.
CONTROL_PLANE_IMAGES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")


@dataclass(frozen=True)
class NodeImage:
    """One bundled image as a node imports it into containerd's k8s.io namespace."""

    name: str
    ref: str
    digest: str  # the manifest digest containerd records for the imported image
    archive: str  # the uploaded archive on the node


def kubernetes_files(directory: Path, manifest: dict[str, Any]) -> list[NodeFile]:
    """kubeadm, kubelet, kubectl and crictl, at KUBERNETES_PROGRAMS."""
    files = [
        _node_file(directory, record, path)
        for name, path in KUBERNETES_PROGRAMS.items()
        for record in _records(manifest, name)
        if record["name"] == name
    ]
    missing = set(KUBERNETES_PROGRAMS) - {file.name for file in files}
    if missing:
        raise BundleError(f"the bundle has no {', '.join(sorted(missing))}: rebuild it")
    return files


def node_images(
    directory: Path, manifest: dict[str, Any], control_plane: bool
) -> tuple[list[NodeFile], list[NodeImage]]:
    """The image archives a node gets (uploaded to IMAGE_DIR) and the images imported from
    them: the control-plane images on control-plane nodes only."""
    files, images = [], []
    for record in manifest["artifacts"]:
        if record["kind"] != "image":
            continue
        if record["name"] in CONTROL_PLANE_IMAGES and not control_plane:
            continue
        archive = f"{IMAGE_DIR}/{record['name']}.oci.tar"
        files.append(
            NodeFile(
                name=record["name"],
                version=record["version"],
                source=str(directory / record["path"]),
                path=archive,
                sha256=record["sha256"],
                mode=IMAGE_MODE,
            )
        )
        images.append(NodeImage(record["name"], record["ref"], record["manifest_digest"], archive))
    return files, images

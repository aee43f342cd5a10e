"""bundle.json: what a bundle holds (every file with its version, sha256 and size), the images
kubeadm will look for, and the bill of materials (every Go module and Debian package used).

The bundle directory is assembled from hard links into the cache, so a warm build copies
nothing; bundle.json is written last, so a directory without it is not a bundle.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nordkube.bundle.cache import file_digest
from nordkube.bundle.errors import BundleError
from nordkube.bundle.gobuild import GoArtifact
from nordkube.bundle.images import BuiltImage

if TYPE_CHECKING:
    from nordkube.bundle.build import BuildContext

MANIFEST = "bundle.json"
FORMAT = 1


def binary_records(artifacts: Sequence[GoArtifact]) -> list[dict[str, Any]]:
    records = []
    for artifact in artifacts:
        recipe = artifact.recipe
        for name in artifact.files:
            built = artifact.meta["binaries"][name]
            records.append(
                {
                    "path": f"{recipe.directory}/{name}",
                    "kind": "binary",
                    "name": name,
                    "artifact": recipe.name,
                    "version": recipe.version,
                    "sha256": built["sha256"],
                    "size": built["size"],
                    "go": built["go"],
                    "package": built["package"],
                    "cache_entry": artifact.entry.name,
                    **({"source_edits": [asdict(e) for e in recipe.edits]} if recipe.edits else {}),
                }
            )
    return records


def image_records(images: Sequence[BuiltImage]) -> list[dict[str, Any]]:
    return [
        {
            "path": f"images/{image.spec.name}.oci.tar",
            "kind": "image",
            "name": image.spec.name,
            "ref": image.meta["ref"],
            "version": image.meta["version"],
            "sha256": image.meta["sha256"],
            "size": image.meta["size"],
            "manifest_digest": image.meta["manifest_digest"],
            "cache_entry": image.entry.name,
        }
        for image in images
    ]


def go_modules(artifacts: Sequence[GoArtifact]) -> list[dict[str, Any]]:
    """Every (module, version) linked into any binary, with the binaries that link it."""
    users: dict[tuple[str, str], set[str]] = {}
    for artifact in artifacts:
        for name, built in artifact.meta["binaries"].items():
            for module, version in built["modules"].items():
                users.setdefault((module, version), set()).add(name)
    return [
        {"path": module, "version": version, "used_by": sorted(names)}
        for (module, version), names in sorted(users.items())
    ]


def debian_packages(images: Sequence[BuiltImage]) -> list[dict[str, Any]]:
    users: dict[tuple[str, str], set[str]] = {}
    for image in images:
        for package, version in image.meta["debian_packages"].items():
            users.setdefault((package, version), set()).add(image.spec.name)
    return [
        {"name": package, "version": version, "used_by": sorted(names)}
        for (package, version), names in sorted(users.items())
    ]


def manifest(
    context: BuildContext,
    artifacts: Sequence[GoArtifact],
    images: Sequence[BuiltImage],
    kubeadm_images: list[str],
) -> dict[str, Any]:
    files = binary_records(artifacts) + image_records(images)
    return {
        "format": FORMAT,
        "kubernetes_version": context.version.tag,
        "arch": "amd64",
        "go": context.go_version,
        "kubeadm_images": kubeadm_images,
        "artifacts": files,
        "size": sum(record["size"] for record in files),
        "go_modules": go_modules(artifacts),
        "debian_packages": debian_packages(images),
    }


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _clear(target: Path) -> None:
    """Empty the output directory, but only one that is empty or holds a bundle already."""
    if not target.exists():
        return
    if any(target.iterdir()) and not (target / MANIFEST).exists():
        raise BundleError(
            f"{target} exists and is not a bundle (no {MANIFEST}): choose another --out"
        )
    shutil.rmtree(target)


def assemble(
    context: BuildContext,
    target: Path,
    artifacts: Sequence[GoArtifact],
    images: Sequence[BuiltImage],
    kubeadm_images: list[str],
) -> dict[str, Any]:
    """Write the bundle directory at `target` and return its bundle.json."""
    document = manifest(context, artifacts, images, kubeadm_images)
    _clear(target)
    for artifact in artifacts:
        for name in artifact.files:
            _link(artifact.file(name), target / artifact.recipe.directory / name)
    for image in images:
        _link(image.archive, target / "images" / f"{image.spec.name}.oci.tar")
    (target / MANIFEST).write_text(json.dumps(document, indent=2) + "\n")
    return document


def load_manifest(bundle: Path) -> dict[str, Any]:
    try:
        document: dict[str, Any] = json.loads((bundle / MANIFEST).read_text())
    except FileNotFoundError:
        raise BundleError(f"{bundle} is not a bundle: it has no {MANIFEST}") from None
    if document.get("format") != FORMAT:
        raise BundleError(f"{bundle / MANIFEST} has format {document.get('format')}, not {FORMAT}")
    return document


def verify_bundle(bundle: Path) -> list[str]:
    """Every file bundle.json lists whose size or sha256 differs from the record, by path."""
    problems = []
    for record in load_manifest(bundle)["artifacts"]:
        path = bundle / record["path"]
        if not path.is_file():
            problems.append(f"{record['path']}: missing")
        elif path.stat().st_size != record["size"] or file_digest(path) != record["sha256"]:
            problems.append(f"{record['path']}: sha256 or size differs from {MANIFEST}")
    return problems

"""OCI image archives written in Python: an image layout (oci-layout, index.json, blobs) in one
tar, as `ctr -n k8s.io images import` reads it. No Docker, no registry.

Every byte is deterministic (sorted entries, owner root, mtime 0, gzip without name or time), so
the same inputs give the same digests on every machine.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
# containerd's import names an image after this annotation; the OCI one is for other tools.
CONTAINERD_NAME = "io.containerd.image.name"
OCI_REF_NAME = "org.opencontainers.image.ref.name"
EPOCH = "1970-01-01T00:00:00Z"


@dataclass(frozen=True)
class Entry:
    """One path in a layer: a file (from `source` or `data`), a directory or a symlink."""

    path: str
    mode: int = 0o755
    source: Path | None = None
    data: bytes | None = None
    link: str | None = None


@dataclass(frozen=True)
class Blob:
    digest: str
    size: int
    path: Path


@dataclass(frozen=True)
class ImageConfig:
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)


@dataclass(frozen=True)
class WrittenImage:
    ref: str
    manifest_digest: str
    layers: int


def tree_entries(root: Path) -> list[Entry]:
    """Every directory, regular file and symlink under `root`, as image paths."""
    entries = []
    for path in sorted(root.rglob("*")):
        inside = "/" + str(path.relative_to(root))
        info = path.lstat()
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISLNK(info.st_mode):
            entries.append(Entry(inside, 0o777, link=os.readlink(path)))
        elif stat.S_ISDIR(info.st_mode):
            entries.append(Entry(inside, mode))
        elif stat.S_ISREG(info.st_mode):
            entries.append(Entry(inside, mode, source=path))
    return entries


class _Hashing(io.RawIOBase):
    """A write-through stream that counts and hashes what passes."""

    def __init__(self, target: IO[bytes] | gzip.GzipFile) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self.digest.update(view)
        self.size += len(view)
        self.target.write(view)
        return len(view)


def _with_parents(entries: Iterable[Entry]) -> list[Entry]:
    """Entries sorted by path, with a directory entry for every parent not listed."""
    by_path = {PurePosixPath(entry.path).as_posix(): entry for entry in entries}
    for path in list(by_path):
        for parent in PurePosixPath(path).parents:
            if str(parent) != "/":
                by_path.setdefault(str(parent), Entry(str(parent)))
    return [by_path[path] for path in sorted(by_path)]


def _add(tar: tarfile.TarFile, entry: Entry) -> None:
    info = tarfile.TarInfo(entry.path.lstrip("/"))
    info.mode = entry.mode
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if entry.link is not None:
        info.type = tarfile.SYMTYPE
        info.linkname = entry.link
        tar.addfile(info)
    elif entry.data is not None:
        info.size = len(entry.data)
        tar.addfile(info, io.BytesIO(entry.data))
    elif entry.source is not None:
        info.size = entry.source.stat().st_size
        with entry.source.open("rb") as stream:
            tar.addfile(info, stream)
    else:
        info.type = tarfile.DIRTYPE
        tar.addfile(info)


def write_layer(entries: Iterable[Entry], work: Path) -> tuple[Blob, str]:
    """A gzipped layer blob and its diff_id (the digest of the uncompressed tar)."""
    work.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=work, suffix=".tar.gz")
    with os.fdopen(handle, "wb") as raw:
        compressed = _Hashing(raw)
        with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0) as zipped:
            uncompressed = _Hashing(zipped)
            with tarfile.open(fileobj=uncompressed, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                for entry in _with_parents(entries):
                    _add(tar, entry)
    blob = _store(Path(name), compressed.digest.hexdigest(), compressed.size)
    return blob, f"sha256:{uncompressed.digest.hexdigest()}"


def _store(temporary: Path, hexdigest: str, size: int) -> Blob:
    final = temporary.parent / hexdigest
    temporary.rename(final)
    return Blob(f"sha256:{hexdigest}", size, final)


def _json_blob(document: dict[str, Any], work: Path) -> Blob:
    data = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    hexdigest = hashlib.sha256(data).hexdigest()
    path = work / hexdigest
    path.write_bytes(data)
    return Blob(f"sha256:{hexdigest}", len(data), path)


def _descriptor(media_type: str, blob: Blob, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": blob.digest, "size": blob.size, **extra}


def write_image(
    ref: str, layers: list[list[Entry]], config: ImageConfig, archive: Path, work: Path
) -> WrittenImage:
    """Write the image `ref` (registry/name:tag) as an OCI layout tar at `archive`."""
    written = [write_layer(entries, work) for entries in layers]
    config_blob = _json_blob(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": EPOCH,
            "config": {
                "Env": list(config.env),
                "Entrypoint": list(config.entrypoint) or None,
                "Cmd": list(config.cmd) or None,
                "WorkingDir": "/",
            },
            "rootfs": {"type": "layers", "diff_ids": [diff_id for _, diff_id in written]},
            "history": [{"created": EPOCH, "created_by": "nordkube bundle"} for _ in written],
        },
        work,
    )
    manifest_blob = _json_blob(
        {
            "schemaVersion": 2,
            "mediaType": MEDIA_MANIFEST,
            "config": _descriptor(MEDIA_CONFIG, config_blob),
            "layers": [_descriptor(MEDIA_LAYER, blob) for blob, _ in written],
        },
        work,
    )
    index = {
        "schemaVersion": 2,
        "mediaType": MEDIA_INDEX,
        "manifests": [
            _descriptor(
                MEDIA_MANIFEST,
                manifest_blob,
                annotations={CONTAINERD_NAME: ref, OCI_REF_NAME: ref},
                platform={"architecture": "amd64", "os": "linux"},
            )
        ],
    }
    blobs = {blob.digest: blob for blob in [config_blob, manifest_blob, *(b for b, _ in written)]}
    files = [
        Entry("/oci-layout", 0o644, data=b'{"imageLayoutVersion":"1.0.0"}'),
        Entry("/index.json", 0o644, data=json.dumps(index, sort_keys=True).encode()),
        *(
            Entry(f"/blobs/sha256/{d.split(':')[1]}", 0o644, source=b.path)
            for d, b in blobs.items()
        ),
    ]
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
        for entry in _with_parents(files):
            _add(tar, entry)
    return WrittenImage(ref, manifest_blob.digest, len(written))

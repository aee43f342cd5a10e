"""The bundle cache: one directory per built artifact, named after the hash of its recipe.

It lives beside the lab's images (`~/.cache/nordkube/bundle`, NORDKUBE_BUNDLE_CACHE overrides),
outside any clone, so CI and every checkout on a machine share it. An entry is complete once its
meta.json exists: builds happen in a temporary directory renamed into place at the end, so a
crashed build never looks like a cached one. One builder per entry at a time, across
processes: a second build of the same recipe waits on the entry's lock, then takes the first
one's result (seen without the lock: a CI run and a developer's run building the same kubeadm,
the second rename removed the entry the first was reading from).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nordkube.lab.paths import cache_dir

# Bump when the layout of an entry changes, so entries of the old layout are not reused.
CACHE_FORMAT = 1
META = "meta.json"


def bundle_cache() -> Path:
    override = os.environ.get("NORDKUBE_BUNDLE_CACHE")
    return Path(override).resolve() if override else cache_dir() / "bundle"


def recipe_key(recipe: dict[str, Any]) -> str:
    """A short stable hash of everything that decides an artifact's bytes."""
    encoded = json.dumps({"cache_format": CACHE_FORMAT, **recipe}, sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def entry_dir(cache: Path, name: str, key: str) -> Path:
    return cache / "artifacts" / f"{name}-{key}"


def read_meta(entry: Path) -> dict[str, Any] | None:
    """The entry's record, or None when it was never completed."""
    try:
        meta: dict[str, Any] = json.loads((entry / META).read_text())
    except FileNotFoundError:
        return None
    return meta


def cached_or_built(
    entry: Path, build: Callable[[Path], dict[str, Any]]
) -> tuple[dict[str, Any], bool]:
    """(the entry's meta, whether it was in the cache already). When missing, `build(work)`
    makes it in a work directory and returns its meta, under the entry's lock."""
    meta = read_meta(entry)
    if meta is not None:
        return meta, True
    with _locked(entry):
        meta = read_meta(entry)
        if meta is not None:
            return meta, True
        with building(entry) as work:
            meta = build(work)
            write_meta(work, meta)
        return meta, False


@contextmanager
def _locked(entry: Path) -> Iterator[None]:
    """Hold the entry's lock file (flock: released when the process dies, too)."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    with (entry.parent / f".{entry.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@contextmanager
def building(entry: Path) -> Iterator[Path]:
    """A fresh work directory that becomes `entry` when the block completes (its last act must
    be writing meta.json); removed, entry untouched, when the block raises."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(entry.parent)
    work = entry.parent / f".build-{entry.name}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        yield work
        if not (work / META).exists():
            raise RuntimeError(f"{work} finished without {META}")
        shutil.rmtree(entry, ignore_errors=True)
        work.rename(entry)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_meta(work: Path, meta: dict[str, Any]) -> None:
    (work / META).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def _remove_stale_builds(parent: Path) -> None:
    """Remove work directories whose builder process is gone."""
    for stale in parent.glob(".build-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if not (pid.isdigit() and Path(f"/proc/{pid}").exists()):
            shutil.rmtree(stale, ignore_errors=True)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

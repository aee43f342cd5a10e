"""Build a GoRecipe into the cache: generate its wrapper module, `go build` each output, and
record what every binary was built from (`go version -m`), for the bill of materials."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nordkube.bundle import cache
from nordkube.bundle.gocmd import build_info, go_env, modules_of, run_go
from nordkube.bundle.recipe import GoRecipe


@dataclass(frozen=True)
class GoArtifact:
    """A built recipe in the cache: its files, what they were built from, and how long it took."""

    recipe: GoRecipe
    entry: Path
    meta: dict[str, Any]
    cached: bool

    def file(self, name: str) -> Path:
        return self.entry / "out" / name

    @property
    def files(self) -> list[str]:
        return [name for name, _ in self.recipe.outputs]


def ensure_go_artifact(recipe: GoRecipe, bundle_cache: Path, go_version: str) -> GoArtifact:
    """The cached artifact for this recipe, built first when the cache has none."""
    entry = cache.entry_dir(bundle_cache, recipe.name, recipe.key(go_version))
    meta = cache.read_meta(entry)
    if meta is not None:
        return GoArtifact(recipe, entry, meta, cached=True)
    started = time.monotonic()
    env = go_env(bundle_cache / "go-build", cgo=recipe.cgo)
    with cache.building(entry) as work:
        module_dir = work / "module"
        if recipe.source_dir is not None:
            shutil.copytree(recipe.source_dir, module_dir)
        else:
            module_dir.mkdir()
            (module_dir / "go.mod").write_text(recipe.gomod)
        log = bundle_cache / "logs" / f"{entry.name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.unlink(missing_ok=True)
        binaries: dict[str, dict[str, Any]] = {}
        for name, package in recipe.outputs:
            output = work / "out" / name
            run_go(_build_args(recipe, package, output), env, cwd=module_dir, log=log, niced=True)
            info = build_info(output, env)
            binaries[name] = {
                "package": package,
                "sha256": cache.file_digest(output),
                "size": output.stat().st_size,
                "go": info.get("GoVersion", go_version),
                "modules": modules_of(info),
            }
        meta = {
            "recipe": recipe.name,
            "version": recipe.version,
            "binaries": binaries,
            "seconds": round(time.monotonic() - started, 1),
        }
        cache.write_meta(work, meta)
    return GoArtifact(recipe, entry, meta, cached=False)


def _build_args(recipe: GoRecipe, package: str, output: Path) -> list[str]:
    args = ["build", "-trimpath", "-o", str(output)]
    if recipe.tags:
        args += ["-tags", ",".join(recipe.tags)]
    if recipe.ldflags:
        args += ["-ldflags", " ".join(recipe.ldflags)]
    return [*args, package]

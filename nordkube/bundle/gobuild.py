"""Build a GoRecipe into the cache: generate its wrapper module, `go build` each output, and
record what every binary was built from (`go version -m`), for the bill of materials."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nordkube.bundle import cache
from nordkube.bundle.errors import BundleError
from nordkube.bundle.gocmd import build_info, download_module, go_env, modules_of, run_go
from nordkube.bundle.recipe import GoRecipe, SourceEdit


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


def ensure_go_artifact(
    recipe: GoRecipe,
    bundle_cache: Path,
    go_version: str,
    starting: Callable[[Path], None] = lambda log: None,
) -> GoArtifact:
    """The cached artifact for this recipe, built first when the cache has none (then
    `starting` is told first, with the build's log file)."""
    entry = cache.entry_dir(bundle_cache, recipe.name, recipe.key(go_version))

    def build(work: Path) -> dict[str, Any]:
        started = time.monotonic()
        env = go_env(bundle_cache / "go-build", cgo=recipe.cgo)
        log = bundle_cache / "logs" / f"{entry.name}.log"
        starting(log)
        module_dir = work / "module"
        if recipe.source_dir is not None:
            shutil.copytree(recipe.source_dir, module_dir)
        else:
            module_dir.mkdir()
            (module_dir / "go.mod").write_text(recipe.gomod)
        for edit in recipe.edits:
            edited_copy(edit, module_dir, env)
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
        return {
            "recipe": recipe.name,
            "version": recipe.version,
            "binaries": binaries,
            "seconds": round(time.monotonic() - started, 1),
        }

    meta, cached = cache.cached_or_built(entry, build)
    return GoArtifact(recipe, entry, meta, cached=cached)


def edited_copy(edit: SourceEdit, module_dir: Path, env: dict[str, str]) -> None:
    """Copy the module's source (read-only in the module cache) and drop the edit's lines."""
    source = Path(download_module(edit.module, edit.version, env)["Dir"])
    copy = module_dir / edit.directory
    shutil.copytree(source, copy, copy_function=shutil.copyfile)
    for directory in [copy, *(path for path in copy.rglob("*") if path.is_dir())]:
        directory.chmod(0o755)
    path = copy / edit.file
    lines = path.read_text().splitlines(keepends=True)
    kept = [line for line in lines if line.strip() not in edit.drop_lines]
    missing = set(edit.drop_lines) - {line.strip() for line in lines}
    if missing:
        raise BundleError(
            f"{edit.module} {edit.version} {edit.file} has no line {sorted(missing)[0]!r}: "
            "the edit no longer applies; update it in nordkube/bundle/catalog.py"
        )
    path.write_text("".join(kept))


def _build_args(recipe: GoRecipe, package: str, output: Path) -> list[str]:
    args = ["build", "-trimpath", "-o", str(output)]
    if recipe.tags:
        args += ["-tags", ",".join(recipe.tags)]
    if recipe.ldflags:
        args += ["-ldflags", " ".join(recipe.ldflags)]
    return [*args, package]

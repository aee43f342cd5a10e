"""What goes into one Go-built artifact: its recipe, whose hash is its cache key.

A recipe holds everything that decides the bytes (the wrapper go.mod, packages, flags, cgo,
the Go version, the project's own sources), so changing any of it rebuilds that artifact and
no other.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

from nordkube.bundle.cache import recipe_key

ASSETS = Path(__file__).parent / "assets"


@dataclass(frozen=True)
class SourceEdit:
    """Build a dependency from a copy of its source with some lines removed.

    For code whose own dependencies the module proxy does not serve: the wrapper replaces the
    module with the edited copy, and bundle.json records the edit.
    """

    module: str
    version: str
    file: str
    drop_lines: tuple[str, ...]

    @property
    def directory(self) -> str:
        """Where the copy goes inside the wrapper module."""
        return "edited/" + self.module.replace("/", "_")


@dataclass(frozen=True)
class GoRecipe:
    """Go programs built from one module graph.

    `gomod` is the wrapper module's go.mod; a project program (`source` set) is built in its
    own module under assets/ instead. `outputs` maps each file name to its main package.
    """

    name: str
    version: str
    outputs: tuple[tuple[str, str], ...]
    gomod: str = ""
    source: str = ""
    directory: str = "bin"
    ldflags: tuple[str, ...] = ("-s", "-w")
    tags: tuple[str, ...] = ()
    cgo: bool = False
    edits: tuple[SourceEdit, ...] = ()

    @property
    def source_dir(self) -> Path | None:
        return ASSETS / self.source if self.source else None

    def key(self, go_version: str) -> str:
        # Where the files land in the bundle does not change their bytes.
        recipe = {"kind": "go", "go": go_version, **asdict(self)}
        del recipe["directory"]
        if not self.edits:  # keeps the keys of recipes that never had edits as they were
            del recipe["edits"]
        if self.source_dir is not None:
            recipe["source_files"] = source_digests(self.source_dir)
        return recipe_key(recipe)


def source_digests(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }

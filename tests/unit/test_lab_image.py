"""The base image's cache key: rebuilt exactly when its recipe changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from nordkube.lab import image
from nordkube.lab.errors import LabError


def test_each_image_has_its_own_stable_key() -> None:
    assert image.recipe_hash("debian-12") == image.recipe_hash("debian-12")
    assert image.recipe_hash("debian-12") != image.recipe_hash("debian-13")


def test_changing_the_package_list_changes_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    before = image.recipe_hash("debian-12")
    monkeypatch.setattr(image, "PACKAGES", (*image.PACKAGES, "curl"))
    assert image.recipe_hash("debian-12") != before


def test_recipe_covers_the_baked_in_files_and_build_code() -> None:
    recipe = image.recipe("debian-13")
    assert recipe["suite"] == "trixie"
    assert "usr/local/sbin/nordkube-seed" in recipe["assets"]  # type: ignore[operator]
    assert len(recipe["build_code"]) == 3  # type: ignore[arg-type]


def test_cache_directory_is_named_after_image_and_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cached = image.cached_image("debian-12")
    assert (
        cached.directory
        == tmp_path / "nordkube" / "images" / f"debian-12-{image.recipe_hash('debian-12')}"
    )


def test_unknown_image_is_refused() -> None:
    with pytest.raises(LabError, match="unknown image 'centos-7'"):
        image.recipe("centos-7")

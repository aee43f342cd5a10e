"""Module look-ups with the real go command against a module proxy made on disk (file://):
a version the proxy does not serve is refused, naming the module, the version and what it serves;
a dependency is edited from a copy of its served source.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from nordkube.bundle import catalog
from nordkube.bundle.errors import BundleError
from nordkube.bundle.gobuild import edited_copy
from nordkube.bundle.gocmd import download_module, go_env, modules_of
from nordkube.bundle.recipe import SourceEdit
from nordkube.cli import main

MODULE = "k8s.io/kubernetes"
SERVED = ("v1.35.4", "v1.36.1")
GOMOD = "module k8s.io/kubernetes\n\ngo 1.25.0\n"
EDITED = "example.test/flannel"
UNSERVED_IMPORT = '_ "example.test/flannel/pkg/backend/tencentvpc"'
MAIN_GO = (
    "package main\n\nimport (\n"
    '\t_ "example.test/flannel/pkg/backend/vxlan"\n'
    f"\t{UNSERVED_IMPORT}\n)\n"
)


def publish(
    proxy: Path, module: str, version: str, gomod: str, files: dict[str, str] | None = None
) -> None:
    """One module version in the layout the GOPROXY protocol reads: list, .info, .mod, .zip."""
    versions = proxy / module / "@v"
    versions.mkdir(parents=True, exist_ok=True)
    with (versions / "list").open("a") as listing:
        listing.write(f"{version}\n")
    (versions / f"{version}.info").write_text(json.dumps({"Version": version}))
    (versions / f"{version}.mod").write_text(gomod)
    with zipfile.ZipFile(versions / f"{version}.zip", "w") as archive:
        archive.writestr(f"{module}@{version}/go.mod", gomod)
        for name, text in (files or {}).items():
            archive.writestr(f"{module}@{version}/{name}", text)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    proxy = tmp_path / "proxy"
    for version in SERVED:
        publish(proxy, MODULE, version, GOMOD)
    publish(proxy, EDITED, "v0.28.10", f"module {EDITED}\n\ngo 1.26.0\n", {"main.go": MAIN_GO})
    environment = go_env(tmp_path / "go-build")
    environment.update(
        GOPROXY=f"file://{proxy}",
        GOMODCACHE=str(tmp_path / "modcache"),
        GOSUMDB="off",
        GOFLAGS="-mod=mod -modcacherw",
        GOTOOLCHAIN="local",
    )
    return environment


def test_a_served_version_is_downloaded(env: dict[str, str]) -> None:
    answer = download_module(MODULE, "v1.35.4", env)
    assert Path(answer["GoMod"]).read_text() == GOMOD
    assert Path(answer["Dir"], "go.mod").is_file()


def test_an_unserved_version_is_refused_naming_module_version_and_served(
    env: dict[str, str],
) -> None:
    with pytest.raises(BundleError) as refused:
        download_module(MODULE, "v1.35.5", env)
    message = str(refused.value)
    assert f"does not serve {MODULE} v1.35.5" in message
    assert f"versions it lists for {MODULE}: v1.35.4, v1.36.1" in message
    assert env["GOPROXY"] in message


def test_a_module_the_proxy_does_not_know_is_refused(env: dict[str, str]) -> None:
    with pytest.raises(BundleError, match=r"versions it lists for example\.test/none: none"):
        download_module("example.test/none", "v1.0.0", env)


def test_an_edited_dependency_is_a_writable_copy_without_the_dropped_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    edit = SourceEdit(EDITED, "v0.28.10", "main.go", (UNSERVED_IMPORT,))
    edited_copy(edit, tmp_path / "wrapper", env)
    main = tmp_path / "wrapper" / edit.directory / "main.go"
    assert UNSERVED_IMPORT not in main.read_text()
    assert '_ "example.test/flannel/pkg/backend/vxlan"' in main.read_text()
    shutil.rmtree(tmp_path / "wrapper")  # the copy must not keep the module cache's read-only modes


def test_an_edit_that_no_longer_applies_is_refused_naming_the_file(
    env: dict[str, str], tmp_path: Path
) -> None:
    edit = SourceEdit(EDITED, "v0.28.10", "main.go", ('_ "example.test/gone"',))
    with pytest.raises(BundleError, match=r"example\.test/flannel v0\.28\.10 main\.go has no line"):
        edited_copy(edit, tmp_path / "wrapper", env)


def test_wrapper_replaces_an_edited_module_with_its_directory() -> None:
    edit = SourceEdit(EDITED, "v0.28.10", "main.go", (UNSERVED_IMPORT,))
    recipe = catalog.wrapped(
        "flannel",
        "v0.28.10",
        "1.26.0",
        [(EDITED, "v0.28.10")],
        (("flanneld", EDITED),),
        edits=(edit,),
    )
    assert f"\t{EDITED} => ./{edit.directory}\n" in recipe.gomod
    assert recipe.edits == (edit,)


def test_bill_of_materials_takes_replacements_and_marks_edited_copies() -> None:
    info = {
        "Main": {
            "Path": "github.com/flannel-io/flannel",
            "Version": "v0.28.10",
            "Replace": {"Path": "./edited/github.com_flannel-io_flannel", "Version": "(devel)"},
        },
        "Deps": [
            {
                "Path": "k8s.io/api",
                "Version": "v0.0.0",
                "Replace": {"Path": "k8s.io/api", "Version": "v0.35.4"},
            },
            {"Path": "golang.org/x/sys", "Version": "v0.38.0"},
        ],
    }
    assert modules_of(info) == {
        "github.com/flannel-io/flannel": "v0.28.10 (edited copy)",
        "k8s.io/api": "v0.35.4",
        "golang.org/x/sys": "v0.38.0",
    }


def test_build_of_an_unserved_release_stops_before_building_anything(
    env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("GOPROXY", "GOMODCACHE", "GOSUMDB", "GOTOOLCHAIN"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.setenv("NORDKUBE_BUNDLE_CACHE", str(tmp_path / "cache"))
    assert main(["bundle", "build", "--kubernetes", "1.99.0", "--out", str(tmp_path / "b")]) == 1
    error = capsys.readouterr().err
    assert "does not serve k8s.io/kubernetes v1.99.0" in error
    assert "v1.35.4, v1.36.1" in error
    assert not (tmp_path / "cache" / "artifacts").exists()
    assert not (tmp_path / "b").exists()

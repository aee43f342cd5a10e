"""Module look-ups with the real go command against a module proxy made on disk (file://):
a version the proxy does not serve is refused, naming the module, the version and what it serves.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from nordkube.bundle.errors import BundleError
from nordkube.bundle.gocmd import download_module, go_env

MODULE = "k8s.io/kubernetes"
SERVED = ("v1.35.4", "v1.36.1")
GOMOD = "module k8s.io/kubernetes\n\ngo 1.25.0\n"


def publish(proxy: Path, module: str, version: str, gomod: str) -> None:
    """One module version in the layout the GOPROXY protocol reads: list, .info, .mod, .zip."""
    versions = proxy / module / "@v"
    versions.mkdir(parents=True, exist_ok=True)
    with (versions / "list").open("a") as listing:
        listing.write(f"{version}\n")
    (versions / f"{version}.info").write_text(json.dumps({"Version": version}))
    (versions / f"{version}.mod").write_text(gomod)
    with zipfile.ZipFile(versions / f"{version}.zip", "w") as archive:
        archive.writestr(f"{module}@{version}/go.mod", gomod)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    proxy = tmp_path / "proxy"
    for version in SERVED:
        publish(proxy, MODULE, version, GOMOD)
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

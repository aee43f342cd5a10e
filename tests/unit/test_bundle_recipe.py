"""Versions, wrapper modules and recipe cache keys: a change to one recipe rebuilds it alone."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import pytest

from nordkube.bundle import cache, catalog
from nordkube.bundle.errors import BundleError
from nordkube.bundle.gobuild import ensure_go_artifact
from nordkube.bundle.versions import parse_kubernetes_version
from nordkube.bundle.wrapper import godebug, kubernetes_wrapper, staging_modules

GO = "go1.26.8"
RELEASE_GOMOD = """module k8s.io/kubernetes

go 1.25.0

godebug default=go1.25

require (
\tgithub.com/spf13/cobra v1.10.0
\tk8s.io/api v0.0.0
\tk8s.io/client-go v0.0.0
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go
)
"""


@pytest.mark.parametrize("text", ["1.35.4", "v1.35.4", " v1.35.4\n"])
def test_version_is_accepted_with_or_without_v(text: str) -> None:
    version = parse_kubernetes_version(text)
    assert (version.tag, version.staging, version.minor_line) == ("v1.35.4", "v0.35.4", "1.35")


@pytest.mark.parametrize("text", ["1.35", "v1.35.4-rc.0", "2.0.1", "latest", "v1.35.4+x"])
def test_version_that_is_not_a_release_is_refused(text: str) -> None:
    with pytest.raises(BundleError, match=r"1\.N\.P or v1\.N\.P"):
        parse_kubernetes_version(text)


def test_wrapper_replaces_every_staging_module_with_its_published_version() -> None:
    wrapper = kubernetes_wrapper(parse_kubernetes_version("1.35.4"), RELEASE_GOMOD)
    assert staging_modules(RELEASE_GOMOD) == ["k8s.io/api", "k8s.io/client-go"]
    assert "\tk8s.io/kubernetes v1.35.4\n" in wrapper
    assert "\tk8s.io/api => k8s.io/api v0.35.4\n" in wrapper
    assert "\tk8s.io/client-go => k8s.io/client-go v0.35.4\n" in wrapper
    assert "\ngo 1.25.0\n" in wrapper


def test_wrapper_copies_the_godebug_line() -> None:
    assert godebug(RELEASE_GOMOD) == "godebug default=go1.25"
    wrapper = kubernetes_wrapper(parse_kubernetes_version("1.35.4"), RELEASE_GOMOD)
    assert "\ngodebug default=go1.25\n" in wrapper


def test_godebug_block_is_copied_whole() -> None:
    gomod = "module x\n\ngo 1.25\n\ngodebug (\n\tdefault=go1.25\n\tx509negativeserial=1\n)\n"
    assert godebug(gomod) == "godebug (\n\tdefault=go1.25\n\tx509negativeserial=1\n)"


def test_a_go_mod_without_staging_is_not_taken_for_a_release() -> None:
    with pytest.raises(BundleError, match="replaces no staging module"):
        kubernetes_wrapper(parse_kubernetes_version("1.35.4"), "module x\n\ngo 1.25\n")


def kubernetes_recipes() -> list[catalog.GoRecipe]:
    version = parse_kubernetes_version("1.35.4")
    wrapper = kubernetes_wrapper(version, RELEASE_GOMOD)
    return catalog.kubernetes_recipes(version, wrapper, "2026-04-15T18:01:22Z")


def test_kubernetes_binaries_carry_the_release_version_in_both_version_packages() -> None:
    recipes = kubernetes_recipes()
    assert [recipe.name for recipe in recipes] == list(catalog.KUBERNETES_BINARIES)
    flags = recipes[0].ldflags
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        assert f"-X {package}.gitVersion=v1.35.4" in flags
        assert f"-X {package}.gitMinor=35" in flags
        assert f"-X {package}.gitTreeState=clean" in flags


def test_each_recipe_has_its_own_stable_key() -> None:
    keys = [recipe.key(GO) for recipe in kubernetes_recipes()]
    assert keys == [recipe.key(GO) for recipe in kubernetes_recipes()]
    assert len(set(keys)) == len(keys)


def test_changing_one_recipe_changes_only_its_key() -> None:
    before = [recipe.key(GO) for recipe in kubernetes_recipes()]
    changed = [
        dataclasses.replace(recipe, ldflags=(*recipe.ldflags, "-X main.extra=1"))
        if recipe.name == "kube-proxy"
        else recipe
        for recipe in kubernetes_recipes()
    ]
    after = [recipe.key(GO) for recipe in changed]
    differing = [
        name
        for name, old, new in zip(catalog.KUBERNETES_BINARIES, before, after, strict=True)
        if old != new
    ]
    assert differing == ["kube-proxy"]


def test_go_version_and_cgo_are_part_of_the_key() -> None:
    recipe = kubernetes_recipes()[0]
    assert recipe.key(GO) != recipe.key("go1.27.3")
    assert recipe.key(GO) != dataclasses.replace(recipe, cgo=True).key(GO)


def test_bundle_directory_is_not_part_of_the_key() -> None:
    recipe = kubernetes_recipes()[0]
    assert recipe.key(GO) == dataclasses.replace(recipe, directory="elsewhere").key(GO)


def test_project_program_key_follows_its_sources() -> None:
    pause = catalog.project_recipe("pause", "pause")
    assert pause.source_dir is not None and (pause.source_dir / "main.go").is_file()
    assert pause.version.startswith("nordkube-")
    assert pause.key(GO) != catalog.project_recipe("nk-http", "httpserve").key(GO)


def test_a_completed_cache_entry_is_reused_without_building(tmp_path: Path) -> None:
    recipe = kubernetes_recipes()[0]
    entry = cache.entry_dir(tmp_path, recipe.name, recipe.key(GO))
    entry.mkdir(parents=True)
    cache.write_meta(entry, {"recipe": recipe.name, "binaries": {}})
    artifact = ensure_go_artifact(recipe, tmp_path, GO)
    assert artifact.cached
    assert artifact.entry == entry


def test_an_entry_without_meta_is_not_a_cache_hit(tmp_path: Path) -> None:
    entry = cache.entry_dir(tmp_path, "kubeadm", "0123456789abcdef")
    (entry / "out").mkdir(parents=True)
    assert cache.read_meta(entry) is None


def test_a_failed_build_leaves_no_entry(tmp_path: Path) -> None:
    entry = cache.entry_dir(tmp_path, "kubeadm", "0123456789abcdef")
    with pytest.raises(BundleError), cache.building(entry) as work:
        (work / "partial").write_text("half")
        raise BundleError("compile failed")
    assert not entry.exists()
    assert list(entry.parent.iterdir()) == []


def _build_slowly(entry: Path, results: Any) -> None:
    def build(work: Path) -> dict[str, Any]:
        with (entry.parent / "builds.log").open("a") as log:
            log.write(f"{os.getpid()}\n")
        (work / "out").mkdir()
        (work / "out" / "kubeadm").write_text(f"built by {os.getpid()}")
        time.sleep(1.0)
        return {"builder": os.getpid()}

    meta, cached = cache.cached_or_built(entry, build)
    results.put((os.getpid(), meta["builder"], cached, (entry / "out" / "kubeadm").read_text()))


def test_two_builds_of_one_recipe_at_once_build_it_once(tmp_path: Path) -> None:
    """The second waits on the entry's lock and takes the first one's result; neither loses
    the entry it reads from."""
    entry = cache.entry_dir(tmp_path, "kubeadm", "0123456789abcdef")
    entry.parent.mkdir(parents=True)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=_build_slowly, args=(entry, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    outcomes = sorted((results.get(timeout=30) for _ in workers), key=lambda item: item[2])
    for worker in workers:
        worker.join(timeout=30)
    (_, builder, first_cached, first_text), (_, same_builder, second_cached, second_text) = outcomes
    assert (first_cached, second_cached) == (False, True)
    assert builder == same_builder
    assert first_text == second_text == f"built by {builder}"
    assert (entry.parent / "builds.log").read_text().split() == [str(builder)]


def test_cache_lives_outside_the_clone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NORDKUBE_BUNDLE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.bundle_cache() == tmp_path / "nordkube" / "bundle"


def test_versions_the_release_names() -> None:
    dependencies = (
        "dependencies:\n  - name: crictl\n    version: 1.34.0\n  - name: cni\n    version: 1.8.0\n"
    )
    assert catalog.release_dependency(dependencies, "crictl") == "v1.34.0"
    assert catalog.release_dependency(dependencies, "cni") == "v1.8.0"
    with pytest.raises(BundleError, match="names no 'etcd' version"):
        catalog.release_dependency(dependencies, "etcd")


def test_versions_kubeadm_names() -> None:
    images = [
        "registry.k8s.io/kube-apiserver:v1.35.4",
        "registry.k8s.io/coredns/coredns:v1.13.1",
        "registry.k8s.io/pause:3.10.1",
        "registry.k8s.io/etcd:3.6.6-0",
    ]
    tags = catalog.image_tags(images)
    assert tags["coredns"] == "v1.13.1"
    assert tags["pause"] == "3.10.1"
    assert catalog.etcd_module_version(tags["etcd"]) == "v3.6.6"


def test_containerd_for_an_unknown_minor_is_refused_by_name() -> None:
    with pytest.raises(BundleError, match=r"no containerd release is chosen for Kubernetes 1\.30"):
        catalog.containerd_release(parse_kubernetes_version("1.30.4"))


def test_every_linux_cni_plugin_of_the_release_is_built(tmp_path: Path) -> None:
    for plugin in ("main/bridge", "main/windows", "ipam/host-local", "meta/portmap"):
        (tmp_path / "plugins" / plugin).mkdir(parents=True)
        (tmp_path / "plugins" / plugin / "main.go").write_text("package main\n")
    (tmp_path / "plugins" / "meta" / "empty").mkdir()
    packages = dict(catalog.cni_plugin_packages(tmp_path))
    assert packages == {
        "host-local": f"{catalog.CNI_MODULE}/plugins/ipam/host-local",
        "bridge": f"{catalog.CNI_MODULE}/plugins/main/bridge",
        "portmap": f"{catalog.CNI_MODULE}/plugins/meta/portmap",
    }


def test_the_validation_tier_takes_the_newest_release_of_each_minor_it_is_asked_for() -> None:
    from nordkube.bundle.build import newest_patches

    served = ["v1.34.4", "v1.35.4", "v1.36.1", "v1.36.3", "v1.36.10", "v1.37.2", "v1.38.0-beta.0"]
    assert newest_patches(served, range(35, 39)) == {35: "v1.35.4", 36: "v1.36.10", 37: "v1.37.2"}
    assert newest_patches(["v1.38.0-beta.0"], range(35, 39)) == {}

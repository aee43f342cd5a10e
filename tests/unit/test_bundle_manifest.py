"""bundle.json and the bundle directory: every file with version, sha256 and size, the bill of
materials, and a changed or missing file found by name."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from nordkube.bundle import cache, manifest
from nordkube.bundle.build import BuildContext
from nordkube.bundle.errors import BundleError
from nordkube.bundle.gobuild import GoArtifact
from nordkube.bundle.images import BuiltImage, image_specs
from nordkube.bundle.recipe import GoRecipe
from nordkube.bundle.versions import parse_kubernetes_version
from tests.unit.test_bundle_images import KUBEADM_IMAGES

IMAGES = KUBEADM_IMAGES


def go_artifact(
    bundle_cache: Path, name: str, directory: str, modules: dict[str, str]
) -> GoArtifact:
    recipe = GoRecipe(
        name=name, version="v1.35.4", outputs=((name, f"x/{name}"),), directory=directory
    )
    entry = cache.entry_dir(bundle_cache, name, recipe.key("go1.26.8"))
    (entry / "out").mkdir(parents=True)
    data = f"binary {name}".encode()
    (entry / "out" / name).write_bytes(data)
    built = {
        "package": f"x/{name}",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "go": "go1.26.8",
        "modules": modules,
    }
    meta = {"recipe": name, "binaries": {name: built}}
    return GoArtifact(recipe, entry, meta, cached=True)


def built_image(bundle_cache: Path) -> BuiltImage:
    spec = next(spec for spec in image_specs(IMAGES) if spec.name == "kube-proxy")
    entry = bundle_cache / "artifacts" / "image-kube-proxy-0"
    entry.mkdir(parents=True)
    (entry / "image.oci.tar").write_bytes(b"layout")
    meta = {
        "ref": spec.ref,
        "version": spec.version,
        "manifest_digest": "sha256:00",
        "sha256": hashlib.sha256(b"layout").hexdigest(),
        "size": 6,
        "debian_packages": {"iptables": "1.8.9-2", "libc6": "2.36-9"},
    }
    return BuiltImage(spec, entry, meta, cached=True)


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    bundle_cache = tmp_path / "cache"
    context = BuildContext(
        parse_kubernetes_version("1.35.4"), bundle_cache, {}, "go1.26.8", lambda line: None
    )
    artifacts = [
        go_artifact(
            bundle_cache,
            "kubeadm",
            "bin",
            {"k8s.io/kubernetes": "v1.35.4", "golang.org/x/sys": "v0.38.0"},
        ),
        go_artifact(bundle_cache, "flannel", "cni", {"golang.org/x/sys": "v0.1.0"}),
        go_artifact(bundle_cache, "kubelet", "bin", {"k8s.io/kubernetes": "v1.35.4"}),
    ]
    target = tmp_path / "bundle"
    manifest.assemble(context, target, artifacts, [built_image(bundle_cache)], IMAGES)
    return target


def load(bundle: Path) -> dict[str, Any]:
    return json.loads((bundle / "bundle.json").read_text())


def test_every_file_is_listed_with_version_sha256_and_size(bundle: Path) -> None:
    document = load(bundle)
    paths = {record["path"] for record in document["artifacts"]}
    assert paths == {"bin/kubeadm", "bin/kubelet", "cni/flannel", "images/kube-proxy.oci.tar"}
    for record in document["artifacts"]:
        data = (bundle / record["path"]).read_bytes()
        assert record["sha256"] == hashlib.sha256(data).hexdigest()
        assert record["size"] == len(data)
        assert record["version"]
    assert document["size"] == sum(record["size"] for record in document["artifacts"])


def test_manifest_names_the_release_and_the_images_kubeadm_wants(bundle: Path) -> None:
    document = load(bundle)
    assert document["kubernetes_version"] == "v1.35.4"
    assert document["kubeadm_images"] == IMAGES
    (image,) = [record for record in document["artifacts"] if record["kind"] == "image"]
    assert image["ref"] == "registry.k8s.io/kube-proxy:v1.35.4"


def test_bill_of_materials_lists_each_module_version_with_its_users(bundle: Path) -> None:
    modules = {
        (entry["path"], entry["version"]): entry["used_by"] for entry in load(bundle)["go_modules"]
    }
    assert modules[("k8s.io/kubernetes", "v1.35.4")] == ["kubeadm", "kubelet"]
    assert modules[("golang.org/x/sys", "v0.38.0")] == ["kubeadm"]
    assert modules[("golang.org/x/sys", "v0.1.0")] == ["flannel"]
    packages = {entry["name"]: entry for entry in load(bundle)["debian_packages"]}
    assert packages["iptables"] == {
        "name": "iptables",
        "version": "1.8.9-2",
        "used_by": ["kube-proxy"],
    }


def test_an_intact_bundle_verifies(bundle: Path) -> None:
    assert manifest.verify_bundle(bundle) == []


def test_a_file_changed_by_one_byte_is_named(bundle: Path) -> None:
    kubelet = bundle / "bin" / "kubelet"
    data = bytearray(kubelet.read_bytes())
    data[0] ^= 1
    kubelet.unlink()  # a hard link into the cache: replace the file, keep the cache intact
    kubelet.write_bytes(bytes(data))
    assert manifest.verify_bundle(bundle) == [
        "bin/kubelet: sha256 or size differs from bundle.json"
    ]


def test_a_missing_file_is_named(bundle: Path) -> None:
    (bundle / "cni" / "flannel").unlink()
    assert manifest.verify_bundle(bundle) == ["cni/flannel: missing"]


def test_a_directory_without_bundle_json_is_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match=r"has no bundle\.json"):
        manifest.load_manifest(tmp_path)


def test_an_output_directory_that_is_not_a_bundle_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    context = BuildContext(
        parse_kubernetes_version("1.35.4"), tmp_path / "c", {}, "go1.26.8", print
    )
    with pytest.raises(BundleError, match="is not a bundle"):
        manifest.assemble(context, tmp_path, [], [], IMAGES)
    assert (tmp_path / "notes.txt").read_text() == "mine"

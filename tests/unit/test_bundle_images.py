"""OCI image archives: the layout `ctr images import` reads, digests that match their blobs,
deterministic bytes, and image names exactly as kubeadm prints them."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from nordkube.bundle import images, oci

KUBEADM_IMAGES = [
    "registry.k8s.io/kube-apiserver:v1.35.4",
    "registry.k8s.io/kube-controller-manager:v1.35.4",
    "registry.k8s.io/kube-scheduler:v1.35.4",
    "registry.k8s.io/kube-proxy:v1.35.4",
    "registry.k8s.io/coredns/coredns:v1.13.1",
    "registry.k8s.io/pause:3.10.1",
    "registry.k8s.io/etcd:3.6.6-0",
]
REF = "registry.k8s.io/pause:3.10.1"


def write_sample(tmp_path: Path, name: str = "image.oci.tar") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    program = tmp_path / "pause-binary"
    program.write_bytes(b"\x7fELF pretend program")
    root = tmp_path / "root"
    (root / "usr/sbin").mkdir(parents=True)
    (root / "usr/sbin/xtables-nft-multi").write_bytes(b"tool")
    (root / "usr/sbin/iptables").symlink_to("xtables-nft-multi")
    layers = [
        list(images.BASE),
        oci.tree_entries(root),
        [oci.Entry("/pause", 0o755, source=program)],
    ]
    archive = tmp_path / name
    oci.write_image(REF, layers, oci.ImageConfig(entrypoint=("/pause",)), archive, tmp_path / "w")
    return archive


def read_layout(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {
            member.name: tar.extractfile(member).read()  # type: ignore[union-attr]
            for member in tar.getmembers()
            if member.isfile()
        }


def blob(files: dict[str, bytes], digest: str) -> bytes:
    algorithm, hexdigest = digest.split(":")
    data = files[f"blobs/{algorithm}/{hexdigest}"]
    assert hashlib.sha256(data).hexdigest() == hexdigest, f"blob {digest} does not match"
    return data


def manifest_of(files: dict[str, bytes]) -> tuple[dict[str, Any], dict[str, Any]]:
    index = json.loads(files["index.json"])
    (descriptor,) = index["manifests"]
    manifest = json.loads(blob(files, descriptor["digest"]))
    assert descriptor["size"] == len(blob(files, descriptor["digest"]))
    return descriptor, manifest


def test_archive_is_an_oci_image_layout(tmp_path: Path) -> None:
    files = read_layout(write_sample(tmp_path))
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads(files["index.json"])
    assert index["schemaVersion"] == 2
    assert index["mediaType"] == oci.MEDIA_INDEX
    descriptor, manifest = manifest_of(files)
    assert descriptor["mediaType"] == oci.MEDIA_MANIFEST
    assert manifest["mediaType"] == oci.MEDIA_MANIFEST
    assert manifest["config"]["mediaType"] == oci.MEDIA_CONFIG
    assert {layer["mediaType"] for layer in manifest["layers"]} == {oci.MEDIA_LAYER}


def test_image_is_named_for_containerd_and_oci_tools(tmp_path: Path) -> None:
    descriptor, _ = manifest_of(read_layout(write_sample(tmp_path)))
    assert descriptor["annotations"] == {
        "io.containerd.image.name": REF,
        "org.opencontainers.image.ref.name": REF,
    }


def test_every_digest_and_size_matches_its_blob(tmp_path: Path) -> None:
    files = read_layout(write_sample(tmp_path))
    _, manifest = manifest_of(files)
    for descriptor in [manifest["config"], *manifest["layers"]]:
        assert len(blob(files, descriptor["digest"])) == descriptor["size"]
    config = json.loads(blob(files, manifest["config"]["digest"]))
    diff_ids = [
        "sha256:" + hashlib.sha256(gzip.decompress(blob(files, layer["digest"]))).hexdigest()
        for layer in manifest["layers"]
    ]
    assert config["rootfs"] == {"type": "layers", "diff_ids": diff_ids}
    assert config["config"]["Entrypoint"] == ["/pause"]
    assert (config["architecture"], config["os"]) == ("amd64", "linux")


def test_layers_hold_files_links_and_modes(tmp_path: Path) -> None:
    files = read_layout(write_sample(tmp_path))
    _, manifest = manifest_of(files)
    members = {}
    for layer in manifest["layers"]:
        data = gzip.decompress(blob(files, layer["digest"]))
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            members.update({member.name: member for member in tar.getmembers()})
    assert members["pause"].mode == 0o755 and members["pause"].isfile()
    assert members["usr/sbin/iptables"].issym()
    assert members["usr/sbin/iptables"].linkname == "xtables-nft-multi"
    assert members["usr"].isdir() and members["usr/sbin"].isdir()
    assert members["tmp"].mode == 0o1777
    assert all(member.uid == 0 and member.mtime == 0 for member in members.values())


def test_same_inputs_give_the_same_bytes(tmp_path: Path) -> None:
    first = write_sample(tmp_path / "a")
    second = write_sample(tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()


@pytest.fixture
def specs() -> dict[str, images.ImageSpec]:
    return {spec.name: spec for spec in images.image_specs(KUBEADM_IMAGES)}


def test_every_image_kubeadm_names_is_built_under_that_name(
    specs: dict[str, images.ImageSpec],
) -> None:
    assert set(KUBEADM_IMAGES) <= {spec.ref for spec in specs.values()}
    assert {"flannel", "toolbox"} <= set(specs)


def test_coredns_starts_as_its_image_expects(specs: dict[str, images.ImageSpec]) -> None:
    assert specs["coredns"].config.entrypoint == ("/coredns",)
    assert specs["coredns"].programs == (("/coredns", "coredns", "coredns"),)


@pytest.mark.parametrize("name", ["kube-proxy", "flannel"])
def test_images_that_exec_netfilter_tools_carry_them(
    specs: dict[str, images.ImageSpec], name: str
) -> None:
    spec = specs[name]
    assert {"iptables", "nftables"} <= set(spec.packages)
    assert ("/usr/sbin/iptables", "xtables-nft-multi") in spec.links
    assert ("nft", "--version") in spec.checks


def test_kube_proxy_carries_ipset_too(specs: dict[str, images.ImageSpec]) -> None:
    assert "ipset" in specs["kube-proxy"].packages


def test_toolbox_has_shell_curl_dns_lookup_tcpdump_and_http_server(
    specs: dict[str, images.ImageSpec],
) -> None:
    toolbox = specs["toolbox"]
    assert {"busybox-static", "curl", "tcpdump"} <= set(toolbox.packages)
    assert toolbox.busybox  # sh and nslookup are busybox applets
    assert ("/usr/local/bin/nk-http", "nk-http", "nk-http") in toolbox.programs


def test_changing_one_image_spec_changes_only_its_key(
    specs: dict[str, images.ImageSpec],
) -> None:
    keys = {name: images.image_key(spec, {}, {}) for name, spec in specs.items()}
    changed = images.ImageSpec(**{**specs["toolbox"].__dict__, "packages": ("curl",)})
    assert images.image_key(changed, {}, {}) != keys["toolbox"]
    assert images.image_key(specs["etcd"], {}, {}) == keys["etcd"]
    assert images.image_key(specs["etcd"], {"/usr/local/bin/etcd": "00"}, {}) != keys["etcd"]

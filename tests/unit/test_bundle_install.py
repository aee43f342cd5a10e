"""What a node gets from a bundle, and the refusals before any change."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import offline_plan  # tests/unit's helpers, as test_cluster_plan imports them
import pytest

from nordkube import support
from nordkube.bundle import install
from nordkube.bundle.errors import BundleError
from nordkube.settings import Settings
from nordkube.validation import InventoryHost, validate_inventory

ROOT = Path(__file__).resolve().parents[2]


def binary(artifact: str, name: str, version: str, directory: str = "bin") -> dict[str, object]:
    return {
        "path": f"{directory}/{name}",
        "kind": "binary",
        "name": name,
        "artifact": artifact,
        "version": version,
        "sha256": f"{len(name):064x}",
        "size": 1,
    }


def write_bundle(directory: Path, kubernetes: str = "v1.35.4") -> Path:
    manifest = {
        "format": 1,
        "kubernetes_version": kubernetes,
        "artifacts": [
            binary("containerd", "containerd", "v2.2.1"),
            binary("containerd", "containerd-shim-runc-v2", "v2.2.1"),
            binary("containerd", "ctr", "v2.2.1"),
            binary("runc", "runc", "v1.3.3"),
            binary("cni-plugins", "bridge", "v1.7.1", "cni"),
            binary("flannel-cni", "flannel", "v1.7.1-flannel2", "cni"),
            binary("kubernetes", "kubeadm", kubernetes),
        ],
    }
    directory.mkdir(parents=True)
    (directory / "bundle.json").write_text(json.dumps(manifest))
    return directory


def test_runtime_files_go_to_their_node_paths_with_the_bundle_checksums(tmp_path: Path) -> None:
    directory = write_bundle(tmp_path / "b")
    manifest = json.loads((directory / "bundle.json").read_text())
    files = install.by_path(install.runtime_files(directory, manifest))
    assert sorted(files) == [
        "/opt/cni/bin/bridge",
        "/opt/cni/bin/flannel",
        "/usr/local/bin/containerd",
        "/usr/local/bin/containerd-shim-runc-v2",
        "/usr/local/bin/ctr",
        "/usr/local/sbin/runc",
    ]
    runc = files["/usr/local/sbin/runc"]
    assert runc.source == str(directory / "bin" / "runc")
    assert runc.sha256 == f"{4:064x}"
    assert runc.mode == "755"


def test_a_bundle_without_runc_is_refused(tmp_path: Path) -> None:
    directory = write_bundle(tmp_path / "b")
    manifest = json.loads((directory / "bundle.json").read_text())
    manifest["artifacts"] = [r for r in manifest["artifacts"] if r["name"] != "runc"]
    with pytest.raises(BundleError, match="no runc"):
        install.runtime_files(directory, manifest)


def test_a_bundle_of_another_release_or_none_at_all_is_named(tmp_path: Path) -> None:
    directory = write_bundle(tmp_path / "b", kubernetes="v1.36.3")
    assert install.bundle_problem(directory, "1.36.3") is None
    other = install.bundle_problem(directory, "1.35.4")
    assert other is not None and "a bundle of Kubernetes v1.36.3, not v1.35.4" in other
    missing = install.bundle_problem(tmp_path / "nothing", "1.35.4")
    assert missing is not None and "nordkube bundle build --kubernetes 1.35.4" in missing


def test_validation_refuses_a_mismatched_bundle_before_any_change(tmp_path: Path) -> None:
    directory = write_bundle(tmp_path / "b", kubernetes="v1.36.3")
    data = {
        "kubernetes_package_source": "bundle",
        "kubernetes_bundle": str(directory),
        "kubernetes_version": "1.35.4",
        "etcd_device": "/dev/nvme0n1",
    }
    problems = validate_inventory([InventoryHost("cp1", frozenset({"control_plane"}), data)])
    assert [(p.host, p.setting) for p in problems] == [("cp1", "kubernetes_bundle")]
    assert "v1.36.3, not v1.35.4" in problems[0].message


def test_the_bundles_containerd_serves_where_the_os_offers_none_that_fits(
    tmp_path: Path,
) -> None:
    directory = write_bundle(tmp_path / "b")
    settings = Settings(kubernetes_package_source="bundle", kubernetes_bundle=str(directory))
    bundled = install.bundled_containerd(settings)
    assert bundled == "v2.2.1"
    debian_12 = support.find_platform("debian", "12")
    assert debian_12 is not None
    offer = support.ContainerdOffer(candidates={"containerd": "1.6.20~ds1-1+deb12u3"})
    choice = support.choose_containerd(debian_12, 35, offer, bundled)
    assert choice is not None
    assert (choice.source, choice.series) == ("bundle", "2.2")
    assert "offers containerd 1.6.20~ds1-1+deb12u3, too old" in choice.reason
    # Without the bundle the same host would need Docker's repository.
    without = support.choose_containerd(debian_12, 35, offer)
    assert without is not None and without.source == "docker"


def test_an_os_containerd_that_fits_is_kept_even_with_a_bundle() -> None:
    ubuntu = support.find_platform("ubuntu", "24.04")
    assert ubuntu is not None
    offer = support.ContainerdOffer(candidates={"containerd": "2.2.1-0ubuntu1~24.04.3"})
    choice = support.choose_containerd(ubuntu, 35, offer, "v2.2.1")
    assert choice is not None and choice.source == "os"


# -- the deploy on a @fake Debian 12 node installing from a bundle --------------------------


def test_a_debian_12_node_gets_containerd_from_the_bundle_not_from_docker(tmp_path: Path) -> None:
    bundle = offline_plan.fake_bundle(tmp_path / "bundle")
    inventory = tmp_path / "bundle_inventory.py"
    inventory.write_text(
        f"""import sys
sys.path.insert(0, {str(ROOT)!r})
from inventories.recordings import RECORDINGS
recording = RECORDINGS["debian-12"]
responses = dict(recording.fake_responses())
responses.popitem()  # the catch-all: executed commands succeed with no output
control_plane = [("@fake/node1", {{"fake_responses": responses, "fake_delay": 0,
    "fake_delay_jitter": 0, "node_network": "10.20.0.0/24",
    "private_address": recording.identity.private_ip, "etcd_device": "/dev/nvme0n1",
    "kubernetes_package_source": "bundle", "kubernetes_bundle": {str(bundle)!r},
    "stages": ["base", "kernel", "runtime"]}})]
"""
    )
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "pyinfra"),
            str(inventory),
            "deploy.py",
            "-y",
            "--debug",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYINFRA_PROGRESS": "off"},
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    commands = re.findall(r"\[fake\] simulating command on @fake/node1: (.*)", log)
    uploads = re.findall(r"\[fake\] simulating put_file on @fake/node1: (\S+)", log)
    assert "/usr/local/bin/containerd.nordkube-upload" in uploads
    assert "/usr/local/sbin/runc.nordkube-upload" in uploads
    digest = json.loads((bundle / "bundle.json").read_text())["artifacts"][0]["sha256"]
    assert any(f'if [ "$found" != {digest} ]' in command for command in commands)
    assert any(
        "mv -f /usr/local/bin/containerd.nordkube-upload /usr/local/bin/containerd" in c
        for c in commands
    )
    assert "/etc/systemd/system/containerd.service" in " ".join(uploads)
    # Nothing from Docker or pkgs.k8s.io, and no containerd package.
    assert not any("download.docker.com" in c or "pkgs.k8s.io" in c for c in commands)
    assert not any(re.search(r"apt-get install .*\bcontainerd", c) for c in commands)

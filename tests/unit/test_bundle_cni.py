"""The bundle refuses CNI plugins that could not run flannel's conflist (its cniVersion)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from nordkube import cni
from nordkube.bundle.build import check_conflist_plugins, cni_spec_versions
from nordkube.bundle.errors import BundleError
from nordkube.settings import Settings
from pyinfra_ext.templating import render


def plugin(directory: Path, name: str, answer: str) -> Path:
    """A stand-in CNI plugin: answers VERSION as a real one does, and only that."""
    path = directory / name
    path.write_text(
        "#!/bin/sh\n"
        '[ "$CNI_COMMAND" = VERSION ] || exit 7\n'
        "cat >/dev/null\n"
        f"printf '%s' '{answer}'\n"
    )
    path.chmod(0o755)
    return path


def versions(*supported: str) -> str:
    return json.dumps({"cniVersion": supported[-1], "supportedVersions": list(supported)})


def test_the_conflist_flannel_writes_carries_the_checked_version() -> None:
    values = cni.flannel_values(Settings(), ["eth1"], [1500])
    docs = list(yaml.safe_load_all(render("network", "kube-flannel.yml", **values, digest="")))
    (config,) = [doc for doc in docs if doc and doc["kind"] == "ConfigMap"]
    conflist = json.loads(config["data"]["cni-conf.json"])
    assert conflist["cniVersion"] == cni.CNI_CONF_VERSION
    assert [p["type"] for p in conflist["plugins"]] == ["flannel", "portmap"]


def test_plugins_that_support_the_version_pass(tmp_path: Path) -> None:
    # What the bundle's own plugins answer (containernetworking/plugins v0.9.1 and v1.8.0).
    old = plugin(tmp_path, "flannel", versions("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0"))
    new = plugin(tmp_path, "bridge", versions("0.3.1", "0.4.0", "1.0.0", "1.1.0"))
    assert cni_spec_versions(old)[-1] == "0.4.0"
    check_conflist_plugins({"flannel": old, "bridge": new})


def test_a_plugin_that_does_not_support_the_version_is_refused_by_name(tmp_path: Path) -> None:
    old = plugin(tmp_path, "flannel", versions("0.1.0", "0.2.0", "0.3.0", "0.3.1"))
    with pytest.raises(BundleError) as refused:
        check_conflist_plugins({"flannel": old})
    message = str(refused.value)
    assert f"CNI plugin flannel ({old}) supports CNI spec versions 0.1.0" in message
    assert f"not {cni.CNI_CONF_VERSION}" in message


def test_a_plugin_that_gives_no_version_answer_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="gave no version answer"):
        check_conflist_plugins({"portmap": plugin(tmp_path, "portmap", "not json")})

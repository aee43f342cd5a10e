"""The deploy on real VMs: converge, idempotence, drift repaired, reboot, a node down.

The tests run in file order on one lab: each builds on the state the previous one left.
"""

from __future__ import annotations

import os
import shutil

import pytest

from nordkube.bundle.cache import file_digest
from nordkube.bundle.install import bundle_dir
from nordkube.settings import Settings
from tests.lab.labtools import NODES, check, converge, nordkube, on_node

pytestmark = pytest.mark.lab


def test_first_converge_changes_every_host_and_the_node_suite_passes(lab, tmp_path):
    assert [node["name"] for node in lab["nodes"]] == list(NODES)
    result = converge()
    assert result.returncode == 0, result.output[-4000:]
    assert all(result.changed[node] > 0 for node in NODES), result.changed
    assert result.errors == {node: 0 for node in NODES}
    returncode, failures, output = check(tmp_path)
    assert (returncode, failures) == (0, set()), output[-4000:]


def test_second_converge_changes_nothing(lab):
    result = converge()
    assert result.returncode == 0, result.output[-4000:]
    assert result.changed == {node: 0 for node in NODES}, result.output[-4000:]


def test_a_bundle_file_changed_by_one_byte_is_refused_on_the_node(lab, tmp_path):
    """The node checks every uploaded bundle file against bundle.json's sha256."""
    bundle = bundle_dir(None, Settings.from_data({}, "lab").kubernetes_version)
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy, copy_function=os.link)
    damaged = copy / "bin" / "ctr"
    content = bytearray(damaged.read_bytes())
    damaged.unlink()  # a hard link into the bundle: never write through it
    content[1000] ^= 0xFF
    damaged.write_bytes(bytes(content))
    on_node("node2", "rm /usr/local/bin/ctr")
    try:
        refused = converge("--data", f"kubernetes_bundle={copy}", "--limit", "node2")
        assert refused.returncode != 0
        assert (
            f"nordkube: {damaged} (for /usr/local/bin/ctr) arrived with sha256" in refused.output
        ), refused.output[-4000:]
        assert on_node("node2", "ls /usr/local/bin/ | grep ctr || true").strip() == ""
    finally:
        # The next tests start from a converged lab, whatever happened above.
        repaired = converge()
    assert repaired.returncode == 0, repaired.output[-4000:]
    # ctr back in place (and containerd restarted with its programs changed), node2 alone.
    assert repaired.changed["node2"] >= 1, repaired.output[-4000:]
    assert (repaired.changed["node1"], repaired.changed["node3"]) == (0, 0), repaired.output[-4000:]
    node_ctr = on_node("node2", "sha256sum /usr/local/bin/ctr").split()[0]
    assert node_ctr == file_digest(bundle / "bin" / "ctr")


def test_tampering_is_reported_per_host_and_one_converge_repairs_it(lab, tmp_path):
    on_node("node1", "sysctl -qw net.ipv4.ip_forward=0")
    on_node("node1", "swapon /swapfile")
    on_node("node2", "rm /etc/modules-load.d/nordkube.conf && modprobe -r ip_vs_sh")
    on_node("node3", "systemctl stop containerd")

    returncode, failures, output = check(tmp_path)
    assert returncode != 0
    by_function = {(host, test.split("[")[0]) for host, test in failures}
    assert by_function == {
        ("node1", "test_sysctl_live"),
        ("node1", "test_swap_off_now"),
        ("node1", "test_no_active_swap_unit"),  # swapon starts a transient swapfile.swap
        ("node2", "test_module_loaded"),
        ("node2", "test_module_persisted"),
        ("node3", "test_containerd_running_and_enabled"),
    }, output[-4000:]
    assert {t for h, t in failures if t.startswith("test_sysctl_live")} == {
        "test_sysctl_live[net.ipv4.ip_forward]"
    }
    assert {t for h, t in failures if t.startswith("test_module_loaded")} == {
        "test_module_loaded[ip_vs_sh]"
    }

    result = converge()
    assert result.returncode == 0, result.output[-4000:]
    assert {node for node in NODES if result.changed[node]} == set(NODES)
    returncode, failures, output = check(tmp_path)
    assert (returncode, failures) == (0, set()), output[-4000:]


def test_every_check_is_green_after_a_reboot(lab, tmp_path):
    nordkube("lab", "stop", "node2", check=True, timeout=300)
    nordkube("lab", "start", "node2", check=True, timeout=600)
    returncode, failures, output = check(tmp_path)
    assert (returncode, failures) == (0, set()), output[-4000:]


def test_a_stopped_node_is_named_failed_while_the_others_converge(lab):
    on_node("node1", "sysctl -qw vm.overcommit_memory=0")
    nordkube("lab", "stop", "node3", check=True, timeout=300)
    try:
        result = converge()
    finally:
        nordkube("lab", "start", "node3", check=True, timeout=600)
    assert result.returncode != 0
    assert "node3" in result.output
    assert result.changed["node1"] > 0, result.output[-4000:]
    assert result.errors["node1"] == 0 and result.errors["node2"] == 0

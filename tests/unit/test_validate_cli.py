"""`nordkube validate` needs no network; the deploy stops on the same problems before any fact."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*args, cwd=ROOT):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_validate_needs_no_network():
    # A new network namespace has only a down loopback: any connection attempt fails.
    # (-r maps the caller to root in a user namespace, so this runs without root too.)
    isolate = ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-rn"]
    result = run(*isolate, str(BIN / "nordkube"), "validate", "inventories/oslo.py")
    assert result.returncode == 0, result.stderr
    assert "6 hosts, settings valid" in result.stdout


def test_validate_names_host_and_setting_of_a_broken_setting():
    result = run(
        str(BIN / "nordkube"), "validate", "inventories/oslo.py", "--data", "kube_proxy_mode=ipvz"
    )
    assert result.returncode == 1
    assert (
        "oslo-cp1, oslo-cp2, oslo-cp3, oslo-w1, oslo-w2, oslo-w3: kube_proxy_mode:" in result.stderr
    )


def write_fake_inventory(path, control_planes):
    hosts = ", ".join(
        f'("@fake/cp{i}", {{"etcd_device": "/dev/nvme0n1", "fake_delay": 0, '
        f'"fake_delay_jitter": 0, "fake_responses": {{re.compile("."): '
        f'{{"success": False, "stderr": "UNRECORDED COMMAND"}}}}}})'
        for i in range(control_planes)
    )
    path.write_text(f"import re\ncontrol_plane = [{hosts}]\n")


def test_deploy_refuses_two_etcd_hosts_before_any_command(tmp_path):
    inventory = tmp_path / "two_etcd.py"
    write_fake_inventory(inventory, 2)
    result = run(str(BIN / "pyinfra"), str(inventory), "deploy.py", "--dry")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "etcd: 2 etcd hosts (@fake/cp0, @fake/cp1)" in output
    assert "nothing was changed on any host" in output
    # Validation ran before any fact: no command reached the hosts.
    assert "UNRECORDED COMMAND" not in output
    assert "Loaded fact" not in output

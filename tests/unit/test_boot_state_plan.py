"""The deploy refuses a host whose own files would undo the persisted state at boot.

The offline matrix (inventories/matrix.py) with one host's BootConfig answer changed to list
a provider's later-sorting sysctl.d file and a modprobe.d rule that turns loading a module
into a no-op: the run must stop before any operation on any host, naming the host, each file,
key or module, and the value that would win.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from pyinfra_ext.facts import SECTION, BootConfig, marker
from tests.unit.test_matrix_plan import asked_facts, run_pyinfra

ROOT = Path(__file__).resolve().parents[2]
PLANTED = [
    f"{SECTION}sysctl.d /etc/sysctl.d/99-provider.conf -> /etc/sysctl.d/99-provider.conf",
    "# provider defaults",
    "net.ipv4.ip_forward = 0",
    "",
    f"{SECTION}modprobe.d /etc/modprobe.d/provider.conf -> /etc/modprobe.d/provider.conf",
    "install ip_vs_sh /bin/true",
    "",
]


def plan(tmp_path: Path, host: str, extra: list[str]) -> subprocess.CompletedProcess[str]:
    """`pyinfra --dry --json --debug` of the matrix where `host` also prints `extra` lines
    at the start of its BootConfig answer."""
    variant = tmp_path / "matrix_with_planted_files.py"
    variant.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from inventories import matrix\n"
        "\n"
        "def _planted(hosts):\n"
        "    for name, data in hosts:\n"
        f"        if name == {host!r}:\n"
        f"            key = {marker(BootConfig.__name__)!r}\n"
        f"            data['fake_responses'][key] = {extra!r} + data['fake_responses'][key]\n"
        "    return hosts\n"
        "\n"
        "control_plane = _planted(matrix.control_plane)\n"
        "workers = _planted(matrix.workers)\n"
    )
    return run_pyinfra("--debug", inventory=variant)


def test_a_host_with_a_winning_sysctl_file_and_a_no_op_install_rule_stops_the_run(tmp_path):
    result = plan(tmp_path, "@fake/debian-13", PLANTED)
    assert result.returncode != 0
    assert result.stdout.strip() == "", "no plan may be printed"
    assert "2 problem(s), nothing was changed on any host" in result.stderr
    assert (
        "@fake/debian-13: net.ipv4.ip_forward: /etc/sysctl.d/99-provider.conf line 2 sets 0,"
        " which wins at boot over 1 in /etc/sysctl.d/90-nordkube.conf" in result.stderr
    )
    assert (
        "@fake/debian-13: ip_vs_sh: `install ip_vs_sh /bin/true` in"
        " /etc/modprobe.d/provider.conf line 1 runs instead of loading it" in result.stderr
    )
    # Validation's facts only: no host got as far as an operation's facts.
    asked = asked_facts(result.stderr)
    assert {"NodeFacts", "KernelModules", "BootConfig"} <= asked
    assert not asked & {"FileStates", "InstalledPackages", "SwapState", "SysctlValues"}


def test_the_same_value_in_a_later_file_is_no_conflict(tmp_path):
    agreeing = [line.replace("ip_forward = 0", "ip_forward = 1") for line in PLANTED[:4]]
    result = plan(tmp_path, "@fake/debian-13", agreeing)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["plan"]

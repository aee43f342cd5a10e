"""State that holds after a reboot even where the node's own files disagree.

A fresh 1-node lab whose image, as a provider's might, carries a sysctl.d file that sorts
after the deploy's and turns forwarding off, a modprobe.d rule that makes loading ip_vs_sh a
no-op, a second swap file in fstab and a swap unit of its own. The deploy stops before any
change, naming each file, key and value; once the operator removes the two files it
converges, the swap lines are commented and the unit masked, and after a real reboot
/proc/sys, /sys/module and /proc/swaps show the project's state. Planted again on the
converged node, the node suite fails on exactly the two boot-time checks while the live
state is still right, and the next reboot does what it predicted.

Converges only the stages that persist this state (base: swap; kernel: modules and
sysctls) and judges the node suite's checks of that state; the other stages and their checks
are test_lab_deploy.py's. Runs before test_lab_deploy.py (file order) on its own lab, down
before that one starts.
"""

from __future__ import annotations

import pytest

from tests.lab.labtools import check, converge, nordkube, on_node

pytestmark = pytest.mark.lab

NODE = "node1"
STAGES = ("--data", "stages=base,kernel")
# The node suite's checks of what those stages persist (tests/node/test_sysctl.py,
# test_kernel_modules.py, test_swap.py).
CHECKS = {
    "test_sysctl_live",
    "test_sysctl_persisted",
    "test_sysctl_persisted_value_wins",
    "test_module_loaded",
    "test_module_persisted",
    "test_module_not_defeated_by_modprobe_d",
    "test_swap_off_now",
    "test_no_swap_in_fstab",
    "test_no_active_swap_unit",
}
PROVIDER_SYSCTL = "/etc/sysctl.d/99-provider.conf"
PROVIDER_MODPROBE = "/etc/modprobe.d/provider.conf"
SWAP_UNIT = "/etc/systemd/system/swapfile3.swap"
BOOT_CHECKS = {
    (NODE, "test_sysctl_persisted_value_wins[net.ipv4.ip_forward]"),
    (NODE, "test_module_not_defeated_by_modprobe_d[ip_vs_sh]"),
}


def plant_provider_files() -> None:
    on_node(NODE, f'printf "# provider defaults\\nnet.ipv4.ip_forward = 0\\n" > {PROVIDER_SYSCTL}')
    on_node(NODE, f'printf "install ip_vs_sh /bin/true\\n" > {PROVIDER_MODPROBE}')


def remove_provider_files() -> None:
    on_node(NODE, f"rm -f {PROVIDER_SYSCTL} {PROVIDER_MODPROBE}")


def plant_swap() -> None:
    """A second swap file in fstab, and a third one started by a unit of its own."""
    for number in (2, 3):
        on_node(
            NODE,
            f"dd if=/dev/zero of=/swapfile{number} bs=1M count=32 status=none && "
            f"chmod 600 /swapfile{number} && mkswap /swapfile{number} >/dev/null",
        )
    on_node(NODE, 'echo "/swapfile2 none swap sw 0 0" >> /etc/fstab')
    on_node(
        NODE,
        f'printf "[Swap]\\nWhat=/swapfile3\\n\\n[Install]\\nWantedBy=swap.target\\n" > {SWAP_UNIT}'
        " && systemctl daemon-reload && systemctl enable --now swapfile3.swap && swapon -a",
    )


def failed_checks(tmp_path) -> tuple[set[tuple[str, str]], str]:
    """`nordkube check`'s failures among CHECKS, and its output."""
    _, failures, output = check(tmp_path)
    return {(host, state) for host, state in failures if state.split("[")[0] in CHECKS}, output


def reboot() -> None:
    nordkube("lab", "stop", NODE, check=True, timeout=300)
    nordkube("lab", "start", NODE, check=True, timeout=600)


def live(path: str) -> str:
    return on_node(NODE, f"cat {path}").strip()


def has_module(module: str) -> bool:
    return on_node(NODE, f"test -d /sys/module/{module} && echo yes || echo no").strip() == "yes"


def active_swaps() -> list[str]:
    return live("/proc/swaps").splitlines()[1:]


def test_the_deploy_stops_before_any_change_naming_each_file_key_and_value(one_node_lab, tmp_path):
    assert [node["name"] for node in one_node_lab["nodes"]] == [NODE]
    plant_provider_files()
    plant_swap()
    assert len(active_swaps()) == 3

    failures, output = failed_checks(tmp_path)
    swap_checks = {(NODE, "test_no_swap_in_fstab"), (NODE, "test_no_active_swap_unit")}
    assert BOOT_CHECKS | swap_checks <= failures, output[-4000:]

    result = converge(*STAGES)
    assert result.returncode != 0
    assert "nothing was changed on any host" in result.output
    assert (
        f"{NODE}: net.ipv4.ip_forward: {PROVIDER_SYSCTL} line 2 sets 0, which wins at boot"
        " over 1 in /etc/sysctl.d/90-nordkube.conf" in result.output
    ), result.output[-4000:]
    assert (
        f"{NODE}: ip_vs_sh: `install ip_vs_sh /bin/true` in {PROVIDER_MODPROBE} line 1"
        " runs instead of loading it" in result.output
    ), result.output[-4000:]
    assert result.changed[NODE] == 0
    assert on_node(NODE, "ls /etc/sysctl.d /etc/modules-load.d").count("nordkube") == 0
    assert len(active_swaps()) == 3


def test_once_resolved_it_converges_and_a_reboot_keeps_the_projects_state(one_node_lab, tmp_path):
    remove_provider_files()
    result = converge(*STAGES)
    assert result.returncode == 0, result.output[-4000:]
    assert result.errors[NODE] == 0
    failures, output = failed_checks(tmp_path)
    assert failures == set(), output[-4000:]

    reboot()
    assert live("/proc/sys/net/ipv4/ip_forward") == "1"
    assert live("/proc/sys/net/bridge/bridge-nf-call-iptables") == "1"
    assert has_module("ip_vs_sh") and has_module("br_netfilter")
    assert active_swaps() == []
    assert "masked" in on_node(NODE, "systemctl is-enabled swapfile3.swap || true")
    failures, output = failed_checks(tmp_path)
    assert failures == set(), output[-4000:]


def test_the_suite_sees_what_the_next_boot_will_undo_and_the_boot_does_it(one_node_lab, tmp_path):
    plant_provider_files()
    failures, output = failed_checks(tmp_path)
    assert failures == BOOT_CHECKS, output[-4000:]  # the live state is still right

    reboot()
    assert live("/proc/sys/net/ipv4/ip_forward") == "0"
    assert not has_module("ip_vs_sh")

    assert converge(*STAGES).returncode != 0
    remove_provider_files()
    result = converge(*STAGES)
    assert result.returncode == 0, result.output[-4000:]
    assert live("/proc/sys/net/ipv4/ip_forward") == "1"
    assert has_module("ip_vs_sh")
    failures, output = failed_checks(tmp_path)
    assert failures == set(), output[-4000:]

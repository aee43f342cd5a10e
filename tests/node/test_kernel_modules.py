"""Kernel modules for kube-proxy and the container runtime: loaded now, and again at boot.

A module built into the kernel never shows in /proc/modules but has /sys/module/NAME, and
needs no modules-load.d entry. The conntrack module is nf_conntrack_ipv4 on old kernels
(CentOS 7, Ubuntu 18.04) and nf_conntrack later; the kernel is probed, not its version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

PERSIST_FILE = "/etc/modules-load.d/nordkube.conf"
IPVS_MODULES = ("ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh")
# Every module the deploy may load; which ones a node needs follows from its settings.
MODULES = (
    *IPVS_MODULES,
    "ip_vs_lc",
    "ip_vs_wlc",
    "nf_tables",
    "nf_conntrack",
    "nf_conntrack_ipv4",
    "br_netfilter",
    "overlay",
)


@dataclass(frozen=True)
class Kernel:
    """What the running kernel offers, read once per node."""

    builtin: frozenset[str]  # modules listed in modules.builtin
    persisted: frozenset[str] | None  # modules listed in PERSIST_FILE; None when it is missing
    has_conntrack_ipv4: bool


def _module_name(text: str) -> str:
    """`kernel/net/netfilter/nf_conntrack.ko` or `nf-conntrack` -> `nf_conntrack`."""
    return text.rsplit("/", 1)[-1].removesuffix(".ko").replace("-", "_")


@pytest.fixture(scope="module")
def kernel(host: Any, node: Any) -> Kernel:
    builtin = host.run("cat /lib/modules/$(uname -r)/modules.builtin")
    persisted = host.run("cat %s", PERSIST_FILE)
    conntrack_ipv4 = host.run(
        "test -d /sys/module/nf_conntrack_ipv4 || "
        "PATH=$PATH:/sbin:/usr/sbin modinfo nf_conntrack_ipv4 >/dev/null 2>&1"
    )
    # No modules.builtin (a kernel without module support): nothing counts as built in.
    builtin_names = builtin.stdout.split() if builtin.rc == 0 else []
    return Kernel(
        builtin=frozenset(map(_module_name, builtin_names)),
        persisted=_listed_modules(persisted.stdout) if persisted.rc == 0 else None,
        has_conntrack_ipv4=conntrack_ipv4.rc == 0,
    )


def _listed_modules(text: str) -> frozenset[str]:
    """Module names in a modules-load.d file (lines starting with # or ; are comments)."""
    lines = (line.strip() for line in text.splitlines())
    return frozenset(_module_name(line) for line in lines if line and line[0] not in "#;")


def required_modules(settings: Any, kernel: Kernel) -> set[str]:
    modules = {"nf_conntrack", "br_netfilter", "overlay"}
    if kernel.has_conntrack_ipv4:
        modules.add("nf_conntrack_ipv4")
    if settings.kube_proxy_mode == "ipvs":
        modules.update(IPVS_MODULES)
        modules.add(f"ip_vs_{settings.ipvs_scheduler}")
    elif settings.kube_proxy_mode == "nftables":
        modules.add("nf_tables")
    return modules


def skip_unless_required(module: str, node: Any, kernel: Kernel) -> None:
    if module in required_modules(node.settings, kernel):
        return
    if module == "nf_conntrack_ipv4":
        pytest.skip(f"{node}: this kernel has no nf_conntrack_ipv4 (merged into nf_conntrack)")
    mode = node.settings.kube_proxy_mode
    because = f"kube_proxy_mode {mode}"
    if mode == "ipvs":
        because += f" and ipvs_scheduler {node.settings.ipvs_scheduler}"
    pytest.skip(f"{node}: {module} is not needed with {because}")


@pytest.mark.parametrize("module", MODULES)
def test_module_loaded(host: Any, node: Any, kernel: Kernel, module: str) -> None:
    skip_unless_required(module, node, kernel)
    assert host.file(f"/sys/module/{module}").is_directory, (
        f"{node}: kernel module {module} is not loaded (no /sys/module/{module})"
    )


@pytest.mark.parametrize("module", MODULES)
def test_module_persisted(host: Any, node: Any, kernel: Kernel, module: str) -> None:
    skip_unless_required(module, node, kernel)
    if module == "nf_conntrack" and kernel.has_conntrack_ipv4:
        pytest.skip(f"{node}: loaded at boot through nf_conntrack_ipv4, which depends on it")
    if module in kernel.builtin and host.file(f"/sys/module/{module}").is_directory:
        return  # built into the kernel: present at every boot
    assert kernel.persisted is not None, (
        f"{node}: {PERSIST_FILE} is missing, so {module} is not loaded at boot"
    )
    assert module in kernel.persisted, (
        f"{node}: {module} is not listed in {PERSIST_FILE}, so it is not loaded at boot"
    )

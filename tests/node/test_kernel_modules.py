"""Kernel modules for kube-proxy and the container runtime: loaded now, and again at boot,
with no modprobe.d rule (install, blacklist, alias) that keeps one out.

A module built into the kernel never shows in /proc/modules but has /sys/module/NAME, and
needs no modules-load.d entry. The conntrack module is nf_conntrack_ipv4 on old kernels
(CentOS 7, Ubuntu 18.04) and nf_conntrack later; the kernel is probed, not its version.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
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


@dataclass(frozen=True)
class ModprobeConfig:
    """kmod's own view of the modprobe.d rules (`modprobe --showconfig`, every file already
    merged in kmod's order, `modprobe.blacklist=` of the kernel command line included), and
    the kernel's own `module_blacklist=`."""

    blacklisted: frozenset[str]
    installs: tuple[tuple[str, str], ...]  # (module glob, command), first match wins
    aliases: dict[str, str]
    kernel_refuses: frozenset[str]


@pytest.fixture(scope="module")
def modprobe_config(host: Any, node: Any) -> ModprobeConfig:
    # The module aliases of modules.alias follow the configuration; they are not rules.
    shown = host.run(
        "PATH=$PATH:/sbin:/usr/sbin modprobe --showconfig | sed '/^# End of configuration/q'"
    )
    assert shown.rc == 0, f"{node}: modprobe --showconfig failed: {shown.stderr.strip()}"
    blacklisted, installs, aliases = set(), [], {}
    for fields in (line.split(None, 2) for line in shown.stdout.splitlines()):
        if len(fields) >= 2 and fields[0] == "blacklist":
            blacklisted.add(_module_name(fields[1]))
        elif len(fields) == 3 and fields[0] == "install":
            installs.append((_module_name(fields[1]), fields[2]))
        elif len(fields) == 3 and fields[0] == "alias":
            aliases.setdefault(_module_name(fields[1]), fields[2].split()[0])
    refused: set[str] = set()
    for word in host.file("/proc/cmdline").content_string.split():
        if word.startswith("module_blacklist="):
            refused.update(map(_module_name, word.partition("=")[2].split(",")))
    return ModprobeConfig(frozenset(blacklisted), tuple(installs), aliases, frozenset(refused))


def _still_loads(command: str, module: str) -> bool:
    """An install command that runs `modprobe --ignore-install MODULE` (firewalld's pattern)."""
    words = command.replace(";", " ").replace("&", " ").replace("|", " ").split()
    return (
        any(word.rsplit("/", 1)[-1] == "modprobe" for word in words)
        and ("--ignore-install" in words or "-i" in words)
        and module in map(_module_name, words)
    )


@pytest.mark.parametrize("module", MODULES)
def test_module_not_defeated_by_modprobe_d(
    host: Any, node: Any, kernel: Kernel, modprobe_config: ModprobeConfig, module: str
) -> None:
    skip_unless_required(module, node, kernel)
    if module in kernel.builtin and host.file(f"/sys/module/{module}").is_directory:
        return  # built into the kernel: no rule keeps it out
    config = modprobe_config
    install = next((cmd for glob, cmd in config.installs if fnmatchcase(module, glob)), None)
    assert install is None or _still_loads(install, module), (
        f"{node}: modprobe.d has `install {module} {install}`, which runs instead of loading "
        f"{module} (at boot too)"
    )
    assert config.aliases.get(module, module) == module, (
        f"{node}: modprobe.d has `alias {module} {config.aliases.get(module)}`, so loading "
        f"{module} looks up another module"
    )
    assert module not in config.blacklisted, (
        f"{node}: {module} is blacklisted (modprobe.d or modprobe.blacklist=), so "
        "systemd-modules-load skips it at boot"
    )
    assert module not in config.kernel_refuses, (
        f"{node}: the kernel command line has module_blacklist={module}: the kernel refuses it"
    )

"""AlmaLinux 8 (8.10, kernel 4.18, systemd 239, cgroup v1 by default): a fresh node's answers."""

from __future__ import annotations

from typing import Any

from inventories.recordings.common import (
    CGROUP_V1,
    INOTIFY_WATCHES_BEFORE_5_11,
    MISSING,
    PROC_SWAPS_NO_SWAP_BEFORE_5_8,
    SYSCTL_BOOT_DEFAULTS,
    Identity,
    Recording,
    file_lines,
    ip_addresses,
    ip_links,
    module_states,
    rpm_containerd,
)

# /etc/os-release. Source: alisw/alibuild tests/test_utilities.py, ALMA_8_OS_RELEASE (commit
# d4b29b5).
OS_RELEASE = file_lines(
    'NAME="AlmaLinux"\n'
    'VERSION="8.10 (Cerulean Leopard)"\n'
    'ID="almalinux"\n'
    'ID_LIKE="rhel centos fedora"\n'
    'VERSION_ID="8.10"\n'
    'PLATFORM_ID="platform:el8"\n'
    'PRETTY_NAME="AlmaLinux 8.10 (Cerulean Leopard)"\n'
    'ANSI_COLOR="0;34"\n'
    'LOGO="fedora-logo-icon"\n'
    'CPE_NAME="cpe:/o:almalinux:almalinux:8::baseos"\n'
    'HOME_URL="https://almalinux.org/"\n'
    'DOCUMENTATION_URL="https://wiki.almalinux.org/"\n'
    'BUG_REPORT_URL="https://bugs.almalinux.org/"\n'
    "\n"
    'ALMALINUX_MANTISBT_PROJECT="AlmaLinux-8"\n'
    'ALMALINUX_MANTISBT_PROJECT_VERSION="8.10"\n'
    'REDHAT_SUPPORT_PRODUCT="AlmaLinux"\n'
    'REDHAT_SUPPORT_PRODUCT_VERSION="8.10"\n'
    "SUPPORT_END=2029-06-01\n"
)

# `uname -r`. Source: AlmaLinux/wiki docs/release-notes/8.10.md, "Distributed kernel version:
# 4.18.0-553.el8_10" (the x86_64 build's release string appended).
KERNEL = "4.18.0-553.el8_10.x86_64"

# Per-host values (see common.Identity): stand-ins in the real formats.
IDENTITY = Identity(
    hostname="nk-almalinux-8",
    machine_id="4e4b0000000000000000000000000004",
    product_uuid="4e4b0000-0000-4000-8000-000000000004",
    public_mac="52:54:00:00:04:01",
    private_mac="52:54:00:00:04:02",
    public_address="203.0.113.14/24",
    private_address="10.20.0.14/24",
)

# Kernel modules: RHEL 8.3 merged nf_conntrack_ipv4 into nf_conntrack while staying on 4.18
# (docs/domain.md, "Kernel modules"), so modinfo finds no nf_conntrack_ipv4. The rest: see
# common.module_states (nf_tables is not probed: nftables mode needs kernel >= 5.13).
MODULES = module_states(nf_conntrack_ipv4=MISSING)

# `modinfo -n nf_tables` (not loaded on a fresh node without firewall rules). RHEL-family
# kernels ship their modules xz-compressed under /lib/modules/<uname -r>/kernel/; nordkube
# reads only whether the line is non-empty.
NF_TABLES = [f"/lib/modules/{KERNEL}/kernel/net/netfilter/nf_tables.ko.xz"]

# ContainerdPackages: see common.rpm_containerd (the three default repositories' metadata
# cached, none offers containerd).
CONTAINERD = rpm_containerd(3)

RECORDING = Recording(
    host="@fake/almalinux-8",
    package_query="rpm",
    containerd=CONTAINERD,
    # Kernel before 5.8: the older /proc/swaps header (common.PROC_SWAPS_NO_SWAP).
    swaps=PROC_SWAPS_NO_SWAP_BEFORE_5_8,
    os_release=OS_RELEASE,
    kernel=KERNEL,
    cgroup=CGROUP_V1,  # systemd 239 mounts the hybrid hierarchy by default
    identity=IDENTITY,
    # fq_codel is the default qdisc from RHEL 8 on (systemd's sysctl default).
    links=ip_links(IDENTITY, qdisc="fq_codel"),
    # NetworkManager configures the NICs and marks its static addresses noprefixroute.
    addresses=ip_addresses(IDENTITY, flags="noprefixroute"),
    nf_tables=NF_TABLES,
    # Modelled: NetworkManager is the EL default network service (active on a fresh install).
    networkmanager=["active"],
    modules=MODULES,
    sysctls={
        **SYSCTL_BOOT_DEFAULTS,
        "fs.inotify.max_user_watches": INOTIFY_WATCHES_BEFORE_5_11,
        # RHEL kernels are built with CONFIG_PANIC_ON_OOPS=y (from the RHEL kernel config;
        # not re-checked for this build).
        "kernel.panic_on_oops": "1",
    },
    # NOT RECORDED: a representative fstab of an anaconda-installed VPS image without swap,
    # root filesystem only (UUID per host, xfs as EL's default; header comments left out,
    # nordkube skips comment lines).
    fstab=["UUID=4e4b0004-0000-4000-8000-0000000000f5 / xfs defaults 0 0"],
    # ServiceStates: `<name> <is-active> <is-enabled>`. None of these is installed: systemd
    # 239 prints "inactive" for a unit that does not exist, is-enabled prints only to
    # stderr (discarded), hence the trailing space.
    services={"containerd": "inactive ", "chrony": "inactive ", "chronyd": "inactive "},
    # Modelled: SELinux is enforcing after installation (the EL default; selinux-policy's config).
    selinux=["::nordkube:live", "Enforcing", "::nordkube:config", "SELINUX=enforcing"],
)


def fake_responses() -> dict[Any, Any]:
    return RECORDING.fake_responses()

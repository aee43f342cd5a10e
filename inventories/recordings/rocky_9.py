"""Rocky Linux 9 (9.6, kernel 5.14, systemd 252, cgroup v2): a fresh node's answers."""

from __future__ import annotations

from typing import Any

from inventories.recordings.common import (
    AVAILABLE,
    CGROUP_V2,
    INOTIFY_WATCHES_RAM_DERIVED,
    MISSING,
    SYSCTL_BOOT_DEFAULTS,
    Identity,
    Recording,
    file_lines,
    ip_addresses,
    ip_links,
    module_states,
    rpm_containerd,
)

# /etc/os-release. Source: alisw/alibuild tests/test_utilities.py, ROCKY_9_OS_RELEASE (commit
# d4b29b5).
OS_RELEASE = file_lines(
    'NAME="Rocky Linux"\n'
    'VERSION="9.6 (Blue Onyx)"\n'
    'ID="rocky"\n'
    'ID_LIKE="rhel centos fedora"\n'
    'VERSION_ID="9.6"\n'
    'PLATFORM_ID="platform:el9"\n'
    'PRETTY_NAME="Rocky Linux 9.6 (Blue Onyx)"\n'
    'ANSI_COLOR="0;32"\n'
    'LOGO="fedora-logo-icon"\n'
    'CPE_NAME="cpe:/o:rocky:rocky:9::baseos"\n'
    'HOME_URL="https://rockylinux.org/"\n'
    'VENDOR_NAME="RESF"\n'
    'VENDOR_URL="https://resf.org/"\n'
    'BUG_REPORT_URL="https://bugs.rockylinux.org/"\n'
    'SUPPORT_END="2032-05-31"\n'
    'ROCKY_SUPPORT_PRODUCT="Rocky-Linux-9"\n'
    'ROCKY_SUPPORT_PRODUCT_VERSION="9.6"\n'
    'REDHAT_SUPPORT_PRODUCT="Rocky Linux"\n'
    'REDHAT_SUPPORT_PRODUCT_VERSION="9.6"\n'
)

# `uname -r`. Source: whoisnian/static-binaries README.md, "Tested Linux" table (Rocky 9.6).
KERNEL = "5.14.0-570.17.1.el9_6.x86_64"

# Per-host values (see common.Identity): stand-ins in the real formats.
IDENTITY = Identity(
    hostname="nk-rocky-9",
    machine_id="4e4b0000000000000000000000000003",
    product_uuid="4e4b0000-0000-4000-8000-000000000003",
    public_mac="52:54:00:00:03:01",
    private_mac="52:54:00:00:03:02",
    public_address="203.0.113.13/24",
    private_address="10.20.0.13/24",
)

# Kernel modules: no nf_conntrack_ipv4 on 5.14 (merged in 4.19); nf_tables is a module, not
# loaded yet (see NF_TABLES). The rest: see common.module_states.
MODULES = module_states(nf_conntrack_ipv4=MISSING, nf_tables=AVAILABLE)

# `modinfo -n nf_tables` (not loaded on a fresh node without firewall rules). RHEL-family
# kernels ship their modules xz-compressed under /lib/modules/<uname -r>/kernel/; nordkube
# reads only whether the line is non-empty.
NF_TABLES = [f"/lib/modules/{KERNEL}/kernel/net/netfilter/nf_tables.ko.xz"]

# ContainerdPackages: see common.rpm_containerd (the three default repositories' metadata
# cached, none offers containerd).
CONTAINERD = rpm_containerd(3)

RECORDING = Recording(
    host="@fake/rocky-9",
    package_query="rpm",
    containerd=CONTAINERD,
    os_release=OS_RELEASE,
    kernel=KERNEL,
    cgroup=CGROUP_V2,  # EL9's systemd mounts the unified hierarchy
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
        "fs.inotify.max_user_watches": INOTIFY_WATCHES_RAM_DERIVED,
        # RHEL kernels are built with CONFIG_PANIC_ON_OOPS=y (from the RHEL kernel config;
        # not re-checked for this build).
        "kernel.panic_on_oops": "1",
    },
    # NOT RECORDED: a representative fstab of an anaconda-installed VPS image without swap,
    # root filesystem only (UUID per host, xfs as EL's default; header comments left out,
    # nordkube skips comment lines).
    fstab=["UUID=4e4b0003-0000-4000-8000-0000000000f5 / xfs defaults 0 0"],
    # ServiceStates: `<name> <is-active> <is-enabled>`. None of these is installed: systemd
    # 252 prints "inactive" for a unit that does not exist, is-enabled prints only to
    # stderr (discarded), hence the trailing space.
    services={"containerd": "inactive ", "chrony": "inactive ", "chronyd": "inactive "},
    # Modelled: SELinux is enforcing after installation (the EL default; selinux-policy's config).
    selinux=["::nordkube:live", "Enforcing", "::nordkube:config", "SELINUX=enforcing"],
)


def fake_responses() -> dict[Any, Any]:
    return RECORDING.fake_responses()

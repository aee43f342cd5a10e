"""CentOS 7 (7.9.2009, kernel 3.10, systemd 219, cgroup v1): a fresh node's answers.

EOL since 2024-06-30: its mirrors are gone, so the stock CentOS-Base.repo (from the
centos-release package) no longer works and nordkube rewrites it to the vault.
"""

from __future__ import annotations

from typing import Any

from inventories.recordings.common import (
    AVAILABLE,
    CGROUP_V1,
    INOTIFY_WATCHES_BEFORE_5_11,
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

# /etc/os-release as shipped by centos-release 7 (identical for every 7.x point release).
# Source: python-distro/distro tests/resources/distros/centos7/etc/os-release (commit 6caf024);
# the same lines are in pyinfra's fixture tests/facts/server.LinuxDistribution/centos-7.json.
OS_RELEASE = file_lines(
    'NAME="CentOS Linux"\n'
    'VERSION="7 (Core)"\n'
    'ID="centos"\n'
    'ID_LIKE="rhel fedora"\n'
    'VERSION_ID="7"\n'
    'PRETTY_NAME="CentOS Linux 7 (Core)"\n'
    'ANSI_COLOR="0;31"\n'
    'CPE_NAME="cpe:/o:centos:centos:7"\n'
    'HOME_URL="https://www.centos.org/"\n'
    'BUG_REPORT_URL="https://bugs.centos.org/"\n'
    "\n"
    'CENTOS_MANTISBT_PROJECT="CentOS-7"\n'
    'CENTOS_MANTISBT_PROJECT_VERSION="7"\n'
    'REDHAT_SUPPORT_PRODUCT="centos"\n'
    'REDHAT_SUPPORT_PRODUCT_VERSION="7"\n'
    "\n"
)

# `uname -r` of an updated CentOS 7.9 VM. Source: whoisnian/static-binaries README.md,
# "Tested Linux" table (kernel column = `uname --kernel-release`).
KERNEL = "3.10.0-1160.80.1.el7.x86_64"

# Per-host values (see common.Identity): stand-ins in the real formats.
IDENTITY = Identity(
    hostname="nk-centos-7",
    machine_id="4e4b0000000000000000000000000001",
    product_uuid="4e4b0000-0000-4000-8000-000000000001",
    public_mac="52:54:00:00:01:01",
    private_mac="52:54:00:00:01:02",
    public_address="203.0.113.11/24",
    private_address="10.20.0.11/24",
)

# Kernel modules: CentOS 7's 3.10 kernel still has the separate nf_conntrack_ipv4 (merged into
# nf_conntrack in 4.19; docs/domain.md, "Kernel modules"). The rest: see common.module_states.
MODULES = module_states(nf_conntrack_ipv4=AVAILABLE)

# `modinfo -n nf_tables` (not loaded on a fresh node: no firewall rules yet). RHEL kernels ship
# their modules xz-compressed under /lib/modules/<uname -r>/kernel/. That the RHEL 7 kernel
# builds nf_tables (nftables was a Technology Preview in RHEL 7) is from memory, not a
# recorded listing; nordkube reads only whether the line is non-empty.
NF_TABLES = [f"/lib/modules/{KERNEL}/kernel/net/netfilter/nf_tables.ko.xz"]

# sha256 of centos-release-7-9.2009's /etc/yum.repos.d/CentOS-Base.repo: NOT RECORDED (no
# verbatim copy of the package's file could be found). The stand-in below marks that; any real
# digest differs from nordkube's vault file's, so the plan (rewrite it) is the same. The mode
# 644 is the package's (centos-release.spec installs /etc/yum.repos.d/* with `install -m 644`).
CENTOS_BASE_REPO_DIGEST = "unrecorded-sha256-of-centos-release-7.9.2009-CentOS-Base.repo"

# ContainerdPackages: MODELLED as no cached metadata at all: the stock repositories point at
# mirrors that are gone, so yum could never fetch any (see common.rpm_containerd for what
# the repositories would offer: no containerd).
CONTAINERD = rpm_containerd(0)

RECORDING = Recording(
    host="@fake/centos-7",
    package_query="rpm",
    containerd=CONTAINERD,
    # Kernel before 5.8: the older /proc/swaps header (common.PROC_SWAPS_NO_SWAP).
    swaps=PROC_SWAPS_NO_SWAP_BEFORE_5_8,
    os_release=OS_RELEASE,
    kernel=KERNEL,
    cgroup=CGROUP_V1,  # systemd 219 mounts only the legacy hierarchy
    identity=IDENTITY,
    # RHEL 7 keeps the kernel's pfifo_fast as default qdisc (its systemd does not set fq_codel;
    # from CentOS 7 `ip` transcripts, not recorded for this image).
    links=ip_links(IDENTITY, qdisc="pfifo_fast"),
    # NetworkManager configures the NICs and marks its static addresses noprefixroute.
    addresses=ip_addresses(IDENTITY, flags="noprefixroute"),
    nf_tables=NF_TABLES,
    # Modelled: NetworkManager is EL7's default network service (enabled by the minimal
    # install).
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
    fstab=["UUID=4e4b0001-0000-4000-8000-0000000000f5 / xfs defaults 0 0"],
    # ServiceStates: `<name> <is-active> <is-enabled>`. None of these is installed. systemd 219
    # prints "unknown" for a unit it has not loaded: its systemctl asked GetUnit and printed
    # "unknown" on failure (systemd PR #2768, 2016, replaced that code; later versions print
    # "inactive"). From memory of v219's systemctl.c, not re-read here; nordkube treats both
    # as "not active". is-enabled prints only to stderr (discarded): the trailing space.
    services={"containerd": "unknown ", "chrony": "unknown ", "chronyd": "unknown "},
    # Modelled: SELinux is enforcing after installation (RHEL's default; selinux-policy's config).
    selinux=["::nordkube:live", "Enforcing", "::nordkube:config", "SELINUX=enforcing"],
    files={"/etc/yum.repos.d/CentOS-Base.repo": f"{CENTOS_BASE_REPO_DIGEST} 644"},
)


def fake_responses() -> dict[Any, Any]:
    return RECORDING.fake_responses()

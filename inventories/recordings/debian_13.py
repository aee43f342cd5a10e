"""Debian 13 (trixie 13.1, kernel 6.12, systemd 257, cgroup v2): a fresh node's answers."""

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
    apt_containerd,
    file_lines,
    ip_addresses,
    ip_links,
    module_states,
)

# /etc/os-release. Source: python-distro/distro tests/resources/distros/debian13/etc/os-release
# (commit 6caf024).
OS_RELEASE = file_lines(
    'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\n'
    'NAME="Debian GNU/Linux"\n'
    'VERSION_ID="13"\n'
    'VERSION="13 (trixie)"\n'
    "VERSION_CODENAME=trixie\n"
    "DEBIAN_VERSION_FULL=13.1\n"
    "ID=debian\n"
    'HOME_URL="https://www.debian.org/"\n'
    'SUPPORT_URL="https://www.debian.org/support"\n'
    'BUG_REPORT_URL="https://bugs.debian.org/"\n'
)

# `uname -r`. Source: whoisnian/static-binaries README.md ("Tested Linux") records
# `6.12.48+deb13-cloud-amd64` on Debian 13; this is the generic flavour's name from the same
# kernel upload (Debian builds every flavour of one upload under one ABI name). DERIVED, not
# recorded as such.
KERNEL = "6.12.48+deb13-amd64"

# Per-host values (see common.Identity): stand-ins in the real formats.
IDENTITY = Identity(
    hostname="nk-debian-13",
    machine_id="4e4b000000000000000000000000000c",
    product_uuid="4e4b0000-0000-4000-8000-00000000000c",
    public_mac="52:54:00:00:0c:01",
    private_mac="52:54:00:00:0c:02",
    public_address="203.0.113.22/24",
    private_address="10.20.0.22/24",
)

# Kernel modules: no nf_conntrack_ipv4 on 6.12 (merged into nf_conntrack in 4.19); nf_tables is a
# module, not loaded yet (see NF_TABLES). The rest: see common.module_states.
MODULES = module_states(nf_conntrack_ipv4=MISSING, nf_tables=AVAILABLE)

# `modinfo -n nf_tables` (not loaded on a fresh node without firewall rules): its path under
# /lib/modules/<uname -r>/kernel/. Debian 13 compresses them with xz (recorded:
# /lib/modules/6.12.63+deb13-amd64/kernel/net/openvswitch/openvswitch.ko.xz). nordkube reads only
# whether the line is non-empty.
NF_TABLES = [f"/lib/modules/{KERNEL}/kernel/net/netfilter/nf_tables.ko.xz"]

# ContainerdPackages: `apt-cache policy containerd containerd.io` as apt printed it for
# trixie, trixie-updates and trixie-security main (recorded with apt on a Debian machine
# for this project, 2026-12; packages.debian.org/trixie/containerd lists the same version).
CONTAINERD = apt_containerd(
    3,
    [
        "containerd:",
        "  Installed: (none)",
        "  Candidate: 1.7.24~ds1-6+deb13u1",
        "  Version table:",
        "     1.7.24~ds1-6+deb13u1 500",
        "        500 http://deb.debian.org/debian trixie/main amd64 Packages",
        "        500 http://deb.debian.org/debian-security trixie-security/main amd64 Packages",
    ],
)

RECORDING = Recording(
    host="@fake/debian-13",
    package_query="apt",
    containerd=CONTAINERD,
    os_release=OS_RELEASE,
    kernel=KERNEL,
    cgroup=CGROUP_V2,  # unified hierarchy by default from Debian 11 on
    identity=IDENTITY,
    # fq_codel: systemd's sysctl default since v217 (systemd PR #31446 recounts it), shipped by
    # Debian from 11 on (amefs/quickbox-lite PR #235: "Debian was the last one to adopt, since
    # bullseye(11)").
    links=ip_links(IDENTITY, qdisc="fq_codel"),
    addresses=ip_addresses(IDENTITY),
    nf_tables=NF_TABLES,
    # A Debian VPS image networks with ifupdown or systemd-networkd; NetworkManager is not
    # installed, and systemctl prints "inactive" for a unit that does not exist.
    networkmanager=["inactive"],
    modules=MODULES,
    sysctls={
        **SYSCTL_BOOT_DEFAULTS,
        "fs.inotify.max_user_watches": INOTIFY_WATCHES_RAM_DERIVED,
        # CONFIG_PANIC_ON_OOPS is not set in Debian's kernel config, so 0 (not re-checked for
        # this build).
        "kernel.panic_on_oops": "0",
    },
    # NOT RECORDED: a representative fstab of a VPS image without swap, root filesystem only
    # (UUID per host, ext4; header comments left out, nordkube skips comment lines).
    fstab=["UUID=4e4b000c-0000-4000-8000-0000000000f5 / ext4 errors=remount-ro 0 1"],
    # ServiceStates: `<name> <is-active> <is-enabled>`. None of these is installed: systemd
    # 257 prints "inactive" for a unit that does not exist, is-enabled prints only to
    # stderr (discarded), hence the trailing space.
    services={"containerd": "inactive ", "chrony": "inactive ", "chronyd": "inactive "},
)


def fake_responses() -> dict[Any, Any]:
    return RECORDING.fake_responses()

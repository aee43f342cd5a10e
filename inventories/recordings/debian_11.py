"""Debian 11 (bullseye, kernel 5.10, systemd 247, cgroup v2): a fresh node's answers."""

from __future__ import annotations

from typing import Any

from inventories.recordings.common import (
    CGROUP_V2,
    INOTIFY_WATCHES_BEFORE_5_11,
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

# /etc/os-release. Source: ssst0n3/docker_archive debian/11.0/README.md (commit 5a38bc4), the `cat
# /etc/os-release` of a KVM guest; the same transcript gives KERNEL below.
OS_RELEASE = file_lines(
    'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\n'
    'NAME="Debian GNU/Linux"\n'
    'VERSION_ID="11"\n'
    'VERSION="11 (bullseye)"\n'
    "VERSION_CODENAME=bullseye\n"
    "ID=debian\n"
    'HOME_URL="https://www.debian.org/"\n'
    'SUPPORT_URL="https://www.debian.org/support"\n'
    'BUG_REPORT_URL="https://bugs.debian.org/"\n'
)

# `uname -r`. Source: ssst0n3/docker_archive debian/11.0/README.md (commit 5a38bc4), `uname -a` of
# that guest.
KERNEL = "5.10.0-35-amd64"

# Per-host values (see common.Identity): stand-ins in the real formats.
IDENTITY = Identity(
    hostname="nk-debian-11",
    machine_id="4e4b000000000000000000000000000a",
    product_uuid="4e4b0000-0000-4000-8000-00000000000a",
    public_mac="52:54:00:00:0a:01",
    private_mac="52:54:00:00:0a:02",
    public_address="203.0.113.20/24",
    private_address="10.20.0.20/24",
)

# Kernel modules: no nf_conntrack_ipv4 on 5.10 (merged into nf_conntrack in 4.19). The rest: see
# common.module_states (nf_tables is not probed: nftables mode needs kernel >= 5.13).
MODULES = module_states(nf_conntrack_ipv4=MISSING)

# `modinfo -n nf_tables` (not loaded on a fresh node without firewall rules): its path under
# /lib/modules/<uname -r>/kernel/. Debian compresses modules only from 13
# on. nordkube reads only whether the line is
# non-empty.
NF_TABLES = [f"/lib/modules/{KERNEL}/kernel/net/netfilter/nf_tables.ko"]

# ContainerdPackages: `apt-cache policy containerd containerd.io` as apt printed it for
# bullseye, bullseye-updates and bullseye-security main (recorded with apt on a Debian machine
# for this project, 2026-12; packages.debian.org/bullseye/containerd lists the same version).
CONTAINERD = apt_containerd(
    3,
    [
        "containerd:",
        "  Installed: (none)",
        "  Candidate: 1.4.13~ds1-1~deb11u6",
        "  Version table:",
        "     1.4.13~ds1-1~deb11u6 500",
        "        500 http://deb.debian.org/debian-security bullseye-security/main amd64 Packages",
        "     1.4.13~ds1-1~deb11u4 500",
        "        500 http://deb.debian.org/debian bullseye/main amd64 Packages",
    ],
)

RECORDING = Recording(
    host="@fake/debian-11",
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
    # Debian's guest runs ifupdown (networking.service) and no NetworkManager (its `systemctl
    # status` in the same transcript); systemctl prints "inactive" for a missing unit.
    networkmanager=["inactive"],
    modules=MODULES,
    sysctls={
        **SYSCTL_BOOT_DEFAULTS,
        "fs.inotify.max_user_watches": INOTIFY_WATCHES_BEFORE_5_11,
        # CONFIG_PANIC_ON_OOPS is not set in Debian's kernel config, so 0 (not re-checked for
        # this build).
        "kernel.panic_on_oops": "0",
    },
    # NOT RECORDED: a representative fstab of a VPS image without swap, root filesystem only
    # (UUID per host, ext4; header comments left out, nordkube skips comment lines).
    fstab=["UUID=4e4b000a-0000-4000-8000-0000000000f5 / ext4 errors=remount-ro 0 1"],
    # ServiceStates: `<name> <is-active> <is-enabled>`. None of these is installed: systemd
    # 247 prints "inactive" for a unit that does not exist, is-enabled prints only to
    # stderr (discarded), hence the trailing space.
    services={"containerd": "inactive ", "chrony": "inactive ", "chronyd": "inactive "},
)


def fake_responses() -> dict[Any, Any]:
    return RECORDING.fake_responses()

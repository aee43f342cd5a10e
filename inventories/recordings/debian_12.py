"""Debian 12 (bookworm, kernel 6.1, systemd 252, cgroup v2): a fresh node's answers."""

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

# /etc/os-release. Source: ssst0n3/docker_archive debian/12.0/README.md (commit 5a38bc4), the `cat
# /etc/os-release` of a KVM guest; the same transcript gives KERNEL below.
OS_RELEASE = file_lines(
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'
    'NAME="Debian GNU/Linux"\n'
    'VERSION_ID="12"\n'
    'VERSION="12 (bookworm)"\n'
    "VERSION_CODENAME=bookworm\n"
    "ID=debian\n"
    'HOME_URL="https://www.debian.org/"\n'
    'SUPPORT_URL="https://www.debian.org/support"\n'
    'BUG_REPORT_URL="https://bugs.debian.org/"\n'
)

# `uname -r`. Source: ssst0n3/docker_archive debian/12.0/README.md (commit 5a38bc4), `uname -a` of
# that guest.
KERNEL = "6.1.0-34-amd64"

# Per-host values (see common.Identity): stand-ins in the real formats.
IDENTITY = Identity(
    hostname="nk-debian-12",
    machine_id="4e4b000000000000000000000000000b",
    product_uuid="4e4b0000-0000-4000-8000-00000000000b",
    public_mac="52:54:00:00:0b:01",
    private_mac="52:54:00:00:0b:02",
    public_address="203.0.113.21/24",
    private_address="10.20.0.21/24",
)

# Kernel modules: no nf_conntrack_ipv4 on 6.1 (merged into nf_conntrack in 4.19); nf_tables is a
# module, not loaded yet (see NF_TABLES). The rest: see common.module_states.
MODULES = module_states(nf_conntrack_ipv4=MISSING, nf_tables=AVAILABLE)

# `modinfo -n nf_tables` (not loaded on a fresh node without firewall rules): its path under
# /lib/modules/<uname -r>/kernel/. Debian compresses modules only from 13
# on. nordkube reads only whether the line is
# non-empty.
NF_TABLES = [f"/lib/modules/{KERNEL}/kernel/net/netfilter/nf_tables.ko"]

# ContainerdPackages: `apt-cache policy containerd containerd.io` as apt printed it for
# bookworm, bookworm-updates and bookworm-security main (recorded with apt on a Debian machine
# for this project, 2026-12; packages.debian.org/bookworm/containerd lists the same version).
CONTAINERD = apt_containerd(
    3,
    [
        "containerd:",
        "  Installed: (none)",
        "  Candidate: 1.6.20~ds1-1+deb12u3",
        "  Version table:",
        "     1.6.20~ds1-1+deb12u3 500",
        "        500 http://deb.debian.org/debian bookworm/main amd64 Packages",
        "     1.6.20~ds1-1+deb12u2 500",
        "        500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages",
    ],
)

RECORDING = Recording(
    host="@fake/debian-12",
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
        "fs.inotify.max_user_watches": INOTIFY_WATCHES_RAM_DERIVED,
        # CONFIG_PANIC_ON_OOPS is not set in Debian's kernel config, so 0 (not re-checked for
        # this build).
        "kernel.panic_on_oops": "0",
    },
    # NOT RECORDED: a representative fstab of a VPS image without swap, root filesystem only
    # (UUID per host, ext4; header comments left out, nordkube skips comment lines).
    fstab=["UUID=4e4b000b-0000-4000-8000-0000000000f5 / ext4 errors=remount-ro 0 1"],
    # ServiceStates: `<name> <is-active> <is-enabled>`. None of these is installed: systemd
    # 252 prints "inactive" for a unit that does not exist, is-enabled prints only to
    # stderr (discarded), hence the trailing space.
    services={"containerd": "inactive ", "chrony": "inactive ", "chronyd": "inactive "},
)


def fake_responses() -> dict[Any, Any]:
    return RECORDING.fake_responses()

"""Ubuntu 18.04 (18.04.6, kernel 4.15, systemd 237, cgroup v1 by default): a fresh node."""

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
    apt_containerd,
    file_lines,
    ip_addresses,
    ip_links,
    module_states,
)

# /etc/os-release. Source: ssst0n3/docker_archive ubuntu/18.04/README.md (commit 5a38bc4), the `cat
# /etc/os-release` of a KVM guest; the same transcript gives KERNEL below.
OS_RELEASE = file_lines(
    'NAME="Ubuntu"\n'
    'VERSION="18.04.6 LTS (Bionic Beaver)"\n'
    "ID=ubuntu\n"
    "ID_LIKE=debian\n"
    'PRETTY_NAME="Ubuntu 18.04.6 LTS"\n'
    'VERSION_ID="18.04"\n'
    'HOME_URL="https://www.ubuntu.com/"\n'
    'SUPPORT_URL="https://help.ubuntu.com/"\n'
    'BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"\n'
    'PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"\n'
    "VERSION_CODENAME=bionic\n"
    "UBUNTU_CODENAME=bionic\n"
)

# `uname -r`. Source: ssst0n3/docker_archive ubuntu/18.04/README.md (commit 5a38bc4), `uname -a` of
# that guest.
KERNEL = "4.15.0-213-generic"

# Per-host values (see common.Identity): stand-ins in the real formats.
IDENTITY = Identity(
    hostname="nk-ubuntu-18.04",
    machine_id="4e4b0000000000000000000000000006",
    product_uuid="4e4b0000-0000-4000-8000-000000000006",
    public_mac="52:54:00:00:06:01",
    private_mac="52:54:00:00:06:02",
    public_address="203.0.113.16/24",
    private_address="10.20.0.16/24",
)

# Kernel modules: 4.15 still has the separate nf_conntrack_ipv4 (merged into nf_conntrack in
# 4.19; docs/domain.md, "Kernel modules"). The rest: see common.module_states (nf_tables is not
# probed: nftables mode needs kernel >= 5.13).
MODULES = module_states(nf_conntrack_ipv4=AVAILABLE)

# `modinfo -n nf_tables` (not loaded on a fresh node without firewall rules): its path under
# /lib/modules/<uname -r>/kernel/. Ubuntu's modules are not compressed (a recorded `modinfo ip_vs`
# on 22.04 prints .../ipvs/ip_vs.ko). nordkube reads only whether the line is non-empty.
NF_TABLES = [f"/lib/modules/{KERNEL}/kernel/net/netfilter/nf_tables.ko"]

# ContainerdPackages: containerd 1.6.12-0ubuntu1~18.04.1 is the candidate from bionic-updates
# (packages.ubuntu.com/bionic-updates/containerd; seen as the containerd docker.io
# 20.10.21-0ubuntu1~18.04 installs with, in install transcripts). `apt-cache policy` prints its
# version table next (left out: nordkube reads only Installed and Candidate). The list count is
# MODELLED (main, restricted, universe, multiverse of bionic, -updates, -security and
# -backports).
CONTAINERD = apt_containerd(
    16,
    [
        "containerd:",
        "  Installed: (none)",
        "  Candidate: 1.6.12-0ubuntu1~18.04.1",
        "  Version table:",
    ],
)

RECORDING = Recording(
    host="@fake/ubuntu-18.04",
    package_query="apt",
    containerd=CONTAINERD,
    # Kernel before 5.8: the older /proc/swaps header (common.PROC_SWAPS_NO_SWAP).
    swaps=PROC_SWAPS_NO_SWAP_BEFORE_5_8,
    os_release=OS_RELEASE,
    kernel=KERNEL,
    cgroup=CGROUP_V1,  # systemd 237 mounts the hybrid hierarchy by default
    identity=IDENTITY,
    # fq_codel: systemd's sysctl default since v217 (systemd PR #31446 recounts it), shipped by
    # Ubuntu's systemd.
    links=ip_links(IDENTITY, qdisc="fq_codel"),
    addresses=ip_addresses(IDENTITY),
    nf_tables=NF_TABLES,
    # Ubuntu Server configures its NICs with netplan and systemd-networkd; NetworkManager is
    # not installed, and systemctl prints "inactive" for a unit that does not exist.
    networkmanager=["inactive"],
    modules=MODULES,
    sysctls={
        **SYSCTL_BOOT_DEFAULTS,
        "fs.inotify.max_user_watches": INOTIFY_WATCHES_BEFORE_5_11,
        # CONFIG_PANIC_ON_OOPS is not set in Ubuntu's kernel config, so 0 (not re-checked for
        # this build).
        "kernel.panic_on_oops": "0",
    },
    # NOT RECORDED: a representative fstab of a VPS image without swap, root filesystem only
    # (UUID per host, ext4; header comments left out, nordkube skips comment lines).
    fstab=["UUID=4e4b0006-0000-4000-8000-0000000000f5 / ext4 errors=remount-ro 0 1"],
    # ServiceStates: `<name> <is-active> <is-enabled>`. None of these is installed: systemd
    # 237 prints "inactive" for a unit that does not exist, is-enabled prints only to
    # stderr (discarded), hence the trailing space.
    services={"containerd": "inactive ", "chrony": "inactive ", "chronyd": "inactive "},
)


def fake_responses() -> dict[Any, Any]:
    return RECORDING.fake_responses()

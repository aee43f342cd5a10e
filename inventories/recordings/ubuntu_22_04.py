"""Ubuntu 22.04 (22.04.5, kernel 5.15, systemd 249, cgroup v2): a fresh node's answers."""

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

# /etc/os-release. Source: ssst0n3/docker_archive ubuntu/22.04/README.md (commit 5a38bc4), the `cat
# /etc/os-release` of a KVM guest; the same transcript gives KERNEL below.
OS_RELEASE = file_lines(
    'PRETTY_NAME="Ubuntu 22.04.5 LTS"\n'
    'NAME="Ubuntu"\n'
    'VERSION_ID="22.04"\n'
    'VERSION="22.04.5 LTS (Jammy Jellyfish)"\n'
    "VERSION_CODENAME=jammy\n"
    "ID=ubuntu\n"
    "ID_LIKE=debian\n"
    'HOME_URL="https://www.ubuntu.com/"\n'
    'SUPPORT_URL="https://help.ubuntu.com/"\n'
    'BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"\n'
    'PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"\n'
    "UBUNTU_CODENAME=jammy\n"
)

# `uname -r`. Source: ssst0n3/docker_archive ubuntu/22.04/README.md (commit 5a38bc4), `uname -a` of
# that guest.
KERNEL = "5.15.0-139-generic"

# Per-host values (see common.Identity): stand-ins in the real formats.
IDENTITY = Identity(
    hostname="nk-ubuntu-22.04",
    machine_id="4e4b0000000000000000000000000008",
    product_uuid="4e4b0000-0000-4000-8000-000000000008",
    public_mac="52:54:00:00:08:01",
    private_mac="52:54:00:00:08:02",
    public_address="203.0.113.18/24",
    private_address="10.20.0.18/24",
)

# Kernel modules: no nf_conntrack_ipv4 on 5.15 (merged into nf_conntrack in 4.19); nf_tables is a
# module, not loaded yet (see NF_TABLES). The rest: see common.module_states.
MODULES = module_states(nf_conntrack_ipv4=MISSING, nf_tables=AVAILABLE)

# `modinfo -n nf_tables` (not loaded on a fresh node without firewall rules): its path under
# /lib/modules/<uname -r>/kernel/. Ubuntu's modules are not compressed (a recorded `modinfo ip_vs`
# on 22.04 prints .../ipvs/ip_vs.ko). nordkube reads only whether the line is non-empty.
NF_TABLES = [f"/lib/modules/{KERNEL}/kernel/net/netfilter/nf_tables.ko"]

# ContainerdPackages: containerd 2.2.1-0ubuntu1~22.04.2 is the candidate from
# jammy-updates/main and jammy-security/main (packages.ubuntu.com/jammy-updates/containerd; the
# index as quoted in a deployment log). `apt-cache policy` prints its version table next (left
# out: nordkube reads only Installed and Candidate). The list count is MODELLED (main,
# restricted, universe, multiverse of jammy, -updates, -security and -backports).
CONTAINERD = apt_containerd(
    16,
    [
        "containerd:",
        "  Installed: (none)",
        "  Candidate: 2.2.1-0ubuntu1~22.04.2",
        "  Version table:",
    ],
)

RECORDING = Recording(
    host="@fake/ubuntu-22.04",
    package_query="apt",
    containerd=CONTAINERD,
    os_release=OS_RELEASE,
    kernel=KERNEL,
    cgroup=CGROUP_V2,  # unified hierarchy by default from Ubuntu 21.10 on
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
        "fs.inotify.max_user_watches": INOTIFY_WATCHES_RAM_DERIVED,
        # CONFIG_PANIC_ON_OOPS is not set in Ubuntu's kernel config, so 0 (not re-checked for
        # this build).
        "kernel.panic_on_oops": "0",
    },
    # NOT RECORDED: a representative fstab of a VPS image without swap, root filesystem only
    # (UUID per host, ext4; header comments left out, nordkube skips comment lines).
    fstab=["UUID=4e4b0008-0000-4000-8000-0000000000f5 / ext4 errors=remount-ro 0 1"],
    # ServiceStates: `<name> <is-active> <is-enabled>`. None of these is installed: systemd
    # 249 prints "inactive" for a unit that does not exist, is-enabled prints only to
    # stderr (discarded), hence the trailing space.
    services={"containerd": "inactive ", "chrony": "inactive ", "chronyd": "inactive "},
)


def fake_responses() -> dict[Any, Any]:
    return RECORDING.fake_responses()

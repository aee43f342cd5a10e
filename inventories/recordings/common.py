"""What every recording shares, and how a recording becomes a host's `fake_responses`.

A recording is what a freshly provisioned node of one OS release prints for each fact command
nordkube sends while planning (roles/facts.py). The per-OS modules hold the pieces with their
sources; this module holds the pieces that are the same everywhere (their formats come from
the kernel, iproute2, systemd and coreutils) and `Recording.fake_responses`, which pairs each
fact command with its output.

The matchers are the fact classes' own commands, built with the same arguments the deploy
passes (roles/operations.py's MANAGED_FILES and MANAGED_SERVICES, nordkube/node.py's module
and sysctl lists), so a recording answers exactly the command a real node would be asked.
A command the recording cannot answer (a new fact, a module or file nobody recorded) falls
through to the catch-all, which fails loudly and names the command.

Modelled state, the same for every OS: a node just provisioned from the distribution's image,
before nordkube ran: none of the packages nordkube installs is present (so dpkg-query and rpm
print nothing for them), none of nordkube's files exists, no swap is configured, no kernel
module nordkube needs is loaded yet, and the kernel parameters have their boot defaults.
Provider images differ in what they preinstall (curl, ca-certificates, chrony...); with such a
package present dpkg-query/rpm would print its line and the plan would install fewer
packages, but no decision the matrix tests would change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pyinfra.facts.server import TmpDir

from nordkube import node
from nordkube.managed import MANAGED_FILES, MANAGED_SERVICES
from nordkube.settings import IPVS_SCHEDULERS, KUBE_PROXY_MODES, Settings
from pyinfra_ext.facts import (
    SECTION,
    BootConfig,
    ClusterState,
    ContainerdPackages,
    EtcdDiskState,
    FileStates,
    InstalledPackages,
    KernelModules,
    KubeadmState,
    NodeFacts,
    SelinuxState,
    ServiceStates,
    SwapState,
    SysctlValues,
    marker,
)

# The header each fact command echoes before a section's output (roles/facts.py `_section`):
# it is part of the command's own output, so it is part of every recording.

# /proc/swaps with no swap active is its header line alone (Linux mm/swapfile.c, swap_show()).
# Since Linux 5.8 Size and Used are followed by two tabs, "Filename\t\t\t\tType\t\tSize\t\t
# Used\t\tPriority"; before 5.8 by one, "Filename\t\t\t\tType\t\tSize\tUsed\tPriority" (the
# form since Linux 2.4.16's "mm/swapfile.c/get_swaparea_info - a cosmetic change"). The
# per-OS modules of kernels before 5.8 (3.10, 4.15, 4.18, 5.4) use the older one; RHEL 8's
# 4.18 is taken by its version (whether Red Hat backported the 5.8 change is not checked).
# SwapState skips the header either way.
PROC_SWAPS_NO_SWAP = ["Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority"]
PROC_SWAPS_NO_SWAP_BEFORE_5_8 = ["Filename\t\t\t\tType\t\tSize\tUsed\tPriority"]

# `systemctl list-unit-files --type=swap --no-legend` on a host without swap units: nothing
# (--no-legend drops the header and the "0 unit files listed." footer; systemctl(1)).
NO_SWAP_UNITS: list[str] = []

# ServiceStates' line for a service that is not installed, for the services a recording does
# not list (the kubelet on a fresh node): systemd prints "inactive" for a unit that does not
# exist, and `systemctl is-enabled` prints to stderr only (discarded), hence the trailing space
# (the per-OS modules record the same for containerd).
SERVICE_NOT_INSTALLED = "inactive "

# MODELLED, the same for every OS: EtcdDiskState of a VPS's extra NVMe volume as the provider
# hands it over: a whole disk (lsblk TYPE disk, TRAN nvme) without partitions or a mount
# point (lsblk -r prints the name and an empty MOUNTPOINT), blank, so blkid and wipefs print
# nothing; /var/lib/etcd does not exist, fstab has no line for
# it, no gate result is stored and fio is not installed yet. wipefs read the disk (status 0)
# and found no signature.
ETCD_DISK_BLANK_NVME = [
    f"{SECTION}device",
    "/dev/nvme0n1",
    f"{SECTION}type",
    "disk",
    f"{SECTION}transport",
    "nvme",
    f"{SECTION}tree",
    "status 0",
    "/dev/nvme0n1 ",
    f"{SECTION}blkid",
    f"{SECTION}wipefs",
    "status 0",
    f"{SECTION}at-mount",
    f"{SECTION}mount-content",
    f"{SECTION}fstab",
    f"{SECTION}gate",
    f"{SECTION}fio",
]

# MODELLED, the same for every OS: KubeadmState on a node kubeadm never ran on. None of
# kubeadm's files exists, so the file and admin.conf sections are empty; `systemctl is-active
# kubelet` prints "inactive" (no such unit); kubeadm and kubelet are not installed, so their
# version commands print nothing (their errors are discarded); without the kubelet's own
# kubeconfig its node's Ready condition is not asked.
KUBEADM_STATE_FRESH = [
    f"{SECTION}files",
    f"{SECTION}admin-sha256",
    f"{SECTION}kubelet",
    "inactive",
    f"{SECTION}kubeadm",
    f"{SECTION}kubelet-version",
    f"{SECTION}ready",
]
# MODELLED: ClusterState where /etc/kubernetes/admin.conf does not exist prints nothing (the
# command asks the API only when it is there).
CLUSTER_STATE_NO_ADMIN_CONF: list[str] = []

# `cgroup` section: `stat -fc %T /sys/fs/cgroup/` prints the filesystem type's name (coreutils
# src/stat.c human_fstype): "tmpfs" where systemd mounts the legacy/hybrid hierarchy (cgroup
# v1: a tmpfs holding one mount per controller), "cgroup2fs" where it mounts the unified
# hierarchy (cgroup v2). Which one an OS boots with: docs/domain.md ("Swap, SELinux, cgroups").
CGROUP_V1 = "tmpfs"
CGROUP_V2 = "cgroup2fs"

# Kernel parameters with their boot defaults (SysctlValues prints `path=value` for each readable
# key). Sources: Documentation/networking/ip-sysctl.rst (ip_forward: 0, "disabled (default)");
# Documentation/admin-guide/sysctl/vm.rst (overcommit_memory: 0 is the default);
# fs/notify/inotify/inotify_user.c (max_user_instances: 128); kernel/panic.c (panic =
# CONFIG_PANIC_TIMEOUT, 0 in the Debian, Ubuntu and RHEL configs; not re-checked per build). The
# net.bridge.* keys are absent: /proc/sys/net/bridge exists only once br_netfilter is loaded
# (docs/domain.md, "Kernel parameters"), and on a fresh node it is not. The per-OS modules add
# max_user_watches and panic_on_oops.
SYSCTL_BOOT_DEFAULTS = {
    "net.ipv4.ip_forward": "0",
    "fs.inotify.max_user_instances": "128",
    "kernel.panic": "0",
    "vm.overcommit_memory": "0",
}

# fs.inotify.max_user_watches before Linux 5.11: the fixed default 8192
# (fs/notify/inotify/inotify_user.c). Since 5.11 (commit "inotify: Increase default
# inotify.max_user_watches limit to 1048576") the kernel derives it from RAM: 1% of memory
# divided by the cost of one watch, clamped to 8192..1048576, so on those kernels it is
# per-host; the per-OS modules say which they use.
INOTIFY_WATCHES_BEFORE_5_11 = "8192"
# NOT RECORDED: a stand-in for a 5.11+ kernel on a VPS with a few GiB of RAM (the exact value
# depends on the host's RAM and on the kernel's struct sizes). Any value below 1048576, which
# every VPS under roughly 100 GiB of RAM gets, leads to the same plan.
INOTIFY_WATCHES_RAM_DERIVED = "31566"


def apt_containerd(lists: int, policy: list[str]) -> list[str]:
    """ContainerdPackages' answer on apt: how many package lists apt has (MODELLED: the
    distribution's default sources, one Packages list per suite and component), and
    `apt-cache policy containerd containerd.io` (per-OS, sourced). containerd.io prints
    nothing: Docker's repository is not configured on a fresh node."""
    return _sections([("metadata", [str(lists)]), ("policy", policy)])


def rpm_containerd(repositories: int) -> list[str]:
    """ContainerdPackages' answer on EL: neither package installed, and the cached metadata
    of the distribution's repositories (MODELLED: their count, metadata cached as after the
    image's own `dnf makecache`) offers neither: containerd is in no repository of RHEL and
    its rebuilds (Rocky, Alma, CentOS 7: BaseOS/AppStream/extras, base/updates/extras), which
    is why Docker's and the Kubernetes docs install containerd.io from Docker's repository."""
    return _sections([("metadata", [str(repositories)]), ("installed", []), ("available", [])])


# The states KernelModules prints per module (roles/facts.py): "loaded" (in /proc/modules),
# "builtin" (in modules.builtin), "available" (modinfo finds it), "missing".
AVAILABLE = "available"
MISSING = "missing"


def module_states(nf_conntrack_ipv4: str, nf_tables: str | None = None) -> dict[str, str]:
    """KernelModules' answer for every module a kube-proxy mode may ask about (MODELLED).

    Modelled, not recorded from one machine: on a fresh node none is loaded, and in the Debian,
    Ubuntu and RHEL-family kernel configs the IPVS core and schedulers, nf_conntrack,
    br_netfilter and overlay are modules (=m), so modinfo finds them: "available"
    (docs/domain.md, "Kernel modules"; e.g. a recorded `modinfo ip_vs` on Ubuntu 22.04 prints
    /lib/modules/5.15.0-73-generic/kernel/net/netfilter/ipvs/ip_vs.ko). Per OS: whether
    nf_conntrack_ipv4 still exists (kernels before 4.19, except RHEL 8 which merged it on 4.18),
    and nf_tables, recorded only where kube-proxy's nftables mode can pass validation (kernel >=
    5.13); elsewhere that probe is never sent.
    """
    states = {
        module: AVAILABLE
        for module in (
            "ip_vs",
            "ip_vs_rr",
            "ip_vs_wrr",
            "ip_vs_sh",
            "ip_vs_lc",
            "ip_vs_wlc",
            "nf_conntrack",
            "br_netfilter",
            "overlay",
        )
    }
    states["nf_conntrack_ipv4"] = nf_conntrack_ipv4
    if nf_tables is not None:
        states["nf_tables"] = nf_tables
    return states


@dataclass(frozen=True)
class Identity:
    """What differs per host by nature: names, ids and addresses.

    Not recorded anywhere: each value is a documentation-style stand-in in the format the
    real file or command prints. hostname: /proc/sys/kernel/hostname; machine-id: 32 lower-case
    hex digits (machine-id(5)); product_uuid: the SMBIOS UUID as the kernel prints it (lower-case
    8-4-4-4-12); MACs in QEMU's 52:54:00 prefix (what a KVM host gives virtio NICs); the public
    address from RFC 5737's TEST-NET-3, the private one inside the matrix's node_network.
    """

    hostname: str
    machine_id: str
    product_uuid: str
    public_mac: str
    private_mac: str
    public_address: str
    private_address: str

    @property
    def private_ip(self) -> str:
        return self.private_address.split("/")[0]


def ip_links(identity: Identity, qdisc: str) -> list[str]:
    """`ip -o link show` for lo, eth0 (public) and eth1 (private, the provider's network).

    Format: iproute2's one-line output, fields of a record joined by a backslash, as recorded
    e.g. in pyinfra's own fixture hardware.NetworkDevices/linux_ip.json (multi-line form) and
    in `ip -o link` transcripts ("2: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc ...
    state UP mode DEFAULT group default qlen 1000\\    link/ether ... brd ff:ff:ff:ff:ff:ff").
    The interface names, MTU and MACs are the provider's (per host; the matrix assumes a
    provider whose images name NICs eth0/eth1, as inventories/oslo.py does). `qdisc` is the
    distribution's default (see the per-OS modules). Newer iproute2/kernels append fields
    (altname, promiscuity...) that nordkube does not read; they are left out.
    """
    return [
        "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT"
        " group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
        f"2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc {qdisc} state UP mode DEFAULT"
        f" group default qlen 1000\\    link/ether {identity.public_mac} brd ff:ff:ff:ff:ff:ff",
        f"3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc {qdisc} state UP mode DEFAULT"
        f" group default qlen 1000\\    link/ether {identity.private_mac} brd ff:ff:ff:ff:ff:ff",
    ]


def ip_addresses(identity: Identity, flags: str = "") -> list[str]:
    """`ip -o addr show`: the IPv4 address of each interface (iproute2's one-line format).

    `flags` are what the network manager adds to a static address ("noprefixroute" where
    NetworkManager configures it). IPv6 lines (::1 on lo, fe80:: on each NIC) are left out:
    their form depends on the image's address generation mode and nordkube reads only the
    IPv4 private address here.
    """
    flag = f"{flags} " if flags else ""

    def line(index: int, name: str, address: str) -> str:
        broadcast = address.split("/")[0].rsplit(".", 1)[0] + ".255"
        return (
            f"{index}: {name}    inet {address} brd {broadcast} scope global {flag}{name}\\"
            "       valid_lft forever preferred_lft forever"
        )

    return [
        "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever",
        line(2, "eth0", identity.public_address),
        line(3, "eth1", identity.private_address),
    ]


def file_lines(text: str) -> list[str]:
    """The lines `cat` prints for a file with exactly this content (ending in a newline)."""
    assert text.endswith("\n"), "give the file's whole content, final newline included"
    return text[:-1].split("\n")


def _sections(parts: list[tuple[str, list[str]]]) -> list[str]:
    lines: list[str] = []
    for name, output in parts:
        lines.append(f"{SECTION}{name}")
        lines.extend(output)
    return lines


def _proxy_settings() -> list[Settings]:
    """Every kube-proxy mode/scheduler combination (each asks for its own module list)."""
    return [
        Settings(kube_proxy_mode=mode, ipvs_scheduler=scheduler)
        for mode in KUBE_PROXY_MODES
        for scheduler in IPVS_SCHEDULERS
    ]


@dataclass(frozen=True)
class Recording:
    """One OS release's answers to nordkube's fact commands (see the per-OS modules)."""

    host: str
    # "apt" (dpkg-query) or "rpm": which query InstalledPackages sends.
    package_query: str
    os_release: list[str]
    kernel: str
    cgroup: str
    identity: Identity
    links: list[str]
    addresses: list[str]
    nf_tables: list[str]
    networkmanager: list[str]
    # module -> state, for every module any kube-proxy mode may ask about.
    modules: dict[str, str]
    # readable key -> value (keys that do not exist on the host are absent).
    sysctls: dict[str, str]
    fstab: list[str]
    # service -> the rest of ServiceStates' line: "<is-active> <is-enabled>".
    services: dict[str, str]
    # SelinuxState's output on EL; None where SELinux is not used (the fact is not asked).
    selinux: list[str] | None = None
    # path -> "<sha256> <mode>" for the managed files that exist on the fresh node.
    files: dict[str, str] = field(default_factory=dict)
    # ContainerdPackages' output (apt_containerd or rpm_containerd).
    containerd: list[str] = field(default_factory=list)
    swaps: list[str] = field(default_factory=lambda: list(PROC_SWAPS_NO_SWAP))
    swap_units: list[str] = field(default_factory=lambda: list(NO_SWAP_UNITS))

    def node_facts(self) -> list[str]:
        identity = self.identity
        return _sections(
            [
                ("os-release", self.os_release),
                ("kernel", [self.kernel]),
                ("cgroup", [self.cgroup]),
                ("hostname", [identity.hostname]),
                ("machine-id", [identity.machine_id]),
                ("product-uuid", [identity.product_uuid]),
                ("links", self.links),
                ("addresses", self.addresses),
                ("nf_tables", self.nf_tables),
                ("networkmanager", self.networkmanager),
            ]
        )

    def boot_config(self) -> list[str]:
        """BootConfig's output. MODELLED, the same for every OS: no sysctl.d or modprobe.d
        file is listed. That plans as the distributions' own files do, since none of them sets
        a key nordkube persists or has an install, blacklist or alias rule for a module it
        loads. Seen on the lab's images: Debian 12 has 99-sysctl.conf -> /etc/sysctl.conf (all
        comments), 50-pid-max.conf and 99-protect-links.conf; Debian 13 has
        10-coredump-debian.conf, 50-default.conf and 50-pid-max.conf (recorded in
        tests/unit/facts/BootConfig/debian-13-lab.json); both have aliases.conf,
        fbdev-blacklist.conf and systemd.conf in modprobe.d (options, softdeps, framebuffer
        drivers' blacklist). The kernel command line is the form GRUB boots the
        distribution's kernel with."""
        cmdline = f"BOOT_IMAGE=/boot/vmlinuz-{self.kernel} root=/dev/vda1 ro"
        return _sections([("cmdline", [cmdline])])

    def installed_packages(self) -> list[str]:
        # Nothing nordkube installs is present: dpkg-query prints nothing on stdout for a
        # package it has never seen (only "no packages found matching" on stderr, discarded);
        # rpm -q prints "package X is not installed", which the command filters out; the
        # versionlock lists do not exist before the plugin is installed (cat's error is
        # discarded). What remains are the section headers the command echoes itself.
        if self.package_query == "apt":
            return _sections([("packages", [])])
        return _sections([("packages", []), ("locks", [])])

    def fake_responses(self) -> dict[Any, Any]:
        """The host's fake_responses: each fact command with its output, then the catch-all."""
        responses: dict[Any, Any] = {
            marker(NodeFacts.__name__): self.node_facts(),
            FileStates().command(paths=MANAGED_FILES): [
                f"{self.files[path]} {path}" for path in MANAGED_FILES if path in self.files
            ],
            # Matched on the marker alone: with nothing installed the output is the same for
            # any package list the deploy asks about.
            marker(InstalledPackages.__name__): self.installed_packages(),
            ServiceStates().command(services=MANAGED_SERVICES): [
                f"{service} {self.services.get(service, SERVICE_NOT_INSTALLED)}"
                for service in MANAGED_SERVICES
            ],
            marker(SwapState.__name__): _sections(
                [
                    ("swaps", self.swaps),
                    ("fstab", self.fstab),
                    ("unit-files", self.swap_units),
                    # A fresh image has no swap unit file of its own in /etc/systemd/system.
                    ("unit-files-in-etc", []),
                ]
            ),
        }
        if self.selinux is not None:
            responses[marker(SelinuxState.__name__)] = self.selinux
        responses[marker(ContainerdPackages.__name__)] = self.containerd
        responses[marker(BootConfig.__name__)] = self.boot_config()
        responses[marker(KubeadmState.__name__)] = KUBEADM_STATE_FRESH
        responses[marker(EtcdDiskState.__name__)] = ETCD_DISK_BLANK_NVME
        responses[marker(ClusterState.__name__)] = CLUSTER_STATE_NO_ADMIN_CONF
        for modules in self._module_lists():
            responses[KernelModules().command(modules=modules)] = [
                f"{module} {self.modules[module]}" for module in modules
            ]
        # pyinfra's own server.TmpDir, asked when an upload command is built (execution, or a
        # full command listing; planning stops at each operation's first command). Commands
        # run through sudo, whose env_reset drops TMPDIR, TMP and TEMP, and none of these
        # distributions sets them for root: the fact's `echo ""` prints one empty line.
        responses[TmpDir().command()] = [""]
        keys = tuple(node.SYSCTLS)
        responses[SysctlValues().command(keys=keys)] = [
            f"/proc/sys/{key.replace('.', '/')}={self.sysctls[key]}"
            for key in keys
            if key in self.sysctls
        ]
        # Anything else fails, so pyinfra drops the host and names the fact it could not load
        # (a static response cannot quote the command; pyinfra's error line names the fact
        # and its arguments, and --debug shows the command itself).
        responses[re.compile(r".")] = {
            "success": False,
            "stderr": [
                f"nordkube matrix: no recording for this command on {self.host}: record its"
                " output in inventories/recordings/"
            ],
        }
        return responses

    def _module_lists(self) -> list[tuple[str, ...]]:
        """Each module list the kernel stage can ask about (probe, then the ones to load)."""
        lists: list[tuple[str, ...]] = []
        for settings in _proxy_settings():
            candidates = node.candidate_modules(settings)
            if not all(module in self.modules for module in candidates):
                continue  # not recorded: that command falls through to the catch-all
            for modules in (candidates, node.required_modules(settings, self.modules)):
                if tuple(modules) not in lists:
                    lists.append(tuple(modules))
        return lists

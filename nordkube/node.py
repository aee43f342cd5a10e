"""The desired state of a prepared node, as pure decisions from settings and probed facts.

Used by the roles to act and by the doctor/drift tools to compare; no pyinfra here.
"""

from __future__ import annotations

from collections.abc import Mapping

from nordkube.settings import Settings
from nordkube.support import Platform

# Kernel parameters every node gets (docs/domain.md, "Kernel parameters"): forwarding and bridged
# traffic through iptables for kube-proxy and the CNI; inotify limits for the kubelet and log
# tailing; reboot on panic/oops instead of hanging; overcommit as the kubelet expects. kube-proxy
# owns net.netfilter.nf_conntrack_max and net.ipv4.vs.*; they are not set here.
SYSCTLS: dict[str, str] = {
    "net.ipv4.ip_forward": "1",
    "net.bridge.bridge-nf-call-iptables": "1",
    "net.bridge.bridge-nf-call-ip6tables": "1",
    "fs.inotify.max_user_instances": "8192",
    "fs.inotify.max_user_watches": "1048576",
    "kernel.panic": "10",
    "kernel.panic_on_oops": "1",
    "vm.overcommit_memory": "1",
}

# The IPVS core and the schedulers kube-proxy may be told to use; the chosen one is added.
IPVS_MODULES = ("ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh")
# Modules every node needs: bridged pod traffic through netfilter, and the overlay snapshotter.
COMMON_MODULES = ("br_netfilter", "overlay")
# Conntrack was nf_conntrack_ipv4 until Linux 4.19 merged it into nf_conntrack (RHEL 8.3 merged
# it on 4.18), so both are probed and whichever exists is used.
CONNTRACK_CANDIDATES = ("nf_conntrack", "nf_conntrack_ipv4")


def candidate_modules(settings: Settings) -> list[str]:
    """Every module to probe on the host for these settings."""
    if settings.kube_proxy_mode == "ipvs":
        proxy = list(IPVS_MODULES)
        if f"ip_vs_{settings.ipvs_scheduler}" not in proxy:
            proxy.append(f"ip_vs_{settings.ipvs_scheduler}")
    elif settings.kube_proxy_mode == "nftables":
        proxy = ["nf_tables"]
    else:
        proxy = []
    return proxy + list(CONNTRACK_CANDIDATES) + list(COMMON_MODULES)


def required_modules(settings: Settings, probed: Mapping[str, str]) -> list[str]:
    """The modules to load: the candidates, minus a conntrack name this kernel lacks."""
    modules = candidate_modules(settings)
    if probed.get("nf_conntrack_ipv4", "missing") == "missing":
        modules.remove("nf_conntrack_ipv4")
    return modules


def modules_to_persist(modules: list[str], probed: Mapping[str, str]) -> list[str]:
    """Modules listed in /etc/modules-load.d: built-ins need no loading at boot."""
    return [module for module in modules if probed.get(module) != "builtin"]


# Packages kube-proxy, kubeadm's preflight and the node need, by package family.
# Names are the packages' own (not virtual provides), so the installed check is exact.
_BASE_PACKAGES = {
    "debian": ["ipvsadm", "ipset", "conntrack", "socat", "ethtool", "iptables", "chrony"],
    "redhat": ["ipvsadm", "ipset", "conntrack-tools", "socat", "ethtool", "chrony"],
}
# apt needs these to fetch an https repository's signing key and packages, and gpg to check
# the key's fingerprint against its pin (nordkube/keys.py) before apt trusts it. EL needs
# none: curl is in every EL install (EL9's curl-minimal would conflict with curl), and gpg
# (gnupg2) with it, as the package manager's signature checks need it (yum through pygpgme,
# dnf through librepo and gpgme).
_HTTPS_REPOSITORY_PACKAGES = {"debian": ["curl", "ca-certificates", "gpg"], "redhat": []}

TIME_SYNC_SERVICE = {"debian": "chrony", "redhat": "chronyd"}


def uses_https_repositories(settings: Settings, containerd_source: str) -> bool:
    """Whether the node adds an https package repository (pkgs.k8s.io, a mirror, Docker's)."""
    package_repository = settings.kubernetes_package_source not in ("none", "bundle")
    return package_repository or containerd_source == "docker"


def base_packages(platform: Platform, https_repositories: bool) -> list[str]:
    """What the base stage installs. Every package costs minutes of dpkg on a small VPS
    (ca-certificates' rehash most of all), so only what the node needs."""
    packages = list(_BASE_PACKAGES[platform.family])
    if https_repositories:
        packages += _HTTPS_REPOSITORY_PACKAGES[platform.family]
    if platform.family == "redhat":
        # EL9 ships iptables as iptables-nft; the versionlock plugin holds containerd.io.
        packages.append("iptables-nft" if platform.version == "9" else "iptables")
        if platform.package_manager == "yum":
            packages.append("yum-plugin-versionlock")
        else:
            packages.append("python3-dnf-plugin-versionlock")
    return packages


def render_modules_file(modules: list[str]) -> str:
    lines = ["# Managed by nordkube: kernel modules Kubernetes needs, loaded at boot."]
    return "\n".join(lines + modules) + "\n"


def render_sysctl_file(values: Mapping[str, str]) -> str:
    lines = ["# Managed by nordkube: kernel parameters Kubernetes needs."]
    return "\n".join(lines + [f"{key} = {value}" for key, value in values.items()]) + "\n"

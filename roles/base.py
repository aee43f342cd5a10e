"""Stage base: package repositories, the packages Kubernetes needs, time sync, swap off,
SELinux permissive, NetworkManager away from CNI interfaces."""

from __future__ import annotations

from pyinfra.api import deploy

from nordkube import node, support
from nordkube.managed import (
    CENTOS7_VAULT_REPO,
    KUBERNETES_APT_KEY,
    KUBERNETES_APT_SOURCE,
    KUBERNETES_YUM_REPO,
    NETWORKMANAGER_CNI_FILE,
)
from nordkube.settings import Settings
from nordkube.support import Platform
from pyinfra_ext import context
from pyinfra_ext.operations import (
    file_content,
    file_downloaded,
    packages_installed,
    selinux_permissive,
    service_running,
    swap_disabled,
)
from pyinfra_ext.templating import render

CENTOS_VAULT = "https://vault.centos.org"
KUBERNETES_UPSTREAM = "https://pkgs.k8s.io"


def _kubernetes_repository(settings: Settings, platform: Platform) -> None:
    """pkgs.k8s.io (or a mirror of it) for this Kubernetes minor; nothing with 'none'."""
    if settings.kubernetes_package_source == "none":
        return
    base_url = (
        KUBERNETES_UPSTREAM
        if settings.kubernetes_package_source == "upstream"
        else settings.kubernetes_package_source.rstrip("/")
    )
    minor = f"1.{settings.kubernetes_minor()}"
    if platform.family == "debian":
        file_downloaded(
            name=f"Ensure the Kubernetes {minor} signing key is in {KUBERNETES_APT_KEY}",
            path=KUBERNETES_APT_KEY,
            url=f"{base_url}/core:/stable:/v{minor}/deb/Release.key",
        )
        file_content(
            name=f"Ensure the Kubernetes {minor} repository is in {KUBERNETES_APT_SOURCE}",
            path=KUBERNETES_APT_SOURCE,
            content=render(
                "base", "kubernetes.list", minor=minor, base_url=base_url, key=KUBERNETES_APT_KEY
            ),
        )
    else:
        file_content(
            name=f"Ensure the Kubernetes {minor} repository is in {KUBERNETES_YUM_REPO}",
            path=KUBERNETES_YUM_REPO,
            content=render("base", "kubernetes.repo", minor=minor, base_url=base_url),
        )


def _uses_https(settings: Settings, platform: Platform) -> bool:
    choice = support.choose_containerd(platform, settings.kubernetes_minor())
    assert choice is not None, "roles.validate refuses unsupported Kubernetes/OS pairs first"
    return node.uses_https_repositories(settings, choice.source)


@deploy("Prepare the base system")
def base() -> None:
    """Reads: kubernetes_version, kubernetes_package_source; facts: OS (package manager,
    CentOS 7 vault), NetworkManager running, SELinux state, swap state."""
    ctx = context.current()
    platform = ctx.platform

    if platform.vault:
        file_content(
            name=f"Ensure {platform.name} repositories point at the vault ({CENTOS7_VAULT_REPO})",
            path=CENTOS7_VAULT_REPO,
            content=render("base", "CentOS-Base.repo", vault=CENTOS_VAULT),
        )
    packages_installed(
        name="Ensure the packages kube-proxy and kubeadm need are installed",
        manager=platform.package_manager,
        packages=node.base_packages(platform, _uses_https(ctx.settings, platform)),
    )
    _kubernetes_repository(ctx.settings, platform)
    service_running(
        name="Ensure time sync (chrony) is running and enabled at boot",
        service=node.TIME_SYNC_SERVICE[platform.family],
    )
    swap_disabled(name="Ensure swap is off now and after a reboot")
    if platform.family == "redhat":
        selinux_permissive(name="Ensure SELinux is permissive now and at boot")
    if ctx.facts.get("networkmanager"):
        file_content(
            name=f"Ensure NetworkManager leaves CNI interfaces alone ({NETWORKMANAGER_CNI_FILE})",
            path=NETWORKMANAGER_CNI_FILE,
            content=render("base", "90-nordkube-cni.conf"),
        )

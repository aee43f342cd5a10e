"""Stage base: package repositories, the packages Kubernetes needs, time sync, swap off,
SELinux permissive, NetworkManager away from CNI interfaces."""

from __future__ import annotations

from pyinfra.api import deploy

from nordkube import keys, node
from nordkube.managed import (
    CENTOS7_VAULT_REPO,
    KUBERNETES_APT_KEY,
    KUBERNETES_APT_SOURCE,
    KUBERNETES_RPM_KEY,
    KUBERNETES_YUM_REPO,
    NETWORKMANAGER_CNI_FILE,
)
from nordkube.settings import Settings
from nordkube.support import Platform
from pyinfra_ext import context
from pyinfra_ext.operations import (
    file_content,
    packages_installed,
    selinux_permissive,
    service_running,
    signing_key_verified,
    swap_disabled,
)
from pyinfra_ext.templating import render

CENTOS_VAULT = "https://vault.centos.org"
KUBERNETES_UPSTREAM = "https://pkgs.k8s.io"


def _kubernetes_repository(settings: Settings, platform: Platform) -> None:
    """pkgs.k8s.io (or a mirror of it) for this Kubernetes minor; nothing with 'none'.

    Its signing key is verified against the pin in nordkube/keys.py on the node first, and the
    repository is written only once that succeeded (a mirror must serve the same key).
    """
    if settings.kubernetes_package_source in ("none", "bundle"):
        return
    base_url = (
        KUBERNETES_UPSTREAM
        if settings.kubernetes_package_source == "upstream"
        else settings.kubernetes_package_source.rstrip("/")
    )
    minor = f"1.{settings.kubernetes_minor()}"
    repository = f"{base_url}/core:/stable:/v{minor}"
    debian = platform.family == "debian"
    key_path = KUBERNETES_APT_KEY if debian else KUBERNETES_RPM_KEY
    signing_key_verified(
        name=f"Ensure the Kubernetes signing key at {key_path} matches its pinned fingerprint",
        path=key_path,
        url=f"{repository}/deb/Release.key"
        if debian
        else f"{repository}/rpm/repodata/repomd.xml.key",
        key_name=keys.KUBERNETES.name,
        fingerprint=keys.KUBERNETES.fingerprint,
    )
    path = KUBERNETES_APT_SOURCE if debian else KUBERNETES_YUM_REPO
    template = "kubernetes.list" if debian else "kubernetes.repo"
    # A key that does not match fails this host's run (nothing after it runs), so the repository
    # is written only once the key passed, and a dry run plans it as an ordinary change.
    file_content(
        name=f"Ensure the Kubernetes {minor} repository is in {path}",
        path=path,
        content=render("base", template, minor=minor, base_url=base_url, key=key_path),
    )


@deploy("Prepare the base system")
def base() -> None:
    """Reads: kubernetes_version, kubernetes_package_source; facts: OS (package manager,
    CentOS 7 vault), which containerd the package manager offers (https repositories or
    not), NetworkManager running, SELinux state, swap state, signing keys present."""
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
        packages=node.base_packages(
            platform, node.uses_https_repositories(ctx.settings, ctx.containerd.source)
        ),
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

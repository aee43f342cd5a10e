"""Stage runtime: containerd with the systemd cgroup driver and the matching pause image."""

from __future__ import annotations

from pyinfra.api import deploy
from pyinfra.operations import systemd

from nordkube import keys, support
from nordkube.bundle import install
from nordkube.bundle.manifest import load_manifest
from nordkube.managed import (
    CONTAINERD_APT_PIN,
    CONTAINERD_CONFIG,
    CONTAINERD_UNIT,
    DOCKER_APT_KEY,
    DOCKER_APT_SOURCE,
    DOCKER_RPM_KEY,
    DOCKER_YUM_REPO,
)
from nordkube.settings import Settings
from nordkube.support import ContainerdChoice, Platform
from pyinfra_ext import context
from pyinfra_ext.operations import (
    bundle_files_installed,
    file_content,
    packages_installed,
    registry_hosts_file,
    service_running,
    signing_key_verified,
)
from pyinfra_ext.templating import render

DOCKER_REGISTRY = "https://registry-1.docker.io"


def _docker_repository(platform: Platform, choice: ContainerdChoice, minor: int) -> None:
    """Docker's repository, limited to containerd.io and pinned to the chosen series, trusted
    only once its signing key matched the pin in nordkube/keys.py on the node: a key that does
    not match fails the host's run before the repository is written."""
    redhat = platform.family == "redhat"
    key_path, pinned = (
        (DOCKER_RPM_KEY, keys.DOCKER_RPM) if redhat else (DOCKER_APT_KEY, keys.DOCKER_DEB)
    )
    signing_key_verified(
        name=f"Ensure Docker's signing key at {key_path} matches its pinned fingerprint",
        path=key_path,
        url=f"https://download.docker.com/linux/{'centos' if redhat else platform.os_id}/gpg",
        key_name=pinned.name,
        fingerprint=pinned.fingerprint,
    )
    if redhat:
        file_content(
            name=f"Ensure Docker's containerd.io repository is in {DOCKER_YUM_REPO}",
            path=DOCKER_YUM_REPO,
            content=render("runtime", "docker-ce.repo", key=key_path),
        )
        return
    file_content(
        name=f"Ensure Docker's repository is in {DOCKER_APT_SOURCE}",
        path=DOCKER_APT_SOURCE,
        content=render(
            "runtime",
            "docker.list",
            key=DOCKER_APT_KEY,
            os_id=platform.os_id,
            codename=platform.codename,
        ),
    )
    file_content(
        name=f"Pin containerd.io to the {choice.series} series ({CONTAINERD_APT_PIN})",
        path=CONTAINERD_APT_PIN,
        content=render("runtime", "nordkube-containerd", series=choice.series, minor=f"1.{minor}"),
    )


def _bundle_containerd(settings: Settings) -> bool:
    """containerd, runc and the CNI plugins from the offline bundle, with containerd's own
    systemd unit; returns whether containerd must be restarted."""
    directory = install.settings_bundle(settings)
    assert directory is not None, "only called with kubernetes_package_source 'bundle'"
    manifest = load_manifest(directory)
    version = install.artifact_version(manifest, "containerd")
    files = install.runtime_files(directory, manifest)
    programs = bundle_files_installed(
        name=f"Ensure containerd {version}, runc and the CNI plugins from the bundle are installed",
        files=tuple(files),
        what="containerd, runc and the CNI plugins",
    )
    unit = file_content(
        name=f"Ensure containerd's systemd unit is in {CONTAINERD_UNIT}",
        path=CONTAINERD_UNIT,
        content=render(
            "runtime",
            "containerd.service",
            binary=install.RUNTIME_PROGRAMS["containerd"],
            version=version,
        ),
    )
    systemd.daemon_reload(
        name="Reload systemd's units after containerd's unit changed", _if=unit.did_change
    )
    return bool(programs.will_change or unit.will_change)


def _registry_mirrors(settings: Settings) -> list[bool]:
    """One hosts.toml per mirrored registry; returns whether each file will change."""
    changes = []
    for registry, mirrors in sorted(settings.containerd_registry_mirrors.items()):
        server = DOCKER_REGISTRY if registry == "docker.io" else f"https://{registry}"
        result = file_content(
            name=f"Ensure containerd pulls {registry} through its mirrors",
            path=registry_hosts_file(registry),
            content=render(
                "runtime", "hosts.toml", registry=registry, server=server, mirrors=mirrors
            ),
        )
        changes.append(result.will_change)
    return changes


@deploy("Prepare the container runtime")
def runtime() -> None:
    """Reads: kubernetes_version (containerd source and series, pause image),
    containerd_registry_mirrors; facts: OS (package manager, codename), which containerd the
    package manager offers and has installed, signing keys present."""
    ctx = context.current()
    platform, settings = ctx.platform, ctx.settings
    minor = settings.kubernetes_minor()
    choice = ctx.containerd

    binaries_changed = False
    if choice.source == "bundle":
        binaries_changed = _bundle_containerd(settings)
    else:
        if choice.source == "docker":
            _docker_repository(platform, choice, minor)
        install_name = (
            f"{choice.package}-{choice.series}.*"
            if platform.family == "redhat" and choice.source == "docker"
            else choice.package
        )
        packages_installed(
            name=f"Ensure {choice.package} {choice.series} is installed and held ({choice.reason})",
            manager=platform.package_manager,
            packages=[choice.package],
            held=(choice.package,),
            install_names={choice.package: install_name},
        )
    template = "config.v2.toml" if choice.major == 1 else "config.v3.toml"
    config = file_content(
        name=f"Ensure containerd uses the systemd cgroup driver ({CONTAINERD_CONFIG})",
        path=CONTAINERD_CONFIG,
        content=render(
            "runtime", template, series=choice.series, pause_image=support.pause_image(minor)
        ),
    )
    mirror_changes = _registry_mirrors(settings)
    service_running(
        name="Ensure containerd is running and enabled at boot, restarted when it changed",
        service="containerd",
        restart=config.will_change or any(mirror_changes) or binaries_changed,
    )

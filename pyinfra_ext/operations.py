"""Custom pyinfra operations: each ensures one state and yields commands only when it is not so.

They read nordkube's own facts (pyinfra_ext/facts.py), which read related state in one round trip,
so a run with nothing to do costs a handful of commands per host and reports zero changes.
"""

from __future__ import annotations

import hashlib
import posixpath
import shlex
from io import StringIO
from typing import Any

from pyinfra import host, logger
from pyinfra.api import (
    FileUploadCommand,
    FunctionCommand,
    Host,
    OperationError,
    State,
    StringCommand,
    operation,
)
from pyinfra.api.arguments import CONNECTOR_ARGUMENT_KEYS

from nordkube import keys
from nordkube.bundle.install import NodeFile
from nordkube.managed import MANAGED_FILES, MANAGED_KEYS, MANAGED_SERVICES
from pyinfra_ext import factcache
from pyinfra_ext.facts import (
    SYSTEMD_ETC,
    FileStates,
    InstalledPackages,
    KernelModules,
    KeyFingerprints,
    SelinuxState,
    ServiceStates,
    SwapState,
    SysctlValues,
)

# What a swap unit file the deploy moves aside is renamed to (systemd reads no such name).
DISABLED_SUFFIX = ".disabled-by-nordkube"


def registry_hosts_file(registry: str) -> str:
    """containerd's per-registry mirror file (config_path = /etc/containerd/certs.d)."""
    return f"/etc/containerd/certs.d/{registry}/hosts.toml"


def _file_state(path: str) -> tuple[str, str] | None:
    paths = MANAGED_FILES if path in MANAGED_FILES else (path,)
    return factcache.read(FileStates, paths=paths).get(path)


@operation()
def file_content(path: str, content: str, mode: str = "644") -> Any:
    """The file at `path` holds exactly `content` with `mode`."""
    digest = hashlib.sha256(content.encode()).hexdigest()
    state = _file_state(path)
    if state == (digest, mode):
        host.noop(f"{path} is up to date")
        return
    if state is None or state[0] != digest:
        yield f"mkdir -p {shlex.quote(posixpath.dirname(path))}"
        yield FileUploadCommand(
            StringIO(content), path, remote_temp_filename=host.get_temp_filename(path)
        )
    yield f"chmod {mode} {shlex.quote(path)}"


@operation()
def signing_key_verified(path: str, url: str, key_name: str, fingerprint: str) -> Any:
    """The OpenPGP key at `path` is exactly the key pinned by `fingerprint` (nordkube.keys).

    It is downloaded from `url` to a temporary file next to `path`, its fingerprint computed
    on the node (KeyFingerprints), and only a match is moved into place. A mismatch fails the
    operation on that host, naming the key and the URL, and leaves neither the temporary file
    nor a key at `path`: the repository that would trust it is never written (the roles make
    it depend on this operation) and no package comes from it. A key already at `path` is
    checked the same way; a wrong one is replaced, or removed when the download is wrong too.
    """
    if _file_state(path) is not None:
        found = factcache.read(KeyFingerprints, paths=MANAGED_KEYS).get(path, [])
        if found == [fingerprint]:
            host.noop(f"{path} holds {key_name} ({fingerprint})")
            return
    temporary = f"{path}.unverified"
    yield (
        f"mkdir -p {shlex.quote(posixpath.dirname(path))} && "
        f"curl -fsSL --retry 3 -o {shlex.quote(temporary)} {shlex.quote(url)}"
    )
    yield FunctionCommand(_key_matches, (temporary, path, url, key_name, fingerprint), {})
    quoted = shlex.quote(temporary)
    yield f"chmod 644 {quoted} && mv -f {quoted} {shlex.quote(path)}"


def _key_matches(
    state: State, host: Host, temporary: str, path: str, url: str, key_name: str, fingerprint: str
) -> bool:
    """Run during execution, between the download and the move: the downloaded key's check.

    Returns False (pyinfra then fails the operation on this host) after logging why and
    removing what was downloaded. pyinfra reports an exception raised here as an unexpected
    error with a traceback, so the failure is logged, not raised.
    """
    found = host.get_fact(KeyFingerprints, paths=(temporary,)).get(temporary, [])
    problem = keys.mismatch(keys.PinnedKey(key_name, fingerprint), url, found)
    if problem is None:
        return True
    run_now(host, f"rm -f {shlex.quote(temporary)} {shlex.quote(path)}")
    host.log_styled(f"Error: {problem}", fg="red", log_func=logger.error)
    return False


def connector_arguments(target: Host) -> dict[str, Any]:
    """How the running operation reaches `target` (sudo and the like), for a command a
    FunctionCommand runs itself."""
    return {
        key: value
        for key, value in (target.current_op_global_arguments or {}).items()
        if key in CONNECTOR_ARGUMENT_KEYS
    }


def run_now(target: Host, command: str) -> tuple[bool, list[str]]:
    """Run `command` on `target` from a FunctionCommand (during execution), with the running
    operation's connector arguments: its success and stdout lines."""
    status, output = target.run_shell_command(StringCommand(command), **connector_arguments(target))
    return status, list(output.stdout_lines)


@operation()
def bundle_files_installed(files: tuple[NodeFile, ...], what: str) -> Any:
    """Each bundled file is on the node at its path with the bundle's sha256 and mode.

    All paths are read in one FileStates command. A file the node already has with the same
    checksum is never uploaded again; any other is uploaded next to its path, its sha256
    computed on the node, and only a match is moved into place. A mismatch (a bundle file
    changed after bundle.json was written, or damaged on the way) fails the operation on that
    host with a message naming the file, and leaves nothing of it behind.
    """
    states = factcache.read(FileStates, paths=tuple(file.path for file in files))
    stale = [file for file in files if states.get(file.path) != (file.sha256, file.mode)]
    if not stale:
        host.noop(f"{what} from the bundle are in place")
        return
    for file in stale:
        path = shlex.quote(file.path)
        if states.get(file.path, ("",))[0] == file.sha256:
            yield f"chmod {file.mode} {path}"
            continue
        upload = f"{file.path}.nordkube-upload"
        quoted = shlex.quote(upload)
        yield f"mkdir -p {shlex.quote(posixpath.dirname(file.path))}"
        yield FileUploadCommand(
            file.source, upload, remote_temp_filename=host.get_temp_filename(upload)
        )
        refusal = (
            f"nordkube: {file.source} (for {file.path}) arrived with sha256 $found, but "
            f"bundle.json says {file.sha256}: refusing it; rebuild the bundle or check the file"
        )
        yield (
            f'found="$(sha256sum < {quoted} | cut -d" " -f1)"; '
            f'if [ "$found" != {file.sha256} ]; then rm -f {quoted}; '
            f'echo "{refusal}" >&2; exit 1; fi'
        )
        yield f"chmod {file.mode} {quoted} && mv -f {quoted} {path}"


def _install_command(manager: str, packages: list[str], disable_excludes: str | None = None) -> str:
    """Install, refreshing apt's lists only when the install cannot proceed without it.

    A converged node never gets here; a fresh one usually has stale or empty lists (update,
    then install), while a second install in the same run reuses the lists just fetched.
    Each `apt-get update` costs tens of seconds on a small VPS; translations are not fetched
    (a third of the download on Debian 12, and nothing the node needs).
    """
    names = " ".join(shlex.quote(package) for package in packages)
    if manager == "apt":
        install = (
            "DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
            f"--no-install-recommends -o Dpkg::Options::=--force-confold {names}"
        )
        return f"{install} || {{ apt-get update -q -o Acquire::Languages=none && {install}; }}"
    # A repository that excludes its own packages from routine updates (pkgs.k8s.io's) is
    # let through for this one install.
    option = f" --disableexcludes={shlex.quote(disable_excludes)}" if disable_excludes else ""
    return f"{manager} install -y{option} {names}"


def _hold_command(manager: str, packages: list[str]) -> str:
    names = " ".join(shlex.quote(package) for package in packages)
    if manager == "apt":
        return f"apt-mark hold {names}"
    return f"{manager} versionlock add {names}"


@operation()
def packages_installed(
    manager: str,
    packages: list[str],
    held: tuple[str, ...] = (),
    install_names: dict[str, str] | None = None,
    versions: dict[str, str] | None = None,
    disable_excludes: str | None = None,
) -> Any:
    """Each package is installed; those in `held` are also held at their installed version.

    `install_names` maps a package to what the package manager is asked for (a version
    pattern such as containerd.io-2.1.* on yum). `versions` are exact upstream versions a
    package must have: one installed at another version fails the operation (moving it is an
    upgrade, not a converge). `disable_excludes` names a repository whose excludes this
    install overrides (rpm). A converged node runs nothing.
    """
    installed = factcache.read(InstalledPackages, manager=manager, packages=tuple(packages))
    wrong = [
        f"{package} {installed[package]['version']} (expected {version})"
        for package, version in (versions or {}).items()
        if package in installed and not installed[package]["version"].startswith(f"{version}-")
    ]
    if wrong:
        raise OperationError(
            f"installed at another version: {', '.join(wrong)}; nordkube installs and holds "
            "these versions but does not upgrade a node (kubeadm upgrade does)"
        )
    missing = [package for package in packages if package not in installed]
    if missing:
        names = [(install_names or {}).get(package, package) for package in missing]
        yield _install_command(manager, names, disable_excludes)
    to_hold = [p for p in held if p in missing or not installed.get(p, {}).get("held")]
    if to_hold:
        yield _hold_command(manager, to_hold)
    if not missing and not to_hold:
        host.noop(f"packages {', '.join(packages)} are installed")


@operation()
def modules_loaded(modules: list[str], probed: tuple[str, ...]) -> Any:
    """Each kernel module is loaded now (built-in modules count as loaded, never a change).

    `probed` is the module list the role already probed, so the fact is read once.
    """
    states = factcache.read(KernelModules, modules=probed)
    missing = [module for module in modules if states.get(module) == "missing"]
    if missing:
        raise OperationError(
            f"kernel module(s) {', '.join(missing)} do not exist for this kernel: install the "
            "kernel's extra modules package (e.g. kernel-modules-extra) matching `uname -r`"
        )
    to_load = [module for module in modules if states.get(module) == "available"]
    for module in to_load:
        yield f"modprobe {shlex.quote(module)}"
    if not to_load:
        host.noop(f"modules {', '.join(modules)} are loaded")


@operation()
def sysctls_applied(values: dict[str, str], path: str) -> Any:
    """The live kernel parameters equal `values` (read from the persisted file at `path`).

    Keys that appear only once their module is loaded (net.bridge.*) are read before the
    kernel stage loads br_netfilter, so applying the file is the one reliable command.
    """
    live = factcache.read(SysctlValues, keys=tuple(values))
    differing = [key for key, value in values.items() if live.get(key) != value]
    if differing:
        yield f"sysctl -q -p {shlex.quote(path)}"
    else:
        host.noop("kernel parameters are set")


@operation()
def swap_disabled() -> Any:
    """No swap is active, and none comes back at boot (fstab lines commented, units masked;
    a unit file in /etc/systemd/system is renamed to UNIT.disabled-by-nordkube first)."""
    swap = factcache.read(SwapState)
    if swap.get("active"):
        yield "swapoff -a"
    if swap.get("fstab"):
        # Comment out each uncommented fstab line whose type (3rd field) is swap.
        yield (
            "sed -i -E 's@^([^#[:space:]][^[:space:]]*[[:space:]]+[^[:space:]]+"
            "[[:space:]]+swap[[:space:]].*)$@# disabled by nordkube (kubelet needs swap off): "
            "\\1@' /etc/fstab"
        )
        yield "systemctl daemon-reload"
    in_etc = swap.get("unit_files_in_etc", [])
    for unit in swap.get("units", []):
        quoted = shlex.quote(unit)
        if unit in in_etc:
            # A unit file of the image's own in /etc/systemd/system takes the name a mask
            # needs: stop and disable it, and keep it beside, renamed as the fstab line is.
            path = f"{SYSTEMD_ETC}/{unit}"
            yield f"systemctl disable --now {quoted}"
            yield f"mv {shlex.quote(path)} {shlex.quote(path + DISABLED_SUFFIX)}"
        yield f"systemctl mask --now {quoted}"
    if not swap.get("active") and not swap.get("fstab") and not swap.get("units"):
        host.noop("swap is off")


@operation()
def service_running(service: str, restart: bool = False) -> Any:
    """The systemd service is running and enabled; restarted when `restart` (its config
    changed) and it was already running."""
    state = factcache.read(ServiceStates, services=MANAGED_SERVICES).get(
        service, {"active": False, "enabled": False}
    )
    quoted = shlex.quote(service)
    if not state["enabled"]:
        yield f"systemctl enable {quoted}"
    # restart also starts a stopped service, and replaces one the package manager started
    # with its default config before ours was written.
    if restart:
        yield f"systemctl restart {quoted}"
    elif not state["active"]:
        yield f"systemctl start {quoted}"
    if state["enabled"] and state["active"] and not restart:
        host.noop(f"{service} is running and enabled")


@operation()
def selinux_permissive() -> Any:
    """SELinux is permissive now and at boot (kubeadm's documented requirement)."""
    state = factcache.read(SelinuxState)
    if state.get("live") == "enforcing":
        yield "setenforce 0"
    if state.get("config") == "enforcing":
        yield "sed -i 's/^SELINUX=enforcing$/SELINUX=permissive/' /etc/selinux/config"
    if state.get("live") != "enforcing" and state.get("config") != "enforcing":
        host.noop("SELinux is not enforcing")

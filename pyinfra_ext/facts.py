"""Custom pyinfra facts: each reads one slice of node state in a single command.

Every fact command costs an SSH round trip per host, and a run with nothing to do is mostly
fact reading, so related state is read together (all managed files in one command, all
services in one). Each command starts with `: nordkube-fact NAME;` (`:` is the shell's no-op),
which the offline per-OS plans match their recordings on. Parsing lives in plain functions
of the output lines, tested against recorded output.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from typing import Any

from pyinfra.api import FactBase

from nordkube import bootstate, dnsquery, keys, kubeadm

SECTION = "::nordkube:"
# The administrator's systemd unit directory (systemd.unit(5)), ahead of the vendor's.
SYSTEMD_ETC = "/etc/systemd/system"


def marker(name: str) -> str:
    """The no-op prefix that names a fact in its command (and in the plan's recordings)."""
    return f": nordkube-fact {name};"


def sections(output: Iterable[str]) -> dict[str, list[str]]:
    """Split output printed as `::nordkube:NAME` headers followed by their lines."""
    result: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output:
        if line.startswith(SECTION):
            current = result.setdefault(line[len(SECTION) :].strip(), [])
        elif current is not None:
            current.append(line)
    return result


def _section(name: str, command: str) -> str:
    return f"echo '{SECTION}{name}'; {command}"


def parse_os_release(lines: Iterable[str]) -> dict[str, str]:
    values = {}
    for line in lines:
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def parse_ip_links(lines: Iterable[str]) -> dict[str, dict[str, Any]]:
    """`ip -o link show`: '2: eth0: <...> mtu 1500 ... link/ether 52:54:00:..' per line."""
    interfaces: dict[str, dict[str, Any]] = {}
    for line in lines:
        fields = line.replace("\\", " ").split()
        if len(fields) < 3 or not fields[0].endswith(":"):
            continue
        name = fields[1].rstrip(":").split("@")[0]
        interface: dict[str, Any] = {"mac": None, "mtu": None, "addresses": []}
        if "mtu" in fields:
            interface["mtu"] = int(fields[fields.index("mtu") + 1])
        if "link/ether" in fields:
            interface["mac"] = fields[fields.index("link/ether") + 1]
        interfaces[name] = interface
    return interfaces


def parse_ip_addresses(lines: Iterable[str], interfaces: dict[str, dict[str, Any]]) -> None:
    """`ip -o addr show`: '2: eth1    inet 10.20.0.11/24 brd ...' adds to each interface."""
    for line in lines:
        fields = line.split()
        if len(fields) >= 4 and fields[2] in ("inet", "inet6"):
            name = fields[1].split("@")[0]
            interfaces.setdefault(name, {"mac": None, "mtu": None, "addresses": []})
            interfaces[name]["addresses"].append(fields[3])


def _first(lines: list[str] | None) -> str:
    return lines[0].strip() if lines else ""


class NodeFacts(FactBase[dict[str, Any]]):
    """What validation needs from a node, read once: OS, kernel, cgroup, identity, NICs.

    product_uuid is readable only by root, hence `_sudo` in every inventory.
    """

    default = dict

    def command(self) -> str:
        return f"{marker('NodeFacts')} " + "; ".join(
            [
                _section("os-release", "cat /etc/os-release"),
                _section("kernel", "uname -r"),
                _section("cgroup", "stat -fc %T /sys/fs/cgroup/"),
                _section("hostname", "cat /proc/sys/kernel/hostname"),
                _section("machine-id", "cat /etc/machine-id 2>/dev/null"),
                _section("product-uuid", "cat /sys/class/dmi/id/product_uuid 2>/dev/null"),
                _section("links", "ip -o link show"),
                _section("addresses", "ip -o addr show"),
                _section(
                    "nf_tables",
                    "grep -q '^nf_tables ' /proc/modules && echo loaded"
                    " || modinfo -n nf_tables 2>/dev/null || true",
                ),
                _section(
                    "networkmanager", "systemctl is-active NetworkManager 2>/dev/null || true"
                ),
            ]
        )

    def process(self, output: list[str]) -> dict[str, Any]:
        parts = sections(output)
        release = parse_os_release(parts.get("os-release", []))
        interfaces = parse_ip_links(parts.get("links", []))
        parse_ip_addresses(parts.get("addresses", []), interfaces)
        interfaces.pop("lo", None)
        return {
            "os_id": release.get("ID", ""),
            "version_id": release.get("VERSION_ID", ""),
            "pretty_name": release.get("PRETTY_NAME", ""),
            "kernel": _first(parts.get("kernel")),
            "cgroup": _first(parts.get("cgroup")),
            "hostname": _first(parts.get("hostname")),
            "machine_id": _first(parts.get("machine-id")),
            "product_uuid": _first(parts.get("product-uuid")).lower(),
            "interfaces": interfaces,
            "nf_tables": bool(_first(parts.get("nf_tables"))),
            "networkmanager": _first(parts.get("networkmanager")) == "active",
        }


class FileStates(FactBase[dict[str, tuple[str, str]]]):
    """sha256 and octal mode of each existing file among `paths`; absent files are left out.

    The deploy asks once for all files it manages (one round trip), so pass the same tuple.
    """

    default = dict

    def command(self, paths: tuple[str, ...]) -> str:
        quoted = " ".join(shlex.quote(path) for path in paths)
        return (
            f'{marker("FileStates")} for f in {quoted}; do if [ -f "$f" ]; then '
            'echo "$(sha256sum < "$f" | cut -d" " -f1) $(stat -c %a "$f") $f"; fi; done'
        )

    def process(self, output: list[str]) -> dict[str, tuple[str, str]]:
        states = {}
        for line in output:
            digest, mode, path = line.split(" ", 2)
            states[path] = (digest, mode)
        return states


class KeyFingerprints(FactBase[dict[str, list[str]]]):
    """The primary-key fingerprints in each existing OpenPGP key file among `paths`.

    gpg reads the file into a throwaway home directory (nothing is imported anywhere):
    `--show-keys` from GnuPG 2.2.8 on, and on older gpg (CentOS 7's 2.0, Ubuntu 18.04's 2.2.4)
    the listing gpg prints when given a key file and no command.
    """

    default = dict

    def command(self, paths: tuple[str, ...]) -> str:
        quoted = " ".join(shlex.quote(path) for path in paths)
        gpg = 'gpg --batch --no-tty --homedir "$h" --with-colons'
        return (
            f"{marker('KeyFingerprints')} h=$(mktemp -d) || exit 1; for f in {quoted}; do "
            f'if [ -f "$f" ]; then echo "{SECTION}$f"; '
            f'{{ {gpg} --show-keys "$f" 2>/dev/null'
            f' || {gpg} --with-fingerprint "$f" 2>/dev/null; }}'
            " | grep -E '^(pub|sub|fpr):'; fi; done; rm -rf \"$h\""
        )

    def process(self, output: list[str]) -> dict[str, list[str]]:
        return {path: keys.primary_fingerprints(lines) for path, lines in sections(output).items()}


class InstalledPackages(FactBase[dict[str, dict[str, Any]]]):
    """Version and hold state of the named packages that are installed.

    dpkg: `hold` is dpkg's selection; rpm: a versionlock entry (yum/dnf versionlock plugin).
    """

    default = dict

    def command(self, manager: str, packages: tuple[str, ...]) -> str:
        names = " ".join(shlex.quote(name) for name in packages)
        if manager == "apt":
            query = (
                "dpkg-query -W -f='${Package}\\t${Version}\\t${db:Status-Abbrev}\\t"
                f"${{db:Status-Want}}\\n' {names} 2>/dev/null || true"
            )
            return f"{marker('InstalledPackages')} " + _section("packages", query)
        query = (
            "rpm -q --qf '%{NAME}\\t%{VERSION}-%{RELEASE}\\tii\\tinstall\\n' "
            f"{names} | grep -v 'is not installed' || true"
        )
        locks = (
            "cat /etc/yum/pluginconf.d/versionlock.list /etc/dnf/plugins/versionlock.list"
            " 2>/dev/null || true"
        )
        return f"{marker('InstalledPackages')} " + "; ".join(
            [_section("packages", query), _section("locks", locks)]
        )

    def process(self, output: list[str]) -> dict[str, dict[str, Any]]:
        parts = sections(output)
        locked = {_locked_name(line) for line in parts.get("locks", []) if line.strip()}
        installed = {}
        for line in parts.get("packages", []):
            fields = line.split("\t")
            if len(fields) == 4 and fields[2].strip().startswith(("ii", "hi")):
                name = fields[0]
                held = fields[3].strip() == "hold" or name in locked
                installed[name] = {"version": fields[1], "held": held}
        return installed


def _locked_name(entry: str) -> str:
    """versionlock entries: '0:containerd.io-1.6.33-3.1.el7.*' (yum) or
    'containerd.io-0:2.1.5-1.el9.*' (dnf): the name is everything before the version."""
    entry = entry.strip()
    if entry[:1].isdigit() and ":" in entry:
        entry = entry.split(":", 1)[1]
    parts = entry.split("-")
    name_parts = []
    for part in parts:
        if part[:1].isdigit():
            break
        name_parts.append(part)
    return "-".join(name_parts)


# Where each package manager keeps the package lists it answers from (no download is made):
# apt's lists, dnf's and yum's cached repository metadata.
_METADATA = {
    "apt": "ls /var/lib/apt/lists/ 2>/dev/null | grep -c '_Packages' || true",
    "dnf": "ls /var/cache/dnf/*/repodata/repomd.xml 2>/dev/null | wc -l",
    "yum": "ls /var/cache/yum/*/*/*/repomd.xml 2>/dev/null | wc -l",
}
_CONTAINERD_PACKAGES = "containerd containerd.io"


class ContainerdPackages(FactBase[dict[str, Any]]):
    """containerd (the distribution's) and containerd.io (Docker's) as the package manager
    sees them: the version installed, the candidate an install would get from the
    repositories configured now, and whether it has package lists at all (`metadata`).

    Read from the local lists only (`apt-cache policy`, `dnf -C`, `yum -C`): reading a fact
    downloads nothing, and a fresh node answers in one round trip. Without lists the
    candidates are unknown, not absent (nordkube.support.choose_containerd says which).
    """

    default = dict

    def command(self, manager: str) -> str:
        if manager == "apt":
            offers = f"LC_ALL=C apt-cache policy {_CONTAINERD_PACKAGES} 2>/dev/null || true"
            parts = [_section("policy", offers)]
        else:
            installed = (
                f"rpm -q --qf '%{{NAME}} %{{VERSION}}-%{{RELEASE}}\\n' {_CONTAINERD_PACKAGES}"
                " | grep -v 'is not installed' || true"
            )
            available = (
                "dnf -C -q repoquery --available --latest-limit 1"
                f" --qf '%{{name}} %{{version}}-%{{release}}' {_CONTAINERD_PACKAGES}"
                if manager == "dnf"
                else f"yum -C -q list available {_CONTAINERD_PACKAGES}"
            )
            parts = [
                _section("installed", installed),
                _section("available", f"LC_ALL=C {available} 2>/dev/null || true"),
            ]
        return f"{marker('ContainerdPackages')} " + "; ".join(
            [_section("metadata", _METADATA[manager]), *parts]
        )

    def process(self, output: list[str]) -> dict[str, Any]:
        parts = sections(output)
        installed: dict[str, str] = {}
        candidates: dict[str, str] = {}
        if "policy" in parts:
            installed, candidates = parse_apt_policy(parts["policy"])
        for line in parts.get("installed", []):
            fields = line.split()
            if len(fields) == 2:
                installed[fields[0]] = fields[1]
        for line in parts.get("available", []):
            fields = line.split()
            # dnf: "containerd.io 2.3.6-1.el9"; yum: "containerd.io.x86_64 1.6.33-3.1.el7 repo"
            if len(fields) in (2, 3) and fields[1][:1].isdigit():
                name = fields[0]
                if len(fields) == 3:
                    name = name.rsplit(".", 1)[0]
                candidates[name] = fields[1]
        count = _first(parts.get("metadata"))
        return {
            "metadata": count.isdigit() and int(count) > 0,
            "installed": installed,
            "candidates": candidates,
        }


def parse_apt_policy(lines: Iterable[str]) -> tuple[dict[str, str], dict[str, str]]:
    """`apt-cache policy NAME...`: each known package's Installed and Candidate version.

    A package apt has no list entry for prints nothing at all; "(none)" means not installed,
    or no candidate.
    """
    installed: dict[str, str] = {}
    candidates: dict[str, str] = {}
    package = None
    for line in lines:
        if line and not line[0].isspace() and line.endswith(":"):
            package = line[:-1]
            continue
        key, _, value = line.strip().partition(": ")
        if package is None or value in ("", "(none)"):
            continue
        if key == "Installed":
            installed[package] = value
        elif key == "Candidate":
            candidates[package] = value
    return installed, candidates


class KernelModules(FactBase[dict[str, str]]):
    """State of each named module: loaded, builtin, available (can be loaded) or missing.

    A built-in never shows in /proc/modules; modules.builtin lists it. Availability is
    probed with modinfo, so a renamed module (nf_conntrack_ipv4) is found, not guessed.
    """

    default = dict

    def command(self, modules: tuple[str, ...]) -> str:
        names = " ".join(shlex.quote(module) for module in modules)
        return (
            f"{marker('KernelModules')} for m in {names}; do "
            'if grep -q "^$m " /proc/modules; then echo "$m loaded"; '
            'elif grep -q "/$m.ko" "/lib/modules/$(uname -r)/modules.builtin" 2>/dev/null; '
            'then echo "$m builtin"; '
            'elif modinfo -n "$m" >/dev/null 2>&1; then echo "$m available"; '
            'else echo "$m missing"; fi; done'
        )

    def process(self, output: list[str]) -> dict[str, str]:
        return dict(line.split(" ", 1) for line in output if " " in line)


class SysctlValues(FactBase[dict[str, str]]):
    """Live value of each named sysctl that exists (bridge keys appear with br_netfilter)."""

    default = dict

    def command(self, keys: tuple[str, ...]) -> str:
        paths = " ".join(shlex.quote("/proc/sys/" + key.replace(".", "/")) for key in keys)
        return (
            f"{marker('SysctlValues')} for p in {paths}; do "
            'if [ -r "$p" ]; then echo "$p=$(cat "$p")"; fi; done'
        )

    def process(self, output: list[str]) -> dict[str, str]:
        values = {}
        for line in output:
            path, _, value = line.partition("=")
            values[path.removeprefix("/proc/sys/").replace("/", ".")] = " ".join(value.split())
        return values


class SwapState(FactBase[dict[str, Any]]):
    """Swap in use now, and what would turn it on at boot (fstab lines, systemd swap units)."""

    default = dict

    def command(self) -> str:
        return f"{marker('SwapState')} " + "; ".join(
            [
                _section("swaps", "cat /proc/swaps"),
                _section("fstab", "cat /etc/fstab 2>/dev/null || true"),
                _section(
                    "unit-files",
                    "systemctl list-unit-files --type=swap --no-legend 2>/dev/null || true",
                ),
                # `systemctl mask` refuses a unit whose name in /etc/systemd/system is taken
                # by a file or by a symlink other than the mask itself.
                _section(
                    "unit-files-in-etc",
                    f"for f in {SYSTEMD_ETC}/*.swap; do "
                    '{ [ -e "$f" ] || [ -L "$f" ]; } && [ "$(readlink "$f")" != /dev/null ] '
                    '&& echo "${f##*/}"; done; true',
                ),
            ]
        )

    def process(self, output: list[str]) -> dict[str, Any]:
        parts = sections(output)
        active = [line.split()[0] for line in parts.get("swaps", [])[1:] if line.strip()]
        fstab = [
            line
            for line in parts.get("fstab", [])
            if not line.lstrip().startswith("#")
            and len(line.split()) >= 3
            and line.split()[2] == "swap"
        ]
        # Units generated from fstab vanish with the fstab line; unit files that are enabled
        # or static (e.g. a swapfile.swap someone wrote) must be masked.
        units = [
            line.split()[0]
            for line in parts.get("unit-files", [])
            if len(line.split()) >= 2
            and line.split()[1] in ("enabled", "static", "enabled-runtime")
        ]
        in_etc = set(parts.get("unit-files-in-etc", []))
        return {
            "active": active,
            "fstab": fstab,
            "units": units,
            "unit_files_in_etc": [unit for unit in units if unit in in_etc],
        }


class ServiceStates(FactBase[dict[str, dict[str, bool]]]):
    """Whether each named systemd service is active and enabled (all in one command)."""

    default = dict

    def command(self, services: tuple[str, ...]) -> str:
        names = " ".join(shlex.quote(service) for service in services)
        return (
            f"{marker('ServiceStates')} for s in {names}; do "
            'echo "$s $(systemctl is-active "$s" 2>/dev/null | head -n1)'
            ' $(systemctl is-enabled "$s" 2>/dev/null | head -n1)"; done'
        )

    def process(self, output: list[str]) -> dict[str, dict[str, bool]]:
        states = {}
        for line in output:
            fields = line.split()
            if not fields:
                continue
            active = len(fields) > 1 and fields[1] == "active"
            enabled = len(fields) > 2 and fields[2] in ("enabled", "static", "alias")
            states[fields[0]] = {"active": active, "enabled": enabled}
        return states


class SelinuxState(FactBase[dict[str, str]]):
    """SELinux mode now (getenforce) and at boot (SELINUX= in /etc/selinux/config)."""

    default = dict

    def command(self) -> str:
        return f"{marker('SelinuxState')} " + "; ".join(
            [
                _section("live", "getenforce 2>/dev/null || echo Disabled"),
                _section("config", "grep '^SELINUX=' /etc/selinux/config 2>/dev/null || true"),
            ]
        )

    def process(self, output: list[str]) -> dict[str, str]:
        parts = sections(output)
        config = _first(parts.get("config")).partition("=")[2].strip().lower()
        return {"live": _first(parts.get("live")).lower(), "config": config}


# Where the kubelet has its own kubeconfig: its node's Ready condition, as the node may read
# it (status, reason, message); nothing where it cannot tell.
_OWN_READY = (
    f"if [ -f {kubeadm.KUBELET_CONF} ] && command -v kubectl >/dev/null 2>&1; then "
    f"kubectl --kubeconfig={kubeadm.KUBELET_CONF} --request-timeout=10s get node "
    '"$(tr A-Z a-z < /proc/sys/kernel/hostname)" -o jsonpath='
    + shlex.quote(
        '{range .status.conditions[?(@.type=="Ready")]}{.status}{"\\t"}{.reason}{"\\t"}'
        "{.message}{end}"
    )
    + " 2>/dev/null || true; fi"
)


class KubeadmState(FactBase[dict[str, Any]]):
    """What kubeadm has left on this node: which of its files exist, the sha256 of
    admin.conf, whether the kubelet runs, the installed versions of kubeadm and the kubelet,
    and once the node has joined, its Ready condition (read with the kubelet's own
    credentials). nordkube.kubeadm judges where init or join stands from it."""

    default = dict

    def command(self) -> str:
        files = " ".join(shlex.quote(path) for path in kubeadm.KUBEADM_FILES)
        admin = shlex.quote(kubeadm.ADMIN_CONF)
        return f"{marker('KubeadmState')} " + "; ".join(
            [
                _section("files", f'for f in {files}; do if [ -e "$f" ]; then echo "$f"; fi; done'),
                _section(
                    "admin-sha256",
                    f"if [ -f {admin} ]; then sha256sum < {admin} | cut -d' ' -f1; fi",
                ),
                _section("kubelet", "systemctl is-active kubelet 2>/dev/null || true"),
                _section("kubeadm", "kubeadm version -o short 2>/dev/null || true"),
                _section("kubelet-version", "kubelet --version 2>/dev/null || true"),
                _section("ready", _OWN_READY),
            ]
        )

    def process(self, output: list[str]) -> dict[str, Any]:
        parts = sections(output)
        kubelet_version = _first(parts.get("kubelet-version")).removeprefix("Kubernetes ")
        condition = _first(parts.get("ready"))
        status, reason, message = [*condition.split("\t"), "", "", ""][:3]
        return {
            "ready": {"status": status, "reason": reason, "message": message}
            if condition
            else None,
            "files": [line.strip() for line in parts.get("files", []) if line.strip()],
            "admin_sha256": _first(parts.get("admin-sha256")) or None,
            "kubelet_active": _first(parts.get("kubelet")) == "active",
            "kubeadm_version": _first(parts.get("kubeadm")) or None,
            "kubelet_version": kubelet_version or None,
        }


# kubectl's jsonpath over DaemonSets and Deployments: kind, namespace, name, the sha256
# nordkube annotates what it applied with, and how many pods are available (a Deployment's
# availableReplicas, a DaemonSet's numberAvailable; each kind has only its own).
_OBJECTS_JSONPATH = (
    '{range .items[*]}{.kind}{"\\t"}{.metadata.namespace}{"\\t"}{.metadata.name}{"\\t"}'
    '{.metadata.annotations.nordkube\\.io/sha256}{"\\t"}{.status.availableReplicas}'
    '{.status.numberAvailable}{"\\n"}{end}'
)


class ClusterState(FactBase[dict[str, Any]]):
    """The cluster as the API answers on a control-plane node with admin.conf: its DaemonSets
    and Deployments (kubeadm's addons, nordkube's manifests with their sha256 annotation), or
    why the API did not answer.

    One kubectl call. When the API server's static pod should be running (its manifest is
    there and the kubelet is active) the API gets up to a minute to answer: a control plane
    just rebooted is not taken for a broken one. Nothing at all where there is no admin.conf.
    """

    default = dict

    def command(self) -> str:
        admin = shlex.quote(kubeadm.ADMIN_CONF)
        manifest = shlex.quote(kubeadm.APISERVER_MANIFEST)
        kubectl = f"kubectl --kubeconfig={admin} --request-timeout=10s"
        wait = (
            f"if [ -f {manifest} ] && systemctl is-active -q kubelet; then i=0; "
            f"while [ $i -lt 30 ] && ! {kubectl} get --raw=/livez >/dev/null 2>&1; "
            "do sleep 2; i=$((i+1)); done; fi"
        )
        query = (
            f"if out=$({kubectl} get daemonsets,deployments -A "
            f"-o jsonpath={shlex.quote(_OBJECTS_JSONPATH)} 2>&1); "
            f"then echo '{SECTION}objects'; echo \"$out\"; "
            f"else echo '{SECTION}api-error'; echo \"$out\" | tail -n 1; fi"
        )
        return (
            f"{marker('ClusterState')} if [ -f {admin} ] && command -v kubectl >/dev/null 2>&1;"
            f" then {wait}; {query}; fi"
        )

    def process(self, output: list[str]) -> dict[str, Any]:
        parts = sections(output)
        if "api-error" in parts:
            return {"api_error": _first(parts["api-error"]) or "no answer", "objects": []}
        objects = []
        for line in parts.get("objects", []):
            fields = line.split("\t")
            if len(fields) >= 3:
                kind, namespace, name = fields[:3]
                digest = fields[3] if len(fields) > 3 else ""
                available = fields[4].strip() if len(fields) > 4 else ""
                objects.append(
                    {
                        "kind": kind,
                        "namespace": namespace,
                        "name": name,
                        "sha256": digest or None,
                        "available": int(available) if available.isdigit() else 0,
                    }
                )
        return {"api_error": None, "objects": objects}


def _config_files(kind: str, directories: tuple[str, ...], suffixes: tuple[str, ...]) -> str:
    """Each file of `directories` ending in one of `suffixes`: a `kind PATH -> TARGET` header
    (TARGET: where a symlink points, /dev/null for a masked name), then its lines.

    A directory seen before under another name (/lib -> /usr/lib) is skipped; `echo` ends a
    last line that has no newline, so no file runs into the next header.
    """
    names = " ".join(shlex.quote(directory) for directory in directories)
    globs = " ".join(f'"$d"/*{suffix}' for suffix in suffixes)
    return (
        f'seen=; for d in {names}; do r=$(readlink -f "$d") || continue; '
        'case "$seen " in *" $r "*) continue;; esac; seen="$seen $r"; '
        f'for f in {globs}; do [ -e "$f" ] || continue; '
        f'echo "{SECTION}{kind} $f -> $(readlink -f "$f")"; cat "$f"; echo; done; done'
    )


class BootConfig(FactBase[dict[str, Any]]):
    """The files the boot reads kernel parameters and module rules from, and the kernel
    command line: what `nordkube.bootstate` judges the persisted state against.

    Every sysctl.d and modprobe.d file in every directory systemd-sysctl and kmod read, in
    that directory order, with its full text (comments included, so line numbers are the
    file's own); which of them wins is decided in nordkube.bootstate, not here.
    """

    default = dict

    def command(self) -> str:
        return f"{marker('BootConfig')} " + "; ".join(
            [
                _config_files("sysctl.d", bootstate.SYSCTL_DIRS, bootstate.SYSCTL_SUFFIXES),
                _config_files("modprobe.d", bootstate.MODPROBE_DIRS, bootstate.MODPROBE_SUFFIXES),
                _section("cmdline", "cat /proc/cmdline"),
            ]
        )

    def process(self, output: list[str]) -> dict[str, Any]:
        kinds = {"sysctl.d": "sysctl_files", "modprobe.d": "modprobe_files"}
        result: dict[str, Any] = {"sysctl_files": [], "modprobe_files": [], "cmdline": ""}
        for header, lines in sections(output).items():
            if header == "cmdline":
                result["cmdline"] = _first(lines)
                continue
            kind, _, rest = header.partition(" ")
            if kind not in kinds:
                continue
            path, _, target = rest.partition(" -> ")
            if lines and lines[-1] == "":
                lines = lines[:-1]  # the line `echo` added after the file's own last newline
            result[kinds[kind]].append({"path": path, "target": target or path, "lines": lines})
        return result


# containerd's CRI plugin keeps images with this label from the kubelet's garbage collection.
PINNED_LABEL = "io.cri-containerd.pinned=pinned"


class ContainerdImages(FactBase[dict[str, dict[str, Any]]]):
    """The images in containerd's k8s.io namespace (the kubelet's): each reference with its
    manifest digest and whether it is pinned against the kubelet's image garbage collection
    (label io.cri-containerd.pinned=pinned). `ctr` is the ctr program to ask."""

    default = dict

    def command(self, ctr: str) -> str:
        listing = f"{shlex.quote(ctr)} -n k8s.io images ls 2>/dev/null || true"
        return f"{marker('ContainerdImages')} {listing}"

    def process(self, output: list[str]) -> dict[str, dict[str, Any]]:
        images = {}
        for line in output:
            fields = line.split()
            # REF TYPE DIGEST SIZE (two words) PLATFORMS LABELS
            if len(fields) < 4 or fields[0] == "REF" or not fields[2].startswith("sha256:"):
                continue
            labels = fields[-1].split(",")
            images[fields[0]] = {"digest": fields[2], "pinned": PINNED_LABEL in labels}
        return images


class ClusterDnsAnswer(FactBase[dict[str, Any]]):
    """What `server` (the cluster DNS Service address) answers this node for an A record of
    `record`, asked from the node itself (nordkube/dnsquery.py): the addresses, or why there
    were none (the node refused to send it, no answer, an error code)."""

    default = dict

    def command(self, server: str, record: str) -> str:
        return f"{marker('ClusterDnsAnswer')} {dnsquery.command(server, record)}"

    def process(self, output: list[str]) -> dict[str, Any]:
        addresses, error = dnsquery.parse(output)
        return {"addresses": addresses, "error": error}


class EtcdDiskState(FactBase[dict[str, Any]]):
    """What the etcd stage decides from (nordkube/etcd_disk.py): `device` (an etcd_device
    value) resolved to block devices (a serial shared by several disks lists them all), what
    lsblk, blkid and wipefs find on it, where it and its partitions are mounted, what is
    mounted at and stored in `mount` (the etcd data directory's mount point), its fstab lines
    and the fsync gate's stored result. Read-only. lsblk's and wipefs's exit statuses are
    kept: a disk they could not read must never look blank."""

    default = dict

    def command(self, device: str, mount: str, result: str) -> str:
        want = device[len("serial:") :] if device.startswith("serial:") else ""
        resolve = (
            f"dev=$(lsblk -dnro NAME,SERIAL | awk -v s={shlex.quote(want)} "
            "'$2 == s {print \"/dev/\" $1}')"
            if want
            else f"dev=$(readlink -f {shlex.quote(device)} 2>/dev/null)"
        )
        quoted_mount = shlex.quote(mount)
        # The mount point with or without a trailing slash, as fstab may spell it.
        at = f'-v d={quoted_mount} \'($2 == d || $2 == d "/")'
        disk = "; ".join(
            [
                _section("type", 'lsblk -dnro TYPE "$dev"'),
                _section("transport", 'lsblk -dnro TRAN "$dev" 2>/dev/null'),
                # The disk, then its partitions, each with its mount point if it has one.
                _section(
                    "tree",
                    't=$(lsblk -nrpo NAME,MOUNTPOINT "$dev" 2>&1); echo "status $?"; '
                    'printf "%s\\n" "$t"',
                ),
                _section("blkid", 'blkid -p -o export "$dev" 2>/dev/null'),
                # wipefs's status tells a disk it read from one it could not: blkid exits
                # 2 both when it finds nothing and when it may not open the device.
                _section(
                    "wipefs",
                    'w=$(wipefs --no-act --parsable "$dev" 2>&1); echo "status $?"; '
                    'printf "%s\\n" "$w" | grep -v "^#"',
                ),
            ]
        )
        return f"{marker('EtcdDiskState')} " + "; ".join(
            [
                resolve,
                _section("device", 'echo "$dev"'),
                f'if [ -n "$dev" ] && [ -b "$dev" ]; then {disk}; fi',
                # The last line is the mount on top, the one that is seen.
                _section(
                    "at-mount", f"awk {at} {{print $1, $3, $4}}' /proc/self/mounts | tail -n 1"
                ),
                _section("mount-content", f"ls -A {quoted_mount} 2>/dev/null"),
                _section("fstab", f"awk {at} && $1 !~ /^#/' /etc/fstab 2>/dev/null"),
                _section("gate", f"cat {shlex.quote(result)} 2>/dev/null"),
                _section("fio", "command -v fio || true"),
            ]
        )

    def process(self, output: list[str]) -> dict[str, Any]:
        parts = sections(output)

        def first(name: str) -> str:
            return "".join(parts.get(name, [])[:1]).strip()

        def status_and_lines(name: str) -> tuple[str, list[str]]:
            lines = [line.strip() for line in parts.get(name, []) if line.strip()]
            status = lines[0].removeprefix("status ") if lines else "missing"
            return status, lines[1:]

        devices = [line.strip() for line in parts.get("device", []) if line.strip()]
        blkid = dict(line.split("=", 1) for line in parts.get("blkid", []) if "=" in line)
        at_mount = first("at-mount").split()
        tree_status, tree = status_and_lines("tree")
        wipefs_status, signatures = status_and_lines("wipefs")
        problems = []
        if "type" in parts and tree_status != "0":
            problems.append(" ".join(tree) or f"lsblk exited {tree_status}")
        if "type" in parts and wipefs_status != "0":
            problems.append(" ".join(signatures) or f"wipefs exited {wipefs_status}")
        nodes = [line.partition(" ") for line in tree] if tree_status == "0" else []
        gate_text = "\n".join(parts.get("gate", [])).strip()
        try:
            gate = json.loads(gate_text) if gate_text else None
        except ValueError:
            gate = {"error": f"unreadable: {gate_text[:80]}"}
        return {
            "device": devices[0] if len(devices) == 1 else None,
            # Every disk a serial matched (more than one: refused, never guessed).
            "matches": devices,
            "type": first("type") or None,
            "transport": first("transport") or None,
            "children": [name for name, _, _ in nodes[1:]],
            "mounted": {name: point for name, _, point in nodes if point},
            "blkid": blkid,
            "signatures": signatures if wipefs_status == "0" else [],
            # What lsblk or wipefs said when it could not read the disk: then nothing is
            # known of it.
            "probe_error": "; ".join(problems) or None,
            "at_mount": (
                {"source": at_mount[0], "fstype": at_mount[1], "options": at_mount[2].split(",")}
                if len(at_mount) >= 3
                else None
            ),
            "mount_content": [line.strip() for line in parts.get("mount-content", []) if line],
            "fstab": [" ".join(line.split()) for line in parts.get("fstab", []) if line.strip()],
            "gate": gate,
            "fio": bool(first("fio")),
        }

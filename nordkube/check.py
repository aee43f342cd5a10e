"""`nordkube check`: prove the node state with the testinfra suite in tests/node.

The suite runs against the hosts of any pyinfra inventory, with that inventory's SSH settings:
the inventory is loaded as pyinfra loads it (group_data included, nothing connects), each
host's merged data becomes one `Host` block of a temporary ssh config file, and pytest runs
testinfra over OpenSSH with one xdist worker per host. Test ids carry the host name
(`test_module_loaded[ssh://node1-ip_vs]`) and the suite ends with a summary per host.

The suite reads each host's settings (kube_proxy_mode, ipvs_scheduler, ...) from a JSON file
named by NORDKUBE_CHECK_HOSTS: `{"<testinfra host>": {"name": "<inventory host>",
"settings": {...}}}`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlencode

from nordkube import kubeadm
from nordkube.inventory import CONTROL_PLANE, InventoryHost, load_hosts, project_root
from nordkube.settings import Settings, SettingsError

if TYPE_CHECKING:
    from paramiko import SSHConfig

NODE_SUITE = project_root() / "tests" / "node"
HOSTS_ENV = "NORDKUBE_CHECK_HOSTS"
# pytest's exit code for a usage error: the inventory cannot be checked as given.
USAGE_ERROR = 4
# One xdist worker per host runs that host's tests; each is a Python process, so cap them.
MAX_WORKERS = 32
# Values OpenSSH's StrictHostKeyChecking accepts (pyinfra passes the same words to paramiko).
HOST_KEY_POLICIES = ("yes", "no", "off", "ask", "accept-new")
# Host names that are safe as an ssh config `Host` pattern and in testinfra's ssh://NAME.
_SAFE_ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class InventoryError(Exception):
    """The inventory cannot be checked; carries one line per problem, each naming the host."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Target:
    """One inventory host as the node suite reaches it."""

    name: str  # the inventory host name
    alias: str  # its `Host` in the ssh config and testinfra's host name
    # The OpenSSH options of its Host block, in order.
    ssh_options: tuple[tuple[str, str], ...]
    user_ssh_config: Path | None  # the user's ssh config pyinfra reads for this host
    sudo: bool
    sudo_user: str | None
    settings: Settings
    # Its place in the cluster (cluster_roles), for the suite's cluster states.
    cluster: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def hostspec(self) -> str:
        """The testinfra host: `ssh://ALIAS`, with sudo per host (inventories may mix)."""
        query = {}
        if self.sudo:
            query["sudo"] = "true"
            if self.sudo_user:
                query["sudo_user"] = self.sudo_user
        return f"ssh://{self.alias}" + (f"?{urlencode(query)}" if query else "")


def run_suite(
    targets: list[Target], workdir: Path, junit: Path | None, output: IO[str] | None = None
) -> int:
    """Run the node suite against the targets; return pytest's exit code.

    pytest's output goes to `output` when given (`nordkube drift` keeps it as a log), else to
    this process's own stdout.
    """
    ssh_config = workdir / "ssh_config"
    ssh_config.write_text(render_ssh_config(targets, workdir))
    hosts_file = workdir / "hosts.json"
    hosts_file.write_text(hosts_json(targets))
    try:
        result = subprocess.run(
            pytest_command(targets, ssh_config, junit),
            cwd=project_root(),
            env={**os.environ, HOSTS_ENV: str(hosts_file)},
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
            check=False,
        )
    finally:
        _close_connections(targets, ssh_config)
    return result.returncode


def over_ssh(name: str) -> bool:
    """Whether pyinfra reaches the host over SSH: it picks the connector from the name
    (`@docker/...`, `@local`, `@fake/...`); a plain name or `@ssh/...` is SSH."""
    return not name.startswith("@") or name.startswith("@ssh/")


def select_hosts(
    inventory: str,
    limit: list[str],
    override: Mapping[str, str] | None = None,
    ssh_only: bool = True,
) -> list[InventoryHost]:
    """The inventory's hosts (merged data, loaded as pyinfra loads them) that --limit selects.

    Like pyinfra's --limit, a pattern is a group name, else a glob on host names. `override`
    is what pyinfra's --data sets; `ssh_only` refuses hosts the node suite cannot reach.
    """
    if not Path(inventory).is_file():
        raise InventoryError([f"inventory {inventory} is not a file"])
    try:
        hosts = load_hosts(inventory, override)
    except Exception as error:
        raise InventoryError([f"cannot load inventory {inventory}: {error}"]) from error
    problems = []
    selected = hosts
    if limit:
        groups = {group for host in hosts for group in host.groups}
        chosen: set[str] = set()
        for pattern in limit:
            matches = {
                host.name
                for host in hosts
                if (pattern in host.groups if pattern in groups else fnmatch(host.name, pattern))
            }
            if not matches:
                problems.append(f"--limit {pattern}: no host or group of that name")
            chosen |= matches
        selected = [host for host in hosts if host.name in chosen]
    for host in selected:
        if ssh_only and not over_ssh(host.name):
            problems.append(f"{host.name}: nordkube check reaches nodes over SSH only")
    if not selected and not problems:
        problems.append(f"inventory {inventory} has no hosts")
    if problems:
        raise InventoryError(problems)
    return selected


def make_targets(hosts: Iterable[tuple[str, Mapping[str, Any]]], project: Path) -> list[Target]:
    """Targets from host names and merged data; raise InventoryError naming every problem.

    Relative key and file paths resolve against the current directory, then `project`
    (the directory pyinfra runs from), as pyinfra resolves `ssh_key`.
    """
    targets = []
    problems: list[str] = []
    aliases: set[str] = set()
    for name, data in hosts:
        try:
            settings = Settings.from_data(data, name)
            user_ssh_config = _user_ssh_config_path(name, data, project)
            options = ssh_options(name, data, _read_ssh_config(user_ssh_config), project)
        except SettingsError as error:
            problems.extend(str(problem) for problem in error.problems)
            continue
        except InventoryError as error:
            problems.extend(error.problems)
            continue
        alias = host_alias(name, aliases)
        aliases.add(alias)
        targets.append(
            Target(
                name=name,
                alias=alias,
                ssh_options=tuple(options),
                user_ssh_config=user_ssh_config,
                sudo=bool(data.get("_sudo")),
                sudo_user=data.get("_sudo_user"),
                settings=settings,
            )
        )
    if problems:
        raise InventoryError(problems)
    return targets


def ssh_options(
    name: str,
    data: Mapping[str, Any],
    user_config: SSHConfig | None,
    project: Path,
) -> list[tuple[str, str]]:
    """The OpenSSH options that reach host `name` as pyinfra's SSH connector does.

    `user_config` is the paramiko SSHConfig pyinfra would read (`ssh_config_file`, else
    ~/.ssh/config) or None. As in pyinfra, it is looked up by `ssh_hostname` (else the host
    name), and the host data win over it.
    """
    if data.get("ssh_password") and not data.get("ssh_key"):
        raise InventoryError(
            [f"{name}: ssh_password: nordkube check logs in with keys only; set ssh_key"]
        )
    hostname = str(data.get("ssh_hostname") or name)
    found = user_config.lookup(hostname) if user_config is not None else {}
    options = [("HostName", found.get("hostname", hostname))]
    user = data.get("ssh_user") or found.get("user")
    if user:
        options.append(("User", str(user)))
    port = data.get("ssh_port") or found.get("port")
    if port:
        options.append(("Port", str(port)))
    if data.get("ssh_key"):
        identities = [_quote(_resolve(name, "ssh_key", data["ssh_key"], project))]
    else:
        identities = [_quote(path) for path in found.get("identityfile", [])]
    options.extend(("IdentityFile", identity) for identity in identities)
    if identities:
        options.append(("IdentitiesOnly", "yes"))
    if data.get("ssh_known_hosts_file"):
        known_hosts = _quote(str(Path(data["ssh_known_hosts_file"]).expanduser()))
        options.append(("UserKnownHostsFile", known_hosts))
    elif "userknownhostsfile" in found:
        options.append(("UserKnownHostsFile", found["userknownhostsfile"]))
    policy = str(
        data.get("ssh_strict_host_key_checking") or found.get("stricthostkeychecking") or "yes"
    )
    if policy not in HOST_KEY_POLICIES:
        choices = ", ".join(HOST_KEY_POLICIES)
        message = f"{policy!r} is not one of {choices}"
        raise InventoryError([f"{name}: ssh_strict_host_key_checking: {message}"])
    options.append(("StrictHostKeyChecking", policy))
    # pyinfra prefers ProxyCommand over ProxyJump when the ssh config has both.
    if "proxycommand" in found:
        options.append(("ProxyCommand", found["proxycommand"]))
    elif "proxyjump" in found:
        options.append(("ProxyJump", found["proxyjump"]))
    for option, value in options:
        if "\n" in value or "\r" in value:
            raise InventoryError([f"{name}: {option} {value!r} spans several lines"])
    return options


def host_alias(name: str, taken: set[str]) -> str:
    """The host name itself when ssh and testinfra take it as is, else a readable variant."""
    if _SAFE_ALIAS.match(name) and name not in taken:
        return name
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._") or "host"
    alias, number = base, 2
    while alias in taken:
        alias, number = f"{base}-{number}", number + 1
    return alias


def render_ssh_config(targets: list[Target], control_dir: Path) -> str:
    """The ssh config file: one Host block per target, then what every connection shares.

    OpenSSH takes the first value it meets, so the blocks written from the host data win. The
    user's ssh config files are included last, for what the data leaves open: jump hosts
    named in ProxyJump, keep-alives, agents. BatchMode makes a missing key or unknown host
    key fail instead of prompting; ControlPath lets the suite's commands (testinfra asks for
    ControlMaster) share one connection per host.
    """
    lines = ["# Written by `nordkube check` from the inventory's host data."]
    for number, target in enumerate(targets):
        lines.append(f"Host {target.alias}")
        lines.extend(f"    {option} {value}" for option, value in target.ssh_options)
        # A socket per host: workers checking hosts behind one address never race for one.
        lines.append(f"    ControlPath {_quote(str(control_dir / f'ssh-{number}'))}")
        lines.append("")
    lines.append("Host *")
    lines.append("    BatchMode yes")
    user_configs = dict.fromkeys(t.user_ssh_config for t in targets if t.user_ssh_config)
    lines.extend(f"    Include {_quote(str(path))}" for path in user_configs)
    return "\n".join(lines) + "\n"


def cluster_roles(inventory: str, hosts: Iterable[InventoryHost]) -> dict[str, dict[str, Any]]:
    """Each host's place in the cluster, for the suite's cluster states: whether it is a
    control-plane node, how many the inventory has (the API's real servers), and for the first
    one where the deploy wrote the operator's admin kubeconfig (run from this directory)."""
    every = list(hosts)
    control_planes = [host.name for host in every if CONTROL_PLANE in host.groups]
    name = Path(inventory).name.rsplit(".", 1)[0]  # the group pyinfra names after the file
    return {
        host.name: {
            "control_plane": host.name in control_planes,
            "control_planes": len(control_planes),
            "admin_kubeconfig": (
                kubeadm.admin_kubeconfig_path(os.getcwd(), name)
                if control_planes and host.name == control_planes[0]
                else None
            ),
        }
        for host in every
    }


def with_cluster(targets: Iterable[Target], roles: Mapping[str, Mapping[str, Any]]) -> list[Target]:
    return [dataclasses.replace(target, cluster=roles.get(target.name, {})) for target in targets]


def suite_targets(inventory: str, hosts: Iterable[InventoryHost]) -> list[Target]:
    """The node suite's targets for the selected `hosts`: their SSH and nordkube settings, and
    each one's place in the cluster of the whole inventory. Raises InventoryError."""
    targets = make_targets([(host.name, host.data) for host in hosts], project_root())
    return with_cluster(targets, cluster_roles(inventory, load_hosts(inventory)))


def hosts_json(targets: Iterable[Target]) -> str:
    """What the node suite needs per testinfra host: its inventory name, settings and place
    in the cluster."""
    hosts = {
        target.alias: {
            "name": target.name,
            "settings": dataclasses.asdict(target.settings),
            "cluster": dict(target.cluster),
        }
        for target in targets
    }
    return json.dumps(hosts, indent=2, sort_keys=True)


def pytest_command(targets: list[Target], ssh_config: Path, junit: Path | None) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(NODE_SUITE),
        "-p",
        "no:cacheprovider",
        f"--hosts={','.join(target.hostspec() for target in targets)}",
        f"--ssh-config={ssh_config}",
        # One worker runs all of a host's tests (the conftest makes hosts the scopes).
        "-n",
        str(min(len(targets), MAX_WORKERS)),
        "--dist=loadscope",
        "--tb=short",
        # The conftest ends the run with the failures per host; pytest's own list would repeat it.
        "-rN",
    ]
    if junit is not None:
        command.append(f"--junitxml={junit}")
    return command


def _resolve(name: str, setting: str, value: str, project: Path) -> str:
    path = Path(value).expanduser()
    for candidate in (path, project / path):
        if candidate.is_file():
            return str(candidate.resolve())
    raise InventoryError([f"{name}: {setting}: {value} does not exist"])


def _user_ssh_config_path(name: str, data: Mapping[str, Any], project: Path) -> Path | None:
    """The user's ssh config pyinfra reads for a host: `ssh_config_file`, else ~/.ssh/config."""
    if data.get("ssh_config_file"):
        return Path(_resolve(name, "ssh_config_file", data["ssh_config_file"], project))
    default = Path("~/.ssh/config").expanduser()
    return default if default.is_file() else None


def _read_ssh_config(path: Path | None) -> SSHConfig | None:
    from paramiko import SSHConfig

    return SSHConfig.from_path(str(path)) if path is not None else None


def _close_connections(targets: Iterable[Target], ssh_config: Path) -> None:
    """Stop the shared connections the suite left behind (ControlPersist keeps them)."""
    for target in targets:
        subprocess.run(
            ["ssh", "-F", str(ssh_config), "-O", "exit", target.alias],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )


def _quote(value: str) -> str:
    return f'"{value}"' if any(char.isspace() for char in value) else value

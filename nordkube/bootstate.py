"""What a node's own configuration makes of the persisted state at the next boot.

The kernel stage persists kernel parameters in a sysctl.d file and modules in a modules-load.d
file. Other files on the node are read at boot too and can undo both: from those files' text
(read by `pyinfra_ext.facts.BootConfig`) this module computes which value wins for each
parameter, and whether a modprobe.d rule or the kernel command line keeps a module from
loading. How systemd-sysctl, kmod and systemd-modules-load read them, with the sources, is in
docs/domain.md ("What can undo the persisted state at boot"). Pure logic, no pyinfra.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from nordkube.settings import Problem

SYSCTL_DIRS = (
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
)
MODPROBE_DIRS = (
    "/etc/modprobe.d",
    "/run/modprobe.d",
    "/usr/local/lib/modprobe.d",
    "/usr/lib/modprobe.d",
    "/lib/modprobe.d",
)
SYSCTL_SUFFIXES = (".conf",)
MODPROBE_SUFFIXES = (".conf", ".alias")
MASKED = "/dev/null"


@dataclass(frozen=True)
class ConfigFile:
    """One configuration file as found: where, what it resolves to, and its lines."""

    path: str
    target: str  # the path itself, a symlink's target, or /dev/null for a masked name
    lines: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    def __str__(self) -> str:
        return self.path if self.target == self.path else f"{self.path} (-> {self.target})"


def config_files(entries: Iterable[Mapping[str, Any]]) -> list[ConfigFile]:
    """ConfigFiles from the fact's entries ({path, target, lines})."""
    return [
        ConfigFile(entry["path"], entry.get("target") or entry["path"], tuple(entry["lines"]))
        for entry in entries
    ]


def boot_order(
    files: Iterable[ConfigFile], directories: Sequence[str], suffixes: Sequence[str]
) -> list[ConfigFile]:
    """The files the boot reads, in the order it reads them.

    One file per name: the one in the earliest of `directories`; then sorted by name (byte
    order, as strcmp). Files outside those directories or without a suffix are not read.
    """
    chosen: dict[str, tuple[int, ConfigFile]] = {}
    for file in files:
        directory = posixpath.dirname(file.path)
        if directory not in directories or not file.name.endswith(tuple(suffixes)):
            continue
        rank = directories.index(directory)
        if file.name not in chosen or rank < chosen[file.name][0]:
            chosen[file.name] = (rank, file)
    return [chosen[name][1] for name in sorted(chosen, key=lambda name: name.encode())]


# -- sysctl ----------------------------------------------------------------------------------


def sysctl_path(key: str) -> str:
    """A key as the path under /proc/sys it writes: `net.ipv4.ip_forward` -> `net/ipv4/ip_forward`.

    If the first separator is a dot, dots and slashes swap; if it is a slash, both stay.
    """
    key = key.strip().strip("/")
    first = re.search(r"[./]", key)
    if first and first.group() == ".":
        key = key.translate(str.maketrans("./", "/."))
    return re.sub("/+", "/", key)


@dataclass(frozen=True)
class Assignment:
    """`key = value` on line `line` of `file`."""

    key: str
    value: str
    file: ConfigFile
    line: int


def sysctl_assignments(file: ConfigFile) -> Iterator[Assignment]:
    """The explicit (non-glob) assignments of a sysctl.d file, in order."""
    for number, raw in enumerate(file.lines, start=1):
        line = raw.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("-").strip()
        if not key or any(char in key for char in "*?["):
            continue
        yield Assignment(key, value.strip(), file, number)


def boot_sysctls(files: Iterable[ConfigFile]) -> dict[str, Assignment]:
    """The assignment in force after the boot for every key set explicitly, by /proc/sys path.

    `files` in the boot's order (see `boot_order`): the last assignment wins.
    """
    winners: dict[str, Assignment] = {}
    for file in files:
        for assignment in sysctl_assignments(file):
            winners[sysctl_path(assignment.key)] = assignment
    return winners


def same_sysctl_value(left: str, right: str) -> bool:
    """Values the kernel reads alike: the same words, or the same integers (`01` is `1`)."""
    left_words, right_words = left.split(), right.split()
    if left_words == right_words:
        return True
    try:
        return [int(word) for word in left_words] == [int(word) for word in right_words]
    except ValueError:
        return False


@dataclass(frozen=True)
class SysctlConflict:
    """A key the deploy persists that another file sets to another value, and wins."""

    key: str
    wanted: str
    winner: Assignment


def sysctl_conflicts(
    files: Iterable[ConfigFile], wanted: Mapping[str, str], own: ConfigFile
) -> list[SysctlConflict]:
    """Keys of `wanted` whose value at boot would differ, with `own` (the file the deploy
    writes, with the content it writes) in place of whatever is at its path now."""
    present = [file for file in files if file.path != own.path]
    winners = boot_sysctls(boot_order([*present, own], SYSCTL_DIRS, SYSCTL_SUFFIXES))
    conflicts = []
    for key, value in wanted.items():
        winner = winners.get(sysctl_path(key))
        if (
            winner is not None
            and winner.file.path != own.path
            and not same_sysctl_value(winner.value, value)
        ):
            conflicts.append(SysctlConflict(key, value, winner))
    return conflicts


# -- kernel modules --------------------------------------------------------------------------


def module_name(text: str) -> str:
    """kmod's normal form of a module name: dashes become underscores."""
    return text.replace("-", "_")


@dataclass(frozen=True)
class ModprobeRule:
    """One `install`, `blacklist` or `alias` line of a modprobe.d file."""

    command: str
    module: str  # the module (a glob for install), dashes as underscores
    argument: str  # the install command or the alias's target; empty for blacklist
    file: ConfigFile
    line: int

    def __str__(self) -> str:
        return f"{self.command} {self.module} {self.argument}".strip()


def modprobe_logical_lines(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """Lines joined where one ends in a backslash, each with the number of its first line."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(lines, start=1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending.append(raw[:-1])
            continue
        pending.append(raw)
        yield start, "".join(pending)
        pending = []
    if pending:
        yield start, "".join(pending)


def modprobe_rules(files: Iterable[ConfigFile]) -> list[ModprobeRule]:
    """The install, blacklist and alias rules of `files` (in the boot's order), in order."""
    rules = []
    for file in files:
        for number, line in modprobe_logical_lines(file.lines):
            fields = line.split(None, 2)
            if len(fields) < 2 or fields[0] not in ("install", "blacklist", "alias"):
                continue
            command, module = fields[0], module_name(fields[1])
            argument = fields[2].strip() if len(fields) > 2 else ""
            if command != "blacklist" and not argument:
                continue  # kmod ignores a rule without its command or target
            if command == "alias":
                argument = module_name(argument.split()[0])
            rules.append(ModprobeRule(command, module, argument, file, number))
    return rules


def runs_modprobe_for(command: str, module: str) -> bool:
    """Whether an install command still loads `module` (`modprobe --ignore-install MODULE`)."""
    words = [word for word in re.split(r"[\s;&|()`]+", command) if word]
    return (
        any(posixpath.basename(word) == "modprobe" for word in words)
        and ("--ignore-install" in words or "-i" in words)
        and module in (module_name(word) for word in words)
    )


@dataclass(frozen=True)
class ModuleDefeat:
    """A rule that keeps a module the deploy loads at boot from loading."""

    module: str
    rule: str
    where: str
    effect: str


def cmdline_blacklists(cmdline: str) -> dict[str, list[str]]:
    """`module_blacklist=` and `modprobe.blacklist=` entries of the kernel command line."""
    found: dict[str, list[str]] = {}
    for word in cmdline.split():
        option, _, value = word.partition("=")
        if option in ("module_blacklist", "modprobe.blacklist"):
            found.setdefault(option, []).extend(module_name(m) for m in value.split(",") if m)
    return found


def _defeat(
    module: str, rules: list[ModprobeRule], cmdline: dict[str, list[str]]
) -> ModuleDefeat | None:
    """The first rule that keeps `module` from loading at boot, in the order kmod applies them."""
    for rule in rules:
        if rule.command == "install" and fnmatchcase(module, rule.module):
            if runs_modprobe_for(rule.argument, module):
                break  # the first matching install rule is the only one kmod runs
            effect = "runs instead of loading it, for modprobe and at boot alike"
            return ModuleDefeat(module, str(rule), f"{rule.file} line {rule.line}", effect)
    for command, effect in (
        ("alias", "makes modprobe and the boot look up another module in its place"),
        ("blacklist", "makes systemd-modules-load skip it at boot (a plain modprobe ignores it)"),
    ):
        for rule in rules:
            if rule.command == command and rule.module == module and rule.argument != module:
                return ModuleDefeat(module, str(rule), f"{rule.file} line {rule.line}", effect)
    for option, effect in (
        ("module_blacklist", "makes the kernel refuse to load it"),
        ("modprobe.blacklist", "makes systemd-modules-load skip it at boot"),
    ):
        if module in cmdline.get(option, []):
            words = f"{option}={','.join(cmdline[option])}"
            return ModuleDefeat(module, words, "the kernel command line", effect)
    return None


def module_defeats(
    files: Iterable[ConfigFile], cmdline: str, modules: Iterable[str]
) -> list[ModuleDefeat]:
    """For each module that something keeps from loading at boot, the first such rule."""
    rules = modprobe_rules(boot_order(files, MODPROBE_DIRS, MODPROBE_SUFFIXES))
    blacklists = cmdline_blacklists(cmdline)
    found = (_defeat(module_name(module), rules, blacklists) for module in modules)
    return [defeat for defeat in found if defeat is not None]


# -- the verdict for one host ----------------------------------------------------------------


def boot_state_problems(
    host: str,
    boot: Mapping[str, Any],
    sysctls: Mapping[str, str],
    own_sysctl_file: ConfigFile,
    modules: Iterable[str],
) -> list[Problem]:
    """What would undo the persisted state at the next boot, one problem per key or module.

    `boot` is BootConfig's answer; `own_sysctl_file` the sysctl.d file the deploy writes, with
    its content; `modules` those it lists in modules-load.d.
    """
    problems = []
    sysctl_files = config_files(boot.get("sysctl_files", []))
    for conflict in sysctl_conflicts(sysctl_files, sysctls, own_sysctl_file):
        winner = conflict.winner
        problems.append(
            Problem(
                host,
                conflict.key,
                f"{winner.file} line {winner.line} sets {winner.value}, which wins at boot "
                f"over {conflict.wanted} in {own_sysctl_file.path} (sysctl.d files apply in "
                f"name order, the last one wins): remove that line or set {conflict.wanted} "
                "there, then run the deploy again",
            )
        )
    modprobe_files = config_files(boot.get("modprobe_files", []))
    for defeat in module_defeats(modprobe_files, boot.get("cmdline", ""), modules):
        problems.append(
            Problem(
                host,
                defeat.module,
                f"`{defeat.rule}` in {defeat.where} {defeat.effect}, and the node needs it "
                "loaded at every boot (kube-proxy, the CNI, containerd): remove the rule, "
                "then run the deploy again",
            )
        )
    return problems

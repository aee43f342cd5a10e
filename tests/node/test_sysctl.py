"""Kernel parameters Kubernetes needs: set now, set again at boot from the deploy's file, and
not set otherwise at boot by a file that systemd-sysctl applies after it."""

from __future__ import annotations

import re
from typing import Any

import pytest

PERSIST_FILE = "/etc/sysctl.d/90-nordkube.conf"
# Where systemd-sysctl reads `*.conf` from at boot; a file hides those of its name in the
# directories after it, then all apply sorted by name and the last to set a key wins
# (sysctl.d(5)). systemd-analyze prints them in that order itself (systemd >= 239); older
# systemd (CentOS 7, Ubuntu 18.04) gets the same order from the shell below.
SYSCTL_DIRS = (
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
)
BOOT_ORDER = (
    "systemd-analyze cat-config sysctl.d 2>/dev/null || "
    f'for d in {" ".join(SYSCTL_DIRS)}; do for f in "$d"/*.conf; do '
    '[ -e "$f" ] && echo "${f##*/} $f"; done; done | awk \'!seen[$1]++\' | LC_ALL=C sort -k1,1 '
    '| while read -r name f; do echo "# $f"; cat "$f"; echo; done'
)
SYSCTLS = {
    "net.ipv4.ip_forward": "1",
    # These two exist only once br_netfilter is loaded.
    "net.bridge.bridge-nf-call-iptables": "1",
    "net.bridge.bridge-nf-call-ip6tables": "1",
    "fs.inotify.max_user_instances": "8192",
    "fs.inotify.max_user_watches": "1048576",
    "kernel.panic": "10",
    "kernel.panic_on_oops": "1",
    "vm.overcommit_memory": "1",
}


@pytest.fixture(scope="module")
def persisted(host: Any, node: Any) -> dict[str, str] | None:
    """The `key = value` settings of PERSIST_FILE; None when it is missing."""
    result = host.run("cat %s", PERSIST_FILE)
    if result.rc != 0:
        return None
    settings = {}
    for line in result.stdout.splitlines():
        line = line.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, value = line.split("=", 1)
        # A leading '-' tells systemd-sysctl to ignore a missing key; the key is the same.
        settings[key.strip().lstrip("-")] = value.strip()
    return settings


@pytest.mark.parametrize(("key", "expected"), SYSCTLS.items(), ids=list(SYSCTLS))
def test_sysctl_live(host: Any, node: Any, key: str, expected: str) -> None:
    path = "/proc/sys/" + key.replace(".", "/")
    result = host.run("cat %s", path)
    assert result.rc == 0, f"{node}: {key} does not exist on the running kernel ({path})"
    live = result.stdout.strip()
    assert live == expected, f"{node}: {key} is {live}, expected {expected}"


@pytest.mark.parametrize(("key", "expected"), SYSCTLS.items(), ids=list(SYSCTLS))
def test_sysctl_persisted(
    node: Any, persisted: dict[str, str] | None, key: str, expected: str
) -> None:
    assert persisted is not None, f"{node}: {PERSIST_FILE} is missing, so {key} is lost at boot"
    assert key in persisted, f"{node}: {key} is not set in {PERSIST_FILE}"
    assert persisted[key] == expected, (
        f"{node}: {PERSIST_FILE} sets {key} = {persisted[key]}, expected {expected}"
    )


def _proc_sys_path(key: str) -> str:
    """`net.ipv4.ip_forward` and `net/ipv4/ip_forward` both write /proc/sys/net/ipv4/ip_forward:
    if the first separator is a dot, dots and slashes swap (sysctl.d(5))."""
    key = key.strip().strip("/")
    first = re.search(r"[./]", key)
    if first and first.group() == ".":
        key = key.translate(str.maketrans("./", "/."))
    return key


@pytest.fixture(scope="module")
def at_boot(host: Any, node: Any) -> dict[str, tuple[str, str]]:
    """What the boot sets, by /proc/sys path: (value, file) of each key's last assignment."""
    result = host.run(BOOT_ORDER)
    assert result.rc == 0, f"{node}: cannot list the sysctl.d files: {result.stderr.strip()}"
    values: dict[str, tuple[str, str]] = {}
    source = "?"
    for line in result.stdout.splitlines():
        header = re.fullmatch(r"# (/\S+\.conf)", line.strip())
        if header and header.group(1).startswith(tuple(f"{d}/" for d in SYSCTL_DIRS)):
            source = header.group(1)
            continue
        line = line.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip().lstrip("-").strip()
        if any(char in key for char in "*?["):
            continue  # a glob never applies to a key assigned explicitly
        values[_proc_sys_path(key)] = (" ".join(value.split()), source)
    return values


@pytest.mark.parametrize(("key", "expected"), SYSCTLS.items(), ids=list(SYSCTLS))
def test_sysctl_persisted_value_wins(
    node: Any, at_boot: dict[str, tuple[str, str]], key: str, expected: str
) -> None:
    found = at_boot.get(_proc_sys_path(key))
    assert found is not None, f"{node}: no sysctl.d file sets {key}, so it is lost at boot"
    value, source = found
    assert value == expected, (
        f"{node}: at boot {source} sets {key} = {value} after {PERSIST_FILE} and wins; "
        f"expected {expected}"
    )

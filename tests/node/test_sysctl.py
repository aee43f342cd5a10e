"""Kernel parameters Kubernetes needs: set now, and set again at boot from the deploy's file."""

from __future__ import annotations

from typing import Any

import pytest

PERSIST_FILE = "/etc/sysctl.d/90-nordkube.conf"
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

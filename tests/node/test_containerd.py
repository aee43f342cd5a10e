"""containerd: running, enabled, and using the systemd cgroup driver that kubeadm's kubelet uses.

The runc options table moved in containerd 2.x; the config file is read in the table of the
installed major version, and `containerd config dump` shows what the daemon really loads.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

CONFIG_FILE = "/etc/containerd/config.toml"
# The runc options table per containerd major version, as a key path and as written in TOML.
RUNC_OPTIONS = {
    1: (
        "plugins",
        "io.containerd.grpc.v1.cri",
        "containerd",
        "runtimes",
        "runc",
        "options",
    ),
    2: (
        "plugins",
        "io.containerd.cri.v1.runtime",
        "containerd",
        "runtimes",
        "runc",
        "options",
    ),
}
RUNC_OPTIONS_TABLE = {
    1: '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
    2: "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]",
}
# Where the sandbox (pause) image is set, per major version.
SANDBOX_IMAGE = {
    1: ("plugins", "io.containerd.grpc.v1.cri", "sandbox_image"),
    2: ("plugins", "io.containerd.cri.v1.images", "pinned_images", "sandbox"),
}
PAUSE_IMAGE = re.compile(r"^registry\.k8s\.io/pause:\S+$")


def containerd_major(host: Any, node: Any) -> int:
    result = host.run("containerd --version")
    assert result.rc == 0, f"{node}: `containerd --version` failed: {result.stderr.strip()}"
    match = re.search(r"\sv?(\d+)\.\d+\.\d+", result.stdout)
    assert match, f"{node}: no version in `containerd --version`: {result.stdout.strip()}"
    major = int(match.group(1))
    assert major in RUNC_OPTIONS, f"{node}: containerd {major}.x is not supported"
    return major


def parse_toml(text: str, node: Any, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise AssertionError(f"{node}: {source} is not valid TOML: {error}") from None


def lookup(document: dict[str, Any], path: tuple[str, ...]) -> Any:
    """The value at a key path, or None when any table on the way is missing."""
    value: Any = document
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def config_dump(host: Any, node: Any) -> dict[str, Any]:
    result = host.run("containerd config dump")
    assert result.rc == 0, f"{node}: `containerd config dump` failed: {result.stderr.strip()}"
    return parse_toml(result.stdout, node, "`containerd config dump`")


def test_containerd_running_and_enabled(host: Any, node: Any) -> None:
    service = host.service("containerd")
    assert service.is_running, f"{node}: containerd is not running"
    assert service.is_enabled, f"{node}: containerd is not enabled at boot"


def test_containerd_systemd_cgroup_configured(host: Any, node: Any) -> None:
    major = containerd_major(host, node)
    config = host.file(CONFIG_FILE)
    assert config.exists, f"{node}: {CONFIG_FILE} is missing"
    options = lookup(parse_toml(config.content_string, node, CONFIG_FILE), RUNC_OPTIONS[major])
    assert options is not None and options.get("SystemdCgroup") is True, (
        f"{node}: {CONFIG_FILE} lacks SystemdCgroup = true in "
        f"{RUNC_OPTIONS_TABLE[major]} (containerd {major}.x)"
    )


def test_containerd_systemd_cgroup_live(host: Any, node: Any) -> None:
    major = containerd_major(host, node)
    options = lookup(config_dump(host, node), RUNC_OPTIONS[major])
    assert options is not None and options.get("SystemdCgroup") is True, (
        f"{node}: the running containerd {major}.x does not use the systemd cgroup driver "
        f"(`containerd config dump` has no SystemdCgroup = true in {RUNC_OPTIONS_TABLE[major]}); "
        "restart containerd after changing its config"
    )


def test_containerd_sandbox_image(host: Any, node: Any) -> None:
    major = containerd_major(host, node)
    image = lookup(config_dump(host, node), SANDBOX_IMAGE[major])
    assert isinstance(image, str) and PAUSE_IMAGE.match(image), (
        f"{node}: containerd's sandbox image is {image!r}, expected registry.k8s.io/pause:<version>"
    )

"""Programs from the offline bundle: each on the node with exactly the bundle's bytes.

Runs on hosts with kubernetes_package_source 'bundle'; the expected checksums come from the
bundle's own bundle.json on the machine running the suite, not from the deploy's decisions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nordkube.bundle.install import bundle_dir

# Where the runtime's programs must be, and the program each is.
RUNTIME = {
    "/usr/local/bin/containerd": "containerd",
    "/usr/local/bin/containerd-shim-runc-v2": "containerd-shim-runc-v2",
    "/usr/local/bin/ctr": "ctr",
    "/usr/local/sbin/runc": "runc",
}


def bundle_records(node: Any) -> dict[str, dict[str, Any]]:
    settings = node.settings
    if settings.kubernetes_package_source != "bundle":
        pytest.skip(f"{node}: installs from packages, not from a bundle")
    directory = bundle_dir(settings.kubernetes_bundle, settings.kubernetes_version)
    manifest = json.loads((Path(directory) / "bundle.json").read_text())
    return {r["name"]: r for r in manifest["artifacts"] if r["kind"] == "binary"}


@pytest.mark.parametrize("path", sorted(RUNTIME))
def test_runtime_program_is_the_bundles(host: Any, node: Any, path: str) -> None:
    record = bundle_records(node)[RUNTIME[path]]
    found = host.run(f"sha256sum {path}")
    assert found.rc == 0, f"{node}: {path} is missing ({found.stderr.strip()})"
    assert found.stdout.split()[0] == record["sha256"], (
        f"{node}: {path} differs from the bundle's {record['name']} {record['version']}"
    )
    assert host.file(path).mode == 0o755, f"{node}: {path} is not mode 755"


def test_containerd_runs_the_bundles_version(host: Any, node: Any) -> None:
    record = bundle_records(node)["containerd"]
    version = host.run("containerd --version")
    assert version.rc == 0, f"{node}: containerd --version failed: {version.stderr.strip()}"
    assert f" {record['version']} " in f"{version.stdout.strip()} ", (
        f"{node}: containerd says {version.stdout.strip()!r}, the bundle has {record['version']}"
    )

"""Repository signing keys are verified on the node against their pins before anything
trusts them (nordkube/keys.py, pyinfra_ext.operations.signing_key_verified).

The whole deploy is executed (`-y`, not `--dry`) on two @fake hosts answering from the
matrix's Debian 12 and Debian 13 recordings, where Kubernetes 1.35 needs Docker's
containerd.io: on Debian 12 the downloaded Docker key has the pinned fingerprint, on Debian 13
a different one. pyinfra's @fake connector logs
every command and upload it simulates (`--debug`), which is what the assertions read.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nordkube import keys
from nordkube.managed import DOCKER_APT_KEY, DOCKER_APT_SOURCE, KUBERNETES_APT_KEY

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WRONG = "0123456789ABCDEF0123456789ABCDEF01234567"


def _gpg_listing(path: str, fingerprint: str) -> list[str]:
    """KeyFingerprints' section for one file: `gpg --with-colons` records of one key (the
    record layout of GnuPG 2.2's --show-keys; only pub and fpr are read)."""
    return [
        f"::nordkube:{path}",
        f"pub:-:4096:1:{fingerprint[-16:]}:1487788800:::-:::scSC::::::23::0:",
        f"fpr:::::::::{fingerprint}:",
    ]


def _inventory(path: Path) -> None:
    path.write_text(
        f"""import re, sys
sys.path.insert(0, {str(ROOT)!r})
from inventories.recordings import RECORDINGS
from tests.unit.test_signing_keys import fingerprints

def _host(name, os_name, docker_fingerprint):
    recording = RECORDINGS[os_name]
    responses = dict(recording.fake_responses())
    responses.popitem()  # the catch-all: executed commands succeed with no output
    responses = {{": nordkube-fact KeyFingerprints;": fingerprints(docker_fingerprint),
                  **responses}}
    return (name, {{"fake_responses": responses, "fake_delay": 0, "fake_delay_jitter": 0,
                   "node_network": "10.20.0.0/24",
                   "private_address": recording.identity.private_ip,
                   "etcd_device": "/dev/nvme0n1"}})

control_plane = [_host("@fake/good-key", "debian-12", {keys.DOCKER_DEB.fingerprint!r})]
workers = [_host("@fake/wrong-key", "debian-13", {WRONG!r})]
"""
    )


def fingerprints(docker_fingerprint: str) -> list[str]:
    """What gpg finds in the two downloaded keys: pkgs.k8s.io's, and Docker's as given."""
    return _gpg_listing(f"{KUBERNETES_APT_KEY}.unverified", keys.KUBERNETES.fingerprint) + (
        _gpg_listing(f"{DOCKER_APT_KEY}.unverified", docker_fingerprint)
    )


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str]:
    inventory = tmp_path_factory.mktemp("keys") / "keys.py"
    _inventory(inventory)
    result = subprocess.run(
        [str(BIN / "pyinfra"), str(inventory), "deploy.py", "-y", "--debug"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYINFRA_PROGRESS": "off"},
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def _simulated(log: str, host: str) -> list[str]:
    """The commands and uploads (their remote path) the @fake connector simulated on `host`,
    in order, fact commands left out (FileStates names every managed path)."""
    simulated = re.findall(
        rf"\[fake\] simulating (?:command|put_file) on {re.escape(host)}: (.*)", log
    )
    return [line for line in simulated if not line.startswith(": nordkube-fact ")]


def test_a_key_that_differs_from_the_pin_stops_that_host(executed: tuple[int, str]) -> None:
    returncode, log = executed
    assert returncode != 0, "a failed host makes the run fail"
    assert (
        f"Error: {keys.DOCKER_DEB.name} downloaded from https://download.docker.com/linux/debian"
        f"/gpg holds fingerprint(s) {WRONG}, but nordkube pins {keys.DOCKER_DEB.fingerprint}"
    ) in log
    wrong = _simulated(log, "@fake/wrong-key")
    assert f"rm -f {DOCKER_APT_KEY}.unverified {DOCKER_APT_KEY}" in wrong
    assert not any(line.startswith("chmod 644") and DOCKER_APT_KEY in line for line in wrong)
    assert not any(DOCKER_APT_SOURCE in line for line in wrong), "no repository file"
    assert not any("containerd.io" in line and "apt-get install" in line for line in wrong)


def test_the_pinned_key_is_trusted_and_its_repository_used(executed: tuple[int, str]) -> None:
    _, log = executed
    good = _simulated(log, "@fake/good-key")
    moved = f"chmod 644 {DOCKER_APT_KEY}.unverified && mv -f {DOCKER_APT_KEY}.unverified"
    assert any(line.startswith(moved) for line in good)
    assert any(line.endswith(DOCKER_APT_SOURCE) for line in good), "repository uploaded"
    assert any("apt-get install" in line and "containerd.io" in line for line in good)


@pytest.mark.parametrize(
    ("found", "refused"),
    [([keys.DOCKER_DEB.fingerprint], False), ([], True), ([WRONG], True),
     ([keys.DOCKER_DEB.fingerprint, WRONG], True)],
)  # fmt: skip
def test_only_a_file_with_exactly_the_pinned_key_passes(found: list[str], refused: bool) -> None:
    assert (keys.mismatch(keys.DOCKER_DEB, "https://x/gpg", found) is not None) is refused


def test_primary_fingerprints_skip_subkeys() -> None:
    listing = [
        "pub:-:4096:1:8D81803C0EBFCD88:1487788800:::-:::scSC::::::23::0:",
        f"fpr:::::::::{keys.DOCKER_DEB.fingerprint}:",
        "uid:-::::1487788800::0::Docker Release (CE deb) <docker@docker.com>::::::::::0:",
        "sub:-:4096:1:7EA0A9C3F273FCD8:1487792064:::::s::::::23:",
        f"fpr:::::::::{WRONG}:",
    ]
    assert keys.primary_fingerprints(listing) == [keys.DOCKER_DEB.fingerprint]

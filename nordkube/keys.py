"""The repository signing keys nordkube trusts, each pinned by its OpenPGP fingerprint.

A key is downloaded to a temporary file on the node, its fingerprint computed there
(`gpg --with-colons`), and only a file holding exactly the pinned key becomes the key a
repository trusts (pyinfra_ext.operations.signing_key_verified). The fingerprint is pinned,
not the file's sha256: upstream re-exports a key when it extends its expiry (pkgs.k8s.io did
in November 2024, same fingerprint; https://github.com/kubernetes/release/issues/3818), which
changes the file but not the key.

Pure data and functions (no pyinfra).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class PinnedKey:
    """One signing key: what it is called in messages, and its primary key's fingerprint."""

    name: str
    fingerprint: str  # 40 upper-case hex digits, no spaces


# pkgs.k8s.io signs every minor's repository (core:/stable:/v1.N, deb Release.key and rpm
# repodata/repomd.xml.key) with the same OBS project key, "isv:kubernetes OBS Project
# <isv:kubernetes@build.opensuse.org>". Fingerprint as gpg prints it for v1.26 and v1.27's
# Release.key in https://github.com/kubernetes/kubernetes/issues/128609, and as dnf prints it
# importing repomd.xml.key of v1.28 to v1.36 ("Importing GPG key 0x9A296436").
KUBERNETES = PinnedKey(
    "the Kubernetes package signing key (isv:kubernetes OBS Project)",
    "DE15B14486CD377B9E876E1A234654DA9A296436",
)

# download.docker.com/linux/{debian,ubuntu}/gpg, "Docker Release (CE deb) <docker@docker.com>":
# the fingerprint Docker's install guide told users to check
# (https://github.com/docker/docs/pull/11990, engine/install/debian.md).
DOCKER_DEB = PinnedKey(
    "Docker's apt signing key (Docker Release (CE deb))",
    "9DC858229FC7DD38854AE2D88D81803C0EBFCD88",
)

# download.docker.com/linux/centos/gpg, "Docker Release (CE rpm) <docker@docker.com>": Docker's
# install guide for CentOS/RHEL, "If prompted to accept the GPG key, verify that the fingerprint
# matches 060A 61C5 1B55 8A7F 742B 77AA C52F EB6B 621E 9F35"
# (https://docs.docker.com/engine/install/centos/).
DOCKER_RPM = PinnedKey(
    "Docker's rpm signing key (Docker Release (CE rpm))",
    "060A61C51B558A7F742B77AAC52FEB6B621E9F35",
)


def primary_fingerprints(colon_lines: Iterable[str]) -> list[str]:
    """The primary keys' fingerprints in `gpg --with-colons` output, in file order.

    A `pub` record is followed by its `fpr` record (field 10); subkeys' `fpr` records follow
    their `sub` record and are not primary keys (gpg's doc/DETAILS, "Field 10 - User-ID").
    """
    fingerprints = []
    after_pub = False
    for line in colon_lines:
        fields = line.split(":")
        if fields[0] == "pub":
            after_pub = True
        elif fields[0] == "fpr" and after_pub and len(fields) > 9:
            fingerprints.append(fields[9].upper())
            after_pub = False
        elif fields[0] in ("sub", "sec", "ssb"):
            after_pub = False
    return fingerprints


def mismatch(key: PinnedKey, url: str, found: list[str]) -> str | None:
    """Why a downloaded file is not `key` (None when it holds exactly that key).

    A file holding the pinned key and another one is refused too: apt and rpm would trust
    every key in the file.
    """
    if found == [key.fingerprint]:
        return None
    if not found:
        what = "no OpenPGP key (not a key file, or gpg is missing on the node)"
    else:
        what = "fingerprint(s) " + ", ".join(found)
    return (
        f"{key.name} downloaded from {url} holds {what}, but nordkube pins "
        f"{key.fingerprint} (nordkube/keys.py): not trusted, no repository uses it"
    )

"""Root filesystems from Debian packages: dependency parsing, and unpacking into a merged /usr
as the packages' maintainer scripts would leave it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from nordkube.bundle import debian

DEPENDS = """tcpdump
  Depends: adduser
  Depends: libc6
 |Depends: <debconf-2.0>
  Depends: debconf
 |Depends: libssl3
  Depends: libssl1.1
  PreDepends: libpcap0.8
  Depends: <awk>
    mawk
libc6
  Depends: libgcc-s1
"""


def test_dependencies_take_the_first_real_alternative_and_skip_virtuals() -> None:
    assert debian.parse_depends(DEPENDS) == {
        "tcpdump": ["adduser", "libc6", "debconf", "libssl3", "libpcap0.8"],
        "libc6": ["libgcc-s1"],
    }


def make_deb(tmp_path: Path, name: str, files: dict[str, bytes]) -> Path:
    tree = tmp_path / f"{name}-tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        f"Package: {name}\nVersion: 1.0\nArchitecture: amd64\n"
        "Maintainer: nordkube <test@example.invalid>\nDescription: test package\n"
    )
    for path, data in files.items():
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_bytes(data)
    deb = tmp_path / f"{name}.deb"
    subprocess.run(
        ["dpkg-deb", "--build", "--root-owner-group", str(tree), str(deb)],
        check=True,
        capture_output=True,
    )
    return deb


@pytest.mark.skipif(
    not shutil.which("dpkg-deb"), reason="dpkg-deb is Debian's (this project's hosts)"
)
def test_unpacked_tree_has_merged_usr(tmp_path: Path) -> None:
    debs = [
        make_deb(tmp_path, "one", {"bin/tool": b"tool", "lib/x86_64-linux-gnu/libone.so": b"lib"}),
        make_deb(
            tmp_path, "two", {"usr/lib/x86_64-linux-gnu/libtwo.so": b"lib", "usr/bin/other": b"o"}
        ),
    ]
    root = tmp_path / "root"
    debian.unpack(debs, root)
    assert (root / "bin").is_symlink() and str((root / "bin").readlink()) == "usr/bin"
    assert (root / "lib").is_symlink()
    assert (root / "usr/bin/tool").read_bytes() == b"tool"
    assert (root / "bin/tool").read_bytes() == b"tool"
    assert sorted(path.name for path in (root / "usr/lib/x86_64-linux-gnu").iterdir()) == [
        "libone.so",
        "libtwo.so",
    ]
    assert not (root / "sbin").exists()

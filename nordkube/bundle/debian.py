"""Root filesystems made from the host's Debian packages, for images whose programs need
userland tools (kube-proxy and flannel exec iptables and nft; the toolbox is all tools).

Packages are fetched with `apt-get download` and unpacked with `dpkg-deb -x`: no maintainer
script runs, so what those scripts would do (alternatives, merged /usr) is done here.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from nordkube.bundle.errors import BundleError

# Needed to install or configure packages, never by a program in an image.
INSTALL_ONLY = frozenset(
    {
        "adduser",
        "base-files",
        "cdebconf",
        "debconf",
        "debianutils",
        "dpkg",
        "init-system-helpers",
        "install-info",
        "libdebian-installer4",
        "libnewt0.52",
        "libpam-modules",
        "libpam-modules-bin",
        "libpam-runtime",
        "libslang2",
        "libtextwrap1",
        "passwd",
        "perl-base",
        "tar",
    }
)
MERGED_USR = ("bin", "sbin", "lib", "lib64")
# Read by people, never by the programs: left out of images.
DOCUMENTATION = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/lintian")


def _apt(args: list[str], cwd: Path | None = None) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BundleError(f"`{' '.join(args)}` failed: {result.stderr.strip()[-800:]}")
    return result.stdout


def closure(packages: Iterable[str]) -> dict[str, str]:
    """The packages and everything they need at run time: name -> candidate version.

    One recursive `apt-cache depends` gives the whole graph; the walk through it skips what
    only installation needs, and what only those packages need.
    """
    roots = sorted(set(packages))
    flags = [f"--no-{kind}" for kind in ("recommends", "suggests", "conflicts", "breaks")]
    flags += ["--no-replaces", "--no-enhances", "--recurse"]
    graph = parse_depends(_apt(["apt-cache", "depends", *flags, *roots]))
    wanted = set(roots)
    frontier = list(roots)
    while frontier:
        for dependency in graph.get(frontier.pop(), []):
            if dependency not in wanted and dependency not in INSTALL_ONLY:
                wanted.add(dependency)
                frontier.append(dependency)
    return candidate_versions(sorted(wanted))


def parse_depends(output: str) -> dict[str, list[str]]:
    """`apt-cache depends` output as package -> hard dependencies (Depends, PreDepends), taking
    the first real package of each group of alternatives; virtual names (<...>) are skipped."""
    graph: dict[str, list[str]] = {}
    current: list[str] = []
    chosen = False  # this group of alternatives already gave its package
    for line in output.splitlines():
        stripped = line.strip()
        if not line.startswith(" "):
            current = graph.setdefault(stripped, [])
            chosen = False
            continue
        if ":" not in stripped:
            continue
        alternative = stripped.startswith("|")
        name = stripped.split(":", 1)[1].strip()
        if not chosen and not name.startswith("<"):
            current.append(name)
            chosen = alternative
        elif not alternative:
            chosen = False
    return graph


def candidate_versions(packages: list[str]) -> dict[str, str]:
    output = _apt(["apt-cache", "show", "--no-all-versions", *packages])
    versions: dict[str, str] = {}
    name = ""
    for line in output.splitlines():
        if line.startswith("Package: "):
            name = line.split(": ", 1)[1]
        elif line.startswith("Version: ") and name:
            versions[name] = line.split(": ", 1)[1]
    missing = sorted(set(packages) - set(versions))
    if missing:
        raise BundleError(f"apt knows no candidate for {', '.join(missing)}: run apt-get update")
    return versions


def fetch(packages: dict[str, str], debs: Path) -> list[Path]:
    """The .deb of each name=version, downloaded into `debs` once."""
    debs.mkdir(parents=True, exist_ok=True)
    paths = {
        name: debs / f"{name}_{version.replace(':', '%3a')}.deb"
        for name, version in packages.items()
    }
    missing = [name for name, path in paths.items() if not path.exists()]
    if missing:
        with tempfile.TemporaryDirectory(dir=debs) as download:
            _apt(["apt-get", "download", *(f"{n}={packages[n]}" for n in missing)], Path(download))
            for deb in Path(download).glob("*.deb"):
                name = _apt(["dpkg-deb", "--field", str(deb), "Package"]).strip()
                deb.rename(paths[name])
    return [paths[name] for name in sorted(paths)]


def unpack(debs: Iterable[Path], root: Path) -> None:
    """Unpack into `root` without documentation, and merge /bin, /sbin, /lib, /lib64 into /usr
    as Debian 12 systems do."""
    for deb in debs:
        _apt(["dpkg-deb", "-x", str(deb), str(root)])
    for documentation in DOCUMENTATION:
        shutil.rmtree(root / documentation, ignore_errors=True)
    for name in MERGED_USR:
        top = root / name
        if top.is_dir() and not top.is_symlink():
            _merge(top, root / "usr" / name)
    for name in MERGED_USR:
        if (root / "usr" / name).exists() and not (root / name).exists():
            (root / name).symlink_to(f"usr/{name}")


def _merge(source: Path, target: Path) -> None:
    """Move the tree at `source` into `target`, directory by directory; then drop `source`."""
    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        destination = target / item.name
        if item.is_dir() and not item.is_symlink() and destination.is_dir():
            _merge(item, destination)
        elif destination.exists() or destination.is_symlink():
            raise BundleError(f"{item} and {destination} both exist; cannot merge /usr")
        else:
            shutil.move(str(item), destination)
    source.rmdir()

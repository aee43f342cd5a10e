"""Where the lab keeps its files: runtime files per checkout, caches per user."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def lab_dir() -> Path:
    """Runtime files of the running lab (gitignored `.lab/`; NORDKUBE_LAB_DIR overrides).

    Resolved to an absolute path because QEMU, vde2 and the state file all record it.
    """
    override = os.environ.get("NORDKUBE_LAB_DIR")
    return Path(override).resolve() if override else PROJECT_ROOT / ".lab"


def cache_dir() -> Path:
    """Kept across labs: base images and the apt proxy's packages (`~/.cache/nordkube`)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).resolve() / "nordkube"

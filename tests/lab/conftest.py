"""The lab tier's session fixture: one fresh 3-node lab for every lab test."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from tests.lab.labtools import nordkube


@pytest.fixture(scope="session")
def lab() -> Iterator[dict]:
    """A fresh 3-node lab; brought down at the end unless NORDKUBE_KEEP_LAB=1."""
    nordkube("lab", "down", timeout=300)
    nordkube("lab", "up", "--nodes", "3", check=True, timeout=2400)
    status = json.loads(nordkube("lab", "status", "--json", check=True).stdout)
    yield status
    if os.environ.get("NORDKUBE_KEEP_LAB") != "1":
        nordkube("lab", "down", timeout=300)

"""The lab tier's fixtures: one fresh 3-node lab for the session's lab tests, and a 1-node lab
for a module that needs a node nothing else has touched (it runs first, in file order, and
is down before the 3-node lab starts)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from tests.lab.labtools import nordkube


def _fresh_lab(nodes: int) -> Iterator[dict]:
    """A fresh lab of `nodes` nodes; brought down at the end unless NORDKUBE_KEEP_LAB=1."""
    nordkube("lab", "down", timeout=300)
    nordkube("lab", "up", "--nodes", str(nodes), check=True, timeout=2400)
    status = json.loads(nordkube("lab", "status", "--json", check=True).stdout)
    yield status
    if os.environ.get("NORDKUBE_KEEP_LAB") != "1":
        nordkube("lab", "down", timeout=300)


@pytest.fixture(scope="session")
def lab() -> Iterator[dict]:
    """A fresh 3-node lab for the session."""
    yield from _fresh_lab(3)


@pytest.fixture(scope="module")
def one_node_lab() -> Iterator[dict]:
    """A fresh 1-node lab for one test module."""
    yield from _fresh_lab(1)

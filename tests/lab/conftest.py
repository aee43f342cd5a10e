"""The lab tier's fixtures: one fresh 3-node lab for the session's lab tests, and labs of their
own for modules that need a node nothing else has touched or a lab of another shape (those
run first, in file order, and are down before the 3-node lab starts)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from tests.lab.labtools import nordkube


def _fresh_lab(nodes: int, *options: str) -> Iterator[dict]:
    """A fresh lab of `nodes` nodes (and `nordkube lab up` options); brought down at the end
    unless NORDKUBE_KEEP_LAB=1."""
    nordkube("lab", "down", timeout=300)
    nordkube("lab", "up", "--nodes", str(nodes), *options, check=True, timeout=2400)
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


@pytest.fixture(scope="module")
def slow_small_node_lab() -> Iterator[dict]:
    """Three control-plane nodes (three etcd members), node3 behind 10 ms of delay and a
    path that carries at most 1450 bytes: an underlay in another city, smaller than the NICs."""
    yield from _fresh_lab(
        3, "--control-planes", "3", "--delay", "node3=10", "--path-mtu", "node3=1450"
    )


@pytest.fixture(scope="module")
def cluster_lab() -> Iterator[dict]:
    """A fresh 3-node lab whose inventory runs every stage (the cluster tier)."""
    yield from _fresh_lab(3, "--cluster")

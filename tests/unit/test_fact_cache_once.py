"""Work over the whole inventory done once per run, with every host's facts read at once.

Validation judges every host against every other (cloned identities), and pyinfra runs the
deploy once per host: done in each host's deploy, that is N times N. `factcache.once` does it
for the first host that asks; `factcache.each_host` reads each host's facts in its own greenlet
(with @fake hosts that answer after a delay, the reads overlap instead of queueing).
"""

from __future__ import annotations

import time

import pytest
from pyinfra.api import Config, Inventory, State
from pyinfra.api.connect import connect_all
from pyinfra.context import ctx_host, ctx_state

from pyinfra_ext import factcache
from pyinfra_ext.facts import NodeFacts, marker

DELAY = 0.2
HOSTS = 5


def _state() -> State:
    hosts = [
        (
            f"@fake/node{index}",
            {
                "fake_responses": {marker("NodeFacts"): ["::nordkube:hostname", f"node{index}"]},
                "fake_delay": DELAY,
                "fake_delay_jitter": 0,
            },
        )
        for index in range(HOSTS)
    ]
    state = State(Inventory((hosts, {})), Config())
    connect_all(state)
    return state


def test_each_host_reads_every_hosts_facts_at_once_as_that_host() -> None:
    state = _state()
    with ctx_state.use(state):
        started = time.monotonic()
        names = factcache.each_host(
            lambda target: (factcache.read(NodeFacts)["hostname"], ctx_host.get().name),
            state.inventory,
        )
        elapsed = time.monotonic() - started
    assert names == {f"@fake/node{i}": (f"node{i}", f"@fake/node{i}") for i in range(HOSTS)}
    assert elapsed < DELAY * HOSTS / 2  # overlapping, not one after another


def test_once_computes_for_the_first_caller_and_answers_every_other() -> None:
    calls: list[str] = []

    def judge(name: str) -> dict[str, str]:
        calls.append(name)
        return {"verdict": name}

    with ctx_state.use(_state()):
        first = factcache.once("judgement", lambda: judge("first"))
        again = factcache.once("judgement", lambda: judge("second"))
    assert calls == ["first"]
    assert first is again


def test_once_raises_the_same_error_for_every_caller() -> None:
    def refuse() -> None:
        raise ValueError("node2 and node3 share a machine-id")

    with ctx_state.use(_state()):
        for _ in range(2):
            with pytest.raises(ValueError, match="share a machine-id"):
                factcache.once("refusal", refuse)

"""The fact cache never answers from before a change, whoever made the change.

A @fake host whose sysctl file changes once a built-in pyinfra operation's command has run:
a project operation before the built-in one plans from the old answer (no change), the same
project operation after it must plan from the new one (an upload). pyinfra's own API runs the
three operations in one State, so this is the execution path of a real deploy.
"""

from __future__ import annotations

import hashlib
from io import StringIO
from typing import Any

from pyinfra.api import Config, Inventory, State
from pyinfra.api.connect import connect_all
from pyinfra.api.operation import add_op
from pyinfra.api.operations import run_ops
from pyinfra.operations import files

from nordkube.managed import SYSCTL_FILE
from pyinfra_ext import factcache
from pyinfra_ext.facts import marker
from pyinfra_ext.operations import file_content

CONTENT = "net.ipv4.ip_forward = 1\n"


class World:
    """What the fake node holds: the sysctl file's content, replaced by the built-in op."""

    def __init__(self) -> None:
        self.content = CONTENT

    def file_states_line(self) -> str:
        digest = hashlib.sha256(self.content.encode()).hexdigest()
        return f"{digest} 644 {SYSCTL_FILE}"


class Answer(dict):
    """A fake_responses value read when its matcher matched: stdout from the world now."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world

    def get(self, key: str, default: Any = None) -> Any:
        if key == "stdout":
            return [self.world.file_states_line()]
        return default


class Replaces(dict):
    """A response whose use means the built-in operation's command ran: the file changed."""

    def __init__(self, world: World, content: str) -> None:
        super().__init__()
        self.world, self.content = world, content

    def get(self, key: str, default: Any = None) -> Any:
        if key == "success":
            self.world.content = self.content
        return default


def run_three_operations(world: World) -> tuple[State, Any]:
    responses = {
        marker("FileStates"): Answer(world),
        # files.put uploads, then sets the mode: that chmod is the built-in's own command.
        f"chmod 644 {SYSCTL_FILE}": Replaces(world, "net.ipv4.ip_forward = 0\n"),
    }
    inventory = Inventory(
        ([("@fake/node1", {"fake_responses": responses, "fake_delay": 0})], {}),
    )
    state = State(inventory, Config())
    connect_all(state)
    before = add_op(
        state, file_content, name="project op before", path=SYSCTL_FILE, content=CONTENT
    )
    add_op(
        state,
        files.put,
        name="built-in op",
        src=StringIO("net.ipv4.ip_forward = 0\n"),
        dest=SYSCTL_FILE,
        mode="644",
    )
    after = add_op(state, file_content, name="project op after", path=SYSCTL_FILE, content=CONTENT)
    run_ops(state)
    host = inventory.get_host("@fake/node1")
    return state, (before[host], after[host], host)


def test_operation_after_a_builtin_change_plans_from_the_new_answer() -> None:
    world = World()
    _, (before, after, host) = run_three_operations(world)
    assert world.content != CONTENT, "the built-in operation's command ran"
    assert before.did_succeed() and not before.did_change()
    # The second project operation saw the replaced file and restored it.
    assert after.did_change()
    assert any(marker("FileStates") in command for command in host.connector.executed_commands)


def test_facts_are_read_once_while_nothing_changes() -> None:
    world = World()
    world_content_before = world.content
    responses = {marker("FileStates"): Answer(world)}
    inventory = Inventory(([("@fake/node1", {"fake_responses": responses, "fake_delay": 0})], {}))
    state = State(inventory, Config())
    connect_all(state)
    for index in range(3):
        add_op(state, file_content, name=f"op {index}", path=SYSCTL_FILE, content=CONTENT)
    run_ops(state)
    host = inventory.get_host("@fake/node1")
    reads = [c for c in host.connector.executed_commands if marker("FileStates") in c]
    assert world.content == world_content_before
    assert len(reads) == 1
    assert factcache.cache_of(state).answers, "the answer is kept on the run's state"

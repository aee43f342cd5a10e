"""Every custom fact and operation against its JSON fixtures, the way pyinfra tests its own.

tests/unit/facts/<Fact>/<case>.json: the fact's output lines -> the value `process` returns.
tests/unit/operations/<operation>/<case>.json: parsed fact values -> the commands the real
operation generator yields, its no-op note, or the exception it raises. The format of both is
in tests/unit/facts/README.md.

Operations run as pyinfra runs them (`op._inner(**args)` under a host and state context),
reading facts through `factcache.read` from a host that answers only what the fixture gives:
a fact (or fact arguments) the fixture does not name fails the test, and so does a fact the
fixture gives that the operation never read. Fact values and arguments come from JSON;
they are converted to the types the code declares (`FactBase[T]`, the parameters' annotations),
so a JSON list becomes the tuple the real fact returns.

Commands are compared in this readable form:
- a shell command (str or StringCommand): its text, `str(command)`;
- a FunctionCommand (run on the controller during execution): `["call", <function name>,
  [<its arguments>]]`;
- a FileUploadCommand: `["upload", <content uploaded>, <remote path>]` (content as text; a
  local file given by path is shown as that path).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import pkgutil
import types
import typing
from io import IOBase
from pathlib import Path
from typing import Any

import pytest
from pyinfra.api import FactBase, FileUploadCommand, FunctionCommand, StringCommand
from pyinfra.api.util import get_kwargs_str
from pyinfra.context import ctx_host, ctx_state

import pyinfra_ext
from pyinfra_ext.facts import marker

HERE = Path(__file__).resolve().parent
FACT_FIXTURES = HERE / "facts"
OPERATION_FIXTURES = HERE / "operations"
FORMAT = "tests/unit/facts/README.md"

FACT_KEYS = {"arg", "output", "fact", "note"}
OPERATION_KEYS = {"args", "facts", "commands", "noop_description", "exception", "note"}
OUTCOMES = ("commands", "noop_description", "exception")


def _library() -> tuple[dict[str, type[FactBase[Any]]], dict[str, Any]]:
    """Every fact class and operation defined in the pyinfra_ext package, by name."""
    facts: dict[str, type[FactBase[Any]]] = {}
    operations: dict[str, Any] = {}
    for info in pkgutil.iter_modules(pyinfra_ext.__path__, "pyinfra_ext."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if getattr(value, "__module__", None) != module.__name__:
                continue
            if inspect.isclass(value) and issubclass(value, FactBase):
                assert name not in facts, f"two facts named {name} in pyinfra_ext"
                facts[name] = value
            elif callable(value) and hasattr(value, "_inner"):
                assert name not in operations, f"two operations named {name} in pyinfra_ext"
                operations[name] = value
    return facts, operations


FACTS, OPERATIONS = _library()


def _cases(root: Path) -> list[Any]:
    return [
        pytest.param(path, id=f"{path.parent.name}/{path.stem}")
        for path in sorted(root.glob("*/*.json"))
    ]


def _load(path: Path, allowed: set[str]) -> dict[str, Any]:
    case = json.loads(path.read_text())
    unknown = set(case) - allowed
    assert not unknown, f"{path.name}: unknown keys {sorted(unknown)} (see {FORMAT})"
    return case


# -- JSON to the types the code declares ----------------------------------------------------


def from_json(annotation: Any, value: Any) -> Any:
    """`value` (from JSON) as `annotation` says: lists become tuples where a tuple is declared,
    objects become the dataclass declared."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if value is None:
        return None
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        hints = typing.get_type_hints(annotation)
        return annotation(**{key: from_json(hints[key], item) for key, item in value.items()})
    if origin in (typing.Union, types.UnionType):
        declared = [argument for argument in arguments if argument is not type(None)]
        return from_json(declared[0], value) if len(declared) == 1 else value
    if origin is tuple and arguments[-1:] == (Ellipsis,):
        return tuple(from_json(arguments[0], item) for item in value)
    if origin is tuple:
        return tuple(from_json(kind, item) for kind, item in zip(arguments, value, strict=True))
    if origin is list:
        return [from_json(arguments[0], item) for item in value]
    if origin is dict:
        return {key: from_json(arguments[1], item) for key, item in value.items()}
    return value


def fact_type(fact: type[FactBase[Any]]) -> Any:
    """T of `class Fact(FactBase[T])` (Any when the fact declares none)."""
    for base in getattr(fact, "__orig_bases__", ()):
        if typing.get_origin(base) is FactBase:
            return typing.get_args(base)[0]
    return Any


def arguments_from_json(function: Any, arguments: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(function)
    return {name: from_json(hints.get(name, Any), value) for name, value in arguments.items()}


# -- what an operation sees -----------------------------------------------------------------


class FixtureState:
    """Just enough of pyinfra's State for the fact cache to attach itself."""

    def add_callback_handler(self, handler: Any) -> None:
        pass


class FixtureHost:
    """A host that answers only the facts its fixture gives, and notes what was read."""

    name = "fixture-host"

    def __init__(self, facts: dict[str, Any]) -> None:
        self.facts = facts
        self.read: set[tuple[str, str | None]] = set()
        self.noops: list[str] = []

    def noop(self, description: str) -> None:
        self.noops.append(description)

    def get_temp_filename(self, *args: Any, **kwargs: Any) -> str:
        return "_tempfile_"

    def get_fact(self, fact: type[FactBase[Any]], **arguments: Any) -> Any:
        name = fact.__name__
        fact().command(**arguments)  # the arguments are ones the real fact takes
        if name not in self.facts:
            pytest.fail(f"the operation read {name}, which the fixture's 'facts' does not give")
        given = self.facts[name]
        if not arguments:
            self.read.add((name, None))
            return from_json(fact_type(fact), given)
        key = get_kwargs_str(arguments)
        if not isinstance(given, dict) or key not in given:
            known = sorted(given) if isinstance(given, dict) else []
            pytest.fail(f"the operation read {name} with {key!r}; the fixture gives it for {known}")
        self.read.add((name, key))
        return from_json(fact_type(fact), given[key])

    def unread(self) -> list[str]:
        """The facts (and fact arguments) the fixture gives that were never read."""
        unread = []
        for name, given in self.facts.items():
            fact = FACTS.get(name)
            if fact is None:
                unread.append(f"{name} (no such fact)")
            elif _takes_arguments(fact):
                unread += [f"{name}({key})" for key in given if (name, key) not in self.read]
            elif (name, None) not in self.read:
                unread.append(name)
        return unread


def _takes_arguments(fact: type[FactBase[Any]]) -> bool:
    return len(inspect.signature(fact.command).parameters) > 1


def readable(command: Any) -> Any:
    """A command in the fixtures' form (see the module docstring)."""
    if isinstance(command, str):
        return command.strip()
    if isinstance(command, StringCommand):
        return str(command)
    if isinstance(command, FunctionCommand):
        return ["call", command.function.__name__, list(command.args)]
    if isinstance(command, FileUploadCommand):
        if isinstance(command.src, IOBase):
            command.src.seek(0)
            content = command.src.read()
            content = content.decode() if isinstance(content, bytes) else content
        else:
            content = str(command.src)
        return ["upload", content, str(command.dest)]
    pytest.fail(f"no readable form for {command!r}: add one to readable() and the docstring")


# -- the tests ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", _cases(FACT_FIXTURES))
def test_fact(path: Path) -> None:
    case = _load(path, FACT_KEYS)
    fact_class = FACTS.get(path.parent.name)
    assert fact_class is not None, f"no fact {path.parent.name} in pyinfra_ext"
    fact = fact_class()
    arguments = arguments_from_json(fact.command, case.get("arg", {}))
    # The offline plans find a fact's recording by the marker its command starts with.
    assert str(fact.command(**arguments)).startswith(marker(fact_class.__name__))
    # pyinfra processes only output that has lines; empty output gives the fact's default.
    output = case["output"]
    value = fact.process(output) if output else fact.default()
    assert value == from_json(fact_type(fact_class), case["fact"])


@pytest.mark.parametrize("path", _cases(OPERATION_FIXTURES))
def test_operation(path: Path) -> None:
    case = _load(path, OPERATION_KEYS)
    outcomes = [key for key in OUTCOMES if key in case]
    assert len(outcomes) == 1, f"{path.name}: give exactly one of {OUTCOMES} (see {FORMAT})"
    operation = OPERATIONS.get(path.parent.name)
    assert operation is not None, f"no operation {path.parent.name} in pyinfra_ext"
    arguments = arguments_from_json(operation._inner, case.get("args", {}))
    host = FixtureHost(case.get("facts", {}))

    with ctx_state.use(FixtureState()), ctx_host.use(host):
        if "exception" in case:
            with pytest.raises(Exception) as raised:
                list(operation._inner(**arguments))
            assert type(raised.value).__name__ == case["exception"]["name"]
            assert raised.value.args[0] == case["exception"]["message"]
            commands = None
        else:
            commands = [readable(command) for command in operation._inner(**arguments)]

    assert host.unread() == [], "the fixture gives facts the operation never read"
    if "noop_description" in case:
        assert commands == []
        assert host.noops == [case["noop_description"]]
    elif "commands" in case:
        assert case["commands"], f"{path.name}: no commands is a no-op: give noop_description"
        assert commands == case["commands"]
        assert host.noops == [], "an operation that changes something must not note a no-op"


def _cases_of(root: Path, name: str) -> list[Path]:
    return sorted((root / name).glob("*.json"))


@pytest.mark.parametrize("name", sorted(FACTS))
def test_every_fact_has_fixtures(name: str) -> None:
    assert _cases_of(FACT_FIXTURES, name), (
        f"fact {name} has no fixture: add tests/unit/facts/{name}/<case>.json (see {FORMAT})"
    )


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_every_operation_has_fixtures_and_a_noop_case(name: str) -> None:
    cases = [json.loads(path.read_text()) for path in _cases_of(OPERATION_FIXTURES, name)]
    assert any("noop_description" in case for case in cases), (
        f"operation {name} has no 'nothing to do' fixture: add tests/unit/operations/{name}/"
        f"<case>.json with a noop_description (see {FORMAT})"
    )


def test_every_fixture_directory_names_a_fact_or_operation() -> None:
    stale = sorted(
        {path.name for path in FACT_FIXTURES.iterdir() if path.is_dir()} - set(FACTS)
    ) + sorted(
        {path.name for path in OPERATION_FIXTURES.iterdir() if path.is_dir()} - set(OPERATIONS)
    )
    assert stale == [], "fixture directories without a fact or operation of that name"

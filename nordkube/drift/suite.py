"""The node suite's JUnit report as drift reads it: failing states per host.

tests/node/conftest.py gives every test case a `host` (the inventory name) and a `state`
property (`test_sysctl_live[net.ipv4.ip_forward]`). A failure is a state that differs. An
error is a state the suite could not judge; one error repeated over a host's states is the node
fixture's (the node does not answer over SSH, or cannot run commands) and is reported once.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from nordkube.drift import stages
from nordkube.drift.model import CHECK, Item

# How much of a failure message a report keeps (pytest's include the assertion's repr).
_MESSAGE_LINES = 1


@dataclass
class SuiteResult:
    items: dict[str, list[Item]] = field(default_factory=dict)
    # host -> states the suite could not judge, with why
    unknown: dict[str, list[str]] = field(default_factory=dict)
    checked: set[str] = field(default_factory=set)  # hosts with at least one test case


def parse_junit(path: Path) -> SuiteResult:
    """Failing and erroring states per host from pytest's --junitxml file."""
    result = SuiteResult()
    items: dict[str, list[Item]] = defaultdict(list)
    errors: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for case in ElementTree.parse(path).iter("testcase"):
        properties = {item.get("name"): item.get("value") for item in case.iter("property")}
        host, state = properties.get("host"), properties.get("state")
        if not host or not state:
            continue
        result.checked.add(host)
        module = stages.suite_module(case.get("classname", ""))
        failure, error = case.find("failure"), case.find("error")
        if failure is not None:
            subject = stages.state_subject(module, state)
            items[host].append(
                Item(
                    host=host,
                    stage=stages.stage_of_state(module, state),
                    source=CHECK,
                    key=state,
                    title=state,
                    detail=_message(failure, host),
                    subject=f"{subject[0]}:{subject[1]}" if subject else None,
                )
            )
        elif error is not None:
            errors[host][_message(error, host)].append(state)
    result.items = dict(items)
    result.unknown = {
        host: [
            message if len(states) > 1 else f"{states[0]}: {message}"
            for message, states in by_message.items()
        ]
        for host, by_message in errors.items()
    }
    return result


def _message(element: ElementTree.Element, host: str) -> str:
    """The first line of pytest's message, without the exception's class and the host name
    every node-suite message starts with."""
    text = (element.get("message") or element.text or "").strip()
    first = "\n".join(text.splitlines()[:_MESSAGE_LINES])
    # A fixture's error: `failed on setup with "Failed: node2: cannot reach ..."`.
    if first.startswith('failed on setup with "') and first.endswith('"'):
        first = first[len('failed on setup with "') : -1]
    for prefix in ("AssertionError: ", "Failed: "):
        first = first.removeprefix(prefix)
    return first.removeprefix(f"{host}: ")

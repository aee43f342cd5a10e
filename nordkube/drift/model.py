"""The drift report: per host, what differs and in which stage, or why it could not be told.

The JSON form (`Report.to_json`, schema in docs/drift.md) is what the other reports are
rendered from and what the next run compares itself with. Pure: no pyinfra.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = 1

# Host and run verdicts, worst last, and the exit code of each.
CLEAN = "clean"
DRIFT = "drift"
UNKNOWN = "could not tell"
EXIT_CODES = {CLEAN: 0, DRIFT: 1, UNKNOWN: 2}
_ORDER = (CLEAN, DRIFT, UNKNOWN)

# Where an item comes from: the deploy's plan, or a failing node-suite state.
PLAN = "plan"
CHECK = "check"


@dataclass(frozen=True)
class Item:
    """One thing that differs on one host."""

    host: str
    stage: str
    source: str  # PLAN or CHECK
    key: str  # the operation's op_hash, or the node-suite state
    title: str  # what the deploy would ensure, or the state that fails
    detail: str = ""  # why: the failure message, or when a planned change is conditional
    # What the state is, where its name says so: "sysctl:net.ipv4.ip_forward" (check items).
    subject: str | None = None
    owner: str | None = None  # the component that owns it (excluded items only)

    @property
    def identity(self) -> tuple[str, str, str]:
        """What makes two runs' items the same item (a title may change wording)."""
        return (self.host, self.source, self.key)


@dataclass
class HostResult:
    """One host: its items, the items excluded as owned state, and what could not be told."""

    name: str
    items: list[Item] = field(default_factory=list)
    excluded: list[Item] = field(default_factory=list)
    # Planned changes that run only if an earlier operation changes (a reload after a unit
    # file changed): consequences of other items, or of nothing; never counted.
    conditional: list[Item] = field(default_factory=list)
    # Why some of the host's state is unknown: unreachable, a fact that failed, an error.
    unknown: list[str] = field(default_factory=list)
    # Whether each source reached the host ("planned", "checked"), or why it did not.
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def reachable(self) -> bool:
        return not self.unknown

    @property
    def verdict(self) -> str:
        if self.unknown:
            return UNKNOWN
        return DRIFT if self.items else CLEAN

    def counts_by_stage(self) -> Counter[str]:
        return Counter(item.stage for item in self.items)


@dataclass
class Report:
    """One drift run over an inventory."""

    inventory: str
    started: str  # ISO 8601, UTC
    duration_seconds: float
    stages: list[str]  # the stages compared (the deploy's `stages` setting, else all)
    hosts: list[HostResult]
    # Problems that concern the whole run (the deploy stopped, the suite could not start).
    errors: list[str] = field(default_factory=list)
    schema: int = SCHEMA_VERSION

    @property
    def verdict(self) -> str:
        verdicts = [host.verdict for host in self.hosts] or [UNKNOWN]
        if self.errors:
            verdicts.append(UNKNOWN)
        return max(verdicts, key=_ORDER.index)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def host(self, name: str) -> HostResult | None:
        return next((host for host in self.hosts if host.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "inventory": self.inventory,
            "started": self.started,
            "duration_seconds": round(self.duration_seconds, 3),
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "stages": self.stages,
            "errors": self.errors,
            "hosts": [
                {
                    "name": host.name,
                    "verdict": host.verdict,
                    "reachable": host.reachable,
                    "unknown": host.unknown,
                    "sources": host.sources,
                    "items": [_item_json(item) for item in host.items],
                    "excluded": [_item_json(item) for item in host.excluded],
                    "conditional": [_item_json(item) for item in host.conditional],
                }
                for host in self.hosts
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        if data.get("schema") != SCHEMA_VERSION:
            raise ValueError(
                f"drift report schema {data.get('schema')!r}, expected {SCHEMA_VERSION}"
            )
        hosts = [
            HostResult(
                name=host["name"],
                items=[_item(host["name"], item) for item in host["items"]],
                excluded=[_item(host["name"], item) for item in host["excluded"]],
                conditional=[_item(host["name"], item) for item in host.get("conditional", [])],
                unknown=list(host["unknown"]),
                sources=dict(host["sources"]),
            )
            for host in data["hosts"]
        ]
        return cls(
            inventory=data["inventory"],
            started=data["started"],
            duration_seconds=float(data["duration_seconds"]),
            stages=list(data["stages"]),
            hosts=hosts,
            errors=list(data["errors"]),
        )


def _item_json(item: Item) -> dict[str, Any]:
    data = asdict(item)
    del data["host"]  # the host it is listed under
    for optional in ("subject", "owner"):
        if data[optional] is None:
            del data[optional]
    return data


def _item(host: str, data: dict[str, Any]) -> Item:
    return Item(host=host, **data)


@dataclass
class Changes:
    """What differs from the previous run: items that appeared or went, verdicts that moved."""

    previous_started: str
    new: list[Item]
    resolved: list[Item]
    verdicts: list[tuple[str, str, str]]  # (host, before, now)

    @property
    def any(self) -> bool:
        return bool(self.new or self.resolved or self.verdicts)


def changes_since(previous: Report, current: Report) -> Changes:
    """Compare two runs item by item (by host, source and key) and host by host."""
    before = {item.identity: item for host in previous.hosts for item in host.items}
    now = {item.identity: item for host in current.hosts for item in host.items}
    old_verdicts = {host.name: host.verdict for host in previous.hosts}
    verdicts = [
        (host.name, old_verdicts.get(host.name, "not in the previous run"), host.verdict)
        for host in current.hosts
        if old_verdicts.get(host.name) != host.verdict
    ]
    names = {host.name for host in current.hosts}
    verdicts += [
        (host.name, host.verdict, "not in this run")
        for host in previous.hosts
        if host.name not in names
    ]
    return Changes(
        previous_started=previous.started,
        new=[item for key, item in now.items() if key not in before],
        resolved=[item for key, item in before.items() if key not in now],
        verdicts=verdicts,
    )

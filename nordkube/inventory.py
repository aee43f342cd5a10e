"""Reading a pyinfra inventory the way pyinfra does, without connecting to any host."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The inventory groups that give hosts their role in the cluster.
CONTROL_PLANE = "control_plane"
ETCD = "etcd"
WORKERS = "workers"
ROLE_GROUPS = (CONTROL_PLANE, ETCD, WORKERS)


@dataclass(frozen=True)
class InventoryHost:
    """A host as the inventory declares it: its name, groups and merged data."""

    name: str
    groups: frozenset[str]
    data: Mapping[str, Any]


def project_root() -> Path:
    """The checkout nordkube runs from (group_data/ and tests/ live there)."""
    return Path(__file__).resolve().parent.parent


def load_hosts(path: str, override_data: Mapping[str, Any] | None = None) -> list[InventoryHost]:
    """Each host of the inventory with its groups and merged data (group_data + host data).

    pyinfra looks for group_data/ next to the inventory and in the current directory; a
    project keeps its cluster settings in <project>/group_data beside inventories/, so that
    (and nordkube's own checkout) is searched too.
    """
    from pyinfra.api import State
    from pyinfra.context import ctx_inventory, ctx_state
    from pyinfra_cli.inventory import make_inventory
    from pyinfra_cli.util import parse_cli_arg

    if not os.path.exists(path):
        raise SystemExit(f"error: inventory {path} does not exist")
    parsed = {key: parse_cli_arg(value) for key, value in (override_data or {}).items()}
    # Inventory files are executed by pyinfra's loader, which expects a state in context.
    with ctx_state.use(State()):
        inventory = make_inventory(
            path,
            override_data=parsed,
            cwd=os.getcwd(),
            group_data_directories=[
                str(Path(path).resolve().parent.parent / "group_data"),
                str(project_root() / "group_data"),
            ],
        )
    with ctx_state.use(State(inventory=inventory)), ctx_inventory.use(inventory):
        return inventory_hosts(inventory)


def inventory_hosts(inventory: Iterable[Any]) -> list[InventoryHost]:
    """Each pyinfra host (reachable or not) as nordkube's validation sees it."""
    return [
        InventoryHost(
            host.name,
            frozenset(
                group.name if hasattr(group, "name") else str(group) for group in host.groups
            ),
            host.data.dict(),
        )
        for host in inventory
    ]

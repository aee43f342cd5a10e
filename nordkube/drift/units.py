"""The systemd service and timer that run drift every night on a control machine.

The templates are examples/systemd/nordkube-drift.{service,timer}; `nordkube drift INVENTORY
--print-units` fills in this checkout, the inventory, the report directory, uv and the user.
"""

from __future__ import annotations

from string import Template

from nordkube.inventory import project_root

UNITS = ("nordkube-drift.service", "nordkube-drift.timer")


def render(*, project: str, inventory: str, report_dir: str, uv: str, user: str) -> str:
    """Both units, each under a comment naming where it goes, and how to enable them."""
    values = {
        "project": project,
        "inventory": inventory,
        "report_dir": report_dir,
        "uv": uv,
        "user": user,
    }
    parts = []
    for name in UNITS:
        template = Template((project_root() / "examples" / "systemd" / name).read_text())
        parts.append(f"# --- /etc/systemd/system/{name}\n{template.substitute(values)}")
    parts.append(
        "# --- then: systemctl daemon-reload && systemctl enable --now nordkube-drift.timer\n"
    )
    return "\n".join(parts)

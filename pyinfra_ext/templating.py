"""Render templates/<role>/<name>.j2 (absolute paths: pyinfra runs from any directory)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

_environment = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)


def render(role: str, name: str, **values: Any) -> str:
    """The text of templates/<role>/<name>.j2 with `values` filled in."""
    return _environment.get_template(f"{role}/{name}.j2").render(**values)

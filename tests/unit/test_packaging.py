"""What an operator's `uv sync --no-dev` installs: the deploy's needs, not the test tools."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0] for requirement in requirements}


def test_test_tools_are_dev_only() -> None:
    runtime = _names(PYPROJECT["project"]["dependencies"])
    dev = _names(PYPROJECT["dependency-groups"]["dev"])
    assert {"molecule", "ansible-core"} <= dev
    assert not {"molecule", "ansible-core"} & runtime
    assert {"pyinfra", "pytest-testinfra", "paramiko", "jinja2"} <= runtime


def test_a_python_3_11_controller_is_enough() -> None:
    assert PYPROJECT["project"]["requires-python"] == ">=3.11"
    # ansible-core 2.20 needs Python 3.12 on the controller.
    ansible = next(r for r in PYPROJECT["dependency-groups"]["dev"] if r.startswith("ansible-core"))
    assert "<2.20" in ansible
    assert PYPROJECT["tool"]["mypy"]["python_version"] == "3.11"
    assert PYPROJECT["tool"]["ruff"]["target-version"] == "py311"

"""Drift's map from operations and node-suite states to the deploy's stages stays complete."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from nordkube.drift import stages
from nordkube.settings import STAGES

NODE_SUITE = Path(__file__).resolve().parents[1] / "node"


@pytest.mark.parametrize("stage", [stages.VALIDATE, *STAGES])
def test_every_stage_title_is_its_roles_deploy_title(stage: str) -> None:
    role = getattr(importlib.import_module(f"roles.{stage}"), stage)
    assert stages.TITLES[stage] == role.deploy_name


def test_operations_map_to_their_stage_by_title() -> None:
    assert stages.stage_of_operation("Prepare the kernel | Persist kernel modules") == "kernel"
    assert stages.stage_of_operation("Form the Kubernetes cluster | Ensure x") == "kubernetes"
    assert stages.stage_of_operation("server.shell") == stages.UNKNOWN_STAGE


def _suite_modules() -> list[str]:
    return sorted(path.stem for path in NODE_SUITE.glob("test_*.py"))


@pytest.mark.parametrize("module", _suite_modules())
def test_every_node_suite_module_has_a_stage(module: str) -> None:
    assert stages.SUITE_MODULES[module].stage in STAGES


@pytest.mark.parametrize("module", _suite_modules())
def test_a_module_with_a_subject_kind_parametrizes_its_tests(module: str) -> None:
    """The kind names what the test parameter is, so every test there takes one."""
    if stages.SUITE_MODULES[module].kind is None:
        return
    tree = ast.parse((NODE_SUITE / f"{module}.py").read_text())
    tests = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    ]
    assert tests
    for test in tests:
        marks = [ast.unparse(decorator) for decorator in test.decorator_list]
        assert any("parametrize" in mark for mark in marks), test.name


def test_states_map_to_stages_and_subjects() -> None:
    assert stages.stage_of_state("test_sysctl", "test_sysctl_live[kernel.panic]") == "kernel"
    assert stages.stage_of_state("test_packages", "test_package_installed[containerd]") == (
        "runtime"
    )
    assert stages.stage_of_state("test_packages", "test_package_installed[socat]") == "base"
    assert stages.state_subject("test_sysctl", "test_sysctl_live[net.ipv4.vs.conntrack]") == (
        "sysctl",
        "net.ipv4.vs.conntrack",
    )
    assert stages.state_subject("test_swap", "test_swap_off_now") is None
    assert stages.suite_module("tests.node.test_swap") == "test_swap"

"""Which deploy stage a planned operation or a node-suite state belongs to.

pyinfra names an operation of a `@deploy` function `<deploy title> | <operation name>`, so the
title says the stage. Node-suite states are grouped by their test module; a state whose
parameter is what the module checks (a sysctl key, a module, a package) also says what kind
of state it is, for nordkube.owned.
"""

from __future__ import annotations

from dataclasses import dataclass

from nordkube import owned

VALIDATE = "validate"
# The title each stage's @deploy function has (roles/<stage>.py); a test keeps them equal.
TITLES = {
    VALIDATE: "Validate settings, inventory and host facts",
    "base": "Prepare the base system",
    "kernel": "Prepare the kernel",
    "runtime": "Prepare the container runtime",
    "etcd": "Prepare etcd's disk",
    "kubernetes": "Form the Kubernetes cluster",
    "network": "Run the pod network",
}
_STAGE_OF_TITLE = {title: stage for stage, title in TITLES.items()}
# The stage of an operation outside every known @deploy: the report names it as it is.
UNKNOWN_STAGE = "other"


def stage_of_operation(name: str) -> str:
    """`Prepare the kernel | Persist kernel modules in ...` -> `kernel`."""
    title = name.split(" | ", 1)[0]
    return _STAGE_OF_TITLE.get(title, UNKNOWN_STAGE)


@dataclass(frozen=True)
class SuiteModule:
    """What one tests/node module checks: for which stage, and what its parameter names."""

    stage: str
    kind: str | None = None  # the nordkube.owned kind of the parameter; None: no parameter


# tests/node/<module>.py -> its stage; a test keeps every module listed.
SUITE_MODULES = {
    "test_packages": SuiteModule("base", owned.PACKAGE),
    "test_swap": SuiteModule("base"),
    "test_time_sync": SuiteModule("base"),
    "test_kernel_modules": SuiteModule("kernel", owned.MODULE),
    "test_sysctl": SuiteModule("kernel", owned.SYSCTL),
    "test_containerd": SuiteModule("runtime"),
    "test_bundle": SuiteModule("runtime"),
    "test_etcd_disk": SuiteModule("etcd"),
    "test_cluster": SuiteModule("kubernetes"),
}
# States whose stage is not their module's: the containerd package comes with the runtime.
SUITE_STATE_STAGES = {"test_package_installed[containerd]": "runtime"}


def suite_module(classname: str) -> str:
    """JUnit's classname `tests.node.test_sysctl` (or `test_sysctl`) -> `test_sysctl`."""
    return classname.rsplit(".", 1)[-1]


def stage_of_state(module: str, state: str) -> str:
    """The stage of a node-suite state such as `test_sysctl_live[net.ipv4.ip_forward]`."""
    if state in SUITE_STATE_STAGES:
        return SUITE_STATE_STAGES[state]
    entry = SUITE_MODULES.get(module)
    return entry.stage if entry else UNKNOWN_STAGE


def state_subject(module: str, state: str) -> tuple[str, str] | None:
    """(kind, name) of what a state checks, when its parameter names it: `test_sysctl_live
    [net.ipv4.vs.conntrack]` -> ("sysctl", "net.ipv4.vs.conntrack"); None otherwise."""
    entry = SUITE_MODULES.get(module)
    if entry is None or entry.kind is None or not state.endswith("]") or "[" not in state:
        return None
    return entry.kind, state[state.index("[") + 1 : -1]

"""Stage kernel: the modules kube-proxy, the CNI and containerd need, and kernel parameters."""

from __future__ import annotations

from pyinfra.api import deploy

from nordkube import node
from nordkube.managed import (
    MODULES_LOAD_FILE,
    SYSCTL_FILE,
)
from pyinfra_ext import context, factcache
from pyinfra_ext.facts import KernelModules
from pyinfra_ext.operations import (
    file_content,
    modules_loaded,
    sysctls_applied,
)


@deploy("Prepare the kernel")
def kernel() -> None:
    """Reads: kube_proxy_mode, ipvs_scheduler; facts: which modules exist, are loaded or
    built in (the conntrack module's name is probed, never guessed from the version)."""
    settings = context.current().settings
    candidates = tuple(node.candidate_modules(settings))
    probed = factcache.read(KernelModules, modules=candidates)
    modules = node.required_modules(settings, probed)

    modules_loaded(
        name=f"Ensure kernel modules {', '.join(modules)} are loaded",
        modules=modules,
        probed=candidates,
    )
    file_content(
        name=f"Persist kernel modules in {MODULES_LOAD_FILE}",
        path=MODULES_LOAD_FILE,
        content=node.render_modules_file(node.modules_to_persist(modules, probed)),
    )
    file_content(
        name=f"Persist kernel parameters in {SYSCTL_FILE}",
        path=SYSCTL_FILE,
        content=node.render_sysctl_file(node.SYSCTLS),
    )
    sysctls_applied(
        name="Ensure the kernel parameters are live",
        values=node.SYSCTLS,
        path=SYSCTL_FILE,
    )

"""Generated wrapper Go modules: how the bundle builds programs that live in other modules.

`go install k8s.io/kubernetes/cmd/kubeadm@v1.N.P` cannot work: k8s.io/kubernetes requires its
staging modules (k8s.io/api, k8s.io/client-go, ...) at v0.0.0 and replaces them with directories
of its own repository, and Go ignores a dependency's replace directives. A wrapper module that
requires k8s.io/kubernetes and replaces each staging module with its published v0.N.P builds
the release as its own go.mod describes it. Its godebug line is copied too: it sets the runtime
defaults the release was tested with.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from nordkube.bundle.errors import BundleError
from nordkube.bundle.versions import KubernetesVersion

_GO_DIRECTIVE = re.compile(r"^go\s+(\S+)\s*$", re.M)
_GODEBUG_LINE = re.compile(r"^godebug\s+[^(\s].*$", re.M)
_GODEBUG_BLOCK = re.compile(r"^godebug\s*\(\n.*?^\)", re.M | re.S)
_STAGING_REPLACE = re.compile(r"^\s*(?:replace\s+)?(k8s\.io/\S+)\s+=>\s+\./staging/\S+\s*$", re.M)


def go_directive(gomod: str) -> str:
    match = _GO_DIRECTIVE.search(gomod)
    if not match:
        raise BundleError("go.mod has no `go` line")
    return match.group(1)


def godebug(gomod: str) -> str | None:
    """The godebug line or block exactly as written, or None when the go.mod has none."""
    match = _GODEBUG_BLOCK.search(gomod) or _GODEBUG_LINE.search(gomod)
    return match.group(0) if match else None


def staging_modules(gomod: str) -> list[str]:
    """The modules a k8s.io/kubernetes go.mod replaces with its own staging directories."""
    return _STAGING_REPLACE.findall(gomod)


def wrapper_gomod(
    name: str,
    go: str,
    requires: Sequence[tuple[str, str]],
    replaces: Sequence[tuple[str, str, str]] = (),
    godebug_text: str | None = None,
) -> str:
    """A go.mod for module `name`: `requires` are (module, version), `replaces` are
    (module, replacement module, replacement version), or (module, ./directory, "")."""
    lines = [f"module {name}", "", f"go {go}", ""]
    if godebug_text:
        lines += [godebug_text, ""]
    lines += ["require (", *(f"\t{module} {version}" for module, version in requires), ")", ""]
    if replaces:
        lines.append("replace (")
        lines += [
            f"\t{module} => {target} {version}".rstrip() for module, target, version in replaces
        ]
        lines += [")", ""]
    return "\n".join(lines)


def kubernetes_wrapper(version: KubernetesVersion, kubernetes_gomod: str) -> str:
    """The wrapper that builds k8s.io/kubernetes at `version` from its own go.mod."""
    staging = staging_modules(kubernetes_gomod)
    if not staging:
        raise BundleError(
            f"k8s.io/kubernetes {version.tag}'s go.mod replaces no staging module; "
            "it is not a Kubernetes release go.mod"
        )
    return wrapper_gomod(
        "nordkube.local/bundle/kubernetes",
        go_directive(kubernetes_gomod),
        [("k8s.io/kubernetes", version.tag)],
        [(module, module, version.staging) for module in staging],
        godebug(kubernetes_gomod),
    )

"""Which programs a bundle holds for a Kubernetes release, at which versions, built how.

Versions come from the release wherever it names them: etcd, CoreDNS and pause from the built
kubeadm's `config images list`, crictl and the CNI plugins from the release's
build/dependencies.yaml, runc from the chosen containerd's script/setup/runc-version. Only
containerd and flannel are pinned here, because no release names them.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import yaml

from nordkube.bundle.errors import BundleError
from nordkube.bundle.recipe import ASSETS, GoRecipe, source_digests
from nordkube.bundle.versions import KubernetesVersion
from nordkube.bundle.wrapper import wrapper_gomod

KUBERNETES_BINARIES = (
    "kubeadm",
    "kubelet",
    "kubectl",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kube-proxy",
)
# The version packages the Kubernetes build stamps (hack/lib/version.sh sets both).
KUBERNETES_VERSION_PACKAGES = ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")

# containerd's RELEASES.md support table names, per Kubernetes minor, the containerd minors it
# recommends; each entry is the newest patch of the newest such minor the module proxy serves.
CONTAINERD_RELEASES = {"1.34": "v2.1.5", "1.35": "v2.2.9", "1.36": "v2.3.7", "1.37": "v2.4.2"}
FLANNEL = "v0.28.10"
# flannel's CNI plugin (github.com/flannel-io/cni-plugin) is not served by the module proxy;
# the same plugin shipped in the CNI reference plugins until v1.0, last in v0.9.1.
FLANNEL_CNI = ("github.com/containernetworking/plugins", "v0.9.1")

CONTAINERD_MODULE = "github.com/containerd/containerd/v2"
RUNC_MODULE = "github.com/opencontainers/runc"
CNI_MODULE = "github.com/containernetworking/plugins"
ETCD_MODULES = ("go.etcd.io/etcd/server/v3", "go.etcd.io/etcd/etcdctl/v3")
COREDNS_MODULE = "github.com/coredns/coredns"
CRICTL_MODULE = "sigs.k8s.io/cri-tools"
FLANNEL_MODULE = "github.com/flannel-io/flannel"
STRIP = ("-s", "-w")


def kubernetes_recipes(version: KubernetesVersion, wrapper: str, build_date: str) -> list[GoRecipe]:
    """One recipe per binary, so a change to one rebuilds that one alone."""
    stamps = {
        "gitVersion": version.tag,
        "gitMajor": str(version.major),
        "gitMinor": str(version.minor),
        "gitTreeState": "clean",
        "buildDate": build_date,
    }
    ldflags = STRIP + tuple(
        f"-X {package}.{key}={value}"
        for package in KUBERNETES_VERSION_PACKAGES
        for key, value in stamps.items()
    )
    return [
        GoRecipe(
            name=binary,
            version=version.tag,
            outputs=((binary, f"k8s.io/kubernetes/cmd/{binary}"),),
            gomod=wrapper,
            ldflags=ldflags,
        )
        for binary in KUBERNETES_BINARIES
    ]


def containerd_version(version: KubernetesVersion) -> str:
    try:
        return CONTAINERD_RELEASES[version.minor_line]
    except KeyError:
        known = ", ".join(CONTAINERD_RELEASES)
        raise BundleError(
            f"no containerd release is chosen for Kubernetes {version.minor_line} "
            f"(CONTAINERD_RELEASES in nordkube/bundle/catalog.py knows {known})"
        ) from None


def release_dependency(dependencies_yaml: str, name: str) -> str:
    """A version from k8s.io/kubernetes' build/dependencies.yaml, as a module version."""
    for dependency in yaml.safe_load(dependencies_yaml).get("dependencies", []):
        if dependency.get("name") == name:
            return "v" + str(dependency["version"]).removeprefix("v")
    raise BundleError(f"build/dependencies.yaml of this release names no {name!r} version")


def runc_version(containerd_dir: Path) -> str:
    """The runc release containerd is tested with."""
    path = containerd_dir / "script/setup/runc-version"
    try:
        return "v" + path.read_text().strip().removeprefix("v")
    except FileNotFoundError:
        raise BundleError(f"containerd's module has no {path.name} ({path})") from None


def image_tags(images: list[str]) -> dict[str, str]:
    """kubeadm's image list, by image name: {"etcd": "3.6.6-0", "coredns": "v1.13.1", ...}."""
    tags = {}
    for ref in images:
        repository, _, tag = ref.rpartition(":")
        tags[repository.rsplit("/", 1)[-1]] = tag
    return tags


def etcd_module_version(tag: str) -> str:
    """kubeadm names etcd images 3.6.6-0 (the -N is the image revision); the module is v3.6.6."""
    match = re.fullmatch(r"v?(\d+\.\d+\.\d+)(-\d+)?", tag)
    if not match:
        raise BundleError(f"kubeadm names an etcd image tag {tag!r} that is not 3.N.P-R")
    return f"v{match.group(1)}"


def wrapped(
    name: str,
    version: str,
    go: str,
    requires: list[tuple[str, str]],
    outputs: tuple[tuple[str, str], ...],
    ldflags: tuple[str, ...] = STRIP,
    *,
    directory: str = "bin",
    tags: tuple[str, ...] = (),
    cgo: bool = False,
) -> GoRecipe:
    """A recipe that builds `outputs` from the required modules through a wrapper."""
    return GoRecipe(
        name=name,
        version=version,
        outputs=outputs,
        gomod=wrapper_gomod(f"nordkube.local/bundle/{name}", go, requires),
        directory=directory,
        ldflags=ldflags,
        tags=tags,
        cgo=cgo,
    )


def cni_plugin_packages(plugins_dir: Path) -> tuple[tuple[str, str], ...]:
    """Every Linux plugin of a CNI reference plugins release, read from its source tree."""
    found = sorted(
        (kind.name, plugin.name)
        for kind in (plugins_dir / "plugins").iterdir()
        if kind.is_dir()
        for plugin in kind.iterdir()
        if plugin.is_dir() and plugin.name != "windows" and any(plugin.glob("*.go"))
    )
    return tuple((plugin, f"{CNI_MODULE}/plugins/{kind}/{plugin}") for kind, plugin in found)


def project_recipe(name: str, program: str) -> GoRecipe:
    """A program the project owns, under assets/, versioned by the hash of its sources."""
    digests = source_digests(ASSETS / program)
    encoded = json.dumps(digests, sort_keys=True).encode()
    version = "nordkube-" + hashlib.sha256(encoded).hexdigest()[:8]
    return GoRecipe(
        name=name, version=version, outputs=((name, f"nordkube.local/{program}"),), source=program
    )

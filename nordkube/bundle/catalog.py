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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from nordkube.bundle.errors import BundleError
from nordkube.bundle.recipe import ASSETS, GoRecipe, SourceEdit, source_digests
from nordkube.bundle.versions import KubernetesVersion
from nordkube.bundle.wrapper import go_directive, wrapper_gomod

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
# flanneld is built static without two backends: tencentvpc, because Tencent Cloud's VPC SDK is
# not served by the module proxy, and udp, whose amd64 proxy is C (cgo). vxlan, host-gw, wireguard
# and ipip, the backends nordkube offers or could, are unaffected.
FLANNEL_EDITS = (
    SourceEdit(
        FLANNEL_MODULE,
        FLANNEL,
        "main.go",
        (
            '_ "github.com/flannel-io/flannel/pkg/backend/tencentvpc"',
            '_ "github.com/flannel-io/flannel/pkg/backend/udp"',
        ),
    ),
)
STRIP = ("-s", "-w")

Fetch = Callable[[str, str], dict[str, Any]]


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


def containerd_release(version: KubernetesVersion) -> str:
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


def runc_release(containerd_dir: Path) -> str:
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
    edits: tuple[SourceEdit, ...] = (),
) -> GoRecipe:
    """A recipe that builds `outputs` from the required modules through a wrapper; each edited
    module is replaced by its edited copy."""
    replaces = [(edit.module, f"./{edit.directory}", "") for edit in edits]
    return GoRecipe(
        name=name,
        version=version,
        outputs=outputs,
        gomod=wrapper_gomod(f"nordkube.local/bundle/{name}", go, requires, replaces),
        directory=directory,
        ldflags=ldflags,
        tags=tags,
        cgo=cgo,
        edits=edits,
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


def go_line(*infos: dict[str, Any]) -> str:
    """The newest `go` line among the modules a wrapper requires."""
    lines = [go_directive(Path(info["GoMod"]).read_text()) for info in infos]
    return max(lines, key=lambda line: tuple(int(part) for part in line.split(".")))


def companion_recipes(
    version: KubernetesVersion, kubernetes_dir: Path, images: list[str], fetch: Fetch
) -> list[GoRecipe]:
    """Everything besides Kubernetes itself, at the versions the release names.

    `kubernetes_dir` is the release's module source; `fetch(module, version)` downloads a module
    (refusing one the proxy does not serve) and answers `go mod download -json`.
    """
    tags = image_tags(images)
    dependencies = (kubernetes_dir / "build/dependencies.yaml").read_text()
    etcd_version = etcd_module_version(tags["etcd"])
    coredns_version = tags["coredns"]
    crictl_version = release_dependency(dependencies, "crictl")
    cni_version = release_dependency(dependencies, "cni")
    containerd_version = containerd_release(version)

    etcd = [fetch(module, etcd_version) for module in ETCD_MODULES]
    coredns = fetch(COREDNS_MODULE, coredns_version)
    crictl = fetch(CRICTL_MODULE, crictl_version)
    cni = fetch(CNI_MODULE, cni_version)
    containerd = fetch(CONTAINERD_MODULE, containerd_version)
    runc_version = runc_release(Path(containerd["Dir"]))
    runc = fetch(RUNC_MODULE, runc_version)
    flannel = fetch(FLANNEL_MODULE, FLANNEL)
    flannel_cni = fetch(*FLANNEL_CNI)
    containerd_stamp = f"-X {CONTAINERD_MODULE}/version.Version={containerd_version}"
    return [
        wrapped(
            "etcd",
            etcd_version,
            go_line(*etcd),
            [(module, etcd_version) for module in ETCD_MODULES],
            (("etcd", ETCD_MODULES[0]), ("etcdctl", ETCD_MODULES[1])),
        ),
        wrapped(
            "coredns",
            coredns_version,
            go_line(coredns),
            [(COREDNS_MODULE, coredns_version)],
            (("coredns", COREDNS_MODULE),),
        ),
        project_recipe("pause", "pause"),
        wrapped(
            "crictl",
            crictl_version,
            go_line(crictl),
            [(CRICTL_MODULE, crictl_version)],
            (("crictl", f"{CRICTL_MODULE}/cmd/crictl"),),
            (*STRIP, f"-X {CRICTL_MODULE}/pkg/version.Version={crictl_version}"),
        ),
        wrapped(
            "cni-plugins",
            cni_version,
            go_line(cni),
            [(CNI_MODULE, cni_version)],
            cni_plugin_packages(Path(cni["Dir"])),
            (
                *STRIP,
                f"-X {CNI_MODULE}/pkg/utils/buildversion.BuildVersion={cni_version}",
            ),
            directory="cni",
        ),
        wrapped(
            "flannel",
            FLANNEL,
            go_line(flannel),
            [(FLANNEL_MODULE, FLANNEL)],
            (("flanneld", FLANNEL_MODULE),),
            (*STRIP, f"-X {FLANNEL_MODULE}/pkg/version.Version={FLANNEL}"),
            edits=FLANNEL_EDITS,
        ),
        wrapped(
            "flannel-cni",
            FLANNEL_CNI[1],
            go_line(flannel_cni),
            [FLANNEL_CNI],
            (("flannel", f"{FLANNEL_CNI[0]}/plugins/meta/flannel"),),
            (
                *STRIP,
                f"-X {CNI_MODULE}/pkg/utils/buildversion.BuildVersion={FLANNEL_CNI[1]}",
            ),
            directory="cni",
        ),
        wrapped(
            "containerd",
            containerd_version,
            go_line(containerd),
            [(CONTAINERD_MODULE, containerd_version)],
            tuple(
                (command, f"{CONTAINERD_MODULE}/cmd/{command}")
                for command in ("containerd", "containerd-shim-runc-v2", "ctr")
            ),
            (*STRIP, containerd_stamp),
        ),
        # runc is the one cgo program: its nsenter is C, and seccomp needs libseccomp.
        # Linked statically so one binary runs on every supported distribution.
        wrapped(
            "runc",
            runc_version,
            go_line(runc),
            [(RUNC_MODULE, runc_version)],
            (("runc", RUNC_MODULE),),
            (
                *STRIP,
                f"-X main.version={runc_version.removeprefix('v')}",
                "-extldflags -static",
            ),
            tags=("seccomp", "urfave_cli_no_docs", "netgo", "osusergo"),
            cgo=True,
        ),
        project_recipe("nk-http", "httpserve"),
    ]

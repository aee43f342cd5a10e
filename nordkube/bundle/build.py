"""`nordkube bundle build`: every binary and image a kubeadm cluster needs, for one release.

Order matters once: kubeadm is built first, because its `config images list` names the etcd,
CoreDNS and pause versions the rest of the bundle must match.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nordkube.bundle import catalog
from nordkube.bundle.cache import bundle_cache
from nordkube.bundle.errors import BundleError
from nordkube.bundle.gobuild import GoArtifact, ensure_go_artifact
from nordkube.bundle.gocmd import download_module, go_env, go_version
from nordkube.bundle.images import build_images
from nordkube.bundle.manifest import assemble
from nordkube.bundle.recipe import GoRecipe
from nordkube.bundle.versions import KubernetesVersion, parse_kubernetes_version
from nordkube.bundle.wrapper import go_directive, kubernetes_wrapper

Report = Callable[[str], None]


@dataclass
class BuildContext:
    """What every step of one build shares: the cache, the go environment, and the log."""

    version: KubernetesVersion
    cache: Path
    env: dict[str, str]
    go_version: str
    report: Report
    started: float = field(default_factory=time.monotonic)
    timings: dict[str, float] = field(default_factory=dict)

    def module(self, module: str, version: str) -> dict[str, Any]:
        """Download one module version; refuses clearly when the proxy does not serve it."""
        return download_module(module, version, self.env)

    def go_line(self, *infos: dict[str, Any]) -> str:
        """The newest `go` line among the modules a wrapper requires."""
        lines = [go_directive(Path(info["GoMod"]).read_text()) for info in infos]
        return max(lines, key=lambda line: tuple(int(part) for part in line.split(".")))


def default_out(version: KubernetesVersion) -> Path:
    return bundle_cache() / "bundles" / version.tag


def kubeadm_images(kubeadm: Path, version: KubernetesVersion) -> list[str]:
    """The images this kubeadm pulls for `version`; --kubernetes-version keeps it offline."""
    result = subprocess.run(
        [str(kubeadm), "config", "images", "list", "--kubernetes-version", version.tag],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BundleError(f"`kubeadm config images list` failed: {result.stderr.strip()}")
    return result.stdout.split()


def go_recipes_after_kubeadm(
    context: BuildContext, kubernetes: dict[str, Any], images: list[str]
) -> list[GoRecipe]:
    """Everything besides Kubernetes itself, at the versions the release names."""
    tags = catalog.image_tags(images)
    dependencies = (Path(kubernetes["Dir"]) / "build/dependencies.yaml").read_text()
    etcd_version = catalog.etcd_module_version(tags["etcd"])
    coredns_version = tags["coredns"]
    crictl_version = catalog.release_dependency(dependencies, "crictl")
    cni_version = catalog.release_dependency(dependencies, "cni")
    containerd_version = catalog.containerd_version(context.version)

    etcd = [context.module(module, etcd_version) for module in catalog.ETCD_MODULES]
    coredns = context.module(catalog.COREDNS_MODULE, coredns_version)
    crictl = context.module(catalog.CRICTL_MODULE, crictl_version)
    cni = context.module(catalog.CNI_MODULE, cni_version)
    containerd = context.module(catalog.CONTAINERD_MODULE, containerd_version)
    runc_version = catalog.runc_version(Path(containerd["Dir"]))
    runc = context.module(catalog.RUNC_MODULE, runc_version)
    flannel = context.module(catalog.FLANNEL_MODULE, catalog.FLANNEL)
    flannel_cni = context.module(*catalog.FLANNEL_CNI)
    containerd_stamp = f"-X {catalog.CONTAINERD_MODULE}/version.Version={containerd_version}"
    return [
        catalog.wrapped(
            "etcd",
            etcd_version,
            context.go_line(*etcd),
            [(module, etcd_version) for module in catalog.ETCD_MODULES],
            (("etcd", catalog.ETCD_MODULES[0]), ("etcdctl", catalog.ETCD_MODULES[1])),
        ),
        catalog.wrapped(
            "coredns",
            coredns_version,
            context.go_line(coredns),
            [(catalog.COREDNS_MODULE, coredns_version)],
            (("coredns", catalog.COREDNS_MODULE),),
        ),
        catalog.project_recipe("pause", "pause"),
        catalog.wrapped(
            "crictl",
            crictl_version,
            context.go_line(crictl),
            [(catalog.CRICTL_MODULE, crictl_version)],
            (("crictl", f"{catalog.CRICTL_MODULE}/cmd/crictl"),),
            (*catalog.STRIP, f"-X {catalog.CRICTL_MODULE}/pkg/version.Version={crictl_version}"),
        ),
        catalog.wrapped(
            "cni-plugins",
            cni_version,
            context.go_line(cni),
            [(catalog.CNI_MODULE, cni_version)],
            catalog.cni_plugin_packages(Path(cni["Dir"])),
            (
                *catalog.STRIP,
                f"-X {catalog.CNI_MODULE}/pkg/utils/buildversion.BuildVersion={cni_version}",
            ),
            directory="cni",
        ),
        catalog.wrapped(
            "flannel",
            catalog.FLANNEL,
            context.go_line(flannel),
            [(catalog.FLANNEL_MODULE, catalog.FLANNEL)],
            (("flanneld", catalog.FLANNEL_MODULE),),
            (
                *catalog.STRIP,
                f"-X {catalog.FLANNEL_MODULE}/pkg/version.Version={catalog.FLANNEL}",
            ),
        ),
        catalog.wrapped(
            "flannel-cni",
            catalog.FLANNEL_CNI[1],
            context.go_line(flannel_cni),
            [catalog.FLANNEL_CNI],
            (("flannel", f"{catalog.FLANNEL_CNI[0]}/plugins/meta/flannel"),),
            directory="cni",
        ),
        catalog.wrapped(
            "containerd",
            containerd_version,
            context.go_line(containerd),
            [(catalog.CONTAINERD_MODULE, containerd_version)],
            tuple(
                (command, f"{catalog.CONTAINERD_MODULE}/cmd/{command}")
                for command in ("containerd", "containerd-shim-runc-v2", "ctr")
            ),
            (*catalog.STRIP, containerd_stamp),
        ),
        # runc is the one cgo program: its nsenter is C, and seccomp needs libseccomp.
        # Linked statically so one binary runs on every supported distribution.
        catalog.wrapped(
            "runc",
            runc_version,
            context.go_line(runc),
            [(catalog.RUNC_MODULE, runc_version)],
            (("runc", catalog.RUNC_MODULE),),
            (
                *catalog.STRIP,
                f"-X main.version={runc_version.removeprefix('v')}",
                "-extldflags -static",
            ),
            tags=("seccomp", "urfave_cli_no_docs", "netgo", "osusergo"),
            cgo=True,
        ),
        catalog.project_recipe("nk-http", "httpserve"),
    ]


def build_go(context: BuildContext, recipe: GoRecipe, index: str) -> GoArtifact:
    context.report(f"{index} {recipe.name} {recipe.version}: checking the cache")
    started = time.monotonic()
    artifact = ensure_go_artifact(recipe, context.cache, context.go_version)
    seconds = time.monotonic() - started
    context.timings[recipe.name] = round(seconds, 1)
    how = "cached" if artifact.cached else "built"
    context.report(f"{index} {recipe.name} {recipe.version}: {how} in {seconds:.1f} s")
    return artifact


def build_bundle(
    version_text: str, out: Path, report: Report
) -> tuple[dict[str, Any], dict[str, float]]:
    """Build (or take from the cache) every artifact and assemble the bundle at `out`.

    Returns bundle.json and the seconds each artifact took (building or finding it cached).
    """
    version = parse_kubernetes_version(version_text)
    cache = bundle_cache()
    env = go_env(cache / "go-build")
    context = BuildContext(version, cache, env, go_version(env), report)
    report(f"bundle for Kubernetes {version.tag} ({context.go_version}, cache {cache})")
    kubernetes = context.module("k8s.io/kubernetes", version.tag)
    # The wrapper pins every staging module; one look-up refuses early if they are not served.
    context.module("k8s.io/api", version.staging)
    wrapper = kubernetes_wrapper(version, Path(kubernetes["GoMod"]).read_text())
    build_date = json.loads(Path(kubernetes["Info"]).read_text())["Time"]
    recipes = catalog.kubernetes_recipes(version, wrapper, build_date)
    kubeadm = build_go(context, recipes[0], "[k8s 1]")
    images = kubeadm_images(kubeadm.file("kubeadm"), version)
    report(f"kubeadm {version.tag} names the images: {' '.join(images)}")
    artifacts = [kubeadm]
    rest = recipes[1:] + go_recipes_after_kubeadm(context, kubernetes, images)
    for number, recipe in enumerate(rest, start=2):
        artifacts.append(build_go(context, recipe, f"[{number}/{len(rest) + 1}]"))
    built_images = build_images(context, images, {a.recipe.name: a for a in artifacts})
    manifest = assemble(context, out, artifacts, built_images, images)
    total = time.monotonic() - context.started
    report(f"bundle ready in {total:.1f} s: {out} ({manifest['size'] / 1e6:.0f} MB)")
    return manifest, context.timings

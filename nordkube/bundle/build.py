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

from nordkube import cni
from nordkube.bundle import catalog
from nordkube.bundle.cache import bundle_cache
from nordkube.bundle.errors import BundleError
from nordkube.bundle.gobuild import GoArtifact, ensure_go_artifact
from nordkube.bundle.gocmd import download_module, go_env, go_version, served_versions
from nordkube.bundle.images import BuiltImage, ImageSpec, ensure_image, image_specs
from nordkube.bundle.manifest import assemble
from nordkube.bundle.recipe import GoRecipe
from nordkube.bundle.versions import KubernetesVersion, parse_kubernetes_version
from nordkube.bundle.wrapper import kubernetes_wrapper

Report = Callable[[str], None]


@dataclass
class BuildContext:
    """What every step of one build shares: the release, the cache, the go environment, the
    progress report and the timings."""

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


def cni_spec_versions(plugin: Path) -> list[str]:
    """The CNI spec versions a plugin binary supports, as it answers CNI_COMMAND=VERSION."""
    try:
        result = subprocess.run(
            [str(plugin)],
            input="{}",
            env={"CNI_COMMAND": "VERSION", "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        answer = json.loads(result.stdout)
        versions = answer["supportedVersions"]
    except (OSError, subprocess.TimeoutExpired, ValueError, KeyError, TypeError):
        raise BundleError(
            f"the CNI plugin {plugin} gave no version answer to CNI_COMMAND=VERSION"
        ) from None
    return [str(version) for version in versions]


def check_conflist_plugins(plugins: dict[str, Path]) -> None:
    """Refuse a bundle whose pod network could not make a single pod sandbox: every plugin
    flannel's conflist runs must support its cniVersion (nordkube.cni.CNI_CONF_VERSION)."""
    for name, plugin in plugins.items():
        supported = cni_spec_versions(plugin)
        if cni.CNI_CONF_VERSION not in supported:
            raise BundleError(
                f"the bundle's CNI plugin {name} ({plugin}) supports CNI spec versions "
                f"{', '.join(supported)}, not {cni.CNI_CONF_VERSION}, the cniVersion of "
                "flannel's conflist (nordkube.cni.CNI_CONF_VERSION): no pod could start"
            )


def build_go(context: BuildContext, recipe: GoRecipe, index: str) -> GoArtifact:
    def starting(log: Path) -> None:
        context.report(f"{index} {recipe.name} {recipe.version}: building (log {log})")

    started = time.monotonic()
    artifact = ensure_go_artifact(recipe, context.cache, context.go_version, starting)
    seconds = time.monotonic() - started
    context.timings[recipe.name] = round(seconds, 1)
    how = "cached" if artifact.cached else "built"
    context.report(f"{index} {recipe.name} {recipe.version}: {how} in {seconds:.1f} s")
    return artifact


def build_image(
    context: BuildContext, spec: ImageSpec, index: str, artifacts: dict[str, GoArtifact]
) -> BuiltImage:
    started = time.monotonic()
    image = ensure_image(
        spec, artifacts, context.cache, lambda: context.report(f"{index} {spec.ref}: building")
    )
    seconds = time.monotonic() - started
    context.timings[f"image {spec.name}"] = round(seconds, 1)
    how = "cached" if image.cached else "built"
    context.report(f"{index} {spec.ref}: {how} in {seconds:.1f} s")
    return image


def _context(version_text: str, report: Report, what: str) -> BuildContext:
    version = parse_kubernetes_version(version_text)
    cache = bundle_cache()
    env = go_env(cache / "go-build")
    context = BuildContext(version, cache, env, go_version(env), report)
    report(f"{what} for Kubernetes {version.tag} ({context.go_version}, cache {cache})")
    return context


def _kubernetes_recipes(context: BuildContext) -> tuple[dict[str, Any], list[GoRecipe]]:
    """k8s.io/kubernetes at the release (its download answer) and one recipe per binary,
    kubeadm first."""
    version = context.version
    kubernetes = context.module("k8s.io/kubernetes", version.tag)
    # The wrapper pins every staging module; one look-up refuses early if they are not served.
    context.module("k8s.io/api", version.staging)
    wrapper = kubernetes_wrapper(version, Path(kubernetes["GoMod"]).read_text())
    build_date = json.loads(Path(kubernetes["Info"]).read_text())["Time"]
    return kubernetes, catalog.kubernetes_recipes(version, wrapper, build_date)


def build_kubeadm(version_text: str, report: Report) -> Path:
    """kubeadm alone for one release, from the same recipe (and cache entry) as the bundle's:
    what the kubeadm validation tier runs `kubeadm config validate` with."""
    context = _context(version_text, report, "kubeadm")
    _, recipes = _kubernetes_recipes(context)
    return build_go(context, recipes[0], "[1/1]").file("kubeadm")


def newest_patches(served: list[str], minors: range) -> dict[int, str]:
    """The newest release (no pre-release) the proxy lists for each minor in `minors` that it
    lists at all: {35: 'v1.35.4', ...}."""
    newest: dict[int, KubernetesVersion] = {}
    for text in served:
        try:
            version = parse_kubernetes_version(text)
        except BundleError:
            continue  # a pre-release such as v1.38.0-beta.0
        if version.minor in minors and (
            version.minor not in newest or version.patch > newest[version.minor].patch
        ):
            newest[version.minor] = version
    return {minor: newest[minor].tag for minor in sorted(newest)}


def served_kubernetes_patches(minors: range) -> dict[int, str]:
    """newest_patches of what the module proxy lists for k8s.io/kubernetes."""
    env = go_env(bundle_cache() / "go-build")
    return newest_patches(served_versions("k8s.io/kubernetes", env), minors)


def build_bundle(
    version_text: str, out: Path, report: Report
) -> tuple[dict[str, Any], dict[str, float]]:
    """Build (or take from the cache) every artifact and assemble the bundle at `out`.

    Returns bundle.json and the seconds each artifact took (building or finding it cached).
    """
    context = _context(version_text, report, "bundle")
    version = context.version
    kubernetes, recipes = _kubernetes_recipes(context)
    kubeadm = build_go(context, recipes[0], "[1]")
    images = kubeadm_images(kubeadm.file("kubeadm"), version)
    report(f"kubeadm {version.tag} names the images: {' '.join(images)}")
    artifacts = [kubeadm]
    rest = recipes[1:] + catalog.companion_recipes(
        version, Path(kubernetes["Dir"]), images, context.module
    )
    for number, recipe in enumerate(rest, start=2):
        artifacts.append(build_go(context, recipe, f"[{number}/{len(rest) + 1}]"))
    by_name = {artifact.recipe.name: artifact for artifact in artifacts}
    check_conflist_plugins(
        {
            name: by_name["flannel-cni" if name == "flannel" else "cni-plugins"].file(name)
            for name in cni.CONFLIST_PLUGINS
        }
    )
    specs = image_specs(images)
    built_images = [
        build_image(context, spec, f"[image {number}/{len(specs)}]", by_name)
        for number, spec in enumerate(specs, start=1)
    ]
    manifest = assemble(context, out, artifacts, built_images, images)
    total = time.monotonic() - context.started
    report(f"bundle ready in {total:.1f} s: {out} ({manifest['size'] / 1e6:.0f} MB)")
    return manifest, context.timings

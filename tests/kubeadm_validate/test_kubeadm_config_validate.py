"""The kubeadm validation tier: every configuration the kubernetes stage renders, checked by the
real `kubeadm config validate` of each maintained minor.

kubeadm is built here from the Go module proxy (`nordkube bundle kubeadm`: the bundle's own
recipe and cache, so the default release's kubeadm is the bundle's), at the newest patch the
proxy lists for each minor. A minor the proxy does not serve, or a kubeadm that does not build,
fails the tier: it never skips. kubeadm decodes strictly, so a misspelt field in a template
fails here, before any node sees it; a test shows that on each kind of document. The last
one has kubeadm apply the static pods' liveness patches (control_plane_liveness).
"""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml

from nordkube import kubeadm
from nordkube.bundle.build import served_kubernetes_patches
from nordkube.settings import Settings
from nordkube.support import NEWEST_MINOR, OLDEST_MAINTAINED_MINOR
from pyinfra_ext.templating import render
from tests.unit.kubeadm_configs import CP1, rendered

pytestmark = pytest.mark.kubeadm_validate

MINORS = list(range(OLDEST_MAINTAINED_MINOR, NEWEST_MINOR + 1))
NORDKUBE = Path(sys.executable).parent / "nordkube"


@cache
def served() -> dict[int, str]:
    return served_kubernetes_patches(range(OLDEST_MAINTAINED_MINOR, NEWEST_MINOR + 1))


@cache
def kubeadm_for(minor: int) -> tuple[str, Path]:
    """(release, path of its kubeadm); fails the test when the minor is not served or kubeadm
    does not build."""
    release = served().get(minor)
    if release is None:
        pytest.fail(
            f"the Go module proxy lists no release of Kubernetes 1.{minor} "
            f"(it lists: {served() or 'none'}); the tier cannot validate that minor"
        )
    result = subprocess.run(
        [str(NORDKUBE), "bundle", "kubeadm", "--kubernetes", release],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"kubeadm {release} did not build:\n{result.stderr[-3000:]}")
    kubeadm = Path(result.stdout.strip().splitlines()[-1])
    version = subprocess.run(
        [str(kubeadm), "version", "-o", "short"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert version == release, f"{kubeadm} says {version}, built for {release}"
    return release, kubeadm


def validate(kubeadm: Path, config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(kubeadm), "config", "validate", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("minor", MINORS, ids=[f"1.{minor}" for minor in MINORS])
def test_every_rendered_configuration_passes_kubeadm_config_validate(minor, tmp_path):
    release, kubeadm = kubeadm_for(minor)
    files = rendered(release.removeprefix("v"))
    assert {"init-ipvs.yaml", "join-worker.yaml", "join-control-plane.yaml"} <= set(files)
    refused = {}
    for name, text in files.items():
        config = tmp_path / name
        config.write_text(text)
        result = validate(kubeadm, config)
        if result.returncode != 0 or result.stdout.strip() != "ok":
            refused[name] = (result.stdout + result.stderr).strip()
    assert refused == {}, f"kubeadm {release} refuses: {refused}"


# One field per kind of document the stage renders, as it appears in the rendered text, and the
# misspelling that a slip in its template would make.
MISSPELT = {
    "InitConfiguration": ("init-ipvs.yaml", "advertiseAddress:", "advertiseAdress:"),
    "ClusterConfiguration": ("init-ipvs.yaml", "podSubnet:", "podSubnets:"),
    "KubeletConfiguration": ("init-ipvs.yaml", "cgroupDriver:", "cgroupDrivr:"),
    "KubeProxyConfiguration": ("init-ipvs.yaml", "strictARP:", "strictArp:"),
    "JoinConfiguration": ("join-worker.yaml", "apiServerEndpoint:", "apiServerEndPoint:"),
}


@pytest.mark.parametrize("minor", MINORS, ids=[f"1.{minor}" for minor in MINORS])
@pytest.mark.parametrize("kind", list(MISSPELT))
def test_a_misspelt_field_fails_the_tier(minor, kind, tmp_path):
    release, kubeadm = kubeadm_for(minor)
    name, field, typo = MISSPELT[kind]
    text = rendered(release.removeprefix("v"))[name]
    assert text.count(field) == 1, f"{field} not once in {name}"
    config = tmp_path / name
    config.write_text(text.replace(field, typo))
    result = validate(kubeadm, config)
    assert result.returncode != 0
    unknown = re.search(
        r'Kind:"(\w+)"\}: strict decoding error: unknown field "([\w.]+)"', result.stderr
    )
    assert unknown, result.stderr
    assert unknown.group(1) == kind
    assert unknown.group(2).split(".")[-1] == typo.rstrip(":")


LIVENESS = {"timeoutSeconds": 60, "failureThreshold": 30}


@pytest.mark.parametrize("minor", MINORS, ids=[f"1.{minor}" for minor in MINORS])
def test_kubeadm_applies_the_liveness_patches_to_every_static_pod(minor, tmp_path):
    """control_plane_liveness's patch files, written as the stage writes them, applied by the
    real kubeadm: a dry run of the control-plane and etcd phases into a directory of the
    test's (KUBEADM_INIT_DRYRUN_DIR), so nothing of this machine's /etc is touched."""
    release, kubeadm_path = kubeadm_for(minor)
    settings = Settings(
        kubernetes_version=release.removeprefix("v"), control_plane_liveness=LIVENESS
    )
    patches, out = tmp_path / "patches", tmp_path / "manifests"
    patches.mkdir()
    out.mkdir()
    for path, values in kubeadm.static_pod_patches(settings, CP1).items():
        text = render("kubernetes", "static-pod+strategic.yaml", **values)
        (patches / posixpath.basename(path)).write_text(text)
    values = kubeadm.init_values(settings, CP1, [CP1], "cgroup2fs")
    assert values["node"]["patches"], "the init names no patches directory"
    config = tmp_path / "init.yaml"
    template = kubeadm.template_name("init", minor)
    config.write_text(
        render(
            "kubernetes",
            template,
            **{**values, "patches_dir": str(patches)},
            token=None,
            certificate_key=None,
        )
    )
    environment = {**os.environ, "KUBEADM_INIT_DRYRUN_DIR": str(out)}
    for phase in (["control-plane", "all"], ["etcd", "local"]):
        result = subprocess.run(
            [str(kubeadm_path), "init", "phase", *phase, "--config", str(config), "--dry-run"],
            capture_output=True,
            text=True,
            timeout=120,
            env=environment,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    for component in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        manifest = yaml.safe_load((out / f"{component}.yaml").read_text())
        (container,) = manifest["spec"]["containers"]
        probe = container["livenessProbe"]
        assert {name: probe[name] for name in LIVENESS} == LIVENESS, component
        # kubeadm's own probe keeps what the setting leaves alone.
        assert (probe["periodSeconds"], probe["initialDelaySeconds"]) == (10, 10), component
        assert probe["httpGet"]["path"].startswith(("/livez", "/health")), component

"""The kubernetes and network stages planned offline, on the recorded @fake hosts.

inventories/matrix.py is the Kubernetes 1.35 cluster of every OS that can run it,
inventories/matrix_eol.py the 1.28 cluster of those that cannot (CentOS 7, Ubuntu 18.04 and
20.04), inventories/matrix_ha.py three control-plane nodes behind kube-vip. The plans show the
package source per OS, kubeadm init on the first control-plane node only and joins everywhere
else, and that the run's certificate key and token reach the nodes on standard input only:
never in a command pyinfra prints, its logs or --json, planned or executed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import offline_plan  # noqa: E402

from inventories.recordings import RECORDINGS  # noqa: E402
from nordkube import kubeadm  # noqa: E402

INVENTORIES = ROOT / "inventories"
MATRIX, EOL, HA = (INVENTORIES / f"{name}.py" for name in ("matrix", "matrix_eol", "matrix_ha"))
DEPLOY = ROOT / "deploy.py"
KNOWN_KEY = "5ec2e7" + "0" * 52 + "c0ffee"
KNOWN_TOKEN = "nk7abc.s3cr3tt0k3nvalue"
# Prepared only, in inventories/matrix.py: their minor cannot join its 1.35 control plane.
PREPARED_ONLY = {"@fake/centos-7", "@fake/ubuntu-18.04", "@fake/ubuntu-20.04"}
INIT = "kubeadm init --skip-token-print --skip-certificate-key-print"
JOIN = "kubeadm join --config"


def text(command: Any) -> str:
    return offline_plan.shown(command)


def stdin(command: Any) -> str:
    return str(getattr(command, "connector_arguments", {}).get("_stdin", ""))


def uploaded(commands: list[Any], path: str) -> str | None:
    for command in commands:
        shown = text(command)
        if shown.startswith(f"upload {path}\n"):
            return shown.split("\n", 1)[1]
    return None


@pytest.fixture(scope="module")
def matrix() -> dict[str, list[Any]]:
    return offline_plan.plan(MATRIX)[1]


@pytest.fixture(scope="module")
def eol() -> dict[str, list[Any]]:
    return offline_plan.plan(EOL)[1]


@pytest.fixture(scope="module")
def ha(request: pytest.FixtureRequest) -> tuple[Any, dict[str, list[Any]]]:
    """The HA plan with a known certificate key and token (patched in nordkube.kubeadm)."""
    patch = pytest.MonkeyPatch()
    request.addfinalizer(patch.undo)
    patch.setattr(kubeadm, "new_certificate_key", lambda: KNOWN_KEY)
    patch.setattr(kubeadm, "new_token", lambda: KNOWN_TOKEN)
    return offline_plan.plan(HA)


def cluster_hosts(commands: dict[str, list[Any]]) -> list[str]:
    """The hosts of a plan that form its cluster: in the 1.35 matrix, all but PREPARED_ONLY."""
    if "@fake/debian-12" not in commands:
        return sorted(commands)
    return sorted(name for name in commands if name not in PREPARED_ONLY)


# -- package source per OS ------------------------------------------------------------------

PACKAGES = "cri-tools kubernetes-cni"


@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_kubernetes_packages_come_pinned_from_pkgs_k8s_io(
    name: str, matrix: dict[str, list[Any]], eol: dict[str, list[Any]]
) -> None:
    host = f"@fake/{name}"
    commands = eol[host] if host in eol else matrix[host]
    version = "1.28.15" if host in eol else "1.35.4"
    manager = RECORDINGS[name].package_query
    shown = [text(command) for command in commands]
    if manager == "apt":
        wanted = [f"'{p}={version}-*'" for p in kubeadm.PINNED_PACKAGES]
        install = [c for c in shown if "apt-get install" in c and wanted[0] in c]
        assert install and all(w in install[0] for w in wanted) and PACKAGES in install[0], name
        assert f"apt-mark hold kubeadm kubelet kubectl {PACKAGES}" in shown, name
    else:
        tool = "yum" if name == "centos-7" else "dnf"
        pinned = " ".join(f"{p}-{version}" for p in kubeadm.PINNED_PACKAGES)
        assert f"{tool} install -y --disableexcludes=kubernetes {pinned} {PACKAGES}" in shown
        assert f"{tool} versionlock add kubeadm kubelet kubectl {PACKAGES}" in shown, name
    repository = uploaded(commands, "/etc/apt/sources.list.d/kubernetes.list") or uploaded(
        commands, "/etc/yum.repos.d/kubernetes.repo"
    )
    assert repository and f"pkgs.k8s.io/core:/stable:/v{version.rsplit('.', 1)[0]}/" in repository


def test_hosts_that_cannot_join_are_only_prepared(matrix: dict[str, list[Any]]) -> None:
    for host in PREPARED_ONLY:
        shown = [text(command) for command in matrix[host]]
        pattern = r"kubeadm (init|join)|kubeadm[=-]1\.|^kubectl "
        cluster = [c for c in shown if not c.startswith("upload") and re.search(pattern, c)]
        assert cluster == [], host
        assert any("containerd" in c for c in shown), host


# -- init once, joins elsewhere -------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "first"),
    [("matrix", "@fake/debian-12"), ("eol", "@fake/centos-7"), ("ha", "@fake/debian-12")],
)
def test_kubeadm_init_on_the_first_control_plane_only_and_joins_everywhere_else(
    plan: str, first: str, request: pytest.FixtureRequest
) -> None:
    commands = request.getfixturevalue(plan)
    commands = commands[1] if isinstance(commands, tuple) else commands
    hosts = cluster_hosts(commands)
    inits = {h for h in hosts for c in commands[h] if INIT in text(c)}
    joins = {h for h in hosts for c in commands[h] if JOIN in text(c)}
    assert inits == {first}
    assert joins == set(hosts) - {first}
    for host in joins:
        assert not any(text(c).startswith("kubectl ") for c in commands[host]), "API: first only"


def test_the_end_of_life_cluster_speaks_kubeadms_v1beta3(eol: dict[str, list[Any]]) -> None:
    (init,) = [c for c in eol["@fake/centos-7"] if INIT in text(c)]
    assert "apiVersion: kubeadm.k8s.io/v1beta3" in stdin(init)
    assert "kubernetesVersion: v1.28.15" in stdin(init)
    (join,) = [c for c in eol["@fake/ubuntu-18.04"] if JOIN in text(c)]
    assert "kind: JoinConfiguration" in stdin(join) and 'node-ip: "10.20.0.' in stdin(join)


def test_workers_join_the_single_control_planes_private_address(
    matrix: dict[str, list[Any]],
) -> None:
    address = RECORDINGS["debian-12"].identity.private_ip
    for host in set(cluster_hosts(matrix)) - {"@fake/debian-12"}:
        (join,) = [c for c in matrix[host] if JOIN in text(c)]
        assert f'apiServerEndpoint: "{address}:6443"' in stdin(join), host
        assert "controlPlane:" not in stdin(join), host


def test_cgroup_v1_hosts_get_failcgroupv1_off_and_no_others(matrix: dict[str, list[Any]]) -> None:
    v1 = {"@fake/rocky-8", "@fake/almalinux-8"}
    for host in cluster_hosts(matrix):
        patch = uploaded(matrix[host], kubeadm.KUBELET_PATCH_FILE)
        assert (patch is not None) == (host in v1), host
    (join,) = [c for c in matrix["@fake/rocky-8"] if JOIN in text(c)]
    assert "- SystemVerification" in stdin(join)


def test_flannel_and_the_ready_wait_run_from_the_first_control_plane(
    matrix: dict[str, list[Any]],
) -> None:
    applies = {h for h, cs in matrix.items() for c in cs if "apply --server-side" in text(c)}
    assert applies == {"@fake/debian-12"}
    (apply,) = [c for c in matrix["@fake/debian-12"] if "apply --server-side" in text(c)]
    assert '"MTU": 1500' in stdin(apply) and "--iface=eth1" in stdin(apply)
    assert any("wait_until_ready" in text(c) for c in matrix["@fake/debian-12"])


# -- high availability ----------------------------------------------------------------------


def test_ha_control_planes_join_one_at_a_time_with_the_certificate_key(
    ha: tuple[Any, dict[str, list[Any]]],
) -> None:
    state, commands = ha
    (init,) = [c for c in commands["@fake/debian-12"] if INIT in text(c)]
    assert text(init).count("--upload-certs") == 1
    assert f'certificateKey: "{KNOWN_KEY}"' in stdin(init)
    assert 'controlPlaneEndpoint: "10.20.0.100:6443"' in stdin(init)
    for host in ("@fake/ubuntu-24.04", "@fake/rocky-9"):
        (join,) = [c for c in commands[host] if JOIN in text(c)]
        assert f'certificateKey: "{KNOWN_KEY}"' in stdin(join), host
        assert 'apiServerEndpoint: "10.20.0.100:6443"' in stdin(join), host
    (worker_join,) = [c for c in commands["@fake/debian-13"] if JOIN in text(c)]
    assert KNOWN_KEY not in stdin(worker_join) and KNOWN_TOKEN in stdin(worker_join)
    serial = [
        meta
        for meta in state.op_meta.values()
        if any("joined the control plane" in n for n in meta.names)
    ]
    assert len(serial) == 1 and serial[0].global_arguments["_serial"] is True


def test_ha_kube_vip_on_every_control_plane_with_super_admin_where_init_runs(
    ha: tuple[Any, dict[str, list[Any]]],
) -> None:
    commands = ha[1]
    for host in ("@fake/debian-12", "@fake/ubuntu-24.04", "@fake/rocky-9"):
        manifest = uploaded(commands[host], "/etc/kubernetes/manifests/kube-vip.yaml")
        assert manifest and "value: 10.20.0.100" in manifest, host
        super_admin = "path: /etc/kubernetes/super-admin.conf" in manifest
        assert super_admin == (host == "@fake/debian-12"), host
    assert uploaded(commands["@fake/debian-13"], "/etc/kubernetes/manifests/kube-vip.yaml") is None


def test_ha_secrets_only_on_standard_input_planned_in_process(
    ha: tuple[Any, dict[str, list[Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    from pyinfra_cli.prints import build_plan_json

    state, commands = ha
    shown = "\n".join(text(c) for cs in commands.values() for c in cs)
    assert KNOWN_KEY not in shown and KNOWN_TOKEN not in shown
    assert any(KNOWN_KEY in stdin(c) for cs in commands.values() for c in cs)
    plan = json.dumps(build_plan_json(state))
    assert KNOWN_KEY not in plan and KNOWN_TOKEN not in plan
    captured = capsys.readouterr()
    assert KNOWN_KEY not in captured.out + captured.err


SITECUSTOMIZE = f"""
from nordkube import kubeadm
kubeadm.new_certificate_key = lambda: {KNOWN_KEY!r}
kubeadm.new_token = lambda: {KNOWN_TOKEN!r}
"""


def run_pyinfra(tmp_path: Path, inventory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The pyinfra CLI with the known key and token (a sitecustomize on PYTHONPATH), run from
    tmp_path so the admin kubeconfig an executed run fetches lands there."""
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE)
    pyinfra = Path(sys.executable).with_name("pyinfra")
    return subprocess.run(
        [str(pyinfra), str(inventory), str(DEPLOY), "--json", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYINFRA_PROGRESS": "off", "PYTHONPATH": str(tmp_path)},
        check=False,
    )


def test_ha_secrets_never_in_the_verbose_output_or_json_of_a_planned_run(tmp_path: Path) -> None:
    result = run_pyinfra(tmp_path, HA, "--dry", "-vvv", "--debug")
    assert result.returncode == 0, result.stderr[-3000:]
    for secret in (KNOWN_KEY, KNOWN_TOKEN, kubeadm.token_id(KNOWN_TOKEN) + "."):
        assert secret not in result.stdout + result.stderr
    assert "kubeadm init" in result.stderr, "the masked command is shown"


def test_ha_secrets_never_in_the_verbose_output_or_json_of_an_executed_run(tmp_path: Path) -> None:
    """Executed on the @fake hosts (pyinfra -y: generators run when each operation executes,
    the first control-plane node's CA is read back by the callback): every command succeeds
    here, its text and the run's output are checked."""
    ca = (ROOT / "tests/unit/data/ca-rsa.crt").read_text().splitlines()
    variant = tmp_path / "ha_executed.py"
    variant.write_text(
        "import re, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from inventories import matrix_ha\n"
        "def _executable(hosts):\n"
        "    for _, data in hosts:\n"
        "        responses = data['fake_responses']\n"
        "        catch_all = [k for k in responses if isinstance(k, re.Pattern)]\n"
        "        for key in catch_all:\n"
        "            del responses[key]\n"
        f"        responses['cat /etc/kubernetes/pki/ca.crt'] = {ca!r}\n"
        "    return hosts\n"
        "control_plane = _executable(matrix_ha.control_plane)\n"
        "workers = _executable(matrix_ha.workers)\n"
    )
    result = run_pyinfra(tmp_path, variant, "-y", "-vvv", "--data", "stages=kubernetes")
    assert result.returncode == 0, result.stderr[-3000:]
    for secret in (KNOWN_KEY, KNOWN_TOKEN):
        assert secret not in result.stdout + result.stderr
    results = json.loads(result.stdout[result.stdout.find("{") :])["results"]
    succeeded = {name: op["success"] for op in results["operations"] for name in op["names"]}
    assert any("kubeadm init" in n and h == ["@fake/debian-12"] for n, h in succeeded.items())
    joined = [h for n, h in succeeded.items() if "joined the control plane" in n]
    assert joined == [["@fake/rocky-9", "@fake/ubuntu-24.04"]]
    assert results["totals"]["error"] == 0
    assert re.search(r">>> .*kubeadm join --config", result.stderr), "commands were executed"


# -- the offline bundle ---------------------------------------------------------------------


def test_a_bundle_installs_kubernetes_and_its_images_instead_of_packages(tmp_path: Path) -> None:
    """Executed on @fake Debian hosts (-y): kubeadm and friends uploaded to where packages put
    them, the kubelet's unit written, the control-plane images only on the control-plane
    node, every image imported into containerd's k8s.io namespace and pinned."""
    bundle = offline_plan.fake_bundle(tmp_path / "bundle")
    ca = (ROOT / "tests/unit/data/ca-rsa.crt").read_text().splitlines()
    inventory = tmp_path / "bundle_cluster.py"
    inventory.write_text(
        f"""import sys
sys.path.insert(0, {str(ROOT)!r})
from inventories.recordings import RECORDINGS

def node(name, **data):
    recording = RECORDINGS[name]
    responses = dict(recording.fake_responses())
    responses.popitem()  # the catch-all: executed commands succeed with no output
    responses["cat /etc/kubernetes/pki/ca.crt"] = {ca!r}
    return (recording.host, {{"fake_responses": responses, "fake_delay": 0,
        "fake_delay_jitter": 0, "node_network": "10.20.0.0/24",
        "private_address": recording.identity.private_ip,
        "kubernetes_package_source": "bundle", "kubernetes_bundle": {str(bundle)!r},
        "stages": ["runtime", "kubernetes"], **data}})

control_plane = [node("debian-12", etcd_device="/dev/nvme0n1")]
workers = [node("debian-13")]
"""
    )
    pyinfra = Path(sys.executable).with_name("pyinfra")
    result = subprocess.run(
        [str(pyinfra), str(inventory), str(DEPLOY), "-y", "--debug"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYINFRA_PROGRESS": "off"},
        check=False,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]

    def on(host: str, what: str) -> list[str]:
        return re.findall(rf"\[fake\] simulating {what} on @fake/{host}: (.*)", log)

    for host in ("debian-12", "debian-13"):
        uploads = on(host, "put_file")
        for program in ("kubeadm", "kubelet", "kubectl", "crictl"):
            assert f"/usr/bin/{program}.nordkube-upload" in uploads, (host, program)
        assert "/etc/systemd/system/kubelet.service" in " ".join(uploads), host
        commands = on(host, "command")
        assert not any(re.search(r"apt-get install .*kubeadm", c) for c in commands), host
        imports = [c for c in commands if "images import" in c]
        assert any("pause.oci.tar" in c for c in imports), host
        assert all(c.startswith("/usr/local/bin/ctr -n k8s.io images") for c in imports), host
        assert any(
            "images label registry.k8s.io/pause:3.10.1 io.cri-containerd.pinned=pinned" in c
            for c in commands
        )
        control_plane_images = any("kube-apiserver.oci.tar" in u for u in uploads)
        assert control_plane_images == (host == "debian-12"), host

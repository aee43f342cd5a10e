"""The cluster tier: from bare VMs one deploy forms a 3-node cluster (1 control plane, 2
workers) from the offline bundle, and it works: IPVS, cluster DNS and the Flannel overlay.

Runs on a lab of its own (`nordkube lab up --cluster`: the lab inventory runs every stage), in
file order: each test builds on the cluster the first one formed. Not in CI yet (see
scripts/test); run it with `scripts/test --cluster`.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time

import pytest
import yaml

from nordkube.bundle.images import TOOLBOX
from nordkube.bundle.install import CONTROL_PLANE_IMAGES
from nordkube.lab.inventory import CONTROL_PLANE_LIVENESS
from nordkube.settings import Settings
from tests.lab.labtools import NODES, check, converge, nordkube, on_node

pytestmark = pytest.mark.lab

KUBECTL = "kubectl --kubeconfig /etc/kubernetes/admin.conf"
SERVICE_VIP = "10.96.0.1"
BLOB_BYTES = 3 * 1024 * 1024 + 17


def kubectl(command: str) -> str:
    return on_node("node1", f"{KUBECTL} {command}")


class TokenWatch:
    """Every bootstrap token `kubeadm token list` shows on the first control-plane node while
    a run is under way (the run deletes its join token once the joins are done)."""

    def __init__(self) -> None:
        self.tokens: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            listing = nordkube(
                "lab", "ssh", "node1", "sudo kubeadm token list 2>/dev/null || true", timeout=120
            ).stdout
            self.tokens |= set(re.findall(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b", listing))
            # Every poll starts kubeadm and asks the API on an emulated node: seen adding to
            # a load that made the API server miss its liveness probe at 10 s; the join
            # token lives for the minutes the joins take.
            self._stop.wait(30)

    def __enter__(self) -> TokenWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=180)


def test_one_deploy_forms_a_ready_cluster_and_no_token_reaches_the_output(cluster_lab, tmp_path):
    assert [node["name"] for node in cluster_lab["nodes"]] == list(NODES)
    started = time.monotonic()
    with TokenWatch() as watch:
        # Bare VMs to a cluster under emulation: the bundle's uploads, the etcd gate, kubeadm
        # init, the joins and Ready; the node preparation alone took 20-30 minutes when the
        # machine was busy, so the forming run gets an hour.
        result = converge("-vvv", timeout=3600)
    minutes = (time.monotonic() - started) / 60
    assert result.returncode == 0, result.output[-6000:]
    assert all(result.changed[node] > 0 for node in NODES), result.changed
    assert result.errors == {node: 0 for node in NODES}
    print(f"bare VMs (bundle cached) to a Ready cluster: {minutes:.1f} min")
    nodes = kubectl("get nodes --no-headers")
    assert sorted(line.split()[:2] for line in nodes.splitlines()) == [
        [node, "Ready"] for node in NODES
    ], nodes
    # The run made a join token for the two workers (seen while it ran) and printed none.
    assert watch.tokens, "no bootstrap token seen on node1 during the run"
    leaked = {token for token in watch.tokens if token in result.output}
    assert leaked == set(), "bootstrap token in the run's verbose output or --json"
    assert on_node("node1", "kubeadm token list").strip() == "", "a join token was left"
    returncode, failures, output = check(tmp_path)
    assert (returncode, failures) == (0, set()), output[-4000:]


def test_second_converge_changes_nothing(cluster_lab):
    result = converge()
    assert result.returncode == 0, result.output[-4000:]
    assert result.changed == {node: 0 for node in NODES}, result.output[-4000:]


def test_the_control_planes_static_pods_carry_the_labs_liveness_probe(cluster_lab):
    """kubeadm applied the lab's control_plane_liveness patches at init; the rest of each
    probe is kubeadm's own."""
    for component in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        manifest = yaml.safe_load(
            on_node("node1", f"cat /etc/kubernetes/manifests/{component}.yaml")
        )
        (container,) = manifest["spec"]["containers"]
        probe = container["livenessProbe"]
        assert probe["timeoutSeconds"] == CONTROL_PLANE_LIVENESS["timeoutSeconds"], component
        assert probe["failureThreshold"] == CONTROL_PLANE_LIVENESS["failureThreshold"], component
        assert (probe["periodSeconds"], probe["initialDelaySeconds"]) == (10, 10), component
        assert "httpGet" in probe, component


@pytest.mark.parametrize("node", NODES)
def test_ipvs_sends_the_kubernetes_service_to_the_control_plane(cluster_lab, node):
    table = on_node(node, "ipvsadm -Ln")
    service = re.search(
        rf"^TCP\s+{re.escape(SERVICE_VIP)}:443 (\w+)\n((?:\s+->.*\n)+)", table, re.M
    )
    assert service, table
    assert service.group(1) == "rr"
    assert "192.168.77.11:6443" in service.group(2), table
    # DNS through the cluster DNS address on every node is the node suite's
    # test_cluster_dns_answers_for_the_kubernetes_service, run by `nordkube check` above.


SERVER = f"""
apiVersion: v1
kind: Pod
metadata: {{name: blob-server, labels: {{app: blob}}}}
spec:
  nodeName: node3
  containers:
    - name: http
      image: {TOOLBOX}
      imagePullPolicy: Never
      command:
        - sh
        - -c
        - mkdir -p /srv && head -c {BLOB_BYTES} /dev/urandom > /srv/blob
          && exec busybox httpd -f -p 8080 -h /srv
---
apiVersion: v1
kind: Service
metadata: {{name: blob}}
spec:
  selector: {{app: blob}}
  ports: [{{port: 80, targetPort: 8080}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: blob-client}}
spec:
  nodeName: node2
  containers:
    - name: shell
      image: {TOOLBOX}
      imagePullPolicy: Never
      command: [sleep, "3600"]
"""


def test_a_pod_fetches_megabytes_by_service_name_from_a_pod_on_the_other_worker(cluster_lab):
    """DNS, IPVS and the VXLAN overlay together: node2's pod asks for `blob` by name, the answer
    comes from node3's pod, byte for byte."""
    on_node("node1", f"cat > /tmp/blob.yaml <<'YAML'\n{SERVER}\nYAML")
    kubectl("apply -f /tmp/blob.yaml")
    try:
        kubectl("wait --for=condition=Ready pod/blob-server pod/blob-client --timeout=600s")
        served = kubectl("exec blob-server -- sha256sum /srv/blob").split()[0]
        fetched = kubectl(
            "exec blob-client -- sh -c 'curl -sS --fail --retry 5 --retry-all-errors "
            "--max-time 120 http://blob.default.svc.cluster.local/blob | sha256sum'"
        ).split()[0]
        size = kubectl(
            "exec blob-client -- sh -c 'curl -sS --fail --max-time 120 "
            "http://blob.default.svc.cluster.local/blob | wc -c'"
        ).strip()
        assert int(size) == BLOB_BYTES
        assert fetched == served
        assert len(served) == 64 and served != hashlib.sha256(b"").hexdigest()
    finally:
        kubectl("delete --wait=false -f /tmp/blob.yaml")


@pytest.mark.parametrize("node", NODES)
def test_every_image_kubeadm_names_is_in_containerd_pinned_and_the_toolbox_runs(cluster_lab, node):
    """The bundle's images in containerd's k8s.io namespace, pinned against the kubelet's image
    garbage collection; the toolbox runs under containerd's own runtime. A worker gets every
    image kubeadm names but the control plane's own (install.CONTROL_PLANE_IMAGES: its static
    pods run on control-plane nodes only), which it is checked not to have."""
    version = on_node(node, "kubeadm version -o short").strip()
    assert version == "v" + Settings.from_data({}, "lab").kubernetes_version
    named = on_node(node, f"kubeadm config images list --kubernetes-version {version}").split()
    control_plane_only = {
        ref for ref in named if ref.rsplit("/", 1)[-1].partition(":")[0] in CONTROL_PLANE_IMAGES
    }
    assert len(control_plane_only) == len(CONTROL_PLANE_IMAGES), named
    wanted = set(named) - (control_plane_only if node != "node1" else set())
    listed = on_node(node, "ctr -n k8s.io images ls")
    pinned = {
        line.split()[0]
        for line in listed.splitlines()[1:]
        if "io.cri-containerd.pinned=pinned" in line
    }
    assert set(wanted) | {TOOLBOX} <= pinned, listed
    crictl = on_node(node, "crictl images -o json")
    tags = {tag for image in json.loads(crictl)["images"] for tag in image["repoTags"]}
    assert set(wanted) <= tags
    if node != "node1":
        assert not control_plane_only & tags, tags
    curl = on_node(node, f"ctr -n k8s.io run --rm {TOOLBOX} curl-version-{node} curl --version")
    assert curl.startswith("curl ")

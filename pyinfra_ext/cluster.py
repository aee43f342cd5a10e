"""Operations that form and grow the cluster: kubeadm init and join, the join token of a run,
manifests applied to the API, the wait for Ready nodes, and the operator's admin kubeconfig.

Each ensures one state, guarded by what the step leaves behind (KubeadmState, ClusterState),
and yields nothing when it holds. The run's secrets (pyinfra_ext/joining.py) travel only on a
command's standard input, and kubeadm's own output is shown with anything shaped like a token
or a key masked, so neither pyinfra's output, its logs nor --json ever carries them.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shlex
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import gevent
from pyinfra import host, logger
from pyinfra.api import (
    FunctionCommand,
    HiddenValue,
    Host,
    OperationError,
    State,
    StringCommand,
    operation,
)
from pyinfra.context import ctx_state

from nordkube import dnsquery, kubeadm
from nordkube.bundle.install import NodeImage
from pyinfra_ext import factcache, joining
from pyinfra_ext.facts import (
    PINNED_LABEL,
    ClusterDnsAnswer,
    ClusterState,
    ContainerdImages,
    KubeadmState,
)
from pyinfra_ext.operations import connector_arguments, run_now
from pyinfra_ext.templating import render

KUBECTL = f"kubectl --kubeconfig={kubeadm.ADMIN_CONF}"
# Root-only and in memory (tmpfs): where a secret-bearing kubeadm config lives while it runs.
RUN_DIR = "/run/nordkube"
# kubeadm's output as shown: bootstrap tokens and 64-hex keys masked, whatever it printed.
MASK_SECRETS = r"sed -E 's/[a-z0-9]{6}\.[a-z0-9]{16}/<token>/g; s/[0-9a-f]{64}/<key>/g'"
READY_POLL_SECONDS = 5


def _kubeadm_with_secrets(name: str, arguments: str) -> str:
    """`kubeadm ARGUMENTS --config FILE`: FILE is the command's standard input, written to a
    root-only file under /run/nordkube and removed whatever happens; kubeadm's output is
    printed afterwards through MASK_SECRETS."""
    config, log = f"{RUN_DIR}/{name}.yaml", f"{RUN_DIR}/{name}.log"
    return (
        f"umask 077 && mkdir -p {RUN_DIR} && {{ cat > {config} && "
        f"kubeadm {arguments} --config {config} > {log} 2>&1; status=$?; "
        f"{MASK_SECRETS} {log} 2>/dev/null; rm -f {config} {log}; exit $status; }}"
    )


def _executing() -> bool:
    return bool(getattr(ctx_state.get(), "is_executing", False))


def record_ca_hash(state: State, host: Host) -> bool:
    """During execution, on the first control-plane node: the discovery hash of its CA, for
    the joins that follow in this run (pyinfra_ext/joining.py)."""
    ok, output = host.run_shell_command(
        StringCommand(f"cat {kubeadm.CA_CERT}"), **connector_arguments(host)
    )
    try:
        digest = kubeadm.ca_cert_hash(output.stdout) if ok else None
    except (ValueError, IndexError):
        digest = None
    if digest is None:
        host.log_styled(
            f"Error: cannot read the cluster CA {kubeadm.CA_CERT} on {host.name}: the other "
            "nodes cannot verify the control plane they join",
            fg="red",
            log_func=logger.error,
        )
        return False
    joining.of_run(state).ca_cert_hash = digest
    return True


def _step_needed(state: kubeadm.NodeState, done: str, note: str, step: str) -> bool:
    """Whether a kubeadm step runs: not where it is done (a no-op, with `note`), yes on a
    fresh node; any other state fails the operation, never the step again over it."""
    if state.phase == done:
        host.noop(note)
        return False
    if state.phase != kubeadm.FRESH:
        raise OperationError(f"{state.detail}: nordkube does not run kubeadm {step} over it")
    return True


@operation()
def kubeadm_initialized(values: dict[str, Any], template: str, upload_certificates: bool) -> Any:
    """kubeadm init has formed the cluster on this node, the first control-plane node.

    Guarded by what init leaves behind: nothing runs where it finished; a half-finished init
    or an API that does not answer fails here (validation stops the run on it first), never
    init again. `values` are nordkube.kubeadm.init_values; the run's token (and certificate
    key when `upload_certificates`: control-plane nodes join in this run) are added here.
    """
    state = kubeadm.first_control_plane_state(
        factcache.read(KubeadmState), factcache.read(ClusterState)
    )
    if not _step_needed(state, kubeadm.INITIALISED, "the cluster is initialised", "init"):
        return
    secrets = joining.of_run()
    config = render(
        "kubernetes",
        template,
        **values,
        token=secrets.token,
        certificate_key=secrets.certificate_key if upload_certificates else None,
    )
    flags = "init --skip-token-print --skip-certificate-key-print"
    if upload_certificates:
        flags += " --upload-certs"
    yield StringCommand(_kubeadm_with_secrets("kubeadm-init", flags), _stdin=config)
    yield FunctionCommand(record_ca_hash, (), {})


@operation()
def join_token_created(
    joiners: list[str],
    init_values: dict[str, Any],
    template: str,
    upload_certificates: bool,
) -> Any:
    """A join token with a short TTL exists for the nodes that join an existing cluster in this
    run (`joiners`); with `upload_certificates`, the control-plane certificates are uploaded
    for the control-plane nodes among them, encrypted with the run's certificate key.

    With nothing to join, nothing is created. The token is applied as a bootstrap-token Secret
    from standard input, so it is on no command line.
    """
    if not joiners:
        host.noop("no join token is made here in this run")
        return
    secrets = joining.of_run()
    ttl = timedelta(minutes=int(kubeadm.JOIN_TOKEN_TTL.removesuffix("m")))
    expiration = (datetime.now(UTC) + ttl).strftime("%Y-%m-%dT%H:%M:%SZ")
    yield StringCommand(
        f"{KUBECTL} apply -f -", _stdin=kubeadm.bootstrap_token_secret(secrets.token, expiration)
    )
    if upload_certificates:
        config = render(
            "kubernetes",
            template,
            **init_values,
            token=None,
            certificate_key=secrets.certificate_key,
        )
        yield StringCommand(
            _kubeadm_with_secrets(
                "kubeadm-upload-certs",
                "init phase upload-certs --upload-certs --skip-certificate-key-print",
            ),
            _stdin=config,
        )
    yield FunctionCommand(record_ca_hash, (), {})


@operation()
def node_joined(values: dict[str, Any], template: str) -> Any:
    """This node has joined the cluster (as a control-plane node when values say so).

    Guarded by what a join leaves behind: nothing runs on a joined node; a half-finished join
    fails here (validation stops the run on it first). The JoinConfiguration is rendered when
    the join runs, with the run's token, the CA hash the first control-plane node recorded
    just before, and for a control-plane node the certificate key.
    """
    control_plane = bool(values["control_plane"])
    state = kubeadm.joining_node_state(factcache.read(KubeadmState), control_plane)
    if not _step_needed(state, kubeadm.JOINED, "the node has joined the cluster", "join"):
        return
    secrets = joining.of_run()
    if secrets.ca_cert_hash is None and _executing():
        raise OperationError(
            "the cluster CA's hash is not known: the first control-plane node's init or join "
            "token did not succeed in this run"
        )
    config = render(
        "kubernetes",
        template,
        **values,
        token=secrets.token,
        ca_cert_hash=secrets.ca_cert_hash or "sha256:(recorded when the first node runs)",
        certificate_key=secrets.certificate_key if control_plane else None,
    )
    yield StringCommand(_kubeadm_with_secrets("kubeadm-join", "join"), _stdin=config)


@operation()
def join_credentials_removed(created: bool, certificates: bool) -> Any:
    """The join token of this run is gone again once the joins ran (and with `certificates`,
    the uploaded control-plane certificates); `created` says whether the run made one."""
    if not created:
        host.noop("no join token of this run to remove here")
        return
    secret = StringCommand(
        "bootstrap-token-", HiddenValue(kubeadm.token_id(joining.of_run().token)), _separator=""
    )
    yield StringCommand(f"{KUBECTL} -n kube-system delete secret --ignore-not-found", secret)
    if certificates:
        yield f"{KUBECTL} -n kube-system delete secret kubeadm-certs --ignore-not-found"


def local_file_state(path: str) -> tuple[str, str] | None:
    """sha256 and octal mode of a file on the machine running the deploy (None: absent)."""
    file = Path(path)
    if not file.is_file():
        return None
    return hashlib.sha256(file.read_bytes()).hexdigest(), format(file.stat().st_mode & 0o777, "o")


def fetch_admin_kubeconfig(state: State, host: Host, path: str) -> bool:
    """Copy the node's admin.conf to `path` on this machine, mode 0600 in a directory only its
    owner may enter. Read through base64 (exact bytes) and never printed, even with -v."""
    ok, output = host.run_shell_command(
        StringCommand("base64", kubeadm.ADMIN_CONF),
        print_output=False,
        **connector_arguments(host),
    )
    if not ok:
        host.log_styled(
            f"Error: cannot read {kubeadm.ADMIN_CONF} on {host.name}",
            fg="red",
            log_func=logger.error,
        )
        return False
    content = base64.b64decode("".join(output.stdout_lines))
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    os.chmod(directory, 0o700)
    temporary = f"{path}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return True


@operation()
def admin_kubeconfig_fetched(path: str, local: list[str] | None) -> Any:
    """The operator's copy of this node's admin.conf is at `path` on the machine running the
    deploy, mode 0600.

    `local` is that file's sha256 and mode when the run started (local_file_state); the
    node's side is KubeadmState's admin_sha256.
    """
    remote = factcache.read(KubeadmState).get("admin_sha256")
    if remote is not None and local == [remote, "600"]:
        host.noop(f"{path} is up to date")
        return
    yield FunctionCommand(fetch_admin_kubeconfig, (path,), {})


def _cluster_object(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    """One DaemonSet or Deployment as this host's ClusterState lists it, or None."""
    for found in factcache.read(ClusterState).get("objects", []):
        if (found["kind"], found["namespace"], found["name"]) == (kind, namespace, name):
            return dict(found)
    return None


def _poll_until(
    host: Host,
    timeout: int,
    waiting_for: Callable[[], str | None],
    failure: Callable[[str], str],
) -> bool:
    """Ask `waiting_for` every READY_POLL_SECONDS until it names nothing left to wait for;
    after `timeout` seconds log `failure` of what it last named as an error, and fail."""
    deadline = time.monotonic() + timeout
    while True:
        waiting = waiting_for()
        if waiting is None:
            return True
        if time.monotonic() >= deadline:
            host.log_styled(f"Error: {failure(waiting)}", fg="red", log_func=logger.error)
            return False
        gevent.sleep(READY_POLL_SECONDS)


@operation()
def manifest_applied(
    description: str, content: str, digest: str, kind: str, namespace: str, object_name: str
) -> Any:
    """The manifest `content` is applied to the cluster (server-side), as its object kind
    namespace/object_name shows by the annotation nordkube.io/sha256 = `digest`."""
    found = _cluster_object(kind, namespace, object_name)
    if found and found["sha256"] == digest:
        host.noop(f"{description} is applied ({digest[:12]})")
        return
    yield StringCommand(
        f"{KUBECTL} apply --server-side --force-conflicts --field-manager=nordkube -f -",
        _stdin=content,
    )


def wait_until_ready(state: State, host: Host, node_name: str, timeout: int) -> bool:
    """Poll this node's Ready condition (KubeadmState, the kubelet's own credentials) until it
    is True; after `timeout` seconds log the node, its condition and why, and fail."""

    def waiting_for() -> str | None:
        ready = host.get_fact(KubeadmState).get("ready")
        waiting = kubeadm.not_ready([node_name], {node_name: ready} if ready else {})
        return waiting[0] if waiting else None

    return _poll_until(
        host,
        timeout,
        waiting_for,
        lambda why: f"not Ready after {timeout} s (node_ready_timeout): {why}",
    )


@operation()
def node_ready(node_name: str, timeout: int) -> Any:
    """This node is registered and Ready, waited for up to `timeout` seconds. Each node asks
    for itself, so a node that joins later is the only one that waits."""
    ready = factcache.read(KubeadmState).get("ready")
    if ready and ready.get("status") == "True":
        host.noop(f"node {node_name} is Ready")
        return
    yield FunctionCommand(wait_until_ready, (node_name, timeout), {})


# Why the cluster DNS has no pod: the newest Warning event of its pods (a sandbox the CNI plugin
# could not make, an image missing, a failed mount), with the pod's name.
_DNS_WARNINGS = (
    f"{KUBECTL} --request-timeout=20s -n kube-system get events --sort-by=.lastTimestamp "
    '-o jsonpath=\'{range .items[?(@.type=="Warning")]}'
    "{.involvedObject.name}: {.reason}: {.message}{\"\\n\"}{end}' | grep '^coredns' | tail -n 1"
)
_DNS_AVAILABLE = (
    f"{KUBECTL} --request-timeout=20s -n kube-system get deployment coredns "
    "-o jsonpath='{.status.availableReplicas}'"
)


def wait_for_cluster_dns(state: State, host: Host, timeout: int) -> bool:
    """Poll CoreDNS's available pods until there is one; after `timeout` seconds log why
    its pods do not run (their newest Warning event) and fail."""

    def waiting_for() -> str | None:
        ok, lines = run_now(host, _DNS_AVAILABLE)
        available = bool(lines) and lines[0].strip().isdigit() and int(lines[0]) > 0
        return None if ok and available else "no CoreDNS pod available"

    def failure(_waiting: str) -> str:
        _, why = run_now(host, _DNS_WARNINGS)  # asked once, when the wait has failed
        reason = why[0] if why else "no Warning event names its pods"
        return (
            f"the cluster DNS (kube-system/coredns) has no pod available after {timeout} s "
            f"(node_ready_timeout), with every node Ready: {reason}"
        )

    return _poll_until(host, timeout, waiting_for, failure)


@operation()
def cluster_dns_available(timeout: int) -> Any:
    """CoreDNS (kubeadm's kube-system/coredns) has a pod available, waited for up to
    `timeout` seconds: the first pods the pod network must start. Nodes report Ready as soon
    as a CNI configuration exists, even one whose plugin refuses every sandbox; this is where
    such a network is caught and named."""
    coredns = _cluster_object("Deployment", "kube-system", "coredns")
    if coredns and coredns.get("available", 0) > 0:
        host.noop(f"the cluster DNS has {coredns['available']} pod(s) available")
        return
    yield FunctionCommand(wait_for_cluster_dns, (timeout,), {})


def wait_for_dns_answer(
    state: State, host: Host, server: str, record: str, expected: str, timeout: int
) -> bool:
    """Send the DNS query from this node every READY_POLL_SECONDS until `server` answers
    `expected` for `record`; after `timeout` seconds log what the node last got and fail."""
    query = dnsquery.command(server, record)

    def waiting_for() -> str | None:
        _, lines = run_now(host, query)
        addresses, error = dnsquery.parse(lines)
        if expected in addresses:
            return None
        return error or f"it answers {', '.join(addresses)}"

    def failure(why: str) -> str:
        return (
            f"the cluster DNS at {server} does not answer {expected} for {record} on this node "
            f"after {timeout} s (node_ready_timeout): {why}"
        )

    return _poll_until(host, timeout, waiting_for, failure)


@operation()
def cluster_dns_answered(server: str, record: str, expected: str, timeout: int) -> Any:
    """The cluster DNS answers this node through its Service address: `server` gives
    `expected` for `record`, asked from the node, waited for up to `timeout` seconds. Each
    node's kube-proxy programs the Service on its own; until it has, and has an endpoint for
    it, the node's own queries are dropped. Asked only of a Ready node (before that, it waits
    without asking first)."""
    ready = factcache.read(KubeadmState).get("ready")
    if ready and ready.get("status") == "True":
        answer = factcache.read(ClusterDnsAnswer, server=server, record=record)
        if expected in answer.get("addresses", []):
            host.noop(f"the cluster DNS at {server} answers {expected} for {record}")
            return
    yield FunctionCommand(wait_for_dns_answer, (server, record, expected, timeout), {})


@operation()
def images_imported(ctr: str, images: tuple[NodeImage, ...]) -> Any:
    """Each bundled image is in containerd's k8s.io namespace at the bundle's digest, pinned
    so that the kubelet's image garbage collection never removes it (the node has no
    registry to pull it from again). Imported from its archive on the node (uploaded before
    by bundle_files_installed); an image only missing its pin is labelled."""
    present = factcache.read(ContainerdImages, ctr=ctr)
    program = shlex.quote(ctr)
    done = True
    for image in images:
        found = present.get(image.ref)
        ref = shlex.quote(image.ref)
        if found is None or found["digest"] != image.digest:
            yield f"{program} -n k8s.io images import {shlex.quote(image.archive)}"
        elif found["pinned"]:
            continue
        yield f"{program} -n k8s.io images label {ref} {PINNED_LABEL}"
        done = False
    if done:
        host.noop(f"images {', '.join(image.name for image in images)} are imported and pinned")

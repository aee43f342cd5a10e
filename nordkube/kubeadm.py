"""The cluster kubeadm forms: who initialises it, who joins and how, and what each kubeadm,
kubelet and kube-proxy configuration says, decided from the settings and the nodes' facts.

Pure (no pyinfra): the kubernetes and network stages act on these decisions, the offline plans
and unit tests check them directly, and the kubeadm validation tier renders the same values.

Secrets: the bootstrap token and the certificate key of a run are made here, in Python, so that
they are never read back from a node's output; the stages pass them to the nodes only on a
command's standard input (see pyinfra_ext/joining.py).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import posixpath
import re
import secrets
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nordkube import etcd_disk
from nordkube.managed import KUBE_VIP_MANIFEST, KUBELET_PATCH_FILE, STATIC_POD_PATCH_FILES
from nordkube.settings import Problem, Settings, split_endpoint

API_PORT = 6443
CRI_SOCKET = "unix:///run/containerd/containerd.sock"
# Stacked etcd's data directory: on the etcd disk the etcd stage mounts (nordkube/etcd_disk.py).
ETCD_DATA_DIR = etcd_disk.ETCD_DATA_DIR
DNS_DOMAIN = "cluster.local"
# The name every cluster DNS answers: the kubernetes Service's.
KUBERNETES_SERVICE_NAME = f"kubernetes.default.svc.{DNS_DOMAIN}"
# The node-local kubeadm patches: kubeletconfiguration+merge.yaml (managed.KUBELET_PATCH_FILE)
# turns failCgroupV1 off where a cgroup v1 host was accepted (kubeadm merges it into that
# node's KubeletConfiguration only); on control-plane nodes, <static pod>+strategic.yaml
# (managed.STATIC_POD_PATCH_FILES) relaxes each static pod's liveness probe
# (control_plane_liveness).
PATCHES_DIR = posixpath.dirname(KUBELET_PATCH_FILE)
# A join token lives for the joins of one run: created just before them on the first
# control-plane node and deleted right after; the TTL only matters if the run dies between.
JOIN_TOKEN_TTL = "30m"
JOIN_TOKEN_DESCRIPTION = "nordkube: the joins of one deploy run"
# kubeadm's group for tokens that join nodes (kubeadm token create gives the same).
BOOTSTRAP_GROUP = "system:bootstrappers:kubeadm:default-node-token"

_TOKEN_ALPHABET = string.ascii_lowercase + string.digits
TOKEN_FORMAT = re.compile(r"^[a-z0-9]{6}\.[a-z0-9]{16}$")
CERTIFICATE_KEY_FORMAT = re.compile(r"^[0-9a-f]{64}$")


# -- Secrets of one run -------------------------------------------------------------------------


def new_token() -> str:
    """A bootstrap token in kubeadm's format: [a-z0-9]{6}.[a-z0-9]{16} (id.secret)."""
    pick = secrets.choice
    return (
        "".join(pick(_TOKEN_ALPHABET) for _ in range(6))
        + "."
        + "".join(pick(_TOKEN_ALPHABET) for _ in range(16))
    )


def new_certificate_key() -> str:
    """The key kubeadm encrypts the uploaded control-plane certificates with: 32 random bytes,
    hex-encoded, as `kubeadm certs certificate-key` prints one."""
    return secrets.token_hex(32)


def token_id(token: str) -> str:
    """The public half of a token: it names the bootstrap-token-<id> Secret."""
    return token.split(".", 1)[0]


def _der_element(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at `offset`."""
    tag = data[offset]
    length = data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    return tag, start, start + length


def ca_cert_hash(pem: str) -> str:
    """kubeadm's discovery hash of a CA certificate: 'sha256:' and the hex SHA-256 of the
    certificate's DER-encoded SubjectPublicKeyInfo (what `--discovery-token-ca-cert-hash`
    pins; docs/domain.md, "kubeadm")."""
    body = "".join(
        line.strip() for line in pem.strip().splitlines() if line and not line.startswith("-----")
    )
    der = base64.b64decode(body)
    _, certificate, _ = _der_element(der, 0)
    _, tbs, tbs_end = _der_element(der, certificate)
    offset = tbs
    fields: list[tuple[int, int]] = []
    while offset < tbs_end:
        tag, _, end = _der_element(der, offset)
        fields.append((tag, offset))
        offset = end
    # TBSCertificate: [0] version (optional), serial, signature, issuer, validity, subject,
    # subjectPublicKeyInfo.
    skip = 1 if fields[0][0] == 0xA0 else 0
    spki_offset = fields[skip + 5][1]
    _, _, spki_end = _der_element(der, spki_offset)
    return "sha256:" + hashlib.sha256(der[spki_offset:spki_end]).hexdigest()


# -- Packages -----------------------------------------------------------------------------------

# What pkgs.k8s.io's per-minor repositories hold; kubeadm depends on the last two. All five are
# held; the first three at exactly kubernetes_version (cri-tools and the CNI plugins have their
# own versions in that minor's repository).
KUBERNETES_PACKAGES = ("kubeadm", "kubelet", "kubectl", "cri-tools", "kubernetes-cni")
PINNED_PACKAGES = ("kubeadm", "kubelet", "kubectl")
# The [kubernetes] repository of templates/base/kubernetes.repo.j2, which excludes these
# packages from routine updates.
RPM_REPOSITORY = "kubernetes"


def install_names(manager: str, version: str) -> dict[str, str]:
    """What the package manager is asked for to get exactly `version`: apt's `kubeadm=1.35.4-*`
    (any package revision, 1.1 on pkgs.k8s.io), yum's and dnf's `kubeadm-1.35.4`."""
    if manager == "apt":
        return {name: f"{name}={version}-*" for name in PINNED_PACKAGES}
    return {name: f"{name}-{version}" for name in PINNED_PACKAGES}


CLUSTER_STAGES = ("kubernetes", "network")


def forms_cluster(settings: Settings) -> bool:
    """Whether a host runs a stage that forms or uses the cluster (kubernetes, network)."""
    return not settings.stages or bool(set(settings.stages) & set(CLUSTER_STAGES))


# -- Who is who ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """One host of the cluster as kubeadm sees it."""

    host: str  # the inventory name
    node_name: str  # the Kubernetes node name: the host's hostname
    address: str  # its private address (kubelet node IP, API advertise address)
    control_plane: bool


def node_name(hostname: str) -> str:
    """The Kubernetes node name kubeadm registers: the hostname, lower-cased."""
    return hostname.strip().lower()


def private_address(settings: Settings, interface: Mapping[str, Any] | None) -> str | None:
    """The node's private address: the private_address setting, else the private NIC's first
    IPv4 address."""
    if settings.private_address:
        return settings.private_address
    for address in (interface or {}).get("addresses", []):
        parsed = ipaddress.ip_interface(address)
        if parsed.version == 4:
            return str(parsed.ip)
    return None


def api_endpoint(settings: Settings, control_planes: Sequence[Member]) -> str | None:
    """host:port every node reaches the API through: control_plane_endpoint (port 6443 when it
    names none), else the only control-plane node's private address; None for several
    control planes without an endpoint (validation refuses that first)."""
    if settings.control_plane_endpoint:
        host, port = split_endpoint(settings.control_plane_endpoint)
        return f"{host}:{port or API_PORT}"
    if len(control_planes) == 1:
        return f"{control_planes[0].address}:{API_PORT}"
    return None


def endpoint_host(endpoint: str) -> str:
    return endpoint.rsplit(":", 1)[0]


def kubernetes_service_address(service_cidr: str) -> str:
    """The `kubernetes` Service's cluster IP: the first address of the service range."""
    return str(ipaddress.ip_network(service_cidr)[1])


def cluster_dns_address(service_cidr: str) -> str:
    """The cluster DNS Service's address: the tenth of the service range (kubeadm's choice)."""
    return str(ipaddress.ip_network(service_cidr)[10])


# -- Where each node stands ---------------------------------------------------------------------

FRESH = "fresh"
INITIALISED = "initialised"
JOINED = "joined"
PARTIAL = "partial"
UNREACHABLE = "unreachable"

ADMIN_CONF = "/etc/kubernetes/admin.conf"
SUPER_ADMIN_CONF = "/etc/kubernetes/super-admin.conf"
KUBELET_CONF = "/etc/kubernetes/kubelet.conf"
BOOTSTRAP_KUBELET_CONF = "/etc/kubernetes/bootstrap-kubelet.conf"
CA_CERT = "/etc/kubernetes/pki/ca.crt"
APISERVER_MANIFEST = "/etc/kubernetes/manifests/kube-apiserver.yaml"
ETCD_MANIFEST = "/etc/kubernetes/manifests/etcd.yaml"
KUBELET_CONFIG = "/var/lib/kubelet/config.yaml"
# What kubeadm init leaves behind, phase by phase (certs, kubeconfig, control-plane manifests);
# its addon phase, the last, creates the kube-proxy DaemonSet and the CoreDNS Deployment.
INIT_FILES = (CA_CERT, ADMIN_CONF, KUBELET_CONF, APISERVER_MANIFEST)
# Every file the KubeadmState fact looks for.
KUBEADM_FILES = (
    ADMIN_CONF,
    SUPER_ADMIN_CONF,
    KUBELET_CONF,
    BOOTSTRAP_KUBELET_CONF,
    CA_CERT,
    APISERVER_MANIFEST,
    ETCD_MANIFEST,
    KUBELET_CONFIG,
)
INIT_ADDONS = (("DaemonSet", "kube-system", "kube-proxy"), ("Deployment", "kube-system", "coredns"))


@dataclass(frozen=True)
class NodeState:
    """A node's standing: FRESH, INITIALISED/JOINED, PARTIAL or UNREACHABLE, and why."""

    phase: str
    detail: str = ""


def _listing(paths: Iterable[str]) -> str:
    return ", ".join(paths) or "none"


def first_control_plane_state(node: Mapping[str, Any], cluster: Mapping[str, Any]) -> NodeState:
    """Where kubeadm init stands on the first control-plane node, from its KubeadmState and
    ClusterState facts. Init runs only on FRESH; a PARTIAL or UNREACHABLE one is reported and
    never initialised again over what is there."""
    present = set(node.get("files", {}))
    found = [path for path in INIT_FILES if path in present]
    if not found:
        return NodeState(FRESH)
    missing = [path for path in INIT_FILES if path not in present]
    api_error = cluster.get("api_error")
    if missing:
        api = f"; the API does not answer ({api_error})" if api_error else ""
        return NodeState(
            PARTIAL,
            f"a kubeadm init stopped halfway (present: {_listing(found)}; missing: "
            f"{_listing(missing)}{api})",
        )
    if api_error:
        return NodeState(
            UNREACHABLE,
            f"the control plane was initialised but its API does not answer ({api_error}); "
            f"kubelet {'running' if node.get('kubelet_active') else 'not running'}",
        )
    objects = {(obj["kind"], obj["namespace"], obj["name"]) for obj in cluster.get("objects", [])}
    absent = [
        f"{kind} {ns}/{name}" for kind, ns, name in INIT_ADDONS if (kind, ns, name) not in objects
    ]
    if absent:
        return NodeState(
            PARTIAL,
            "a kubeadm init stopped before its last phase (the API answers, but "
            f"{_listing(absent)} does not exist)",
        )
    return NodeState(INITIALISED)


def joining_node_state(node: Mapping[str, Any], control_plane: bool) -> NodeState:
    """Where a join stands on any other node, from its KubeadmState: JOINED once the kubelet
    has its own kubeconfig; PARTIAL when a join left pieces without finishing."""
    present = set(node.get("files", {}))
    if KUBELET_CONF in present:
        return NodeState(JOINED)
    leftovers = [
        path
        for path in (BOOTSTRAP_KUBELET_CONF, CA_CERT, ADMIN_CONF, APISERVER_MANIFEST, ETCD_MANIFEST)
        if path in present
    ]
    if leftovers:
        role = "control-plane " if control_plane else ""
        return NodeState(
            PARTIAL,
            f"a kubeadm {role}join stopped halfway ({_listing(leftovers)} present, "
            f"{KUBELET_CONF} missing)",
        )
    return NodeState(FRESH)


def state_problems(states: Mapping[str, NodeState]) -> list[Problem]:
    """A PARTIAL or UNREACHABLE node stops the run before any change, with what to do."""
    problems = []
    for host, state in states.items():
        if state.phase == PARTIAL:
            problems.append(
                Problem(
                    host,
                    "kubeadm",
                    f"{state.detail}: inspect it (journalctl -u kubelet), then run `kubeadm "
                    "reset -f` on it and deploy again; nordkube never repeats a kubeadm step "
                    "over a half-finished one",
                )
            )
        elif state.phase == UNREACHABLE:
            problems.append(
                Problem(
                    host,
                    "kubeadm",
                    f"{state.detail}: if it is just starting, deploy again in a minute; the "
                    "cluster cannot be changed while its API is down",
                )
            )
    return problems


def version_problem(host: str, node: Mapping[str, Any], version: str) -> Problem | None:
    """A node in the cluster whose kubelet runs another release than kubernetes_version: the
    deploy installs releases, it does not upgrade a cluster (kubeadm upgrade does, node by
    node), so it stops rather than replace the kubelet under a running node."""
    found = node.get("kubelet_version")
    if not found or found == f"v{version}" or KUBELET_CONF not in node.get("files", []):
        return None
    return Problem(
        host,
        "kubernetes_version",
        f"the node's kubelet runs {found}, not v{version}: nordkube forms clusters and adds "
        "nodes, it does not upgrade them (use kubeadm upgrade, then set the new version)",
    )


@dataclass(frozen=True)
class JoinPlan:
    """What this run does to form or grow the cluster."""

    first: str
    init: bool
    control_planes: tuple[str, ...] = ()  # control-plane nodes to join, one at a time
    workers: tuple[str, ...] = ()  # workers to join, in parallel
    problems: tuple[Problem, ...] = field(default=())

    @property
    def joiners(self) -> tuple[str, ...]:
        return self.control_planes + self.workers

    @property
    def create_token(self) -> bool:
        """A join token is created for joins on an existing cluster; init brings its own."""
        return not self.init and bool(self.joiners)

    @property
    def upload_certificates(self) -> bool:
        return bool(self.control_planes)

    @property
    def clean_up(self) -> bool:
        """Whether a token (and uploaded certificates) exist at the end and must go."""
        return self.init or bool(self.joiners)


def join_plan(
    control_planes: Sequence[str],
    workers: Sequence[str],
    states: Mapping[str, NodeState],
    active: Iterable[str],
) -> JoinPlan:
    """Init on the first control-plane node when it is fresh; every other fresh node joins.

    `active` are the hosts in this run (pyinfra's --limit): the first control-plane node must
    be among them (it makes the join tokens and talks to the API).
    """
    first = control_planes[0]
    in_run = set(active)
    if first not in in_run:
        hosts = [h for h in (*control_planes, *workers) if h in in_run]
        problem = Problem(
            ", ".join(hosts),
            "limit",
            f"the first control-plane node {first} is not in this run (--limit): the cluster "
            "stages need it (it initialises the cluster, makes every join token and applies the "
            "pod network)",
        )
        return JoinPlan(first, False, problems=(problem,))
    init = states[first].phase == FRESH
    joining_cps = tuple(h for h in control_planes[1:] if h in in_run and states[h].phase == FRESH)
    joining_workers = tuple(h for h in workers if h in in_run and states[h].phase == FRESH)
    return JoinPlan(first, init, joining_cps, joining_workers)


# -- What the configuration files say -----------------------------------------------------------


def kubeadm_api(kubernetes_minor: int) -> str:
    """The kubeadm config API a minor reads: v1beta4 from 1.31 to 1.37 (1.37 no longer reads
    v1beta3), v1beta3 before 1.31."""
    return "v1beta4" if kubernetes_minor >= 31 else "v1beta3"


def cgroup_v1_accepted(settings: Settings, cgroup: str) -> bool:
    """A cgroup v1 host the kubelet would refuse (1.35+) that allow_cgroup_v1 accepted: its
    kubelet gets failCgroupV1: false, and kubeadm's SystemVerification is skipped there."""
    return cgroup != "cgroup2fs" and settings.kubernetes_minor() >= 35 and settings.allow_cgroup_v1


def ignored_preflight_errors(settings: Settings, cgroup: str) -> list[str]:
    """kubeadm's preflight errors this node may skip: SystemVerification refuses cgroup v1
    for a 1.35+ kubelet unless the check is skipped explicitly (with failCgroupV1: false)."""
    return ["SystemVerification"] if cgroup_v1_accepted(settings, cgroup) else []


def leader_election_args(settings: Settings) -> dict[str, str]:
    """The leader election flags kube-controller-manager and kube-scheduler get, only those the
    settings raise (upstream's defaults otherwise)."""
    return {
        f"leader-elect-{name}": value for name, value in sorted(settings.leader_election.items())
    }


def timeouts(settings: Settings) -> dict[str, str]:
    """The kubeadm timeouts set (v1beta4 names); kubeadm's defaults for the rest."""
    return dict(sorted(settings.kubeadm_timeouts.items()))


def certificate_sans(
    settings: Settings, control_planes: Sequence[Member], endpoint: str
) -> list[str]:
    """The API server certificate's extra names: the endpoint's host, every control-plane
    node's private address (a control plane reached at another one's address still
    verifies), and the operator's own."""
    names = [endpoint_host(endpoint), *(member.address for member in control_planes)]
    names += settings.certificate_sans
    return list(dict.fromkeys(names))


def static_pod_patches(settings: Settings, member: Member) -> dict[str, dict[str, Any]]:
    """Each control-plane static pod's patch file and what
    templates/kubernetes/static-pod+strategic.yaml.j2 fills in: the liveness probe fields
    control_plane_liveness sets (kubeadm's own probe keeps the rest). None on a worker, or
    with nothing set."""
    if not member.control_plane or not settings.control_plane_liveness:
        return {}
    liveness = dict(sorted(settings.control_plane_liveness.items()))
    return {
        path: {"container": component, "liveness": liveness}
        for component, path in STATIC_POD_PATCH_FILES.items()
    }


def node_registration(settings: Settings, member: Member, cgroup: str) -> dict[str, Any]:
    return {
        "name": member.node_name,
        "node_ip": member.address,
        "cri_socket": CRI_SOCKET,
        "ignore_preflight_errors": ignored_preflight_errors(settings, cgroup),
        # templates/kubernetes/kubeletconfiguration+merge.yaml.j2 and
        # static-pod+strategic.yaml.j2 in PATCHES_DIR
        "patches": cgroup_v1_accepted(settings, cgroup)
        or bool(static_pod_patches(settings, member)),
    }


def kubelet_values(settings: Settings) -> dict[str, Any]:
    """KubeletConfiguration: the systemd cgroup driver (containerd uses it too) and the
    cluster DNS address."""
    return {
        "cluster_dns": cluster_dns_address(settings.service_cidr),
        "cluster_domain": DNS_DOMAIN,
    }


def kube_proxy_values(settings: Settings) -> dict[str, Any]:
    """KubeProxyConfiguration: the mode; IPVS's scheduler and strictARP in ipvs mode."""
    return {
        "mode": settings.kube_proxy_mode,
        "cluster_cidr": settings.pod_cidr,
        "scheduler": settings.ipvs_scheduler,
        "strict_arp": settings.ipvs_strict_arp,
    }


def init_values(
    settings: Settings,
    first: Member,
    control_planes: Sequence[Member],
    cgroup: str,
) -> dict[str, Any]:
    """Everything templates/kubernetes/kubeadm-init.<api>.yaml.j2 fills in, but the secrets."""
    endpoint = api_endpoint(settings, control_planes)
    assert endpoint, "validation refuses several control planes without control_plane_endpoint"
    return {
        "kubernetes_version": f"v{settings.kubernetes_version}",
        "advertise_address": first.address,
        "bind_port": API_PORT,
        "node": node_registration(settings, first, cgroup),
        "control_plane_endpoint": endpoint,
        "certificate_sans": certificate_sans(settings, control_planes, endpoint),
        "pod_subnet": settings.pod_cidr,
        "service_subnet": settings.service_cidr,
        "dns_domain": DNS_DOMAIN,
        "etcd_data_dir": ETCD_DATA_DIR,
        "encryption_algorithm": settings.encryption_algorithm,
        "timeouts": timeouts(settings),
        "leader_election": leader_election_args(settings),
        "patches_dir": PATCHES_DIR,
        "kubelet": kubelet_values(settings),
        "kube_proxy": kube_proxy_values(settings),
        "token_ttl": JOIN_TOKEN_TTL,
        "token_description": JOIN_TOKEN_DESCRIPTION,
        "token_group": BOOTSTRAP_GROUP,
    }


def join_values(
    settings: Settings, member: Member, control_planes: Sequence[Member], cgroup: str
) -> dict[str, Any]:
    """Everything templates/kubernetes/kubeadm-join.<api>.yaml.j2 fills in, but the secrets
    (token, CA hash, certificate key), which the join adds when it runs."""
    endpoint = api_endpoint(settings, control_planes)
    assert endpoint, "validation refuses several control planes without control_plane_endpoint"
    return {
        "api_server_endpoint": endpoint,
        "node": node_registration(settings, member, cgroup),
        "control_plane": member.control_plane,
        "advertise_address": member.address,
        "bind_port": API_PORT,
        "timeouts": timeouts(settings),
        "patches_dir": PATCHES_DIR,
    }


def template_name(kind: str, kubernetes_minor: int) -> str:
    """templates/kubernetes/<name>.j2 of a kubeadm document kind: 'kubeadm-init.v1beta4.yaml'."""
    return f"kubeadm-{kind}.{kubeadm_api(kubernetes_minor)}.yaml"


# -- kube-vip -----------------------------------------------------------------------------------

# kube-vip for a virtual control-plane endpoint (kube_vip). v1.1.2: the release kube-vip's own
# Helm chart moved to in August 2026 (kube-vip/helm-charts#108). The Go module proxy does not
# serve kube-vip, so it is not in the offline bundle: its image comes from ghcr.io, or through
# containerd_registry_mirrors.
KUBE_VIP_VERSION = "v1.1.2"
KUBE_VIP_IMAGE = f"ghcr.io/kube-vip/kube-vip:{KUBE_VIP_VERSION}"
# From Kubernetes 1.29 admin.conf is bound to cluster-admin only once init has finished; on the
# node init runs on, kube-vip needs super-admin.conf to hold its lease during init.
SUPER_ADMIN_FROM = 29


def kube_vip_values(settings: Settings, interface: str, initialises: bool) -> dict[str, Any]:
    """What templates/kubernetes/kube-vip.yaml.j2 fills in for one control-plane node
    (written to managed.KUBE_VIP_MANIFEST before init or join)."""
    assert settings.control_plane_endpoint, "validation: kube_vip needs control_plane_endpoint"
    address, port = split_endpoint(settings.control_plane_endpoint)
    super_admin = initialises and settings.kubernetes_minor() >= SUPER_ADMIN_FROM
    return {
        "version": KUBE_VIP_VERSION,
        "image": KUBE_VIP_IMAGE,
        "address": address,
        "port": port or API_PORT,
        "interface": interface,
        "kubeconfig": SUPER_ADMIN_CONF if super_admin else ADMIN_CONF,
        "path": KUBE_VIP_MANIFEST,
    }


# -- Bootstrap token ----------------------------------------------------------------------------


def bootstrap_token_secret(token: str, expiration: str) -> str:
    """The bootstrap-token Secret `kubeadm token create` makes, as a manifest for `kubectl
    apply -f -` (the token then never appears on a command line)."""
    token_identifier, secret = token.split(".", 1)
    return (
        "apiVersion: v1\n"
        "kind: Secret\n"
        "type: bootstrap.kubernetes.io/token\n"
        "metadata:\n"
        f"  name: bootstrap-token-{token_identifier}\n"
        "  namespace: kube-system\n"
        "stringData:\n"
        f'  description: "{JOIN_TOKEN_DESCRIPTION}"\n'
        f'  token-id: "{token_identifier}"\n'
        f'  token-secret: "{secret}"\n'
        f'  expiration: "{expiration}"\n'
        '  usage-bootstrap-authentication: "true"\n'
        '  usage-bootstrap-signing: "true"\n'
        f'  auth-extra-groups: "{BOOTSTRAP_GROUP}"\n'
    )


# -- Readiness ----------------------------------------------------------------------------------


def not_ready(expected: Iterable[str], nodes: Mapping[str, Mapping[str, str]]) -> list[str]:
    """One line per expected node that is not Ready, naming its condition and why."""
    lines = []
    for name in expected:
        node = nodes.get(name)
        if node is None:
            lines.append(f"{name}: not registered with the API (its kubelet never posted status)")
        elif node.get("status") != "True":
            reason = node.get("reason") or "no reason given"
            message = f": {node['message']}" if node.get("message") else ""
            lines.append(f"{name}: Ready={node.get('status') or 'Unknown'} ({reason}{message})")
    return lines


# -- The admin kubeconfig on the machine running the deploy -------------------------------------


def inventory_name(groups_per_host: Iterable[Iterable[str]], role_groups: Iterable[str]) -> str:
    """The inventory's name: the group pyinfra gives every host after the inventory file
    (inventories/oslo.py -> oslo); 'cluster' when that cannot be told."""
    common: set[str] | None = None
    for groups in groups_per_host:
        common = set(groups) if common is None else common & set(groups)
    # Connectors add their own group (@fake, @docker): not a name of the inventory.
    candidates = sorted(
        g for g in (common or set()) - set(role_groups) - {"all"} if not g.startswith("@")
    )
    return candidates[0] if len(candidates) == 1 else "cluster"


def admin_kubeconfig_path(project: str, inventory: str) -> str:
    """Where the operator's admin kubeconfig is written: .nordkube/<inventory>/admin.conf."""
    return f"{project.rstrip('/')}/.nordkube/{inventory}/admin.conf"

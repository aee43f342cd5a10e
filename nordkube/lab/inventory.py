"""The running lab as pyinfra inventory groups (used by inventories/lab.py)."""

from __future__ import annotations

from typing import Any

from nordkube.inventory import CONTROL_PLANE, ETCD, ROLE_GROUPS, WORKERS
from nordkube.lab.spec import NODE_NETWORK, PRIVATE_INTERFACE, NodePlan
from nordkube.lab.state import LAB_USER, LabState, load_state
from nordkube.settings import STAGES

HostEntry = tuple[str, dict[str, Any]]
GROUPS = ROLE_GROUPS
_GROUP_OF_ROLE = {"control_plane": CONTROL_PLANE, "etcd": ETCD, "worker": WORKERS}


# Software emulation is slow: kubeadm's default 4 minutes for the control plane's health were
# not enough in the lab under load (seen: the components healthy about 2 minutes after their
# containers started, with other builds sharing the 2 cores), so the lab allows more.
KUBEADM_TIMEOUTS = {
    "controlPlaneComponentHealthCheck": "15m",
    "kubeletHealthCheck": "10m",
    "kubernetesAPICall": "5m",
    "etcdAPICall": "5m",
    "tlsBootstrap": "15m",
    "discovery": "15m",
}


# Seen on a 3-node lab: kube-controller-manager and kube-scheduler lost their leases over and
# over (client-go's 10 s renew deadline) while the emulated node was busy, so the DaemonSets
# never got pods on the workers; the lab gives them minutes' worth of slack.
LEADER_ELECTION = {"lease-duration": "90s", "renew-deadline": "60s", "retry-period": "10s"}


# Seen on a 3-node lab: node1's API server, busy (load 20 on 2 vCPUs), missed kubeadm's
# liveness probe (15 s timeout, 8 failures) and was restarted three times, each restart
# costing minutes of emulated start-up; the lab gives it 60 s per probe and 5 minutes.
CONTROL_PLANE_LIVENESS = {"timeoutSeconds": 60, "failureThreshold": 30}


# etcd's fsync gate on the lab's emulated NVMe (a qcow2 file on the host's disk): etcd's own
# 22 MiB probe measured p99 30.5 ms, p50 6.7 ms, 99 IOPS and took 110 s on node1 alone (the
# bundle building beside it); the lab's 1 MiB probe (about 450 fdatasyncs) measured p99 61 ms
# with four VMs sharing the 2 cores. The lab accepts a p99 up to 150 ms; `nordkube lab
# throttle node1 --iops 5` (200 ms a write) fails it.
ETCD_FSYNC_PROBE_MB = 1
ETCD_FSYNC_P99_MAX_MS = 150


# The stages a lab converge runs unless `--data stages=...` says otherwise: node preparation
# (etcd's disk included), or every stage on a lab started with `nordkube lab up --cluster`
# (the cluster formed).
LAB_STAGES = ["base", "kernel", "runtime", "etcd"]


def lab_stages(state: LabState) -> list[str]:
    return list(STAGES) if state.spec.cluster else list(LAB_STAGES)


def host_data(state: LabState, node: NodePlan) -> dict[str, Any]:
    """pyinfra host data (keys as pyinfra's SSH connector names them) for one node."""
    data: dict[str, Any] = {
        "kubernetes_package_source": "bundle",
        "stages": lab_stages(state),
        "kubeadm_timeouts": dict(KUBEADM_TIMEOUTS),
        "leader_election": dict(LEADER_ELECTION),
        "control_plane_liveness": dict(CONTROL_PLANE_LIVENESS),
        # ECDSA keys cost a fraction of RSA's under emulation; Ready takes longer there too.
        "encryption_algorithm": "ECDSA-P256",
        "node_ready_timeout": 1200,
        "node_network": str(NODE_NETWORK),
        "ssh_hostname": "127.0.0.1",
        "ssh_port": node.ssh_port,
        "ssh_user": LAB_USER,
        "ssh_key": str(state.ssh_key),
        "ssh_known_hosts_file": str(state.known_hosts),
        "ssh_strict_host_key_checking": "yes",
        "_sudo": True,
        "private_interface": PRIVATE_INTERFACE,
    }
    if node.etcd_device:
        data["etcd_device"] = node.etcd_device
        data["etcd_fsync_probe_mb"] = ETCD_FSYNC_PROBE_MB
        data["etcd_fsync_p99_max_ms"] = ETCD_FSYNC_P99_MAX_MS
    return data


def inventory_groups(state: LabState) -> dict[str, list[HostEntry]]:
    """Each group's hosts, in node order; a node is in one group per role."""
    groups: dict[str, list[HostEntry]] = {group: [] for group in GROUPS}
    for node in state.nodes:
        for role in node.roles:
            groups[_GROUP_OF_ROLE[role]].append((node.name, host_data(state, node)))
    return groups


def lab_inventory() -> dict[str, list[HostEntry]]:
    """The running lab's groups; a LabError saying how to start one when none runs."""
    return inventory_groups(load_state())

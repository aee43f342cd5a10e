"""Stage network: Flannel with its VXLAN backend on every node, then every node Ready."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy

from nordkube import cni, kubeadm
from nordkube.settings import Settings
from pyinfra_ext import context
from pyinfra_ext.cluster import (
    cluster_dns_answered,
    cluster_dns_available,
    manifest_applied,
    node_ready,
)
from pyinfra_ext.templating import render


@deploy("Run the pod network")
def network() -> None:
    """Reads: cni, flannel_backend, pod_cidr, kube_proxy_mode, kubernetes_package_source,
    node_ready_timeout; facts: every cluster host's private NIC and its MTU (NodeFacts), the
    cluster's objects (ClusterState of the first control-plane node), each node's Ready
    condition (KubeadmState).

    The manifest goes through the API from the first control-plane node; each node then
    waits for its own Ready condition (so a node that joins later is the only one waiting),
    the first control-plane node for CoreDNS's pods, which only a working pod network
    starts, and every node until the cluster DNS answers it through its Service address (its
    own kube-proxy has programmed the Service and an endpoint).
    """
    view = context.cluster()
    settings = context.current().settings
    member = view.members[host.name]
    if member == view.first:
        _flannel(settings, view)
    node_ready(
        name=f"Ensure this node is Ready (waiting up to {settings.node_ready_timeout} s)",
        node_name=member.node_name,
        timeout=settings.node_ready_timeout,
    )
    if member == view.first:
        cluster_dns_available(
            name=(
                "Ensure the cluster DNS has a pod running on the pod network "
                f"(waiting up to {settings.node_ready_timeout} s)"
            ),
            timeout=settings.node_ready_timeout,
        )
    dns = kubeadm.cluster_dns_address(settings.service_cidr)
    service = kubeadm.kubernetes_service_address(settings.service_cidr)
    cluster_dns_answered(
        name=(
            f"Ensure this node gets answers from the cluster DNS at {dns} "
            f"(waiting up to {settings.node_ready_timeout} s)"
        ),
        server=dns,
        record=kubeadm.KUBERNETES_SERVICE_NAME,
        expected=service,
        timeout=settings.node_ready_timeout,
    )


def _flannel(settings: Settings, view: context.ClusterView) -> None:
    """Flannel's manifest, applied through the API from the first control-plane node."""
    values = cni.flannel_values(
        settings,
        [view.interfaces[name] for name in view.members],
        [view.mtus[name] for name in view.members],
    )
    digest = cni.manifest_digest(render("network", "kube-flannel.yml", **values, digest=""))
    manifest_applied(
        name=(
            f"Ensure Flannel {values['version']} (VXLAN over {', '.join(values['interfaces'])}, "
            f"underlay MTU {values['mtu']}) runs on every node"
        ),
        description=f"Flannel {values['version']}",
        content=render("network", "kube-flannel.yml", **values, digest=digest),
        digest=digest,
        kind="DaemonSet",
        namespace=cni.NAMESPACE,
        object_name=cni.DAEMONSET,
    )

"""Stage kubernetes: kubeadm, kubelet and kubectl pinned, then kubeadm init on the first
control-plane node, the other control-plane nodes joining one at a time and the workers in
parallel, and the operator's admin kubeconfig."""

from __future__ import annotations

import os

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.context import ctx_state
from pyinfra.operations import systemd
from pyinfra.operations.util import any_changed

from nordkube import kubeadm
from nordkube.bundle import install
from nordkube.bundle.manifest import load_manifest
from nordkube.managed import KUBE_VIP_MANIFEST, KUBELET_DROPIN, KUBELET_PATCH_FILE, KUBELET_UNIT
from pyinfra_ext import context
from pyinfra_ext.cluster import (
    admin_kubeconfig_fetched,
    images_imported,
    join_credentials_removed,
    join_token_created,
    kubeadm_initialized,
    local_file_state,
    node_joined,
)
from pyinfra_ext.operations import (
    bundle_files_installed,
    file_content,
    packages_installed,
    service_running,
)
from pyinfra_ext.templating import render


def _bundle(ctx: context.HostContext, control_plane: bool) -> None:
    """kubeadm, kubelet, kubectl and crictl from the offline bundle, the kubelet's unit and
    kubeadm's drop-in, and this node's images imported into containerd and pinned. Each file
    is uploaded once and its sha256 checked on the node (bundle_files_installed)."""
    directory = install.settings_bundle(ctx.settings)
    assert directory is not None, "only with kubernetes_package_source 'bundle'"
    manifest = load_manifest(directory)
    version = manifest["kubernetes_version"]
    bundle_files_installed(
        name=f"Ensure kubeadm, kubelet, kubectl and crictl {version} from the bundle are installed",
        files=tuple(install.kubernetes_files(directory, manifest)),
        what=f"kubeadm, kubelet, kubectl and crictl {version}",
    )
    kubelet = install.KUBERNETES_PROGRAMS["kubelet"]
    defaults = (
        "/etc/default/kubelet" if ctx.platform.family == "debian" else "/etc/sysconfig/kubelet"
    )
    units = [
        file_content(
            name=f"Ensure the kubelet's systemd unit is in {KUBELET_UNIT}",
            path=KUBELET_UNIT,
            content=render(
                "kubernetes",
                "kubelet.service",
                kubelet=kubelet,
                version=version,
                dropin=KUBELET_DROPIN,
            ),
        ),
        file_content(
            name=f"Ensure kubeadm's kubelet drop-in is in {KUBELET_DROPIN}",
            path=KUBELET_DROPIN,
            content=render("kubernetes", "10-kubeadm.conf", kubelet=kubelet, defaults=defaults),
        ),
    ]
    systemd.daemon_reload(
        name="Reload systemd's units after the kubelet's changed",
        _if=any_changed(*units),
    )
    archives, images = install.node_images(directory, manifest, control_plane)
    bundle_files_installed(
        name=f"Ensure this node's images of the bundle are in {install.IMAGE_DIR}",
        files=tuple(archives),
        what="the image archives",
    )
    ctr = install.RUNTIME_PROGRAMS["ctr"] if ctx.containerd.source == "bundle" else "ctr"
    images_imported(
        name="Ensure the bundle's images are in containerd (k8s.io), pinned",
        ctr=ctr,
        images=tuple(images),
    )


def _packages(ctx: context.HostContext) -> None:
    """From pkgs.k8s.io or its mirror (the repository the base stage wrote); nothing with
    'none' (installed some other way)."""
    settings, manager = ctx.settings, ctx.platform.package_manager
    if settings.kubernetes_package_source == "none":
        return
    version = settings.kubernetes_version
    packages_installed(
        name=f"Ensure kubeadm, kubelet and kubectl {version} are installed and held",
        manager=manager,
        packages=list(kubeadm.KUBERNETES_PACKAGES),
        held=kubeadm.KUBERNETES_PACKAGES,
        install_names=kubeadm.install_names(manager, version),
        versions=dict.fromkeys(kubeadm.PINNED_PACKAGES, version),
        disable_excludes=kubeadm.RPM_REPOSITORY if ctx.platform.family == "redhat" else None,
    )


@deploy("Form the Kubernetes cluster")
def kubernetes() -> None:
    """Reads: kubernetes_version, kubernetes_package_source, allow_cgroup_v1,
    control_plane_endpoint, kube_vip, certificate_sans, encryption_algorithm,
    kubeadm_timeouts, leader_election, control_plane_liveness, pod_cidr, service_cidr,
    kube_proxy_mode, ipvs_scheduler, ipvs_strict_arp, private_interface, private_address,
    node_network; facts: every cluster host's NodeFacts (hostname, cgroup, private NIC) and
    KubeadmState, the first control-plane node's ClusterState.

    Stacked etcd keeps kubeadm's default data directory (/var/lib/etcd) until the etcd stage
    gives it its own disk.
    """
    ctx = context.current()
    view = context.cluster()
    settings, plan = ctx.settings, view.plan
    member, first = view.members[host.name], view.first
    minor = settings.kubernetes_minor()
    cgroup = view.cgroups[host.name]

    if settings.kubernetes_package_source == "bundle":
        _bundle(ctx, member.control_plane)
    else:
        _packages(ctx)
    if kubeadm.cgroup_v1_accepted(settings, cgroup):
        file_content(
            name=f"Ensure the kubelet accepts this cgroup v1 host ({KUBELET_PATCH_FILE})",
            path=KUBELET_PATCH_FILE,
            content=render("kubernetes", "kubeletconfiguration+merge.yaml"),
        )
    for path, values in kubeadm.static_pod_patches(settings, member).items():
        file_content(
            name=f"Ensure kubeadm relaxes {values['container']}'s liveness probe ({path})",
            path=path,
            content=render("kubernetes", "static-pod+strategic.yaml", **values),
        )
    if member.control_plane and settings.kube_vip:
        values = kubeadm.kube_vip_values(
            settings, view.interfaces[host.name], initialises=member == first
        )
        file_content(
            name=f"Ensure kube-vip serves {values['address']} on this node ({KUBE_VIP_MANIFEST})",
            path=KUBE_VIP_MANIFEST,
            content=render("kubernetes", "kube-vip.yaml", **values),
        )
    service_running(name="Ensure the kubelet is running and enabled at boot", service="kubelet")

    init_values = kubeadm.init_values(
        settings, first, view.control_planes, view.cgroups[first.host]
    )
    init_template = kubeadm.template_name("init", minor)
    join_template = kubeadm.template_name("join", minor)
    if member == first:
        kubeadm_initialized(
            name="Ensure kubeadm init has formed the cluster on the first control-plane node",
            values=init_values,
            template=init_template,
            upload_certificates=plan.upload_certificates,
        )
    # Called on every node, made on the first control-plane node only: pyinfra orders
    # operations by each host's sequence, so every join follows the token and precedes its
    # removal.
    join_token_created(
        name="Ensure a short-lived join token exists for the nodes joining in this run",
        joiners=list(plan.joiners) if plan.create_token and member == first else [],
        init_values=init_values,
        template=init_template,
        upload_certificates=plan.upload_certificates,
    )
    join_values = kubeadm.join_values(settings, member, view.control_planes, cgroup)
    if member.control_plane and member != first:
        node_joined(
            name="Ensure this node has joined the control plane (one node at a time)",
            values=join_values,
            template=join_template,
            _serial=True,
        )
    if not member.control_plane:
        node_joined(
            name="Ensure this worker has joined the cluster",
            values=join_values,
            template=join_template,
        )
    join_credentials_removed(
        name="Ensure no join token of this run is left once the joins ran",
        created=plan.clean_up and member == first,
        certificates=plan.upload_certificates,
    )
    if member == first:
        project = ctx_state.get().cwd or os.getcwd()
        path = kubeadm.admin_kubeconfig_path(project, view.inventory)
        local = local_file_state(path)
        admin_kubeconfig_fetched(
            name=f"Ensure the operator's admin kubeconfig is at {path} (mode 0600)",
            path=path,
            local=list(local) if local else None,
        )

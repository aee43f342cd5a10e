"""The files and services the deploy manages on a node: one list, read by the deploy's facts
(all in one command per host), the offline recordings and the drift check."""

from __future__ import annotations

from nordkube.node import TIME_SYNC_SERVICE

# Every file the deploy may write, asked for in one FileStates command per host.
MODULES_LOAD_FILE = "/etc/modules-load.d/nordkube.conf"
SYSCTL_FILE = "/etc/sysctl.d/90-nordkube.conf"
CONTAINERD_CONFIG = "/etc/containerd/config.toml"
# containerd's unit where containerd comes from the bundle (packages bring their own).
CONTAINERD_UNIT = "/etc/systemd/system/containerd.service"
NETWORKMANAGER_CNI_FILE = "/etc/NetworkManager/conf.d/90-nordkube-cni.conf"
CENTOS7_VAULT_REPO = "/etc/yum.repos.d/CentOS-Base.repo"
DOCKER_YUM_REPO = "/etc/yum.repos.d/docker-ce.repo"
DOCKER_APT_SOURCE = "/etc/apt/sources.list.d/docker.list"
DOCKER_APT_KEY = "/etc/apt/keyrings/docker.asc"
CONTAINERD_APT_PIN = "/etc/apt/preferences.d/nordkube-containerd"
KUBERNETES_YUM_REPO = "/etc/yum.repos.d/kubernetes.repo"
KUBERNETES_APT_SOURCE = "/etc/apt/sources.list.d/kubernetes.list"
KUBERNETES_APT_KEY = "/etc/apt/keyrings/kubernetes-apt-keyring.asc"
# EL repositories name these verified copies as gpgkey=file://..., so dnf/yum import only a
# key that matched its pin (nordkube/keys.py), never what the URL serves at install time.
KUBERNETES_RPM_KEY = "/etc/pki/rpm-gpg/RPM-GPG-KEY-kubernetes"
DOCKER_RPM_KEY = "/etc/pki/rpm-gpg/RPM-GPG-KEY-docker-ce"
# kube-vip's static pod on the control-plane nodes (kube_vip), and the node-local kubeadm
# patch that turns failCgroupV1 off on an accepted cgroup v1 host.
KUBE_VIP_MANIFEST = "/etc/kubernetes/manifests/kube-vip.yaml"
KUBELET_PATCH_FILE = "/etc/nordkube/kubeadm-patches/kubeletconfiguration+merge.yaml"
# The control-plane static pods' liveness probes relaxed (control_plane_liveness), one
# strategic-merge patch per static pod, beside the kubelet's in the same patches directory.
STATIC_POD_PATCH_FILES = {
    component: f"/etc/nordkube/kubeadm-patches/{component}+strategic.yaml"
    for component in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
}
# The kubelet's unit and kubeadm's drop-in where the kubelet comes from the bundle (packages
# bring their own).
KUBELET_UNIT = "/etc/systemd/system/kubelet.service"
KUBELET_DROPIN = "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"
# The signing keys, each verified against its pin before a repository trusts it; their
# fingerprints are read in one command per host.
MANAGED_KEYS = (DOCKER_APT_KEY, KUBERNETES_APT_KEY, DOCKER_RPM_KEY, KUBERNETES_RPM_KEY)
MANAGED_FILES = (
    MODULES_LOAD_FILE,
    SYSCTL_FILE,
    CONTAINERD_CONFIG,
    CONTAINERD_UNIT,
    NETWORKMANAGER_CNI_FILE,
    CENTOS7_VAULT_REPO,
    DOCKER_YUM_REPO,
    DOCKER_APT_SOURCE,
    DOCKER_APT_KEY,
    CONTAINERD_APT_PIN,
    KUBERNETES_YUM_REPO,
    KUBERNETES_APT_SOURCE,
    KUBERNETES_APT_KEY,
    KUBERNETES_RPM_KEY,
    DOCKER_RPM_KEY,
    KUBE_VIP_MANIFEST,
    KUBELET_PATCH_FILE,
    *STATIC_POD_PATCH_FILES.values(),
    KUBELET_UNIT,
    KUBELET_DROPIN,
)

# Every service the deploy manages (names differ per family), asked for in one command.
MANAGED_SERVICES = ("containerd", "kubelet", *sorted(set(TIME_SYNC_SERVICE.values())))

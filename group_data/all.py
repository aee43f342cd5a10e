"""Cluster-wide settings for every inventory (each one is declared in nordkube/settings.py).

Only what differs from the defaults needs to be here; the values below are the defaults,
written out so an operator sees the choices in one place. Per-host values (etcd_device,
private_interface, private_address) belong in the inventory's host data.
"""

# Kubernetes release the nodes are prepared for: decides containerd and its pause image,
# and whether cgroup v1 hosts are refused (1.35+). Upstream maintains 1.35 to 1.37; an
# end-of-life minor is accepted only on a host whose OS cannot run a maintained one (CentOS 7
# up to 1.30, Ubuntu 18.04 up to 1.28, Ubuntu 20.04 up to 1.33), with a warning. A full patch
# release, as the offline bundle builds only versions the Go module proxy serves.
kubernetes_version = "1.35.4"
# pkgs.k8s.io ("upstream"), an internal mirror URL, "bundle" (nordkube's offline bundle:
# kubernetes_bundle, or the one `nordkube bundle build` left in its cache), or "none".
kubernetes_package_source = "upstream"

# Forming the cluster with kubeadm. With several control-plane nodes every node reaches the API
# through control_plane_endpoint: a load balancer's address, or a free address of the private
# network that kube-vip serves from the control-plane nodes (kube_vip = True). Unset with one
# control-plane node: that node's private address.
control_plane_endpoint = None
kube_vip = False
# ECDSA-P256 keys cost far less CPU than RSA on slow machines (Kubernetes >= 1.31).
encryption_algorithm = "RSA-2048"

# Pod network and its encapsulation (each adds its own overhead to the MTU). Flannel with its
# VXLAN backend is what the network stage runs; Calico, Canal and Flannel's WireGuard backend
# come with a later release and are refused until then.
cni = "flannel"
flannel_backend = "vxlan"
calico_encapsulation = "vxlan"
calico_wireguard = False

# kube-proxy: ipvs is deprecated from Kubernetes 1.35; nftables needs kernel >= 5.13.
kube_proxy_mode = "ipvs"
ipvs_scheduler = "rr"
ipvs_strict_arp = True

# Address ranges: pods, services and the nodes' private network must not overlap.
pod_cidr = "10.244.0.0/16"
service_cidr = "10.96.0.0/12"

# stacked: etcd runs on the control-plane nodes (each needs etcd_device).
etcd_topology = "stacked"
# etcd's disk (per host: etcd_device; etcd_wipe_device only to erase a disk that holds
# something) gets this filesystem, and the fsync gate refuses a host whose disk's fdatasync
# p99 is above this many ms (etcd's rule: under 10 ms).
etcd_filesystem = "ext4"
etcd_fsync_p99_max_ms = 10

"""An example production fleet in Oslo: 3 control-plane nodes carrying etcd, 3 workers.

The nodes are KVM VPSes with a public NIC (not used by Kubernetes) and a private NIC on the
provider's private network 10.20.0.0/24. Only the bastion has a public SSH port; every node is
reached through it. The addresses are documentation addresses (RFC 5737 for the bastion,
a private range for the nodes): nothing here connects anywhere until an operator fills in
their own fleet.

How SSH reaches the nodes, through the bastion: put this in ~/.ssh/config (pyinfra reads it,
and so does `nordkube check`):

    Host bastion.oslo
        HostName 192.0.2.10
        User ops
    Host oslo-*
        ProxyJump bastion.oslo
        User ops

Then `pyinfra inventories/oslo.py deploy.py`, `nordkube check inventories/oslo.py`.
"""

# Shared by every node: how pyinfra logs in and becomes root.
_connection = {
    # A non-root user with sudo, as the provider's images create it (root login is off).
    "ssh_user": "ops",
    # Every command runs through sudo; the user needs passwordless sudo.
    "_sudo": True,
    # Host keys are always checked: add them to known_hosts when a node is ordered.
    "ssh_strict_host_key_checking": "yes",
}


def _node(private_address: str, **extra: object) -> dict[str, object]:
    return {
        **_connection,
        # Where pyinfra connects: the private address, reached through the bastion
        # (ProxyJump from ~/.ssh/config above).
        "ssh_hostname": private_address,
        # The node's address on the private network: kubelet node IP, etcd peer URLs.
        "private_address": private_address,
        # The private NIC's name on this provider's images (found from node_network if unset).
        "private_interface": "eth1",
        # The provider's private network between the nodes (cluster-wide; pyinfra inventory
        # files carry data per host or group, so it is set with each node).
        "node_network": "10.20.0.0/24",
        # Three control-plane nodes: every node reaches the API through 10.20.0.10, a free
        # address of the private network that kube-vip announces from whichever control-plane
        # node holds its lease. With a load balancer of the provider's instead, give its
        # address or name here and leave kube_vip off.
        "control_plane_endpoint": "10.20.0.10",
        "kube_vip": True,
        **extra,
    }


# Control plane + stacked etcd: each carries etcd's data on its own NVMe disk. The device is
# given by its stable by-id name, so a renamed /dev/nvmeXn1 after a reboot cannot swap disks.
control_plane = [
    ("oslo-cp1", _node("10.20.0.11", etcd_device="/dev/disk/by-id/nvme-etcd-oslo-cp1")),
    ("oslo-cp2", _node("10.20.0.12", etcd_device="/dev/disk/by-id/nvme-etcd-oslo-cp2")),
    ("oslo-cp3", _node("10.20.0.13", etcd_device="/dev/disk/by-id/nvme-etcd-oslo-cp3")),
]

workers = [
    ("oslo-w1", _node("10.20.0.21")),
    ("oslo-w2", _node("10.20.0.22")),
    ("oslo-w3", _node("10.20.0.23")),
]

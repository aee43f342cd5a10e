"""pyinfra inventory of the running lab (`nordkube lab up`), read from `.lab/state.json`.

    pyinfra inventories/lab.py deploy.py

Every host is reached as `nordkube` (passwordless sudo) on 127.0.0.1 at its forwarded port,
with the lab's key and the host keys the lab recorded, checked strictly.
"""

from nordkube.lab import lab_inventory

_groups = lab_inventory()

control_plane = _groups["control_plane"]
etcd = _groups["etcd"]
workers = _groups["workers"]

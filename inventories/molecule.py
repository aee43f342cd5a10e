"""pyinfra inventory of Molecule's instances: the lab nodes named in Molecule's instance config.

Molecule's create step (molecule/default/create.yml) starts them with `nordkube lab up` and
writes the instance config; its converge and verify steps pass the file's path in
MOLECULE_INSTANCE_CONFIG. The lab supplies each node's connection and settings.
"""

import os
from pathlib import Path

import yaml

from nordkube.lab import lab_inventory

_config = os.environ.get("MOLECULE_INSTANCE_CONFIG")
if not _config:
    raise SystemExit("MOLECULE_INSTANCE_CONFIG is not set: run this through `molecule test`")
_instances = {entry["instance"] for entry in yaml.safe_load(Path(_config).read_text()) or []}
_groups = lab_inventory()

control_plane = [host for host in _groups["control_plane"] if host[0] in _instances]
etcd = [host for host in _groups["etcd"] if host[0] in _instances]
workers = [host for host in _groups["workers"] if host[0] in _instances]

"""nordkube's build order, read top to bottom: validate -> base -> kernel -> runtime -> etcd
(etcd's own disk and the fsync gate) -> kubernetes -> network. `--data stages=base,kernel` runs only
the named stages; validation always runs first, and stops the run before any change.
Each stage is called from its own line: pyinfra orders operations by the lines that call
them, so a loop over the stages would give every stage's operations the same position.
"""

from pyinfra import host

from nordkube.settings import STAGES, Settings
from roles.base import base
from roles.etcd import etcd
from roles.kernel import kernel
from roles.kubernetes import kubernetes
from roles.network import network
from roles.runtime import runtime
from roles.validate import validate

validate()

chosen = Settings.from_data(host.data.dict(), host.name).stages or list(STAGES)
if "base" in chosen:
    base()
if "kernel" in chosen:
    kernel()
if "runtime" in chosen:
    runtime()
if "etcd" in chosen:
    etcd()
if "kubernetes" in chosen:
    kubernetes()
if "network" in chosen:
    network()

"""The secrets of one run's joins, kept in memory on pyinfra's state, never printed or written.

A run that forms or grows the cluster makes one bootstrap token and one certificate key, in
Python (nordkube.kubeadm), when a stage first asks for them. They reach the nodes only on a
command's standard input (pyinfra's `_stdin`: neither the command line pyinfra prints and
logs, nor the JSON plan, nor the nodes' process list carries them) and leave no file behind
outside the nodes.

The discovery hash of the cluster CA is not secret, but it exists only once `kubeadm init` has
made the CA, possibly earlier in this very run. The first control-plane node's operation that
makes a token (init, or a join token for a later join) ends with a callback that reads
/etc/kubernetes/pki/ca.crt from that node during execution and records its hash here; the joins
run after it (pyinfra executes operations in order, each on all its hosts) and render their
JoinConfiguration when they execute, with the hash of this run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyinfra.api import State
from pyinfra.context import ctx_state

from nordkube import kubeadm

_ATTRIBUTE = "_nordkube_join_secrets"


@dataclass
class JoinSecrets:
    """The token and certificate key of this run, and the CA hash once it is known."""

    # Looked up when a run first asks, so a test can substitute known values.
    token: str = field(default_factory=lambda: kubeadm.new_token(), repr=False)
    certificate_key: str = field(default_factory=lambda: kubeadm.new_certificate_key(), repr=False)
    ca_cert_hash: str | None = None


def of_run(state: State | None = None) -> JoinSecrets:
    """This run's join secrets (made on first use)."""
    state = state or ctx_state.get()
    secrets = getattr(state, _ATTRIBUTE, None)
    if secrets is None:
        secrets = JoinSecrets()
        setattr(state, _ATTRIBUTE, secrets)
    return secrets

"""Every kubeadm configuration the kubernetes stage renders, for one Kubernetes release, as the
kubeadm validation tier feeds them to that release's `kubeadm config validate`.

    from kubeadm_configs import rendered
    for name, text in rendered("1.35.4").items(): ...

The variants are the ones whose templates differ: the first control-plane node's init (each
kube-proxy mode, an accepted cgroup v1 host, several control-plane nodes behind an endpoint
with the certificate key, ECDSA keys and raised timeouts where the API has them), a worker's
join and a control-plane node's join. Secrets are stand-ins in kubeadm's own formats.
"""

from __future__ import annotations

from nordkube import kubeadm
from nordkube.settings import Settings
from pyinfra_ext.templating import render

TOKEN = "abcdef.0123456789abcdef"
CERTIFICATE_KEY = "0123456789abcdef" * 4
CA_CERT_HASH = "sha256:" + "0" * 64
CP1 = kubeadm.Member("cp1", "cp1", "10.20.0.11", True)
CP2 = kubeadm.Member("cp2", "cp2", "10.20.0.12", True)
WORKER = kubeadm.Member("w1", "w1", "10.20.0.21", False)


def _settings(version: str, **values: object) -> Settings:
    minor = int(version.split(".")[1])
    extra: dict[str, object] = {"kubernetes_version": version}
    extra["kubeadm_timeouts"] = {"controlPlaneComponentHealthCheck": "10m", "discovery": "8m"}
    extra["leader_election"] = {"lease-duration": "60s", "renew-deadline": "40s"}
    if minor >= 31:
        extra["encryption_algorithm"] = "ECDSA-P256"
        extra["kubeadm_timeouts"] = {
            **extra["kubeadm_timeouts"],  # type: ignore[dict-item]
            "kubeletHealthCheck": "6m",
            "tlsBootstrap": "10m",
        }
    return Settings.from_data({**extra, **values})


def rendered(version: str) -> dict[str, str]:
    """Each variant's file name and text for Kubernetes `version` (1.N.P)."""
    minor = int(version.split(".")[1])
    init, join = kubeadm.template_name("init", minor), kubeadm.template_name("join", minor)
    files: dict[str, str] = {}
    for mode in ("ipvs", "nftables", "iptables"):
        settings = _settings(version, kube_proxy_mode=mode)
        values = kubeadm.init_values(settings, CP1, [CP1], "cgroup2fs")
        files[f"init-{mode}.yaml"] = render(
            "kubernetes", init, **values, token=TOKEN, certificate_key=None
        )
    v1 = _settings(version, allow_cgroup_v1=True)
    files["init-cgroup-v1.yaml"] = render(
        "kubernetes",
        init,
        **kubeadm.init_values(v1, CP1, [CP1], "tmpfs"),
        token=TOKEN,
        certificate_key=None,
    )
    ha = _settings(
        version, control_plane_endpoint="10.20.0.100", certificate_sans=["api.oslo.example"]
    )
    files["init-ha.yaml"] = render(
        "kubernetes",
        init,
        **kubeadm.init_values(ha, CP1, [CP1, CP2], "cgroup2fs"),
        token=TOKEN,
        certificate_key=CERTIFICATE_KEY,
    )
    files["join-control-plane.yaml"] = render(
        "kubernetes",
        join,
        **kubeadm.join_values(ha, CP2, [CP1, CP2], "cgroup2fs"),
        token=TOKEN,
        ca_cert_hash=CA_CERT_HASH,
        certificate_key=CERTIFICATE_KEY,
    )
    files["join-worker.yaml"] = render(
        "kubernetes",
        join,
        **kubeadm.join_values(v1, WORKER, [CP1], "tmpfs"),
        token=TOKEN,
        ca_cert_hash=CA_CERT_HASH,
        certificate_key=None,
    )
    return files

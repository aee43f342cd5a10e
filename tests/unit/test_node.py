"""The desired node state: modules per mode and probe, persisted files."""

from nordkube import node
from nordkube.settings import Settings


def test_ipvs_modules_with_a_least_connection_scheduler():
    modules = node.candidate_modules(Settings.from_data({"ipvs_scheduler": "wlc"}))
    assert modules[:5] == ["ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh", "ip_vs_wlc"]


def test_nftables_mode_loads_nf_tables_and_no_ipvs():
    modules = node.candidate_modules(Settings.from_data({"kube_proxy_mode": "nftables"}))
    assert "nf_tables" in modules
    assert not [m for m in modules if m.startswith("ip_vs")]


def test_old_kernels_get_nf_conntrack_ipv4_by_probe_not_by_version():
    settings = Settings.from_data({})
    old = node.required_modules(settings, {"nf_conntrack_ipv4": "available"})
    new = node.required_modules(settings, {"nf_conntrack_ipv4": "missing"})
    assert "nf_conntrack_ipv4" in old
    assert "nf_conntrack_ipv4" not in new
    assert "nf_conntrack" in new


def test_builtin_modules_are_not_persisted():
    assert node.modules_to_persist(["overlay", "ip_vs"], {"overlay": "builtin"}) == ["ip_vs"]


def test_sysctl_file_lists_every_parameter():
    text = node.render_sysctl_file(node.SYSCTLS)
    assert "net.ipv4.ip_forward = 1\n" in text
    assert "net.bridge.bridge-nf-call-iptables = 1\n" in text
    assert text.count(" = ") == len(node.SYSCTLS)


def test_https_repository_tools_only_where_a_https_repository_is_added():
    from nordkube.support import find_platform

    debian = find_platform("debian", "12")
    rocky = find_platform("rocky", "9")
    assert debian is not None and rocky is not None
    assert "ca-certificates" not in node.base_packages(debian, https_repositories=False)
    assert {"curl", "ca-certificates"} <= set(node.base_packages(debian, https_repositories=True))
    assert "curl" not in node.base_packages(rocky, https_repositories=True)
    lab = Settings.from_data({"kubernetes_package_source": "none"})
    assert not node.uses_https_repositories(lab, "os")
    assert node.uses_https_repositories(lab, "docker")
    assert node.uses_https_repositories(Settings.from_data({}), "os")

"""Per-OS decisions: which containerd, which schema, which Kubernetes a platform can run."""

import pytest

from nordkube import support


def platform(key):
    os_id, version = key.split("-")
    found = support.find_platform(os_id, version)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("release", "expected"),
    [
        (("rocky", "9.4"), "rocky-9"),
        (("almalinux", "8.10"), "almalinux-8"),
        (("centos", "7"), "centos-7"),
        (("ubuntu", "22.04"), "ubuntu-22.04"),
        (("debian", "12"), "debian-12"),
    ],
)
def test_os_release_versions_map_to_platforms(release, expected):
    found = support.find_platform(*release)
    assert found is not None and found.key == expected


@pytest.mark.parametrize(("release"), [("ubuntu", "23.10"), ("fedora", "40"), ("centos", "8")])
def test_unsupported_releases_are_not_found(release):
    assert support.find_platform(*release) is None


@pytest.mark.parametrize(
    ("key", "minor", "source", "package", "series"),
    [
        ("debian-12", 28, "os", "containerd", "1.6"),
        ("debian-12", 35, "docker", "containerd.io", "2.1"),
        ("debian-13", 35, "os", "containerd", "1.7"),
        ("debian-13", 36, "docker", "containerd.io", "2.1"),
        ("debian-11", 30, "docker", "containerd.io", "2.1"),
        ("ubuntu-24.04", 35, "os", "containerd", "1.7"),
        ("rocky-9", 35, "docker", "containerd.io", "2.1"),
        ("centos-7", 30, "docker", "containerd.io", "1.6"),
    ],
)
def test_containerd_source_follows_containerds_support_table(key, minor, source, package, series):
    choice = support.choose_containerd(platform(key), minor)
    assert choice is not None
    assert (choice.source, choice.package, choice.series) == (source, package, series)


def test_centos7_is_capped_where_its_frozen_containerd_ends():
    assert support.choose_containerd(platform("centos-7"), 31) is None
    assert support.max_kubernetes_minor(platform("centos-7")) == 30


def test_containerd_below_the_required_patch_is_not_supported():
    assert support.containerd_supports("1.6.20", 28)
    assert not support.containerd_supports("1.6.20", 29)
    assert not support.containerd_supports("1.7.24", 36)
    assert support.containerd_supports("2.1.4", 36)


@pytest.mark.parametrize(
    ("minor", "image"),
    [(28, "registry.k8s.io/pause:3.9"), (31, "registry.k8s.io/pause:3.10"),
     (35, "registry.k8s.io/pause:3.10.1")],
)  # fmt: skip
def test_pause_image_matches_kubeadm(minor, image):
    assert support.pause_image(minor) == image


@pytest.mark.parametrize(
    ("release", "expected"),
    [("5.14.0-427.el9.x86_64", True), ("5.13.0-1-generic", True), ("5.10.0-30-amd64", False),
     ("3.10.0-1160.el7.x86_64", False), ("6.1.0-41-amd64", True)],
)  # fmt: skip
def test_kernel_version_comparison(release, expected):
    assert support.kernel_at_least(release, (5, 13)) is expected

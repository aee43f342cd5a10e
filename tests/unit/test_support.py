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


# What the package managers offer (the recordings' sources: inventories/recordings/).
DEBIAN_12 = support.ContainerdOffer(candidates={"containerd": "1.6.20~ds1-1+deb12u3"})
DEBIAN_13 = support.ContainerdOffer(candidates={"containerd": "1.7.24~ds1-6+deb13u1"})
UBUNTU_24_04 = support.ContainerdOffer(candidates={"containerd": "2.2.1-0ubuntu1~24.04.3"})
UBUNTU_20_04 = support.ContainerdOffer(candidates={"containerd": "1.7.24-0ubuntu1~20.04.2"})
NOTHING = support.ContainerdOffer()
NO_LISTS = support.ContainerdOffer(metadata=False)


@pytest.mark.parametrize(
    ("key", "offer", "minor", "source", "package", "series"),
    [
        ("debian-12", DEBIAN_12, 28, "os", "containerd", "1.6"),
        ("debian-12", DEBIAN_12, 35, "docker", "containerd.io", "2.2"),
        ("debian-13", DEBIAN_13, 33, "os", "containerd", "1.7"),
        ("debian-13", DEBIAN_13, 35, "docker", "containerd.io", "2.2"),
        ("debian-13", DEBIAN_13, 37, "docker", "containerd.io", "2.3"),
        ("debian-11", NOTHING, 36, "docker", "containerd.io", "2.2"),
        ("ubuntu-24.04", UBUNTU_24_04, 35, "os", "containerd", "2.2"),
        ("ubuntu-24.04", UBUNTU_24_04, 37, "docker", "containerd.io", "2.3"),
        ("ubuntu-20.04", UBUNTU_20_04, 33, "os", "containerd", "1.7"),
        ("rocky-9", NOTHING, 35, "docker", "containerd.io", "2.2"),
        ("rocky-9", NO_LISTS, 36, "docker", "containerd.io", "2.3"),
        ("centos-7", NO_LISTS, 30, "docker", "containerd.io", "1.6"),
    ],
)
def test_containerd_source_follows_the_offer_and_containerds_table(
    key, offer, minor, source, package, series
):
    choice = support.choose_containerd(platform(key), minor, offer)
    assert choice is not None
    assert (choice.source, choice.package, choice.series) == (source, package, series)


def test_an_installed_containerd_keeps_its_source_while_it_supports_the_minor():
    installed = support.ContainerdOffer(
        installed={"containerd.io": "2.2.5-1"}, candidates={"containerd": "2.2.1-0ubuntu1"}
    )
    choice = support.choose_containerd(platform("ubuntu-24.04"), 36, installed)
    assert choice is not None and (choice.source, choice.series) == ("docker", "2.2")
    upgraded = support.choose_containerd(platform("ubuntu-24.04"), 37, installed)
    assert upgraded is not None and (upgraded.source, upgraded.series) == ("docker", "2.3")


def test_the_reason_says_why_docker_is_used():
    choice = support.choose_containerd(platform("debian-13"), 35, DEBIAN_13)
    assert choice is not None
    assert choice.reason == (
        "Debian 13 offers containerd 1.7.24~ds1-6+deb13u1, too old for Kubernetes 1.35; "
        "using Docker's containerd.io 2.2"
    )
    unknown = support.choose_containerd(platform("debian-13"), 35, NO_LISTS)
    assert unknown is not None and "no package lists" in unknown.reason


@pytest.mark.parametrize(
    ("key", "offer", "newest"),
    [("centos-7", NO_LISTS, 30), ("ubuntu-18.04", support.ContainerdOffer(
        candidates={"containerd": "1.6.12-0ubuntu1~18.04.1"}), 28),
     ("ubuntu-20.04", UBUNTU_20_04, 33), ("debian-11", NOTHING, 36), ("debian-12", DEBIAN_12, 37)],
)  # fmt: skip
def test_frozen_docker_repositories_cap_the_kubernetes_minor(key, offer, newest):
    assert max(support.installable_minors(platform(key), offer)) == newest


def test_containerd_below_the_required_patch_is_not_supported():
    assert support.containerd_supports("1.6.20", 28)
    assert not support.containerd_supports("1.6.20", 29)
    assert not support.containerd_supports("1.7.24", 35)
    assert support.containerd_supports("1.7.28", 35)
    assert not support.containerd_supports("2.1.4", 35)
    assert support.containerd_supports("2.2.1-0ubuntu1~24.04.3", 36)
    assert not support.containerd_supports("2.2.5", 37)
    assert support.containerd_supports("2.3.0", 37)


@pytest.mark.parametrize(
    ("minor", "image"),
    [(28, "registry.k8s.io/pause:3.9"), (31, "registry.k8s.io/pause:3.10"),
     (35, "registry.k8s.io/pause:3.10.1"), (36, "registry.k8s.io/pause:3.10.2"),
     (37, "registry.k8s.io/pause:3.10.2")],
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

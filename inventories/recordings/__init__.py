"""Recorded answers of one fresh node per supported OS, for the offline per-OS plan.

Each module holds one OS release's pieces (os-release, kernel, cgroup, NICs, modules, sysctls,
swap, services, SELinux), every piece with its source, and `fake_responses()`, which pairs
each fact command nordkube sends with that output (common.Recording.fake_responses).
inventories/matrix.py gives them to pyinfra's @fake connector.
"""

from __future__ import annotations

from inventories.recordings import (
    almalinux_8,
    almalinux_9,
    centos_7,
    debian_11,
    debian_12,
    debian_13,
    rocky_8,
    rocky_9,
    ubuntu_18_04,
    ubuntu_20_04,
    ubuntu_22_04,
    ubuntu_24_04,
)
from inventories.recordings.common import Recording

# In nordkube/support.py's order of families: EL first, then Ubuntu, then Debian.
RECORDINGS: dict[str, Recording] = {
    module.RECORDING.host.removeprefix("@fake/"): module.RECORDING
    for module in (
        centos_7,
        rocky_8,
        rocky_9,
        almalinux_8,
        almalinux_9,
        ubuntu_18_04,
        ubuntu_20_04,
        ubuntu_22_04,
        ubuntu_24_04,
        debian_11,
        debian_12,
        debian_13,
    )
}

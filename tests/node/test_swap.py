"""Swap off (kubeadm's preflight refuses swap), now and after a reboot."""

from __future__ import annotations

from typing import Any

# systemd states in which a swap unit is swapping or about to.
ACTIVE_STATES = ("active", "activating")


def test_swap_off_now(host: Any, node: Any) -> None:
    swaps = host.file("/proc/swaps").content_string.splitlines()[1:]
    assert not swaps, f"{node}: swap is on: {'; '.join(' '.join(s.split()) for s in swaps)}"


def test_no_swap_in_fstab(host: Any, node: Any) -> None:
    entries = [
        " ".join(fields)
        for fields in (line.split() for line in host.file("/etc/fstab").content_string.splitlines())
        if len(fields) >= 3 and not fields[0].startswith("#") and fields[2] == "swap"
    ]
    assert not entries, f"{node}: /etc/fstab turns swap on at boot: {'; '.join(entries)}"


def test_no_active_swap_unit(host: Any, node: Any) -> None:
    units = host.run("systemctl list-units --type=swap --all --plain --no-legend")
    assert units.rc == 0, f"{node}: systemctl list-units failed: {units.stderr.strip()}"
    active = [
        fields[0]
        for fields in (line.split() for line in units.stdout.splitlines())
        if len(fields) >= 3 and fields[2] in ACTIVE_STATES
    ]
    assert not active, f"{node}: swap units are active: {', '.join(active)}"
    files = host.run("systemctl list-unit-files --type=swap --no-legend")
    # systemctl exits 1, silently, when no unit file matches (seen on systemd 252).
    nothing_listed = files.rc == 1 and not files.stdout.strip() and not files.stderr.strip()
    assert files.rc == 0 or nothing_listed, (
        f"{node}: systemctl list-unit-files failed: {files.stderr.strip()}"
    )
    startable = [
        f"{fields[0]} ({fields[1]})"
        for fields in (line.split() for line in files.stdout.splitlines())
        if len(fields) >= 2 and not fields[1].startswith("masked")
    ]
    assert not startable, (
        f"{node}: swap units can start at boot (mask them): {', '.join(startable)}"
    )

"""`nordkube drift --print-units`: the systemd service and timer filled in for this checkout."""

from __future__ import annotations

import configparser

from nordkube.cli import main
from nordkube.drift import units


def _units(text: str) -> dict[str, configparser.ConfigParser]:
    parsed = {}
    for part in text.split("# --- /etc/systemd/system/")[1:]:
        name, _, body = part.partition("\n")
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.optionxform = str  # keep the keys as systemd spells them
        parser.read_string(body)
        parsed[name] = parser
    return parsed


def test_the_units_run_drift_on_the_inventory_into_the_report_directory_nightly() -> None:
    text = units.render(
        project="/srv/nordkube",
        inventory="/srv/nordkube/inventories/oslo.py",
        report_dir="/var/lib/nordkube/drift",
        uv="/usr/local/bin/uv",
        user="ops",
    )
    parsed = _units(text)
    assert sorted(parsed) == ["nordkube-drift.service", "nordkube-drift.timer"]
    service = parsed["nordkube-drift.service"]["Service"]
    assert service["ExecStart"] == (
        "/usr/local/bin/uv run --frozen nordkube drift /srv/nordkube/inventories/oslo.py "
        "--report-dir /var/lib/nordkube/drift"
    )
    assert (service["User"], service["WorkingDirectory"]) == ("ops", "/srv/nordkube")
    assert service["SuccessExitStatus"] == "1 2"
    timer = parsed["nordkube-drift.timer"]
    assert timer["Timer"]["Persistent"] == "true" and "OnCalendar" in timer["Timer"]
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert "$" not in text  # every placeholder filled
    assert text.rstrip().endswith("systemctl enable --now nordkube-drift.timer")


def test_print_units_from_the_command_line(capsys) -> None:
    assert main(["drift", "inventories/oslo.py", "--print-units", "--report-dir", "/tmp/r"]) == 0
    printed = capsys.readouterr().out
    assert "--report-dir /tmp/r" in printed and "inventories/oslo.py" in printed

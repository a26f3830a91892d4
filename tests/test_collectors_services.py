"""systemd units and upkeep (collectors/services) on real captures
(tests/fixtures/services/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectors.services import systemd, upkeep
from mirror.errors import ParseError

FIX = Path(__file__).parent / "fixtures" / "services"


@pytest.mark.parametrize("name", ["centos-7.7-systemctl.out", "ubuntu-18.04-systemctl.out"])
def test_list_units_of_real_systems(name: str) -> None:
    text = (FIX / name).read_text()
    units = systemd.parse_list(text)
    # The capture's own footer says how many units it listed.
    listed = next(line for line in text.splitlines() if "loaded units listed" in line)
    assert len(units) == int(listed.split()[0])
    marked = [line.split()[1] for line in text.splitlines() if line.startswith("●")]
    assert [u.name for u in units if u.load == "not-found"] == marked
    assert systemd.failed(units) == []  # neither machine had a failed unit
    assert systemd.metrics(units, [])["services.failed"] == 0


def test_failed_units_and_watched_services() -> None:
    # Written here, not captured (see the fixtures README): the --plain --no-legend rows
    # of a failed unit, and `systemctl show` of two services.
    rows = "● nginx.service loaded failed failed A high performance web server\n"
    assert [u.name for u in systemd.failed(systemd.parse_list(rows))] == ["nginx.service"]
    show = (
        "Id=nginx.service\nLoadState=loaded\nActiveState=failed\nSubState=failed\n"
        "NRestarts=5\nResult=exit-code\n\nId=ssh.service\nLoadState=loaded\n"
        "ActiveState=active\nSubState=running\nNRestarts=0\nResult=success\n"
    )
    watched = systemd.parse_show(show)
    m = systemd.metrics(systemd.parse_list(rows), watched)
    assert m["service.up[nginx.service]"] == 0 and m["service.restarts[nginx.service]"] == 5
    assert m["service.up[ssh.service]"] == 1 and m["services.failed"] == 1
    with pytest.raises(ParseError, match="Id/ActiveState"):
        systemd.parse_show("LoadState=loaded\n")
    with pytest.raises(ParseError, match="list-units line"):
        systemd.parse_list("System has not been booted with systemd as init system\n")


def test_pending_updates_of_a_real_debian_12() -> None:
    text = (FIX / "apt-get-s-upgrade-debian12.out").read_text()
    updates = upkeep.parse_apt(text)
    inst = [line for line in text.splitlines() if line.startswith("Inst ")]
    assert updates.total == len(inst) > 0
    assert updates.security == sum("-security" in line for line in inst)
    assert "bash" in updates.packages
    m = upkeep.metrics(updates, reboot=False)
    assert m == {
        "updates.pending": len(inst), "updates.security": updates.security,
        "reboot.pending": 0.0,
    }  # fmt: skip


def test_apt_quiet_lines() -> None:
    updates = upkeep.parse_apt((FIX / "apt-get-sqq-sample.out").read_text())
    assert updates.packages == ("dpkg", "dpkg", "base-files", "dpkg")
    assert updates.security == 3


def test_reboot_pending() -> None:
    files = {"/run/reboot-required": "*** System restart required ***\n",
             "/run/reboot-required.pkgs": "linux-image-6.1.0-9-amd64\nlibc6\nlibc6\n"}  # fmt: skip
    assert upkeep.reboot_pending(files) is True
    assert upkeep.reboot_packages(files) == ["libc6", "linux-image-6.1.0-9-amd64"]
    assert upkeep.reboot_pending({}) is False
    assert upkeep.reboot_pending({}, needs_restarting_status=1) is True

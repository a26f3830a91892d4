"""smartctl JSON of real drives (tests/fixtures/smart/, from Scrutiny's test data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collectors.smart import smartctl
from mirror.errors import ParseError

FIX = Path(__file__).parent / "fixtures" / "smart"


def _read(name: str) -> tuple[str, dict]:  # type: ignore[type-arg]
    text = (FIX / name).read_text()
    return text, json.loads(text)


def _raw(doc: dict, attr_id: int) -> int:  # type: ignore[type-arg]
    table = doc["ata_smart_attributes"]["table"]
    return next(a["raw"]["value"] for a in table if a["id"] == attr_id)


def test_healthy_sata_drive() -> None:
    text, doc = _read("smart-ata.json")
    d = smartctl.parse(text)
    assert d.passed is True and d.error is None and d.failing_attributes == ()
    assert d.device == doc["device"]["name"] and d.model == doc["model_name"]
    assert d.temp_celsius == doc["temperature"]["current"]
    assert d.power_on_hours == doc["power_on_time"]["hours"]
    assert d.reallocated_sectors == _raw(doc, 5) and d.pending_sectors == _raw(doc, 197)


def test_failing_sata_drive_is_not_healthy() -> None:
    text, doc = _read("smart-fail2.json")
    d = smartctl.parse(text)
    assert d.passed is False and "Reallocated_Sector_Ct" in d.failing_attributes
    assert d.reallocated_sectors == _raw(doc, 5) > 0
    assert d.pending_sectors == _raw(doc, 197) > 0
    m = smartctl.metrics([d])
    assert m[f"smart.healthy[{d.device}]"] == 0.0
    assert m[f"smart.reallocated_sectors[{d.device}]"] == _raw(doc, 5)


@pytest.mark.parametrize("name", ["smart-nvme.json", "smart-nvme-failed.json"])
def test_nvme_wear_and_media_errors(name: str) -> None:
    text, doc = _read(name)
    log = doc["nvme_smart_health_information_log"]
    d = smartctl.parse(text)
    assert d.protocol == "NVMe" and d.reallocated_sectors is None
    assert d.nvme_used_pct == log["percentage_used"]
    assert d.nvme_spare_pct == log["available_spare"]
    assert d.media_errors == log["media_errors"]
    assert smartctl.metrics([d])[f"smart.media_errors[{d.device}]"] == log["media_errors"]


def test_sas_grown_defects_count_as_reallocated() -> None:
    text, doc = _read("smart-scsi.json")
    d = smartctl.parse(text)
    assert d.reallocated_sectors == doc["scsi_grown_defect_list"]
    assert d.power_on_hours == doc["power_on_time"]["hours"]


def test_a_disk_that_cannot_be_opened_asks_for_sudo() -> None:
    text, _ = _read("smart-fail.json")
    d = smartctl.parse(text)
    assert d.error == smartctl.NEEDS_SUDO and d.passed is None
    assert d.device == "/dev/sda"
    assert smartctl.metrics([d]) == {}


def test_scan_lists_devices() -> None:
    text, doc = _read("smartctl_scan_simple.json")
    found = smartctl.scan(text)
    assert found == [(x["name"], x["type"]) for x in doc["devices"]]


def test_garbage_is_a_clear_error() -> None:
    with pytest.raises(ParseError, match="no JSON"):
        smartctl.parse("smartctl 6.6 2016-05-31\n=== START OF INFORMATION SECTION ===\n")
    with pytest.raises(ParseError, match="not smartctl"):
        smartctl.parse("[1, 2]")

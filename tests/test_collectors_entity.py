"""ENTITY-MIB chassis identity read from the real recordings in tests/fixtures/snmp/."""

from __future__ import annotations

from pathlib import Path

from collectors.snmp import entity
from collectors.snmp.walk import parse_snmprec

FIXTURES = Path(__file__).parent / "fixtures" / "snmp"


def _chassis(name: str) -> entity.Chassis | None:
    return entity.parse(parse_snmprec((FIXTURES / f"{name}.snmprec").read_text("utf-8")))


def test_aruba_chassis_row_among_fans_and_sensors() -> None:
    found = _chassis("arubaos-cx")
    assert found is not None
    assert (found.vendor, found.model, found.serial) == ("Aruba", "JL635A", "DEVICESERL")
    assert found.software_rev == "GL.10.04.2000"


def test_qnap_quoted_firmware_is_cleaned() -> None:
    found = _chassis("qnap")
    assert found is not None
    assert (found.model, found.serial, found.firmware_rev) == ("TVS-871U-RP", "Q157I12451", "4.3.3")


def test_agents_without_a_model_or_serial_give_none() -> None:
    # RouterOS lists physical entities with no model, serial or vendor; SwOS has none.
    assert _chassis("routeros") is None
    assert _chassis("swos") is None
    assert entity.parse({}) is None

"""ENTITY-MIB (RFC 6933) chassis identity: model, serial number, firmware, vendor. Pure.

Only the chassis row is read (entPhysicalClass chassis(3), else the first row): what a
device page shows. Columns are walked on the table cadence; the whole entPhysicalTable is
large on modular gear, so only these columns are asked for (``COLUMNS``).
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.snmp.walk import Walk, integer, table, text

ENT_PHYSICAL_ENTRY = (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1)
_CHASSIS = 3
# class, hardware/firmware/software revision, serial, manufacturer, model name.
COLUMNS = tuple((*ENT_PHYSICAL_ENTRY, c) for c in (5, 8, 9, 10, 11, 12, 13))


@dataclass(frozen=True, slots=True)
class Chassis:
    descr: str | None
    model: str | None
    serial: str | None
    vendor: str | None
    hardware_rev: str | None
    firmware_rev: str | None
    software_rev: str | None


def _clean(value: object) -> str | None:
    found = text(value)  # type: ignore[arg-type]
    # Agents fill unknown columns with "", "0" or stray quote/backslash escapes.
    found = found.strip().lstrip('\\"').strip() if found is not None else None
    return found or None


def parse(walk: Walk) -> Chassis | None:
    rows = table(walk, ENT_PHYSICAL_ENTRY)
    if not rows:
        return None
    chassis = [r for r, cols in sorted(rows.items()) if integer(cols.get(5)) == _CHASSIS]
    cols = rows[chassis[0] if chassis else min(rows)]
    found = Chassis(
        descr=_clean(cols.get(2)),
        model=_clean(cols.get(13)),
        serial=_clean(cols.get(11)),
        vendor=_clean(cols.get(12)),
        hardware_rev=_clean(cols.get(8)),
        firmware_rev=_clean(cols.get(9)),
        software_rev=_clean(cols.get(10)),
    )
    return found if any((found.model, found.serial, found.vendor)) else None

"""Temperatures and other sensors: ENTITY-SENSOR-MIB (RFC 3433), LM-SENSORS-MIB, QNAP disks.

ENTITY-SENSOR: value × 10^(3·(scale−9)) ÷ 10^precision, in the type's unit; rows whose
operStatus is not ok(1) are skipped. Labels come from entPhysicalName (else Descr).
LM-SENSORS-MIB (Net-SNMP on Linux with lm-sensors) gives milli-°C. QNAP NAS firmware has
no ENTITY-SENSOR rows; its per-disk temperatures are read from its own MIB: the newer
diskTemperature (integer °C) else the legacy HdTemperature text ``"28 C/82 F"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from collectors.snmp.walk import Walk, integer, table, text
from mirror.model import series_name

ENT_SENSOR_ENTRY = (1, 3, 6, 1, 2, 1, 99, 1, 1, 1)
ENT_PHYSICAL_ENTRY = (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1)
LM_TEMP_ENTRY = (1, 3, 6, 1, 4, 1, 2021, 13, 16, 2, 1)
QNAP_DISK_ENTRY = (1, 3, 6, 1, 4, 1, 24681, 1, 4, 1, 1, 1, 1, 5, 2, 1)
QNAP_HD_ENTRY = (1, 3, 6, 1, 4, 1, 24681, 1, 2, 11, 1)
# entPhysical columns 2 (descr) and 7 (name) only: the rest of that table is large.
ROOTS = (
    ENT_SENSOR_ENTRY,
    (*ENT_PHYSICAL_ENTRY, 2),
    (*ENT_PHYSICAL_ENTRY, 7),
    LM_TEMP_ENTRY,
    QNAP_DISK_ENTRY,
    QNAP_HD_ENTRY,
)

# EntitySensorDataType → (metric, unit scale). Only types with a unit worth a series.
_ENT_METRICS = {8: "temp.celsius", 10: "fan.rpm", 6: "power.watts", 3: "volts_ac", 4: "volts_dc"}
_QNAP_C = re.compile(r"\s*(-?\d+(?:\.\d+)?)\s*C\b")


@dataclass(frozen=True, slots=True)
class Sensor:
    metric: str  # temp.celsius, fan.rpm, power.watts, …
    label: str
    value: float


def parse(walk: Walk) -> list[Sensor]:
    return _entity(walk) + _lm_sensors(walk) + _qnap(walk)


def _entity(walk: Walk) -> list[Sensor]:
    names = table(walk, ENT_PHYSICAL_ENTRY)
    found = []
    for row, cols in sorted(table(walk, ENT_SENSOR_ENTRY).items()):
        kind, scale = integer(cols.get(1)), integer(cols.get(2))
        precision, value, status = integer(cols.get(3)), integer(cols.get(4)), cols.get(5)
        metric = _ENT_METRICS.get(kind or 0)
        if metric is None or value is None or status not in (None, 1):
            continue
        if metric.startswith("volts"):
            metric = "power.volts"
        factor = 10.0 ** (3 * ((scale if scale is not None else 9) - 9) - (precision or 0))
        phys = names.get(row, {})
        label = text(phys.get(7)) or text(phys.get(2)) or ".".join(map(str, row))
        found.append(Sensor(metric, label, value * factor))
    return found


def _lm_sensors(walk: Walk) -> list[Sensor]:
    found = []
    for row, cols in sorted(table(walk, LM_TEMP_ENTRY).items()):
        value = integer(cols.get(3))
        if value is not None:
            label = text(cols.get(2)) or ".".join(map(str, row))
            found.append(Sensor("temp.celsius", label, value / 1000))
    return found


def _qnap(walk: Walk) -> list[Sensor]:
    found = []
    disks = table(walk, QNAP_DISK_ENTRY)
    for row, cols in sorted(disks.items()):
        value = integer(cols.get(6))
        # Empty bays report 0 °C (and no model); keep only disks that are there.
        if value is not None and value > 0:
            found.append(Sensor("temp.celsius", f"disk{'.'.join(map(str, row))}", float(value)))
    if disks:
        return found
    for row, cols in sorted(table(walk, QNAP_HD_ENTRY).items()):
        match = _QNAP_C.match(text(cols.get(3)) or "")
        if match and float(match.group(1)) > 0:
            label = text(cols.get(2)) or f"disk{'.'.join(map(str, row))}"
            found.append(Sensor("temp.celsius", label, float(match.group(1))))
    return found


def metrics(sensors: list[Sensor]) -> dict[str, float]:
    m: dict[str, float] = {}
    for sensor in sensors:
        name = series_name(sensor.metric, sensor.label)
        if name in m:
            name = series_name(sensor.metric, f"{sensor.label}#{len(m)}")
        m[name] = sensor.value
    return m

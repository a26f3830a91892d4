"""Temperatures from the hwmon and thermal sysfs files in a REFLECTOR frame.

Source: ``/sys/class/hwmon/hwmonN/{name,tempK_input,tempK_label}``
(Documentation/hwmon/sysfs-interface.rst) and
``/sys/class/thermal/thermal_zoneN/{type,temp}`` (Documentation/driver-api/thermal),
Linux 2.6.26+. Units: the files hold millidegrees Celsius; ``celsius`` is degrees.

Labels: ``<hwmon name>/<tempK_label, or tempK without a label>`` and
``thermal/<zone type>``. When two chips share a name (two NVMe drives are both
``nvme``), each gets its directory appended, ``nvme@hwmon1/Composite``, so series
stay distinct; hwmon numbers can change across reboots, which is why they are
added only when needed. A file read empty (the sensor answered ENODATA, as iwlwifi
does while the interface is down) is skipped; non-numeric content is a ParseError.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from collectors.linux._util import to_int

_HWMON = re.compile(r"^/sys/class/hwmon/(hwmon\d+)/temp(\d+)_input$")
_THERMAL = re.compile(r"^/sys/class/thermal/(thermal_zone\d+)/temp$")
_HWMON_NAME = re.compile(r"^/sys/class/hwmon/(hwmon\d+)/name$")
_THERMAL_TYPE = re.compile(r"^/sys/class/thermal/(thermal_zone\d+)/type$")
_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True, slots=True)
class Temperature:
    label: str
    celsius: float


def parse(files: Mapping[str, str]) -> list[Temperature]:
    # Runs on every fast poll: precompiled patterns, paths filtered by prefix first.
    sensor_paths = [p for p in files if p.startswith(("/sys/class/hwmon/", "/sys/class/thermal/"))]
    chips = {  # hwmonN -> chip name
        m.group(1): files[p].strip() or m.group(1)
        for p in sensor_paths
        if (m := _HWMON_NAME.match(p))
    }
    zones = {
        m.group(1): files[p].strip() or m.group(1)
        for p in sensor_paths
        if (m := _THERMAL_TYPE.match(p))
    }
    chip_uses, zone_uses = Counter(chips.values()), Counter(zones.values())
    result: list[Temperature] = []
    for path in sorted(sensor_paths, key=_natural):
        if m := _HWMON.match(path):
            value = files[path].strip()
            if not value:
                continue
            hwmon, k = m.groups()
            chip = chips.get(hwmon, hwmon)
            if chip_uses[chip] > 1:
                chip = f"{chip}@{hwmon}"
            label = files.get(f"/sys/class/hwmon/{hwmon}/temp{k}_label", "").strip()
            result.append(Temperature(f"{chip}/{label or 'temp' + k}", _celsius(value, path)))
        elif m := _THERMAL.match(path):
            value = files[path].strip()
            if not value:
                continue
            zone = m.group(1)
            kind = zones.get(zone, zone)
            if zone_uses[kind] > 1:
                kind = f"{kind}@{zone}"
            result.append(Temperature(f"thermal/{kind}", _celsius(value, path)))
    return result


def _celsius(value: str, path: str) -> float:
    return to_int(value, path) / 1000


def _natural(path: str) -> list[object]:
    """hwmon2 before hwmon10, temp2 before temp10."""
    return [int(t) if t.isdigit() else t for t in _DIGITS.split(path)]

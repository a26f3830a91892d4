"""NVIDIA GPUs from ``nvidia-smi --query-gpu=... --format=csv,noheader,nounits``.

Source: ``nvidia-smi`` of the NVIDIA driver (R450 and later; the fields queried
here are stable across drivers), Linux and Windows. One line per GPU with the
fields of ``QUERY_FIELDS``. Units: percent, MiB (converted to bytes), degrees
Celsius, watts. A value the driver cannot give is printed as ``[N/A]``,
``[Not Supported]`` or (MIG, some drivers) ``N/A``; any such value is ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.linux._util import to_float, to_int
from mirror.errors import ParseError

QUERY_FIELDS = (
    "index,name,uuid,utilization.gpu,memory.used,memory.total,"
    "temperature.gpu,power.draw,power.limit"
)
COMMAND = f"nvidia-smi --query-gpu={QUERY_FIELDS} --format=csv,noheader,nounits"
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Gpu:
    index: int
    name: str
    uuid: str
    util_pct: float | None
    mem_used_bytes: int | None
    mem_total_bytes: int | None
    temp_celsius: float | None
    power_watts: float | None
    power_limit_watts: float | None


def parse(text: str) -> list[Gpu]:
    gpus: list[Gpu] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != 9:
            raise ParseError(f"nvidia-smi line has {len(fields)} fields, not 9: {line[:80]!r}")
        index, name, uuid, util, used, total, temp, power, limit = fields
        gpus.append(
            Gpu(
                index=to_int(index, "nvidia-smi index"),
                name=name,
                uuid=uuid,
                util_pct=_number(util, "utilization.gpu"),
                mem_used_bytes=_mib(used, "memory.used"),
                mem_total_bytes=_mib(total, "memory.total"),
                temp_celsius=_number(temp, "temperature.gpu"),
                power_watts=_number(power, "power.draw"),
                power_limit_watts=_number(limit, "power.limit"),
            )
        )
    return gpus


def _number(value: str, what: str) -> float | None:
    if value.startswith("[") or value == "N/A":
        return None
    return to_float(value, f"nvidia-smi {what}")


def _mib(value: str, what: str) -> int | None:
    mib = _number(value, what)
    return None if mib is None else round(mib * MIB)

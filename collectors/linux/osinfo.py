"""Identity of a Linux host: distribution name and CPU model/count.

Sources:
* ``/etc/os-release`` (os-release(5), systemd-era distributions and BusyBox/Alpine):
  ``PRETTY_NAME``, else ``NAME VERSION``. ``parse_os_release``.
* ``/proc/cpuinfo`` (any Linux; the format is per architecture). ``parse_cpuinfo``:
  the model from x86 ``model name``; on ARM, which has none on 64-bit kernels, the
  board ``Model`` (Raspberry Pi), else ``Hardware`` (32-bit SoC name), else the core
  named from ``CPU implementer``/``CPU part``; POWER ``cpu``, MIPS ``cpu model``,
  RISC-V ``uarch``. The count is the number of ``processor`` entries (online
  logical CPUs).
Hostname (``/proc/sys/kernel/hostname``) and kernel (``/proc/sys/kernel/osrelease``)
are single lines and need no parser beyond ``strip``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mirror.errors import ParseError

# ARM Ltd. (implementer 0x41) core part numbers, from the Arm TRMs' MIDR values.
ARM_PARTS = {
    "0xd03": "Cortex-A53",
    "0xd04": "Cortex-A35",
    "0xd05": "Cortex-A55",
    "0xd07": "Cortex-A57",
    "0xd08": "Cortex-A72",
    "0xd09": "Cortex-A73",
    "0xd0a": "Cortex-A75",
    "0xd0b": "Cortex-A76",
    "0xd0c": "Neoverse-N1",
    "0xd40": "Neoverse-V1",
    "0xd49": "Neoverse-N2",
    "0xd4f": "Neoverse-V2",
}


@dataclass(frozen=True, slots=True)
class CpuInfo:
    model: str | None
    count: int


def parse_cpuinfo(text: str) -> CpuInfo:
    first: dict[str, str] = {}
    count = 0
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "processor" and value.isdigit():
            count += 1
        first.setdefault(key, value)
    if count == 0:
        raise ParseError("/proc/cpuinfo has no 'processor' entries")
    for key in ("model name", "Model", "Hardware", "cpu model", "cpu", "uarch"):
        if first.get(key):
            return CpuInfo(first[key], count)
    part = first.get("CPU part")
    if part and first.get("CPU implementer") == "0x41" and part in ARM_PARTS:
        return CpuInfo(f"ARM {ARM_PARTS[part]}", count)
    if part:
        return CpuInfo(f"CPU implementer {first.get('CPU implementer')} part {part}", count)
    return CpuInfo(None, count)


def parse_os_release(text: str) -> str:
    values: dict[str, str] = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Z0-9_]+)=(.*)$", line.strip())
        if m:
            values[m.group(1)] = _unquote(m.group(2))
    if values.get("PRETTY_NAME"):
        return values["PRETTY_NAME"]
    name = " ".join(v for v in (values.get("NAME"), values.get("VERSION")) if v)
    if not name:
        raise ParseError("/etc/os-release has neither PRETTY_NAME nor NAME")
    return name


def _unquote(value: str) -> str:
    """Shell-style quoting as os-release(5) allows: "..." with \\-escapes, or '...'."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r'\\([\\$"`])', r"\1", value[1:-1])
    return value

"""AMD GPUs from ``rocm-smi --showuse --showmemuse --showmeminfo vram --showtemp --showpower
--showmaxpower --showproductname --json`` (ROCm 4.3+).

Source: rocm-smi of ROCm; one object per ``cardN`` (and a ``system`` object), every value a
string. Names moved between releases (``Card Series``/``Card series``, ``Average Graphics
Package Power (W)``/``Current Socket Graphics Package Power (W)``), so each field is looked
up under the names it has had. Units: percent, bytes, degrees Celsius, watts; ``N/A`` is
``None``. The result is the NVIDIA parser's ``Gpu``, so GPU metric names are shared.
"""

from __future__ import annotations

import json
import re

from collectors.linux.nvidia_smi import Gpu
from mirror.errors import ParseError

COMMAND = (
    "rocm-smi --showuse --showmemuse --showmeminfo vram --showtemp --showpower "
    "--showmaxpower --showproductname --showuniqueid --json"
)
_CARD = re.compile(r"^card(\d+)$")
_NAME = ("Card Series", "Card series", "Device Name", "Card SKU")
_TEMP = ("Temperature (Sensor edge) (C)", "Temperature (Sensor junction) (C)")
_POWER = (
    "Average Graphics Package Power (W)",
    "Current Socket Graphics Package Power (W)",
    "Current Socket Power (W)",
)
_LIMIT = ("Max Graphics Package Power (W)",)


def parse(text: str) -> list[Gpu]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ParseError(f"rocm-smi printed no JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ParseError("rocm-smi JSON is not an object of cards")
    gpus = []
    for key, card in doc.items():
        m = _CARD.match(key)
        if m is None or not isinstance(card, dict):
            continue
        gpus.append(
            Gpu(
                index=int(m.group(1)),
                name=_first(card, _NAME) or key,
                uuid=_first(card, ("Unique ID",)) or "",
                util_pct=_number(_first(card, ("GPU use (%)",))),
                mem_used_bytes=_int(_first(card, ("VRAM Total Used Memory (B)",))),
                mem_total_bytes=_int(_first(card, ("VRAM Total Memory (B)",))),
                temp_celsius=_number(_first(card, _TEMP)),
                power_watts=_number(_first(card, _POWER)),
                power_limit_watts=_number(_first(card, _LIMIT)),
            )
        )
    return sorted(gpus, key=lambda g: g.index)


def _first(card: dict[str, object], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = card.get(name)
        if isinstance(value, str) and value.strip() and value.strip() != "N/A":
            return value.strip()
    return None


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise ParseError(f"rocm-smi value {value[:30]!r} is not a number") from None


def _int(value: str | None) -> int | None:
    number = _number(value)
    return None if number is None else int(number)

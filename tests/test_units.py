"""The CLI and the web UI print the same units for the same value.

Sizes and disk rates in IEC binary units (KiB, MiB, …), network rates in decimal bits per
second (kbit/s, Mbit/s). Both formatters are checked against one table,
tests/fixtures/units/cases.json: this file for cli/render.py, web/src/format.test.ts for
web/src/format.ts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.render import human_bits_rate, human_bytes

CASES = json.loads((Path(__file__).parent / "fixtures" / "units" / "cases.json").read_text())


@pytest.mark.parametrize(("value", "text"), CASES["bytes"])
def test_sizes_in_iec_units(value: int, text: str) -> None:
    assert human_bytes(value) == text


@pytest.mark.parametrize(("value", "text"), CASES["bits_per_s_from_bytes"])
def test_network_rates_in_decimal_bits(value: int, text: str) -> None:
    assert human_bits_rate(value) == text


def test_the_web_ui_checks_the_same_table() -> None:
    web_test = Path(__file__).parents[1] / "web" / "src" / "format.test.ts"
    assert "tests/fixtures/units/cases.json" in web_test.read_text()

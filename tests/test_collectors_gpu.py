"""AMD rocm-smi JSON (real, tests/fixtures/gpu/) and the NVIDIA loop's line handling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collectors.gpu import nvidia_loop, rocm_smi
from collectors.linux.sample import SlowSample, slow_metrics
from mirror.errors import ParseError

FIX = Path(__file__).parent / "fixtures"


def test_rocm_smi_of_a_real_radeon() -> None:
    text = (FIX / "gpu" / "rocm-smi-rx6700xt.json").read_text()
    card = json.loads(text)["card0"]
    (gpu,) = rocm_smi.parse(text)
    assert gpu.index == 0 and gpu.name == card["Card Series"]
    assert gpu.util_pct == float(card["GPU use (%)"])
    assert gpu.mem_used_bytes == int(card["VRAM Total Used Memory (B)"])
    assert gpu.mem_total_bytes == int(card["VRAM Total Memory (B)"])
    assert gpu.temp_celsius == float(card["Temperature (Sensor edge) (C)"])
    assert gpu.power_watts == float(card["Average Graphics Package Power (W)"])
    assert gpu.uuid == ""  # "N/A" on this card
    sample = SlowSample(1.0, None, None, None, None, None, None, 100, [], [gpu], {})
    metrics, _ = slow_metrics(None, sample)
    assert metrics["gpu.mem_total_bytes[0]"] == gpu.mem_total_bytes


def test_rocm_smi_garbage() -> None:
    with pytest.raises(ParseError, match="no JSON"):
        rocm_smi.parse("ERROR: GPU[0] : Unable to open /sys/...\n")
    assert rocm_smi.parse('{"system": {"Driver version": "6.3.6"}}') == []


def test_nvidia_loop_keeps_the_newest_line_per_gpu() -> None:
    lines = (FIX / "linux" / "nvidia-gpu-exporter" / "nvidia_smi.rtx-2080-super.out").read_text()
    first = lines.splitlines()[0]
    # Two turns of the loop, then half a line of the third.
    found, tail = nvidia_loop.latest(lines + lines + first[:20])
    assert tail == first[:20]
    assert sorted(found) == sorted({int(line.split(",")[0]) for line in lines.splitlines()})
    found2, tail2 = nvidia_loop.latest(tail + first[20:] + "\n")
    assert tail2 == "" and found2[found[0].index] == found[0]
    assert nvidia_loop.command(1000).endswith("--format=csv,noheader,nounits -lms 1000")
    with pytest.raises(ValueError):
        nvidia_loop.command(10)

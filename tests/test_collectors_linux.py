"""Golden tests of the Linux parsers on real captured output (tests/fixtures/linux).

Each fixture ``<origin>/<kind>[.<variant>].out`` sits beside ``<same>.json``; PARSERS says
which parser reads which kind. ``MIRROR_UPDATE_GOLDEN=1`` rewrites the .json files.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import collectors.linux
from collectors.frame import parse_frame
from collectors.linux import (
    df,
    diskstats,
    loadavg,
    meminfo,
    net_dev,
    nvidia_smi,
    osinfo,
    proc_stat,
    processes,
    sample,
    sensors,
    uptime,
)
from tests.support.frames import split_frames

FIXTURES = Path(__file__).parent / "fixtures" / "linux"


def grep_lines(text: str) -> dict[str, str]:
    """``grep -H .`` output → the path → content mapping a REFLECTOR frame carries."""
    files = {}
    for line in text.splitlines():
        path, _, value = line.partition(":")
        files[path] = value + "\n"
    return files


def frames_golden(data: bytes) -> dict[str, Any]:
    fast_frame, slow_frame = (parse_frame(f) for f in split_frames(data))
    fast, slow = sample.parse_fast(fast_frame), sample.parse_slow(slow_frame)
    slow_series, info = sample.slow_metrics(None, slow)
    return {
        "fast_problems": list(fast.problems),
        "fast_metrics": sample.fast_metrics(None, fast),
        "slow_metrics": slow_series,
        "info": info,
        "process_count": len(slow.processes),
    }


# kind → (module it tests, parser of the fixture's text)
PARSERS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "proc_stat": ("proc_stat", proc_stat.parse),
    "meminfo": ("meminfo", meminfo.parse),
    "loadavg": ("loadavg", loadavg.parse),
    "uptime": ("uptime", uptime.parse),
    "net_dev": ("net_dev", net_dev.parse),
    "diskstats": ("diskstats", diskstats.parse),
    "pid_stat": ("processes", processes.parse),
    "cpuinfo": ("osinfo", osinfo.parse_cpuinfo),
    "os_release": ("osinfo", osinfo.parse_os_release),
    "df": ("df", df.parse),
    "nvidia_smi": ("nvidia_smi", nvidia_smi.parse),
    "sensors": ("sensors", lambda text: sensors.parse(grep_lines(text))),
    "frames": ("sample", frames_golden),
}


def to_json(value: Any) -> Any:
    """Dataclasses and dict keys as JSON has them (int keys become strings)."""
    return json.loads(json.dumps(value, default=dataclasses.asdict))


def fixtures() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".out", ".bin"))


def kind_of(path: Path) -> str:
    return path.name.split(".")[0]


@pytest.mark.parametrize("path", fixtures(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_golden(path: Path) -> None:
    _, parse = PARSERS[kind_of(path)]
    raw = path.read_bytes()
    got = to_json(parse(raw if path.suffix == ".bin" else raw.decode()))
    expected_path = path.with_suffix(".json")
    if os.environ.get("MIRROR_UPDATE_GOLDEN"):
        expected_path.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n")
    assert expected_path.exists(), f"{expected_path.name} missing: run with MIRROR_UPDATE_GOLDEN=1"
    assert got == json.loads(expected_path.read_text())


def test_every_parser_module_has_a_fixture() -> None:
    modules = {m.name for m in pkgutil.iter_modules(collectors.linux.__path__)}
    modules -= {"_util", "kind"}  # kind.py bundles the parsers (collectors/KINDS.md)
    covered = {PARSERS[kind_of(p)][0] for p in fixtures()}
    assert modules - covered == set(), "parser modules without a real captured fixture"


def test_every_fixture_has_a_note() -> None:
    for folder in FIXTURES.iterdir():
        if folder.is_dir():
            assert (folder / "NOTE.md").exists(), f"{folder.name} lacks NOTE.md (origin, licence)"

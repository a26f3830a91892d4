"""The metric catalogue (mirror/metrics_catalogue.py) against what the collectors emit.

Each collector is run on real captures (tests/fixtures) or, for the pure functions whose
inputs are counters, on values shaped like them; every series it names must be catalogued,
so an alert rule can name it and its unit is known.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from collectors.containers import cgroup
from collectors.frame import parse_frame
from collectors.freebsd import kind as freebsd
from collectors.linux.kind import KIND as LINUX
from collectors.macos import kind as macos
from collectors.services import systemd, upkeep
from collectors.smart import smartctl
from collectors.windows import kind as windows
from mirror.metrics_catalogue import CATALOGUE, NAMES, produced_by
from mirror.model import split_series
from poller.icmp import PingResult, ping_metrics
from tests.support.frames import split_frames

FIXTURES = Path(__file__).parent / "fixtures"


def metric_names(series: dict[str, float]) -> set[str]:
    return {split_series(name)[0] for name in series}


def test_golden_outputs_name_only_catalogued_metrics() -> None:
    """The recorded outputs the collectors' golden tests compare with (every host kind,
    SNMP, GPUs)."""
    names: set[str] = set()
    for path in FIXTURES.rglob("*.json"):
        data = json.loads(path.read_text())
        if isinstance(data, dict):
            for key in ("fast_metrics", "slow_metrics", "metrics"):
                if isinstance(data.get(key), dict):
                    names |= metric_names(data[key])
    assert len(names) >= 20
    assert names <= NAMES, sorted(names - NAMES)


def test_the_linux_collector_on_a_captured_reflector_session() -> None:
    capture = (FIXTURES / "linux" / "this-machine" / "frames.bin").read_bytes()
    fast, slow = (parse_frame(f) for f in split_frames(capture))
    collector = LINUX.collector()
    names = metric_names(collector.fast(fast)) | metric_names(collector.slow(slow)[0])
    assert {"load.1", "mem.used_pct", "fs.used_pct"} <= names  # no rates: one fast poll
    assert names <= NAMES, sorted(names - NAMES)
    assert names <= set(LINUX.metrics)


def test_smart_services_containers_and_ping() -> None:
    names: set[str] = set()
    for path in sorted((FIXTURES / "smart").glob("smart-*.json")):
        names |= metric_names(smartctl.metrics([smartctl.parse(path.read_text())]))
    for name in ("centos-7.7-systemctl.out", "ubuntu-18.04-systemctl.out"):
        units = systemd.parse_list((FIXTURES / "services" / name).read_text())
        names |= metric_names(systemd.metrics(units, units[:3]))
    apt = upkeep.parse_apt((FIXTURES / "services" / "apt-get-s-upgrade-debian12.out").read_text())
    names |= metric_names(upkeep.metrics(apt, reboot=True))
    before = cgroup.CgroupCounters(1_000_000, 2**30, 2**31, 4096, 8192)
    after = cgroup.CgroupCounters(3_000_000, 2**30, 2**31, 8192, 16384)
    names |= metric_names(cgroup.metrics({"web": before}, {"web": after}, 5.0))
    names |= metric_names(ping_metrics(PingResult("127.0.0.1", 3, 3, 0.1, 0.2, 0.3, 0.05)))
    assert {"smart.healthy", "services.failed", "updates.pending", "container.cpu_pct"} <= names
    assert {"ping.rtt_avg_ms", "service.up", "reboot.pending"} <= names
    assert names <= NAMES, sorted(names - NAMES)


@pytest.mark.parametrize("kind", [freebsd, macos, windows], ids=lambda k: k.NAME)
def test_each_host_kind_declares_what_the_catalogue_says_it_produces(kind: ModuleType) -> None:
    declared = {split_series(name)[0] for name in kind.METRICS}
    assert declared == set(produced_by(kind.NAME))


def test_the_catalogue_is_consistent() -> None:
    assert len(NAMES) == len(CATALOGUE)  # no name twice
    for metric in CATALOGUE:
        assert metric.sources, metric.name
        assert metric.kind in ("gauge", "rate")
        rate_named = metric.name.endswith("_per_s")
        assert not rate_named or metric.kind == "rate", metric.name

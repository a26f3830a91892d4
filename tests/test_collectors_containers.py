"""cgroup v2 accounting (collectors/containers): a real cpu.stat capture, and this machine's
live cgroup v2 files where it has them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from collectors.containers import cgroup, engines
from mirror.errors import ParseError

FIX = Path(__file__).parent / "fixtures" / "containers"
UNIFIED = [Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup")]


def test_cpu_stat_of_a_real_cgroup() -> None:
    text = (FIX / "cpu.stat").read_text()
    values = cgroup.parse_cpu_stat(text)
    first = dict(line.split() for line in text.splitlines())
    assert values["usage_usec"] == int(first["usage_usec"])
    assert values["usage_usec"] >= values["user_usec"] + values["system_usec"] - 1
    c = cgroup.counters({"cpu.stat": text})
    assert c.mem_bytes is None and c.read_bytes == 0


def _live_root() -> Path:
    for root in UNIFIED:
        if (root / "cpu.stat").exists():
            return root
    pytest.skip("this machine has no cgroup v2 cpu.stat")


def test_live_cpu_rate_of_this_machine() -> None:
    root = _live_root()
    files = ("cpu.stat", "memory.current", "io.stat")

    def read() -> cgroup.CgroupCounters:
        return cgroup.counters({f: (root / f).read_text() for f in files if (root / f).exists()})

    before, t0 = read(), time.monotonic()
    end = time.process_time() + 0.3
    while time.process_time() < end:  # keep one CPU busy for 0.3 s of its own time
        pass
    after, dt = read(), time.monotonic() - t0
    # The root cgroup counts every process: at least the 0.3 s this one spent.
    assert after.cpu_usec - before.cpu_usec >= 290_000
    m = cgroup.metrics({"all": before}, {"all": after}, dt)
    assert m["container.cpu_pct[all]"] == round((after.cpu_usec - before.cpu_usec) / dt / 1e4, 2)


def test_live_memory_and_io_files_where_present() -> None:
    root = _live_root()
    found = [f for f in ("memory.current", "io.stat") if (root / f).exists()]
    if not found:
        pytest.skip(f"{root} has no memory.current or io.stat (no v2 memory/io controller)")
    c = cgroup.counters({f: (root / f).read_text() for f in ("cpu.stat", *found)})
    if "memory.current" in found:
        assert c.mem_bytes is not None and c.mem_bytes > 0


def test_bad_files_say_which() -> None:
    with pytest.raises(ParseError, match="usage_usec"):
        cgroup.parse_cpu_stat("nr_periods 0\n")
    with pytest.raises(ParseError, match="MAJ:MIN"):
        cgroup.parse_io_stat("rbytes=1\n")
    assert cgroup.parse_memory("max\n") is None


def test_engine_ps_lines() -> None:
    # Written here, not captured (no engine runs on the development machine): the format
    # is MIRROR's own --format template, one container a line.
    cid = "0123456789abcdef" * 4
    line = f"{cid}\tweb,proxy/web\trunning\n"
    (c,) = engines.parse_ps("docker", line)
    assert (c.name, c.state) == ("web", "running")
    assert engines.cgroup_dirs(c)[0] == f"/sys/fs/cgroup/system.slice/docker-{cid}.scope"
    with pytest.raises(ParseError, match="docker ps line"):
        engines.parse_ps("docker", "CONTAINER ID   IMAGE\n")

"""FreeBSD kind: parsers on real FreeBSD 12.1 output (tests/fixtures/freebsd/), the program
under real shells, and the Linux metric names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from collectors.bsd import netstat, sysctl
from collectors.bsd.frame_util import swapinfo_used
from collectors.frame import parse_frame
from collectors.freebsd import kind
from mirror.errors import ParseError
from tests.support.frames import command_frame
from tests.support.programs import SHELLS, frame_kinds, shellcheck

FIX = Path(__file__).parent / "fixtures" / "freebsd"
SYSCTL = (FIX / "sysctl-a.out").read_text()
NETSTAT = (FIX / "netstat-ib.out").read_text()


def _value(name: str) -> str:
    m = re.search(rf"^{re.escape(name)}: (.*)$", SYSCTL, re.M)
    assert m is not None, name
    return m.group(1)


BOOT = int(re.search(r"sec = (\d+)", _value("kern.boottime")).group(1))  # type: ignore[union-attr]


def _fast(sysctl_text: str = SYSCTL, since_boot_s: int = 1000) -> bytes:
    # The clock is the test's: no `date +%s` was captured with these outputs.
    return command_frame(
        "s",
        [("sysctl", 0, sysctl_text), ("date", 0, f"{BOOT + since_boot_s}\n"),
         ("netstat", 0, NETSTAT)],
    )  # fmt: skip


def test_fast_sample_from_real_output() -> None:
    s = kind.parse_fast(parse_frame(_fast()))
    assert s.problems == ()
    assert s.uptime_s == pytest.approx(1000 - 0.740932)
    user, _nice, system, intr, idle = (int(v) for v in _value("kern.cp_time").split())
    assert (s.cpu.total.user, s.cpu.total.system, s.cpu.total.irq, s.cpu.total.idle) == (
        user, system, intr, idle,
    )  # fmt: skip
    assert len(s.cpu.cores) == int(_value("hw.ncpu"))
    page = int(_value("vm.stats.vm.v_page_size"))
    assert s.memory.total_bytes == int(_value("vm.stats.vm.v_page_count")) * page
    free = int(_value("vm.stats.vm.v_free_count")) * page
    inactive = int(_value("vm.stats.vm.v_inactive_count")) * page
    assert s.memory.available_bytes == free + inactive  # v_cache_count is 0 here
    assert s.memory.swap_total_bytes == int(_value("vm.swap_total"))
    assert s.load is not None and s.load.load1 == float(_value("vm.loadavg").split()[1])
    em0 = next(line.split() for line in NETSTAT.splitlines() if "<Link#1>" in line)
    assert s.net["em0"].rx_bytes == int(em0[7]) and s.net["em0"].tx_bytes == int(em0[10])
    assert set(s.net) == {"em0", "lo0"}


def test_metrics_keep_the_linux_names() -> None:
    first = kind.parse_fast(parse_frame(_fast()))
    ticks = [int(v) for v in _value("kern.cp_time").split()]
    later = [ticks[0] + 300, ticks[1], ticks[2] + 100, ticks[3], ticks[4] + 600]
    text = SYSCTL.replace(
        f"kern.cp_time: {_value('kern.cp_time')}", "kern.cp_time: " + " ".join(map(str, later))
    )
    second = kind.parse_fast(parse_frame(_fast(text, since_boot_s=1010)))
    m = kind.fast_metrics(first, second)
    assert m["cpu.busy_pct"] == 40.0 and m["cpu.user_pct"] == 30.0
    assert m["cpu.system_pct"] == 10.0
    assert m["mem.total_bytes"] == first.memory.total_bytes
    assert "net.rx_bytes_per_s[em0]" in m and "net.rx_bytes_per_s[lo0]" in m
    assert set(kind.METRICS) >= {"cpu.busy_pct", "mem.used_bytes", "net.rx_bytes_per_s[IF]"}


def test_slow_sample_identity() -> None:
    frame = command_frame("x", [("sysctl", 0, SYSCTL), ("date", 0, f"{BOOT + 50}\n")])
    s = kind.parse_slow(parse_frame(frame))
    assert s.hostname == _value("kern.hostname")
    assert s.os_name == f"FreeBSD {_value('kern.osrelease')}"
    assert s.arch == "amd64" and s.cpu_count == int(_value("hw.ncpu"))
    assert s.cpu_model == _value("hw.model")
    metrics, info = kind.slow_metrics(None, s)
    assert info["hostname"] == s.hostname and metrics == {}


def test_bad_input_says_what() -> None:
    with pytest.raises(ParseError, match="lacks sysctl"):
        kind.parse_fast(parse_frame(command_frame("s", [("date", 0, "1\n")])))
    no_cp = "\n".join(line for line in SYSCTL.splitlines() if not line.startswith("kern.cp_"))
    with pytest.raises(ParseError, match=r"kern\.cp_time"):
        kind.parse_fast(parse_frame(_fast(no_cp)))
    with pytest.raises(ParseError, match="Name Mtu"):
        netstat.parse("garbage\n")
    with pytest.raises(ParseError, match="sysctl"):
        sysctl.parse("")
    with pytest.raises(ParseError, match="Device"):
        swapinfo_used("nothing\n")
    # A broken netstat costs only the network figures.
    s = kind.parse_fast(parse_frame(_fast().replace(b"Name    Mtu", b"Nme     Mtu")))
    assert s.net == {} and "Name Mtu" in s.problems[0]


@pytest.mark.parametrize("shell", list(SHELLS))
def test_program_answers_frames_under_real_shells(shell: str) -> None:
    """Not FreeBSD here: the commands fail or differ, but the framing must hold."""
    assert frame_kinds(shell, kind.program(), b"s\nx\nzz\nq\n") == ["s", "x", "?"]


def test_program_passes_shellcheck() -> None:
    shellcheck(kind.program())


def test_the_registered_kind_reads_freebsd_frames() -> None:
    """collectors.kinds finds FreeBSD; its collector gives rates from the second frame on,
    every series under a metric name the kind declares."""
    from collectors.kinds import KINDS, os_from_uname

    registered = KINDS["freebsd"]
    assert os_from_uname("FreeBSD\n") == "freebsd"
    assert registered.program.startswith("export LC_ALL=C") or "run()" in registered.program
    collector = registered.collector()
    collector.fast(parse_frame(_fast()))
    ticks = [int(v) + 100 for v in _value("kern.cp_time").split()]
    text = SYSCTL.replace(
        f"kern.cp_time: {_value('kern.cp_time')}", "kern.cp_time: " + " ".join(map(str, ticks))
    )
    metrics = collector.fast(parse_frame(_fast(text, since_boot_s=1010)))
    assert "cpu.busy_pct" in metrics
    assert {name.split("[", 1)[0] for name in metrics} <= set(registered.metrics)

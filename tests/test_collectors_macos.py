"""macOS kind: parsers on real macOS output (tests/fixtures/macos/), the program under real
shells, and the Linux metric names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from collectors.bsd import df, netstat
from collectors.frame import parse_frame
from collectors.macos import kind, top, vm_stat
from mirror.errors import ParseError
from tests.support.frames import command_frame
from tests.support.programs import SHELLS, frame_kinds, shellcheck

FIX = Path(__file__).parent / "fixtures" / "macos"
SYSCTL = (FIX / "sysctl-a.out").read_text()
VM_STAT = (FIX / "vm_stat.out").read_text()
NETSTAT = (FIX / "netstat-ibdn.out").read_text()
BOOT = int(re.search(r"^kern.boottime: \{ sec = (\d+)", SYSCTL, re.M).group(1))  # type: ignore[union-attr]
# Written here, not captured: no real `top -l` capture was found (see fixtures README).
TOP_WRITTEN = "CPU usage: 12.50% user, 7.50% sys, 80.0% idle \n"


def _sysctl(name: str) -> str:
    m = re.search(rf"^{re.escape(name)}: (.*)$", SYSCTL, re.M)
    assert m is not None, name
    return m.group(1)


def _pages(name: str) -> int:
    m = re.search(rf"^{name}:\s+(\d+)\.$", VM_STAT, re.M)
    assert m is not None, name
    return int(m.group(1)) * 4096


def _fast(since_boot_s: int = 600, top_text: str | None = TOP_WRITTEN) -> bytes:
    sections = [
        ("sysctl", 0, SYSCTL), ("date", 0, f"{BOOT + since_boot_s}\n"),
        ("vm_stat", 0, VM_STAT), ("netstat", 0, NETSTAT),
    ]  # fmt: skip
    if top_text is not None:
        sections.append(("top", 0, top_text))
    return command_frame("s", sections)


def test_memory_from_real_sysctl_and_vm_stat() -> None:
    s = kind.parse_fast(parse_frame(_fast()))
    mem = s.base.memory
    assert mem.total_bytes == int(_sysctl("hw.memsize"))
    expected = _pages("Pages free") + _pages("Pages inactive") + _pages("Pages speculative")
    assert mem.available_bytes == expected
    assert mem.cached_bytes == _pages("File-backed pages")
    # vm.swapusage: total = 3072.00M  used = 2513.50M
    assert mem.swap_total_bytes == 3072 * 1024**2
    assert mem.swap_total_bytes - mem.swap_free_bytes == round(2513.5 * 1024**2)
    assert s.base.load is not None and s.base.load.load15 == 2.24
    assert s.base.uptime_s == pytest.approx(600 - 0.918881)


def test_netstat_link_rows_of_real_macos_output() -> None:
    net = netstat.parse(NETSTAT)
    assert set(net) == {"lo0", "gif0", "stf0", "en0"}
    assert net["en0"].rx_bytes == 7295722068 and net["en0"].tx_bytes == 379533492
    assert net["en0"].tx_drops == 230
    # Names cut to 5 characters: each link keeps its own counters.
    cut = netstat.parse((FIX / "netstat-ibdn-truncated.out").read_text())
    assert [k for k in cut if k.startswith("utun8")] == [
        "utun8", "utun8#90", "utun8#92", "utun8#93", "utun8#95",
    ]  # fmt: skip
    assert cut["utun8#90"].rx_bytes == 29554


def test_df_of_real_macos_keeps_real_volumes() -> None:
    found = {fs.mount: fs for fs in df.parse((FIX / "df.out").read_text())}
    # devfs, automounter maps, the swap volume and the Time Machine snapshot are dropped.
    assert set(found) == {"/", "/Volumes/InstallESD", "/Volumes/brazil"}
    assert found["/"].size_bytes == 976490576 * 512
    assert found["/Volumes/brazil"].device.startswith("//brazil@")


def test_vm_stat_and_top_reject_garbage() -> None:
    with pytest.raises(ParseError, match="page size"):
        vm_stat.parse("Pages free: 1.\n")
    with pytest.raises(ParseError, match="CPU usage"):
        top.parse("Processes: 1 total\n")
    # The last sample is kept (the first of a run counts from boot).
    assert top.parse("CPU usage: 1.0% user, 1.0% sys, 98.0% idle\n" + TOP_WRITTEN).idle_pct == 80


def test_metrics_keep_the_linux_names() -> None:
    first = kind.parse_fast(parse_frame(_fast()))
    second = kind.parse_fast(parse_frame(_fast(since_boot_s=610)))
    m = kind.fast_metrics(first, second)
    assert m["cpu.busy_pct"] == 20.0 and m["cpu.user_pct"] == 12.5
    assert m["mem.total_bytes"] == int(_sysctl("hw.memsize"))
    assert m["net.rx_bytes_per_s[en0]"] == 0.0  # same capture twice: no traffic
    assert not any(k.startswith("cpu.busy_pct[") for k in m)  # no per-core figures
    # No top output: the rest of the sample stands, the reason is kept.
    s = kind.parse_fast(parse_frame(_fast(top_text="garbage\n")))
    assert s.cpu is None and "CPU usage" in s.base.problems[0]
    assert "cpu.busy_pct" not in kind.fast_metrics(None, s)


def test_slow_sample_identity() -> None:
    frame = command_frame(
        "x",
        [("sysctl", 0, SYSCTL), ("date", 0, f"{BOOT + 5}\n"),
         ("df", 0, (FIX / "df.out").read_text())],
    )  # fmt: skip
    s = kind.parse_slow(parse_frame(frame))
    assert s.hostname == _sysctl("kern.hostname")
    assert s.os_name == f"macOS {_sysctl('kern.osproductversion')}"
    assert s.cpu_model == _sysctl("machdep.cpu.brand_string")
    metrics, info = kind.slow_metrics(None, s)
    assert "fs.used_pct[/]" in metrics and info["cpu_count"] == int(_sysctl("hw.ncpu"))


@pytest.mark.parametrize("shell", list(SHELLS))
def test_program_answers_frames_under_real_shells(shell: str) -> None:
    """Not macOS here: the commands fail or differ, but the framing must hold."""
    assert frame_kinds(shell, kind.program(), b"s\nx\nq\n") == ["s", "x"]


def test_program_passes_shellcheck() -> None:
    shellcheck(kind.program())

"""ICMP: socket-mode detection, pinging and sweeping loopback, and `mirror sweep`.

Outside a namespace every 127.x address answers; "down" addresses come from a network
namespace the test makes (tests/support/netns.py). Nothing leaves loopback.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from pathlib import Path

import icmplib
import pytest

from mirror.errors import MirrorError
from poller.icmp import (
    IcmpMode,
    PingResult,
    arrival_time,
    detect_icmp,
    explain_no_icmp,
    ping_many,
    ping_metrics,
    ping_one,
    summarise,
    sweep,
)
from tests.support.netns import python, run_in_netns

DETECT = "from poller.icmp import detect_icmp; a = detect_icmp(); print(a.mode); print(a.message)"


def test_summary_and_series() -> None:
    result = summarise("127.0.0.1", 3, [1.0, 3.0, 2.0])
    assert (result.rtt_min_ms, result.rtt_avg_ms, result.rtt_max_ms) == (1.0, 2.0, 3.0)
    assert result.jitter_ms == 1.5 and result.loss_pct == 0.0 and result.up
    assert ping_metrics(result) == {
        "ping.up": 1.0,
        "ping.loss_pct": 0.0,
        "ping.rtt_min_ms": 1.0,
        "ping.rtt_avg_ms": 2.0,
        "ping.rtt_max_ms": 3.0,
        "ping.jitter_ms": 1.5,
    }
    lossy = summarise("127.0.0.1", 4, [2.0])
    assert lossy.loss_pct == 75.0 and lossy.jitter_ms == 0.0
    down = PingResult("127.0.0.9", 3, 0)
    assert ping_metrics(down) == {"ping.up": 0.0, "ping.loss_pct": 100.0}
    assert PingResult("x", 0, 0, error="bad").loss_pct == 100.0


def test_detection_prefers_raw_then_ping_sockets() -> None:
    tried: list[bool] = []

    def only_unprivileged(privileged: bool) -> None:
        tried.append(privileged)
        if privileged:
            raise PermissionError("Operation not permitted")

    access = detect_icmp(only_unprivileged, lambda: "0 2147483647", [1000])
    assert tried == [True, False]
    assert access.mode is IcmpMode.UNPRIVILEGED and access.usable and not access.privileged


def test_no_icmp_says_what_to_change() -> None:
    def refuse(privileged: bool) -> None:
        raise PermissionError("no")

    access = detect_icmp(refuse, lambda: "1\t0", [1000])
    assert access.mode is IcmpMode.NONE and not access.usable
    assert access.message == explain_no_icmp("1 0", [1000])
    assert access.message == (
        "ICMP is not available to this process: raw ICMP sockets need root or CAP_NET_RAW, "
        'and unprivileged ICMP sockets are off (net.ipv4.ping_group_range = "1 0" does not '
        'include group 1000). Allow them with `sysctl -w net.ipv4.ping_group_range="0 '
        '2147483647"` (persist it in /etc/sysctl.d/), or give EGO CAP_NET_RAW (systemd: '
        "AmbientCapabilities=CAP_NET_RAW). Until then hosts are polled over SSH only and no "
        "subnet is swept."
    )
    assert "any of 0, 27" in explain_no_icmp(None, [0, 27])
    assert "= unreadable" in explain_no_icmp(None, [0])


@pytest.mark.parametrize(
    ("unprivileged", "drop_net_raw", "mode"),
    [
        (False, False, "privileged"),
        (True, True, "unprivileged"),  # ping_group_range opened inside the namespace
        (False, True, "none"),  # a fresh namespace has the kernel default "1 0"
    ],
)
def test_detection_for_real(unprivileged: bool, drop_net_raw: bool, mode: str) -> None:
    done = run_in_netns(
        python("-c", DETECT),
        answering=[],
        subnet="127.77.0.0/24",
        unprivileged=unprivileged,
        drop_net_raw=drop_net_raw,
    )
    assert done.returncode == 0, done.stderr
    got_mode, message = done.stdout.splitlines()
    assert got_mode == mode
    if mode == "none":
        assert 'net.ipv4.ping_group_range = "1 0"' in message and "CAP_NET_RAW" in message


@pytest.fixture(scope="module")
def privileged() -> bool:
    access = detect_icmp()
    if not access.usable:
        pytest.skip(access.message)
    return access.privileged


async def test_sweep_of_a_loopback_slash24_all_answer(privileged: bool) -> None:
    result = await sweep(ipaddress.ip_network("127.77.0.0/24"), privileged=privileged)
    assert len(result.results) == 254 and len(result.answering) == 254
    assert [r.address for r in result.results][:2] == ["127.77.0.1", "127.77.0.2"]
    assert all(r.rtt_avg_ms is not None and r.rtt_avg_ms >= 0 for r in result.answering)
    assert result.duration_s < 0.9  # nothing waited for a timeout


async def test_ping_many_counts_echoes_and_never_raises(
    privileged: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok, other = await ping_many(
        ["127.0.0.1", "127.0.0.2"], privileged=privileged, count=3, interval_s=0.01
    )
    assert ok.sent == 3 and ok.received == 3 and ok.jitter_ms is not None and other.up

    def refused(*args: object, **kwargs: object) -> None:
        raise icmplib.SocketPermissionError(privileged)

    monkeypatch.setattr(icmplib, "ICMPv4Socket", refused)
    [failed] = await ping_many(["127.0.0.1"], privileged=privileged)
    assert not failed.up and failed.sent == 0 and failed.error


async def test_ping_many_with_a_raw_socket_opens_one_a_round(
    privileged: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not privileged:
        pytest.skip("ping sockets: the kernel gives each its own replies")
    opened = []
    raw = icmplib.ICMPv4Socket

    def counted(*args: object, **kwargs: object) -> icmplib.ICMPv4Socket:
        opened.append(kwargs)
        return raw(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(icmplib, "ICMPv4Socket", counted)
    targets = [f"127.77.0.{i}" for i in range(1, 255)]
    results = await ping_many(targets, privileged=True, count=3, interval_s=0.01)
    assert [r.address for r in results] == targets
    assert all(r.sent == 3 and r.received == 3 and r.jitter_ms is not None for r in results)
    assert len(opened) == 3  # one socket a round, not one an address


def test_mirror_sweep_in_a_namespace_bounds_dead_addresses(tmp_path: Path) -> None:
    answering = ["127.77.0.1", "127.77.0.5", "127.77.0.200"]
    done = run_in_netns(
        python(
            "-m", "cli", "sweep", "127.77.0.0/24", "--json", "-i", str(tmp_path / "absent.yaml")
        ),
        answering=answering,
        subnet="127.77.0.0/24",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    [only] = report["sweeps"]
    assert [f["address"] for f in only["found"]] == answering
    assert only["addresses"] == 254
    assert 0.9 < only["duration_s"] < 1.5  # 251 dead addresses cost one 1 s timeout


def test_mirror_sweep_unprivileged_in_a_namespace() -> None:
    done = run_in_netns(
        python("-m", "cli", "sweep", "127.77.0.0/28", "--json", "--timeout", "0.3"),
        answering=["127.77.0.3"],
        subnet="127.77.0.0/24",
        unprivileged=True,
        drop_net_raw=True,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["icmp"] == "unprivileged"
    assert [f["address"] for f in report["sweeps"][0]["found"]] == ["127.77.0.3"]


def test_mirror_sweep_without_icmp_says_what_to_change() -> None:
    done = run_in_netns(
        python("-m", "cli", "sweep", "127.77.0.0/28"),
        answering=[],
        subnet="127.77.0.0/24",
        drop_net_raw=True,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("mirror: ICMP is not available to this process")
    assert "Traceback" not in done.stderr


def test_mirror_sweep_table_with_reverse_dns_of_loopback(
    capsys: pytest.CaptureFixture[str], privileged: bool, tmp_path
) -> None:
    from cli.main import main

    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "subnets: [{name: lo, cidr: 127.0.0.0/30}]\n"
        "hosts: [{name: ego, address: 127.0.0.1, local: true}]\n"
    )
    assert main(["sweep", "lo", "-i", str(inventory)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["ADDRESS", "RTT", "ms", "MAC", "REVERSE", "DNS", "INVENTORY"]
    assert out[1].split()[0] == "127.0.0.1" and out[1].split()[3:] == ["localhost", "ego"]
    assert out[2].split()[0] == "127.0.0.2" and out[2].split()[-1] == "(new)"
    assert out[-1].startswith("127.0.0.0/30: 2 of 2 addresses answered in ")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sweep", "10.0.0.0/8"], "10.0.0.0/8 has 16777216 addresses; a sweep takes at most 4096"),
        (["sweep", "lab"], "'lab' is neither a network like 10.0.0.0/24 nor an inventory subnet"),
    ],
)
def test_mirror_sweep_refuses_with_a_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    from cli.main import main

    assert main([*argv, "-i", str(tmp_path / "none.yaml")]) == 1
    assert message in capsys.readouterr().err
    assert issubclass(MirrorError, Exception)


def _hog_loop(seconds: float) -> asyncio.Task[None]:
    """A task that blocks the event loop once, right after the pings' first echoes went out."""

    async def hog() -> None:
        time.sleep(seconds)  # on purpose: the loop stalls while the replies arrive

    return asyncio.create_task(hog())


@pytest.mark.parametrize("targets", [["127.0.0.1"], [f"127.77.1.{i}" for i in range(1, 255)]])
async def test_rtt_is_the_kernels_not_the_event_loops(privileged: bool, targets: list[str]) -> None:
    # Before, a reply was timed when the loop got to it: a 50 ms stall read as a 50 ms RTT.
    pinging = asyncio.create_task(ping_many(targets, privileged=privileged, count=2))
    await asyncio.sleep(0)  # the ping task sends its first echoes
    await _hog_loop(0.05)
    results = await pinging
    assert all(r.received == 2 for r in results)
    worst = max(r.rtt_max_ms or 0.0 for r in results)
    assert 0.0 <= worst < 5.0, f"loopback RTT read as {worst:.1f} ms under a 50 ms loop stall"


async def test_single_ping_rtt_survives_a_stalled_loop(privileged: bool) -> None:
    pinging = asyncio.create_task(ping_one("127.0.0.1", privileged=privileged, count=1))
    await asyncio.sleep(0)
    await _hog_loop(0.05)
    result = await pinging
    assert result.up and result.rtt_max_ms is not None and result.rtt_max_ms < 5.0


STALLED_PING = """
import asyncio, time
from poller.icmp import detect_icmp, ping_one

async def main():
    detect_icmp()  # as EGO does at start, a while before its first ping
    await asyncio.sleep(0.2)
    pinging = asyncio.create_task(ping_one("127.77.0.3", privileged=False, count=2))
    await asyncio.sleep(0)
    time.sleep(0.05)  # the loop stalls while the reply arrives
    result = await pinging
    print(result.received, result.rtt_max_ms)

asyncio.run(main())
"""


def test_ping_socket_rtt_survives_a_stalled_loop() -> None:
    done = run_in_netns(
        python("-c", STALLED_PING),
        answering=["127.77.0.3"],
        subnet="127.77.0.0/24",
        unprivileged=True,
        drop_net_raw=True,
    )
    assert done.returncode == 0, done.stderr
    received, rtt_max_ms = done.stdout.split()
    assert received == "2" and float(rtt_max_ms) < 5.0


def test_arrival_time_reads_the_kernel_stamp_or_falls_back() -> None:
    import socket
    import struct

    stamp = struct.pack("@ll", 1_700_000_000, 250_000_000)
    assert arrival_time([(socket.SOL_SOCKET, 35, stamp)], 1.0) == 1_700_000_000.25
    assert arrival_time([(socket.SOL_SOCKET, 35, stamp[:4])], 1.0) == 1.0  # truncated
    assert arrival_time([], 2.5) == 2.5

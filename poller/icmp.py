"""ICMP echo with icmplib: which kind of socket this process may use, and pinging many addresses.

Two ways to send ICMP on Linux: a raw socket (root or CAP_NET_RAW; icmplib's
``privileged=True``) or an unprivileged "ping socket" (``SOCK_DGRAM``/``IPPROTO_ICMP``;
allowed only to the groups in ``net.ipv4.ping_group_range``). ``detect_icmp`` tries both
once at start, as Home Assistant's ping integration does, and when neither works says
exactly what to change.

Every ping here has a deadline and never raises: an address that cannot be pinged (a name
that does not resolve, a route the kernel refuses) is a result with ``error`` set.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import os
import resource
import socket
import struct
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network

import icmplib
from icmplib.utils import unique_identifier

PING_GROUP_RANGE = "/proc/sys/net/ipv4/ping_group_range"
MAX_CONCURRENCY = 1024  # each ping in flight holds a socket (a file descriptor)


class IcmpMode(StrEnum):
    PRIVILEGED = "privileged"  # raw socket
    UNPRIVILEGED = "unprivileged"  # ping socket, via ping_group_range
    NONE = "none"


@dataclass(frozen=True, slots=True)
class IcmpAccess:
    mode: IcmpMode
    message: str  # what was found, and what to change when mode is NONE

    @property
    def usable(self) -> bool:
        return self.mode is not IcmpMode.NONE

    @property
    def privileged(self) -> bool:
        return self.mode is IcmpMode.PRIVILEGED


def _open_socket(privileged: bool) -> None:
    icmplib.ICMPv4Socket(privileged=privileged).close()


def _read_range(path: str = PING_GROUP_RANGE) -> str | None:
    try:
        with open(path, encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return None


def detect_icmp(
    open_socket: Callable[[bool], None] = _open_socket,
    read_range: Callable[[], str | None] = _read_range,
    groups: Sequence[int] | None = None,
) -> IcmpAccess:
    """Try a raw socket, then a ping socket; say which one works, or what to change."""
    errors: list[str] = []
    for mode in (IcmpMode.PRIVILEGED, IcmpMode.UNPRIVILEGED):
        try:
            open_socket(mode is IcmpMode.PRIVILEGED)
        except (icmplib.ICMPLibError, OSError) as exc:
            errors.append(f"{mode}: {exc}")
            continue
        keep_kernel_timestamps()  # well before the first ping (see there)
        how = (
            "raw ICMP sockets (root or CAP_NET_RAW)"
            if mode is IcmpMode.PRIVILEGED
            else "unprivileged ICMP sockets (net.ipv4.ping_group_range)"
        )
        return IcmpAccess(mode, f"ICMP: using {how}")
    gids = list(groups) if groups is not None else sorted({os.getgid(), *os.getgroups()})
    return IcmpAccess(IcmpMode.NONE, explain_no_icmp(read_range(), gids))


def explain_no_icmp(range_text: str | None, gids: Sequence[int]) -> str:
    """What to change when neither a raw nor a ping socket may be opened (pure)."""
    allowed = "unreadable"
    if range_text is not None:
        allowed = f'"{" ".join(range_text.split())}"'
    group = gids[0] if len(gids) == 1 else f"any of {', '.join(map(str, gids))}"
    return (
        "ICMP is not available to this process: raw ICMP sockets need root or CAP_NET_RAW, "
        f"and unprivileged ICMP sockets are off (net.ipv4.ping_group_range = {allowed} does "
        f"not include group {group}). Allow them with "
        '`sysctl -w net.ipv4.ping_group_range="0 2147483647"` (persist it in '
        "/etc/sysctl.d/), or give EGO CAP_NET_RAW (systemd: AmbientCapabilities=CAP_NET_RAW). "
        "Until then hosts are polled over SSH only and no subnet is swept."
    )


@dataclass(frozen=True, slots=True)
class PingResult:
    address: str
    sent: int
    received: int
    rtt_min_ms: float | None = None
    rtt_avg_ms: float | None = None
    rtt_max_ms: float | None = None
    jitter_ms: float | None = None  # mean |difference| of consecutive RTTs (RFC 3550-ish)
    error: str | None = None  # why no echo could be sent at all

    @property
    def up(self) -> bool:
        return self.received > 0

    @property
    def loss_pct(self) -> float:
        return 100.0 if self.sent == 0 else 100.0 * (self.sent - self.received) / self.sent


def summarise(address: str, sent: int, rtts_ms: Sequence[float]) -> PingResult:
    """RTTs of the echoes that came back → one result (pure)."""
    if not rtts_ms:
        return PingResult(address, sent, 0)
    deltas = [abs(a - b) for a, b in itertools.pairwise(rtts_ms)]
    return PingResult(
        address,
        sent,
        len(rtts_ms),
        rtt_min_ms=min(rtts_ms),
        rtt_avg_ms=sum(rtts_ms) / len(rtts_ms),
        rtt_max_ms=max(rtts_ms),
        jitter_ms=sum(deltas) / len(deltas) if deltas else 0.0,
    )


def ping_metrics(result: PingResult) -> dict[str, float]:
    """Series of one result (names in mirror.model). Down: only ``ping.up`` and loss."""
    metrics = {"ping.up": 1.0 if result.up else 0.0, "ping.loss_pct": result.loss_pct}
    if result.up:
        metrics |= {
            "ping.rtt_min_ms": float(result.rtt_min_ms or 0.0),
            "ping.rtt_avg_ms": float(result.rtt_avg_ms or 0.0),
            "ping.rtt_max_ms": float(result.rtt_max_ms or 0.0),
            "ping.jitter_ms": float(result.jitter_ms or 0.0),
        }
    return metrics


async def ping_one(
    address: str,
    *,
    privileged: bool,
    count: int = 1,
    interval_s: float = 0.2,
    timeout_s: float = 1.0,
) -> PingResult:
    """Ping ``address`` ``count`` times; never raises, never takes much over count × timeout."""
    rtts: list[float] = []
    sent = 0
    try:
        target = address
        if not _is_ip(target):
            target = (await icmplib.async_resolve(address))[0]
        socket_class = icmplib.ICMPv6Socket if ":" in target else icmplib.ICMPv4Socket
        with socket_class(privileged=privileged) as icmp:
            ident = unique_identifier()
            waiting: dict[int, asyncio.Future[float | None]] = {}

            def on_reply(reply: icmplib.ICMPReply) -> None:
                answer = waiting.get(reply.sequence)
                if answer is None or answer.done() or reply.id != request.id:
                    return  # someone else's echo, a late one, or our own request on loopback
                try:
                    reply.raise_for_status()
                except icmplib.ICMPError:
                    answer.set_result(None)  # unreachable, TTL exceeded: a lost echo
                    return
                answer.set_result(reply.time)

            with _ReplyReader(icmp, on_reply):
                for sequence in range(count):
                    if sequence:
                        await asyncio.sleep(interval_s)
                    request = icmplib.ICMPRequest(destination=target, id=ident, sequence=sequence)
                    answer = waiting[sequence] = asyncio.get_running_loop().create_future()
                    try:
                        icmp.send(request)  # stamps request.time right before sendto
                    except icmplib.ICMPSocketError as exc:
                        if sent == 0:
                            return PingResult(address, 0, 0, error=str(exc))
                        continue
                    sent += 1
                    try:
                        arrived = await asyncio.wait_for(answer, timeout_s)
                    except TimeoutError:
                        continue
                    if arrived is not None:
                        rtts.append(_rtt_ms(request.time, arrived))
    except (icmplib.ICMPLibError, OSError) as exc:
        return PingResult(address, sent, len(rtts), error=str(exc) or type(exc).__name__)
    return summarise(address, sent, rtts)


async def ping_many(
    addresses: Iterable[str],
    *,
    privileged: bool,
    count: int = 1,
    interval_s: float = 0.2,
    timeout_s: float = 1.0,
    concurrency: int | None = None,
) -> list[PingResult]:
    """Ping every address at once (up to ``concurrency`` sockets), results in the given order."""
    targets = list(addresses)
    if privileged and targets and all(_is_ip(a) and ":" not in a for a in targets):
        return await echo_rounds_raw(
            targets, count=count, interval_s=interval_s, timeout_s=timeout_s
        )
    limit = max(1, concurrency or default_concurrency())
    gate = asyncio.Semaphore(limit)

    async def one(address: str) -> PingResult:
        async with gate:
            return await ping_one(
                address,
                privileged=privileged,
                count=count,
                interval_s=interval_s,
                timeout_s=timeout_s,
            )

    return list(await asyncio.gather(*(one(a) for a in targets)))


def default_concurrency() -> int:
    """Half the file descriptors this process may open, at most ``MAX_CONCURRENCY``."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONCURRENCY
    return max(16, min(MAX_CONCURRENCY, soft // 2))


def sweep_targets(network: IPv4Network | IPv6Network) -> list[str]:
    """The addresses a sweep pings: every usable host address (a /31 or /32: all of them)."""
    return [str(a) for a in network.hosts()]


@dataclass(frozen=True, slots=True)
class SweepResult:
    network: str
    results: list[PingResult]
    started: float  # unix seconds
    duration_s: float

    @property
    def answering(self) -> list[PingResult]:
        return [r for r in self.results if r.up]


async def sweep(
    network: IPv4Network | IPv6Network,
    *,
    privileged: bool,
    timeout_s: float = 1.0,
    count: int = 1,
    concurrency: int | None = None,
) -> SweepResult:
    """One echo to every address of ``network``; dead addresses cost one ``timeout_s``."""
    started, t0 = time.time(), time.perf_counter()
    targets = sweep_targets(network)
    if privileged and count == 1 and network.version == 4:
        results = await echo_once_raw(targets, timeout_s=timeout_s)
    else:
        results = await ping_many(
            targets,
            privileged=privileged,
            count=count,
            timeout_s=timeout_s,
            concurrency=concurrency,
        )
    return SweepResult(str(network), results, started, time.perf_counter() - t0)


async def echo_rounds_raw(
    targets: Sequence[str], *, count: int, interval_s: float, timeout_s: float
) -> list[PingResult]:
    """``count`` rounds of :func:`echo_once_raw`, ``interval_s`` apart, summed per address.

    With a raw socket per address the kernel hands every reply to every open socket, and each
    parses it: the inventory's 254 addresses × 3 echoes took 40 % of EGO's event loop (py-spy
    on ``mirror demo --hosts 253``), delaying the live stream. One socket parses each reply once.
    """
    rounds = []
    for i in range(max(1, count)):
        if i:
            await asyncio.sleep(interval_s)
        rounds.append(await echo_once_raw(targets, timeout_s=timeout_s))
    out = []
    for address, results in zip(targets, zip(*rounds, strict=True), strict=True):
        sent = sum(r.sent for r in results)
        errors = [r.error for r in results if r.error]
        if sent == 0 and errors:
            out.append(PingResult(address, 0, 0, error=errors[0]))
            continue
        rtts = [r.rtt_avg_ms for r in results if r.received and r.rtt_avg_ms is not None]
        out.append(summarise(address, sent, rtts))
    return out


_ECHO_REPLY_V4 = 0
_RAW_RCVBUF_BYTES = 4 << 20
_SEND_BURST = 16


async def echo_once_raw(targets: Sequence[str], *, timeout_s: float = 1.0) -> list[PingResult]:
    """One echo to each IPv4 address from a single raw socket (as fping), replies by sequence.

    With a raw socket per address, the kernel copies every reply to every open raw ICMP
    socket: a /24 then costs ~140 ms instead of ~10 ms here. All requests go out first and
    the replies are awaited until ``timeout_s`` after the last one, so dead addresses cost
    one timeout in all, not one each.
    """
    results: list[PingResult | None] = [None] * len(targets)
    for start in range(0, len(targets), 65536):  # the sequence number is 16 bits
        chunk = targets[start : start + 65536]
        results[start : start + len(chunk)] = await _echo_chunk(chunk, timeout_s)
    return [r for r in results if r is not None]


async def _echo_chunk(targets: Sequence[str], timeout_s: float) -> list[PingResult]:
    sent_at: dict[int, float] = {}
    rtts: dict[int, float] = {}
    errors: dict[int, str] = {}
    try:
        raw = icmplib.ICMPv4Socket(privileged=True)
    except (icmplib.ICMPLibError, OSError) as exc:
        return [PingResult(a, 0, 0, error=str(exc)) for a in targets]
    ident = unique_identifier()
    all_answered = asyncio.Event()

    def on_reply(reply: icmplib.ICMPReply) -> None:
        seq = reply.sequence
        if reply.id != ident or reply.type != _ECHO_REPLY_V4 or seq not in sent_at:
            return  # someone else's ping, our own request seen on loopback, an error
        rtts.setdefault(seq, _rtt_ms(sent_at[seq], reply.time))
        if len(rtts) == len(sent_at) == len(targets) - len(errors):
            all_answered.set()

    with raw, _ReplyReader(raw, on_reply):
        raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RAW_RCVBUF_BYTES)
        for seq, address in enumerate(targets):
            request = icmplib.ICMPRequest(destination=address, id=ident, sequence=seq)
            try:
                raw.send(request)  # stamps request.time right before sendto
            except (icmplib.ICMPLibError, OSError) as exc:
                errors[seq] = str(exc) or type(exc).__name__
                continue
            sent_at[seq] = request.time
            if seq % _SEND_BURST == _SEND_BURST - 1:
                await asyncio.sleep(0)  # let the reader drain the socket buffer
        if len(rtts) == len(sent_at):
            all_answered.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_answered.wait(), timeout_s)
    out = []
    for seq, address in enumerate(targets):
        if seq in errors:
            out.append(PingResult(address, 0, 0, error=errors[seq]))
        elif seq in rtts:
            out.append(summarise(address, 1, [rtts[seq]]))
        else:
            out.append(PingResult(address, 1, 0))
    return out


# Linux's SO_TIMESTAMPNS (asm-generic/socket.h; Python's socket module does not name it). With
# it the kernel stamps each datagram as it arrives, so an RTT no longer includes however long
# the event loop took to get to the reply: loopback read 10–20 ms on a busy EGO (issue 5).
_SO_TIMESTAMPNS = 35
_TIMESPEC = struct.Struct("@ll")  # struct timespec: tv_sec, tv_nsec as C longs
_ANCILLARY_BYTES = socket.CMSG_SPACE(_TIMESPEC.size)
_DRAIN_BATCH = 512  # packets read per wake-up, so a flood of ICMP cannot starve the loop


def _stamp_arrivals(sock: socket.socket) -> bool:
    """Ask the kernel to timestamp received datagrams; False where it cannot (non-Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    keep_kernel_timestamps()
    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    except OSError:
        return False
    return True


_TIMESTAMP_KEEPER: list[socket.socket] = []  # at most one, open for the process's life


def keep_kernel_timestamps() -> None:
    """Hold one (unbound, silent) socket with receive timestamps on, from EGO's start.

    Linux stamps arriving packets only while some socket on the host asks for it, and turns
    that on from a work queue when the first one asks (``net_enable_timestamp`` in
    net/core/dev.c): a reply that came in before the work ran is stamped when it is read,
    and a loaded loop then added 50 ms to an RTT again (the full test suite). Each ping round
    opens a new socket; this one keeps the stamps on between rounds.
    """
    if _TIMESTAMP_KEEPER or not sys.platform.startswith("linux"):
        return
    keeper = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        keeper.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    except OSError:
        keeper.close()
        return
    _TIMESTAMP_KEEPER.append(keeper)


def arrival_time(ancdata: Iterable[tuple[int, int, bytes]], fallback: float) -> float:
    """The kernel's receive time (unix seconds) from ``recvmsg`` ancillary data, else fallback."""
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            seconds, nanoseconds = _TIMESPEC.unpack_from(data)
            return seconds + nanoseconds / 1e9
    return fallback


def _rtt_ms(sent: float, arrived: float) -> float:
    # Both are CLOCK_REALTIME (time.time() and the kernel stamp); a clock step in between
    # must not yield a negative RTT.
    return max(0.0, (arrived - sent) * 1000)


class _ReplyReader:
    """Reads every packet on an ICMP socket as soon as the loop is free, timed by the kernel.

    Each parsed reply goes to ``on_reply`` with ``time`` set to when the kernel received it
    (``SO_TIMESTAMPNS``), or, where that is unavailable, to when it was read.
    """

    def __init__(
        self, icmp: icmplib.ICMPSocket, on_reply: Callable[[icmplib.ICMPReply], None]
    ) -> None:
        self._icmp = icmp
        self._sock: socket.socket = icmp.sock
        self._on_reply = on_reply
        self._loop = asyncio.get_running_loop()
        self._sock.setblocking(False)
        _stamp_arrivals(self._sock)

    def __enter__(self) -> _ReplyReader:
        self._loop.add_reader(self._sock.fileno(), self._drain)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._loop.remove_reader(self._sock.fileno())

    def _drain(self) -> None:
        for _ in range(_DRAIN_BATCH):
            try:
                packet, ancdata, _flags, source = self._sock.recvmsg(1024, _ANCILLARY_BYTES)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # a socket error is reported once; that echo counts as lost
            arrived = arrival_time(ancdata, time.time())
            # icmplib's own parser, so raw and ping sockets (IP header or not) read the same.
            reply = self._icmp._parse_reply(packet, source[0], arrived)
            if reply is not None:
                self._on_reply(reply)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True

"""The SNMP poll loop: one loop per device, each request with its own timeout (pysnmp 7).

``SnmpPoller.poll`` never raises; a device that does not answer, refuses the credentials
or sends nonsense gets a state (``timeout``, ``auth-failed``, ``error``) and its loop goes
on with a backoff, as ``poller.host.HostPoller`` does for SSH hosts. Results are the same
``PollResult`` (``Snapshot`` + ``PollStatus``), so the writer, store and live stream take
them unchanged. pysnmp is imported only here: ``map_indication`` is the one place its
errors become ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pyasn1.type import univ
from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    usm3DESEDEPrivProtocol,
    usmAesBlumenthalCfb192Protocol,
    usmAesBlumenthalCfb256Protocol,
    usmAesCfb128Protocol,
    usmDESPrivProtocol,
    usmHMAC128SHA224AuthProtocol,
    usmHMAC192SHA256AuthProtocol,
    usmHMAC256SHA384AuthProtocol,
    usmHMAC384SHA512AuthProtocol,
    usmHMACMD5AuthProtocol,
    usmHMACSHAAuthProtocol,
    usmNoPrivProtocol,
)
from pysnmp.hlapi.v3arch.asyncio.lcd import CommandGeneratorLcdConfigurator
from pysnmp.proto import errind, rfc1902, rfc1905

from collectors.snmp import device as snmp_device
from collectors.snmp import system
from collectors.snmp.interfaces import Interface
from collectors.snmp.walk import Oid, Value
from mirror.errors import AuthFailed, CollectError, ParseError, Timeout
from mirror.inventory import SnmpDevice, resolve_secret
from mirror.inventory.diff import Plan, same_snmp_loop
from mirror.model import HostState, PollStatus, Snapshot
from poller.health import PollResult, TargetHealth, classify
from poller.scheduler import LoopPool, every

log = logging.getLogger(__name__)

AUTH_PROTOCOLS = {
    "MD5": usmHMACMD5AuthProtocol,
    "SHA": usmHMACSHAAuthProtocol,
    "SHA224": usmHMAC128SHA224AuthProtocol,
    "SHA256": usmHMAC192SHA256AuthProtocol,
    "SHA384": usmHMAC256SHA384AuthProtocol,
    "SHA512": usmHMAC384SHA512AuthProtocol,
}
PRIV_PROTOCOLS = {
    "DES": usmDESPrivProtocol,
    "3DES": usm3DESEDEPrivProtocol,
    "AES": usmAesCfb128Protocol,
    # Net-SNMP and most vendors key AES-192/256 the Blumenthal way (draft-blumenthal-aes-usm).
    "AES192": usmAesBlumenthalCfb192Protocol,
    "AES256": usmAesBlumenthalCfb256Protocol,
}
# Varbinds asked per GETBULK: columns × repetitions stays near this, so a response fits
# what small agents send (snmpsim answers at most ~64; RFC 3416 lets agents return fewer).
VARBINDS_PER_REQUEST = 60
MAX_REQUESTS_PER_WALK = 2000
TABLE_POLL_DEADLINE_S = 60.0

_AUTH_INDICATIONS = (
    errind.UnknownUserName,
    errind.WrongDigest,
    errind.AuthenticationFailure,
    errind.AuthenticationError,
    errind.DecryptionError,
    errind.UnknownSecurityName,
    errind.UnsupportedSecurityLevel,
    errind.UnknownCommunityName,
)
_ABSENT = (rfc1905.NoSuchObject, rfc1905.NoSuchInstance, rfc1905.EndOfMibView)


def map_indication(indication: object, where: str) -> CollectError:
    """pysnmp's errorIndication → our error tree (what the device's state becomes)."""
    if isinstance(indication, errind.RequestTimedOut):
        return Timeout(f"no SNMP answer from {where} (down, filtered, or wrong community)")
    if isinstance(indication, _AUTH_INDICATIONS):
        return AuthFailed(f"SNMP credentials refused by {where}: {indication}")
    return CollectError(f"SNMP error from {where}: {indication}")


def convert(value: Any) -> Value | None:
    """A pysnmp value as a walk value (see ``collectors.snmp.walk``); absences give None."""
    if isinstance(value, _ABSENT):
        return None
    if isinstance(value, rfc1902.IpAddress):
        return ".".join(str(b) for b in value.asOctets())
    # pyasn1's base types: a response's OIDs decode as plain univ.ObjectIdentifier, and
    # Counter32/64, Gauge32, TimeTicks are univ.Integer subclasses.
    if isinstance(value, univ.Integer):
        return int(value)
    if isinstance(value, univ.OctetString):
        return bytes(value.asOctets())
    if isinstance(value, univ.ObjectIdentifier):
        return ".".join(map(str, value.asTuple()))
    return None


def auth_data(device: SnmpDevice, env: Mapping[str, str] | None = None) -> Any:
    """pysnmp credentials, with the secrets read now from their references."""
    if device.version == "2c":
        assert device.community is not None
        return CommunityData(resolve_secret(device.community, "community", env), mpModel=1)
    assert device.user is not None and device.auth is not None
    priv_key = resolve_secret(device.priv, "priv", env) if device.priv else None
    return UsmUserData(
        device.user,
        authKey=resolve_secret(device.auth, "auth", env),
        privKey=priv_key,
        authProtocol=AUTH_PROTOCOLS[device.auth_protocol],
        privProtocol=PRIV_PROTOCOLS[device.priv_protocol] if priv_key else usmNoPrivProtocol,
    )


# pysnmp's high-level get_cmd/bulk_cmd resolve every OID against a MIB tree on each call
# (~15 % of a poll's CPU); these OIDs are numeric already, so the command generators are
# driven directly, with the target configured once per session.
_LCD = CommandGeneratorLcdConfigurator()
_GET = cmdgen.GetCommandGenerator()
_BULK = cmdgen.BulkCommandGenerator()
_NULL = rfc1902.Null("")


class SnmpSession:
    """GET and multi-column GETBULK walks against one device."""

    def __init__(self, engine: SnmpEngine, device: SnmpDevice, auth: Any, target: Any) -> None:
        self._engine = engine
        self._device = device
        self._where = f"{device.address}:{device.port}"
        self._target_name, _ = _LCD.configure(engine, auth, target, b"")
        self.requests = 0

    async def _send(self, oids: Sequence[Oid], repetitions: int | None) -> list[tuple[Any, Any]]:
        future: asyncio.Future[list[tuple[Any, Any]]] = asyncio.get_running_loop().create_future()

        def done(
            _engine: Any, _handle: Any, indication: Any, status: Any, index: Any, vbs: Any, _: Any
        ) -> None:
            if future.cancelled():
                return
            try:
                self._check(indication, status, index)
            except CollectError as exc:
                future.set_exception(exc)
            else:
                future.set_result(list(vbs))

        varbinds = [(rfc1902.ObjectName(o), _NULL) for o in oids]
        self.requests += 1
        if repetitions is None:
            _GET.send_varbinds(self._engine, self._target_name, None, b"", varbinds, done)
        else:
            _BULK.send_varbinds(
                self._engine, self._target_name, None, b"", 0, repetitions, varbinds, done
            )
        return await future

    @classmethod
    async def open(
        cls, engine: SnmpEngine, device: SnmpDevice, env: Mapping[str, str] | None = None
    ) -> SnmpSession:
        auth = auth_data(device, env)
        try:
            target = await UdpTransportTarget.create(
                (device.address, device.port), timeout=device.timeout_s, retries=device.retries
            )
        except Exception as exc:  # pysnmp wraps resolution failures in its own error
            raise CollectError(f"cannot reach {device.address}:{device.port}: {exc}") from None
        return cls(engine, device, auth, target)

    async def get(self, oids: Sequence[Oid]) -> dict[Oid, Value]:
        varbinds = await self._send(oids, None)
        found: dict[Oid, Value] = {}
        for name, value in varbinds:
            converted = convert(value)
            if converted is not None:
                found[tuple(name)] = converted
        return found

    async def walk(self, columns: Sequence[Oid]) -> dict[Oid, Value]:
        """Walk several columns (or subtrees) in lockstep with GETBULK (RFC 3416 4.2.3).

        Each column leaves the walk when the agent answers past its subtree, with
        endOfMibView, or with an OID that does not increase (a broken agent would loop).
        """
        cursor: dict[Oid, Oid] = {c: c for c in columns}
        active = list(dict.fromkeys(columns))
        found: dict[Oid, Value] = {}
        for _ in range(MAX_REQUESTS_PER_WALK):
            if not active:
                return found
            repetitions = max(1, VARBINDS_PER_REQUEST // len(active))
            varbinds = await self._send([cursor[c] for c in active], repetitions)
            if not varbinds:
                return found
            ended: set[Oid] = set()
            width = len(active)
            for i, (name, value) in enumerate(varbinds):
                column = active[i % width]
                if column in ended:
                    continue
                key = tuple(name)
                if (
                    key[: len(column)] != column
                    or key <= cursor[column]
                    or isinstance(value, rfc1905.EndOfMibView)
                ):
                    ended.add(column)
                    continue
                cursor[column] = key
                converted = convert(value)
                if converted is not None:
                    found[key] = converted
            active = [c for c in active if c not in ended]
        raise ParseError(f"{self._where}: walk did not end after {MAX_REQUESTS_PER_WALK} requests")

    def _check(self, indication: object, status: Any, index: object) -> None:
        if indication:
            raise map_indication(indication, self._where)
        if status and int(status):  # pysnmp's errorStatus: an untyped pyasn1 Integer
            text = status.prettyPrint() if hasattr(status, "prettyPrint") else str(status)
            raise CollectError(f"{self._where} answered {text} (at varbind {index})")


class SnmpPoller:
    """Everything EGO keeps about one SNMP device between polls."""

    def __init__(
        self,
        device: SnmpDevice,
        engine: SnmpEngine,
        *,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.device = device
        self.name = device.name
        self.interval_s = device.interval_s
        self._engine = engine
        self._env = env
        self._clock = clock
        self._session: SnmpSession | None = None
        self._table_walk: dict[Oid, Value] = {}
        self._with_32bit = True  # until a walk shows every interface has ifHC* counters
        self._next_table_at = 0.0
        self._prev: tuple[float, float | None, list[Interface]] | None = None
        self.health = TargetHealth(self.name, "snmp", self.interval_s, clock=clock)

    @property
    def state(self) -> HostState:
        return self.health.state

    @property
    def last_error(self) -> str | None:
        return self.health.last_error

    def due(self, now_monotonic: float | None = None) -> bool:
        return self.health.due(now_monotonic)

    def force_table_poll(self) -> None:
        self._next_table_at = 0.0

    async def poll(self) -> PollResult:
        started = self._clock()
        table_due = started >= self._next_table_at
        deadline = max(self.device.interval_s, self.device.timeout_s * (self.device.retries + 1))
        if table_due:
            deadline = max(deadline, TABLE_POLL_DEADLINE_S)
        try:
            async with asyncio.timeout(deadline):
                snapshot = await self._sample(started, table_due)
        except Exception as exc:  # every failure is a state, never a dead loop
            error = classify(exc, deadline)
            self._session = None
            self._prev = None
            self._next_table_at = 0.0
            return self._failed(error, started)
        return self._succeeded(snapshot, started)

    async def close(self) -> None:
        self._session = None

    async def _sample(self, started: float, table_due: bool) -> Snapshot:
        if self._session is None:
            self._session = await SnmpSession.open(self._engine, self.device, self._env)
        session = self._session
        walk = await session.get(snmp_device.SCALARS)
        uptime = system.parse(walk).uptime_s
        if table_due:
            self._table_walk = await session.walk(snmp_device.TABLE_COLUMNS)
        fast = await session.walk(snmp_device.fast_columns(self._with_32bit))
        now = self._clock()
        merged = {**self._table_walk, **fast, **walk}
        self._with_32bit = snmp_device.needs_32bit_octets(merged)
        dt_s = None
        prev_ifaces = None
        if self._prev is not None:
            prev_at, prev_uptime, prev_ifaces = self._prev
            dt_s = now - prev_at
            if system.rebooted(prev_uptime, uptime, dt_s):
                log.info("%s: restarted (uptime went back); rates skip this interval", self.name)
                dt_s = None
        metrics, ifaces, sysinfo = snmp_device.metrics(prev_ifaces, merged, dt_s)
        self._prev = (now, uptime, ifaces)
        info: dict[str, Any] = {}
        if table_due:
            info = snmp_device.info(merged, ifaces, sysinfo)
            self._next_table_at = started + self.device.table_interval_s
        return Snapshot(self.name, time.time(), metrics, info)

    def _succeeded(self, snapshot: Snapshot, started: float) -> PollResult:
        change = self.health.succeeded()
        duration_ms = (self._clock() - started) * 1000
        status = PollStatus(self.name, HostState.UP, snapshot.ts, None, duration_ms)
        return PollResult(snapshot, status, change)

    def _failed(self, error: CollectError, started: float) -> PollResult:
        # A wrong v3 key fills the device's log (and may lock it): AuthFailed backs off slowly.
        change = self.health.failed(error)
        duration_ms = (self._clock() - started) * 1000
        status = PollStatus(
            self.name, self.health.state, time.time(), self.health.last_error, duration_ms
        )
        return PollResult(None, status, change)


class SnmpScheduler(LoopPool[SnmpDevice, SnmpPoller]):
    """One loop per device on its own stable offset (as ``poller.scheduler.Scheduler``)."""

    task_prefix = "snmp"

    def __init__(
        self,
        devices: Iterable[SnmpDevice],
        on_result: Callable[[PollResult], None],
        *,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.engine = SnmpEngine()
        self._env = env
        self._on_result = on_result
        self.polls = 0
        super().__init__(devices)

    async def reconcile(self, devices: Iterable[SnmpDevice]) -> Plan:
        """Start, stop and restart device loops by diff (``LoopPool.sync``): a device keeps
        its loop unless more than its groups, tags or MAC changed."""
        return await self.sync(devices)

    async def stop(self) -> None:
        await self._stop_all()
        with contextlib.suppress(Exception):  # nothing was ever sent: no dispatcher to close
            self.engine.close_dispatcher()

    def _new(self, device: SnmpDevice) -> SnmpPoller:
        return SnmpPoller(device, self.engine, env=self._env)

    def _target(self, poller: SnmpPoller) -> SnmpDevice:
        return poller.device

    def _retarget(self, poller: SnmpPoller, device: SnmpDevice) -> None:
        poller.device = device  # groups, tags or MAC only

    def _same_loop(self, a: SnmpDevice, b: SnmpDevice) -> bool:
        return same_snmp_loop(a, b)

    async def _loop(self, poller: SnmpPoller) -> None:
        async def step(_slot: float) -> None:
            result = await poller.poll()
            self.polls += 1
            self._on_result(result)

        await every(poller.name, poller.interval_s, step, due=poller.due)


async def poll_twice(device: SnmpDevice, env: Mapping[str, str] | None = None) -> PollResult:
    """``mirror poll --host DEVICE``: a table poll, then one second later a poll with rates.

    The answer carries the first poll's info (tables) with the second poll's series.
    """
    engine = SnmpEngine()
    poller = SnmpPoller(device, engine, env=env)
    try:
        first = await poller.poll()
        if first.snapshot is None:
            return first
        await asyncio.sleep(1.0)
        second = await poller.poll()
        if second.snapshot is None:
            return second
        snapshot = Snapshot(
            second.snapshot.host, second.snapshot.ts, second.snapshot.metrics, first.snapshot.info
        )
        return PollResult(snapshot, second.status)
    finally:
        await poller.close()
        with contextlib.suppress(Exception):
            engine.close_dispatcher()

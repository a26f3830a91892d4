"""Control routes: commands, actions, the web terminal, tunnels, and the audit log.

Every route here needs the ``operator`` or ``admin`` role, and a token needs the
``operate`` scope (a ``read`` token may not open a terminal either, though a WebSocket is
a GET). Each use is written to the audit log (``record``) before it happens. The API does
not talk SSH: it calls the ``CommandRunner`` that ``mirror serve`` hands ``create_app``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncGenerator
from dataclasses import asdict
from typing import Any, TypeVar

import anyio
import msgspec
from litestar import Controller, Request, WebSocket, delete, get, post, websocket
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException, WebSocketDisconnect
from litestar.handlers import websocket_stream
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED

from api.access import LiveAccess
from api.errors import ApiError, BadRequest, NotFound
from api.jobs import Job, JobBoard
from api.proxies import request_address
from mirror.audit import AuditLog
from mirror.auth import Identity
from mirror.control.actions import ActionError, inventory_actions, offered_to, render
from mirror.control.keystrokes import KeystrokeRecorder
from mirror.control.model import (
    DEFAULT_CAP_BYTES,
    DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT_S,
    MAX_TIMEOUT_S,
    CommandRequest,
    CommandRunner,
)
from mirror.control.targets import select_hosts
from mirror.control.tunnel_rules import (
    TunnelRequestError,
    allowed_networks,
    check_destination,
    check_ports,
)
from mirror.errors import MirrorError
from mirror.inventory import Inventory

TERMINAL_IDLE_S = 15 * 60.0
MAX_COMMAND_CHARS = 16_384


class Unavailable(ApiError):
    status_code = 503


def require_operate(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """operator or admin; through a token, only one with the ``operate`` scope."""
    identity = connection.scope.get("user")
    if not isinstance(identity, Identity) or identity.role not in ("operator", "admin"):
        raise PermissionDeniedException("needs role operator or admin")
    if identity.via == "token" and identity.scope != "operate":
        raise PermissionDeniedException("this token's scope is 'read': it cannot operate hosts")


def identity_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Identity:
    identity = connection.scope.get("user")
    assert isinstance(identity, Identity)  # the middleware put it there
    return identity


async def record(
    connection: ASGIConnection[Any, Any, Any, Any],
    action: str,
    target: str | None,
    detail: dict[str, Any] | None = None,
    result: str | None = None,
) -> None:
    """Write one audit entry for the connection's user (from a worker thread: the log is
    synchronous SQLAlchemy)."""
    who = identity_of(connection)
    log: AuditLog = connection.app.state["audit"]
    await anyio.to_thread.run_sync(log.record, who.name, who.via, action, target, detail, result)


def audited(action: str) -> Any:
    """A guard that writes ``action`` on the route's host to the audit log (e.g. WoL)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        await record(connection, action, connection.path_params.get("name"), None, "requested")

    return guard


class CommandBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    command: str
    hosts: list[str] = []
    groups: list[str] = []
    timeout_s: float = DEFAULT_TIMEOUT_S
    sudo: bool = False
    cap_bytes: int = DEFAULT_CAP_BYTES
    concurrency: int = DEFAULT_CONCURRENCY


class ActionBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    params: dict[str, str | int] = {}
    confirm: bool = False
    timeout_s: float = DEFAULT_TIMEOUT_S


class TunnelBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    host: str
    port: int
    to: str = "localhost"
    listen_port: int = 0
    # Who may connect to the tunnel: addresses or networks; default, the opener's address.
    allowed_from: list[str] = []


T = TypeVar("T")


def _serving(value: T | None) -> T:
    """The runner or the job board; both are None when no poller runs (``mirror api``)."""
    if value is None:
        raise Unavailable("commands need the poller's connections: run `mirror serve`")
    return value


def _check_limits(timeout_s: float, cap_bytes: int, concurrency: int) -> None:
    if not 0 < timeout_s <= MAX_TIMEOUT_S:
        raise BadRequest(f"timeout_s must be > 0 and at most {MAX_TIMEOUT_S:g}")
    if not 16 <= cap_bytes <= 16 * 1024 * 1024:
        raise BadRequest("cap_bytes must be 16 bytes to 16 MiB")
    if not 1 <= concurrency <= 1024:
        raise BadRequest("concurrency must be 1-1024")


class ControlController(Controller):
    path = "/api"
    tags = ["control"]  # noqa: RUF012 - Litestar reads this class attribute as is
    guards = [require_operate]  # noqa: RUF012

    @post("/commands", status_code=HTTP_202_ACCEPTED)
    async def run_command(
        self,
        request: Request[Identity, Any, Any],
        data: JSONBody[CommandBody],
        inventory: NamedDependency[Inventory],
        jobs: NamedDependency[JobBoard | None],
        access: NamedDependency[LiveAccess],
    ) -> dict[str, Any]:
        """Start a command on hosts and/or groups; follow it at ``/api/commands/{id}/stream``."""
        board = _serving(jobs)
        if not data.command.strip() or len(data.command) > MAX_COMMAND_CHARS:
            raise BadRequest(f"command must be 1-{MAX_COMMAND_CHARS} characters")
        _check_limits(data.timeout_s, data.cap_bytes, data.concurrency)
        try:
            hosts = select_hosts(inventory.hosts_resolved(), data.hosts, data.groups)
        except MirrorError as exc:
            raise BadRequest(str(exc)) from None
        job_request = CommandRequest(
            data.command, hosts, data.timeout_s, data.sudo, data.cap_bytes, data.concurrency
        )
        who = request.user
        detail = {"command": data.command}
        job = await board.start(job_request, who.name, who.via, "command", detail)
        _hold_job(access, who, job)
        return job.as_dict()

    @get("/commands/{job_id:str}")
    async def command_status(
        self, job_id: FromPath[str], jobs: NamedDependency[JobBoard | None]
    ) -> dict[str, Any]:
        job = _serving(jobs).get(job_id)
        if job is None:
            raise NotFound(f"no command run {job_id!r} (kept while EGO runs)")
        return job.as_dict()

    @post("/commands/{job_id:str}/cancel", status_code=200)
    async def cancel_command(
        self,
        request: Request[Identity, Any, Any],
        job_id: FromPath[str],
        jobs: NamedDependency[JobBoard | None],
    ) -> dict[str, Any]:
        job = _serving(jobs).get(job_id)
        if job is None:
            raise NotFound(f"no command run {job_id!r}")
        job.cancel.cancel(f"cancelled by {request.user.name}")
        hosts = ",".join(job.request.hosts)
        await record(request, "command.cancel", hosts, {"run_id": job.id}, "requested")
        return {"id": job.id, "cancelled": True}

    @get("/hosts/{name:str}/actions")
    async def host_actions(
        self, name: FromPath[str], inventory: NamedDependency[Inventory]
    ) -> list[dict[str, Any]]:
        """The named actions offered on this host, with their parameters' kinds."""
        host = _host(inventory, name)
        actions = inventory_actions(inventory.actions)
        return [a.as_dict() for a in offered_to(host.groups, actions)]

    @post("/hosts/{name:str}/actions/{action:str}", status_code=HTTP_202_ACCEPTED)
    async def run_action(
        self,
        request: Request[Identity, Any, Any],
        name: FromPath[str],
        action: FromPath[str],
        data: JSONBody[ActionBody],
        inventory: NamedDependency[Inventory],
        jobs: NamedDependency[JobBoard | None],
        access: NamedDependency[LiveAccess],
    ) -> dict[str, Any]:
        board = _serving(jobs)
        host = _host(inventory, name)
        offered = {a.name: a for a in offered_to(host.groups, inventory_actions(inventory.actions))}
        spec = offered.get(action)
        if spec is None:
            raise NotFound(f"no action {action!r} on {name} (offered: {', '.join(offered)})")
        _check_limits(data.timeout_s, DEFAULT_CAP_BYTES, 1)
        try:
            command = render(spec, data.params, confirmed=data.confirm)
        except ActionError as exc:
            raise BadRequest(str(exc)) from None
        job_request = CommandRequest(command, (name,), data.timeout_s, spec.sudo)
        detail = {"action": spec.name, "params": data.params, "command": command}
        who = request.user
        job = await board.start(job_request, who.name, who.via, f"action:{spec.name}", detail)
        _hold_job(access, who, job)
        return job.as_dict()

    @get("/tunnels")
    async def list_tunnels(
        self, runner: NamedDependency[CommandRunner | None]
    ) -> list[dict[str, Any]]:
        """Open tunnels, then the recently closed ones with why they closed."""
        return [asdict(t) for t in _serving(runner).tunnels()]

    @post("/tunnels", status_code=201)
    async def open_tunnel(
        self,
        request: Request[Identity, Any, Any],
        data: JSONBody[TunnelBody],
        runner: NamedDependency[CommandRunner | None],
        inventory: NamedDependency[Inventory],
        access: NamedDependency[LiveAccess],
    ) -> dict[str, Any]:
        control = _serving(runner)
        _host(inventory, data.host)
        try:
            check_ports(data.port, data.listen_port)
            to = check_destination(data.to)
            allowed = allowed_networks(data.allowed_from, request_address(request))
        except TunnelRequestError as exc:
            raise BadRequest(str(exc)) from None
        detail = {"port": data.port, "to": to, "listen_port": data.listen_port}
        detail["allowed_from"] = list(allowed)
        await record(request, "tunnel.open", data.host, detail, "requested")
        try:
            info = await control.open_tunnel(
                data.host, data.port, to, data.listen_port, request.user.name, allowed
            )
        except MirrorError as exc:
            raise BadRequest(f"{data.host}: {exc}") from None

        async def stop(reason: str) -> None:
            await control.close_tunnel(info.id, reason)

        access.hold(request.user, "tunnel", stop)
        return asdict(info)

    @delete("/tunnels/{tunnel_id:str}", status_code=200)
    async def close_tunnel(
        self,
        request: Request[Identity, Any, Any],
        tunnel_id: FromPath[str],
        runner: NamedDependency[CommandRunner | None],
    ) -> dict[str, Any]:
        info = await _serving(runner).close_tunnel(tunnel_id, f"closed by {request.user.name}")
        if info is None:
            raise NotFound(f"no open tunnel {tunnel_id!r}")
        detail = {"tunnel": info.id, "port": info.dest_port}
        detail |= {"bytes_to_host": info.bytes_to_host, "bytes_from_host": info.bytes_from_host}
        await record(request, "tunnel.close", info.host, detail, f"{info.connections} connections")
        return asdict(info)

    @get("/audit", sync_to_thread=True)
    def audit_list(
        self,
        audit: NamedDependency[AuditLog],
        actor: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
        target: FromQuery[str | None] = None,
        limit: FromQuery[int] = 100,
    ) -> list[dict[str, Any]]:
        """Newest first; ``action`` is a prefix (``auth.``), ``target`` a substring."""
        entries = audit.entries(
            actor=actor, action=action, target=target, limit=max(1, min(limit, 1000))
        )
        return [asdict(e) for e in entries]

    @get("/audit/verify", sync_to_thread=True)
    def audit_verify(self, audit: NamedDependency[AuditLog]) -> dict[str, Any]:
        report = audit.verify()
        return {
            "ok": report.ok,
            "checked": report.checked,
            "head_hash": report.head_hash,
            "broken_id": report.broken_id,
            "reason": report.reason,
            "text": report.text(),
        }


def _hold_job(access: LiveAccess, who: Identity, job: Job) -> None:
    """A run is cancelled when its starter's access ends (disabled, logged out, …)."""
    held = access.hold(who, "command", job.cancel.cancel)
    if job.task is not None:
        job.task.add_done_callback(lambda _: access.release(held))


async def _until_ended(
    messages: AsyncGenerator[dict[str, Any], None], ended: asyncio.Event
) -> AsyncGenerator[dict[str, Any], None]:
    """``messages`` until they end or ``ended`` is set, whichever is first."""
    stop = asyncio.create_task(ended.wait())
    try:
        while True:
            following = asyncio.ensure_future(anext(messages))
            await asyncio.wait([following, stop], return_when=asyncio.FIRST_COMPLETED)
            if not following.done():
                following.cancel()
                await asyncio.gather(following, return_exceptions=True)
                return
            try:
                yield following.result()
            except StopAsyncIteration:
                return
    finally:
        stop.cancel()
        await messages.aclose()


def _host(inventory: Inventory, name: str) -> Any:
    host = next((h for h in inventory.hosts_resolved() if h.name == name), None)
    if host is None:
        raise NotFound(f"unknown host {name!r}")
    return host


@websocket_stream("/api/commands/{job_id:str}/stream", guards=[require_operate])
async def command_stream(
    socket: WebSocket[Identity, Any, Any],
    job_id: FromPath[str],
    jobs: NamedDependency[JobBoard | None],
    access: NamedDependency[LiveAccess],
) -> AsyncGenerator[dict[str, Any], None]:
    """Output as it comes (``{"type": "output", host, stream, text}``), then ``done``; or
    ``{"type": "ended", "reason"}`` when the watcher's access ends first."""
    board = _serving(jobs)
    job = board.get(job_id)
    if job is None:
        yield {"type": "error", "error": f"no command run {job_id!r}"}
        return
    ended, why = asyncio.Event(), []

    def stop(reason: str) -> None:
        why.append(reason)
        ended.set()

    held = access.hold(identity_of(socket), "command stream", stop)
    try:
        async for message in _until_ended(board.stream(job), ended):
            yield message
        if why:
            yield {"type": "ended", "reason": why[0]}
    finally:
        access.release(held)


@websocket("/api/hosts/{name:str}/terminal", guards=[require_operate])
async def terminal(
    socket: WebSocket[Identity, Any, Any],
    name: FromPath[str],
    runner: NamedDependency[CommandRunner | None],
    inventory: NamedDependency[Inventory],
    audit: NamedDependency[AuditLog],
    access: NamedDependency[LiveAccess],
    cols: FromQuery[int] = 80,
    rows: FromQuery[int] = 24,
) -> None:
    """A login shell on a PTY. Client → server: ``{"type": "input", "data": …}`` or
    ``{"type": "resize", "cols": …, "rows": …}``; server → client: the terminal's output
    as text frames. Start and end are audited; what is typed only with
    ``MIRROR_AUDIT_KEYSTROKES=1`` (``terminal.input`` entries, lines the host echoed)."""
    await socket.accept()
    if runner is None or name not in {h.name for h in inventory.hosts_resolved()}:
        refusal = "terminals need `mirror serve`" if runner is None else f"unknown host {name!r}"
        await socket.close(code=4404, reason=refusal)
        return
    cols, rows = max(10, min(cols, 500)), max(2, min(rows, 200))
    await record(socket, "terminal.start", name, {"cols": cols, "rows": rows}, "open")
    started, sent, result = time.monotonic(), 0, "closed by the user"
    # Held from before the shell opens: access withdrawn meanwhile ends it at once.
    ended, why = asyncio.Event(), []

    def stop(reason: str) -> None:
        why.append(reason)
        ended.set()

    held = access.hold(identity_of(socket), "terminal", stop)
    try:
        session = await runner.open_terminal(name, cols, rows)
    except MirrorError as exc:
        access.release(held)
        await socket.send_text(f"\r\n[mirror] {name}: {exc}\r\n")
        await socket.close(code=4502, reason=str(exc)[:120])
        await record(socket, "terminal.end", name, None, f"error: {exc}")
        return
    typed = KeystrokeRecorder() if audit.keystrokes else None

    async def pump_out() -> str:
        nonlocal sent
        while True:
            text = await session.read()
            if not text:
                reason = session.end_reason()
                if reason != "the shell ended":  # the connection died: say so in the terminal
                    await socket.send_text(f"\r\n[mirror] {name}: {reason}\r\n")
                return reason
            sent += len(text)
            if typed is not None:
                typed.output(text)
            await socket.send_text(text)

    async def pump_in() -> str:
        while True:
            try:
                raw = await asyncio.wait_for(socket.receive_text(), TERMINAL_IDLE_S)
            except TimeoutError:
                await socket.send_text("\r\n[mirror] idle timeout: terminal closed\r\n")
                return "idle timeout"
            except WebSocketDisconnect:
                return "closed by the user"
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            if message.get("type") == "input" and isinstance(message.get("data"), str):
                if typed is not None:
                    typed.input(message["data"])
                    if typed.due():
                        await _record_input(socket, name, typed)
                session.write(message["data"])
            elif message.get("type") == "resize":
                with contextlib.suppress(TypeError, ValueError):
                    new_cols = max(10, min(int(message["cols"]), 500))
                    session.resize(new_cols, max(2, min(int(message["rows"]), 200)))

    async def withdrawn() -> str:
        await ended.wait()
        await socket.send_text(f"\r\n[mirror] {why[0]}: terminal closed\r\n")
        return why[0]

    tasks = [asyncio.create_task(t) for t in (pump_out(), pump_in(), withdrawn())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        first = next(iter(done))
        result = "error" if first.exception() else first.result()
    finally:
        access.release(held)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await session.close()
        with contextlib.suppress(Exception):
            await socket.close(reason=result[:120])  # the UI shows why the terminal closed
        if typed is not None:
            await _record_input(socket, name, typed, final=True)
        detail = {"seconds": round(time.monotonic() - started, 1), "output_chars": sent}
        await record(socket, "terminal.end", name, detail, result)


async def _record_input(
    socket: WebSocket[Identity, Any, Any], host: str, typed: KeystrokeRecorder, final: bool = False
) -> None:
    detail = typed.take(final=final)
    if detail is not None:
        await record(socket, "terminal.input", host, detail, "recorded")

"""`mirror run`, `mirror action` and `mirror tunnel` through a running EGO (its API).

EGO runs each command on a new channel of the connection its poll loop already holds (no
login), records it in its audit log under the caller's name, and streams the output back
over the run's WebSocket. Ctrl-C (or SIGTERM) asks EGO to cancel the runs and waits for
their last words; a second Ctrl-C leaves without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any, cast

from cli.client import EgoClient, EgoError, EgoRefused
from mirror.control.model import HostResult, OutputEvent, ResultState
from mirror.control.targets import select_hosts
from mirror.inventory import HostConfig

ACTION_POSTS_AT_ONCE = 32
_RESULT_FIELDS = {f.name for f in fields(HostResult)}


@contextlib.contextmanager
def interruptible(on_first: Callable[[], None], notice: str | None = None) -> Iterator[None]:
    """SIGINT/SIGTERM once: ``notice`` on stderr and ``on_first`` (stop the runs, keep
    reporting); twice: cancel the task at once (the caller sees ``CancelledError``)."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    count = 0

    def handler() -> None:
        nonlocal count
        count += 1
        if count == 1:
            if notice:
                print(f"mirror: {notice}", file=sys.stderr, flush=True)
            on_first()
        elif task is not None:
            task.cancel()

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, handler)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def until_interrupted() -> None:
    """Wait for SIGINT/SIGTERM (a second one, while the caller cleans up, cancels it)."""
    stop = asyncio.Event()
    with interruptible(stop.set):
        await stop.wait()


def host_result(data: dict[str, Any]) -> HostResult:
    values = {k: v for k, v in data.items() if k in _RESULT_FIELDS}
    values["state"] = ResultState(values["state"])
    return HostResult(**values)


@dataclass
class Followed:
    results: list[HostResult]
    cancelled: bool


async def follow(
    client: EgoClient,
    jobs: Sequence[dict[str, Any]],
    emit: Callable[[OutputEvent], None],
) -> Followed:
    """Stream every job's output to ``emit`` until each is done; results in job order."""
    cancelled = False
    cancels: list[asyncio.Task[Any]] = []

    def cancel_all() -> None:
        nonlocal cancelled
        cancelled = True
        for job in jobs:
            cancels.append(
                asyncio.create_task(client.call("POST", f"/api/commands/{job['id']}/cancel"))
            )

    async def one(job: dict[str, Any]) -> list[HostResult]:
        async for message in client.stream(job["id"]):
            kind = message.get("type")
            if kind == "output":
                emit(
                    OutputEvent(message["host"], message["stream"], message["text"], message["ts"])
                )
            elif kind == "done":
                return [host_result(r) for r in message.get("results") or []]
            elif kind == "error":
                raise EgoError(f"EGO: {message.get('error')}")
        raise EgoError(f"EGO ended the stream of run {job['id']} without its results")

    with interruptible(cancel_all, "cancelling on the hosts (Ctrl-C again to leave at once)"):
        per_job = await asyncio.gather(*(one(job) for job in jobs))
    for outcome in await asyncio.gather(*cancels, return_exceptions=True):
        if isinstance(outcome, EgoRefused):
            raise outcome
    return Followed([r for results in per_job for r in results], cancelled)


async def start_actions(
    client: EgoClient,
    names: Sequence[str],
    groups: Sequence[str],
    action: str,
    body: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[HostResult]]:
    """One run per host (EGO checks the action against each host's groups); a host EGO
    refuses (not offered there, unknown) is an error result of its own."""
    hosts = await _select(client, names, groups)
    slots = asyncio.Semaphore(ACTION_POSTS_AT_ONCE)

    async def post(host: str) -> dict[str, Any] | HostResult:
        async with slots:
            try:
                path = f"/api/hosts/{host}/actions/{action}"
                return cast(dict[str, Any], await client.call("POST", path, body))
            except EgoRefused:
                raise
            except EgoError as exc:
                return HostResult(host, ResultState.ERROR, error=str(exc).removeprefix("EGO: "))

    started = await asyncio.gather(*(post(h) for h in hosts))
    jobs = [j for j in started if isinstance(j, dict)]
    refused = [r for r in started if isinstance(r, HostResult)]
    return jobs, refused


@dataclass(frozen=True, slots=True)
class _Listed:
    """What ``select_hosts`` reads of a host (its name and groups), as EGO lists it."""

    name: str
    groups: tuple[str, ...]


async def _select(client: EgoClient, names: Sequence[str], groups: Sequence[str]) -> list[str]:
    if not groups:  # EGO names an unknown host itself; no need to fetch the whole fleet
        return [n.strip() for item in names for n in item.split(",") if n.strip()]
    listed = [
        _Listed(h["name"], tuple(h.get("groups") or ()))
        for h in await client.call("GET", "/api/hosts")
    ]
    return list(select_hosts(cast(list[HostConfig], listed), names, groups))


async def hold_tunnel(client: EgoClient, body: dict[str, Any], where: str) -> None:
    """Open a tunnel in EGO, print where it listens, close it on Ctrl-C/SIGTERM."""
    info = await client.call("POST", "/api/tunnels", body)
    listen = f"{info['listen_host']}:{info['listen_port']}"
    print(
        f"tunnel {listen} -> {where} via {info['host']}, held by EGO at {client.url} "
        f"(http://{listen}/ ; Ctrl-C closes it)",
        flush=True,
    )
    await until_interrupted()
    try:
        closed = await client.call("DELETE", f"/api/tunnels/{info['id']}")
    except EgoError as exc:
        print(f"mirror: tunnel {info['id']}: {exc}", file=sys.stderr)
        return
    print(f"tunnel closed ({closed.get('connections', 0)} connections)", file=sys.stderr)

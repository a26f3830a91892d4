"""Thin controllers: parse the request, call the service, return a schema."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.handlers import websocket_stream
from litestar.params import FromPath, QueryParameter

from api.schemas import Health, Host, HostDetail, Series
from api.services import HostService
from mirror import events
from mirror.auth.cache import IdentityCache
from mirror.live import Event, LiveHub

TIME_FORMS = (
    "unix seconds, ISO-8601 (UTC when no offset; encode '+' as %2B), 'now', "
    "or relative to now such as -15m, -1h, -7d"
)


@get("/api/health", sync_to_thread=True, tags=["health"])
def health(
    hosts: NamedDependency[HostService],
    hub: NamedDependency[LiveHub],
    database: NamedDependency[str],
    version: NamedDependency[str],
    identities: NamedDependency[IdentityCache],
) -> Health:
    storage = hosts.storage_health()
    problems = hosts.storage_problems()
    auth_problem = identities.problem()  # sessions and tokens checked from the cache
    if auth_problem is not None:
        problems = [*problems, auth_problem]
    return Health(
        status="degraded" if problems else "ok",
        problems=problems,
        version=version,
        hosts=hosts.count(),
        database=database,
        live_subscribers=hub.subscriber_count,
        storage=storage,
        auth=identities.status(),
    )


class HostController(Controller):
    path = "/api/hosts"
    tags = ["hosts"]  # noqa: RUF012 - Litestar reads this class attribute as is

    @get("/", sync_to_thread=True)
    def list_hosts(
        self,
        hosts: NamedDependency[HostService],
        include_stored: Annotated[
            bool,
            QueryParameter(
                name="all",
                description="also list hosts that are stored but no longer in the inventory",
            ),
        ] = False,
    ) -> list[Host]:
        """Every inventory host (state ``pending`` until its first poll), in inventory order."""
        return hosts.list_hosts(include_stored=include_stored)

    @get("/{name:str}", sync_to_thread=True)
    def get_host(self, hosts: NamedDependency[HostService], name: FromPath[str]) -> HostDetail:
        """One host, with the names of all its stored series."""
        return hosts.get_host(name)

    @get("/{name:str}/series", sync_to_thread=True)
    def get_series(
        self,
        hosts: NamedDependency[HostService],
        name: FromPath[str],
        metric: Annotated[str, QueryParameter(description="series name, e.g. cpu.busy_pct[3]")],
        start: Annotated[
            str | None,
            QueryParameter(name="from", description=f"{TIME_FORMS}; default: 'to' minus one hour"),
        ] = None,
        end: Annotated[
            str | None, QueryParameter(name="to", description=f"{TIME_FORMS}; default: now")
        ] = None,
    ) -> Series:
        """Points ``[ts, value]`` of one series in ``[from, to]``, oldest first."""
        return hosts.get_series(name, metric, start, end)


@get("/api/live/schema", tags=["live"], cache=True)
async def live_schema() -> dict[str, Any]:
    """JSON Schema of one ``/api/live`` message: a ``HostPoll``, ``PingPoll`` or
    ``StateChange`` (the ``LiveEvent`` schema component), told apart by ``type``."""
    return events.schema()


@websocket_stream("/api/live")
async def live(
    hub: NamedDependency[LiveHub],
    batch: Annotated[
        bool,
        QueryParameter(
            description="each message a JSON array of every event queued by then (at least "
            "one), instead of one event per message: a burst of events is one message"
        ),
    ] = False,
) -> AsyncGenerator[Event | list[Event], None]:
    """Each live event as one JSON text message, as the poller publishes it: a poll
    (``HostPoll``, ``PingPoll``) or a ``StateChange`` (``mirror.events``; the ``LiveEvent``
    schema component, GET /api/live/schema). Other ``type`` values may follow (``wake``);
    a client skips those it does not know."""
    # Litestar cancels this generator when the client disconnects; the hub's subscribe()
    # then drops this subscriber in its ``finally``.
    if batch:
        async for events in hub.subscribe_batches():
            yield events
    else:
        async for event in hub.subscribe():
            yield event

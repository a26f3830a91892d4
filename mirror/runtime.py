"""Wire the poller, storage, live hub and API into one running EGO.

This is the only module that imports both ``poller`` and ``api``: the API never
reaches into the poller, so the two can later run as separate processes with the
store and the live stream between them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from api.app import built_web_dir, create_app
from mirror.inventory import Inventory
from mirror.live import LiveHub
from mirror.settings import Settings
from mirror.storage import Store
from mirror.storage.retention import Retention
from poller.commands import PollerConnections, SshCommandRunner
from poller.icmp_loop import NetworkWatch
from poller.jobs import start_jobs
from poller.scheduler import Scheduler
from poller.snmp import SnmpScheduler
from poller.ssh import KnownHosts
from poller.writer import BatchWriter

log = logging.getLogger(__name__)


@dataclass
class Ego:
    store: Store
    hub: LiveHub
    scheduler: Scheduler
    writer: BatchWriter
    snmp: SnmpScheduler | None = None  # switches, routers, APs: one loop per device

    @classmethod
    def build(cls, settings: Settings, inventory: Inventory, store: Store) -> Ego:
        hub = LiveHub()
        writer = BatchWriter(store, hub, health=store.health)
        scheduler = Scheduler(
            inventory.hosts_resolved(),
            KnownHosts(settings.known_hosts_path),
            writer.submit,
            interval_s=inventory.poll.interval_s,
            timeout_s=inventory.poll.timeout_s,
            slow_every_s=inventory.poll.slow_every_s,
        )
        snmp = SnmpScheduler(inventory.snmp_resolved(), writer.submit)
        return cls(store, hub, scheduler, writer, snmp)


def open_store(settings: Settings) -> Store:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.open(settings.database_url)
    store.upgrade(Retention.from_settings(settings))
    return store


async def serve(
    settings: Settings,
    inventory: Inventory,
    *,
    static_dir: Path | None = None,
) -> None:
    """Run the poller and the API in this process until interrupted."""
    store = await asyncio.to_thread(open_store, settings)
    ego = Ego.build(settings, inventory, store)
    web_dir = static_dir if static_dir is not None else built_web_dir()
    rows = await asyncio.to_thread(store.host_rows)
    network = NetworkWatch.build(inventory, ego.writer.submit, ego.hub.publish, rows)
    # Commands, terminals and tunnels ride the poll loops' own connections (issue 6).
    control = SshCommandRunner(PollerConnections(ego.scheduler.pollers), settings.bind_host)
    app = create_app(
        store, ego.hub, inventory, static_dir=web_dir, wake=network.wake, control=control
    )
    config = uvicorn.Config(
        app,
        host=settings.bind_host,
        port=settings.bind_port,
        log_level="warning",
        lifespan="on",
        # Bounded: on Python 3.11, asyncio's Server.wait_closed() at the end of uvicorn's
        # graceful shutdown can wait forever on a connection that never detached (seen once
        # in a dozen bench/ui.py runs: `mirror demo` ignored SIGTERM, polling on).
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    writer_task = asyncio.create_task(ego.writer.run(), name="writer")
    await ego.scheduler.start()
    if ego.snmp is not None:
        await ego.snmp.start()
    await network.start()  # ICMP: hosts every poll interval, subnets on their own
    jobs = start_jobs(store, Retention.from_settings(settings))
    log.info(
        "EGO polling %d hosts every %g s; API on http://%s:%d/",
        len(ego.scheduler.pollers),
        inventory.poll.interval_s,
        settings.bind_host,
        settings.bind_port,
    )
    try:
        await server.serve()
    finally:
        await control.close()  # tunnels; the connections are the scheduler's
        await ego.scheduler.stop()
        if ego.snmp is not None:
            await ego.snmp.stop()
        await network.stop()
        jobs.shutdown(wait=False)
        writer_task.cancel()
        await ego.writer.flush()
        store.close()

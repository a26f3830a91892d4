"""Wire the poller, storage, live hub and API into one running EGO.

This is the only module that imports both ``poller`` and ``api``: the API never
reaches into the poller, so the two can later run as separate processes with the
store and the live stream between them.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from litestar import Litestar

from api.app import built_web_dir, create_app
from bridge.mqtt import MqttBridge, MqttSettings
from mirror.alerts.anomalies import DetectorSource, followed_metrics
from mirror.alerts.defaults import effective_rules
from mirror.alerts.engine import AlertEngine
from mirror.alerts.history import AlertHistory
from mirror.alerts.push import PushSubscriptions
from mirror.alerts.service import AlertService
from mirror.audit import AuditLog
from mirror.inventory import Inventory
from mirror.inventory.current import CurrentInventory
from mirror.inventory.diff import InventoryChange
from mirror.inventory.loopback import off_loopback
from mirror.inventory.reload import InventoryReloader
from mirror.live import LiveHub
from mirror.settings import Settings
from mirror.storage import Store
from mirror.storage.retention import Retention
from notify.dispatcher import Dispatcher
from notify.webpush import WebPusher, load_or_create_vapid
from poller.commands import PollerConnections, SshCommandRunner
from poller.icmp_loop import NetworkWatch
from poller.jobs import start_jobs
from poller.probe import SshSetup
from poller.scheduler import Scheduler
from poller.snmp import SnmpScheduler
from poller.ssh import KnownHosts
from poller.writer import BatchWriter

log = logging.getLogger(__name__)

# Uvicorn believes X-Forwarded-For from 127.0.0.1 by default: EGO decides itself whose to
# believe (api/proxies.py, MIRROR_TRUSTED_PROXIES). Tests serve the app with these too.
SERVER_OPTIONS: dict[str, Any] = {"proxy_headers": False}


@dataclass
class Ego:
    store: Store
    hub: LiveHub
    scheduler: Scheduler
    writer: BatchWriter
    snmp: SnmpScheduler | None = None  # switches, routers, APs: one loop per device
    network: NetworkWatch | None = None  # ICMP loops and Wake-on-LAN

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

    async def reconcile(self, inventory: Inventory, change: InventoryChange) -> None:
        """Apply a reloaded inventory: each scheduler diffs its own loops against it (with
        the same rules as ``change``), so untouched hosts keep their loop and connection."""
        poll = inventory.poll
        await self.scheduler.reconcile(
            inventory.hosts_resolved(),
            interval_s=poll.interval_s,
            timeout_s=poll.timeout_s,
            slow_every_s=poll.slow_every_s,
        )
        if self.snmp is not None:
            await self.snmp.reconcile(inventory.snmp_resolved())
        if self.network is not None:
            await self.network.retarget(inventory)
        log.debug("reconciled: %s", change.summary())


def open_store(settings: Settings) -> Store:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.open(settings.database_url)
    store.upgrade(Retention.from_settings(settings))
    return store


@dataclass
class Running:
    """A started EGO without its HTTP server: what ``serve`` wraps in uvicorn (and tests
    serve themselves)."""

    ego: Ego
    app: Litestar
    control: SshCommandRunner
    reloader: InventoryReloader
    jobs: AsyncIOScheduler  # rollups and retention
    writer_task: asyncio.Task[None]
    watch_task: asyncio.Task[None] | None
    bridge_task: asyncio.Task[None] | None = None  # Home Assistant over MQTT (MIRROR_MQTT)
    alerts: AlertEngine | None = None
    alert_tasks: tuple[asyncio.Task[None], ...] = ()  # evaluation, notification

    async def stop(self) -> None:
        for task in (self.watch_task, self.bridge_task, *self.alert_tasks):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self.reloader.close()
        await self.control.close()  # tunnels; the connections are the scheduler's
        await self.ego.scheduler.stop()
        if self.ego.snmp is not None:
            await self.ego.snmp.stop()
        if self.ego.network is not None:
            await self.ego.network.stop()
        self.jobs.shutdown(wait=False)
        self.writer_task.cancel()
        await self.ego.writer.flush()
        self.ego.store.close()


async def start(
    settings: Settings,
    inventory: Inventory,
    *,
    static_dir: Path | None = None,
) -> Running:
    """Open the store, start every loop and build the app (not yet served)."""
    mqtt = MqttSettings.from_env()  # a wrong MIRROR_MQTT stops start-up here, with its reason
    store = await asyncio.to_thread(open_store, settings)
    ego = Ego.build(settings, inventory, store)
    web_dir = static_dir if static_dir is not None else built_web_dir()
    rows = await asyncio.to_thread(store.host_rows)
    ego.network = NetworkWatch.build(inventory, ego.writer.submit, ego.hub.publish, rows)
    # Commands, terminals and tunnels ride the poll loops' own connections (issue 6); the
    # scheduler's mapping is live, so they follow a reload.
    control = SshCommandRunner(PollerConnections(ego.scheduler.by_name), settings.tunnel_bind)
    current = CurrentInventory(inventory)
    audit = AuditLog(store.engine, keystrokes=settings.audit_keystrokes, seal=settings.audit_seal())
    guard = off_loopback if settings.loopback_only else None
    reloader = InventoryReloader(settings.inventory_path, current, ego.reconcile, audit, guard)
    # Alerts (issue 12): the engine follows the live hub and re-reads `current` after a
    # reload; the dispatcher sends in tasks of its own, so a channel never slows evaluation.
    subscriptions = PushSubscriptions(store.engine)
    vapid = await asyncio.to_thread(load_or_create_vapid, settings.data_dir / "vapid_private.pem")
    pusher = WebPusher(subscriptions, vapid)
    dispatcher = Dispatcher(current, webpush=pusher.push_all)
    history = AlertHistory(store.engine)
    anomalies = DetectorSource(_anomaly_metrics(current))
    alerts = AlertEngine(current, history, dispatcher, anomaly=anomalies)
    service = AlertService(history, alerts, audit, dispatcher, reloader)
    service.push = (subscriptions, pusher.public_key)
    app = create_app(
        store,
        ego.hub,
        current,
        static_dir=web_dir,
        wake=ego.network.wake,
        control=control,
        audit=audit,
        reloader=reloader,
        trusted_proxies=settings.trusted_proxies,
        alerts=service,
        setup=SshSetup(KnownHosts(settings.known_hosts_path), ego.scheduler.poller),
        settings=settings,
    )
    writer_task = asyncio.create_task(ego.writer.run(), name="writer")
    await ego.scheduler.start()
    if ego.snmp is not None:
        await ego.snmp.start()
    await ego.network.start()  # ICMP: hosts every poll interval, subnets on their own
    jobs = start_jobs(
        store,
        Retention.from_settings(settings),
        backups=(settings.backup_dir, settings.backup_keep),
    )
    watch_task = None
    if settings.inventory_watch_s > 0:
        watch = reloader.watch(settings.inventory_watch_s)
        watch_task = asyncio.create_task(watch, name="inventory-watch")
    # What start-up built (modules, inventory, app) lives as long as the process: moved out
    # of the collector's view, full collections no longer walk it — they cost up to
    # ~135 ms pauses on the fleet overview in a 254-host process (bench/storage.py).
    gc.collect()
    gc.freeze()
    bridge_task = None
    if mqtt is not None:
        names = lambda: [h.name for h in current.get().hosts_resolved()]  # noqa: E731
        bridge = MqttBridge(ego.hub, mqtt, names)
        bridge_task = asyncio.create_task(bridge.run(), name="mqtt")
        log.info("publishing host states to %s for Home Assistant", mqtt.where())
    alert_tasks = (
        asyncio.create_task(anomalies.run(ego.hub), name="anomaly"),
        asyncio.create_task(alerts.run(ego.hub), name="alerts"),
        asyncio.create_task(dispatcher.run(), name="notify"),
    )
    return Running(
        ego, app, control, reloader, jobs, writer_task, watch_task, bridge_task, alerts, alert_tasks
    )


def _anomaly_metrics(current: CurrentInventory) -> Callable[[], set[str]]:
    """The metrics the current ``anomaly`` rules follow, worked out once per inventory."""
    seen: list[Any] = [None, set()]

    def metrics() -> set[str]:
        inventory = current.get()
        if inventory is not seen[0]:
            seen[:] = [inventory, followed_metrics(effective_rules(inventory.alerts))]
        return seen[1]

    return metrics


async def serve(
    settings: Settings,
    inventory: Inventory,
    *,
    static_dir: Path | None = None,
) -> None:
    """Run the poller and the API in this process until interrupted; SIGHUP reloads the
    inventory file (as ``POST /api/admin/inventory/reload`` does)."""
    running = await start(settings, inventory, static_dir=static_dir)
    config = uvicorn.Config(
        running.app,
        host=settings.bind_host,
        port=settings.bind_port,
        log_level="warning",
        lifespan="on",
        # Bounded: on Python 3.11, asyncio's Server.wait_closed() at the end of uvicorn's
        # graceful shutdown can wait forever on a connection that never detached (seen once
        # in a dozen bench/ui.py runs: `mirror demo` ignored SIGTERM, polling on).
        timeout_graceful_shutdown=5,
        **SERVER_OPTIONS,
    )
    server = uvicorn.Server(config)
    hangup = _on_sighup(running.reloader)
    log.info(
        "EGO polling %d hosts every %g s; API on http://%s:%d/",
        len(running.ego.scheduler.by_name),
        inventory.poll.interval_s,
        settings.bind_host,
        settings.bind_port,
    )
    try:
        await server.serve()
    finally:
        if hangup:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        await running.stop()


def _on_sighup(reloader: InventoryReloader) -> bool:
    """``kill -HUP`` reloads the inventory; False where signals cannot be handled here
    (not the main thread, or a platform without SIGHUP)."""
    try:
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGHUP, reloader.reload_soon, "ego", "signal"
        )
    except (AttributeError, NotImplementedError, RuntimeError, ValueError):
        return False
    return True

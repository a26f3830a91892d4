"""Build the Litestar app from what ``mirror serve`` (or a test) already opened.

The app does not start the poller and does not open the database: it is handed a store,
the live hub and the inventory, so the poller and the API can later run apart.
"""

from __future__ import annotations

import importlib.metadata
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin, YamlRenderPlugin
from litestar.static_files import create_static_files_router

from api import proxies
from api.access import LiveAccess
from api.accounts_admin import ROUTES as ACCOUNT_ROUTES
from api.admin import AdminController
from api.alerts import AlertsController
from api.auth import AuthController, auth_middleware
from api.control import ControlController, command_stream, terminal
from api.discovered_admin import ROUTES as DISCOVERED_ROUTES
from api.errors import EXCEPTION_HANDLERS
from api.hsts import hsts_middleware
from api.inventory_admin import adopt_discovered, reload_inventory
from api.inventory_forms import ROUTES as INVENTORY_FORMS
from api.inventory_forms import SetupActions
from api.jobs import JobBoard
from api.jobs_scheduled import ScheduledJobsController, job_run_stream
from api.live_schema import live_components
from api.metrics import metrics
from api.network import NetworkController, NetworkService, WakeActions
from api.openapi_errors import document_errors
from api.overview import AnswerCache, overview, targets, warm_for_page
from api.routes import HostController, health, live, live_schema
from api.services import HostService
from api.settings_view import ROUTES as SETTINGS_ROUTES
from api.timeseries import TimeSeriesController
from api.topology import TopologyService, get_pins, put_pins, topology
from api.trust import trust_routes
from api.webfiles import PRECOMPRESSED, assets_route
from api.world import WorldController, WorldService
from mirror.alerts.service import AlertService
from mirror.audit import AuditLog
from mirror.auth import AuthService
from mirror.auth.cache import IdentityCache
from mirror.control import CommandRunner
from mirror.inventory.current import CurrentInventory, as_current
from mirror.jobs.control import JobControl
from mirror.live import LiveHub
from mirror.resources import resource
from mirror.settings import Settings
from mirror.topology_pins import TopologyPins

if TYPE_CHECKING:
    from mirror.inventory import Inventory
    from mirror.inventory.reload import InventoryReloader
    from mirror.storage import Store

MINIMAL_WEB_DIR = resource("web/minimal")  # mirror/resources.py: checkout or installed wheel
BUILT_WEB_DIR = resource("web/dist")


def built_web_dir() -> Path | None:
    """``web/dist`` when the UI has been built (``scripts/setup.sh``), else None (minimal page)."""
    return BUILT_WEB_DIR if (BUILT_WEB_DIR / "index.html").is_file() else None


def create_app(
    store: Store,
    hub: LiveHub,
    inventory: Inventory | CurrentInventory,
    *,
    static_dir: Path | None = None,
    auth: AuthService | None = None,
    wake: WakeActions | None = None,
    control: CommandRunner | None = None,
    audit_keystrokes: bool = False,
    audit: AuditLog | None = None,
    reloader: InventoryReloader | None = None,
    trusted_proxies: Sequence[str] = (),
    alerts: AlertService | None = None,
    clock: Callable[[], float] = time.time,
    scheduled_jobs: JobControl | None = None,
    setup: SetupActions | None = None,
    settings: Settings | None = None,
    tls_ca: Path | None = None,
) -> Litestar:
    """``static_dir`` is served at ``/`` (the built UI); default: the minimal live page.

    ``auth`` (default: users and tokens in ``store``'s database) guards every route but
    login and health; the static files (code, no data) are public so the login page loads.
    ``reloader`` (``mirror serve``) re-reads the inventory file; ``inventory`` is then the
    ``CurrentInventory`` it swaps, which every route reads on each request.
    ``trusted_proxies``: whose ``X-Forwarded-For`` to believe (api/proxies.py).
    ``clock``: what "now" is for the time-series routes (``from=-1h``, the fleet's last
    hour); tests pass a fixed one so no answer depends on the wall clock's phase.
    ``tls_ca``: EGO's local CA certificate, offered at ``/ca`` (api/trust.py).
    """
    version = _version()
    database = store.dialect
    current = as_current(inventory)
    hosts = HostService(store, current, clock)
    answers = AnswerCache()  # /api/overview's encoded answers
    auth = auth if auth is not None else AuthService(store.engine)
    route_handlers: list[Any] = [health, HostController, live, live_schema, AuthController]
    route_handlers.append(NetworkController)  # ICMP, discovered addresses, Wake-on-LAN
    route_handlers.append(TimeSeriesController)  # fleet overview, trends
    route_handlers.append(overview)  # the fleet table in one answer
    route_handlers.append(targets)  # host names, groups, tags: the Run page's pickers
    route_handlers.append(topology)  # nodes + links from LLDP, MAC tables, cables
    route_handlers += [get_pins, put_pins]  # the map's pinned positions (issue 14)
    route_handlers.append(metrics)  # /metrics for Prometheus (a read token)
    # Commands, actions, terminal, tunnels, audit (issue 6); users and tokens for admins.
    route_handlers += [ControlController, command_stream, terminal, AdminController]
    route_handlers += [reload_inventory, adopt_discovered]  # inventory, for admins
    route_handlers.append(AlertsController)  # alerts, silences, rules, channels (issue 12)
    route_handlers += [ScheduledJobsController, job_run_stream]  # scheduled jobs (issue 18)
    route_handlers.append(WorldController)  # placement, cables checked, edits (issue 14)
    # The setup pages (issue 19): hosts & gear, discovered addresses, users, settings.
    route_handlers += [*INVENTORY_FORMS, *DISCOVERED_ROUTES, *ACCOUNT_ROUTES, *SETTINGS_ROUTES]
    route_handlers += trust_routes(tls_ca)  # /ca: trusting EGO's local CA (issue 16)
    if audit is None:
        audit = AuditLog(store.engine, keystrokes=audit_keystrokes)
    jobs = JobBoard(control, audit) if control is not None else None
    # Sessions and tokens the database confirmed lately: what a database outage still lets in.
    identities = IdentityCache(clock=clock)
    access = LiveAccess(auth)  # terminals, runs, streams, tunnels: ended when access ends
    web_dir = static_dir if static_dir is not None else MINIMAL_WEB_DIR
    if web_dir.is_dir():
        route_handlers += _static_routers(web_dir)
    app = Litestar(
        route_handlers=route_handlers,
        dependencies={
            "hosts": _value(hosts),
            "overview_cache": _value(answers),
            "hub": _value(hub),
            "database": _value(database),
            "version": _value(version),
            "auth_service": _value(auth),
            "network": _value(NetworkService(store, current)),
            "topology": _value(TopologyService(store, current, TopologyPins(store.engine))),
            "wake": _value(wake),  # None without a poller: wake answers 503
            "runner": _value(control),  # None without a poller: commands answer 503
            "jobs": _value(jobs),
            "audit": _value(audit),
            "inventory": Provide(current.get, use_cache=False, sync_to_thread=False),
            "reloader": _value(reloader),  # None without a poller: reload answers 503
            "access": _value(access),
            "alerts": _value(alerts),  # None without EGO's engine: alert routes answer 503
            "identities": _value(identities),  # /api/health: is authentication degraded?
            "scheduled_jobs": _value(scheduled_jobs),  # None without a poller: 503
            "world": _value(WorldService(store, current, alerts, reloader)),
            "setup": _value(setup),  # None without a poller: SSH checks answer 503
            "settings": _value(settings),  # None: the settings page says it is not known
        },
        middleware=[hsts_middleware, auth_middleware(auth, identities)],
        before_request=warm_for_page(hosts, answers),
        # JSON and the UI's files are text: gzip makes the fleet 5-8 times smaller on the
        # wire (a phone on Wi-Fi). Level 6: nearly level 9's size at a third of the CPU.
        compression_config=CompressionConfig(
            backend="gzip",
            gzip_compress_level=6,
            minimum_size=1024,
            exclude_opt_key=PRECOMPRESSED,  # api/webfiles.py: gzipped already
        ),
        # The audit guard of routes outside api/control; whose X-Forwarded-For to believe.
        state=State({"audit": audit, proxies.STATE_KEY: proxies.networks(trusted_proxies)}),
        on_shutdown=[access.close, *([jobs.close] if jobs is not None else [])],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="MIRROR STAGE",
            version=version,
            description="EGO's API: hosts, their latest state and time series, live events.",
            path="/schema",
            render_plugins=_api_docs(),
        ),
        debug=False,
        # The process that serves the app (``mirror serve``) owns logging; Litestar's default
        # config would replace the root logger's handlers at start-up.
        logging_config=None,
    )
    # What /api/live sends: a WebSocket has no OpenAPI path, so its events are components.
    # (Litestar rebuilds components from the routes, dropping OpenAPIConfig's own.)
    app.openapi_schema.components.schemas.update(live_components())
    document_errors(app.openapi_schema)  # error bodies and statuses as they really are
    return app


def _static_routers(web_dir: Path) -> list[Any]:
    """The UI's files: Vite names ``assets/*`` by content hash, so a browser keeps them for
    good; everything else (index.html, the manifest, sw.js) is revalidated on each load."""
    common: dict[str, Any] = {"opt": {"exclude_from_auth": True}}
    routers: list[Any] = []
    if (web_dir / "assets").is_dir():
        routers.append(assets_route(web_dir / "assets"))  # in memory, gzipped once
    routers.append(
        create_static_files_router(
            path="/",
            directories=[web_dir],
            html_mode=True,
            cache_control=CacheControlHeader(no_cache=True),
            **common,
        )
    )
    return routers


API_DOCS_ASSETS = "/api-docs"  # web/scripts/api-docs.mjs copies Swagger UI there
API_DOCS_FAVICON = "<link rel='icon' type='image/svg+xml' href='/icons/icon.svg'>"


def _api_docs() -> list[Any]:
    """/schema: Swagger UI from EGO's own files (not Litestar's CDN defaults: a browser on
    the LAN may have no Internet, and EGO's pages load nothing from elsewhere);
    /schema/openapi.json and /schema/openapi.yaml: the document."""
    return [
        SwaggerRenderPlugin(
            path=["/", "/swagger"],
            js_url=f"{API_DOCS_ASSETS}/swagger-ui-bundle.js",
            css_url=f"{API_DOCS_ASSETS}/swagger-ui.css",
            standalone_preset_js_url=f"{API_DOCS_ASSETS}/swagger-ui-standalone-preset.js",
            favicon=API_DOCS_FAVICON,
        ),
        JsonRenderPlugin(),
        YamlRenderPlugin(),
    ]


def _value(value: Any) -> Provide:
    def provide() -> Any:
        return value

    return Provide(provide, use_cache=True, sync_to_thread=False)


def _version() -> str:
    try:
        return importlib.metadata.version("mirror-stage")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"

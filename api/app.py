"""Build the Litestar app from what ``mirror serve`` (or a test) already opened.

The app does not start the poller and does not open the database: it is handed a store,
the live hub and the inventory, so the poller and the API can later run apart.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.static_files import create_static_files_router

from api.errors import EXCEPTION_HANDLERS
from api.routes import HostController, health, live
from api.services import HostService
from mirror.live import LiveHub

if TYPE_CHECKING:
    from mirror.inventory import Inventory
    from mirror.storage import Store

MINIMAL_WEB_DIR = Path(__file__).resolve().parent.parent / "web" / "minimal"


def create_app(
    store: Store,
    hub: LiveHub,
    inventory: Inventory,
    *,
    static_dir: Path | None = None,
) -> Litestar:
    """``static_dir`` is served at ``/`` (the built UI); default: the minimal live page."""
    version = _version()
    database = store.dialect
    hosts = HostService(store, inventory)
    route_handlers: list[Any] = [health, HostController, live]
    web_dir = static_dir if static_dir is not None else MINIMAL_WEB_DIR
    if web_dir.is_dir():
        route_handlers.append(
            create_static_files_router(path="/", directories=[web_dir], html_mode=True)
        )
    return Litestar(
        route_handlers=route_handlers,
        dependencies={
            "hosts": _value(hosts),
            "hub": _value(hub),
            "database": _value(database),
            "version": _value(version),
        },
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        openapi_config=OpenAPIConfig(
            title="MIRROR STAGE",
            version=version,
            description="EGO's API: hosts, their latest state and time series, live events.",
            path="/schema",
        ),
        debug=False,
        # The process that serves the app (``mirror serve``) owns logging; Litestar's default
        # config would replace the root logger's handlers at start-up.
        logging_config=None,
    )


def _value(value: Any) -> Provide:
    def provide() -> Any:
        return value

    return Provide(provide, use_cache=True, sync_to_thread=False)


def _version() -> str:
    try:
        return importlib.metadata.version("mirror-stage")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"

"""The settings that live outside ``inventory.yaml``, read-only, with how to change each.

They come from the environment of ``mirror serve`` (``mirror.settings``): changing one is
setting the variable and restarting EGO, so the page shows the variable's name next to the
value. The data directory's size is measured when asked, per top-level entry, largest first.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import anyio
from litestar import get
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from api.admin import require_admin
from api.errors import ApiError
from mirror.settings import Settings

HOW = "set the variable in the environment of `mirror serve` and restart it"


class NotKnown(ApiError):
    status_code = HTTP_503_SERVICE_UNAVAILABLE


def tree_size(path: Path) -> int:
    """Bytes under ``path`` (files only; links not followed); unreadable parts count 0."""
    if path.is_symlink() or path.is_file():
        try:
            return path.lstat().st_size
        except OSError:
            return 0
    total = 0
    for root, _dirs, files in os.walk(path, onerror=lambda _e: None):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(root) / name).lstat().st_size
    return total


def data_usage(data_dir: Path) -> dict[str, Any]:
    """The data directory's size and what fills it (top-level entries, largest first)."""
    try:
        children = list(data_dir.iterdir())
    except OSError as exc:
        return {"path": str(data_dir), "bytes": 0, "entries": [], "error": exc.strerror}
    parts = [
        {"name": c.name + ("/" if c.is_dir() and not c.is_symlink() else ""), "bytes": tree_size(c)}
        for c in children
    ]
    parts.sort(key=lambda p: (-p["bytes"], p["name"]))
    return {"path": str(data_dir), "bytes": sum(p["bytes"] for p in parts), "entries": parts}


def settings_view(settings: Settings) -> dict[str, Any]:
    def item(key: str, value: Any, env: str) -> dict[str, Any]:
        return {"key": key, "value": value, "env": env}

    return {
        "how": HOW,
        "retention": [
            item("raw", settings.retention_raw_s, "MIRROR_RETENTION_RAW"),
            item("1m", settings.retention_1m_s, "MIRROR_RETENTION_1M"),
            item("1h", settings.retention_1h_s, "MIRROR_RETENTION_1H"),
            item("commands", settings.retention_commands_s, "MIRROR_RETENTION_COMMANDS"),
        ],
        "audit_keystrokes": item(
            "audit_keystrokes", settings.audit_keystrokes, "MIRROR_AUDIT_KEYSTROKES"
        ),
        "backups": item("backup_keep", settings.backup_keep, "MIRROR_BACKUP_KEEP"),
        "database": item(
            "database", Settings.redacted_url(settings.database_url), "MIRROR_DATABASE_URL"
        ),
        "inventory": item("inventory", str(settings.inventory_path), "MIRROR_INVENTORY"),
        "data_dir": {**data_usage(settings.data_dir), "env": "MIRROR_DATA_DIR"},
    }


@get("/api/admin/settings", guards=[require_admin], tags=["admin"])
async def settings_page(settings: NamedDependency[Settings | None]) -> dict[str, Any]:
    """Retention tiers, keystroke auditing, backups, the database and the data directory's
    size (what fills it), each with the environment variable that changes it."""
    if settings is None:
        raise NotKnown("this API was started without EGO's settings (run `mirror serve`)")
    return await anyio.to_thread.run_sync(settings_view, settings)


ROUTES = [settings_page]

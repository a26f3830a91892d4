"""The UI's hashed files (``web/dist/assets``), held in memory and gzipped once.

Served through Litestar's static router, each request read the file in a worker thread and
gzipped ~100 kB again; on a loaded EGO (the poller and a ``/api/overview`` build holding the
GIL) the page's script then came ~0.4 s after it was asked for (bench/ui.py, issue 5). Vite
names these files by content hash, so they never change under a name: one read and one
gzip at level 9 serve every later request with a single send.
"""

from __future__ import annotations

import gzip
import mimetypes
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

# Routes whose answer is already compressed carry this opt: the compression middleware
# skips them (``CompressionConfig.exclude_opt_key``).
PRECOMPRESSED = "precompressed"
IMMUTABLE = CacheControlHeader(max_age=31_536_000, public=True, immutable=True).to_header()
_MIN_GZIP_BYTES = 1024  # as the middleware's minimum_size: smaller files go as they are


@dataclass(frozen=True, slots=True)
class WebFile:
    media_type: str
    raw: bytes
    gzipped: bytes | None  # None where gzip would not make it smaller


def load(path: Path) -> WebFile:
    raw = path.read_bytes()
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    packed = gzip.compress(raw, 9, mtime=0) if len(raw) >= _MIN_GZIP_BYTES else None
    return WebFile(
        media_type, raw, packed if packed is not None and len(packed) < len(raw) else None
    )


class HashedFiles:
    """Every file of one folder, read once and kept (their names are content hashes)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        # Read now, at start-up, not in the event loop on a first visit; a file that appears
        # later (the UI rebuilt while EGO runs) is read when first asked for.
        self._files = {p.name: load(p) for p in self.directory.iterdir() if p.is_file()}
        self._lock = threading.Lock()

    def get(self, name: str) -> WebFile | None:
        found = self._files.get(name)
        if found is not None:
            return found
        path = self.directory / name
        # Only a plain file directly in the folder: no "..", no links out of it.
        if "/" in name or name.startswith(".") or not path.is_file():
            return None
        if path.resolve().parent != self.directory:
            return None
        with self._lock:
            found = self._files.setdefault(name, load(path))
        return found

    def response(self, name: str, accept_encoding: str) -> Response[bytes]:
        found = self.get(name)
        if found is None:
            raise NotFoundException(f"no file {name!r}")
        headers = {"Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
        body = found.raw
        if found.gzipped is not None and accepts_gzip(accept_encoding):
            headers["Content-Encoding"] = "gzip"
            body = found.gzipped
        return Response(body, media_type=found.media_type, headers=headers)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` value allows gzip (``gzip;q=0`` refuses it)."""
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.partition(";")
        if coding.strip() not in ("gzip", "x-gzip", "*"):
            continue
        name, _, value = params.partition("=")
        if name.strip() != "q":
            return True
        try:
            return float(value) > 0
        except ValueError:
            return False
    return False


def assets_route(directory: Path) -> HTTPRouteHandler:
    """``GET /assets/{name}`` from ``directory``; public, as the code carries no data."""
    files = HashedFiles(directory)

    @get(
        "/assets/{name:str}",
        opt={"exclude_from_auth": True, PRECOMPRESSED: True},
        include_in_schema=False,
    )
    async def assets(name: FromPath[str], request: Request[Any, Any, Any]) -> Response[bytes]:
        return files.response(name, request.headers.get("accept-encoding", ""))

    return assets

"""How the CLI talks to a running EGO: where it is, how it proves who it is, what it says.

Where: ``--server URL``, else ``$MIRROR_SERVER``, else where `mirror serve` listens by
default (``http://$MIRROR_BIND:$MIRROR_PORT``, i.e. http://127.0.0.1:8077; ``https://`` where
EGO serves HTTPS, trusting EGO's local CA from the data directory when readable).

Who, first found wins:

1. ``$MIRROR_TOKEN``: an ``operate`` token (`mirror token create --scope operate`);
2. ``--token-file FILE`` / ``$MIRROR_TOKEN_FILE``: a file holding one (refused when others
   may read it, as ssh refuses such a key);
3. on the EGO machine itself, where the CLI can open EGO's database: a token the CLI mints
   for each request, valid for two minutes and revoked as soon as the request is made.
   Whoever can open that database can already create tokens, so this grants nothing new;
   its uses are audited as ``cli:<local user>``, like a run without EGO.

A token is never printed, logged or put on a command line (``ps`` would show it).
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from mirror.auth.names import CLI_TOKEN_PREFIX
from mirror.auth.tokenfile import read_token_file
from mirror.errors import ConfigError, MirrorError
from mirror.settings import Settings
from mirror.tls import client_context

PROBE_TIMEOUT_S = 1.5  # loopback answers in ms; a remote EGO on the LAN in tens of ms
REQUEST_TIMEOUT_S = 30.0
MINTED_TTL_S = 120.0  # a minted token only has to last one request (or one WebSocket opening)


class EgoUnreachable(MirrorError):
    """No EGO answers at the address: the caller may log in to the hosts itself."""


class EgoRefused(MirrorError):
    """EGO answered 401 or 403: never a reason to go around it."""


class EgoError(MirrorError):
    """EGO answered with another error (bad request, unknown host, no poller, …)."""


def cli_actor() -> str:
    try:
        return f"{CLI_TOKEN_PREFIX}{getpass.getuser()}"
    except (KeyError, OSError):
        return f"{CLI_TOKEN_PREFIX}?"


def server_url(explicit: str | None, settings: Settings, env: dict[str, str] | None = None) -> str:
    """The base URL of EGO, without a trailing slash; ``ConfigError`` when malformed."""
    env = dict(os.environ if env is None else env)
    url = explicit or env.get("MIRROR_SERVER")
    if not url:
        host = settings.bind_host
        # EGO bound to every address is reached on this machine through loopback.
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
        host = f"[{host}]" if ":" in host else host
        scheme = "https" if settings.https else "http"  # HTTPS beyond loopback (mirror/tls.py)
        url = f"{scheme}://{host}:{settings.bind_port}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"server {url!r}: write it as http://HOST:PORT or https://HOST:PORT")
    return url.rstrip("/")


# --- credentials ----------------------------------------------------------------------


class Credentials:
    """Hands out a token for one request; ``what`` names where it came from, for messages."""

    what = "a token"

    @contextlib.asynccontextmanager
    async def lease(self) -> AsyncIterator[str]:
        raise NotImplementedError
        yield ""


@dataclass
class FixedToken(Credentials):
    secret: str
    what: str = "MIRROR_TOKEN"

    @contextlib.asynccontextmanager
    async def lease(self) -> AsyncIterator[str]:
        yield self.secret


class MintedTokens(Credentials):
    """Short-lived operate tokens in EGO's own database (the CLI runs on EGO's machine)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._auth: Any = None
        self.what = f"a token minted in {Settings.redacted_url(settings.database_url)}"

    def _service(self) -> Any:
        if self._auth is None:
            from mirror.auth import AuthService
            from mirror.storage import Store

            url = self._settings.database_url
            if url.startswith("sqlite") and not sqlite_file_exists(url):
                # Opening it would create an empty database EGO knows nothing of.
                raise EgoRefused(
                    "EGO needs a token and there is none: set MIRROR_TOKEN or "
                    "MIRROR_TOKEN_FILE (`mirror token create --scope operate`), or run this "
                    "where EGO's database is (MIRROR_DATA_DIR / MIRROR_DATABASE_URL)"
                )
            self._auth = AuthService(Store.open(url).engine)
        return self._auth

    def _mint(self) -> tuple[int, str]:
        info, secret = self._service().create_token(
            cli_actor(), "operate", expires_in_s=MINTED_TTL_S
        )
        return info.id, secret

    @contextlib.asynccontextmanager
    async def lease(self) -> AsyncIterator[str]:
        token_id, secret = await asyncio.to_thread(self._mint)
        try:
            yield secret
        finally:
            # Revoked at once: a copy that leaked (a core dump, a proxy) is worth nothing.
            with contextlib.suppress(MirrorError):
                await asyncio.to_thread(self._service().revoke_token, token_id)


def sqlite_file_exists(url: str) -> bool:
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    return database is not None and database not in ("", ":memory:") and Path(database).exists()


def credentials(
    settings: Settings, token_file: Path | None, env: dict[str, str] | None = None
) -> Credentials:
    env = dict(os.environ if env is None else env)
    if env.get("MIRROR_TOKEN", "").strip():
        return FixedToken(env["MIRROR_TOKEN"].strip(), "MIRROR_TOKEN")
    path = token_file or (Path(env["MIRROR_TOKEN_FILE"]) if env.get("MIRROR_TOKEN_FILE") else None)
    if path is not None:
        path = path.expanduser()
        return FixedToken(read_token_file(path), f"the token in {path}")
    return MintedTokens(settings)


# --- requests ---------------------------------------------------------------------------


def _error_text(response: httpx.Response) -> str:
    with contextlib.suppress(ValueError, AttributeError):
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            return body["error"]
    return response.reason_phrase or f"HTTP {response.status_code}"


class EgoClient:
    """REST calls and command streams of one EGO; errors arrive as the classes above."""

    def __init__(self, url: str, creds: Credentials, ca_file: Path | None = None) -> None:
        """``ca_file``: EGO's local CA (``DATA_DIR/tls/ca.pem``), trusted beside the system's
        CAs for an ``https://`` EGO when this user can read it."""
        self.url = url
        self.creds = creds
        self._tls = client_context(ca_file) if url.startswith("https:") else None
        # trust_env=False: proxy variables must not route the token (or loopback) elsewhere.
        self._http = httpx.AsyncClient(
            base_url=url,
            timeout=httpx.Timeout(REQUEST_TIMEOUT_S, connect=PROBE_TIMEOUT_S),
            trust_env=False,
            verify=self._tls if self._tls is not None else True,
        )

    async def __aenter__(self) -> EgoClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._http.aclose()

    async def probe(self) -> None:
        """``EgoUnreachable`` unless EGO answers its health check."""
        try:
            response = await self._http.get("/api/health", timeout=PROBE_TIMEOUT_S)
        except httpx.HTTPError as exc:
            reason = "no answer" if isinstance(exc, httpx.TimeoutException) else "nothing listens"
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise EgoError(
                    f"EGO at {self.url}: its certificate is not trusted here ({exc}); trust "
                    "EGO's CA (its /ca page) or run as a user who can read DATA_DIR/tls/ca.pem"
                ) from None
            raise EgoUnreachable(f"no EGO at {self.url} ({reason})") from None
        with contextlib.suppress(ValueError):
            body = response.json()
            if response.status_code == 200 and isinstance(body, dict) and "version" in body:
                return
        raise EgoUnreachable(f"{self.url} answers, but not as EGO (HTTP {response.status_code})")

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        async with self.creds.lease() as token:
            try:
                response = await self._http.request(
                    method, path, json=body, headers={"Authorization": f"Bearer {token}"}
                )
            except httpx.HTTPError as exc:
                raise EgoError(f"EGO at {self.url}: {type(exc).__name__}: {exc}") from None
        if response.status_code in (401, 403):
            raise self._refused(response.status_code, _error_text(response))
        if response.status_code >= 400:
            raise EgoError(f"EGO: {_error_text(response)} (HTTP {response.status_code})")
        return response.json()

    def _refused(self, status: int, why: str) -> EgoRefused:
        hint = ""
        if status == 401 and isinstance(self.creds, MintedTokens):
            hint = " (does EGO use another database? set MIRROR_TOKEN)"
        return EgoRefused(f"EGO at {self.url} refused {self.creds.what}: {why}{hint}")

    async def stream(
        self, job_id: str, path: str = "/api/commands/{id}/stream"
    ) -> AsyncIterator[dict[str, Any]]:
        """A command run's messages (``output`` …, then ``done``) over its WebSocket
        (``path``: a scheduled job's run, ``/api/job-runs/{id}/stream``)."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

        parts = urlsplit(self.url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        ws_url = f"{scheme}://{parts.netloc}{parts.path}{path.format(id=job_id)}"
        async with self.creds.lease() as token:
            try:
                sock = await connect(
                    ws_url,
                    additional_headers={"Authorization": f"Bearer {token}"},
                    open_timeout=REQUEST_TIMEOUT_S,
                    max_size=None,  # a message is one chunk of output; EGO bounds those
                    proxy=None,
                    ssl=self._tls,
                )
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status in (401, 403):
                    raise self._refused(status, "the command stream") from None
                raise EgoError(f"EGO refused the stream of run {job_id} (HTTP {status})") from None
            except (OSError, TimeoutError, WebSocketException) as exc:
                raise EgoError(f"EGO at {self.url}: stream of run {job_id}: {exc}") from None
        try:
            while True:
                try:
                    raw = await sock.recv()
                except ConnectionClosed as exc:
                    closed = exc.rcvd
                    if closed is not None and closed.code in (4401, 4403):
                        raise self._refused(closed.code - 4000, closed.reason) from None
                    raise EgoError(
                        f"EGO closed the stream of run {job_id} before it ended "
                        "(see `mirror audit list`)"
                    ) from None
                message = json.loads(raw)
                yield message
                if message.get("type") in ("done", "error"):
                    return
        finally:
            await sock.close()

"""Who may call the API: a session cookie (browser) or an API token (scripts), on every route
except login and health, the WebSocket included.

- Sessions: cookie ``mirror_session`` (HttpOnly, SameSite=Strict, Secure when served over
  https). State-changing requests made with it must carry ``X-CSRF-Token`` (the value the
  login and ``/api/auth/me`` answers give); a WebSocket made with it must come from this
  origin.
- Tokens: ``Authorization: Bearer mst_…``; a ``read`` token may only read.
- Login is JSON only (a cross-site form cannot send it without a CORS preflight, which this
  app never allows) and refused from a foreign ``Origin``.

Guards for roles (``require_role``) are plain functions for the routes that need them.
"""

from __future__ import annotations

import time
from typing import Any

import anyio
import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.enums import ScopeType
from litestar.exceptions import (
    NotAuthorizedException,
    PermissionDeniedException,
    WebSocketException,
)
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
    DefineMiddleware,
)
from litestar.params import FromQuery
from litestar.response import Redirect
from litestar.status_codes import HTTP_401_UNAUTHORIZED, HTTP_429_TOO_MANY_REQUESTS

from api.access import LiveAccess
from api.proxies import request_address
from mirror.auth import ROLES, AuthError, AuthService, Identity, NewLogin, RateLimited
from mirror.auth.cache import IdentityCache
from mirror.errors import StorageError

SESSION_COOKIE = "mirror_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Reached without a session or token (static files opt out by ``exclude_from_auth``).
PUBLIC_PATHS = ["^/api/health$", "^/api/auth/login$", "^/api/auth/link$"]

LOGIN_REQUIRED = "login required: sign in, or send 'Authorization: Bearer <token>'"


class LoginRequest(msgspec.Struct, kw_only=True):
    name: str
    password: str
    code: str  # the 6-digit TOTP code


class Me(msgspec.Struct, kw_only=True):
    user: str
    role: str
    via: str
    csrf: str | None  # send as X-CSRF-Token on POST/PUT/PATCH/DELETE (sessions only)
    expires: float | None = None


def _same_origin(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    origin = connection.headers.get("origin")
    if origin is None:
        return True  # not a browser request made by another site's page
    host = connection.headers.get("host", "")
    return origin.split("://", 1)[-1].rstrip("/") == host


class AuthMiddleware(AbstractAuthenticationMiddleware):
    def __init__(
        self, app: Any, auth: AuthService, cache: IdentityCache | None = None, **kwargs: Any
    ) -> None:
        super().__init__(app, **kwargs)
        self.auth = auth
        self.cache = cache if cache is not None else IdentityCache()

    async def _check(self, check: Any, secret: str, address: str | None) -> Identity | None:
        """The database's answer; during an outage (``StorageError``), what it confirmed
        within the cache's TTL (mirror/auth/cache.py), else the outage's 503."""
        key = self.cache.key(secret)
        try:
            identity = await anyio.to_thread.run_sync(check, secret, address)
        except StorageError:
            cached = self.cache.during_outage(key)
            if cached is None:
                raise
            return cached
        self.cache.confirmed(key, identity)
        return identity

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        websocket = connection.scope["type"] == ScopeType.WEBSOCKET
        try:
            identity = await self._identify(connection, websocket)
        except (NotAuthorizedException, PermissionDeniedException) as exc:
            if websocket:
                code = 4401 if isinstance(exc, NotAuthorizedException) else 4403
                raise WebSocketException(detail=exc.detail, code=code) from None
            raise
        return AuthenticationResult(user=identity, auth=identity.via)

    async def _identify(
        self, connection: ASGIConnection[Any, Any, Any, Any], websocket: bool
    ) -> Identity:
        address = request_address(connection)
        method = "GET" if websocket else connection.scope.get("method", "GET")
        header = connection.headers.get("authorization", "")
        if header:
            kind, _, token = header.partition(" ")
            if kind.lower() != "bearer" or not token.strip():
                raise NotAuthorizedException("Authorization must be 'Bearer <token>'")
            identity = await self._check(self.auth.check_token, token.strip(), address)
            if identity is None:
                raise NotAuthorizedException("unknown, revoked or expired API token")
            if identity.scope == "read" and method not in SAFE_METHODS:
                raise PermissionDeniedException(
                    "this token's scope is 'read': it cannot change anything "
                    "(create one with --scope operate)"
                )
            return identity
        cookie = connection.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise NotAuthorizedException(LOGIN_REQUIRED)
        identity = await self._check(self.auth.session, cookie, address)
        if identity is None:
            raise NotAuthorizedException("session expired or ended: sign in again")
        if websocket and not _same_origin(connection):
            raise PermissionDeniedException("WebSocket from another origin refused")
        if method not in SAFE_METHODS and connection.headers.get(CSRF_HEADER) != identity.csrf:
            raise PermissionDeniedException(
                "missing or wrong X-CSRF-Token header (reload the page to get a fresh one)"
            )
        return identity


def auth_middleware(auth: AuthService, cache: IdentityCache | None = None) -> DefineMiddleware:
    return DefineMiddleware(AuthMiddleware, auth=auth, cache=cache, exclude=PUBLIC_PATHS)


def require_role(*roles: str) -> Any:
    """A guard: ``@post(..., guards=[require_role("operator", "admin")])``."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        identity = connection.scope.get("user")
        if not isinstance(identity, Identity) or identity.role not in roles:
            raise PermissionDeniedException(f"needs role {' or '.join(roles)}")

    return guard


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(
        {"error": message}, status_code=status, media_type=MediaType.JSON, headers=headers
    )


def _session_response(request: Request[Any, Any, Any], body: Any, login: NewLogin) -> Response[Any]:
    response = Response(body, media_type=MediaType.JSON)
    _set_session_cookie(response, request, login)
    return response


def _set_session_cookie(
    response: Response[Any], request: Request[Any, Any, Any], login: NewLogin
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        login.token,
        max_age=max(0, int(login.expires - time.time())),
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        # For the login link, Lax would not matter: the cookie is set by that response, not
        # sent with it.
        samesite="strict",
    )


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]  # noqa: RUF012 - Litestar reads this class attribute as is

    @post("/login", status_code=200)
    async def login(
        self, request: Request[Any, Any, Any], auth_service: NamedDependency[AuthService]
    ) -> Response[Any]:
        """Password + TOTP code → session cookie; the answer carries the CSRF token."""
        if not request.headers.get("content-type", "").startswith("application/json"):
            return _error(415, "send the login as application/json")
        if not _same_origin(request):
            return _error(403, "login from another origin refused")
        try:
            form = msgspec.json.decode(await request.body(), type=LoginRequest)
        except msgspec.DecodeError as exc:
            return _error(400, f"bad login request: {exc}")
        except RecursionError:
            return _error(400, "bad login request: JSON nested too deeply")
        try:
            login = await anyio.to_thread.run_sync(
                auth_service.login,
                form.name,
                form.password,
                form.code,
                request_address(request),
                request.headers.get("user-agent", ""),
            )
        except RateLimited as exc:
            return _error(
                HTTP_429_TOO_MANY_REQUESTS,
                str(exc),
                {"Retry-After": str(max(1, round(exc.retry_after_s)))},
            )
        except AuthError as exc:
            return _error(HTTP_401_UNAUTHORIZED, str(exc))
        body = Me(
            user=login.user, role=login.role, via="session", csrf=login.csrf, expires=login.expires
        )
        return _session_response(request, body, login)

    @get("/link", status_code=302)
    async def link(
        self,
        request: Request[Any, Any, Any],
        auth_service: NamedDependency[AuthService],
        token: FromQuery[str] = "",
    ) -> Redirect:
        """A one-time login link (``mirror demo`` prints one): sets the session, goes to /."""
        try:
            login = await anyio.to_thread.run_sync(
                auth_service.login_with_link,
                token,
                request_address(request),
                request.headers.get("user-agent", ""),
            )
        except AuthError:
            return Redirect("/?login_error=link")
        redirect = Redirect("/")
        _set_session_cookie(redirect, request, login)
        return redirect

    @get("/me")
    async def me(self, request: Request[Identity, Any, Any]) -> Me:
        """Who this session or token is; a session also gets its CSRF token again."""
        identity = request.user
        return Me(user=identity.name, role=identity.role, via=identity.via, csrf=identity.csrf)

    @post("/logout", status_code=200)
    async def logout(
        self,
        request: Request[Identity, Any, Any],
        auth_service: NamedDependency[AuthService],
        access: NamedDependency[LiveAccess],
    ) -> Response[Any]:
        """Ends the session and what it holds open (terminals, runs, tunnels)."""
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            await anyio.to_thread.run_sync(auth_service.logout, cookie, request_address(request))
            await access.end("logged out", key=AuthService.session_key(cookie))
        response = Response({"ok": True}, media_type=MediaType.JSON)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

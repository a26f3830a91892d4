"""Users, sessions, API tokens and the record of every login, failure and token use.

Synchronous (SQLAlchemy Core, like the store): the API calls it from a worker thread. The
clock is injected so expiry, TOTP steps and rate limits are tested without sleeping.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from mirror.auth import crypto, ratelimit
from mirror.auth.names import CLI_TOKEN_PREFIX
from mirror.auth.tables import api_tokens, auth_events, login_links, sessions, users
from mirror.errors import MirrorError, StorageError

_T = TypeVar("_T")
log = logging.getLogger(__name__)

ROLES = ("viewer", "operator", "admin")
SCOPES = ("read", "operate")

SESSION_TTL_S = 7 * 24 * 3600  # absolute lifetime of a login
SESSION_IDLE_S = 24 * 3600  # a session unused this long is over
TOUCH_EVERY_S = 60  # last_seen / last_used are written at most this often
LINK_TTL_S = 10 * 60

SESSION_PREFIX = "mss_"
SESSION_ID_CHARS = 16  # of a session digest: what the sessions list shows to end one
TOKEN_PREFIX = "mst_"
LINK_PREFIX = "msl_"
MAX_TOKEN_LIFETIME_S = 10 * 365 * 86400  # expires_in_s beyond this: use no expiry at all

# ASCII only (no lookalikes of another account's name in other scripts), starting with a
# letter or digit; names the audit log uses for EGO itself are not anyone's.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
RESERVED_NAMES = frozenset({"ego", "auth", "cli", "system", "root", "mirror"})
MAX_TOKEN_NAME = 64
GENERIC_REFUSAL = "wrong name, password or code (each code works only once: wait for the next)"


class AuthError(MirrorError):
    """A request about users or tokens that cannot be done (unknown name, bad scope, …)."""


def check_user_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise AuthError(
            f"bad user name {name[:80]!r}: 1-64 ASCII letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    if name.lower() in RESERVED_NAMES:
        raise AuthError(f"user name {name!r} is reserved (the audit log uses it for EGO itself)")


def check_token_name(name: str) -> None:
    if not 1 <= len(name) <= MAX_TOKEN_NAME or not name.isprintable() or name != name.strip():
        raise AuthError(
            f"bad token name {name[:80]!r}: 1-{MAX_TOKEN_NAME} printable characters "
            "(no control characters, no leading or trailing spaces)"
        )


class LoginRefused(AuthError):
    """Wrong credentials. The message is the same whatever was wrong; ``reason`` is logged."""

    def __init__(self, reason: str) -> None:
        super().__init__(GENERIC_REFUSAL)
        self.reason = reason


class NoSuchUser(AuthError):
    """The named account does not exist."""


class UserExists(AuthError):
    """``add_user`` of a name that is taken (without ``replace``)."""


class LastAdmin(AuthError):
    """The change would leave no enabled admin (nobody could manage users any more)."""


class RateLimited(AuthError):
    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a request comes from: what the API puts on ``request.user``."""

    name: str  # user name; for a token without a user, "token:<id>" (or its "cli:…" name)
    role: str  # viewer | operator | admin (a token: its user's role, else by scope)
    via: Literal["session", "token"]
    scope: str | None = None  # tokens only: read | operate
    token_id: int | None = None
    csrf: str | None = None  # sessions only: the value X-CSRF-Token must carry
    # Which session ("s:<digest>") or token ("t:<id>"): what live work is held by.
    key: str | None = None


@dataclass(frozen=True, slots=True)
class NewUser:
    name: str
    role: str
    totp_secret: str
    totp_uri: str


@dataclass(frozen=True, slots=True)
class NewLogin:
    token: str  # the session cookie's value; shown to nobody else
    csrf: str
    user: str
    role: str
    expires: float


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    name: str
    prefix: str
    scope: str
    user: str | None
    created: float
    expires: float | None
    last_used: float | None
    revoked: float | None


@contextmanager
def _db(engine: Engine) -> Iterator[None]:
    """Database errors leave as :class:`StorageError` (one line, password hidden)."""
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        hint = (
            " (run `mirror db upgrade`)"
            if "no such table" in reason or "does not exist" in reason
            else ""
        )
        url = engine.url.render_as_string(hide_password=True)
        raise StorageError(f"auth store {url}: {reason}{hint}") from exc


def _storage_errors(method: Callable[..., _T]) -> Callable[..., _T]:
    @functools.wraps(method)
    def wrapper(self: AuthService, *args: Any, **kwargs: Any) -> _T:
        with _db(self._engine):
            return method(self, *args, **kwargs)

    return wrapper


def _ms(ts: float) -> int:
    return round(ts * 1000)


def _s(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


class AuthService:
    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock
        self._lock = threading.Lock()
        self._touched: dict[str, float] = {}  # digest -> last time last_seen/used was written

    # -- users ---------------------------------------------------------------------------

    @_storage_errors
    def add_user(
        self, name: str, password: str, role: str = "admin", *, replace: bool = False
    ) -> NewUser:
        """Create ``name`` with a fresh TOTP seed (``replace``: reset an existing one)."""
        check_user_name(name)
        if role not in ROLES:
            raise AuthError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise AuthError("the password must have at least 8 characters")
        secret = crypto.new_totp_secret()
        values = {
            "password_hash": crypto.hash_password(password),
            "totp_secret": secret,
            "totp_last_step": None,
            "role": role,
            "disabled": False,
        }
        with self._engine.begin() as conn:
            existing = conn.execute(sa.select(users.c.id).where(users.c.name == name)).first()
            if existing is not None and not replace:
                raise UserExists(f"user {name!r} exists (use --reset to enrol it again)")
            if existing is not None:
                conn.execute(sa.update(users).where(users.c.id == existing.id).values(values))
                # A reset logs the user out everywhere.
                conn.execute(sa.delete(sessions).where(sessions.c.user_id == existing.id))
            else:
                conn.execute(
                    sa.insert(users).values(name=name, created_ms=_ms(self._clock()), **values)
                )
            self._event(conn, "user-added", name, None, f"role={role}")
        return NewUser(name, role, secret, crypto.totp_uri(secret, name))

    @_storage_errors
    def list_users(self) -> list[dict[str, Any]]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    users.c.name, users.c.role, users.c.disabled, users.c.created_ms
                ).order_by(users.c.name)
            )
            return [
                {
                    "name": r.name,
                    "role": r.role,
                    "disabled": r.disabled,
                    "created": r.created_ms / 1000,
                }
                for r in rows
            ]

    @_storage_errors
    def update_user(
        self, name: str, *, role: str | None = None, disabled: bool | None = None
    ) -> dict[str, Any]:
        """Change an account's role and/or disable (or enable) it; refuses to leave no
        enabled admin. Disabling logs the account out everywhere; its tokens stop working."""
        if role is not None and role not in ROLES:
            raise AuthError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
        # One at a time: two admins demoting each other at once must not both succeed.
        with self._lock, self._engine.begin() as conn:
            row = self._user_row(conn, name)
            new_role = role if role is not None else row.role
            new_disabled = disabled if disabled is not None else row.disabled
            self._keep_an_admin(conn, row, still_admin=new_role == "admin" and not new_disabled)
            conn.execute(
                sa.update(users)
                .where(users.c.id == row.id)
                .values(role=new_role, disabled=new_disabled)
            )
            if new_disabled and not row.disabled:
                conn.execute(sa.delete(sessions).where(sessions.c.user_id == row.id))
            changes = []
            if new_role != row.role:
                changes.append(f"role={new_role}")
            if bool(new_disabled) != bool(row.disabled):
                changes.append("disabled" if new_disabled else "enabled")
            if changes:
                self._event(conn, "user-changed", name, None, " ".join(changes))
        return {"name": name, "role": new_role, "disabled": bool(new_disabled)}

    @_storage_errors
    def delete_user(self, name: str) -> dict[str, Any]:
        """Remove an account with its sessions, login links and tokens; refuses to remove
        the last enabled admin."""
        with self._lock, self._engine.begin() as conn:
            row = self._user_row(conn, name)
            self._keep_an_admin(conn, row, still_admin=False)
            for table in (sessions, login_links, api_tokens):
                conn.execute(sa.delete(table).where(table.c.user_id == row.id))
            conn.execute(sa.delete(users).where(users.c.id == row.id))
            self._event(conn, "user-deleted", name, None, f"role={row.role}")
        return {"name": name, "role": row.role, "deleted": True}

    @staticmethod
    def _user_row(conn: Connection, name: str) -> Any:
        row = conn.execute(
            sa.select(users.c.id, users.c.role, users.c.disabled).where(users.c.name == name)
        ).first()
        if row is None:
            raise NoSuchUser(f"no user named {name!r}")
        return row

    @staticmethod
    def _keep_an_admin(conn: Connection, row: Any, *, still_admin: bool) -> None:
        if row.role != "admin" or row.disabled or still_admin:
            return
        others = conn.execute(
            sa.select(sa.func.count())
            .select_from(users)
            .where(users.c.role == "admin", users.c.disabled == sa.false(), users.c.id != row.id)
        ).scalar_one()
        if others == 0:
            raise LastAdmin("refused: this is the last enabled admin (make another admin first)")

    # -- logging in ----------------------------------------------------------------------

    @_storage_errors
    def login(
        self, name: str, password: str, code: str, address: str | None, user_agent: str = ""
    ) -> NewLogin:
        now = self._clock()
        # The failure is recorded in the same transaction and raised once it has committed.
        with self._lock, self._engine.begin() as conn:
            try:
                outcome = self._login(conn, name, password, code, address, user_agent, now)
            except sa.exc.SQLAlchemyError:
                raise
            except Exception as exc:  # any other error is a refusal that counts, never a 500
                log.warning("login for %r refused on an error", name[:64], exc_info=exc)
                outcome = self._refuse(conn, name, address, f"error: {type(exc).__name__}")
        if isinstance(outcome, AuthError):
            raise outcome
        return outcome

    def _login(
        self,
        conn: Connection,
        name: str,
        password: str,
        code: str,
        address: str | None,
        user_agent: str,
        now: float,
    ) -> NewLogin | AuthError:
        limited = self._check_limits(conn, name, address, now)
        if limited is not None:
            return limited
        user = conn.execute(sa.select(users).where(users.c.name == name)).first()
        password_ok = crypto.verify_password(user.password_hash if user else None, password)
        if user is None:
            return self._refuse(conn, name, address, "unknown-user")
        if not password_ok:
            return self._refuse(conn, name, address, "wrong-password")
        if user.disabled:
            return self._refuse(conn, name, address, "user-disabled")
        step = crypto.match_totp(user.totp_secret, code, now)
        if step is None:
            return self._refuse(conn, name, address, "wrong-totp")
        # Conditional update: two requests racing with the same code cannot both win.
        used = conn.execute(
            sa.update(users)
            .where(
                users.c.id == user.id,
                sa.or_(users.c.totp_last_step.is_(None), users.c.totp_last_step < step),
            )
            .values(totp_last_step=step)
        )
        if used.rowcount != 1:
            return self._refuse(conn, name, address, "replayed-totp")
        self._event(conn, "login-ok", name, address, None)
        return self._new_session(conn, user, address, user_agent, now)

    @_storage_errors
    def create_login_link(self, name: str, ttl_s: float = LINK_TTL_S) -> str:
        """A one-time login token for ``name`` (the demo prints it as a loopback link)."""
        token = crypto.new_token(LINK_PREFIX)
        with self._engine.begin() as conn:
            user_id = self._user_id(conn, name)
            conn.execute(
                sa.insert(login_links).values(
                    digest=crypto.digest(token),
                    user_id=user_id,
                    expires_ms=_ms(self._clock() + ttl_s),
                )
            )
        return token

    @_storage_errors
    def login_with_link(self, token: str, address: str | None, user_agent: str = "") -> NewLogin:
        now = self._clock()
        with self._lock, self._engine.begin() as conn:
            outcome = self._link_login(conn, token, address, user_agent, now)
        if isinstance(outcome, AuthError):
            raise outcome
        return outcome

    def _link_login(
        self, conn: Connection, token: str, address: str | None, user_agent: str, now: float
    ) -> NewLogin | AuthError:
        limited = self._check_limits(conn, None, address, now)
        if limited is not None:
            return limited
        row = conn.execute(
            sa.select(login_links, users)
            .join(users, users.c.id == login_links.c.user_id)
            .where(login_links.c.digest == crypto.digest(token))
        ).first()
        if row is None:
            return self._refuse(conn, None, address, "unknown-link")
        if row.used_ms is not None:
            return self._refuse(conn, row.name, address, "link-already-used")
        if row.expires_ms < _ms(now):
            return self._refuse(conn, row.name, address, "link-expired")
        conn.execute(
            sa.update(login_links)
            .where(login_links.c.digest == row.digest)
            .values(used_ms=_ms(now))
        )
        self._event(conn, "login-ok", row.name, address, "one-time link")
        return self._new_session(conn, row, address, user_agent, now)

    @_storage_errors
    def session(self, token: str, address: str | None = None) -> Identity | None:
        """The identity behind a session cookie, or None (unknown, expired or idle too long)."""
        if not token.startswith(SESSION_PREFIX):
            return None
        now = self._clock()
        key = crypto.digest(token)
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(sessions, users.c.name, users.c.role, users.c.disabled)
                .join(users, users.c.id == sessions.c.user_id)
                .where(sessions.c.digest == key)
            ).first()
        if row is None or row.disabled:
            return None
        if row.expires_ms < _ms(now) or row.last_seen_ms < _ms(now - SESSION_IDLE_S):
            with self._engine.begin() as conn:
                conn.execute(sa.delete(sessions).where(sessions.c.digest == key))
            return None
        if now - self._touched.get(key, 0.0) >= TOUCH_EVERY_S:
            self._touched[key] = now
            with self._engine.begin() as conn:
                conn.execute(
                    sa.update(sessions)
                    .where(sessions.c.digest == key)
                    .values(last_seen_ms=_ms(now))
                )
        csrf = crypto.csrf_for(token)
        return Identity(row.name, row.role, "session", csrf=csrf, key=f"s:{key}")

    @_storage_errors
    def logout(self, token: str, address: str | None = None) -> None:
        key = crypto.digest(token)
        with self._engine.begin() as conn:
            name = conn.execute(
                sa.select(users.c.name)
                .join(sessions, sessions.c.user_id == users.c.id)
                .where(sessions.c.digest == key)
            ).scalar()
            conn.execute(sa.delete(sessions).where(sessions.c.digest == key))
            if name is not None:
                self._event(conn, "logout", name, address, None)
        self._touched.pop(key, None)

    @staticmethod
    def session_key(token: str) -> str:
        """The ``Identity.key`` of a session cookie."""
        return f"s:{crypto.digest(token)}"

    @_storage_errors
    def current_role(self, key: str) -> str | None:
        """The role a session or token (``Identity.key``) acts with now, or None once it is
        gone: logged out, expired, revoked, its user disabled or deleted."""
        now = _ms(self._clock())
        kind, _, value = key.partition(":")
        with self._engine.connect() as conn:
            if kind == "s":
                row = conn.execute(
                    sa.select(sessions.c.expires_ms, users.c.role, users.c.disabled)
                    .join(users, users.c.id == sessions.c.user_id)
                    .where(sessions.c.digest == value)
                ).first()
                ok = row is not None and not row.disabled and row.expires_ms >= now
                return row.role if ok else None
            if kind == "t" and value.isdigit():
                row = conn.execute(self._token_query().where(api_tokens.c.id == int(value))).first()
                if row is None or row.revoked_ms is not None or row.user_disabled:
                    return None
                if row.expires_ms is not None and row.expires_ms < now:
                    return None
                if row.scope != "operate":
                    return "viewer"
                return row.role or "operator"
        return None

    # -- API tokens ----------------------------------------------------------------------

    @_storage_errors
    def create_token(
        self,
        name: str,
        scope: str,
        *,
        user: str | None = None,
        expires_in_s: float | None = None,
    ) -> tuple[TokenInfo, str]:
        """A new token; the returned secret is shown once and never stored."""
        if scope not in SCOPES:
            raise AuthError(f"unknown scope {scope!r}: one of {', '.join(SCOPES)}")
        check_token_name(name)
        if expires_in_s is not None and not 0 < expires_in_s <= MAX_TOKEN_LIFETIME_S:
            raise AuthError(
                f"expires_in_s must be > 0 and at most {MAX_TOKEN_LIFETIME_S} (10 years); "
                "leave it out for a token that does not expire"
            )
        token = crypto.new_token(TOKEN_PREFIX)
        now = self._clock()
        with self._engine.begin() as conn:
            user_id = self._user_id(conn, user) if user is not None else None
            token_id = conn.execute(
                sa.insert(api_tokens)
                .values(
                    digest=crypto.digest(token),
                    prefix=token[: len(TOKEN_PREFIX) + 6],
                    name=name,
                    user_id=user_id,
                    scope=scope,
                    created_ms=_ms(now),
                    expires_ms=_ms(now + expires_in_s) if expires_in_s else None,
                )
                .returning(api_tokens.c.id)
            ).scalar_one()
            self._event(conn, "token-created", user, None, f"token {token_id} scope={scope}")
        return self._token_info(token_id), token

    @_storage_errors
    def list_tokens(self) -> list[TokenInfo]:
        with self._engine.connect() as conn:
            rows = conn.execute(self._token_query().order_by(api_tokens.c.id))
            return [self._info(r) for r in rows]

    @_storage_errors
    def revoke_token(self, token_id: int) -> TokenInfo:
        if not 0 < token_id < 2**63:  # beyond the database's integers: no such token
            raise AuthError(f"no token with id {token_id} (see `mirror token list`)")
        with self._engine.begin() as conn:
            done = conn.execute(
                sa.update(api_tokens)
                .where(api_tokens.c.id == token_id, api_tokens.c.revoked_ms.is_(None))
                .values(revoked_ms=_ms(self._clock()))
            )
            if done.rowcount != 1:
                exists = conn.execute(
                    sa.select(api_tokens.c.id).where(api_tokens.c.id == token_id)
                ).first()
                if exists is None:
                    raise AuthError(f"no token with id {token_id} (see `mirror token list`)")
            else:
                self._event(conn, "token-revoked", None, None, f"token {token_id}")
        return self._token_info(token_id)

    @_storage_errors
    def check_token(self, token: str, address: str | None = None) -> Identity | None:
        """The identity of a valid API token, or None; every use is recorded."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        now = self._clock()
        key = crypto.digest(token)
        with self._engine.connect() as conn:
            row = conn.execute(self._token_query().where(api_tokens.c.digest == key)).first()
        if row is None:
            return None
        refused = (
            "revoked"
            if row.revoked_ms is not None
            else "expired"
            if row.expires_ms is not None and row.expires_ms < _ms(now)
            else "user disabled"
            if row.user_disabled
            else None
        )
        if refused is not None:
            with self._engine.begin() as conn:
                self._event(conn, "token-refused", row.user, address, f"token {row.id} {refused}")
            return None
        # A script polling every second would write an event a second: uses of one token from
        # one address are recorded once per TOUCH_EVERY_S (with last_used_ms).
        touch_key = f"{key}@{address}"
        if now - self._touched.get(touch_key, 0.0) >= TOUCH_EVERY_S:
            self._touched[touch_key] = now
            with self._engine.begin() as conn:
                conn.execute(
                    sa.update(api_tokens)
                    .where(api_tokens.c.id == row.id)
                    .values(last_used_ms=_ms(now))
                )
                self._event(conn, "token-used", row.user, address, f"token {row.id}")
        role = row.role or ("operator" if row.scope == "operate" else "viewer")
        # The CLI's own short-lived tokens (cli/client.py) are named cli:<local user>:
        # audited under that name, a run reads the same with EGO as without it.
        cli = row.name.startswith(CLI_TOKEN_PREFIX)
        name = row.user or (row.name if cli else f"token:{row.id}")
        return Identity(name, role, "token", scope=row.scope, token_id=row.id, key=f"t:{row.id}")

    # -- the record ----------------------------------------------------------------------

    @_storage_errors
    def events(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest auth events, newest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(auth_events).order_by(auth_events.c.id.desc()).limit(limit)
            )
            return [
                {
                    "ts": r.ts_ms / 1000,
                    "kind": r.kind,
                    "user": r.user_name,
                    "address": r.address,
                    "detail": r.detail,
                }
                for r in rows
            ]

    # -- inside --------------------------------------------------------------------------

    def _event(
        self,
        conn: Connection,
        kind: str,
        user: str | None,
        address: str | None,
        detail: str | None,
    ) -> None:
        conn.execute(
            sa.insert(auth_events).values(
                ts_ms=_ms(self._clock()),
                kind=kind,
                user_name=user[:64] if user else None,
                address=address,
                detail=detail,
            )
        )

    def _refuse(
        self, conn: Connection, name: str | None, address: str | None, why: str
    ) -> LoginRefused:
        self._event(conn, "login-failed", name, address, why)
        return LoginRefused(why)

    def _check_limits(
        self, conn: Connection, name: str | None, address: str | None, now: float
    ) -> RateLimited | None:
        """Hold back the source of the failures, not the account (ratelimit's docstring)."""
        by_user, by_address = auth_events.c.user_name, auth_events.c.address
        checks: list[tuple[str, list[Any], ratelimit.Limit]] = []
        if name is not None and address is not None:
            where = [by_user == name[:64], by_address == address]
            checks.append(("for this account from this address", where, ratelimit.PER_SOURCE))
        if address is not None:
            checks.append(("from this address", [by_address == address], ratelimit.PER_ADDRESS))
        if name is not None and not self._familiar(conn, name, address, now):
            crowd = "for this account from addresses new to it"
            checks.append((crowd, [by_user == name[:64]], ratelimit.PER_ACCOUNT))
        for who, where, limit in checks:
            since = now - limit.window_s
            last_ok = conn.execute(
                sa.select(sa.func.max(auth_events.c.ts_ms)).where(
                    *where, auth_events.c.kind == "login-ok"
                )
            ).scalar()
            if last_ok is not None:
                since = max(since, last_ok / 1000)
            failures = conn.execute(
                sa.select(auth_events.c.ts_ms).where(
                    *where,
                    auth_events.c.kind == "login-failed",
                    auth_events.c.ts_ms > _ms(since),
                )
            ).scalars()
            wait = ratelimit.retry_after_s([t / 1000 for t in failures], limit, now)
            if wait > 0:
                self._event(conn, "login-limited", name, address, f"{who}: {wait:.0f} s")
                return RateLimited(
                    f"too many failed logins {who}: try again in {ratelimit.human_wait(wait)}",
                    wait,
                )
        return None

    @staticmethod
    def _familiar(conn: Connection, name: str, address: str | None, now: float) -> bool:
        """Has ``name`` logged in from ``address`` lately (then a guessing crowd elsewhere
        does not hold it back)?"""
        if address is None:
            return False
        ok = conn.execute(
            sa.select(auth_events.c.id)
            .where(
                auth_events.c.user_name == name[:64],
                auth_events.c.address == address,
                auth_events.c.kind == "login-ok",
                auth_events.c.ts_ms > _ms(now - ratelimit.KNOWN_ADDRESS_S),
            )
            .limit(1)
        ).first()
        return ok is not None

    def _new_session(
        self, conn: Connection, user: Any, address: str | None, user_agent: str, now: float
    ) -> NewLogin:
        token = crypto.new_token(SESSION_PREFIX)
        expires = now + SESSION_TTL_S
        conn.execute(
            sa.insert(sessions).values(
                digest=crypto.digest(token),
                user_id=user.id,
                created_ms=_ms(now),
                expires_ms=_ms(expires),
                last_seen_ms=_ms(now),
                address=address,
                user_agent=user_agent[:256],
            )
        )
        return NewLogin(token, crypto.csrf_for(token), user.name, user.role, expires)

    @staticmethod
    def _user_id(conn: Connection, name: str) -> int:
        user_id = conn.execute(sa.select(users.c.id).where(users.c.name == name)).scalar()
        if user_id is None:
            raise AuthError(f"no user named {name!r} (add one with `mirror user add {name}`)")
        return int(user_id)

    @staticmethod
    def _token_query() -> sa.Select:
        return sa.select(
            api_tokens,
            users.c.name.label("user"),
            users.c.role.label("role"),
            users.c.disabled.label("user_disabled"),
        ).select_from(api_tokens.outerjoin(users, users.c.id == api_tokens.c.user_id))

    def _token_info(self, token_id: int) -> TokenInfo:
        with self._engine.connect() as conn:
            return self._info(
                conn.execute(self._token_query().where(api_tokens.c.id == token_id)).one()
            )

    @staticmethod
    def _info(row: Any) -> TokenInfo:
        return TokenInfo(
            id=row.id,
            name=row.name,
            prefix=row.prefix,
            scope=row.scope,
            user=row.user,
            created=row.created_ms / 1000,
            expires=_s(row.expires_ms),
            last_used=_s(row.last_used_ms),
            revoked=_s(row.revoked_ms),
        )

    # -- the users page (issue 19): TOTP reset, one's own sessions -----------------------

    @_storage_errors
    def reset_totp(self, name: str) -> NewUser:
        """A fresh TOTP seed for ``name`` (a lost phone); the password stays, and the
        account is logged out everywhere. The enrolment is shown once, to the admin."""
        secret = crypto.new_totp_secret()
        with self._engine.begin() as conn:
            row = self._user_row(conn, name)
            conn.execute(
                sa.update(users)
                .where(users.c.id == row.id)
                .values(totp_secret=secret, totp_last_step=None)
            )
            conn.execute(sa.delete(sessions).where(sessions.c.user_id == row.id))
            self._event(conn, "totp-reset", name, None, None)
        return NewUser(name, row.role, secret, crypto.totp_uri(secret, name))

    @_storage_errors
    def list_sessions(self, name: str) -> list[dict[str, Any]]:
        """``name``'s logins still open, newest first; ``id`` is a short prefix of the
        session's digest (never its cookie), enough to end it with ``end_session``."""
        now = _ms(self._clock())
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(sessions)
                .join(users, users.c.id == sessions.c.user_id)
                .where(
                    users.c.name == name,
                    sessions.c.expires_ms >= now,
                    sessions.c.last_seen_ms >= now - _ms(SESSION_IDLE_S),
                )
                .order_by(sessions.c.created_ms.desc())
            )
            return [
                {
                    "id": r.digest[:SESSION_ID_CHARS],
                    "key": f"s:{r.digest}",
                    "created": r.created_ms / 1000,
                    "last_seen": r.last_seen_ms / 1000,
                    "expires": r.expires_ms / 1000,
                    "address": r.address,
                    "user_agent": r.user_agent,
                }
                for r in rows
            ]

    @_storage_errors
    def end_session(self, name: str, session_id: str) -> str:
        """End one of ``name``'s own sessions; its ``Identity.key``. Another user's: refused."""
        if not re.fullmatch(f"[0-9a-f]{{{SESSION_ID_CHARS}}}", session_id):
            raise NoSuchUser(f"no session {session_id!r}")
        with self._engine.begin() as conn:
            user_id = self._user_row(conn, name).id
            digest = conn.execute(
                sa.select(sessions.c.digest).where(
                    sessions.c.user_id == user_id, sessions.c.digest.startswith(session_id)
                )
            ).scalar()
            if digest is None:
                raise NoSuchUser(f"no session {session_id!r} of {name!r}")
            conn.execute(sa.delete(sessions).where(sessions.c.digest == digest))
            self._event(conn, "logout", name, None, "ended from the sessions list")
        self._touched.pop(digest, None)
        return f"s:{digest}"

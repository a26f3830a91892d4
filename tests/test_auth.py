"""Login with password + TOTP, sessions, CSRF, API tokens, rate limits, the auth record.

The service is tested with a hand-moved clock; the HTTP side against a real uvicorn on
127.0.0.1 over a real SQLite database; the CLI as a real process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus

from api.app import create_app
from mirror.auth import AuthService, LoginRefused, RateLimited, crypto, ratelimit
from mirror.auth.ratelimit import PER_ACCOUNT, PER_ADDRESS, PER_SOURCE, Limit, retry_after_s
from mirror.inventory import Inventory
from mirror.live import LiveHub
from mirror.storage import Store
from tests.test_api import _serve

PASSWORD = "correct horse battery"
T0 = 1_800_000_000.0  # a fixed clock: 30 s TOTP steps start exactly here


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'mirror.db'}")
    store.upgrade()
    yield store
    store.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def auth(store: Store, clock: Clock) -> AuthService:
    return AuthService(store.engine, clock)


@pytest.fixture
def secret(auth: AuthService) -> str:
    return auth.add_user("owner", PASSWORD).totp_secret


def _reasons(auth: AuthService) -> list[str]:
    return [e["detail"] for e in auth.events() if e["kind"] == "login-failed"]


# --- pure parts -------------------------------------------------------------------------


def test_password_hash_is_argon2id_and_verifies() -> None:
    stored = crypto.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert crypto.verify_password(stored, PASSWORD)
    assert not crypto.verify_password(stored, PASSWORD + "x")
    assert not crypto.verify_password(None, PASSWORD)  # unknown user: same work, refused
    assert not crypto.verify_password("not a hash", PASSWORD)


def test_totp_accepts_one_step_of_drift_only() -> None:
    secret = crypto.new_totp_secret()
    here = crypto.totp_step(T0)
    for offset in (-1, 0, 1):
        code = crypto.totp_code(secret, T0 + offset * 30)
        assert crypto.match_totp(secret, code, T0) == here + offset
    for offset in (-2, 2):
        assert crypto.match_totp(secret, crypto.totp_code(secret, T0 + offset * 30), T0) is None
    assert crypto.match_totp(secret, "12345", T0) is None
    assert crypto.match_totp(secret, "abcdef", T0) is None
    spaced = crypto.totp_code(secret, T0)
    assert crypto.match_totp(secret, f" {spaced[:3]} {spaced[3:]} ", T0) == here


def test_rate_limit_decision() -> None:
    limit = Limit(max_failures=3, window_s=60)
    assert retry_after_s([], limit, 100) == 0
    assert retry_after_s([90, 95], limit, 100) == 0
    assert retry_after_s([90, 95, 99], limit, 100) == pytest.approx(50)
    assert retry_after_s([10, 90, 95, 99], limit, 100) == pytest.approx(50)
    assert retry_after_s([30, 35, 39], limit, 100) == 0  # all older than the window


# --- the service ------------------------------------------------------------------------


def test_login_ok_records_event_and_session(auth: AuthService, secret: str) -> None:
    login = auth.login("owner", PASSWORD, crypto.totp_code(secret, T0), "127.0.0.9")
    identity = auth.session(login.token)
    assert identity is not None and identity.name == "owner" and identity.role == "admin"
    assert identity.csrf == login.csrf
    event = auth.events(1)[0]
    assert event["kind"] == "login-ok" and event["address"] == "127.0.0.9"


@pytest.mark.parametrize(
    ("name", "password", "code_at", "reason"),
    [
        ("owner", "wrong password", 0, "wrong-password"),
        ("nobody", PASSWORD, 0, "unknown-user"),
        ("owner", PASSWORD, None, "wrong-totp"),
        ("owner", PASSWORD, -90, "wrong-totp"),  # expired: three steps ago
    ],
)
def test_login_refused_with_one_message(
    auth: AuthService, secret: str, name: str, password: str, code_at: int | None, reason: str
) -> None:
    code = "000000" if code_at is None else crypto.totp_code(secret, T0 + code_at)
    if code_at is None and code == crypto.totp_code(secret, T0):
        code = "000001"
    with pytest.raises(LoginRefused) as refused:
        auth.login(name, password, code, "127.0.0.9")
    assert str(refused.value).startswith("wrong name, password or code")
    assert _reasons(auth) == [reason]


def test_totp_code_is_accepted_once(auth: AuthService, secret: str, clock: Clock) -> None:
    code = crypto.totp_code(secret, T0)
    auth.login("owner", PASSWORD, code, "127.0.0.9")
    with pytest.raises(LoginRefused):
        auth.login("owner", PASSWORD, code, "127.0.0.9")
    # A code older than the last one used (still within the drift window) is a replay too.
    with pytest.raises(LoginRefused):
        auth.login("owner", PASSWORD, crypto.totp_code(secret, T0 - 30), "127.0.0.9")
    # Still refused 30 s later, when it is within the drift window as "the step before".
    clock.now += 30
    with pytest.raises(LoginRefused):
        auth.login("owner", PASSWORD, code, "127.0.0.9")
    assert _reasons(auth) == ["replayed-totp"] * 3
    auth.login("owner", PASSWORD, crypto.totp_code(secret, clock.now), "127.0.0.9")


def test_rate_limit_per_account(
    auth: AuthService, secret: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ratelimit, "PER_ACCOUNT", Limit(5, PER_ACCOUNT.window_s))  # fewer hashes
    for i in range(5):
        with pytest.raises(LoginRefused):
            auth.login("owner", "nope", "000000", f"127.0.1.{i}")
    with pytest.raises(RateLimited) as limited:
        # From an address it never logged in from, even the right password and code wait.
        auth.login("owner", PASSWORD, crypto.totp_code(secret, clock.now), "127.0.2.1")
    assert "this account" in str(limited.value) and "15 min" in str(limited.value)
    assert auth.events(1)[0]["kind"] == "login-limited"
    clock.now += PER_ACCOUNT.window_s + 1
    auth.login("owner", PASSWORD, crypto.totp_code(secret, clock.now), "127.0.2.1")


def test_rate_limit_per_address(auth: AuthService, secret: str, clock: Clock) -> None:
    for i in range(PER_ADDRESS.max_failures):
        with pytest.raises(LoginRefused):
            auth.login(f"guess{i}", "nope", "000000", "127.0.3.3")
    with pytest.raises(RateLimited) as limited:
        auth.login("owner", PASSWORD, crypto.totp_code(secret, clock.now), "127.0.3.3")
    assert "this address" in str(limited.value)
    # Another address is not held back.
    auth.login("owner", PASSWORD, crypto.totp_code(secret, clock.now), "127.0.3.4")


def test_session_expires_when_idle_and_after_logout(
    auth: AuthService, secret: str, clock: Clock
) -> None:
    login = auth.login("owner", PASSWORD, crypto.totp_code(secret, T0), None)
    clock.now += 23 * 3600
    assert auth.session(login.token) is not None  # seen: idle clock restarts
    clock.now += 23 * 3600
    assert auth.session(login.token) is not None
    clock.now += 25 * 3600
    assert auth.session(login.token) is None
    second = auth.login("owner", PASSWORD, crypto.totp_code(secret, clock.now), None)
    auth.logout(second.token)
    assert auth.session(second.token) is None
    assert auth.session("mss_made-up") is None and auth.session("") is None


def test_tokens_scoped_revoked_expired_and_recorded(
    auth: AuthService, clock: Clock, secret: str
) -> None:
    info, read = auth.create_token("grafana", "read")
    assert read.startswith("mst_") and info.prefix == read[:10]
    identity = auth.check_token(read, "127.0.0.5")
    assert identity is not None and identity.scope == "read" and identity.role == "viewer"
    assert auth.events(1)[0]["kind"] == "token-used"
    listed = auth.list_tokens()
    assert [t.id for t in listed] == [info.id] and listed[0].last_used == T0
    assert read not in repr(listed)

    auth.revoke_token(info.id)
    assert auth.check_token(read, "127.0.0.5") is None
    assert auth.events(1)[0] == {
        "ts": T0,
        "kind": "token-refused",
        "user": None,
        "address": "127.0.0.5",
        "detail": f"token {info.id} revoked",
    }

    short, secret_short = auth.create_token("cron", "operate", user="owner", expires_in_s=60)
    clock.now += 61
    assert auth.check_token(secret_short) is None
    assert auth.events(1)[0]["detail"] == f"token {short.id} expired"
    assert auth.check_token("mst_unknown") is None and auth.check_token("junk") is None


def test_token_for_unknown_user_or_scope_is_refused(auth: AuthService) -> None:
    with pytest.raises(Exception, match="no user named 'ghost'"):
        auth.create_token("x", "read", user="ghost")
    with pytest.raises(Exception, match="unknown scope 'write'"):
        auth.create_token("x", "write")
    with pytest.raises(Exception, match="no token with id 99"):
        auth.revoke_token(99)


def test_login_link_works_once_and_expires(auth: AuthService, secret: str, clock: Clock) -> None:
    link = auth.create_login_link("owner", ttl_s=60)
    assert auth.login_with_link(link, "127.0.0.1").user == "owner"
    with pytest.raises(LoginRefused):
        auth.login_with_link(link, "127.0.0.1")
    late = auth.create_login_link("owner", ttl_s=60)
    clock.now += 61
    with pytest.raises(LoginRefused):
        auth.login_with_link(late, "127.0.0.1")
    assert _reasons(auth) == ["link-expired", "link-already-used"]


def test_reset_user_ends_sessions_and_no_secret_stored(
    auth: AuthService, secret: str, store: Store
) -> None:
    login = auth.login("owner", PASSWORD, crypto.totp_code(secret, T0), None)
    _, token = auth.create_token("t", "read")
    auth.add_user("owner", "another password", replace=True)
    assert auth.session(login.token) is None
    dump = "\n".join(store.engine.raw_connection().driver_connection.iterdump())  # type: ignore[union-attr]
    for plain in (PASSWORD, "another password", login.token, token):
        assert plain not in dump


def test_bad_user_input_is_refused(auth: AuthService) -> None:
    with pytest.raises(Exception, match="at least 8"):
        auth.add_user("owner", "short")
    with pytest.raises(Exception, match="bad user name"):
        auth.add_user("has space", PASSWORD)
    with pytest.raises(Exception, match="unknown role"):
        auth.add_user("owner", PASSWORD, "root")
    auth.add_user("owner", PASSWORD)
    with pytest.raises(Exception, match="exists"):
        auth.add_user("owner", PASSWORD)


# --- over HTTP --------------------------------------------------------------------------


@pytest.fixture
async def served(store: Store) -> AsyncIterator[tuple[str, AuthService, LiveHub]]:
    hub = LiveHub()
    auth = AuthService(store.engine)
    inventory = Inventory.from_dict(
        {"hosts": [{"name": "alpha", "address": "127.77.0.1"}]}, "test.yaml"
    )
    async for address in _serve(create_app(store, hub, inventory, auth=auth)):
        yield address, auth, hub


async def _login(client: httpx.AsyncClient, auth: AuthService) -> dict[str, str]:
    secret = auth.add_user("owner", PASSWORD).totp_secret
    import time

    response = await client.post(
        "/api/auth/login",
        json={"name": "owner", "password": PASSWORD, "code": crypto.totp_code(secret, time.time())},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_every_route_needs_login_but_health(
    served: tuple[str, AuthService, LiveHub],
) -> None:
    address, _, _ = served
    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        assert (await client.get("/api/health")).status_code == 200
        assert (await client.get("/")).status_code == 200  # the page itself: code, no data
        for path in ("/api/hosts", "/api/hosts/alpha", "/api/auth/me", "/schema/openapi.json"):
            response = await client.get(path)
            assert response.status_code == 401, path
            assert response.json()["error"].startswith("login required")
        bad = await client.get("/api/hosts", headers={"Authorization": "Basic abc"})
        assert bad.status_code == 401 and "Bearer" in bad.json()["error"]


async def test_session_cookie_csrf_and_logout(served: tuple[str, AuthService, LiveHub]) -> None:
    address, auth, _ = served
    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        body = await _login(client, auth)
        cookie = client.cookies.jar._cookies  # type: ignore[attr-defined]
        assert body["user"] == "owner" and body["role"] == "admin" and body["csrf"]
        raw = next(c for d in cookie.values() for p in d.values() for c in p.values())
        assert raw.name == "mirror_session"
        assert raw.has_nonstandard_attr("HttpOnly") and not raw.secure
        assert raw.get_nonstandard_attr("SameSite").lower() == "strict"
        assert (await client.get("/api/hosts")).status_code == 200
        me = (await client.get("/api/auth/me")).json()
        assert me["csrf"] == body["csrf"] and me["via"] == "session"

        refused = await client.post("/api/auth/logout")
        assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["error"]
        wrong = await client.post("/api/auth/logout", headers={"X-CSRF-Token": "0" * 64})
        assert wrong.status_code == 403
        ok = await client.post("/api/auth/logout", headers={"X-CSRF-Token": body["csrf"]})
        assert ok.status_code == 200
        assert (await client.get("/api/hosts")).status_code == 401
    assert [e["kind"] for e in auth.events(2)] == ["logout", "login-ok"]


async def test_login_over_http_refusals(served: tuple[str, AuthService, LiveHub]) -> None:
    address, auth, _ = served
    auth.add_user("owner", PASSWORD)
    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        form = await client.post("/api/auth/login", data={"name": "owner"})
        assert form.status_code == 415
        foreign = await client.post(
            "/api/auth/login",
            json={"name": "owner", "password": PASSWORD, "code": "000000"},
            headers={"Origin": "http://evil.example"},
        )
        assert foreign.status_code == 403
        garbage = await client.post(
            "/api/auth/login", content=b"{", headers={"content-type": "application/json"}
        )
        assert garbage.status_code == 400 and "bad login request" in garbage.json()["error"]
        for _ in range(PER_SOURCE.max_failures):
            wrong = await client.post(
                "/api/auth/login", json={"name": "owner", "password": "x", "code": "000000"}
            )
            assert wrong.status_code == 401
            assert wrong.json() == {"error": LoginRefused("x").args[0]}
        limited = await client.post(
            "/api/auth/login", json={"name": "owner", "password": "x", "code": "000000"}
        )
        assert limited.status_code == 429
        assert "too many failed logins" in limited.json()["error"]
        assert int(limited.headers["retry-after"]) > 0
        assert "Traceback" not in limited.text


async def test_tokens_over_http(served: tuple[str, AuthService, LiveHub]) -> None:
    address, auth, _ = served
    info, read = auth.create_token("script", "read")
    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        headers = {"Authorization": f"Bearer {read}"}
        assert (await client.get("/api/hosts", headers=headers)).status_code == 200
        post = await client.post("/api/auth/logout", headers=headers)
        assert post.status_code == 403 and "scope is 'read'" in post.json()["error"]
        auth.revoke_token(info.id)
        revoked = await client.get("/api/hosts", headers=headers)
        assert revoked.status_code == 401 and "revoked" in revoked.json()["error"]


async def test_websocket_needs_session_or_token(served: tuple[str, AuthService, LiveHub]) -> None:
    address, auth, hub = served
    with pytest.raises(InvalidStatus) as refused:
        async with ws_connect(f"ws://{address}/api/live"):
            pass
    assert refused.value.response.status_code == 403
    assert hub.subscriber_count == 0

    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        await _login(client, auth)
        cookie = f"mirror_session={client.cookies['mirror_session']}"
    with pytest.raises(InvalidStatus):
        async with ws_connect(
            f"ws://{address}/api/live",
            additional_headers={"Cookie": cookie},
            origin="http://evil.example",  # type: ignore[arg-type]
        ):
            pass
    async with ws_connect(
        f"ws://{address}/api/live",
        additional_headers={"Cookie": cookie},
        origin=f"http://{address}",  # type: ignore[arg-type]
    ) as ws:
        for _ in range(200):
            if hub.subscriber_count == 1:
                break
            import asyncio

            await asyncio.sleep(0.01)
        hub.publish({"type": "host", "host": "alpha"})
        assert "alpha" in await ws.recv()


async def test_login_link_over_http(served: tuple[str, AuthService, LiveHub]) -> None:
    address, auth, _ = served
    auth.add_user("demo", PASSWORD)
    link = auth.create_login_link("demo")
    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        first = await client.get(f"/api/auth/link?token={link}")
        assert first.status_code in (302, 303, 307) and first.headers["location"] == "/"
        assert (await client.get("/api/auth/me")).json()["user"] == "demo"
        client.cookies.clear()
        again = await client.get(f"/api/auth/link?token={link}")
        assert again.headers["location"] == "/?login_error=link"
        assert "mirror_session" not in client.cookies


# --- the command line -------------------------------------------------------------------


def _mirror(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MIRROR_DATA_DIR": str(tmp_path / "data"), "NEW_PW": PASSWORD}
    env.pop("MIRROR_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        stdin=subprocess.DEVNULL,
    )


def test_cli_user_and_tokens(tmp_path: Path) -> None:
    added = _mirror(["user", "add", "owner", "--password-env", "NEW_PW"], tmp_path)
    assert added.returncode == 0, added.stderr
    assert "otpauth://totp/MIRROR%20STAGE:owner?secret=" in added.stdout
    assert "█" in added.stdout  # the QR code, drawn with block characters
    again = _mirror(["user", "add", "owner", "--password-env", "NEW_PW"], tmp_path)
    assert again.returncode == 1 and "exists" in again.stderr and "Traceback" not in again.stderr

    created = _mirror(["token", "create", "--scope", "read", "--name", "grafana"], tmp_path)
    assert created.returncode == 0, created.stderr
    secret = next(w for w in created.stdout.split() if w.startswith("mst_") and len(w) > 40)
    listed = _mirror(["token", "list"], tmp_path)
    assert "grafana" in listed.stdout and "active" in listed.stdout
    assert secret not in listed.stdout
    assert "revoked" in _mirror(["token", "revoke", "1"], tmp_path).stdout
    missing = _mirror(["token", "revoke", "42"], tmp_path)
    assert missing.returncode == 1 and "no token with id 42" in missing.stderr

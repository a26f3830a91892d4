"""A PostgreSQL outage with open sessions and tokens: a real cluster of the test's own,
stopped and started under a running API (real HTTP, real sign-in)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from api.app import create_app
from mirror.auth import AuthService
from mirror.auth.cache import DEFAULT_TTL_S
from mirror.inventory import Inventory
from mirror.live import LiveHub
from mirror.storage import Store
from tests.support.pgserver import PgServer, start_pg
from tests.test_api import _serve


@pytest.fixture
def own_pg() -> Iterator[PgServer]:
    try:
        server = start_pg()
    except (OSError, RuntimeError, subprocess.CalledProcessError) as e:
        pytest.fail(f"cannot start a PostgreSQL server for this test: {e}")
    yield server
    server.destroy()


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def app(own_pg: PgServer) -> AsyncIterator[tuple[str, Store, Clock]]:
    store = Store.open(own_pg.url)
    store.upgrade()
    clock = Clock()
    inventory = Inventory.from_dict({"hosts": [{"name": "a", "address": "127.77.4.1"}]}, "t.yaml")
    try:
        async for address in _serve(create_app(store, LiveHub(), inventory, clock=clock)):
            yield address, store, clock
    finally:
        store.close()


async def test_an_outage_lets_recent_sessions_and_tokens_in_and_says_so(
    app: tuple[str, Store, Clock], own_pg: PgServer
) -> None:
    address, store, clock = app
    auth = AuthService(store.engine)
    _, known = auth.create_token("known", "read")
    _, stranger = auth.create_token("stranger", "read")  # never used before the outage
    revoked_info, revoked = auth.create_token("revoked", "read")
    base = f"http://{address}"

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async with httpx.AsyncClient(base_url=base, timeout=15) as client:
        for token in (known, revoked):
            assert (await client.get("/api/auth/me", headers=bearer(token))).status_code == 200
        auth.revoke_token(revoked_info.id)  # honoured at once while the database is up
        assert (await client.get("/api/auth/me", headers=bearer(revoked))).status_code == 401
        health = (await client.get("/api/health")).json()
        assert health["auth"]["database_checks"] == "ok" and health["status"] == "ok"

        own_pg.stop()
        me = await client.get("/api/auth/me", headers=bearer(known))
        assert me.status_code == 200 and me.json()["user"] == "token:1"
        # Nothing the database confirmed lately: refused as before, 503 (not a 401: the
        # token may be fine).
        assert (await client.get("/api/auth/me", headers=bearer(stranger))).status_code == 503
        assert (await client.get("/api/auth/me", headers=bearer(revoked))).status_code == 503
        health = (await client.get("/api/health")).json()
        assert health["status"] == "degraded"
        assert health["auth"]["database_checks"] == "failing"
        assert health["auth"]["served_from_cache"] == 1
        assert any("authentication is degraded" in p for p in health["problems"])
        # A route that needs the database says so; the identity got through.
        hosts = await client.get("/api/hosts", headers=bearer(known))
        assert hosts.status_code == 503, hosts.text
        # Past the cache's time the known token is refused too.
        clock.now += DEFAULT_TTL_S + 1
        assert (await client.get("/api/auth/me", headers=bearer(known))).status_code == 503

        own_pg.start()
        assert (await client.get("/api/auth/me", headers=bearer(known))).status_code == 200
        assert (await client.get("/api/auth/me", headers=bearer(revoked))).status_code == 401
        health = (await client.get("/api/health")).json()
        assert health["auth"]["database_checks"] == "ok"
        assert not any("authentication" in p for p in health["problems"])

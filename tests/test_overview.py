"""GET /api/overview, gzip and the UI files' caching, served by a real uvicorn over SQLite."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.overview import AnswerCache, Overview, fleet_metrics
from mirror.auth import AuthService
from mirror.inventory import Inventory
from mirror.live import LiveHub
from mirror.model import HostState, PollStatus, Snapshot
from mirror.storage import Store
from tests.test_api import NOW, _serve, hub, inventory, store  # noqa: F401 - fixtures


async def _client(app, db: Store) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    _, token = AuthService(db.engine).create_token("tests", "read")
    async for address in _serve(app):
        async with httpx.AsyncClient(
            base_url=f"http://{address}", timeout=10, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            yield client


@pytest.fixture
async def client(
    store: Store,  # noqa: F811
    hub: LiveHub,  # noqa: F811
    inventory: Inventory,  # noqa: F811
) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(create_app(store, hub, inventory), store):
        yield client


def test_fleet_metrics_are_the_columns_series() -> None:
    latest = {
        "cpu.busy_pct": 1.0,
        "cpu.busy_pct[0]": 2.0,
        "mem.used_pct": 3.0,
        "mem.total_bytes": 4.0,
        "load.1": 5.0,
        "load.5": 6.0,
        "fs.used_pct[/]": 7.0,
        "fs.used_bytes[/]": 8.0,
        "net.rx_bytes_per_s[eth0]": 9.0,
        "net.rx_errs_per_s[eth0]": 10.0,
        "net.tx_bytes_per_s[eth0]": 11.0,
        "temp.celsius[nvme/Composite]": 12.0,
        "gpu.util_pct[0]": 13.0,
        "gpu.mem_used_pct[0]": 14.0,
    }
    assert set(fleet_metrics(latest)) == {
        "cpu.busy_pct",
        "mem.used_pct",
        "load.1",
        "fs.used_pct[/]",
        "net.rx_bytes_per_s[eth0]",
        "net.tx_bytes_per_s[eth0]",
        "temp.celsius[nvme/Composite]",
        "gpu.util_pct[0]",
    }


async def test_overview_holds_what_the_fleet_table_draws(
    client: httpx.AsyncClient,
    store: Store,  # noqa: F811
) -> None:
    store.write(
        [Snapshot("ping/127.77.0.1", NOW - 5, {"ping.up": 1.0, "ping.rtt_avg_ms": 0.25})],
        [PollStatus("ping/127.77.0.1", HostState.UP, NOW - 5)],
    )
    store.write(
        [Snapshot("ping/127.77.0.2", NOW - 5, {"ping.up": 0.0, "ping.loss_pct": 100.0})],
        [PollStatus("ping/127.77.0.2", HostState.UNREACHABLE, NOW - 5)],
    )
    response = await client.get("/api/overview")
    assert response.status_code == 200
    body = response.json()
    # index.html preloads it under its own URL (web/src/overview.ts): the same answer
    preloaded = (await client.get("/api/overview", params={"preload": "1"})).json()
    assert preloaded["hosts"] == body["hosts"]
    assert body["spark_step_s"] == 60
    assert body["spark_from"] == (NOW - 600) // 60 * 60  # the oldest minute any host has
    alpha, beta, ego = body["hosts"]
    assert [alpha["name"], beta["name"], ego["name"]] == ["alpha", "beta", "ego"]
    # alpha: identity, the fleet columns' values only (no per-core CPU), no info
    assert alpha["address"] == "127.77.0.1" and alpha["tags"] == ["rack-1", "서버"]
    assert alpha["metrics"] == {"cpu.busy_pct": 12.5, "net.rx_bytes_per_s[eth0]": 1000.0}
    assert "info" not in alpha and alpha["state"] == "up"
    assert alpha["ping_ms"] == 0.25
    # the last hour of 1-minute averages: polls 10, 5 and 1 minutes ago (2 h ago is out)
    spark = alpha["spark"]["cpu.busy_pct"]
    assert len(spark) == (body["ts"] - body["spark_from"]) // 60 + 1 and spark[0] == 10.0
    assert [v for v in spark if v is not None] == [10.0, 11.0, 12.5]
    assert spark[5] == 11.0  # 5 minutes later
    assert "mem.used_pct" not in alpha["spark"]  # alpha has no such series
    # beta: down, with its error; its ping fails too
    assert beta["state"] == "unreachable" and beta["error"] == "connection refused"
    assert "ping_ms" not in beta and beta["ping_loss_pct"] == 100.0
    # ego: never polled; fields at their default are left out of the answer
    assert ego == {"name": "ego", "address": "127.0.0.1", "state": "pending"}


async def test_overview_sparkline_series_can_be_chosen(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/overview", params={"spark": ["cpu.busy_pct[0]"]})).json()
    assert list(body["hosts"][0]["spark"]) == ["cpu.busy_pct[0]"]
    assert {v for v in body["hosts"][0]["spark"]["cpu.busy_pct[0]"] if v is not None} == {20.0}


async def test_targets_list_names_groups_and_state_only(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/targets")
    assert response.status_code == 200
    alpha, beta, ego = response.json()
    assert alpha == {"name": "alpha", "tags": ["rack-1", "서버"], "state": "up"}
    assert beta == {"name": "beta", "state": "unreachable"}
    assert ego == {"name": "ego", "state": "pending"}
    # what the Run page used before: every latest value and identity of every host
    full = await client.get("/api/hosts")
    assert len(response.content) * 5 < len(full.content)


async def test_overview_answers_are_shared_for_a_moment(
    client: httpx.AsyncClient,
    store: Store,  # noqa: F811
) -> None:
    first = (await client.get("/api/overview")).json()
    store.write([], [PollStatus("ego", HostState.UP, NOW)])
    # within max_age_s the same build is served (gzipped or not), then a new one
    again = await client.get("/api/overview", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in again.headers and again.json() == first
    assert first["hosts"][2] == {"name": "ego", "address": "127.0.0.1", "state": "pending"}


async def test_a_signed_in_page_load_starts_the_overview(
    tmp_path: Path,
    store: Store,  # noqa: F811
    hub: LiveHub,  # noqa: F811
    inventory: Inventory,  # noqa: F811
) -> None:
    (tmp_path / "index.html").write_text("<p>fleet</p>")
    app = create_app(store, hub, inventory, static_dir=tmp_path)
    async for client in _client(app, store):
        # the page, with a session cookie: the overview is built then, before it is asked for
        assert (await client.get("/", headers={"Cookie": "mirror_session=s"})).status_code == 200
        await asyncio.sleep(0.5)
        store.write([], [PollStatus("ego", HostState.UP, NOW)])
        hosts = (await client.get("/api/overview")).json()["hosts"]
        assert hosts[2]["state"] == "pending"  # as it was when the page was asked for
        # without a session (the login page) nothing is built ahead
        await asyncio.sleep(AnswerCache().max_age_s + 0.1)
        assert (await client.get("/")).status_code == 200
        await asyncio.sleep(0.5)
        store.write([], [PollStatus("ego", HostState.UNREACHABLE, NOW, error="gone")])
        hosts = (await client.get("/api/overview")).json()["hosts"]
        assert hosts[2]["state"] == "unreachable"


def test_answer_cache_builds_once_while_fresh() -> None:
    now = [100.0]
    cache = AnswerCache(max_age_s=2.0, clock=lambda: now[0])
    builds: list[float] = []

    def build() -> Overview:
        builds.append(now[0])
        return Overview(ts=now[0], spark_from=0.0, spark_step_s=60.0, hosts=[])

    body, packed = cache.get(("a",), build)
    assert gzip.decompress(packed) == body and b'"ts":100.0' in body
    now[0] = 101.875
    assert cache.get(("a",), build) == (body, packed) and builds == [100.0]
    cache.get(("b",), build)  # another series list: its own answer
    now[0] = 102.125
    assert b'"ts":102.125' in cache.get(("a",), build)[0]
    assert builds == [100.0, 101.875, 102.125]


async def test_big_answers_are_gzipped(client: httpx.AsyncClient) -> None:
    headers = {"Accept-Encoding": "gzip"}
    schema = await client.get("/schema/openapi.json", headers=headers)
    assert schema.headers["content-encoding"] == "gzip"
    assert int(schema.headers["content-length"]) < len(schema.content) / 3
    health = await client.get("/api/health", headers=headers)  # under 1 kB: as is
    assert "content-encoding" not in health.headers


async def test_hashed_assets_are_kept_and_the_page_revalidated(
    tmp_path: Path,
    store: Store,  # noqa: F811
    hub: LiveHub,  # noqa: F811
    inventory: Inventory,  # noqa: F811
) -> None:
    web = tmp_path / "web"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text('<script src="/assets/index-Ab12.js"></script>')
    script = "export const fleet = 1;\n" * 200
    (web / "assets" / "index-Ab12.js").write_text(script)
    app = create_app(store, hub, inventory, static_dir=web)
    async for client in _client(app, store):
        client.headers.pop("Authorization")  # the UI's files need no login
        asset = await client.get("/assets/index-Ab12.js", headers={"Accept-Encoding": "gzip"})
        assert asset.status_code == 200 and asset.text == script
        assert "immutable" in asset.headers["cache-control"]
        assert "max-age=31536000" in asset.headers["cache-control"]
        assert asset.headers["content-encoding"] == "gzip"
        assert len(gzip.compress(script.encode())) < len(script) / 10
        page = await client.get("/")
        assert page.status_code == 200 and "index-Ab12.js" in page.text
        assert page.headers["cache-control"] == "no-cache"
        assert (await client.get("/assets/missing.js")).status_code == 404
        # gzipped once when read, not per request: the bytes on the wire are that gzip
        async with client.stream(
            "GET", "/assets/index-Ab12.js", headers={"Accept-Encoding": "gzip"}
        ) as raw:
            assert gzip.decompress(b"".join([c async for c in raw.aiter_raw()])) == script.encode()
        plain = await client.get("/assets/index-Ab12.js", headers={"Accept-Encoding": "gzip;q=0"})
        assert "content-encoding" not in plain.headers and plain.text == script
        assert plain.headers["content-type"].startswith("text/javascript")
        # a file built while EGO runs is found; nothing outside the folder is
        (web / "assets" / "late-Cd34.css").write_text("a{}")
        assert (await client.get("/assets/late-Cd34.css")).text == "a{}"
        (tmp_path / "secret.txt").write_text("no")
        for name in ("..%2Fsecret.txt", "%2E%2E", ".hidden"):
            assert (await client.get(f"/assets/{name}")).status_code == 404
        started = time.perf_counter()
        assert (await client.get("/api/overview")).status_code == 401
        assert time.perf_counter() - started < 5

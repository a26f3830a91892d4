"""The Litestar API, served by a real uvicorn on 127.0.0.1, over a real SQLite store."""

from __future__ import annotations

import ast
import asyncio
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import connect as ws_connect

from api.app import create_app
from api.timeparse import parse_time
from ego.runtime import SERVER_OPTIONS
from mirror.auth import AuthService
from mirror.inventory import Inventory
from mirror.live import LiveHub
from mirror.model import HostState, PollStatus, Snapshot
from mirror.storage import Store
from tests.support.browser import CHROMIUM, launch_async

ROOT = Path(__file__).resolve().parents[1]

# Secret references that must never leave EGO through the API.
PASSWORD_ENV = "MIRROR_TEST_API_PASSWORD"
PASSWORD_VALUE = "hunter2-never-shown"
KEY_FILE = "/secret/keys/id_api_test"
SSH_USER = "sekrit-login"
SECRETS = (PASSWORD_ENV, PASSWORD_VALUE, KEY_FILE, "id_api_test", SSH_USER)

NOW = time.time()  # the app's clock (the server fixture): answers do not age as the suite runs

INVENTORY = {
    "defaults": {"ssh": {"user": SSH_USER, "key_file": KEY_FILE}},
    "hosts": [
        {
            "name": "alpha",
            "address": "127.77.0.1",
            "groups": [],
            "tags": ["rack-1", "서버"],
            "mac": "52:54:00:12:34:56",
        },
        {"name": "beta", "address": "127.77.0.2", "ssh": {"password_env": PASSWORD_ENV}},
        {"name": "ego", "address": "127.0.0.1", "local": True},
    ],
}

ALPHA_METRICS = {
    "cpu.busy_pct": 12.5,
    "cpu.busy_pct[0]": 20.0,
    "net.rx_bytes_per_s[eth0]": 1000.0,
}


def _snapshot(host: str, ts: float, busy: float) -> Snapshot:
    return Snapshot(host, ts, {**ALPHA_METRICS, "cpu.busy_pct": busy}, {"os": "Debian 12"})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'mirror.db'}")
    store.upgrade()
    # alpha: polled four times (one of them two hours ago); beta: down; ego: never polled;
    # "retired": stored data of a host no longer in the inventory.
    for ts, busy in ((NOW - 7200, 90.0), (NOW - 600, 10.0), (NOW - 300, 11.0), (NOW - 60, 12.5)):
        store.write(
            [_snapshot("alpha", ts, busy)], [PollStatus("alpha", HostState.UP, ts, None, 4.2)]
        )
    store.write(
        [], [PollStatus("beta", HostState.UNREACHABLE, NOW - 30, "connection refused", 1.0)]
    )
    store.write(
        [Snapshot("retired", NOW - 86400, {"cpu.busy_pct": 1.0})],
        [PollStatus("retired", HostState.UP, NOW - 86400)],
    )
    yield store
    store.close()


@pytest.fixture
def inventory(monkeypatch: pytest.MonkeyPatch) -> Inventory:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD_VALUE)
    return Inventory.from_dict(INVENTORY, "test-inventory.yaml")


@pytest.fixture
def hub() -> LiveHub:
    return LiveHub()


async def _serve(app: Any) -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", **SERVER_OPTIONS)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


@pytest.fixture
async def server(store: Store, hub: LiveHub, inventory: Inventory) -> AsyncIterator[str]:
    async for address in _serve(create_app(store, hub, inventory, clock=lambda: NOW)):
        yield address


@pytest.fixture
def auth_headers(store: Store) -> dict[str, str]:
    """A read token: every route but login and health needs a session or a token."""
    _, secret = AuthService(store.engine).create_token("tests", "read")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
async def client(server: str, auth_headers: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=f"http://{server}", timeout=10, headers=auth_headers
    ) as client:
        yield client


def _assert_error(response: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    for word in words:
        assert word in body["error"], body
    assert "Traceback" not in response.text
    return body


# --- health ----------------------------------------------------------------------------


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"]
    assert body["hosts"] == 3
    assert body["database"] == "sqlite"
    assert body["live_subscribers"] == 0


async def test_health_is_degraded_while_storage_refuses_writes(
    client: httpx.AsyncClient, store: Store
) -> None:
    # What the writer records when the database refuses a batch (tests/test_storage_live.py
    # makes a real one refuse).
    store.health.failing_since = time.time()
    store.health.last_error = "writing to sqlite:///m.db: disk I/O error"
    body = (await client.get("/api/health")).json()
    assert body["status"] == "degraded"
    assert body["problems"] == [
        "storage is not writable: writing to sqlite:///m.db: disk I/O error"
    ]
    assert body["storage"]["writable"] is False
    store.health.failing_since = store.health.last_error = None
    body = (await client.get("/api/health")).json()
    assert body["status"] == "ok" and body["problems"] == []


# --- hosts -----------------------------------------------------------------------------


async def test_hosts_join_inventory_and_store(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/hosts")
    assert response.status_code == 200
    hosts = response.json()
    assert [h["name"] for h in hosts] == ["alpha", "beta", "ego"]  # inventory order
    alpha, beta, ego = hosts

    assert alpha["address"] == "127.77.0.1"
    assert alpha["tags"] == ["rack-1", "서버"]
    assert alpha["mac"] == "52:54:00:12:34:56"
    assert alpha["state"] == "up"
    assert alpha["ts"] == pytest.approx(NOW - 60)
    assert alpha["duration_ms"] == pytest.approx(4.2)
    assert alpha["metrics"] == ALPHA_METRICS
    assert alpha["info"] == {"os": "Debian 12"}
    assert alpha["in_inventory"] is True

    assert beta["state"] == "unreachable"
    assert beta["error"] == "connection refused"

    # Never polled: listed anyway, as pending.
    assert ego["state"] == "pending"
    assert ego["local"] is True
    assert ego["metrics"] == {} and ego["ts"] is None and ego["error"] is None


async def test_hosts_only_in_store_listed_on_request(client: httpx.AsyncClient) -> None:
    names = [h["name"] for h in (await client.get("/api/hosts")).json()]
    assert "retired" not in names
    hosts = (await client.get("/api/hosts", params={"all": "true"})).json()
    assert [h["name"] for h in hosts] == ["alpha", "beta", "ego", "retired"]
    retired = hosts[-1]
    assert retired["in_inventory"] is False
    assert retired["address"] is None
    assert retired["metrics"] == {"cpu.busy_pct": 1.0}


async def test_host_detail(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/hosts/alpha")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "alpha" and body["state"] == "up"
    assert sorted(body["series"]) == sorted(ALPHA_METRICS)

    pending = (await client.get("/api/hosts/ego")).json()
    assert pending["state"] == "pending" and pending["series"] == []

    # History of a host removed from the inventory stays reachable by name.
    retired = await client.get("/api/hosts/retired")
    assert retired.status_code == 200 and retired.json()["series"] == ["cpu.busy_pct"]


async def test_unknown_host_is_404_json(client: httpx.AsyncClient) -> None:
    _assert_error(await client.get("/api/hosts/nosuch"), 404, "nosuch")
    _assert_error(
        await client.get("/api/hosts/nosuch/series", params={"metric": "cpu.busy_pct"}),
        404,
        "nosuch",
    )


async def test_unknown_route_is_404_json(client: httpx.AsyncClient) -> None:
    _assert_error(await client.get("/api/nothing-here"), 404)


# --- series ----------------------------------------------------------------------------


async def test_series_default_range_is_last_hour(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/hosts/alpha/series", params={"metric": "cpu.busy_pct"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["host"] == "alpha" and body["metric"] == "cpu.busy_pct"
    assert body["to"] - body["from"] == pytest.approx(3600)
    assert body["to"] == NOW
    assert [value for _, value in body["points"]] == [10.0, 11.0, 12.5]
    assert body["points"][0][0] == pytest.approx(NOW - 600, abs=0.01)


async def test_series_relative_iso_and_unix_times(client: httpx.AsyncClient) -> None:
    url = "/api/hosts/alpha/series"
    relative = (await client.get(url, params={"metric": "cpu.busy_pct", "from": "-3h"})).json()
    assert [v for _, v in relative["points"]] == [90.0, 10.0, 11.0, 12.5]

    start = datetime.fromtimestamp(NOW - 400, UTC).isoformat()
    iso = await client.get(url, params={"metric": "cpu.busy_pct", "from": start, "to": "now"})
    assert iso.status_code == 200, iso.text
    assert [v for _, v in iso.json()["points"]] == [11.0, 12.5]

    unix = await client.get(
        url,
        params={"metric": "cpu.busy_pct", "from": str(NOW - 700), "to": str(NOW - 200)},
    )
    body = unix.json()
    assert body["from"] == pytest.approx(NOW - 700) and body["to"] == pytest.approx(NOW - 200)
    assert [v for _, v in body["points"]] == [10.0, 11.0]

    per_core = await client.get(url, params={"metric": "cpu.busy_pct[0]", "from": "-90m"})
    assert [v for _, v in per_core.json()["points"]] == [20.0, 20.0, 20.0]


async def test_series_errors_are_400_json(client: httpx.AsyncClient) -> None:
    url = "/api/hosts/alpha/series"
    body = _assert_error(await client.get(url, params={"metric": "nope"}), 400, "nope")
    assert "cpu.busy_pct" in body["detail"]["available"]

    _assert_error(await client.get(url), 400, "metric")  # missing metric
    _assert_error(
        await client.get(url, params={"metric": "cpu.busy_pct", "from": "yesterday-ish"}),
        400,
        "'from'",
        "yesterday-ish",
    )
    _assert_error(
        await client.get(url, params={"metric": "cpu.busy_pct", "to": "nan"}), 400, "'to'"
    )
    _assert_error(
        await client.get(url, params={"metric": "cpu.busy_pct", "from": "now", "to": "-1h"}),
        400,
        "before",
    )
    _assert_error(
        await client.get(url, params={"metric": "cpu.busy_pct", "from": "100", "to": "100"}),
        400,
        "before",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", 1_000_000.0),
        ("-15m", 1_000_000.0 - 900),
        ("now-1h", 1_000_000.0 - 3600),
        ("-2d", 1_000_000.0 - 172_800),
        ("-1.5h", 1_000_000.0 - 5400),
        ("1700000000", 1_700_000_000.0),
        ("1700000000.25", 1_700_000_000.25),
        ("2023-11-14T22:13:20Z", 1_700_000_000.0),
        ("2023-11-15T07:13:20+09:00", 1_700_000_000.0),
        ("2023-11-14T22:13:20", 1_700_000_000.0),  # no offset: UTC
    ],
)
def test_parse_time(text: str, expected: float) -> None:
    assert parse_time(text, now=1_000_000.0) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "soon", "-1y", "+1h", "inf", "2023-13-01", "1h"])
def test_parse_time_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_time(text, now=1_000_000.0)


# --- secrets ---------------------------------------------------------------------------


async def test_no_secret_in_any_response(client: httpx.AsyncClient) -> None:
    urls = [
        "/api/hosts",
        "/api/hosts?all=true",
        "/api/hosts/alpha",
        "/api/hosts/beta",
        "/api/hosts/ego",
        "/api/health",
        "/schema/openapi.json",
    ]
    for url in urls:
        response = await client.get(url)
        assert response.status_code == 200, url
        for secret in SECRETS:
            assert secret not in response.text, (url, secret)
    for host in (await client.get("/api/hosts")).json():
        assert "ssh" not in host


# --- errors never show a traceback -----------------------------------------------------


async def test_internal_error_is_logged_not_shown(
    store: Store,
    hub: LiveHub,
    inventory: Inventory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    auth_headers: dict[str, str],
) -> None:
    def broken(**_: object) -> list[Any]:
        raise RuntimeError("boom at /very/secret/place")

    monkeypatch.setattr(store, "host_rows", broken)
    caplog.set_level(logging.ERROR, logger="api.errors")
    async for address in _serve(create_app(store, hub, inventory)):
        async with httpx.AsyncClient(base_url=f"http://{address}", headers=auth_headers) as client:
            response = await client.get("/api/hosts")
    assert response.status_code == 500
    assert response.json() == {"error": "internal error"}
    assert "boom" not in response.text
    assert any(record.exc_info and "boom" in str(record.exc_info[1]) for record in caplog.records)


async def test_storage_down_is_503(tmp_path: Path, hub: LiveHub, inventory: Inventory) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'empty.db'}")  # never upgraded: no tables
    try:
        async for address in _serve(create_app(store, hub, inventory)):
            # No auth tables either: the token check itself meets the missing database.
            headers = {"Authorization": "Bearer mst_whatever"}
            async with httpx.AsyncClient(base_url=f"http://{address}", headers=headers) as client:
                response = await client.get("/api/hosts")
                health = await client.get("/api/health")
    finally:
        store.close()
    body = _assert_error(response, 503, "database")
    assert "empty.db" not in json.dumps(body)
    assert health.status_code == 200


# --- live stream -----------------------------------------------------------------------


async def _until(predicate: Any, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def test_websocket_receives_published_events(
    server: str, hub: LiveHub, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    event = {
        "type": "host",
        "host": "alpha",
        "state": "up",
        "error": None,
        "ts": NOW,
        "duration_ms": 3.5,
        "metrics": {"cpu.busy_pct": 42.0, "fs.used_pct[/홈]": 50.5},
        "info": {"os": "데비안"},
    }
    async with ws_connect(f"ws://{server}/api/live", additional_headers=auth_headers) as ws:
        await _until(lambda: hub.subscriber_count == 1)
        assert (await client.get("/api/health")).json()["live_subscribers"] == 1
        hub.publish(event)
        hub.publish({**event, "host": "beta", "state": "unreachable", "metrics": {}})
        first = json.loads(await asyncio.wait_for(ws.recv(), 5))
        second = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert first == event
    assert second["host"] == "beta" and second["state"] == "unreachable"
    # The client went away: its subscription is dropped, nothing is left behind.
    await _until(lambda: hub.subscriber_count == 0)


async def test_websocket_client_vanishing_mid_stream(
    server: str, hub: LiveHub, auth_headers: dict[str, str]
) -> None:
    sockets = [
        await ws_connect(f"ws://{server}/api/live", additional_headers=auth_headers)
        for _ in range(3)
    ]
    await _until(lambda: hub.subscriber_count == 3)
    for ws in sockets:
        ws.transport.abort()  # no close frame: as a browser tab that was killed
    for i in range(10):
        hub.publish({"type": "host", "host": "alpha", "ts": NOW + i})
    await _until(lambda: hub.subscriber_count == 0)


# --- OpenAPI and the web page ----------------------------------------------------------


async def test_openapi_schema(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "MIRROR STAGE"
    paths = schema["paths"]
    for path in ("/api/health", "/api/hosts", "/api/hosts/{name}", "/api/hosts/{name}/series"):
        assert "get" in paths[path], path
    params = {p["name"] for p in paths["/api/hosts/{name}/series"]["get"]["parameters"]}
    assert {"name", "metric", "from", "to"} <= params
    page = await client.get("/schema")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")


async def test_minimal_page_served_at_root(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "거울단계" in page.text
    for asset in ("app.js", "style.css"):
        assert asset in page.text
        response = await client.get(f"/{asset}")
        assert response.status_code == 200, asset
    assert "/api/live" in (await client.get("/app.js")).text


async def test_static_dir_replaces_minimal_page(
    tmp_path: Path, store: Store, hub: LiveHub, inventory: Inventory
) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>built UI</title>", "utf-8")
    async for address in _serve(create_app(store, hub, inventory, static_dir=dist)):
        async with httpx.AsyncClient(base_url=f"http://{address}") as client:
            assert "built UI" in (await client.get("/")).text
            assert (await client.get("/api/health")).status_code == 200
            _assert_error(await client.get("/missing.js"), 404)


# --- the seam between api and poller ---------------------------------------------------


def test_api_imports_nothing_from_poller() -> None:
    forbidden = ("poller", "asyncssh", "pysnmp")
    offenders = []
    for path in sorted((ROOT / "api").glob("**/*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""] if node.level == 0 else []
            else:
                continue
            for module in modules:
                if module.split(".")[0] in forbidden:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {module}")
    assert not offenders
    assert list((ROOT / "api").glob("*.py")), "api/ has no modules to check"


async def test_server_stops_with_a_client_still_subscribed(
    store: Store, hub: LiveHub, inventory: Inventory, auth_headers: dict[str, str]
) -> None:
    # Ctrl-C on `mirror serve` while a browser tab is open must not hang on the stream.
    started = None
    async for address in _serve(create_app(store, hub, inventory)):
        ws = await ws_connect(f"ws://{address}/api/live", additional_headers=auth_headers)
        await _until(lambda: hub.subscriber_count == 1)
        started = time.monotonic()
    assert started is not None and time.monotonic() - started < 5
    assert hub.subscriber_count == 0
    await ws.close()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")
async def test_minimal_page_updates_rows_live(server: str, hub: LiveHub, store: Store) -> None:
    async_api = pytest.importorskip("playwright.async_api")
    async with async_api.async_playwright() as playwright:
        browser = await launch_async(playwright)
        try:
            auth = AuthService(store.engine)
            auth.add_user("owner", "minimal-page-pw")
            login = auth.login_with_link(auth.create_login_link("owner"), "127.0.0.1")
            context = await browser.new_context()
            await context.add_cookies(
                [{"name": "mirror_session", "value": login.token, "url": f"http://{server}/"}]
            )
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(f"http://{server}/")
            await page.wait_for_selector("#link.live")
            await page.wait_for_function("document.querySelectorAll('tbody tr').length === 3")
            assert "pending" in await page.inner_text("tbody tr:nth-child(3)")

            hub.publish(
                {
                    "type": "host",
                    "host": "ego",
                    "state": "up",
                    "error": None,
                    "ts": time.time(),
                    "duration_ms": 1.0,
                    "metrics": {
                        "cpu.busy_pct": 77.0,
                        "net.rx_bytes_per_s[eth0]": 1500.0,
                        "net.rx_bytes_per_s[wlan0]": 500.0,
                        "net.rx_bytes_per_s[lo]": 1e9,  # loopback is not summed
                    },
                    "info": None,
                }
            )
            row = "tbody tr:nth-child(3)"
            await page.wait_for_function(
                f"document.querySelector('{row}').innerText.includes('77.0')"
            )
            text = await page.inner_text(row)
            assert "up" in text and "2.0 kB/s" in text
            assert not errors
        finally:
            await browser.close()

"""The time-series API over a real SQLite store: series tiers, fleet overview, trend, health."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from cli.main import main
from mirror.auth import AuthService
from mirror.inventory import Inventory
from mirror.live import LiveHub
from mirror.model import Snapshot
from mirror.storage import Store, trend
from mirror.storage.rollup import roll_up
from tests.test_api import _serve

HOSTS = [f"node{i:02}" for i in range(5)]
DAY = 86400.0
SIZE = 500e9


def test_fit_is_exact_on_linear_data() -> None:
    points = [(1.7e9 + 3600 * k, 40.0 + 0.5 * k) for k in range(200)]
    line = trend.fit(points)
    assert line is not None and line.n == 200 and line.r2 == pytest.approx(1.0)
    assert line.slope_per_day == pytest.approx(12.0, rel=1e-12)
    assert line.at(1.7e9) == pytest.approx(40.0, rel=1e-12)
    assert trend.reaches(line, 100.0, 1.7e9) == pytest.approx(1.7e9 + 5 * DAY, rel=1e-12)
    assert trend.reaches(line, 10.0, 1.7e9) is None  # heading away
    assert trend.fit([(1.0, 2.0)]) is None
    flat = trend.fit([(0.0, 1.0), (1.0, 1.0)])
    assert flat is not None and flat.r2 is None and trend.reaches(flat, 2.0, 0) is None


# Time is the test's: "now" is one of these moments (the app's clock, the data's end), never
# the wall clock's, whose phase in the hour decided whether the last hour bucket was full
# (the 30-day answer failed between xx:01 and xx:03 every hour). The phases: the top of an
# hour (a last bucket of one or two rows), mid-hour, the last seconds of a day and of a month.
MOMENTS = {
    "xx:01:40": 1_780_405_300.0,  # 2026-06-02T13:01:40Z
    "xx:30:20": 1_780_407_020.0,  # 2026-06-02T13:30:20Z
    "23:59:50": 1_780_444_790.0,  # 2026-06-02T23:59:50Z
    "month end": 1_780_271_990.0,  # 2026-05-31T23:59:50Z
}


def cpu(h: int, k: int) -> float:
    return float(h * 10 + k % 3)


def polls(now: float, h: int = 1) -> list[tuple[float, float]]:
    """node0h's cpu.busy_pct as the fixture writes it: (unix seconds, value)."""
    return [(now - 2 * DAY + 60 * k, cpu(h, k)) for k in range(2 * 1440)]


@pytest.fixture(params=list(MOMENTS.values()), ids=list(MOMENTS))
def now(request: pytest.FixtureRequest) -> float:
    return float(request.param)


@pytest.fixture
def store(tmp_path: Path, now: float) -> Iterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'mirror.db'}")
    store.upgrade()
    # Two days at one poll a minute, the last a minute before now; disk use grows 10 GB a
    # day on node00.
    start = now - 2 * DAY
    for h, name in enumerate(HOSTS):
        store.write(
            [
                Snapshot(
                    name,
                    start + 60 * k,
                    {
                        "cpu.busy_pct": cpu(h, k),
                        "fs.used_bytes[/]": 100e9 + 10e9 * (60 * k) / DAY,
                        "fs.size_bytes[/]": SIZE,
                    },
                )
                for k in range(2 * 1440)
            ]
        )
    roll_up(store, round((start + 2 * DAY - 1800) * 1000))  # the last half hour stays raw only
    yield store
    store.close()


@pytest.fixture
async def client(store: Store, now: float) -> AsyncIterator[httpx.AsyncClient]:
    inventory = Inventory.from_dict(
        {"hosts": [{"name": n, "address": f"127.77.1.{i + 1}"} for i, n in enumerate(HOSTS)]},
        "test.yaml",
    )
    async for address in _serve(create_app(store, LiveHub(), inventory, clock=lambda: now)):
        _, token = AuthService(store.engine).create_token("tests", "read")
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            base_url=f"http://{address}", timeout=10, headers=headers
        ) as client:
            yield client


def test_moments_are_the_phases_they_name() -> None:
    from datetime import UTC, datetime

    stamps = {k: datetime.fromtimestamp(v, UTC) for k, v in MOMENTS.items()}
    assert stamps["xx:01:40"].strftime("%M:%S") == "01:40"
    assert stamps["xx:30:20"].strftime("%M:%S") == "30:20"
    assert stamps["23:59:50"].strftime("%H:%M:%S") == "23:59:50"
    month_end = stamps["month end"]
    assert month_end.strftime("%H:%M:%S") == "23:59:50" and (month_end.day, month_end.month) == (
        31,
        5,
    )


async def test_series_says_which_tier_it_served(client: httpx.AsyncClient, now: float) -> None:
    url = "/api/hosts/node01/series"
    hour = (await client.get(url, params={"metric": "cpu.busy_pct", "from": "-1h"})).json()
    assert hour["tier"] == "raw" and hour["step_s"] is None and len(hour["points"]) == 60
    assert hour["to"] == now
    day = (await client.get(url, params={"metric": "cpu.busy_pct", "from": "-24h"})).json()
    assert day["tier"] == "1m" and day["sources"] == ["1m", "raw"] and day["step_s"] == 60
    # The minute buckets that start within the day (the first poll's bucket starts before it).
    minutes = sorted({ts // 60 * 60 for ts, _ in polls(now)})
    assert [t for t, _ in day["points"]] == [b for b in minutes if b >= now - DAY]
    month = (await client.get(url, params={"metric": "cpu.busy_pct", "from": "-30d"})).json()
    assert month["tier"] == "1h" and month["sources"][0] == "1h"
    # Each hour bucket is the mean of the polls in it: 11 (10 + mean of 0, 1, 2) for a full
    # hour; the first and last hours hold only part of one, whatever their phase.
    expected: dict[float, list[float]] = {}
    for ts, value in polls(now):
        expected.setdefault(ts // 3600 * 3600, []).append(value)
    assert [ts for ts, _ in month["points"]] == sorted(expected)
    for ts, value in month["points"]:
        assert value == pytest.approx(sum(expected[ts]) / len(expected[ts])), ts
    full = [v for ts, v in month["points"] if len(expected[ts]) == 60]
    assert len(full) >= 46 and {round(v, 9) for v in full} == {11.0}


async def test_fleet_overview(client: httpx.AsyncClient, now: float) -> None:
    body = (await client.get("/api/fleet")).json()
    assert body["metric"] == "cpu.busy_pct" and body["step_s"] == 60
    assert [h["name"] for h in body["hosts"]] == HOSTS
    node3 = body["hosts"][3]
    assert node3["latest"] in (30.0, 31.0, 32.0) and node3["state"] == "pending"
    # One poll a minute, the last a minute before now: the minute buckets starting in the hour.
    minutes = sorted({ts // 60 * 60 for ts, _ in polls(now, 3)})
    assert [t for t, _ in node3["sparkline"]] == [b for b in minutes if b >= now - 3600]
    assert all(30.0 <= v <= 32.0 for _, v in node3["sparkline"])
    other = (await client.get("/api/fleet", params={"metric": "nope"})).json()
    assert all(h["sparkline"] == [] and h["latest"] is None for h in other["hosts"])


async def test_trend_forecasts_disk_full(client: httpx.AsyncClient) -> None:
    url = "/api/hosts/node00/trend"
    body = (await client.get(url, params={"metric": "fs.used_bytes[/]", "from": "-36h"})).json()
    assert body["slope_per_day"] == pytest.approx(10e9, rel=1e-4)
    assert body["limit"] == SIZE
    # Used is ~120 GB at 'to' (linear from 100 GB two days ago): (500 - 120) / 10 days left.
    assert body["value_now"] == pytest.approx(120e9, rel=1e-4)
    assert body["days_to_limit"] == pytest.approx(38.0, rel=1e-3)
    assert body["pct_per_day"] == pytest.approx(10 / 120 * 100, rel=1e-3)
    pct = (await client.get(url, params={"metric": "cpu.busy_pct", "limit": "50"})).json()
    assert pct["limit"] == 50 and abs(pct["slope_per_day"]) < 0.1
    bad = await client.get(url, params={"metric": "nope"})
    assert bad.status_code == 400 and "nope" in bad.json()["error"]
    missing = await client.get("/api/hosts/ghost/trend", params={"metric": "cpu.busy_pct"})
    assert missing.status_code == 404


async def test_health_reports_storage(client: httpx.AsyncClient, store: Store) -> None:
    store.health.buffered = 12
    storage = (await client.get("/api/health")).json()["storage"]
    assert storage["buffered"] == 12 and storage["writable"] is True


def test_db_info(store: Store, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("MIRROR_DATABASE_URL", store.url)
    assert main(["db", "info"]) == 0
    out = capsys.readouterr().out
    assert "backend   SQLite 3." in out and "journal_mode=wal" in out
    samples_line = next(line for line in out.splitlines() if line.startswith("samples "))
    assert f"{len(HOSTS) * 2 * 1440:,}" in samples_line
    assert "rollup    1m complete up to 20" in out


def test_the_api_reads_storage_through_the_reader_interface() -> None:
    """Only the wiring (api/app.py) knows the Store class; services take a StoreReader and
    use nothing of the store but its methods (no engine, connections, layouts or query)."""
    import re
    from pathlib import Path

    api = Path(__file__).resolve().parents[1] / "api"
    for path in sorted(api.glob("*.py")):
        if path.name == "app.py":
            continue
        text = path.read_text()
        assert not re.search(r"from mirror\.storage import .*\bStore\b", text), path.name
        assert "from mirror.storage import query" not in text, path.name
        assert not re.search(r"store\.(engine|layout|read_connection|narrow)\b", text), path.name

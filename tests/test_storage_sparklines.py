"""The fleet overview's database read (the SQL picks each row's float32) against a plain
decode of every row in Python, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mirror.errors import StorageError
from mirror.model import Snapshot
from mirror.storage import Store, codec
from mirror.storage.query import fleet
from mirror.storage.rollup import roll_up, watermarks
from mirror.storage.schema import hosts, layouts, rollup_1m, samples, series
from mirror.storage.sparklines import decode_rollup, offset_case, read_fleet
from tests.test_storage import db_url, pg_url  # noqa: F401 - fixtures

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z in ms
NAN = math.nan


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:  # noqa: F811 - db_url is the imported fixture
    with Store.open(db_url) as s:
        s.upgrade()
        yield s


def cpu(h: int, k: int) -> float:
    """Host ``h``'s poll ``k``: NaN now and then, and for all of minute 7 of host 2."""
    if k % 11 == 3 or (h == 2 and 84 <= k < 96):
        return NAN
    return (h * 7 + k * 13) % 97 + 0.1 * (k % 10)


def metrics(h: int, k: int) -> dict[str, float]:
    """A fleet whose layouts hold ``cpu`` at different places, and some none at all."""
    if h == 0:  # cpu first, a disk appears after 20 minutes: two layouts, cpu at 0 in both
        extra = {"disk[sdb]": 1.0} if k >= 240 else {}
        return {"cpu": cpu(h, k), "mem": 2.0, **extra}
    if h == 1:  # cpu arrives after 10 minutes: a layout without it, then one with it at 2
        return {"a": 1.0, "b": 2.0} | ({"cpu": cpu(h, k)} if k >= 120 else {})
    if h == 2:  # registered with three other series first: cpu at 3
        return {"a": 1.0, "b": 2.0, "c": 3.0, "cpu": cpu(h, k)}
    if h == 3:  # never has cpu
        return {"mem": 5.0}
    return {"cpu": cpu(h, k)}


def write_polls(store: Store, first: int, count: int, fleet_size: int = 5) -> None:
    for k in range(first, first + count):
        batch = []
        for h in range(fleet_size):
            values = metrics(h, k)
            if h == 2 and k == 0:  # the other series get smaller ids than cpu
                values = {n: v for n, v in values.items() if n != "cpu"}
            batch.append(Snapshot(f"s{h}", (T0 + k * 5000 + h * 900) / 1000, values))
        store.write(batch)


def plain_decode(
    store: Store, name: str, start_ms: int, end_ms: int
) -> tuple[dict[str, list[tuple[int, int, float]]], dict[str, int]]:
    """Every row read whole and decoded in Python: what the SQL must agree with."""
    with store.engine.connect() as conn:
        wanted = {
            host_id: (host, series_id)
            for host, host_id, series_id in conn.execute(
                sa.select(hosts.c.name, series.c.host_id, series.c.id)
                .join(hosts, hosts.c.id == series.c.host_id)
                .where(series.c.name == name)
            )
        }
        cols = {
            layout_id: [int(x) for x in text.split(",")]
            for layout_id, text in conn.execute(sa.select(layouts.c.id, layouts.c.series_ids))
        }
        mark = watermarks(conn)["1m"]
        rolled_to = min(end_ms + 1, mark) if mark is not None else start_ms
        out: dict[str, list[tuple[int, int, float]]] = {}
        newest = {host: rolled_to - 1 for host, _ in wanted.values()}
        for host_id, ts, layout_id, n, avg in conn.execute(
            sa.select(rollup_1m.c["host_id", "ts_ms", "layout_id", "n", "avg"])
            .where(rollup_1m.c.ts_ms >= start_ms, rollup_1m.c.ts_ms < rolled_to)
            .order_by(rollup_1m.c.host_id, rollup_1m.c.ts_ms)
        ):
            if host_id not in wanted or wanted[host_id][1] not in cols[layout_id]:
                continue
            (v,) = struct.unpack_from("<f", avg, 4 * cols[layout_id].index(wanted[host_id][1]))
            if not math.isnan(v):
                out.setdefault(wanted[host_id][0], []).append((ts, n, v))
        minutes: dict[str, dict[int, list[float]]] = {}
        for host_id, ts, layout_id, data in conn.execute(
            sa.select(samples.c["host_id", "ts_ms", "layout_id", "data"])
            .where(samples.c.ts_ms >= max(start_ms, rolled_to), samples.c.ts_ms <= end_ms)
            .order_by(samples.c.host_id, samples.c.ts_ms)
        ):
            if host_id not in wanted:
                continue
            host, series_id = wanted[host_id]
            newest[host] = ts
            if series_id in cols[layout_id]:
                v = codec.decode(data, len(cols[layout_id]))[cols[layout_id].index(series_id)]
                if not math.isnan(v):
                    minutes.setdefault(host, {}).setdefault(ts - ts % 60_000, []).append(v)
        for host, by_minute in minutes.items():
            out.setdefault(host, []).extend(
                (start, len(vs), sum(vs) / len(vs)) for start, vs in by_minute.items()
            )
    return out, newest


def test_the_sql_read_equals_a_plain_decode(store: Store) -> None:
    write_polls(store, 0, 600)  # 50 minutes
    roll_up(store, T0 + 33 * 60_000)  # watermark at minute 32: the rest is raw
    with store.engine.connect() as conn:
        mark = watermarks(conn)["1m"]
        positions = set()
        for (text,) in conn.execute(sa.select(layouts.c.series_ids)):
            ids = [int(x) for x in text.split(",")]
            positions |= {ids.index(i) for i in ids if i in set(_cpu_ids(conn))}
    assert mark == T0 + 32 * 60_000
    assert len(positions) >= 3, positions  # the SQL's offset differs between layouts

    for start, end in [
        (T0, T0 + 50 * 60_000),  # rollup + raw tail
        (T0 + 90_000, T0 + 20 * 60_000),  # rollup only, starting mid-minute
        (T0 + 40 * 60_000, T0 + 45 * 60_000 + 1),  # raw only
        (T0, 2**62),  # the in-memory window's seed reads to "whatever is stored"
    ]:
        want, want_newest = plain_decode(store, "cpu", start, end)
        with store.engine.connect() as conn:
            got, got_newest = read_fleet(store.layout, conn, "cpu", start, end)
        assert got == want, (start, end)  # exactly: the same floats, counts and order
        assert got_newest == want_newest
    assert sorted(got) == ["s0", "s1", "s2", "s4"]  # s3 has no cpu
    assert len(got["s1"]) == 40  # cpu arrived at minute 10
    assert T0 + 7 * 60_000 not in {ts for ts, _, _ in got["s2"]}  # a minute of NaN only
    assert got["s4"][-1][0] == T0 + 49 * 60_000

    lines = fleet(store, "cpu", T0 / 1000, (T0 + 50 * 60_000) / 1000)
    assert lines["s4"] == [(ts / 1000, v) for ts, _, v in want["s4"]]


def _cpu_ids(conn: sa.Connection) -> list[int]:
    return list(conn.scalars(sa.select(series.c.id).where(series.c.name == "cpu")))


def test_a_span_before_a_series_existed_and_an_unknown_series_read_empty(store: Store) -> None:
    write_polls(store, 0, 300)  # disk[sdb] arrives on s0 at minute 20
    roll_up(store, T0 + 25 * 60_000)
    with store.engine.connect() as conn:
        assert read_fleet(store.layout, conn, "nothing", T0, T0 + 3600_000) == ({}, {})
        lines, newest = read_fleet(store.layout, conn, "disk[sdb]", T0, T0 + 10 * 60_000)
    assert lines == {} and newest == {"s0": T0 + 10 * 60_000}  # rolled up that far


def test_offsets_are_one_branch_per_position() -> None:
    sql = offset_case({7: 0, 3: 2, 9: 0, 12: 39})
    assert sql == (
        "CASE WHEN layout_id IN (7,9) THEN 1 WHEN layout_id IN (3) THEN 9 "
        "WHEN layout_id IN (12) THEN 157 END"
    )


def test_a_host_row_is_put_in_time_order_and_nan_left_out() -> None:
    # SQLite's group_concat keeps no promised order: the three lists share one, that's all.
    values = struct.pack("<3f", 2.5, NAN, 1.5).hex()
    assert decode_rollup("120000,60000,0", "3,4,5", values) == [(0, 5, 1.5), (120000, 3, 2.5)]


def test_a_damaged_rollup_row_is_a_clear_error() -> None:
    with pytest.raises(StorageError, match="rollup_1m rows are damaged: 2 buckets but 6 bytes"):
        decode_rollup("0,60000", "1,1", "00000000ffff")


def test_a_damaged_raw_poll_is_a_clear_error(store: Store) -> None:
    write_polls(store, 0, 24)
    with store.engine.begin() as conn:
        host_id = conn.scalar(sa.select(hosts.c.id).where(hosts.c.name == "s4"))
        conn.execute(
            samples.update()
            .where(samples.c.host_id == host_id, samples.c.ts_ms == T0 + 10 * 5000 + 4 * 900)
            .values(data=b"\x02not zlib")
        )
    with store.engine.connect() as conn, pytest.raises(StorageError, match="poll of s4 at"):
        read_fleet(store.layout, conn, "cpu", T0, T0 + 3600_000)

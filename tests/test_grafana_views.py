"""Grafana's views (migration 0013, mirror/storage/grafana.py) in SQL on both layouts.

The packed layout on the suite's plain PostgreSQL, the narrow one on the suite's own
TimescaleDB (tests/support/tsdb.py). Two hours of 5 s polls are written through
``Store.write`` and rolled up by the real job; the views must give back what was written
(raw), the tiers' averages (checked against the polls and, on the packed layout, bit for bit
against the Python decoder of the rows) and each host's latest values. The example queries
of the README's Grafana section run on both, with Grafana's macros expanded as Grafana does.
"""

from __future__ import annotations

import math
import re
import struct
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mirror.model import Snapshot
from mirror.storage import Store
from mirror.storage.rollup import roll_up
from tests.support import tsdb as tsdb_support
from tests.test_storage import empty_pg, pg_url  # noqa: F401 - fixture

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z: an hour boundary
POLLS = 2 * 720  # two hours of 5 s polls
README = Path(__file__).resolve().parents[1] / "README.md"


def _values(host: int, i: int) -> dict[str, float]:
    """What poll ``i`` of host ``host`` reports: precision as the collectors' (cpu in 0.01,
    rates in 0.1, temperatures in 0.001), a negative value, and a series that stops."""
    values = {
        "cpu.busy_pct": round(10 * host + (i % 37) * 0.73, 2),
        "net.rx_bytes_per_s[eth0]": round(1000.0 * host + i * 12.3, 1),
        "temp.celsius[acpitz/temp1]": round(-3.25 + (i % 11) * 0.125, 3),
        "load.1": round(0.01 * (i % 100), 2),
    }
    if i < 12:  # only in the first minute
        values["fs.used_pct[/mnt]"] = 50.0
    return values


def _write(store: Store) -> None:
    polls = [
        Snapshot(f"h{host}", (T0 + i * 5000) / 1000, _values(host, i))
        for i in range(POLLS)
        for host in (1, 2)
    ]
    for k in range(0, len(polls), 500):
        store.write(polls[k : k + 500])
    roll_up(store, T0 + POLLS * 5000 + 20_000)


def _rows(store: Store, sql: str, **params: Any) -> list[Any]:
    with store.engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params))


def _expected_avg(host: int, series: str, start_i: int, count: int) -> tuple[float, int]:
    got = [
        _values(host, i)[series]
        for i in range(start_i, start_i + count)
        if series in _values(host, i)
    ]
    return sum(got) / len(got), len(got)


def _check_tiers(store: Store, narrow: bool) -> None:
    for tier, polls in (("1m", 12), ("1h", 720)):
        rows = _rows(
            store,
            f"SELECT host, metric, instance, series, ts_ms, time, value, n FROM metrics_{tier} "
            "ORDER BY host, series, ts_ms",
        )
        buckets = POLLS // polls
        # 2 hosts × 4 series × buckets, and the series that stopped: its first minute only.
        assert len(rows) == 2 * (4 * buckets + 1), tier
        for host, metric, instance, series, ts_ms, time, value, n in rows:
            k = (ts_ms - T0) // (polls * 5000)
            mean, count = _expected_avg(int(host[1:]), series, k * polls, polls)
            # n: the series' values (narrow); the bucket's polls (packed, which stores one
            # count per row): they differ only for a series missing from some polls.
            assert n == (count if narrow or series != "fs.used_pct[/mnt]" else polls)
            assert value == pytest.approx(mean, rel=1e-6, abs=1e-6), (tier, host, series, k)
            assert time.timestamp() * 1000 == ts_ms
            assert series == (f"{metric}[{instance}]" if instance else metric)
        names = {(r.metric, r.instance) for r in rows}
        assert ("net.rx_bytes_per_s", "eth0") in names and ("load.1", "") in names
        assert ("temp.celsius", "acpitz/temp1") in names
        assert min(r.value for r in rows) < 0


def _check_latest(store: Store) -> None:
    rows = _rows(store, "SELECT host, series, ts_ms, value FROM metrics_latest ORDER BY 1, 2")
    last = POLLS - 1
    assert {(r.host, r.series): r.value for r in rows} == {
        (f"h{h}", s): v for h in (1, 2) for s, v in _values(h, last).items()
    }
    assert {r.ts_ms for r in rows} == {T0 + last * 5000}


def _readme_queries() -> list[str]:
    section = README.read_text().split("### Grafana", 1)[1].split("\n## ", 1)[0]
    found = re.findall(r"```sql\n(.*?)```", section, re.S)
    assert len(found) >= 4, "the README's Grafana section shows its example queries"
    return found


def _grafana(sql: str) -> str:
    """Grafana's macros and a dashboard variable, expanded as Grafana does (seconds)."""
    return (
        sql.replace("$__unixEpochFrom()", str(T0 // 1000))
        .replace("$__unixEpochTo()", str((T0 + 3600_000) // 1000))
        .replace("$host", "h1")
    )


def _check_readme(store: Store, narrow: bool) -> None:
    for sql in _readme_queries():
        if "metrics_raw" in sql and not narrow:
            continue  # the packed layout has no raw view (README says so)
        rows = _rows(store, _grafana(sql))
        assert rows, sql


def test_float4le_decodes_like_python(pg_url: str) -> None:  # noqa: F811
    empty_pg(pg_url)
    with Store.open(pg_url) as store:
        store.upgrade()
        values = [0.0, -0.0, 1.5, -3.25, 10.3, 1e-40, -1e-45, 3.4e38, 123456.789]
        blob = struct.pack(f"<{len(values)}f", *values)
        decoded = struct.unpack(f"<{len(values)}f", blob)
        got = _rows(
            store,
            "SELECT mirror_float4le(:b, 4 * i) FROM generate_series(0, :n - 1) AS i ORDER BY i",
            b=blob,
            n=len(values),
        )
        assert [r[0] for r in got] == list(decoded)  # bit-exact, subnormals included
        special = struct.pack("<3f", math.inf, -math.inf, math.nan)
        got = _rows(
            store,
            "SELECT mirror_float4le(:b, 0), mirror_float4le(:b, 4), mirror_float4le(:b, 8)",
            b=special,
        )
        assert list(got[0]) == [None, None, None]


def test_views_on_the_packed_layout(pg_url: str) -> None:  # noqa: F811
    empty_pg(pg_url)
    with Store.open(pg_url) as store:
        store.upgrade()
        assert store.narrow is False
        _write(store)
        # A raw view cannot exist here: the polls are zlib-packed rows.
        assert _rows(store, "SELECT to_regclass('metrics_raw')")[0][0] is None
        _check_tiers(store, narrow=False)
        _check_latest(store)
        # Bit for bit what the rollup wrote: the SQL decoder against the Python one.
        from mirror.storage.rollup import avg_at

        view = {
            (r.host, r.series, r.ts_ms): r.value
            for r in _rows(store, "SELECT host, series, ts_ms, value FROM metrics_1m")
        }
        rows = _rows(
            store,
            "SELECT h.name, r.ts_ms, r.avg, l.series_ids FROM rollup_1m AS r "
            "JOIN hosts AS h ON h.id = r.host_id JOIN layouts AS l ON l.id = r.layout_id",
        )
        names = dict(_rows(store, "SELECT id, name FROM series"))
        checked = 0
        for host, ts_ms, blob, ids in rows:
            for index, sid in enumerate(int(x) for x in ids.split(",")):
                raw = struct.unpack_from("<f", bytes(blob), 4 * index)[0]
                if math.isnan(raw):
                    assert (host, names[sid], ts_ms) not in view
                    continue
                assert view[(host, names[sid], ts_ms)] == raw
                assert avg_at(bytes(blob), index) == float(f"{raw:.7g}")
                checked += 1
        assert checked == len(view)
        _check_readme(store, narrow=False)


def test_views_on_the_narrow_layout(tsdb: tsdb_support.Tsdb) -> None:
    store = tsdb_support.open_store(tsdb)
    try:
        store.upgrade()
        assert store.narrow is True
        _write(store)
        raw = _rows(
            store,
            "SELECT host, series, ts_ms, value FROM metrics_raw "
            "WHERE ts_ms BETWEEN :a AND :b ORDER BY ts_ms, host, series",
            a=T0,
            b=T0 + POLLS * 5000,
        )
        expected = sorted(
            (f"h{h}", s, T0 + i * 5000, v)
            for i in range(POLLS)
            for h in (1, 2)
            for s, v in _values(h, i).items()
        )
        # Fixed-point values (cpu × 100, temperatures × 1000…) come back exactly.
        assert sorted(tuple(r) for r in raw) == expected
        _check_tiers(store, narrow=True)
        _check_latest(store)
        _check_readme(store, narrow=True)

        # A filter on ts_ms reaches the hypertable's chunks: one minute, one chunk scanned.
        def chunks(a: int, b: int) -> set[str]:
            plan = _rows(
                store,
                "EXPLAIN SELECT value FROM metrics_raw WHERE ts_ms BETWEEN :a AND :b",
                a=a,
                b=b,
            )
            return set(re.findall(r"_hyper_\d+_\d+_chunk", "\n".join(r[0] for r in plan)))

        everything = chunks(T0, T0 + POLLS * 5000)
        assert len(chunks(T0, T0 + 60_000)) == 1 < len(everything) or not tsdb.real
    finally:
        store.close()

"""Storage figures: insert rate, bytes per raw sample, chart and fleet query latency.

For SQLite (a temp file) and PostgreSQL (a throw-away database on 127.0.0.1:5432, or
``--pg URL`` / ``MIRROR_BENCH_PG_URL``; TimescaleDB is used when that server has it):

1. history: 7 days (``--days``) of 1-minute and 1-hour rollup rows for 254 hosts × 40 series,
   made by the tiers' own code (``rollup.combine`` over synthetic polls, encoded as the job
   encodes). To keep the run short, each host's rows cycle through 60 distinct minutes and
   24 distinct hours: row sizes and counts are real, values repeat.
2. raw: the last ``--raw-minutes`` (default 60) of 5 s polls written through ``Store.write``
   in one batch per fleet poll (254 snapshots) — the insert rate — then rolled up by the real
   job. A real deployment keeps 48 h of raw; bytes per raw sample do not depend on how many
   hours are stored, and a range query reads the same rows from a bigger table (one more
   b-tree level at most), so 1 h of raw stands in for 48 h here, and this is said in the output.
3. latency (p50/p99 over ``--queries`` random host/series): the chart query
   (``query.series``) over 1 h, 24 h and 30 days, and the fleet overview (latest +
   last-hour sparkline of every host), both ways, each with ``host_rows(info=False)``: read
   from the database (``query.fleet``), with 2 min 15 s of raw polls after the 1-minute
   watermark (the most the rollup job leaves there), and as the API reads it,
   ``query.recent_fleet``, served from the store's in-memory last hour once the series has
   been read from the database (that first call is timed apart), each call after a fleet
   poll written through ``Store.write``; and what keeping the window costs a write.

Values follow what the Linux collectors emit: percentages to 0.01, rates to 0.1 per second
(``PCT_PLACES``/``RATE_PLACES`` in collectors/linux/sample.py), bytes and counters integers,
load with 2 decimals.

Run: .venv/bin/python bench/storage.py [--hosts 254] [--days 7] [--raw-minutes 60] [--no-pg]
     [--only fleet]  (the fleet overview alone: no chart queries; with --days 1, ~1 min a back end)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from mirror.model import Snapshot
from mirror.storage import Store, query
from mirror.storage.info import describe
from mirror.storage.recent import RecentWindow
from mirror.storage.rollup import (
    HOUR,
    MINUTE,
    combine,
    encode_avg,
    encode_stats,
    poll_bucket,
    roll_up,
)
from mirror.storage.schema import rollup_state
from tests.support.pgdb import new_pg_database

SERIES = (
    [f"cpu.{k}_pct" for k in ("busy", "user", "system", "iowait", "idle")]
    + [f"cpu.busy_pct[{i}]" for i in range(8)]
    + ["load.1", "load.5", "load.15"]
    + [f"mem.{k}" for k in ("total_bytes", "available_bytes", "used_bytes", "cached_bytes")]
    + ["mem.buffers_bytes", "swap.total_bytes", "swap.used_bytes", "mem.used_pct"]
    + [f"net.{k}_per_s[eth0]" for k in ("rx_bytes", "tx_bytes", "rx_packets", "tx_packets")]
    + ["net.rx_errs_per_s[eth0]", "net.tx_errs_per_s[eth0]"]
    + [f"disk.{k}[sda]" for k in ("read_bytes_per_s", "write_bytes_per_s", "reads_per_s")]
    + ["disk.writes_per_s[sda]", "disk.busy_pct[sda]"]
    + ["temp.celsius[Package id 0]", "temp.celsius[Core 0]"]
    + ["fs.size_bytes[/]", "fs.used_bytes[/]", "fs.used_pct[/]"]
)
assert len(SERIES) == 40
STEP_S = 5.0
GIB = 2**30


def poll_values(rng: random.Random, h: int, k: int) -> dict[str, float]:
    """One poll of host ``h`` as the collectors would report it (poll ``k``)."""
    dt = 5.0 + rng.choice((0.0, 0.01, -0.01, 0.02))  # host uptime clock difference
    total = 4000 + rng.randint(-3, 3)  # 8 cores × 100 Hz × 5 s of ticks
    busy = rng.randint(40, 1600)
    user = busy * 2 // 3
    iowait = rng.randint(0, 40)
    v: dict[str, float] = {
        "cpu.busy_pct": busy / total * 100,
        "cpu.user_pct": user / total * 100,
        "cpu.system_pct": (busy - user) / total * 100,
        "cpu.iowait_pct": iowait / total * 100,
        "cpu.idle_pct": (total - busy - iowait) / total * 100,
    }
    for i in range(8):
        v[f"cpu.busy_pct[{i}]"] = rng.randint(0, 500) / (500 + rng.randint(-1, 1)) * 100
    load = busy / 400
    v |= {"load.1": round(load, 2), "load.5": round(load * 0.9, 2), "load.15": round(load * 0.8, 2)}
    total_mem = (16 + 16 * (h % 4)) * GIB
    avail = total_mem // 2 + rng.randint(-50_000, 50_000) * 1024
    v |= {
        "mem.total_bytes": total_mem,
        "mem.available_bytes": avail,
        "mem.used_bytes": total_mem - avail,
        "mem.cached_bytes": rng.randint(1_000_000, 4_000_000) * 1024,
        "mem.buffers_bytes": rng.randint(10_000, 90_000) * 1024,
        "swap.total_bytes": 2 * GIB,
        "swap.used_bytes": rng.randint(0, 1000) * 4096,
        "mem.used_pct": (total_mem - avail) / total_mem * 100,
    }
    rx = rng.randint(0, 20_000_000)
    v |= {
        "net.rx_bytes_per_s[eth0]": rx / dt,
        "net.tx_bytes_per_s[eth0]": rx // 7 / dt,
        "net.rx_packets_per_s[eth0]": rx // 900 / dt,
        "net.tx_packets_per_s[eth0]": rx // 3000 / dt,
        "net.rx_errs_per_s[eth0]": 0.0,
        "net.tx_errs_per_s[eth0]": 0.0,
    }
    sectors = rng.randint(0, 40_000)
    v |= {
        "disk.read_bytes_per_s[sda]": sectors * 512 / dt,
        "disk.write_bytes_per_s[sda]": sectors // 3 * 512 / dt,
        "disk.reads_per_s[sda]": sectors // 64 / dt,
        "disk.writes_per_s[sda]": sectors // 100 / dt,
        "disk.busy_pct[sda]": min(rng.randint(0, 5000) / dt / 10, 100.0),
    }
    v |= {
        "temp.celsius[Package id 0]": float(rng.randint(35, 80)),
        "temp.celsius[Core 0]": float(rng.randint(35, 80)),
    }
    size = 512 * GIB
    used = 200 * GIB + (h * 1000 + k) * 4096
    v |= {"fs.size_bytes[/]": size, "fs.used_bytes[/]": used}
    v["fs.used_pct[/]"] = used / (size - 20 * GIB) * 100
    # As collectors/linux/sample.py stores them: 0.01 % and 0.1 per second.
    return {
        k: round(x, 2) if k.split("[")[0].endswith("_pct") else round(x, 1) if "_per_s" in k else x
        for k, x in v.items()
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn: Callable[[], object], n: int) -> tuple[float, float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), pct(times, 0.99)


# -- history by the tiers' own math -----------------------------------------------------


def synth_history(
    store: Store, hosts: int, start_ms: int, end_ms: int, rng: random.Random
) -> tuple[int, int]:
    """1-minute rows in [start, end) and 1-hour rows in [start, end aligned), every host."""
    names = [f"h{h:03}" for h in range(hosts)]
    # One write registers hosts, series and layouts; its poll is before the history.
    store.write(
        [Snapshot(n, start_ms / 1000 - 5, poll_values(rng, i, 0)) for i, n in enumerate(names)]
    )
    with store.engine.connect() as conn:
        layout = dict(conn.execute(sa.text("SELECT host_id, id FROM layouts")).all())
        host_ids = dict(conn.execute(sa.text("SELECT name, id FROM hosts")).all())
        series_ids = {
            (h, n): i for h, n, i in conn.execute(sa.text("SELECT host_id, name, id FROM series"))
        }
    n_min = n_hour = 0
    for tier, distinct in ((MINUTE, 60), (HOUR, 24)):
        tier_end = end_ms - end_ms % tier.step_ms
        per = tier.step_ms // 5000
        templates: dict[int, list[tuple[int, bytes, bytes]]] = {}
        rows = []
        for i, name in enumerate(names):
            host_id = host_ids[name]
            ids = tuple(sorted(series_ids[(host_id, s)] for s in SERIES))
            order = sorted(SERIES, key=lambda s, h=host_id: series_ids[(h, s)])
            if i < 8:  # eight host shapes, reused: building rows is the slow part here
                made = []
                for d in range(distinct):
                    sub = range(0, per, max(1, per // 12))  # ≤ 12 polls summarise a bucket
                    polls = [poll_values(rng, i, d * per + k) for k in sub]
                    b = combine(0, [poll_bucket(0, ids, [p[s] for s in order]) for p in polls])
                    made.append((per, encode_avg(b.avg), encode_stats(b)))
                templates[i] = made
            made = templates[i % 8]
            for k, ts in enumerate(range(start_ms, tier_end, tier.step_ms)):
                n, avg, stats = made[k % distinct]
                rows.append((ts, host_id, layout[host_id], n, avg, stats))
        _bulk_insert(store, tier.table.name, rows)
        if tier is MINUTE:
            n_min = len(rows)
        else:
            n_hour = len(rows)
        with store.engine.begin() as conn:
            conn.execute(
                rollup_state.update()
                .where(rollup_state.c.tier == tier.name)
                .values(watermark_ms=tier_end)
            )
    return n_min, n_hour


def _bulk_insert(store: Store, table: str, rows: list[tuple]) -> None:
    cols = "(ts_ms, host_id, layout_id, n, avg, stats)"
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        if store.dialect == "postgresql":
            with cur.copy(f"COPY {table} {cols} FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
        else:
            cur.executemany(f"INSERT INTO {table} {cols} VALUES (?, ?, ?, ?, ?, ?)", rows)
        raw.commit()
    finally:
        raw.close()


# -- one back end ---------------------------------------------------------------------------


def run(url: str, label: str, args: argparse.Namespace) -> dict[str, str]:
    rng = random.Random(7)
    now_ms = int(time.time() // 3600 * 3600 * 1000)  # an hour boundary: tidy buckets
    raw_ms = args.raw_minutes * 60_000
    raw_start = now_ms - raw_ms
    store = Store.open(url)
    try:
        store.upgrade()
        narrow = store.narrow
        t = time.perf_counter()
        # TimescaleDB's tiers are continuous aggregates made from raw rows: no packed
        # history to synthesise there (its columns say so).
        n_min, n_hour = (
            (0, 0)
            if narrow
            else synth_history(store, args.hosts, now_ms - args.days * 86400_000, raw_start, rng)
        )
        synth_s = time.perf_counter() - t

        names = [f"h{h:03}" for h in range(args.hosts)]
        polls = args.raw_minutes * 12
        batches = (
            [
                Snapshot(n, (raw_start + k * 5000) / 1000, poll_values(rng, i, k))
                for i, n in enumerate(names)
            ]
            for k in range(polls)
        )
        write_s = 0.0
        samples = 0
        for batch in batches:
            samples += sum(len(s.metrics) for s in batch)
            t = time.perf_counter()
            store.write(batch)
            write_s += time.perf_counter() - t
        t = time.perf_counter()
        roll_up(store, now_ms + 15_000)
        rollup_s = time.perf_counter() - t

        if store.dialect == "postgresql":
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(sa.text("VACUUM ANALYZE"))
        info = describe(store)
        sizes = {tbl.name: tbl for tbl in info.tables}
        raw_table = "points" if narrow else "samples"
        raw_bytes = _relation_bytes(store, raw_table) if narrow else sizes["samples"].bytes or 0
        compressed = _compress_all(store) if narrow else None
        now_s = now_ms / 1000

        def chart(span_s: float) -> Callable[[], object]:
            def go() -> object:
                host = rng.choice(names)
                name = rng.choice(SERIES)
                return query.series(store, host, name, now_s - span_s, now_s)

            return go

        lat = {}
        if args.only != "fleet":
            lat["1 h chart"] = timed(chart(3600), args.queries)
            lat["24 h chart"] = timed(chart(86400), args.queries)
            if not narrow:
                lat["30 d chart"] = timed(chart(30 * 86400), args.queries)
        fleet_figures = fleet_latency(store, names, now_ms, rng, max(100, args.queries))
        lat[f"fleet ({args.hosts} hosts), database"] = fleet_figures.pop("database")
        lat[f"fleet ({args.hosts} hosts), in-memory hour"] = fleet_figures.pop("window")
        check = query.series(store, "h001", "cpu.busy_pct", now_s - 86400, now_s)
        per_day = raw_bytes / samples * 254 * len(SERIES) * 86400 / STEP_S
        out = {
            "back end": f"{label} ({info.backend_text})",
            "insert (values/s)": f"{samples / write_s:,.0f}  ({samples:,} values, "
            f"{polls} batches of {args.hosts} polls)",
            "raw bytes/value": f"{raw_bytes / samples:.2f}  ({raw_table} + indexes"
            + (", uncompressed)" if narrow else f", {raw_bytes / (polls * args.hosts):.0f} B/row)"),
            "raw bytes/value, compressed": (
                f"{compressed / samples:.2f}  (every chunk compressed)"
                if compressed is not None
                else "-"
            ),
            "raw per day (254×40/5 s)": f"{per_day / 1e9:.2f} GB"
            + (
                f", {compressed / samples * 254 * 40 * 86400 / STEP_S / 1e9:.2f} GB compressed"
                if compressed is not None
                else ""
            ),
            "1m rollup": (
                f"{n_min:,} rows, {(sizes['rollup_1m'].bytes or 0) / n_min:.0f} B/row"
                if n_min
                else "continuous aggregate points_1m"
            ),
            "1h rollup": (
                f"{n_hour:,} rows, {(sizes['rollup_1h'].bytes or 0) / n_hour:.0f} B/row"
                if n_hour
                else "continuous aggregate points_1h"
            ),
            "rollup job": f"{samples / rollup_s:,.0f} samples/s "
            f"({args.raw_minutes} min of raw in {rollup_s:.1f} s)",
            "history synthesis": f"{synth_s:.0f} s",
            "24 h chart check": f"{len(check.points)} points, tier {check.tier}, "
            f"sources {'+'.join(check.sources)}",
        }
        for name, (p50, p99) in lat.items():
            out[f"{name} p50/p99"] = f"{p50:.1f} / {p99:.1f} ms"
        for name, (ms, _) in fleet_figures.items():
            out[name] = f"{ms:.1f} ms"
        return out
    finally:
        store.close()


def _relation_bytes(store: Store, table: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(sa.text(f"SELECT hypertable_size('{table}')")) or 0)


def _compress_all(store: Store) -> int:
    """Compress every chunk of the raw hypertable (what the policy does once they are
    ``MIRROR_COMPRESS_AFTER`` old); its size afterwards."""
    with store.autocommit_connection("compressing") as conn:
        conn.execute(sa.text("SELECT compress_chunk(c, true) FROM show_chunks('points') AS c"))
        conn.execute(sa.text("VACUUM ANALYZE points"))
    return _relation_bytes(store, "points")


# The most raw time a last-hour read finds after the 1-minute watermark: the job runs every
# 60 s and closes a minute 15 s after its end (poller/jobs.py, rollup.DEFAULT_LAG_MS).
FLEET_TAIL_S = 135


def fleet_latency(
    store: Store, names: list[str], now_ms: int, rng: random.Random, n: int
) -> dict[str, tuple[float, float]]:
    """The overview from the database and from the window (``n`` times each),
    and the window's upkeep. Both are timed with ``FLEET_TAIL_S`` of raw polls after the
    watermark, so the database's answer includes decoding the raw tail."""
    metric = "cpu.busy_pct"
    tail_polls = FLEET_TAIL_S // 5
    for k in range(tail_polls):
        ts = now_ms / 1000 + 5 * k
        store.write([Snapshot(h, ts, poll_values(rng, i, k)) for i, h in enumerate(names)])
    now_s = now_ms / 1000 + FLEET_TAIL_S

    def from_database() -> object:
        store.host_rows(info=False)
        return query.fleet(store, metric, now_s - 3600, now_s)

    cpu = time.process_time()
    out = {"database": timed(from_database, n)}
    # Unlike wall time, not stretched by other work on the machine (PostgreSQL's own excluded).
    cpu_ms = (time.process_time() - cpu) * 1000 / n
    out["fleet, database, CPU per call (this process)"] = (cpu_ms, 0.0)
    t = time.perf_counter()
    seeded = query.recent_fleet(store, metric, now_s - 3600, now_s)
    out["fleet, first call (reads the database)"] = ((time.perf_counter() - t) * 1000, 0.0)
    query.recent_fleet(store, "mem.used_pct", now_s - 3600, now_s)  # the UI's second column
    assert seeded.keys() == query.fleet(store, metric, now_s - 3600, now_s).keys()
    probe = RecentWindow()  # the store's own keeps the same two series
    for name in (metric, "mem.used_pct"):
        probe.seed(name, 0, {}, {})
    times, upkeep = [], []
    for k in range(tail_polls, tail_polls + n):
        ts = now_ms / 1000 + 5 * k
        batch = [Snapshot(h, ts, poll_values(rng, i, k)) for i, h in enumerate(names)]
        store.write(batch)
        started = time.perf_counter()
        probe.observe(batch)
        upkeep.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        store.host_rows(info=False)
        query.recent_fleet(store, metric, ts - 3600, ts)
        times.append((time.perf_counter() - started) * 1000)
    out["window"] = (statistics.median(times), pct(times, 0.99))
    out["window upkeep per fleet poll (2 series)"] = (statistics.median(upkeep), 0.0)
    return out


def _run_tsdb(args: argparse.Namespace) -> dict[str, str]:
    if args.tsdb != "auto":
        with new_pg_database("mirror_bench", args.tsdb) as url:
            return run(url, "TimescaleDB", args)
    from tests.support import tsdb

    why = tsdb.cluster_missing()
    if why is not None:
        return {"back end": f"TimescaleDB: skipped ({why})"}
    cluster = tsdb.start_cluster()
    try:
        with cluster.database() as url:
            out = run(url, "TimescaleDB", args)
        for fixed in (False, True):
            with cluster.database() as url:
                key, value = _lab_bytes(url, fixed)
                out[key] = value
        return out
    finally:
        cluster.stop()


LAB_HOSTS, LAB_POLLS = 20, 720  # one hour of 5 s polls


def _lab_bytes(url: str, fixed: bool) -> tuple[str, str]:
    """Bytes per value, compressed, of the simulated lab's real collector snapshots (every
    series the Linux collectors report, ~150 a host), stored as floats or fixed-point."""
    from unittest import mock

    from tests.support.labsnaps import lab_polls

    # Without fixed-point: no series declares a precision (as in a database made before).
    no_decimals = mock.patch("mirror.storage.fixedpoint.decimals", lambda name: None)
    with Store.open(url) as store, contextlib.nullcontext() if fixed else no_decimals:
        store.upgrade()
        values = 0
        for batch in lab_polls(LAB_HOSTS, LAB_POLLS, time.time() - 2 * 3600):
            values += sum(len(s.metrics) for s in batch)
            store.write(batch)
        size = _compress_all(store)
    kind = "fixed-point" if fixed else "float"
    return (
        f"lab snapshots, {kind}, compressed",
        f"{size / values:.2f} B/value  ({values:,} values, {LAB_HOSTS} hosts × 1 h)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=254)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--raw-minutes", type=int, default=60)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument(
        "--pg",
        default=os.environ.get(
            "MIRROR_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument(
        "--tsdb",
        default=os.environ.get("MIRROR_BENCH_TSDB_URL", "auto"),
        help="a TimescaleDB server's admin URL on loopback; 'auto': a private cluster "
        "(tests/support/tsdb.py, needs ../shared/timescaledb installed); 'none': skip",
    )
    parser.add_argument("--only", choices=["fleet"], help="only the fleet overview's latency")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="mirror-bench-") as tmp:
        results.append(run(f"sqlite:///{tmp}/bench.db", "SQLite", args))
    if not args.no_pg:
        with new_pg_database("mirror_bench", args.pg) as url:
            results.append(run(url, "PostgreSQL", args))
    if args.tsdb != "none":
        results.append(_run_tsdb(args))
    print(
        f"\n{args.hosts} hosts × {len(SERIES)} series, {args.days} days of rollups, "
        f"{args.raw_minutes} min of 5 s raw (stands in for 48 h: see the docstring)\n"
    )
    keys = list(dict.fromkeys(k for r in results for k in r))  # TimescaleDB adds rows
    width = max(map(len, keys)) + 2
    for key in keys:
        print(f"{key:<{width}}" + "   ".join(f"{r.get(key, ''):<44}" for r in results))


if __name__ == "__main__":
    main()

"""Storage on a real SQLite file and on the machine's real PostgreSQL (trust auth).

The suite runs in a network namespace of its own (tests/conftest.py), where the machine's
server on 127.0.0.1:5432 cannot be reached: its Unix socket can. PostgreSQL tests run in a
throw-away database created for the session and dropped after; ``MIRROR_TEST_POSTGRES_URL``
points them at another server (a Unix socket or 127.0.0.0/8).
"""

from __future__ import annotations

import math
import socket
import struct
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mirror.errors import StorageError
from mirror.model import HostState, PollStatus, Snapshot
from mirror.storage import Store, codec, database_url
from mirror.storage.schema import layouts, samples
from tests.support.pgdb import new_pg_database

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    with new_pg_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """An empty database: a new SQLite file, or the session's PostgreSQL database emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'mirror.db'}"
    url = request.getfixturevalue("pg_url")
    empty_pg(url)
    return url


def empty_pg(url: str) -> None:
    """Empty the session's PostgreSQL database (the tests share it)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    s.upgrade()
    yield s
    s.close()


def snap(host: str, ts: float, metrics: dict[str, float], **info) -> Snapshot:
    return Snapshot(host=host, ts=ts, metrics=metrics, info=info)


def count(store: Store, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(table))


# -- codec ---------------------------------------------------------------------------------

ODD_VALUES = [
    0.0, -0.0, 1.0, -1.0, 3, 2**53 - 1, -(2**53) + 1, 2.0**60, 16_542_674_944.0,
    0.52, -0.52, 45.125, 12345.67, 0.000001, 1e-7, 12.562814070351758, 1 / 3,
    0.1 + 0.2, 1e300, -1e-300, 5e-324, math.inf, -math.inf, math.nan, 3.4e38, 1.5,
]  # fmt: skip


def test_codec_round_trips_bit_exactly() -> None:
    data = codec.encode(ODD_VALUES)
    back = codec.decode(data, len(ODD_VALUES))
    assert [struct.pack("<d", v) for v in back] == [struct.pack("<d", v) for v in ODD_VALUES]
    for i, v in enumerate(ODD_VALUES):
        got = codec.decode_one(data, len(ODD_VALUES), i)
        assert struct.pack("<d", got) == struct.pack("<d", v)


def test_codec_is_small_on_typical_rows() -> None:
    zeros = codec.encode([0.0] * 40)
    assert len(zeros) < 40  # deflate folds the repeats
    row = [12.5, 0.52, 45.125, 99.5, 0.0, 0.0, 3.0, 16_777_216.0, 1024.0, 7.25] * 4
    assert len(codec.encode(row)) < 8 * len(row) / 2


def test_codec_refuses_garbage() -> None:
    with pytest.raises(ValueError):
        codec.decode(b"\x07abc", 1)
    with pytest.raises(ValueError):
        codec.decode(b"\x01", 4)
    with pytest.raises(ValueError):
        codec.decode(b"\x02not zlib", 4)


# -- urls and errors -------------------------------------------------------------------------


def test_plain_postgresql_urls_mean_psycopg3() -> None:
    assert database_url("postgresql://u@127.0.0.1/db").drivername == "postgresql+psycopg"
    assert database_url("postgres://u@127.0.0.1/db").drivername == "postgresql+psycopg"
    assert database_url("sqlite:///~/x.db").database.endswith("/x.db")
    assert not database_url("sqlite:///~/x.db").database.startswith("~")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_postgresql_is_a_storage_error_naming_host_and_port() -> None:
    port = _closed_port()
    with pytest.raises(StorageError) as caught:
        Store.open(f"postgresql://mirror:s3cret@127.0.0.1:{port}/mirror")
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message
    assert "s3cret" not in message
    assert "\n" not in message


def test_unsupported_url_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="unsupported database"):
        Store.open("mysql://u@127.0.0.1/x")


def test_writing_before_upgrade_says_to_upgrade(db_url: str) -> None:
    with Store.open(db_url) as s, pytest.raises(StorageError, match="mirror db upgrade"):
        s.write([snap("a", T0, {"cpu.busy_pct": 1.0})], [])


# -- schema ---------------------------------------------------------------------------------


def test_upgrade_from_empty_creates_the_schema_and_is_idempotent(db_url: str) -> None:
    with Store.open(db_url) as s:
        s.upgrade()
        s.upgrade()
        with s.engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
            version = conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
    assert {"hosts", "series", "layouts", "samples", "host_status", "rollup_1m"} <= names
    assert version == _alembic_head()


def _alembic_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from mirror.storage.store import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def test_sqlite_file_is_created_with_its_folder_in_wal_mode(tmp_path) -> None:
    path = tmp_path / "deep" / "er" / "mirror.db"
    with Store.open(f"sqlite:///{path}") as s:
        s.upgrade()
        with s.engine.connect() as conn:
            assert conn.scalar(sa.text("PRAGMA journal_mode")) == "wal"
            assert conn.scalar(sa.text("PRAGMA synchronous")) == 1  # NORMAL
    assert path.is_file()


# -- writing and reading ------------------------------------------------------------------


def test_round_trip_with_changing_series_sets(store: Store) -> None:
    base = {"cpu.busy_pct": 12.5, "mem.used_bytes": 8_000_000_000.0}
    store.write(
        [
            snap("web", T0, base),
            snap("web", T0 + 5, base | {"net.rx_bytes_per_s[eth1]": 1234.5}),  # new interface
            snap("web", T0 + 10, {"cpu.busy_pct": 1 / 3, "net.rx_bytes_per_s[eth1]": 0.0}),
            snap("db", T0, {"cpu.busy_pct": 99.0}),
        ],
        [],
    )
    assert store.series_names("web") == [
        "cpu.busy_pct",
        "mem.used_bytes",
        "net.rx_bytes_per_s[eth1]",
    ]
    assert store.series("web", "cpu.busy_pct", T0, T0 + 10) == [
        (T0, 12.5),
        (T0 + 5, 12.5),
        (T0 + 10, 1 / 3),
    ]
    assert store.series("web", "mem.used_bytes", T0, T0 + 10) == [
        (T0, 8e9),
        (T0 + 5, 8e9),
    ]
    assert store.series("web", "net.rx_bytes_per_s[eth1]", T0, T0 + 10) == [
        (T0 + 5, 1234.5),
        (T0 + 10, 0.0),
    ]
    assert store.series("db", "cpu.busy_pct", T0, T0) == [(T0, 99.0)]
    assert store.series("db", "mem.used_bytes", T0, T0 + 10) == []
    assert store.series("nobody", "cpu.busy_pct", T0, T0 + 10) == []
    assert store.series_names("nobody") == []


def test_a_stable_series_set_reuses_one_layout_across_batches_and_dict_order(
    store: Store,
) -> None:
    names = [f"cpu.busy_pct[{i}]" for i in range(8)]
    for batch in range(3):
        snaps = []
        for i in range(5):
            ordered = names if i % 2 else list(reversed(names))  # dict order does not matter
            values = {n: float(batch * 10 + i) for n in ordered}
            snaps.append(snap("h", T0 + batch * 25 + i * 5, values))
        store.write(snaps, [])
    assert count(store, layouts) == 1
    assert count(store, samples) == 15
    assert [v for _, v in store.series("h", "cpu.busy_pct[3]", 0, T0 + 1000)] == [
        float(b * 10 + i) for b in range(3) for i in range(5)
    ]


def test_series_range_bounds_are_inclusive(store: Store) -> None:
    store.write([snap("h", T0 + i, {"load.1": float(i)}) for i in range(10)], [])
    assert [v for _, v in store.series("h", "load.1", T0 + 2, T0 + 4)] == [2.0, 3.0, 4.0]
    assert store.series("h", "load.1", T0 + 2.5, T0 + 2.9) == []
    assert store.series("h", "load.1", T0 + 20, T0 + 30) == []
    assert store.series("h", "load.1", T0 + 4, T0 + 2) == []
    assert store.series("h", "load.1", T0 + 9, T0 + 9.0004) == [(T0 + 9, 9.0)]


def test_sub_second_timestamps_keep_millisecond_resolution(store: Store) -> None:
    store.write([snap("h", T0 + 0.25, {"x": 1.0}), snap("h", T0 + 0.5, {"x": 2.0})], [])
    assert store.series("h", "x", T0, T0 + 1) == [(T0 + 0.25, 1.0), (T0 + 0.5, 2.0)]


def test_statuses_are_upserted_and_only_move_forward(store: Store) -> None:
    store.write([], [PollStatus("a", HostState.UP, T0, None, 12.5)])
    row = store.host_row("a")
    assert row is not None
    assert (row.state, row.error, row.ts, row.duration_ms) == (HostState.UP, None, T0, 12.5)
    assert row.metrics == {} and row.info == {} and row.metrics_ts is None

    store.write([], [PollStatus("a", HostState.TIMEOUT, T0 + 5, "no answer in 3 s", 3000.0)])
    store.write([], [PollStatus("a", HostState.UP, T0 + 1, None, 1.0)])  # late, older: ignored
    row = store.host_row("a")
    assert (row.state, row.error, row.ts) == (HostState.TIMEOUT, "no answer in 3 s", T0 + 5)

    # In one batch the newest status of a host wins, whatever the order.
    store.write(
        [],
        [
            PollStatus("a", HostState.UP, T0 + 15, None, 2.0),
            PollStatus("a", HostState.AUTH_FAILED, T0 + 10, "Permission denied", 5.0),
            PollStatus("b", HostState.UNREACHABLE, T0 + 10, "Connection refused", None),
        ],
    )
    rows = {r.name: r for r in store.host_rows()}
    assert rows["a"].state is HostState.UP and rows["a"].error is None
    assert rows["b"].state is HostState.UNREACHABLE and rows["b"].error == "Connection refused"
    assert store.host_row("nobody") is None


def test_host_rows_carry_latest_metrics_and_info(store: Store) -> None:
    info = {
        "os": "Debian GNU/Linux 12 (bookworm)",
        "hostname": "거울-서버",
        "cpu_model": "Intel(R) Core(TM) i7 ‘quoted’",
        "mounts": [{"path": "/home/사용자", "fs": "ext4"}],
        "nested": {"a": [1, 2.5, None, True]},
    }
    store.write(
        [
            snap("web", T0 + 5, {"cpu.busy_pct": 7.0, "temp.celsius[x]": math.nan}, **info),
            snap("web", T0, {"cpu.busy_pct": 99.0}, os="older"),
            snap("idle", T0, {}),
        ],
        [PollStatus("web", HostState.UP, T0 + 5, None, 4.2)],
    )
    rows = store.host_rows()
    assert [r.name for r in rows] == ["idle", "web"]
    idle, web = rows
    assert idle.state is HostState.PENDING and idle.metrics == {} and idle.metrics_ts == T0
    assert web.metrics == {"cpu.busy_pct": 7.0, "temp.celsius[x]": None}
    assert web.info == info
    assert web.metrics_ts == T0 + 5
    assert math.isnan(store.series("web", "temp.celsius[x]", T0, T0 + 5)[0][1])

    # A poll that did not read info keeps the last info; metrics always follow the newest poll.
    store.write([snap("web", T0 + 10, {"cpu.busy_pct": 8.0})], [])
    web = store.host_row("web")
    assert web.info == info and web.metrics == {"cpu.busy_pct": 8.0}
    # An older snapshot arriving late changes neither.
    store.write([snap("web", T0 + 1, {"cpu.busy_pct": 1.0}, os="stale")], [])
    assert store.host_row("web").metrics == {"cpu.busy_pct": 8.0}
    assert store.host_row("web").info == info


def test_duplicate_timestamps_keep_the_first_sample_and_the_rest_of_the_batch(
    store: Store,
) -> None:
    store.write(
        [
            snap("h", T0, {"x": 1.0}),
            snap("h", T0, {"x": 2.0}),  # same host and ts in one batch
            snap("h", T0 + 5, {"x": 3.0}),
        ],
        [],
    )
    store.write([snap("h", T0 + 5, {"x": 4.0}), snap("h", T0 + 10, {"x": 5.0})], [])
    assert store.series("h", "x", T0, T0 + 10) == [(T0, 1.0), (T0 + 5, 3.0), (T0 + 10, 5.0)]


def test_a_thousand_snapshot_batch(store: Store) -> None:
    names = [f"cpu.busy_pct[{i}]" for i in range(32)] + [f"fs.used_pct[/m{i}]" for i in range(8)]
    snaps = [
        snap(f"host{h:03}", T0 + 5 * p, {n: (h * 7 + p + i) / 8 for i, n in enumerate(names)})
        for p in range(20)
        for h in range(50)
    ]
    store.write(snaps, [PollStatus(f"host{h:03}", HostState.UP, T0 + 95) for h in range(50)])
    assert count(store, samples) == 1000
    assert count(store, layouts) == 50
    assert len(store.host_rows()) == 50
    got = store.series("host049", "fs.used_pct[/m7]", T0, T0 + 95)
    assert got == [(T0 + 5 * p, (49 * 7 + p + 39) / 8) for p in range(20)]


def test_a_failed_batch_leaves_no_trace_and_the_store_keeps_working(store: Store) -> None:
    with pytest.raises((TypeError, ValueError)):
        store.write([snap("new", T0, {"x": 1.0}), snap("new", T0 + 5, {"x": "bad"})], [])
    assert store.host_rows() == []
    store.write([snap("new", T0, {"x": 1.0})], [])
    assert store.series("new", "x", T0, T0) == [(T0, 1.0)]


def test_data_survives_reopening(db_url: str) -> None:
    with Store.open(db_url) as s:
        s.upgrade()
        s.write(
            [snap("h", T0, {"a": 1.0, "b": 2.0}, os="데비안")],
            [PollStatus("h", HostState.UP, T0)],
        )
    with Store.open(db_url) as s:
        s.upgrade()
        assert s.series("h", "b", T0, T0) == [(T0, 2.0)]
        s.write([snap("h", T0 + 5, {"a": 3.0, "b": 4.0})], [])  # ids found, not duplicated
        assert s.series("h", "a", T0, T0 + 5) == [(T0, 1.0), (T0 + 5, 3.0)]
        assert count(s, layouts) == 1
        row = s.host_row("h")
        assert row.state is HostState.UP and row.info == {"os": "데비안"}

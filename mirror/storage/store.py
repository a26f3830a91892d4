"""The storage layer: a small synchronous store over SQLAlchemy Core, SQLite or PostgreSQL.

The poller calls :meth:`Store.write` from a worker thread with a batch of snapshots and
statuses; the API calls the read methods from sync handlers. Every database error leaves
this module as :class:`~mirror.errors.StorageError` with a one-line message that names the
database (password hidden).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, make_url

from mirror.errors import StorageError
from mirror.model import HostState, PollStatus, Snapshot
from mirror.resources import resource
from mirror.storage import fixedpoint, grafana, timescale, timescale_layout
from mirror.storage.health import StorageHealth
from mirror.storage.layout import Layout, PollRow
from mirror.storage.packed import PackedLayout
from mirror.storage.recent import RecentWindow
from mirror.storage.retention import Retention
from mirror.storage.rollup import MINUTE, lower_watermark
from mirror.storage.schema import host_status, hosts, series

if TYPE_CHECKING:
    from mirror.storage.query import SeriesResult

log = logging.getLogger(__name__)

MIGRATIONS_DIR = resource("migrations")  # the checkout's, or the wheel's copy

_SQLITE_BUSY_TIMEOUT_MS = 10_000
_PG_CONNECT_TIMEOUT_S = 10


@dataclass(frozen=True, slots=True)
class HostRow:
    """A host as storage knows it: latest poll status and latest snapshot values."""

    name: str
    state: HostState
    error: str | None
    ts: float | None  # unix seconds of the latest PollStatus
    duration_ms: float | None
    metrics: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    metrics_ts: float | None = None  # unix seconds of the snapshot ``metrics`` came from


def database_url(url: str) -> URL:
    """Parse ``url``; plain ``postgresql://`` and ``postgres://`` mean psycopg 3."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as e:
        raise StorageError(f"not a database URL: {url!r}") from e
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        parsed = parsed.set(database=str(Path(parsed.database).expanduser()))
    return parsed


def _ms(ts: float) -> int:
    return round(ts * 1000)


def _jsonable(obj: Any) -> Any:
    """NaN and ±inf become null: PostgreSQL's jsonb (and strict JSON) has no token for them."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj


def _json_text(obj: Any) -> str:
    """What json.dumps(obj, ensure_ascii=False, default=str) gives, compact (NaN: _jsonable)."""
    return msgspec.json.encode(obj, enc_hook=str).decode()


def _reason(e: BaseException) -> str:
    orig = getattr(e, "orig", None) or e
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    return lines[0] if lines else type(orig).__name__


class Store:
    """Samples, series and host status in one database. Thread-safe; writes are serialised."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self._write_lock = threading.Lock()
        # Ids never change once committed, so they are cached for the life of the store.
        self._host_ids: dict[str, int] = {}
        self._series_ids: dict[tuple[int, str], int] = {}
        self._packed = PackedLayout(engine.dialect.name, self._insert)
        self._narrow_layout = timescale_layout.NarrowLayout()
        # What the writer and the periodic jobs report (buffered results, job errors).
        self.health = StorageHealth()
        # The last hour of the series the fleet overview asks for, fed by every write.
        self.recent = RecentWindow()
        self._layout: Layout | None = None  # picked when the store opens (and upgrades)

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect to ``url`` (checked now, so a wrong URL fails here, not at the first write)."""
        parsed = database_url(url)
        backend = parsed.get_backend_name()
        # msgspec, not the json module: host_status holds every host's latest values (~1 MB
        # for 254 hosts), decoded on each /api/hosts or /api/overview: 15 ms -> 4 ms here.
        codec_args = {"json_serializer": _json_text, "json_deserializer": msgspec.json.decode}
        if backend == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                try:
                    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
                except OSError as e:
                    raise StorageError(f"cannot create the database folder: {e}") from e
            engine = sa.create_engine(parsed, **codec_args)
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        elif backend == "postgresql":
            engine = sa.create_engine(
                parsed,
                **codec_args,
                pool_pre_ping=True,  # survive a PostgreSQL restart between batches
                connect_args={"connect_timeout": _PG_CONNECT_TIMEOUT_S},
            )
        else:
            raise StorageError(
                f"unsupported database {parsed.render_as_string(hide_password=True)}: "
                "use sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
            )
        store = cls(engine)
        with store._errors("cannot connect to database"), engine.connect() as conn:
            store._pick_layout(conn)
        return store

    def _pick_layout(self, conn: Connection | None) -> None:
        """The layout in use: TimescaleDB's narrow one where its tables are there."""
        narrow = conn is not None and timescale_layout.in_use(conn)
        self._layout = self._narrow_layout if narrow else self._packed

    @property
    def url(self) -> str:
        """The database URL with the password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    @property
    def engine(self) -> Engine:
        """For tools beside the store (migrations, `mirror db info`); not for the poller or API."""
        return self._engine

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    @property
    def layout(self) -> Layout:
        """How samples are laid out (:mod:`mirror.storage.layout`), picked on opening."""
        if self._layout is None:
            with self._errors("detecting the storage layout of"), self._engine.connect() as conn:
                self._pick_layout(conn)
        assert self._layout is not None
        return self._layout

    @property
    def narrow(self) -> bool:
        """Whether samples are stored in TimescaleDB's narrow layout (``timescale_layout``)."""
        return self.layout.name == "narrow"

    def upgrade(self, retention: Retention | None = None) -> list[str]:
        """Bring the schema to the latest Alembic revision (idempotent); then, on PostgreSQL
        with TimescaleDB, hypertables and policies (the statements issued are returned)."""
        from alembic import command
        from alembic.config import Config

        if not (MIGRATIONS_DIR / "env.py").is_file():
            raise StorageError(f"migrations not found at {MIGRATIONS_DIR}")
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self._errors("schema upgrade failed on"), self._engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        if self.dialect != "postgresql":
            return []
        try:
            with self._errors("enabling TimescaleDB on"), self._engine.begin() as conn:
                issued = timescale.enable(conn, retention or Retention())
                if issued:  # the narrow layout's Grafana views replace the packed ones
                    grafana.create_views(conn)
                self._pick_layout(conn)
        except timescale.NotLoaded as e:
            log.warning(
                "TimescaleDB is installed on the server but not loaded (%s): %s",
                e,
                timescale.PRELOAD_HINT,
            )
            issued = []
            self._layout = None  # the connection is gone: found again on first use
        return issued

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except sa.exc.SQLAlchemyError as e:
            reason = _reason(e)
            hint = ""
            lowered = reason.lower()
            if "no such table" in lowered or (
                "relation" in lowered and "does not exist" in lowered
            ):
                hint = " (run `mirror db upgrade`)"
            raise StorageError(f"{action} {self.url}: {reason}{hint}") from e

    # -- helpers for the rollup, retention and query modules -----------------------------

    @contextmanager
    def write_transaction(self, action: str) -> Iterator[Connection]:
        """One transaction that no ``write`` interleaves with (rollups, retention)."""
        with self._write_lock, self._errors(f"{action} on"), self._engine.begin() as conn:
            yield conn

    @contextmanager
    def writes_paused(self) -> Iterator[None]:
        """No ``write`` commits meanwhile (to read a consistent start for ``recent``)."""
        with self._write_lock:
            yield

    @contextmanager
    def read_connection(self, action: str) -> Iterator[Connection]:
        with self._errors(f"{action} from"), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def autocommit_connection(self, action: str) -> Iterator[Connection]:
        """For statements that cannot run in a transaction block (TimescaleDB's refresh)."""
        with (
            self._errors(f"{action} on"),
            self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
        ):
            yield conn

    def insert(self, table: sa.Table) -> Any:
        """The dialect's INSERT (with ``on_conflict_do_*``) for ``table``."""
        return self._insert(table)

    @staticmethod
    def host_ids(conn: Connection) -> list[int]:
        return list(conn.scalars(sa.select(hosts.c.id).order_by(hosts.c.id)))

    def series_id(self, conn: Connection, host: str, name: str) -> tuple[int, int] | None:
        """``(host_id, series_id)`` of ``host``'s series ``name``, or None."""
        found = conn.execute(
            sa.select(series.c.host_id, series.c.id)
            .join(hosts, hosts.c.id == series.c.host_id)
            .where(hosts.c.name == host, series.c.name == name)
        ).first()
        return (found[0], found[1]) if found is not None else None

    # -- writing -------------------------------------------------------------------------

    def write(self, snapshots: Sequence[Snapshot], statuses: Sequence[PollStatus] = ()) -> None:
        """Store a batch in one transaction.

        A (host, ts) already stored, or repeated in the batch, keeps its first sample; the
        rest of the batch is written. Latest metrics/info and status only move forward in time.
        """
        if not snapshots and not statuses:
            return
        with self._write_lock:
            self._write_batch(snapshots, statuses)
            self.recent.observe(snapshots)  # committed: the in-memory last hour counts them

    def _write_batch(self, snapshots: Sequence[Snapshot], statuses: Sequence[PollStatus]) -> None:
        layout = self.layout  # before the transaction: it may read the catalog
        try:
            rows, latest = self._poll_rows(snapshots, statuses)
        except KeyError:  # a host or series not stored yet
            # Ids first, in a transaction of their own: a batch the database then refuses
            # (and the writer retries) finds them cached and creates no rows, so a
            # persistent write error does not burn through the id sequences. The values
            # are checked before, so a bad batch leaves nothing behind.
            _check_values(snapshots)
            self._ensure_ids(snapshots, statuses)
            rows, latest = self._poll_rows(snapshots, statuses)
        host_ids = self._host_ids
        prepared = layout.prepare(self._ids_transaction, rows) if rows else None
        with self._errors("writing to"), self._engine.begin() as conn:
            if rows:
                layout.insert(conn, rows, prepared)
                # A late batch (older than what is rolled up) reopens those buckets.
                lower_watermark(conn, MINUTE.name, min(row.ts_ms for row in rows))
            if latest:
                self._upsert_latest(conn, latest)
            if statuses:
                self._upsert_statuses(conn, statuses, host_ids)

    def _poll_rows(
        self, snapshots: Sequence[Snapshot], statuses: Sequence[PollStatus]
    ) -> tuple[list[PollRow], dict[int, Snapshot]]:
        """The rows to store and each host's latest snapshot, from cached ids only
        (KeyError: one is not cached)."""
        host_ids, series_ids = self._host_ids, self._series_ids
        for status in statuses:
            host_ids[status.host]  # KeyError when not cached
        rows: list[PollRow] = []
        seen: set[tuple[int, int]] = set()  # a repeated (host, ts) keeps its first poll
        latest: dict[int, Snapshot] = {}
        for snap in snapshots:
            host_id = host_ids[snap.host]
            ts_ms = _ms(snap.ts)
            prev = latest.get(host_id)
            if prev is None or snap.ts > prev.ts:
                latest[host_id] = snap
            if not snap.metrics or (host_id, ts_ms) in seen:
                continue
            seen.add((host_id, ts_ms))
            rows.append(
                PollRow(
                    host_id,
                    ts_ms,
                    [(series_ids[(host_id, name)], v) for name, v in snap.metrics.items()],
                )
            )
        return rows, latest

    @contextmanager
    def _ids_transaction(self) -> Iterator[Connection]:
        with self._errors("writing to"), self._engine.begin() as conn:
            yield conn

    def _ensure_ids(self, snapshots: Sequence[Snapshot], statuses: Sequence[PollStatus]) -> None:
        """Host and series ids of a batch, created where missing in a committed transaction
        of their own, and cached."""
        names = {s.host for s in snapshots} | {s.host for s in statuses}
        with self._ids_transaction() as conn:
            new = _NewIds()
            host_ids = self._resolve_hosts(conn, names, new)
            self._resolve_series(conn, snapshots, host_ids, new)
        # Only ids from a committed transaction are cached.
        self._host_ids.update(new.hosts)
        self._series_ids.update(new.series)

    def _resolve_hosts(self, conn: Connection, names: set[str], new: _NewIds) -> dict[str, int]:
        missing = [n for n in names if n not in self._host_ids]
        if missing:
            select = sa.select(hosts.c.name, hosts.c.id).where(
                hosts.c.name.in_(sa.bindparam("names", expanding=True))
            )
            new.hosts.update({n: i for n, i in conn.execute(select, {"names": missing})})
            # Only names not there yet: ON CONFLICT still takes a sequence value per row.
            absent = sorted(set(missing) - new.hosts.keys())
            if absent:
                conn.execute(
                    self._insert(hosts).on_conflict_do_nothing(index_elements=["name"]),
                    [{"name": n} for n in absent],
                )
                new.hosts.update({n: i for n, i in conn.execute(select, {"names": absent})})
        return {n: self._host_ids.get(n) or new.hosts[n] for n in names}

    def _resolve_series(
        self,
        conn: Connection,
        snapshots: Iterable[Snapshot],
        host_ids: dict[str, int],
        new: _NewIds,
    ) -> dict[tuple[int, str], int]:
        missing: set[tuple[int, str]] = set()
        for snap in snapshots:
            host_id = host_ids[snap.host]
            for name in snap.metrics:
                if (host_id, name) not in self._series_ids:
                    missing.add((host_id, name))
        if not missing:
            return self._series_ids
        select = sa.select(series.c.host_id, series.c.name, series.c.id).where(
            series.c.host_id.in_(sa.bindparam("hosts", expanding=True)),
            series.c.name.in_(sa.bindparam("names", expanding=True)),
        )

        def find(pairs: set[tuple[int, str]]) -> None:
            found = conn.execute(
                select,
                {"hosts": sorted({h for h, _ in pairs}), "names": sorted({n for _, n in pairs})},
            )
            new.series.update({(h, n): id_ for h, n, id_ in found if (h, n) in pairs})

        find(missing)
        # Only series not there yet: ON CONFLICT still takes a sequence value per row.
        absent = missing - new.series.keys()
        if absent:
            conn.execute(
                self._insert(series).on_conflict_do_nothing(index_elements=["host_id", "name"]),
                [
                    {"host_id": h, "name": n, "decimals": fixedpoint.decimals(n)}
                    for h, n in sorted(absent)
                ],
            )
            find(absent)
        return self._series_ids | new.series

    def _upsert_latest(self, conn: Connection, latest: dict[int, Snapshot]) -> None:
        stmt = self._insert(host_status)
        stmt = stmt.on_conflict_do_update(
            index_elements=["host_id"],
            set_={
                "metrics": stmt.excluded.metrics,
                # A snapshot without info (a poll that did not read it) keeps the last one.
                "info": sa.func.coalesce(stmt.excluded.info, host_status.c.info),
                "metrics_ts_ms": stmt.excluded.metrics_ts_ms,
            },
            where=sa.or_(
                host_status.c.metrics_ts_ms.is_(None),
                host_status.c.metrics_ts_ms <= stmt.excluded.metrics_ts_ms,
            ),
        )
        conn.execute(
            stmt,
            [
                {
                    "host_id": host_id,
                    "state": HostState.PENDING.value,
                    "metrics_ts_ms": _ms(snap.ts),
                    "metrics": _jsonable(snap.metrics),
                    "info": _jsonable(snap.info) if snap.info else None,
                }
                for host_id, snap in sorted(latest.items())
            ],
        )

    def _upsert_statuses(
        self, conn: Connection, statuses: Sequence[PollStatus], host_ids: dict[str, int]
    ) -> None:
        latest: dict[int, PollStatus] = {}
        for status in statuses:
            host_id = host_ids[status.host]
            prev = latest.get(host_id)
            if prev is None or status.ts >= prev.ts:
                latest[host_id] = status
        stmt = self._insert(host_status)
        stmt = stmt.on_conflict_do_update(
            index_elements=["host_id"],
            set_={
                "state": stmt.excluded.state,
                "error": stmt.excluded.error,
                "ts_ms": stmt.excluded.ts_ms,
                "duration_ms": stmt.excluded.duration_ms,
            },
            where=sa.or_(host_status.c.ts_ms.is_(None), host_status.c.ts_ms <= stmt.excluded.ts_ms),
        )
        conn.execute(
            stmt,
            [
                {
                    "host_id": host_id,
                    "state": HostState(s.state).value,
                    "error": s.error,
                    "ts_ms": _ms(s.ts),
                    "duration_ms": s.duration_ms,
                }
                for host_id, s in sorted(latest.items())
            ],
        )

    # -- reading (mirror.storage.reader.StoreReader) -------------------------------------

    def chart(
        self, host: str, name: str, start_ts: float, end_ts: float, *, stat: str = "avg"
    ) -> SeriesResult:
        """:func:`query.series`: one series at the tier that suits the span."""
        from mirror.storage import query

        return query.series(self, host, name, start_ts, end_ts, stat=stat)

    def fleet(
        self, name: str, start_ts: float, end_ts: float
    ) -> dict[str, list[tuple[float, float]]]:
        """:func:`query.recent_fleet`: every host's 1-minute averages of ``name``."""
        from mirror.storage import query

        return query.recent_fleet(self, name, start_ts, end_ts)

    def _host_query(self, *, info: bool = True) -> sa.Select:
        return (
            sa.select(
                hosts.c.name,
                host_status.c.state,
                host_status.c.error,
                host_status.c.ts_ms,
                host_status.c.duration_ms,
                host_status.c.metrics,
                host_status.c.info if info else sa.null().label("info"),
                host_status.c.metrics_ts_ms,
            )
            .select_from(hosts.outerjoin(host_status, host_status.c.host_id == hosts.c.id))
            .order_by(hosts.c.name)
        )

    @staticmethod
    def _host_row(row: sa.Row) -> HostRow:
        return HostRow(
            name=row.name,
            state=HostState(row.state) if row.state else HostState.PENDING,
            error=row.error,
            ts=row.ts_ms / 1000 if row.ts_ms is not None else None,
            duration_ms=row.duration_ms,
            metrics=row.metrics or {},
            info=row.info or {},
            metrics_ts=row.metrics_ts_ms / 1000 if row.metrics_ts_ms is not None else None,
        )

    def host_rows(self, *, info: bool = True) -> list[HostRow]:
        """Every host ever written, by name, with its latest status and values (one query).

        ``info=False`` leaves ``info`` empty: a host's identity and process tables are most
        of a row, and the fleet overview does not show them."""
        with self._errors("reading hosts from"), self._engine.connect() as conn:
            return [self._host_row(r) for r in conn.execute(self._host_query(info=info))]

    def host_row(self, name: str) -> HostRow | None:
        with self._errors("reading a host from"), self._engine.connect() as conn:
            row = conn.execute(self._host_query().where(hosts.c.name == name)).first()
        return self._host_row(row) if row is not None else None

    def series_names(self, host: str) -> list[str]:
        """The names of every series ever stored for ``host``, sorted."""
        query = (
            sa.select(series.c.name)
            .join(hosts, hosts.c.id == series.c.host_id)
            .where(hosts.c.name == host)
            .order_by(series.c.name)
        )
        with self._errors("reading series names from"), self._engine.connect() as conn:
            return list(conn.scalars(query))

    def series(
        self, host: str, name: str, start_ts: float, end_ts: float
    ) -> list[tuple[float, float]]:
        """``(ts seconds, value)`` of one series, ``start_ts <= ts <= end_ts``, oldest first.

        Polls whose layout lacks the series (an interface that was not there yet) are skipped.
        """
        layout = self.layout
        with self._errors("reading a series from"), self._engine.connect() as conn:
            found = conn.execute(
                sa.select(series.c.id, series.c.host_id)
                .join(hosts, hosts.c.id == series.c.host_id)
                .where(hosts.c.name == host, series.c.name == name)
            ).first()
            if found is None:
                return []
            series_id, host_id = found
            reader = layout.series_reader(conn, host_id, series_id, "avg")
            return [(ts / 1000, v) for ts, _, v in reader.read_raw(_ms(start_ts), _ms(end_ts))]


@dataclass(slots=True)
class _NewIds:
    """Ids created or found inside the write transaction; cached only once it commits."""

    hosts: dict[str, int] = field(default_factory=dict)
    series: dict[tuple[int, str], int] = field(default_factory=dict)


def _check_values(snapshots: Sequence[Snapshot]) -> None:
    """Every metric value is a number (int or float), else TypeError naming it."""
    for snap in snapshots:
        for name, value in snap.metrics.items():
            if type(value) is not float and not isinstance(value, int | float):
                raise TypeError(
                    f"metric {name!r} of {snap.host!r} is {type(value).__name__}, not a number"
                )


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a power cut can lose the last commits but never corrupts.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()

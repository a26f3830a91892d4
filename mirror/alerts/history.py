"""Stored alerts (active and past), acknowledgements and silences.

Active alerts (pending/firing) are rows with ``resolved_ms`` NULL: EGO reloads them at
start, so a restart neither forgets a firing alert nor re-announces it, and one that
resolved while EGO was down is resolved (and notified) on the first evaluation. History is
trimmed after ``alerts.history_days``. Synchronous (SQLAlchemy Core, like the store): the
engine and the API call it from worker threads.
"""

from __future__ import annotations

import builtins
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from mirror.alerts.evaluate import AlertKey, Transition
from mirror.alerts.lifecycle import AlertState
from mirror.alerts.silences import Silence, Weekly
from mirror.errors import StorageError
from mirror.storage.schema import Json, metadata

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("rule", sa.String(128), nullable=False),
    sa.Column("target", sa.String(128), nullable=False),
    sa.Column("instance", sa.String(256), nullable=False),  # "" when the series has none
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("labels", Json),
    sa.Column("value", sa.Float),
    sa.Column("since_ms", sa.BigInteger, nullable=False),
    sa.Column("fired_ms", sa.BigInteger),
    sa.Column("resolved_ms", sa.BigInteger),
    sa.Column("last_true_ms", sa.BigInteger, nullable=False),
    sa.Column("ack_by", sa.String(128)),
    sa.Column("ack_ms", sa.BigInteger),
    sa.Column("ack_comment", sa.Text),
    sa.Index("ix_alerts_resolved_ms", "resolved_ms"),
    sa.Index("ix_alerts_since_ms", "since_ms"),
)

alert_silences = sa.Table(
    "alert_silences",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("matchers", Json, nullable=False),
    sa.Column("starts_ms", sa.BigInteger, nullable=False),
    sa.Column("ends_ms", sa.BigInteger, nullable=False),
    sa.Column("weekly", Json),  # {"days": [5, 6], "start_min": 120, "duration_s": 7200}
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Index("ix_alert_silences_ends_ms", "ends_ms"),
)


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    rule: str
    target: str
    instance: str | None
    severity: str
    status: str
    summary: str
    labels: dict[str, str]
    value: float | None
    since: float
    fired_at: float | None
    resolved_at: float | None
    ack_by: str | None
    ack_at: float | None
    ack_comment: str | None

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


class NoSuchAlert(LookupError):
    pass


def _ms(ts: float | None) -> int | None:
    return None if ts is None else round(ts * 1000)


def _s(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


class AlertHistory:
    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock
        self._ids: dict[AlertKey, int] = {}
        self._lock = threading.Lock()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as e:
            raise StorageError(f"alert history: {e.__class__.__name__}: {e}") from None

    def load_active(self) -> tuple[dict[AlertKey, AlertState], set[AlertKey]]:
        """Pending and firing alerts as stored (EGO's start), and those acknowledged."""
        query = sa.select(alerts).where(alerts.c.resolved_ms.is_(None))
        out: dict[AlertKey, AlertState] = {}
        acked: set[AlertKey] = set()
        with self._errors(), self._engine.connect() as conn:
            for row in conn.execute(query):
                key = (row.rule, row.target, row.instance)
                self._ids[key] = row.id
                if row.ack_by is not None:
                    acked.add(key)
                out[key] = AlertState(
                    row.status, row.since_ms / 1000, row.value, row.last_true_ms / 1000,
                    _s(row.fired_ms),
                )  # fmt: skip
        return out, acked

    def key_of(self, alert_id: int) -> AlertKey:
        row = self.get(alert_id)
        return (row.rule, row.target, row.instance or "")

    def record(self, transitions: Iterable[Transition]) -> dict[AlertKey, int]:
        """Store each transition (insert a new alert, update a known one); their ids."""
        ids: dict[AlertKey, int] = {}
        with self._lock, self._errors(), self._engine.begin() as conn:
            for t in transitions:
                s = t.state
                values = {
                    "status": t.to,
                    "severity": t.severity,
                    "summary": t.summary,
                    "labels": t.labels,
                    "value": s.value,
                    "fired_ms": _ms(s.fired_at),
                    "resolved_ms": _ms(s.resolved_at),
                    "last_true_ms": _ms(s.last_true),
                }
                known = self._ids.get(t.key)
                if known is None:
                    rule, target, instance = t.key
                    row: dict[str, Any] = {"rule": rule, "target": target, "instance": instance}
                    row |= values | {"since_ms": _ms(s.since)}
                    insert = sa.insert(alerts).values(row).returning(alerts.c.id)
                    known = conn.execute(insert).scalar_one()
                else:
                    conn.execute(sa.update(alerts).where(alerts.c.id == known).values(values))
                ids[t.key] = known
                if t.to == "resolved":
                    self._ids.pop(t.key, None)
                else:
                    self._ids[t.key] = known
        return ids

    def forget_pending(self, keys: Iterable[AlertKey]) -> None:
        """Pending alerts whose breach ended before they fired: not history, deleted."""
        ids = [self._ids.pop(k) for k in keys if k in self._ids]
        if ids:
            with self._errors(), self._engine.begin() as conn:
                conn.execute(sa.delete(alerts).where(alerts.c.id.in_(ids)))

    def list(
        self, *, active: bool | None = None, target: str | None = None, limit: int = 200
    ) -> list[AlertRow]:
        """Newest first; ``active`` True: pending/firing only, False: resolved only."""
        query = sa.select(alerts).order_by(alerts.c.since_ms.desc()).limit(max(1, limit))
        if active is True:
            query = query.where(alerts.c.resolved_ms.is_(None))
        elif active is False:
            query = query.where(alerts.c.resolved_ms.is_not(None))
        if target:
            query = query.where(alerts.c.target == target)
        with self._errors(), self._engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def get(self, alert_id: int) -> AlertRow:
        with self._errors(), self._engine.connect() as conn:
            row = conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).first()
        if row is None:
            raise NoSuchAlert(f"no alert {alert_id}")
        return _row(row)

    def ack(self, alert_id: int, who: str, comment: str) -> AlertRow:
        now = _ms(self._clock())
        with self._errors(), self._engine.begin() as conn:
            done = conn.execute(
                sa.update(alerts)
                .where(alerts.c.id == alert_id)
                .values(ack_by=who, ack_ms=now, ack_comment=comment)
            )
        if done.rowcount == 0:
            raise NoSuchAlert(f"no alert {alert_id}")
        return self.get(alert_id)

    def add_silence(
        self,
        matchers: dict[str, str],
        starts: float,
        ends: float,
        who: str,
        comment: str,
        weekly: Weekly | None = None,
    ) -> Silence:
        if ends <= starts:
            raise ValueError("a silence must end after it starts")
        if not matchers:
            raise ValueError("a silence needs at least one matcher (label=glob)")
        row = {
            "matchers": matchers,
            "starts_ms": _ms(starts),
            "ends_ms": _ms(ends),
            "weekly": None if weekly is None else _weekly_json(weekly),
            "created_by": who,
            "created_ms": _ms(self._clock()),
            "comment": comment,
        }
        with self._errors(), self._engine.begin() as conn:
            insert = sa.insert(alert_silences).values(row).returning(alert_silences.c.id)
            new_id = conn.execute(insert).scalar_one()
        return Silence(new_id, matchers, starts, ends, who, comment, weekly)

    def silences(self, *, include_expired: bool = False) -> builtins.list[Silence]:
        query = sa.select(alert_silences).order_by(alert_silences.c.id)
        if not include_expired:
            query = query.where(alert_silences.c.ends_ms > _ms(self._clock()))
        with self._errors(), self._engine.connect() as conn:
            return [_silence(r) for r in conn.execute(query)]

    def expire_silence(self, silence_id: int) -> Silence:
        """End a silence now (kept as history)."""
        now = _ms(self._clock())
        with self._errors(), self._engine.begin() as conn:
            done = conn.execute(
                sa.update(alert_silences)
                .where(alert_silences.c.id == silence_id, alert_silences.c.ends_ms > now)
                .values(ends_ms=now)
            )
            row = conn.execute(
                sa.select(alert_silences).where(alert_silences.c.id == silence_id)
            ).first()
        if row is None:
            raise NoSuchAlert(f"no silence {silence_id}")
        if done.rowcount == 0 and row.ends_ms > now:
            raise NoSuchAlert(f"no silence {silence_id}")
        return _silence(row)

    def trim(self, before: float) -> int:
        """Delete resolved alerts and silences that ended before ``before``."""
        cut = _ms(before)
        with self._errors(), self._engine.begin() as conn:
            n = conn.execute(sa.delete(alerts).where(alerts.c.resolved_ms < cut)).rowcount
            n += conn.execute(
                sa.delete(alert_silences).where(alert_silences.c.ends_ms < cut)
            ).rowcount
        return n


def _weekly_json(w: Weekly) -> dict[str, Any]:
    return {"days": list(w.days), "start_min": w.start_min, "duration_s": w.duration_s}


def _row(r: Any) -> AlertRow:
    labels = r.labels if isinstance(r.labels, dict) else json.loads(r.labels or "{}")
    return AlertRow(
        r.id, r.rule, r.target, r.instance or None, r.severity, r.status, r.summary, labels,
        r.value, r.since_ms / 1000, _s(r.fired_ms), _s(r.resolved_ms), r.ack_by, _s(r.ack_ms),
        r.ack_comment,
    )  # fmt: skip


def _silence(r: Any) -> Silence:
    weekly = None
    if r.weekly:
        w = r.weekly
        weekly = Weekly(tuple(w["days"]), int(w["start_min"]), float(w["duration_s"]))
    return Silence(
        r.id, dict(r.matchers), r.starts_ms / 1000, r.ends_ms / 1000, r.created_by, r.comment,
        weekly,
    )  # fmt: skip

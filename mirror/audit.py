"""The audit log: who did what, where, when and with what result; append-only, hash-chained.

Each entry carries the hash of the one before it (``prev_hash``) and its own hash over its
fields and ``prev_hash``, so editing or deleting a row breaks the chain at that row and
``mirror audit verify`` names it. The database refuses UPDATE and DELETE on the table
(triggers, see migration ``0004_audit``); the chain is what catches someone who removes
them. Logins and token uses are written by ``mirror.auth`` to ``auth_events``; they are
taken into the chain (``ingest_auth_events``) before every append, list and verify.

Not caught by the chain alone: rewriting it (recomputing the hashes after an edit), or
removing the newest entries (there is nothing after them to disagree). The keyed seals of
``mirror.audit_seal`` (a key and a file outside the database, ``mirror serve`` and the CLI
write them) catch both.

Command results (capped output, exit status, duration) live in ``command_results``; the
audit entry of a run names its ``run_id``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

import mirror.auth.tables  # noqa: F401 - auth_events is read from here
from mirror.audit_seal import AuditSeal
from mirror.control.model import HostResult
from mirror.errors import ConfigError, StorageError
from mirror.storage.schema import metadata

GENESIS = "0" * 64
APPEND_RETRIES = 5

audit_log = sa.Table(
    "audit_log",
    metadata,
    # Assigned by the writer (previous id + 1), so a gap is a deleted entry.
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("ts_ms", sa.BigInteger, nullable=False, index=True),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("via", sa.String(16), nullable=False),  # session | token | cli | auth
    # command, action, terminal.start/end, tunnel.open/close, wol, auth.<kind>
    sa.Column("action", sa.String(64), nullable=False, index=True),
    sa.Column("target", sa.Text),
    sa.Column("detail", sa.Text),  # canonical JSON (the hash covers this exact text)
    sa.Column("result", sa.Text),
    sa.Column("auth_event_id", sa.Integer, unique=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

command_results = sa.Table(
    "command_results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.String(32), nullable=False, index=True),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.Column("host", sa.String(128), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("command", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("exit_status", sa.Integer),
    sa.Column("exit_signal", sa.String(16)),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("stdout", sa.Text, nullable=False),  # first and last part (the run's cap)
    sa.Column("stderr", sa.Text, nullable=False),
    sa.Column("stdout_bytes", sa.BigInteger, nullable=False),  # full sizes
    sa.Column("stderr_bytes", sa.BigInteger, nullable=False),
    sa.Column("truncated", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text),
)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    ts: float
    actor: str
    via: str
    action: str
    target: str | None
    detail: dict[str, Any] | None
    result: str | None
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    checked: int
    head_hash: str
    broken_id: int | None = None
    reason: str | None = None
    sealed: int | None = None  # seals checked (None: no seal file configured)

    def text(self) -> str:
        if self.ok:
            seals = "" if self.sealed is None else f", {self.sealed} seals match"
            return f"audit log intact: {self.checked} entries, head {self.head_hash[:16]}…{seals}"
        if self.broken_id is None:
            return f"audit log BROKEN: {self.reason}"
        return f"audit log BROKEN at entry {self.broken_id}: {self.reason}"


def canonical(detail: dict[str, Any] | None) -> str | None:
    if detail is None:
        return None
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(
    entry_id: int,
    ts_ms: int,
    actor: str,
    via: str,
    action: str,
    target: str | None,
    detail: str | None,
    result: str | None,
    auth_event_id: int | None,
    prev_hash: str,
) -> str:
    fields = [entry_id, ts_ms, actor, via, action, target, detail, result, auth_event_id]
    payload = json.dumps([*fields, prev_hash], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def verify_rows(rows: Iterable[Any]) -> VerifyReport:
    """Check a chain read in id order (pure: rows with the table's columns)."""
    prev, expected_id, checked = GENESIS, 1, 0
    for row in rows:
        if row.id != expected_id:
            missing = (
                f"{expected_id}" if row.id == expected_id + 1 else f"{expected_id}-{row.id - 1}"
            )
            return VerifyReport(
                False, checked, prev, expected_id, f"entry {missing} missing (deleted)"
            )
        if row.prev_hash != prev:
            return VerifyReport(
                False, checked, prev, row.id, "its prev_hash does not match the entry before it"
            )
        computed = entry_hash(
            row.id,
            row.ts_ms,
            row.actor,
            row.via,
            row.action,
            row.target,
            row.detail,
            row.result,
            row.auth_event_id,
            row.prev_hash,
        )
        if computed != row.hash:
            return VerifyReport(False, checked, prev, row.id, "its content was changed")
        prev, expected_id, checked = row.hash, expected_id + 1, checked + 1
    return VerifyReport(True, checked, prev)


def _entry(row: Any) -> AuditEntry:
    """An entry from a row of ``audit_log`` (or anything with its columns)."""
    return AuditEntry(
        id=row.id,
        ts=row.ts_ms / 1000,
        actor=row.actor,
        via=row.via,
        action=row.action,
        target=row.target,
        detail=json.loads(row.detail) if row.detail else None,
        result=row.result,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class AuditLog:
    """Synchronous (SQLAlchemy Core, like the store): the API calls it from a worker thread."""

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], float] = time.time,
        *,
        keystrokes: bool = False,
        seal: AuditSeal | None = None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._seal = seal  # keyed seals outside the database (mirror.audit_seal)
        # MIRROR_AUDIT_KEYSTROKES: web terminals record what is typed (echoed lines only).
        self.keystrokes = keystrokes
        self._lock = threading.Lock()

    def record(
        self,
        actor: str,
        via: str,
        action: str,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
        result: str | None = None,
    ) -> AuditEntry:
        """Append one entry (after any auth events not yet in the chain)."""
        with self._lock, self._errors():
            self._ingest()
            return self._append(actor, via, action, target, canonical(detail), result, None)

    def ingest_auth_events(self) -> int:
        with self._lock, self._errors():
            return self._ingest()

    def entries(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
        since: float | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Newest first; ``action`` matches a prefix (``auth.``), ``target`` a substring."""
        self.ingest_auth_events()
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(max(1, limit))
        if actor:
            query = query.where(audit_log.c.actor == actor)
        if action:
            query = query.where(audit_log.c.action.startswith(action, autoescape=True))
        if target:
            query = query.where(audit_log.c.target.contains(target, autoescape=True))
        if since is not None:
            query = query.where(audit_log.c.ts_ms >= round(since * 1000))
        with self._errors(), self._engine.connect() as conn:
            return [_entry(r) for r in conn.execute(query)]

    def verify(self) -> VerifyReport:
        self.ingest_auth_events()
        with self._errors(), self._engine.connect() as conn:
            rows = conn.execute(sa.select(audit_log).order_by(audit_log.c.id)).yield_per(1000)
            report = verify_rows(rows)
            if not report.ok or self._seal is None:
                return report
            query = sa.select(audit_log.c.id, audit_log.c.hash).order_by(audit_log.c.id)
            chain = {r.id: r.hash for r in conn.execute(query)}
        try:
            sealed = self._seal.check(chain, max(chain, default=0))
        except ConfigError as exc:
            return replace(report, ok=False, reason=str(exc))
        if not sealed.ok:
            return replace(report, ok=False, reason=sealed.reason, sealed=sealed.checked)
        return replace(report, sealed=sealed.checked)

    def save_results(
        self, run_id: str, actor: str, command: str, results: Sequence[HostResult]
    ) -> None:
        now_ms = round(self._clock() * 1000)
        rows = [
            {
                "run_id": run_id,
                "ts_ms": now_ms,
                "host": r.host,
                "actor": actor,
                "command": command,
                "state": str(r.state),
                "exit_status": r.exit_status,
                "exit_signal": r.exit_signal,
                "duration_ms": round(r.duration_s * 1000),
                "stdout": r.stdout,
                "stderr": r.stderr,
                "stdout_bytes": r.stdout_bytes,
                "stderr_bytes": r.stderr_bytes,
                "truncated": r.truncated,
                "error": r.error,
            }
            for r in results
        ]
        if rows:
            with self._errors(), self._engine.begin() as conn:
                conn.execute(sa.insert(command_results), rows)

    def trim_results(self, before: float) -> int:
        """Delete stored command results older than ``before`` (epoch seconds); the audit
        entries that name their runs stay (the log itself is append-only)."""
        cut = command_results.c.ts_ms < round(before * 1000)
        with self._errors(), self._engine.begin() as conn:
            return max(conn.execute(sa.delete(command_results).where(cut)).rowcount or 0, 0)

    def results(self, run_id: str) -> list[dict[str, Any]]:
        query = sa.select(command_results).where(command_results.c.run_id == run_id)
        with self._errors(), self._engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query.order_by(command_results.c.id))]

    # -- inside --------------------------------------------------------------------------

    def _ingest(self) -> int:
        from mirror.auth.tables import auth_events

        with self._engine.connect() as conn:
            seen = conn.execute(sa.select(sa.func.max(audit_log.c.auth_event_id))).scalar()
            events = conn.execute(
                sa.select(auth_events)
                .where(auth_events.c.id > (seen or 0))
                .order_by(auth_events.c.id)
            ).all()
        for event in events:
            self._append(
                event.user_name or "-",
                "auth",
                f"auth.{event.kind}",
                event.address,
                None,
                event.detail,
                event.id,
                ts_ms=event.ts_ms,
            )
        return len(events)

    def _append(
        self,
        actor: str,
        via: str,
        action: str,
        target: str | None,
        detail: str | None,
        result: str | None,
        auth_event_id: int | None,
        ts_ms: int | None = None,
    ) -> AuditEntry:
        ts_ms = ts_ms if ts_ms is not None else round(self._clock() * 1000)
        actor = actor[:128]
        for attempt in range(APPEND_RETRIES):
            try:
                with self._engine.begin() as conn:
                    entry = self._append_in(
                        conn, actor, via, action, target, detail, result, auth_event_id, ts_ms
                    )
                if self._seal is not None:
                    self._seal.seal(entry.id, entry.hash)
                return entry
            except sa.exc.IntegrityError:
                # Another process appended the same id first: read the new head, try again.
                if attempt == APPEND_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _append_in(
        conn: Connection,
        actor: str,
        via: str,
        action: str,
        target: str | None,
        detail: str | None,
        result: str | None,
        auth_event_id: int | None,
        ts_ms: int,
    ) -> AuditEntry:
        if auth_event_id is not None:
            # Two writers (EGO and a CLI) may both take in the same auth event: the second
            # finds it already logged instead of failing on the unique column forever.
            logged = conn.execute(
                sa.select(audit_log).where(audit_log.c.auth_event_id == auth_event_id)
            ).first()
            if logged is not None:
                return _entry(logged)
        head = conn.execute(
            sa.select(audit_log.c.id, audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)
        ).first()
        entry_id, prev = (head.id + 1, head.hash) if head is not None else (1, GENESIS)
        digest = entry_hash(
            entry_id, ts_ms, actor, via, action, target, detail, result, auth_event_id, prev
        )
        row = SimpleNamespace(
            id=entry_id,
            ts_ms=ts_ms,
            actor=actor,
            via=via,
            action=action,
            target=target,
            detail=detail,
            result=result,
            auth_event_id=auth_event_id,
            prev_hash=prev,
            hash=digest,
        )
        conn.execute(sa.insert(audit_log).values(**vars(row)))
        return _entry(row)

    def _errors(self) -> contextlib.AbstractContextManager[None]:
        return _db_errors(self._engine)


@contextlib.contextmanager
def _db_errors(engine: Engine) -> Iterator[None]:
    """Database errors leave as one-line :class:`StorageError` (password hidden)."""
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        hint = " (run `mirror db upgrade`)" if "no such table" in reason else ""
        url = engine.url.render_as_string(hide_password=True)
        raise StorageError(f"audit log {url}: {reason}{hint}") from exc

"""What the API and the CLI do with alerts: list, acknowledge, silence, edit rules, test
channels. Every ack, silence and rule edit is in the audit log.

Synchronous parts run in worker threads (the history is SQLAlchemy Core); rule edits go
through the inventory reloader, so the file is written and re-read under one lock. The
channel side (status, test) is handed in by EGO: ``mirror`` does not import ``notify``.
"""

from __future__ import annotations

import asyncio
import builtins
import time
from collections.abc import Callable
from typing import Any, Protocol

from mirror.alerts.defaults import DEFAULTS, effective_rules
from mirror.alerts.engine import AlertEngine
from mirror.alerts.history import AlertHistory, AlertRow, NoSuchAlert
from mirror.alerts.push import PushSubscriptions
from mirror.alerts.rules_file import delete_rule, put_rule
from mirror.alerts.silences import Silence, parse_weekly
from mirror.audit import AuditLog
from mirror.inventory.reload import InventoryReloader, ReloadResult


class Channels(Protocol):
    def status(self) -> dict[str, dict[str, Any]]: ...

    async def test(self, name: str) -> None: ...


def silence_dict(s: Silence, now: float) -> dict[str, Any]:
    weekly = None
    if s.weekly is not None:
        w = s.weekly
        weekly = {"days": list(w.days), "start_min": w.start_min, "duration_s": w.duration_s}
    return {
        "id": s.id,
        "matchers": s.matchers,
        "starts": s.starts,
        "ends": s.ends,
        "created_by": s.created_by,
        "comment": s.comment,
        "weekly": weekly,
        "active": s.active(now),
    }


class AlertService:
    def __init__(
        self,
        history: AlertHistory,
        engine: AlertEngine | None = None,
        audit: AuditLog | None = None,
        channels: Channels | None = None,
        reloader: InventoryReloader | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.history = history
        self.engine = engine
        self.audit = audit
        self.channels = channels
        self.reloader = reloader
        self.clock = clock
        self.push: tuple[PushSubscriptions, str] | None = None  # (subscriptions, VAPID key)

    async def _audit(self, who: str, via: str, action: str, target: str, detail: Any) -> None:
        if self.audit is not None:
            audit = self.audit
            await asyncio.to_thread(audit.record, who, via, action, target, detail, "ok")

    async def list(self, scope: str, target: str | None, limit: int) -> list[dict[str, Any]]:
        active = {"active": True, "history": False}.get(scope)
        rows = await asyncio.to_thread(self.history.list, active=active, target=target, limit=limit)
        return [self._with_silence(r) for r in rows]

    def _with_silence(self, row: AlertRow) -> dict[str, Any]:
        out = row.as_dict()
        out["silenced_by"] = None
        if self.engine is not None and row.resolved_at is None:
            now = self.clock()
            target = self.engine.view.targets.get(row.target)
            groups = target.groups if target else ()
            tags = target.tags if target else ()
            for s in self.engine.silences:
                if s.active(now) and s.matches(row.labels, groups, tags):
                    out["silenced_by"] = s.id
                    break
        return out

    def summary(self) -> dict[str, int]:
        return self.engine.counts() if self.engine is not None else {}

    async def ack(self, alert_id: int, who: str, via: str, comment: str) -> dict[str, Any]:
        if not 0 < alert_id < 2**63:  # beyond the database's integers: no such alert
            raise NoSuchAlert(f"no alert {alert_id}")
        row = await asyncio.to_thread(self.history.ack, alert_id, who, comment)
        if self.engine is not None and row.resolved_at is None:
            self.engine.acked.add((row.rule, row.target, row.instance or ""))
        detail = {"alert": alert_id, "rule": row.rule, "comment": comment}
        await self._audit(who, via, "alert.ack", row.target, detail)
        return row.as_dict()

    async def silence(
        self,
        matchers: dict[str, str],
        duration_s: float,
        who: str,
        via: str,
        comment: str,
        weekly: dict[str, Any] | None = None,
        starts: float | None = None,
    ) -> dict[str, Any]:
        if duration_s <= 0:
            raise ValueError("a silence needs a positive duration")
        if not comment.strip():
            raise ValueError("say why (comment): a silence nobody can explain is not kept")
        window = None
        if weekly is not None:
            window = parse_weekly(
                list(weekly.get("days", [])),
                str(weekly.get("start", "")),
                float(weekly.get("duration_s", 0)),
            )
        begin = self.clock() if starts is None else starts
        made = await asyncio.to_thread(
            self.history.add_silence, matchers, begin, begin + duration_s, who, comment, window
        )
        self._reload_silences()
        detail = {"silence": made.id, "matchers": matchers, "ends": made.ends, "comment": comment}
        await self._audit(who, via, "alert.silence", _matcher_text(matchers), detail)
        return silence_dict(made, self.clock())

    async def silences(self, include_expired: bool) -> builtins.list[dict[str, Any]]:
        found = await asyncio.to_thread(self.history.silences, include_expired=include_expired)
        now = self.clock()
        return [silence_dict(s, now) for s in found]

    async def expire(self, silence_id: int, who: str, via: str) -> dict[str, Any]:
        if not 0 < silence_id < 2**63:
            raise NoSuchAlert(f"no silence {silence_id}")
        done = await asyncio.to_thread(self.history.expire_silence, silence_id)
        self._reload_silences()
        detail = {"silence": silence_id, "matchers": done.matchers}
        await self._audit(who, via, "alert.unsilence", _matcher_text(done.matchers), detail)
        return silence_dict(done, self.clock())

    def _reload_silences(self) -> None:
        if self.engine is not None:
            self.engine.silences = self.history.silences()

    def rules(self) -> builtins.list[dict[str, Any]]:
        """The rules in force: each says whether it is a default, overridden or the file's."""
        if self.engine is None:
            return []
        section = self.engine.current.get().alerts
        in_file = {r.name for r in section.rules}
        out = []
        for rule in effective_rules(section):
            origin = "file" if rule.name not in DEFAULTS else "default"
            if rule.name in DEFAULTS and rule.name in in_file:
                origin = "override"
            body = rule.model_dump(by_alias=True, exclude_defaults=True)
            out.append({"name": rule.name, "origin": origin, "rule": body})
        return out

    async def put_rule(self, rule: dict[str, Any], who: str, via: str) -> ReloadResult:
        reloader = self._reloader()
        outcome, result = await reloader.edit_and_reload(
            lambda path: put_rule(path, rule), who, via
        )
        await self._audit(who, via, f"alert.rule.{outcome}", str(rule.get("name")), rule)
        return result

    async def delete_rule(self, name: str, who: str, via: str) -> ReloadResult:
        reloader = self._reloader()
        _, result = await reloader.edit_and_reload(lambda path: delete_rule(path, name), who, via)
        await self._audit(who, via, "alert.rule.deleted", name, None)
        return result

    def _reloader(self) -> InventoryReloader:
        if self.reloader is None:
            raise RuntimeError(
                "rules are edited in the running EGO's inventory: run `mirror serve`"
            )
        return self.reloader


def _matcher_text(matchers: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(matchers.items()))

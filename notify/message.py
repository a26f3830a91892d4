"""What a notification says: what, where, since when, the value, a link to the host page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import quote

from mirror.alerts.engine import Notice


def _when(ts: float | None) -> str:
    if ts is None:
        return "?"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _value(value: float | None, rule: str) -> str:
    if value is None:
        return ""
    if rule.startswith("fs-full-soon") or "trend" in rule:
        return f" (full in {value / 86400:.1f} d)" if value >= 0 else ""
    return f" (value {value:.4g})"


def line(notice: Notice, link_base: str | None) -> str:
    t = notice.transition
    where = t.target + (f" {t.instance}" if t.instance else "")
    text = f"{t.rule} on {where}: {t.summary}{_value(t.state.value, t.rule)}"
    if notice.status == "resolved":
        text += f"; resolved {_when(t.state.resolved_at)}, firing since {_when(t.state.fired_at)}"
    else:
        text += f"; since {_when(t.state.since)}"
    if link_base:
        text += f" {link_base.rstrip('/')}/#/host/{quote(t.target, safe='')}"
    return text


def render(
    firing: Sequence[Notice], resolved: Sequence[Notice], link_base: str | None
) -> tuple[str, str]:
    """(title, body) of one grouped message."""
    parts = []
    if firing:
        worst = max((n.transition.severity for n in firing), key=_rank)
        parts.append(f"{len(firing)} firing ({worst})")
    if resolved:
        parts.append(f"{len(resolved)} resolved")
    names = sorted({n.transition.rule for n in (*firing, *resolved)})
    title = f"MIRROR STAGE: {', '.join(parts)}: {', '.join(names[:3])}"
    if len(names) > 3:
        title += f" +{len(names) - 3}"
    lines = [f"FIRING  {line(n, link_base)}" for n in firing[:50]]
    if len(firing) > 50:
        lines.append(f"… and {len(firing) - 50} more firing")
    lines += [f"RESOLVED {line(n, link_base)}" for n in resolved[:50]]
    if len(resolved) > 50:
        lines.append(f"… and {len(resolved) - 50} more resolved")
    return title, "\n".join(lines)


def _rank(severity: str) -> int:
    return {"info": 0, "warning": 1, "critical": 2}.get(severity, 0)

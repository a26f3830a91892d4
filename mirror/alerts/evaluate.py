"""Evaluate every rule over the fleet view: a pure step from (alerts, view, now) to the next
alerts and the transitions worth telling someone about.

Scope: a rule applies to a target when every list it gives (``hosts``, ``groups``,
``tags``, ``kinds``) has one of the target's (host names are globs). Inhibition: while a
target has a firing ``state`` rule (down, SSH silent, auth refused), its other alerts are
marked ``inhibited`` (kept and shown, not notified): one message for a dead host, not five.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from mirror.alerts.conditions import AnomalySource, Condition, compile_condition
from mirror.alerts.config import RuleEntry, parse_expr, parse_pattern
from mirror.alerts.lifecycle import AlertState, Status, advance
from mirror.alerts.silences import Silence, silenced_by
from mirror.alerts.view import FleetView, Target

AlertKey = tuple[str, str, str]  # (rule, target, instance or "")


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: RuleEntry
    condition: Condition

    @property
    def name(self) -> str:
        return self.rule.name

    def applies(self, target: Target) -> bool:
        r = self.rule
        if r.kinds and target.kind not in r.kinds:
            return False
        if r.hosts and not any(fnmatch.fnmatchcase(target.name, h) for h in r.hosts):
            return False
        if r.groups and not set(r.groups) & set(target.groups):
            return False
        return not (r.tags and not set(r.tags) & set(target.tags))


def compile_rules(
    rules: Iterable[RuleEntry], anomaly: AnomalySource | None = None
) -> list[CompiledRule]:
    return [CompiledRule(r, compile_condition(r, anomaly)) for r in rules]


def trend_metrics(rules: Iterable[RuleEntry]) -> frozenset[str]:
    return frozenset(parse_pattern(r.trend).metric for r in rules if r.trend is not None)


def up_metrics(rules: Iterable[RuleEntry]) -> frozenset[str]:
    return frozenset(
        parse_expr(r.expr).series.metric for r in rules if r.was_up and r.expr is not None
    )


@dataclass(frozen=True, slots=True)
class Transition:
    """An alert changed status (``to`` is pending, firing or resolved)."""

    key: AlertKey
    to: Status
    state: AlertState
    severity: str
    summary: str
    labels: dict[str, str]
    groups: tuple[str, ...]
    tags: tuple[str, ...]
    inhibited: bool = False
    silence_id: int | None = None

    @property
    def rule(self) -> str:
        return self.key[0]

    @property
    def target(self) -> str:
        return self.key[1]

    @property
    def instance(self) -> str | None:
        return self.key[2] or None


@dataclass(slots=True)
class Step:
    alerts: dict[AlertKey, AlertState]
    transitions: list[Transition] = field(default_factory=list)


def labels_of(rule: RuleEntry, target: Target, instance: str | None) -> dict[str, str]:
    labels = {"alertname": rule.name, "host": target.name, "severity": rule.severity}
    if instance is not None:
        labels["instance"] = instance
    return labels | rule.labels


def evaluate(
    rules: list[CompiledRule],
    view: FleetView,
    alerts: Mapping[AlertKey, AlertState],
    now: float,
    silences: Iterable[Silence] = (),
    only: set[str] | None = None,
) -> Step:
    """Next alerts (resolved ones are dropped after their transition) and transitions.

    ``only``: evaluate just these targets (those a batch of polls just updated), keeping
    the others' alerts as they are; the engine runs this on every batch, so the poll that
    completes a ``for:`` window is told at once, and everything every ``evaluate_every_s``.
    """
    silences = [s for s in silences if s.active(now)]
    nxt: dict[AlertKey, AlertState] = {}
    targets: Iterable[Target] = view.targets.values()
    if only is not None:
        targets = [view.targets[n] for n in only if n in view.targets]
        nxt = {k: a for k, a in alerts.items() if k[1] not in only}
    changed: list[tuple[CompiledRule, Target, AlertKey, AlertState]] = []
    down: set[str] = set()
    by_rule: dict[str, CompiledRule] = {r.name: r for r in rules}
    seen: set[AlertKey] = set()
    for target in targets:
        for compiled in rules:
            if not compiled.applies(target):
                continue
            rule = compiled.rule
            for finding in compiled.condition.check(target, now):
                key = (rule.name, target.name, finding.instance or "")
                seen.add(key)
                prev = alerts.get(key)
                state = advance(
                    prev,
                    finding.breach,
                    finding.hold,
                    finding.value,
                    now,
                    rule.for_s,
                    rule.keep_firing,
                )
                _keep(nxt, changed, compiled, target, key, prev, state)
                if state is not None and state.status == "firing" and rule.state is not None:
                    down.add(target.name)
    for key, prev in alerts.items():  # the instance vanished, or the rule or target went
        if key in seen or (only is not None and key[1] not in only):
            continue
        still = by_rule.get(key[0])
        on = view.targets.get(key[1])
        if still is None or on is None:
            if prev.status == "firing":
                state = AlertState(
                    "resolved", prev.since, prev.value, prev.last_true, prev.fired_at, now
                )
                changed.append((still or _gone(key), on or _gone_target(key), key, state))
            continue
        state = advance(
            prev, False, False, prev.value, now, still.rule.for_s, still.rule.keep_firing
        )
        _keep(nxt, changed, still, on, key, prev, state)
    step = Step(nxt)
    stateful = {r.name for r in rules if r.rule.state is not None}
    down |= {k[1] for k, a in nxt.items() if a.status == "firing" and k[0] in stateful}
    for compiled, target, key, state in changed:
        rule = compiled.rule
        labels = labels_of(rule, target, key[2] or None)
        silence = silenced_by(silences, labels, target.groups, target.tags, now)
        inhibited = rule.state is None and target.name in down
        step.transitions.append(
            Transition(
                key,
                state.status,
                state,
                rule.severity,
                rule.summary or rule.name,
                labels,
                target.groups,
                target.tags,
                inhibited,
                silence.id if silence else None,
            )
        )
    return step


def _keep(
    nxt: dict[AlertKey, AlertState],
    changed: list[tuple[CompiledRule, Target, AlertKey, AlertState]],
    compiled: CompiledRule,
    target: Target,
    key: AlertKey,
    prev: AlertState | None,
    state: AlertState | None,
) -> None:
    if state is None:
        return
    if state.status != "resolved":
        nxt[key] = state
    if prev is None or prev.status != state.status:
        changed.append((compiled, target, key, state))


def _gone(key: AlertKey) -> CompiledRule:
    rule = RuleEntry.model_validate({"name": key[0], "absent_polls": 1})
    return CompiledRule(rule, compile_condition(rule))


def _gone_target(key: AlertKey) -> Target:
    return Target(key[1], "host")

"""Alert rules: config, defaults, the pure lifecycle and evaluator, silences (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from mirror.alerts.config import AlertsSection, parse_expr
from mirror.alerts.defaults import DEFAULTS, effective_rules
from mirror.alerts.evaluate import compile_rules, evaluate
from mirror.alerts.lifecycle import advance
from mirror.alerts.silences import Silence, parse_weekly, silenced_by
from mirror.alerts.view import FleetView, Target
from mirror.inventory import Inventory, InventoryError

FIXTURES = Path(__file__).parent / "fixtures"


def test_expression_forms() -> None:
    t = parse_expr("fs.used_pct[/home*] >= 90.5")
    assert (t.series.metric, t.series.instance, t.op, t.value) == (
        "fs.used_pct",
        "/home*",
        ">=",
        90.5,
    )
    assert t.series.matches_instance("/home/x") and not t.series.matches_instance("/")
    bare = parse_expr("mem.used_pct<5")
    assert bare.series.instance is None and not bare.series.matches_instance("x")
    with pytest.raises(ValueError, match="SERIES OP NUMBER"):
        parse_expr("fs.used_pct > lots")


def test_a_default_is_overridden_key_by_key_and_switched_off_by_name() -> None:
    section = AlertsSection.model_validate(
        {
            "rules": [
                {"name": "fs-full", "expr": "fs.used_pct[*] > 97"},
                {"name": "no-data", "enabled": False},
                {"name": "mine", "absent_polls": 2, "severity": "info"},
            ]
        }
    )
    rules = {r.name: r for r in effective_rules(section)}
    assert rules["fs-full"].expr == "fs.used_pct[*] > 97"
    assert rules["fs-full"].for_s == DEFAULTS["fs-full"].for_s  # kept from the default
    assert "no-data" not in rules and rules["mine"].severity == "info"
    assert len(rules) == len(DEFAULTS) - 1 + 1
    assert effective_rules(AlertsSection.model_validate({"defaults": False})) == []


def test_changing_a_defaults_kind_drops_the_old_kind() -> None:
    section = AlertsSection.model_validate({"rules": [{"name": "fs-full-soon", "absent_polls": 2}]})
    rule = {r.name: r for r in effective_rules(section)}["fs-full-soon"]
    assert rule.trend is None and rule.absent_polls == 2


def test_inventory_refuses_an_unknown_metric_with_the_field() -> None:
    with pytest.raises(InventoryError) as info:
        Inventory.from_dict({"alerts": {"rules": [{"name": "x", "expr": "cpu.bussy_pct > 9"}]}})
    assert str(info.value) == (
        "<demo> alerts.rules[0].expr: unknown metric 'cpu.bussy_pct'; did you mean 'cpu.busy_pct'?"
    )


# -- lifecycle ------------------------------------------------------------------------------


def test_pending_then_firing_after_for_then_resolved() -> None:
    s = advance(None, True, True, 95.0, 0.0, 60.0, 0.0)
    assert s is not None and s.status == "pending"
    s = advance(s, True, True, 96.0, 59.0, 60.0, 0.0)
    assert s is not None and s.status == "pending"
    s = advance(s, True, True, 97.0, 60.0, 60.0, 0.0)
    assert s is not None and s.status == "firing" and s.fired_at == 60.0 and s.value == 97.0
    s = advance(s, False, False, 50.0, 65.0, 60.0, 0.0)
    assert s is not None and s.status == "resolved" and s.resolved_at == 65.0


def test_a_pending_alert_whose_breach_ends_is_dropped() -> None:
    s = advance(None, True, True, 95.0, 0.0, 60.0, 0.0)
    assert advance(s, False, False, 50.0, 5.0, 60.0, 0.0) is None


def test_hysteresis_holds_a_firing_alert_until_the_recovery_value() -> None:
    s = advance(None, True, True, 95.0, 0.0, 0.0, 0.0)
    assert s is not None and s.status == "firing"
    s = advance(s, False, True, 88.0, 5.0, 0.0, 0.0)  # under 90 but over recover: holds
    assert s is not None and s.status == "firing"
    # A fresh alert needs the breach, not the hold.
    assert advance(None, False, True, 88.0, 0.0, 0.0, 0.0) is None


def test_keep_firing_damps_flapping() -> None:
    s = advance(None, True, True, 1.0, 0.0, 0.0, 30.0)
    s = advance(s, False, False, 0.0, 10.0, 0.0, 30.0)
    assert s is not None and s.status == "firing"
    s = advance(s, True, True, 1.0, 20.0, 0.0, 30.0)
    s = advance(s, False, False, 0.0, 49.0, 0.0, 30.0)
    assert s is not None and s.status == "firing"
    s = advance(s, False, False, 0.0, 50.0, 0.0, 30.0)
    assert s is not None and s.status == "resolved"


# -- evaluator ------------------------------------------------------------------------------


def _view(*targets: Target) -> FleetView:
    view = FleetView()
    view.configure(list(targets), 0.0)
    return view


def _rules(raw: list[dict[str, object]]) -> list:
    return compile_rules(
        effective_rules(AlertsSection.model_validate({"defaults": False, "rules": raw}))
    )


def test_threshold_per_instance_with_scope() -> None:
    view = _view(Target("a", "host", groups=("lab",)), Target("b", "host"))
    rules = _rules([{"name": "fs", "expr": "fs.used_pct[/*] > 90", "groups": ["lab"]}])
    metrics = {"fs.used_pct[/]": 95.0, "fs.used_pct[/home]": 10.0, "fs.used_pct[C:]": 99.0}
    view.observe_poll("a", 0.0, "up", metrics)
    view.observe_poll("b", 0.0, "up", metrics)
    step = evaluate(rules, view, {}, 0.0)
    assert [(t.key, t.to) for t in step.transitions] == [(("fs", "a", "/"), "firing")]
    assert step.transitions[0].labels == {
        "alertname": "fs", "host": "a", "severity": "warning", "instance": "/",
    }  # fmt: skip


def test_load_per_core_divides_by_the_cores_seen() -> None:
    view = _view(Target("a", "host"))
    cores = {f"cpu.busy_pct[{i}]": 50.0 for i in range(4)}
    rules = _rules([{"name": "load", "expr": "load.5 > 2", "per_core": True}])
    view.observe_poll("a", 0.0, "up", {"load.5": 7.9, **cores})
    assert evaluate(rules, view, {}, 0.0).transitions == []
    view.observe_poll("a", 5.0, "up", {"load.5": 8.1, **cores})
    [t] = evaluate(rules, view, {}, 5.0).transitions
    assert t.state.value == pytest.approx(8.1 / 4)


def test_down_is_told_apart_from_ssh_silent() -> None:
    view = _view(Target("a", "host", address="127.0.0.2"), Target("b", "host", address="127.0.0.3"))
    rules = _rules(
        [
            {"name": "down", "state": ["unreachable", "timeout"], "ping": "down"},
            {"name": "ssh", "state": ["unreachable", "timeout"], "ping": "up"},
            {"name": "nodata", "absent_polls": 2},
            {"name": "ping-slow", "expr": "mem.used_pct > 1"},
        ]
    )
    view.observe_poll("a", 0.0, "up", {"mem.used_pct": 50.0})
    view.observe_poll("b", 0.0, "up", {"mem.used_pct": 50.0})
    alerts = evaluate(rules, view, {}, 0.0).alerts
    view.observe_poll("a", 5.0, "unreachable", {})
    view.observe_ping("127.0.0.2", False)
    view.observe_poll("b", 5.0, "timeout", {})
    view.observe_ping("127.0.0.3", True)
    step = evaluate(rules, view, alerts, 5.0)
    got = {(t.rule, t.target): t.inhibited for t in step.transitions}
    assert got == {("down", "a"): False, ("ssh", "b"): False}
    assert not any(k[0] == "nodata" for k in step.alerts)  # a failing poll explains no data


def test_no_data_for_n_polls_on_a_host_that_stopped_sending() -> None:
    view = _view(Target("a", "host", interval_s=5.0))
    rules = _rules([{"name": "nodata", "absent_polls": 3}])
    view.observe_poll("a", 0.0, "up", {"mem.used_pct": 1.0})
    assert evaluate(rules, view, {}, 15.0).transitions == []
    [t] = evaluate(rules, view, {}, 15.5).transitions
    assert (t.rule, t.to, t.state.value) == ("nodata", "firing", 15.5)


def test_trend_fires_when_the_line_reaches_the_limit_in_time() -> None:
    view = _view(Target("a", "host"))
    view.trend_metrics = frozenset({"fs.used_pct"})
    rules = _rules([{"name": "soon", "trend": "fs.used_pct[*]", "within": "7d"}])
    day = 86400.0
    # 1 % a day from 80 %: full in 20 days; then 5 % a day: full within the week
    for i in range(0, 13):
        view.observe_poll("a", i * 600.0, "up", {"fs.used_pct[/]": 80 + i * 600 / day})
    assert evaluate(rules, view, {}, 12 * 600.0).transitions == []
    view2 = _view(Target("a", "host"))
    view2.trend_metrics = frozenset({"fs.used_pct"})
    for i in range(0, 13):
        view2.observe_poll("a", i * 600.0, "up", {"fs.used_pct[/]": 80 + 5 * i * 600 / day})
    [t] = evaluate(rules, view2, {}, 12 * 600.0).transitions
    assert 3 * day < t.state.value < 4.1 * day  # seconds until full: (100-80.4)/5 d


def test_port_down_only_for_ports_that_were_up() -> None:
    view = FleetView(up_metrics=frozenset({"net.oper_up"}))
    view.configure([Target("sw", "snmp")], 0.0)
    rules = _rules([{"name": "port", "expr": "net.oper_up[*] < 1", "was_up": True}])
    view.observe_poll("sw", 0.0, "up", {"net.oper_up[p1]": 1.0, "net.oper_up[p2]": 0.0})
    assert evaluate(rules, view, {}, 0.0).transitions == []  # p2 was never used
    view.observe_poll("sw", 5.0, "up", {"net.oper_up[p1]": 0.0, "net.oper_up[p2]": 0.0})
    [t] = evaluate(rules, view, {}, 5.0).transitions
    assert t.key == ("port", "sw", "p1")


def test_an_alert_whose_instance_vanished_resolves() -> None:
    view = _view(Target("a", "host"))
    rules = _rules([{"name": "port", "expr": "net.oper_up[*] < 1"}])
    view.observe_poll("a", 0.0, "up", {"net.oper_up[p1]": 0.0})
    alerts = evaluate(rules, view, {}, 0.0).alerts
    view.observe_poll("a", 5.0, "up", {"net.oper_up[p2]": 1.0})
    step = evaluate(rules, view, alerts, 5.0)
    assert [(t.key, t.to) for t in step.transitions] == [(("port", "a", "p1"), "resolved")]
    assert step.alerts == {}


# -- silences -------------------------------------------------------------------------------


def test_silence_matchers_expiry_and_groups() -> None:
    s = Silence(1, {"alertname": "fs-*", "group": "lab"}, 100.0, 200.0, "ana", "disk swap")
    labels = {"alertname": "fs-full", "host": "a"}
    assert silenced_by([s], labels, ["lab"], [], 150.0) is s
    assert silenced_by([s], labels, ["home"], [], 150.0) is None
    assert silenced_by([s], labels, ["lab"], [], 200.0) is None  # expired
    assert silenced_by([s], {"alertname": "host-down"}, ["lab"], [], 150.0) is None


def test_weekly_maintenance_window() -> None:
    w = parse_weekly(["sat"], "02:00", 7200)
    sat = datetime(2026, 12, 5, 2, 30, tzinfo=UTC).timestamp()  # a Saturday
    assert w.covers(sat)
    assert not w.covers(sat + 2 * 3600)
    assert w.covers(sat + 7 * 86400)
    sun_night = datetime(2026, 12, 6, 23, 30, tzinfo=UTC).timestamp()
    assert parse_weekly(["sun"], "23:00", 7200).covers(sun_night + 3600)  # into Monday
    with pytest.raises(ValueError, match="unknown day"):
        parse_weekly(["someday"], "02:00", 60)


def test_evaluating_only_the_polled_targets_keeps_the_others() -> None:
    view = _view(Target("a", "host"), Target("b", "host"))
    rules = _rules([{"name": "mem", "expr": "mem.used_pct > 90", "for": "10s"}])
    view.observe_poll("a", 0.0, "up", {"mem.used_pct": 95.0})
    view.observe_poll("b", 0.0, "up", {"mem.used_pct": 95.0})
    alerts = evaluate(rules, view, {}, 0.0).alerts
    view.observe_poll("a", 10.0, "up", {"mem.used_pct": 96.0})
    step = evaluate(rules, view, alerts, 10.0, only={"a"})
    assert [(t.key, t.to) for t in step.transitions] == [(("mem", "a", ""), "firing")]
    assert step.alerts[("mem", "b", "")] == alerts[("mem", "b", "")]  # untouched, pending
    full = evaluate(rules, view, step.alerts, 10.0)
    assert [(t.key, t.to) for t in full.transitions] == [(("mem", "b", ""), "firing")]


def test_the_hub_adapter_takes_the_hubs_typed_events() -> None:
    """What the poller publishes (poller.writer: mirror.events), not a look-alike: a dict
    adapter here once left every metric unseen and fired no-data for the whole fleet."""
    from mirror.alerts.events import apply_events
    from mirror.events import HostPoll, PingPoll, StateChange

    def poll(
        kind: type[HostPoll] | type[PingPoll], host: str, metrics: dict[str, float]
    ) -> HostPoll | PingPoll:
        return kind(
            host=host, state="up", error=None, ts=1.0, duration_ms=1.0, metrics=metrics, info=None
        )

    view = _view(Target("a", "host", address="127.0.0.2"))
    apply_events(
        view,
        [
            poll(HostPoll, "a", {"load.1": 2.0}),
            poll(PingPoll, "ping/127.0.0.2", {"ping.up": 1.0}),
            poll(HostPoll, "unknown", {}),
            {"type": "wol", "host": "a"},  # other publishers' events are skipped
        ],
    )
    a = view.targets["a"]
    assert (a.state, a.metrics, a.ping_up, a.sample_ts) == ("up", {"load.1": 2.0}, True, 1.0)
    change = StateChange(
        target="a", kind="host", from_="up", to="timeout", reason="no answer in 4 s", since=9.0
    )
    apply_events(view, [change])
    assert (a.state, a.state_since, a.error) == ("timeout", 9.0, "no answer in 4 s")

"""Alert history, acks and silences on SQLite and PostgreSQL; nothing lost over a restart."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mirror.alerts.engine import AlertEngine, Notice
from mirror.alerts.history import AlertHistory, NoSuchAlert
from mirror.inventory import Inventory
from mirror.inventory.current import CurrentInventory
from mirror.storage import Store
from tests.test_storage import db_url, pg_url  # noqa: F401 - fixtures: SQLite and PostgreSQL

INVENTORY = {
    "hosts": [{"name": "nas", "address": "127.0.0.2"}, {"name": "pc", "address": "127.0.0.3"}],
    "alerts": {
        "defaults": False,
        "rules": [{"name": "fs", "expr": "fs.used_pct[*] > 90", "for": "10s", "recover": 85}],
    },
}


class Sink:
    def __init__(self) -> None:
        self.firing: list[list[Notice]] = []
        self.resolved: list[Notice] = []

    def update(self, firing: list[Notice], resolved: list[Notice], now: float) -> None:
        self.firing.append(firing)
        self.resolved += resolved


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:  # noqa: F811
    s = Store.open(db_url)
    s.upgrade()
    yield s
    s.close()


def _engine(store: Store, clock: Clock, sink: Sink) -> AlertEngine:
    inventory = CurrentInventory(Inventory.from_dict(INVENTORY))
    engine = AlertEngine(inventory, AlertHistory(store.engine, clock), sink, clock=clock)
    engine.configure()
    return engine


def _poll(engine: AlertEngine, clock: Clock, used_pct: float) -> None:
    engine.view.observe_poll("nas", clock.now, "up", {"fs.used_pct[/]": used_pct})
    transitions = engine.step(clock.now)
    engine.store(transitions, engine.dropped)
    engine.notify(transitions, clock.now)
    clock.now += 5


def test_firing_survives_a_restart_and_a_resolve_while_down_is_told(store: Store) -> None:
    clock, sink = Clock(), Sink()
    engine = _engine(store, clock, sink)
    for _ in range(3):
        _poll(engine, clock, 95.0)
    [row] = engine.history.list(active=True)
    assert (row.rule, row.target, row.instance, row.status) == ("fs", "nas", "/", "firing")
    assert [n.id for n in sink.firing[-1]] == [row.id]

    # EGO restarts; the disk was cleaned up meanwhile.
    sink2 = Sink()
    again = _engine(store, clock, sink2)
    again.restore()
    assert again.alerts[("fs", "nas", "/")].status == "firing"
    _poll(again, clock, 40.0)
    [told] = sink2.resolved
    assert (told.id, told.status) == (row.id, "resolved")
    [done] = again.history.list(active=False)
    assert done.id == row.id and done.resolved_at is not None and done.fired_at == row.fired_at


def test_a_pending_alert_that_never_fired_leaves_no_history(store: Store) -> None:
    clock, sink = Clock(), Sink()
    engine = _engine(store, clock, sink)
    _poll(engine, clock, 95.0)
    assert [r.status for r in engine.history.list()] == ["pending"]
    _poll(engine, clock, 50.0)
    assert engine.history.list() == []
    assert all(f == [] for f in sink.firing)


def test_ack_stops_repeats_but_not_the_resolve(store: Store) -> None:
    clock, sink = Clock(), Sink()
    engine = _engine(store, clock, sink)
    for _ in range(3):
        _poll(engine, clock, 95.0)
    [row] = engine.history.list(active=True)
    acked = engine.history.ack(row.id, "ana", "replacing the disk tonight")
    assert (acked.ack_by, acked.ack_comment) == ("ana", "replacing the disk tonight")
    engine.acked.add(("fs", "nas", "/"))
    _poll(engine, clock, 95.0)
    assert sink.firing[-1] == []
    _poll(engine, clock, 10.0)
    assert [n.status for n in sink.resolved] == ["resolved"]
    with pytest.raises(NoSuchAlert):
        engine.history.ack(99999, "ana", "")


def test_silence_keeps_the_alert_but_not_its_message(store: Store) -> None:
    clock, sink = Clock(), Sink()
    engine = _engine(store, clock, sink)
    history = engine.history
    silence = history.add_silence({"host": "nas"}, clock.now, clock.now + 60, "ana", "disk swap")
    engine.silences = history.silences()
    for _ in range(4):
        _poll(engine, clock, 95.0)
    assert engine.history.list(active=True)[0].status == "firing"
    assert sink.firing[-1] == []
    expired = history.expire_silence(silence.id)
    assert expired.ends <= clock.now
    engine.silences = history.silences()
    _poll(engine, clock, 95.0)
    assert len(sink.firing[-1]) == 1
    assert history.silences() == [] and len(history.silences(include_expired=True)) == 1
    with pytest.raises(ValueError, match="needs at least one matcher"):
        history.add_silence({}, 0, 1, "ana", "x")


def test_trim_keeps_active_alerts(store: Store) -> None:
    clock, sink = Clock(), Sink()
    engine = _engine(store, clock, sink)
    for used in (95.0, 95.0, 95.0, 10.0, 95.0, 95.0, 95.0):
        _poll(engine, clock, used)
    assert len(engine.history.list()) == 2
    assert engine.history.trim(clock.now + 1) == 1
    [left] = engine.history.list()
    assert left.status == "firing"

"""Notifications through Apprise to real receivers on loopback (HTTP and SMTP)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from mirror.alerts.config import AlertsSection
from mirror.alerts.defaults import effective_rules
from mirror.alerts.engine import Notice
from mirror.alerts.evaluate import compile_rules, evaluate
from mirror.alerts.view import FleetView, Target
from mirror.inventory import Inventory
from mirror.inventory.current import CurrentInventory
from mirror.inventory.models import SecretRef
from notify.channels import Channel, SendError, send
from notify.dispatcher import Dispatcher
from tests.support.receivers import http_receiver, smtp_server


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


DOWN = {"name": "down", "state": ["unreachable"], "severity": "critical", "summary": "host down"}


def _notices(hosts: int, now: float = 1000.0) -> list[Notice]:
    """``hosts`` firing host-down alerts, as the evaluator makes them."""
    view = FleetView()
    view.configure([Target(f"h{i:03}", "host", groups=("lab",)) for i in range(hosts)], 0.0)
    for name in view.targets:
        view.observe_poll(name, now, "unreachable", {})
    section = AlertsSection.model_validate({"defaults": False, "rules": [DOWN]})
    rules = compile_rules(effective_rules(section))
    step = evaluate(rules, view, {}, now)
    return [Notice(i, t, "firing") for i, t in enumerate(step.transitions)]


def _inventory(channels: dict[str, object], routes: list[object], **notify: object) -> Inventory:
    return Inventory.from_dict({"notify": {"channels": channels, "routes": routes, **notify}})


async def test_a_channel_url_comes_from_env_and_never_shows_in_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with http_receiver() as rx:
        monkeypatch.setenv("HOOK_URL", f"json://127.0.0.1:{rx.port}/hook")
        await send(Channel("hook", SecretRef("HOOK_URL", None)), "T", "body text")
        [got] = rx.got
        assert got.path == "/hook"
        assert json.loads(got.body)["message"] == "body text"
        rx.status = 500
        with pytest.raises(SendError) as info:
            await send(Channel("hook", SecretRef("HOOK_URL", None)), "T", "again")
        assert "refused" in str(info.value) and str(rx.port) not in str(info.value)
    monkeypatch.delenv("HOOK_URL")
    with pytest.raises(SendError, match="HOOK_URL is not set"):
        await send(Channel("hook", SecretRef("HOOK_URL", None)), "T", "x")


async def test_ntfy_and_email(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    url_file = tmp_path / "ntfy.url"
    with http_receiver() as rx, smtp_server() as box:
        url_file.write_text(f"ntfy://127.0.0.1:{rx.port}/mirror-alerts\n")
        await send(Channel("phone", SecretRef(None, url_file)), "Disk full", "fs-full on nas")
        [got] = await rx.arrived(1)
        assert json.loads(got.body) == {
            "topic": "mirror-alerts", "title": "Disk full", "message": "fs-full on nas",
        }  # fmt: skip
        mail = (
            f"mailto://127.0.0.1:{box.port}?from=ego@mirror.test&to=owner@mirror.test&mode=insecure"
        )
        monkeypatch.setenv("MAIL_URL", mail)
        await send(Channel("mail", SecretRef("MAIL_URL", None)), "Disk full", "fs-full on nas")
        [(sender, to, content)] = box.messages
        assert (sender, to) == ("ego@mirror.test", ["owner@mirror.test"])
        assert b"Subject: Disk full" in content and b"fs-full on nas" in content


async def test_a_burst_is_one_message_per_route_after_the_group_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    with http_receiver() as rx:
        monkeypatch.setenv("HOOK_URL", f"json://127.0.0.1:{rx.port}/hook")
        inv = _inventory(
            {"hook": {"url_env": "HOOK_URL"}},
            [{"channels": ["hook"], "group_wait": "10s", "repeat": "1h"}],
            link_base="http://ego.test:8480",
        )
        d = Dispatcher(CurrentInventory(inv), clock=clock)
        notices = _notices(254)
        d.update(notices, [], clock.now)
        clock.now += 9.9
        d.update(notices, [], clock.now)
        await asyncio.sleep(0.2)
        assert rx.got == []  # still in the group wait
        clock.now += 0.1
        d.update(notices, [], clock.now)
        [msg] = await rx.arrived(1)
        body = json.loads(msg.body)
        assert body["title"].startswith("MIRROR STAGE: 254 firing (critical): down")
        assert "down on h000: host down" in body["message"]
        assert "http://ego.test:8480/#/host/h000" in body["message"]
        # Still firing: nothing until the repeat interval; then resolved ones are told once.
        clock.now += 60
        d.update(notices, [], clock.now)
        resolved = [Notice(n.id, n.transition, "resolved") for n in notices[:2]]
        d.update(notices[2:], resolved, clock.now)
        clock.now += 10
        d.update(notices[2:], [], clock.now)
        got = await rx.arrived(2)
        assert len(got) == 2
        second = json.loads(got[1].body)
        assert "252 firing" in second["title"] and "2 resolved" in second["title"]
        clock.now += 3600
        d.update(notices[2:], [], clock.now)
        assert len(await rx.arrived(3)) == 3  # the repeat
        await d.stop()
        assert d.status()["hook"]["sent"] == 3


async def test_a_failing_channel_is_retried_shown_and_slows_no_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    with http_receiver() as bad, http_receiver() as good, http_receiver() as slow:
        bad.status = 500
        slow.hang_s = 3.0
        monkeypatch.setenv("BAD_URL", f"json://127.0.0.1:{bad.port}/")
        monkeypatch.setenv("GOOD_URL", f"json://127.0.0.1:{good.port}/")
        monkeypatch.setenv("SLOW_URL", f"json://127.0.0.1:{slow.port}/")
        inv = _inventory(
            {
                "bad": {"url_env": "BAD_URL"},
                "good": {"url_env": "GOOD_URL"},
                "slow": {"url_env": "SLOW_URL", "timeout_s": 0.5},
            },
            [{"channels": ["slow", "bad", "good"], "group_wait": 0}],
        )
        d = Dispatcher(CurrentInventory(inv), clock=clock, retry_base_s=0.05, max_attempts=50)
        started = time.monotonic()
        d.update(_notices(3), [], clock.now)
        await good.arrived(1)
        assert time.monotonic() - started < 2.0  # not held up by the hanging one
        for _ in range(100):
            if (
                d.status()["bad"]["failed_attempts"] >= 2
                and d.status()["slow"]["state"] == "failing"
            ):
                break
            await asyncio.sleep(0.05)
        status = d.status()
        assert status["bad"]["state"] == "failing" and status["bad"]["queued"] == 1
        assert "refused" in status["bad"]["last_error"]
        assert "no answer in 0.5 s" in status["slow"]["last_error"]
        assert status["good"]["state"] == "ok"
        assert "BAD_URL" not in json.dumps(status) and str(bad.port) not in json.dumps(status)
        bad.status = 200  # the service comes back: the queued message goes out
        await bad.arrived(1)
        for _ in range(50):
            if d.status()["bad"]["state"] == "ok":
                break
            await asyncio.sleep(0.05)
        assert d.status()["bad"]["state"] == "ok" and d.status()["bad"]["queued"] == 0
        await d.stop()


async def test_rate_limit_holds_messages_beyond_the_channels_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    with http_receiver() as rx:
        monkeypatch.setenv("HOOK_URL", f"json://127.0.0.1:{rx.port}/")
        inv = _inventory(
            {"hook": {"url_env": "HOOK_URL", "rate_per_min": 2}},
            [{"channels": ["hook"], "group_wait": 0, "repeat": "1s"}],
        )
        d = Dispatcher(CurrentInventory(inv), clock=clock)
        notices = _notices(1)
        for _ in range(4):
            d.update(notices, [], clock.now)
            clock.now += 1
        await asyncio.sleep(0.5)
        assert len(await rx.arrived(2, 2.0)) == 2
        await asyncio.sleep(0.3)
        assert len(rx.got) == 2 and d.status()["hook"]["queued"] == 2
        await d.stop()


async def test_send_test_names_an_unknown_channel() -> None:
    d = Dispatcher(CurrentInventory(_inventory({}, [])))
    with pytest.raises(SendError, match="no channel 'nope'"):
        await d.test("nope")

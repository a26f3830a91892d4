"""Scheduled jobs against the real OpenSSH server and a real database: runs through the
audited command path, down and hung targets, retries and stop-on-failure, the persistent
job store across restarts (misfire skip / run once, never twice), pause, and reloads.

Time is controlled by what the store holds (a next run time in the past is EGO having been
down over it) and by a one-off due a moment after now; no test waits for a clock boundary.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from mirror.audit import AuditLog
from mirror.inventory import Inventory, InventoryError
from mirror.inventory.current import CurrentInventory
from mirror.inventory.reload import InventoryReloader
from mirror.jobs.history import SCHEDULE_TABLE, job_runs
from mirror.storage import Store
from poller.commands import OwnConnections, SshCommandRunner
from poller.job_scheduler import JobScheduler
from poller.ssh import KnownHosts
from tests.support.sshd import Sshd, free_port


def inventory(sshd: Sshd, jobs: dict[str, Any]) -> Inventory:
    ssh = sshd.ssh_settings(connect_timeout_s=3)
    return Inventory.from_dict(
        {
            "groups": {"lab": {}},
            "hosts": [
                # Targets run in inventory order: "gone" first, for stop-on-failure.
                {"name": "gone", "address": "127.0.0.1", "ssh": {**ssh, "port": free_port()}},
                {"name": "box", "address": sshd.ok_address, "groups": ["lab"], "ssh": ssh},
                {"name": "hung", "address": sshd.hang_address, "ssh": ssh},
            ],
            "jobs": jobs,
        }
    )


class Env:
    def __init__(self, sshd: Sshd, tmp_path: Path, jobs: dict[str, Any]) -> None:
        self.store = Store.open(f"sqlite:///{tmp_path / 'mirror.db'}")
        self.store.upgrade()
        self.current = CurrentInventory(inventory(sshd, jobs))
        self.source = OwnConnections(
            self.current.get().hosts_resolved(), KnownHosts(tmp_path / "kh")
        )
        self.runner = SshCommandRunner(self.source)
        self.audit = AuditLog(self.store.engine)
        self.told: list[tuple[str, str]] = []
        self.clock_offset_s = 0.0

    def scheduler(self) -> JobScheduler:
        return JobScheduler(
            self.current,
            self.runner,
            self.audit,
            self.store.engine,
            notify=lambda title, body: self.told.append((title, body)),
            clock=lambda: time.time() + self.clock_offset_s,
        )

    def runs(self) -> list[Any]:
        with self.store.engine.connect() as conn:
            return list(conn.execute(sa.select(job_runs).order_by(job_runs.c.id)))

    async def close(self) -> None:
        await self.runner.close()
        self.store.close()


@pytest.fixture
async def make(sshd: Sshd, tmp_path: Path) -> AsyncIterator[Any]:
    made: list[Env] = []

    def build(jobs: dict[str, Any]) -> Env:
        made.append(Env(sshd, tmp_path, jobs))
        return made[-1]

    yield build
    for env in made:
        await env.close()


async def set_next_run(env: Env, name: str, when: datetime) -> None:
    """What the store holds after EGO was down over ``when``: the job still due then
    (written through APScheduler's own store, by a scheduler that is never started)."""
    store = SQLAlchemyJobStore(engine=env.store.engine, tablename=SCHEDULE_TABLE)
    store.start(AsyncIOScheduler(timezone=UTC), "default")
    job = store.lookup_job(name)
    assert job is not None
    job._modify(next_run_time=when)
    store.update_job(job)


async def test_run_now_goes_through_the_audited_path_and_a_down_target_fails_with_its_reason(
    make: Any,
) -> None:
    env = make(
        {
            "hello": {
                "command": "echo hello from box",
                "targets": {"hosts": ["box", "gone"]},
                "owner": "alice",
                "on_failure": "notify",
            }
        }
    )
    jobs = env.scheduler()
    await jobs.start()
    try:
        run_id = jobs.run_now("hello", "bob", "session")
        feed = jobs.feed(run_id)
        assert feed is not None
        messages = [m async for m in feed.follow()]
    finally:
        await jobs.stop()
    assert messages[-1] == {"type": "done", "run_id": run_id, "job": "hello", "state": "failed"}
    assert any(m.get("text") == "hello from box\n" for m in messages if m["type"] == "output")
    (row,) = env.runs()
    assert (row.job, row.trigger, row.requested_by, row.via, row.state) == (
        "hello",
        "manual",
        "bob",
        "session",
        "failed",
    )
    assert row.started_ms <= row.ended_ms
    results = {r["host"]: r for r in jobs.history.results(run_id)}
    assert results["box"]["state"] == "ok"
    assert results["box"]["exit_status"] == 0
    assert results["box"]["stdout"] == "hello from box\n"
    assert results["gone"]["state"] == "error"
    assert "refused" in results["gone"]["error"]
    entries = env.audit.entries(action="job:hello")
    assert [e.action for e in reversed(entries)] == ["job:hello", "job:hello.done"]
    assert entries[1].actor == "bob"
    assert entries[1].detail["owner"] == "alice"
    assert entries[1].detail["run_id"] == run_id
    assert entries[0].result == "1 error, 1 ok"
    assert entries[0].target == "gone,box"
    assert env.audit.verify().ok
    (told,) = env.told
    assert told[0] == "MIRROR STAGE: job hello failed"
    assert "gone: error:" in told[1]


async def test_a_hung_target_ends_at_its_timeout_and_retries_are_each_recorded(
    make: Any,
) -> None:
    env = make(
        {
            "slow": {"command": "true", "targets": {"hosts": ["hung"]}, "timeout": 1},
            "flaky": {
                "command": "echo try; exit 3",
                "targets": {"hosts": ["box"]},
                "retries": 2,
                "retry_delay": 0,
            },
        }
    )
    jobs = env.scheduler()
    await jobs.start()
    started = time.monotonic()
    try:
        slow = jobs.run_now("slow", "bob", "session")
        flaky = jobs.run_now("flaky", "bob", "session")
        await jobs.until_runs_ended(2, 20)
    finally:
        await jobs.stop()
    assert time.monotonic() - started < 8
    (hung,) = jobs.history.results(slow)
    assert (hung["state"], hung["error"]) == ("timeout", "stopped after 1 s")
    attempts = jobs.history.results(flaky)
    assert [(a["state"], a["exit_status"]) for a in attempts] == [("failed", 3)] * 3
    assert {r.job: r.state for r in env.runs()} == {"slow": "failed", "flaky": "failed"}


async def test_stop_on_failure_leaves_the_rest_unrun(make: Any) -> None:
    env = make(
        {
            "careful": {
                "command": "echo ran",
                "targets": {"hosts": ["gone", "box"]},
                "concurrency": 1,
                "on_failure": ["stop"],
            }
        }
    )
    jobs = env.scheduler()
    await jobs.start()
    try:
        run_id = jobs.run_now("careful", "bob", "session")
        await jobs.until_runs_ended(1, 20)
    finally:
        await jobs.stop()
    results = {r["host"]: r for r in jobs.history.results(run_id)}
    assert results["gone"]["state"] == "error"
    assert results["box"]["state"] == "cancelled"
    assert results["box"]["error"].startswith("not run: stopped after gone failed (error:")
    (row,) = env.runs()
    assert row.state == "stopped"
    assert env.told == []  # on_failure has no notify


async def test_a_one_off_runs_at_its_time_and_not_again_after_a_restart(make: Any) -> None:
    at = (datetime.now(UTC) + timedelta(milliseconds=300)).isoformat()
    env = make(
        {"once": {"command": "echo once", "targets": {"groups": ["lab"]}, "schedule": {"at": at}}}
    )
    jobs = env.scheduler()
    await jobs.start()
    try:
        assert jobs.jobs()[0]["next_run"] == pytest.approx(datetime.fromisoformat(at).timestamp())
        await jobs.until_runs_ended(1, 10)
    finally:
        await jobs.stop()
    again = env.scheduler()
    await again.start()
    try:
        await asyncio.sleep(0.3)  # a few loop turns: a due job would have been submitted
        assert again.jobs()[0]["next_run"] is None
    finally:
        await again.stop()
    (row,) = env.runs()
    assert (row.trigger, row.requested_by, row.state, row.note) == (
        "schedule",
        "scheduler",
        "ok",
        None,
    )
    assert row.scheduled_ms == round(datetime.fromisoformat(at).timestamp() * 1000)


@pytest.mark.parametrize("misfire", ["skip", "run_once"])
async def test_runs_missed_while_ego_was_down_follow_the_misfire_rule_once(
    make: Any, misfire: str
) -> None:
    env = make(
        {
            "hourly": {
                "command": "echo hourly",
                "targets": {"hosts": ["box"]},
                "schedule": {"every": "1h"},
                "misfire": misfire,
            }
        }
    )
    first = env.scheduler()
    await first.start()
    upcoming = first.jobs()[0]["next_run"]
    await first.stop()
    last_due = datetime.fromtimestamp(upcoming, UTC) - timedelta(hours=1)
    await set_next_run(env, "hourly", last_due - timedelta(hours=3))  # 4 slots fell due
    env.clock_offset_s = 600.0  # and the last of them at least 10 minutes ago
    after_restart = env.scheduler()
    await after_restart.start()
    try:
        await after_restart.until_runs_ended(1, 10)
        next_run = after_restart.jobs()[0]["next_run"]
    finally:
        await after_restart.stop()
    assert next_run == upcoming  # the next slot of the hour, not another run now
    (row,) = env.runs()
    assert row.scheduled_ms == round(last_due.timestamp() * 1000)
    assert row.note.startswith("3 earlier run(s) missed (due from ")
    assert "s late" in row.note
    if misfire == "skip":
        assert (row.state, row.started_ms) == ("missed", None)
        assert row.note.endswith("misfire: skip, not run")
        assert env.audit.entries(action="job:") == []
    else:
        assert row.state == "ok"
        assert row.note.endswith("misfire: run_once, run once now")
        assert len(env.audit.entries(action="job:hourly")) == 2
    # A third start finds nothing due: the missed slots were dealt with once.
    third = env.scheduler()
    await third.start()
    try:
        await asyncio.sleep(0.3)
    finally:
        await third.stop()
    assert len(env.runs()) == 1


async def test_a_slot_already_claimed_is_not_run_twice(make: Any) -> None:
    env = make(
        {"daily": {"command": "echo d", "targets": {"hosts": ["box"]}, "schedule": {"every": "1d"}}}
    )
    first = env.scheduler()
    await first.start()
    await first.stop()
    due = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    await set_next_run(env, "daily", due)
    # As if the run had started before a crash that kept the store from moving on.
    assert first.history.claim(
        "crashed",
        "daily",
        trigger="schedule",
        requested_by="scheduler",
        via="scheduler",
        hosts=("box",),
        scheduled=due.timestamp(),
    )
    first.history.interrupt_running()
    again = env.scheduler()
    await again.start()
    try:
        await asyncio.sleep(0.3)
        assert again.jobs()[0]["next_run"] > time.time()
    finally:
        await again.stop()
    assert [(r.run_id, r.state) for r in env.runs()] == [("crashed", "interrupted")]
    assert env.audit.entries(action="job:") == []


async def test_pause_is_kept_across_a_restart_and_resume_picks_the_next_slot(make: Any) -> None:
    env = make(
        {
            "cron": {
                "command": "true",
                "targets": {"hosts": ["box"]},
                "schedule": {"cron": "0 3 * * *", "timezone": "Asia/Seoul"},
            }
        }
    )
    jobs = env.scheduler()
    await jobs.start()
    nxt = jobs.jobs()[0]["next_run"]
    assert datetime.fromtimestamp(nxt, UTC).hour == 18  # 03:00 in Seoul is 18:00 UTC
    jobs.pause("cron")
    await jobs.stop()
    again = env.scheduler()
    await again.start()
    try:
        assert again.jobs()[0]["paused"] is True
        again.resume("cron")
        assert again.jobs()[0]["next_run"] == nxt
        with pytest.raises(Exception, match="no job named 'nope'"):
            again.pause("nope")
    finally:
        await again.stop()


async def test_a_refused_reload_keeps_the_running_jobs(
    make: Any, tmp_path: Path, sshd: Sshd
) -> None:
    import yaml

    env = make({})
    path = tmp_path / "inventory.yaml"
    data = inventory(sshd, {}).model_dump(mode="json", exclude_none=True)
    data["jobs"] = {
        "nightly": {
            "command": "true",
            "targets": {"groups": ["lab"]},
            "schedule": {"cron": "0 3 * * *"},
        }
    }
    path.write_text(yaml.safe_dump(data))
    jobs = env.scheduler()
    await jobs.start()

    async def apply(new: Inventory, _: Any) -> None:
        await jobs.sync(new)

    reloader = InventoryReloader(path, env.current, apply)
    try:
        await reloader.reload("test", "test")
        (listed,) = jobs.jobs()
        assert listed["name"] == "nightly" and listed["next_run"] is not None
        data["jobs"]["nightly"]["schedule"]["cron"] = "0 25 * * *"
        data["jobs"]["other"] = {
            "command": "true",
            "targets": {"hosts": ["box"]},
            "schedule": {"every": "1h"},
        }
        path.write_text(yaml.safe_dump(data))
        with pytest.raises(InventoryError, match="invalid cron expression '0 25"):
            await reloader.reload("test", "test")
        assert jobs.jobs() == [listed]
        del data["jobs"]["nightly"]
        path.write_text(yaml.safe_dump(data))
        await reloader.reload("test", "test")
        assert [j["name"] for j in jobs.jobs()] == ["other"]
        with env.store.engine.connect() as conn:
            ids = conn.execute(sa.text(f"SELECT id FROM {SCHEDULE_TABLE}")).scalars().all()
        assert ids == ["other"]
    finally:
        await jobs.stop()


async def test_a_slot_due_while_the_previous_run_goes_is_recorded_as_missed(make: Any) -> None:
    env = make(
        {
            "long": {
                "command": "sleep 2; echo done",
                "targets": {"hosts": ["box"]},
                "schedule": {"every": "1h"},
            }
        }
    )
    jobs = env.scheduler()
    await jobs.start()
    try:
        slot = datetime.fromtimestamp(jobs.jobs()[0]["next_run"], UTC) - timedelta(hours=1)
        await set_next_run(env, "long", slot)
        jobs._store().wakeup()  # as at start-up: the slot is due now
        await asyncio.sleep(0.5)  # its run is going (sleep 2)
        assert jobs.jobs()[0]["running"] is not None
        await set_next_run(env, "long", slot - timedelta(hours=1))  # an earlier slot, due too
        jobs._store().wakeup()
        await jobs.until_runs_ended(2, 15)
    finally:
        await jobs.stop()
    # The slot of the run going is claimed already: only the earlier one is a new row.
    states = sorted((r.state, r.note or "") for r in env.runs())
    assert [s for s, _ in states] == ["missed", "ok"]
    assert states[0][1].endswith("while the previous run was still going; not run")

"""Scheduled jobs (issue 18) on APScheduler, with its job store in EGO's database.

The inventory's ``jobs:`` section says what runs; APScheduler's ``SQLAlchemyJobStore``
(table ``job_schedule``) keeps each scheduled job's next run time, so a restart knows which
runs fell due while EGO was down. ``sync`` matches the store to the inventory by diff: a
job whose schedule is unchanged keeps its stored next run (and its pause), a changed one is
rescheduled, a removed one is dropped. A refused reload never gets here, so the running
jobs stay.

Due runs reach ``JobScheduler.fire`` with every time that fell due since the last one
(the executor here replaces APScheduler's, whose misfire handling would drop them
silently): a run later than the job's ``misfire_grace`` follows its ``misfire`` rule
(``skip``: recorded as missed, not run; ``run_once``: run once now) and its history says
how late it was and how many runs were missed. Each run claims its slot in ``job_runs``
first, so the same slot never runs twice (a crash between starting a run and the store
recording the next time).

A run goes through the audited command path: an audit entry ``job:NAME`` (as its owner,
or as whoever pressed *run now*) before anything runs, each target a new channel on the
poll loop's own SSH connection (``CommandRunner``), each target's result stored with the
command results under the run's id, and ``job:NAME.done`` with the summary. A target that
is down ends as an error with the connection's reason, after at most its timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobEvent, JobSubmissionEvent
from apscheduler.executors.base import BaseExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from sqlalchemy.engine import Engine

from mirror.audit import AuditLog
from mirror.control.actions import inventory_actions
from mirror.control.model import (
    DEFAULT_CAP_BYTES,
    CancelToken,
    CommandRequest,
    CommandRunner,
    HostResult,
    OutputEvent,
    ResultState,
)
from mirror.control.targets import summary
from mirror.errors import ConfigError, MirrorError
from mirror.inventory.current import CurrentInventory
from mirror.inventory.models import Inventory
from mirror.jobs.config import JobEntry
from mirror.jobs.feed import RunFeed
from mirror.jobs.history import SCHEDULE_TABLE, JobHistory
from mirror.jobs.plan import (
    REBOOT_COMMAND,
    UPTIME_COMMAND,
    JobPlan,
    parse_uptime,
    plan_job,
    schedule_key,
    step_text,
    target_delay_s,
    target_hosts,
    trigger,
)

log = logging.getLogger(__name__)

Notify = Callable[[str, str], None]  # (title, body) to the alert channels
WAIT_PROBE_S = 5.0  # each "is it back?" question's deadline
WAIT_EVERY_S = 2.0  # between questions


class Maintenance(Protocol):
    """Alert silences (``mirror.alerts.service.AlertService``): a reboot step's window."""

    async def silence(
        self, matchers: dict[str, str], duration_s: float, who: str, via: str, comment: str
    ) -> dict[str, Any]: ...

    async def expire(self, silence_id: int, who: str, via: str) -> dict[str, Any]: ...


KEEP_FEEDS = 50
STOP_WAIT_S = 10.0


async def scheduled(**_: Any) -> None:
    """What each stored job names as its callable (a job's pickled state must name one);
    ``_Executor`` hands the due times to ``JobScheduler.fire`` instead of calling it."""
    raise RuntimeError("scheduled jobs run through JobScheduler's executor")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class _Executor(BaseExecutor):
    """Runs a due job as ``fire(name, run_times)`` in a task on the running loop."""

    def __init__(self, fire: Callable[[str, list[datetime]], Any]) -> None:
        super().__init__()
        self._fire = fire
        self._tasks: set[asyncio.Task[None]] = set()

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        task = asyncio.get_running_loop().create_task(
            self._fire(job.id, list(run_times)), name=f"job:{job.id}"
        )
        self._tasks.add(task)

        def ended(done: asyncio.Task[None]) -> None:
            self._tasks.discard(done)
            error = None if done.cancelled() else done.exception()
            if error is None:
                self._run_job_success(job.id, [])
            else:
                self._run_job_error(job.id, error, error.__traceback__)

        task.add_done_callback(ended)

    def shutdown(self, wait: bool = True) -> None:
        for task in self._tasks:
            task.cancel()


class _Scheduler(AsyncIOScheduler):
    """APScheduler's, except that a wake-up queued before a pause or a shutdown does not
    hand out due runs afterwards (3.x only skips the paused state): a run handed to a
    stopped executor would be lost, its slot moved on."""

    def _process_jobs(self) -> float | None:
        if self.state != STATE_RUNNING:
            return None
        return super()._process_jobs()


class JobScheduler:
    def __init__(
        self,
        current: CurrentInventory,
        runner: CommandRunner,
        audit: AuditLog,
        engine: Engine,
        *,
        notify: Notify | None = None,
        wake: Callable[[str], object] | None = None,
        maintenance: Maintenance | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.current = current
        self.history = JobHistory(engine, clock)
        self._runner = runner
        self._audit = audit
        self._engine = engine
        self._notify = notify
        self._wake = wake  # Wake-on-LAN (NetworkWatch.start_wake), for wake steps
        self._maintenance = maintenance  # alert silences, for reboot steps
        self._clock = clock
        self._scheduler: AsyncIOScheduler | None = None
        self._feeds: OrderedDict[str, RunFeed] = OrderedDict()
        self._cancels: dict[str, CancelToken] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ended = asyncio.Condition()
        self.runs_ended = 0  # runs finished or recorded as missed since start

    # -- life ----------------------------------------------------------------------------

    async def start(self) -> None:
        for row in await asyncio.to_thread(self.history.interrupt_running):
            log.warning("job %s: run %s was cut short by EGO's stop", row.job, row.run_id)
        store = SQLAlchemyJobStore(engine=self._engine, tablename=SCHEDULE_TABLE)
        self._scheduler = _Scheduler(
            timezone=UTC,
            jobstores={"default": store},
            executors={"default": _Executor(self.fire)},
            # Every due time reaches fire(), which applies the job's own misfire rule.
            job_defaults={"coalesce": False, "max_instances": 1, "misfire_grace_time": None},
        )
        self._scheduler.add_listener(self._busy, EVENT_JOB_MAX_INSTANCES)
        self._scheduler.start(paused=True)
        await self.sync(self.current.get())
        self._scheduler.resume()

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.pause()  # no new runs while the ones going end
        for cancel in self._cancels.values():
            cancel.cancel("EGO is stopping")
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=STOP_WAIT_S)
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    async def sync(self, inventory: Inventory) -> None:
        """Match the job store to ``inventory`` (called at start and after each reload)."""
        sched = self._store()
        wanted = {
            name: entry
            for name, entry in inventory.jobs.items()
            if entry.enabled and entry.schedule is not None
        }
        stored = {job.id: job for job in sched.get_jobs()}
        for name in stored.keys() - wanted.keys():
            sched.remove_job(name)
            log.info("job %s: unscheduled", name)
        for name, entry in wanted.items():
            assert entry.schedule is not None
            key = schedule_key(entry.schedule)
            job = stored.get(name)
            if job is not None and job.kwargs.get("schedule_key") == key:
                continue  # keeps its stored next run time, and its pause
            when = entry.schedule.when()
            if (
                job is None
                and when is not None
                and await asyncio.to_thread(self.history.ran, name, when.timestamp())
            ):
                continue  # a one-off that has had its run
            sched.add_job(
                scheduled,
                trigger(entry.schedule),
                id=name,
                name=name,
                kwargs={"schedule_key": key},
                replace_existing=True,
            )
            if job is not None and job.next_run_time is None:
                sched.pause_job(name)
            log.info("job %s: scheduled, next run %s", name, sched.get_job(name).next_run_time)

    # -- what the API and CLI call -------------------------------------------------------

    def jobs(self) -> list[dict[str, Any]]:
        """Each job of the inventory with its schedule's state (no database reads)."""
        inventory = self.current.get()
        hosts = inventory.hosts_resolved()
        stored = {j.id: j for j in self._store().get_jobs()}
        running = {feed.job: run_id for run_id, feed in self._feeds.items() if feed.done is None}
        found = []
        for name, entry in inventory.jobs.items():
            job = stored.get(name)
            next_run = job.next_run_time if job is not None else None
            found.append(
                {
                    "name": name,
                    "description": entry.description,
                    "command": entry.command
                    or "; ".join(f"[{i}] {step_text(st)}" for i, st in enumerate(entry.steps, 1)),
                    "action": entry.action,
                    "params": dict(entry.params),
                    "targets": list(target_hosts(entry, hosts)),
                    "schedule": describe(entry),
                    "next_run": next_run.timestamp() if next_run is not None else None,
                    "paused": job is not None and next_run is None,
                    "enabled": entry.enabled,
                    "owner": entry.owner,
                    "running": running.get(name),
                }
            )
        return found

    def run_now(self, name: str, who: str, via: str) -> str:
        """Start a run of ``name`` by hand; its run id (follow it with ``feed``)."""
        entry = self._entry(name)
        run_id = secrets.token_hex(8)
        self._keep(RunFeed(run_id, name))  # followed from now on, before the run starts
        self._spawn(self._run(name, entry, run_id, trigger="manual", who=who, via=via))
        return run_id

    def pause(self, name: str) -> None:
        self._entry(name)
        try:
            self._store().pause_job(name)
        except JobLookupError:
            raise ConfigError(f"job {name!r} has no schedule to pause") from None

    def resume(self, name: str) -> None:
        """The next run is the schedule's next time from now (runs due while paused are
        not made up)."""
        self._entry(name)
        try:
            self._store().resume_job(name)
        except JobLookupError:
            raise ConfigError(f"job {name!r} has no schedule to resume") from None

    def cancel(self, run_id: str, reason: str) -> bool:
        cancel = self._cancels.get(run_id)
        if cancel is None:
            return False
        cancel.cancel(reason)
        return True

    def feed(self, run_id: str) -> RunFeed | None:
        return self._feeds.get(run_id)

    async def until_runs_ended(self, count: int, timeout_s: float) -> None:
        """Wait until ``count`` runs have ended since start (tests, the bench)."""
        async with self._ended:
            await asyncio.wait_for(
                self._ended.wait_for(lambda: self.runs_ended >= count), timeout_s
            )

    # -- running -------------------------------------------------------------------------

    async def fire(self, name: str, run_times: list[datetime]) -> None:
        """The times ``name`` fell due since its last run (oldest first)."""
        entry = self.current.get().jobs.get(name)
        if entry is None or not entry.enabled or not run_times:
            return
        due = run_times[-1].timestamp()
        late_s = self._clock() - due
        notes = []
        if len(run_times) > 1:
            first = _iso(run_times[0].timestamp())
            notes.append(f"{len(run_times) - 1} earlier run(s) missed (due from {first})")
        if late_s > entry.misfire_grace:
            notes.append(f"due {_iso(due)}, started {late_s:.0f} s late")
            if entry.misfire == "skip":
                notes.append("misfire: skip, not run")
                await self._missed(name, entry, due, "; ".join(notes))
                return
            notes.append("misfire: run_once, run once now")
        note = "; ".join(notes) or None
        who = entry.owner or "scheduler"
        run_id = secrets.token_hex(8)
        await self._run(
            name, entry, run_id, trigger="schedule", who=who, via="scheduler", due=due, note=note
        )

    def _busy(self, event: JobEvent) -> None:
        """A slot that fell due while the job's previous run was still going."""
        assert isinstance(event, JobSubmissionEvent)
        entry = self.current.get().jobs.get(event.job_id)
        if entry is None:
            return
        for when in event.scheduled_run_times:
            note = f"due {_iso(when.timestamp())} while the previous run was still going; not run"
            self._spawn(self._missed(event.job_id, entry, when.timestamp(), note))

    async def _missed(self, name: str, entry: JobEntry, due: float, note: str) -> None:
        run_id = secrets.token_hex(8)
        hosts = target_hosts(entry, self.current.get().hosts_resolved())
        claimed = await asyncio.to_thread(
            self.history.claim,
            run_id,
            name,
            trigger="schedule",
            requested_by=entry.owner or "scheduler",
            via="scheduler",
            hosts=hosts,
            scheduled=due,
            state="missed",
            note=note,
        )
        if claimed:
            log.warning("job %s: %s", name, note)
            await self._count_ended()

    async def _run(
        self,
        name: str,
        entry: JobEntry,
        run_id: str,
        *,
        trigger: str,
        who: str,
        via: str,
        due: float | None = None,
        note: str | None = None,
    ) -> None:
        inventory = self.current.get()
        plan = plan_job(name, entry, inventory_actions(inventory.actions))
        hosts = target_hosts(entry, inventory.hosts_resolved())
        claimed = await asyncio.to_thread(
            self.history.claim,
            run_id,
            name,
            trigger=trigger,
            requested_by=who,
            via=via,
            hosts=hosts,
            scheduled=due,
            note=note,
        )
        feed = self._feeds.get(run_id) or self._keep(RunFeed(run_id, name))
        if not claimed:
            log.warning("job %s: the run due %s has already run; not run twice", name, due)
            feed.finish({"run_id": run_id, "job": name, "state": "not run"})
            return
        cancel = self._cancels[run_id] = CancelToken()
        detail = plan.detail() | {
            "run_id": run_id,
            "trigger": trigger,
            "owner": plan.actor,
            "scheduled": due,
            "sudo": plan.sudo,
            "timeout_s": entry.timeout,
        }
        state, results = "failed", []
        try:
            # Recorded before anything runs: no audit entry, no run.
            await asyncio.to_thread(
                self._audit.record, who, via, plan.what, ",".join(hosts), detail, "started"
            )
            results, stopped_by = await self._targets(plan, hosts, run_id, who, feed, cancel)
            state = _state(results, stopped_by, cancel)
            notes = [n for n in (note, stopped_by, None if hosts else "no host matches") if n]
            if cancel.cancelled:
                notes.append(cancel.reason)
            await asyncio.to_thread(self.history.finish, run_id, state, "; ".join(notes) or None)
            outcome = summary(str(r.state) for r in results)
            await asyncio.to_thread(
                self._audit.record,
                who,
                via,
                f"{plan.what}.done",
                ",".join(hosts),
                {"run_id": run_id},
                outcome,
            )
            if state != "ok" and "notify" in entry.on_failure:
                self._tell(plan, run_id, state, results)
        except Exception:
            log.exception("job %s: run %s failed", name, run_id)
        finally:
            self._cancels.pop(run_id, None)
            feed.finish({"run_id": run_id, "job": name, "state": state})
            await self._count_ended()

    async def _targets(
        self,
        plan: JobPlan,
        hosts: tuple[str, ...],
        run_id: str,
        actor: str,
        feed: RunFeed,
        cancel: CancelToken,
    ) -> tuple[list[HostResult], str | None]:
        """Every target at most ``concurrency`` at a time, each after its jitter delay,
        retried as the job says; ``stop`` in ``on_failure``: a failed target leaves the
        targets not yet started unrun."""
        entry = plan.entry
        slots = asyncio.Semaphore(entry.concurrency)
        stopped: list[str] = []

        def on_output(event: OutputEvent) -> None:
            feed.publish(
                {"type": "output", "host": event.host, "stream": event.stream}
                | {"text": event.text, "ts": event.ts}
            )

        async def pause(seconds: float) -> None:
            if seconds > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(cancel.event.wait(), seconds)

        async def tries(host: str, command: str, sudo: bool, step: int | None) -> HostResult:
            """``command`` on ``host``, retried as the job says; each attempt stored."""
            request = CommandRequest(command, (host,), entry.timeout, sudo, DEFAULT_CAP_BYTES, 1)
            label = command if step is None else f"[{step}] {command}"
            for attempt in range(1, entry.retries + 2):
                if attempt > 1:
                    await pause(entry.retry_delay)
                result = (await self._runner.run(request, on_output, cancel))[0]
                await self._save(run_id, actor, label, result, feed, attempt, step)
                if result.state is ResultState.OK or cancel.cancelled:
                    break
            return result

        async def one(host: str) -> HostResult:
            await pause(target_delay_s(plan.name, host, entry.jitter))
            async with slots:
                if stopped or cancel.cancelled:
                    why = stopped[0] if stopped else cancel.reason
                    result = HostResult(host, ResultState.CANCELLED, error=f"not run: {why}")
                    await self._save(run_id, actor, plan.command, result, feed, 0)
                    return result
                if entry.steps:
                    result = await self._steps(plan, host, run_id, actor, feed, cancel, tries)
                else:
                    result = await tries(host, plan.command, plan.sudo, None)
                failed = result.state is not ResultState.OK
                if failed and "stop" in entry.on_failure and not stopped:
                    stopped.append(f"stopped after {host} failed ({result.summary()})")
                return result

        results = list(await asyncio.gather(*(one(h) for h in hosts)))
        return results, stopped[0] if stopped else None

    async def _save(
        self,
        run_id: str,
        actor: str,
        command: str,
        result: HostResult,
        feed: RunFeed,
        attempt: int,
        step: int | None = None,
    ) -> None:
        """A target's attempt (of a step), stored with the command results as it ends."""
        await asyncio.to_thread(self._audit.save_results, run_id, actor, command, [result])
        data = asdict(result) | {"state": str(result.state), "attempt": attempt, "step": step}
        feed.publish({"type": "result", **data})

    async def _steps(
        self,
        plan: JobPlan,
        host: str,
        run_id: str,
        actor: str,
        feed: RunFeed,
        cancel: CancelToken,
        tries: Callable[[str, str, bool, int | None], Awaitable[HostResult]],
    ) -> HostResult:
        """A target's steps in order, each stored as it ends; the first that fails ends it."""
        result = HostResult(host, ResultState.OK)
        for number, step in enumerate(plan.entry.steps, 1):
            if cancel.cancelled:
                return HostResult(host, ResultState.CANCELLED, error=cancel.reason)
            command = step.run if step.run is not None else step.check
            if command is not None:
                result = await tries(host, command, bool(step.sudo), number)
            else:
                label = f"[{number}] {step_text(step)}"
                started = time.monotonic()
                if step.wake:
                    result = await self._wake_and_wait(host, step.wait, cancel)
                else:
                    result = await self._reboot_and_wait(
                        plan, host, step.wait, step.sudo is not False, cancel, actor
                    )
                result = replace(result, duration_s=time.monotonic() - started)
                await self._save(run_id, actor, label, result, feed, 1, number)
            if result.state is not ResultState.OK:
                return result
        return result

    async def _uptime(self, host: str, timeout_s: float, cancel: CancelToken) -> float | None:
        request = CommandRequest(UPTIME_COMMAND, (host,), max(1.0, timeout_s))
        (result,) = await self._runner.run(request, lambda _: None, cancel)
        return parse_uptime(result.stdout) if result.state is ResultState.OK else None

    async def _wait_back(
        self, host: str, wait_s: float, cancel: CancelToken, booted_before: float | None = None
    ) -> tuple[float | None, str | None]:
        """Ask the host its uptime until it answers (and, with ``booted_before``, has booted
        since: an uptime shorter than the time since then); (uptime, None) or (None, why)."""
        deadline = time.monotonic() + wait_s
        last = "no answer"
        while not cancel.cancelled:
            left = deadline - time.monotonic()
            if left <= 0:
                return None, f"not back after {wait_s:g} s ({last})"
            uptime = await self._uptime(host, min(WAIT_PROBE_S, left), cancel)
            if uptime is not None:
                # Booted since: up for clearly less than the time since the old boot.
                if booted_before is None or uptime + 5 < time.time() - booted_before:
                    return uptime, None
                last = "still up since before the reboot"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(cancel.event.wait(), min(WAIT_EVERY_S, max(0, left)))
        return None, cancel.reason

    async def _wake_and_wait(self, host: str, wait_s: float, cancel: CancelToken) -> HostResult:
        if self._wake is None:
            return HostResult(host, ResultState.ERROR, error="Wake-on-LAN is not available here")
        try:
            self._wake(host)
        except MirrorError as exc:
            return HostResult(host, ResultState.ERROR, error=f"wake: {exc}")
        uptime, why = await self._wait_back(host, wait_s, cancel)
        if uptime is None:
            return HostResult(host, ResultState.TIMEOUT, error=f"woken, {why}")
        return HostResult(
            host, ResultState.OK, exit_status=0, stdout=f"answers (up {uptime:.0f} s)\n"
        )

    async def _reboot_and_wait(
        self, plan: JobPlan, host: str, wait_s: float, sudo: bool, cancel: CancelToken, actor: str
    ) -> HostResult:
        """Reboot under a maintenance window (the host's alerts silenced until it is back or
        ``wait_s`` has passed), then wait for it to come back."""
        before = await self._uptime(host, 10.0, cancel)
        if before is None:
            return HostResult(host, ResultState.ERROR, error="not reachable before the reboot")
        booted = time.time() - before
        window = None
        if self._maintenance is not None:
            try:
                made = await self._maintenance.silence(
                    {"host": host},
                    wait_s,
                    actor,
                    "scheduler",
                    f"maintenance: job {plan.name} reboots {host}",
                )
                window = made["id"]
            except Exception:  # the reboot is still wanted; say so in the log
                log.exception("job %s: no maintenance window for %s", plan.name, host)
        request = CommandRequest(REBOOT_COMMAND, (host,), 30.0, sudo)
        (asked,) = await self._runner.run(request, lambda _: None, cancel)
        if asked.state is ResultState.FAILED or (
            asked.state is ResultState.ERROR and "connection lost" not in (asked.error or "")
        ):
            await self._close_window(window, plan, host, actor)
            return replace(asked, error=f"reboot refused: {asked.summary()}")
        uptime, why = await self._wait_back(host, wait_s, cancel, booted_before=booted)
        if uptime is None:
            return HostResult(host, ResultState.TIMEOUT, error=f"rebooted, {why}")
        await self._close_window(window, plan, host, actor)
        return HostResult(host, ResultState.OK, exit_status=0, stdout=f"back (up {uptime:.0f} s)\n")

    async def _close_window(self, window: int | None, plan: JobPlan, host: str, actor: str) -> None:
        if window is None or self._maintenance is None:
            return
        try:
            await self._maintenance.expire(window, actor, "scheduler")
        except Exception:
            log.exception("job %s: could not close the maintenance window of %s", plan.name, host)

    def _tell(self, plan: JobPlan, run_id: str, state: str, results: list[HostResult]) -> None:
        if self._notify is None:
            return
        bad = [f"{r.host}: {r.summary()}" for r in results if r.state is not ResultState.OK]
        title = f"MIRROR STAGE: job {plan.name} {state}"
        body = f"job {plan.name} (run {run_id}) {state}:\n" + "\n".join(bad[:20])
        try:
            self._notify(title, body)
        except Exception:  # a channel's trouble must not fail the run's bookkeeping
            log.exception("job %s: notification failed", plan.name)

    # -- inside --------------------------------------------------------------------------

    def _store(self) -> AsyncIOScheduler:
        if self._scheduler is None:
            raise ConfigError("the job scheduler is not running")
        return self._scheduler

    def _entry(self, name: str) -> JobEntry:
        entry = self.current.get().jobs.get(name)
        if entry is None:
            raise ConfigError(f"no job named {name!r} in the inventory")
        return entry

    def _keep(self, feed: RunFeed) -> RunFeed:
        self._feeds[feed.run_id] = feed
        while len(self._feeds) > KEEP_FEEDS:
            old_id, old = next(iter(self._feeds.items()))
            if old.done is None:
                break  # never forget a run still going
            del self._feeds[old_id]
        return feed

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _count_ended(self) -> None:
        async with self._ended:
            self.runs_ended += 1
            self._ended.notify_all()


def _state(results: list[HostResult], stopped_by: str | None, cancel: CancelToken) -> str:
    if cancel.cancelled or stopped_by:
        return "stopped"
    if results and all(r.state is ResultState.OK for r in results):
        return "ok"
    return "failed"


def describe(entry: JobEntry) -> str:
    """The schedule in a few words: ``cron 0 3 * * * (Europe/Berlin)``, ``every 6h``…"""
    schedule = entry.schedule
    if schedule is None:
        return "by hand"
    if schedule.cron is not None:
        return f"cron {schedule.cron} ({schedule.timezone})"
    if schedule.every is not None:
        return f"every {schedule.every:g} s"
    when = schedule.when()
    assert when is not None
    return f"once at {when.isoformat()}"

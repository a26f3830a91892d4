"""Scheduled jobs in EGO as `mirror serve` wires it (ego/runtime.py): a job added by a reload
is scheduled and runs at its time on the poll loops' connections to the simulated lab, with
its history and audit entries; a reload that drops it unschedules it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import yaml

from mirror.jobs.history import JobHistory
from tests.test_inventory_reload import HEADER, Lab, lab  # noqa: F401 - the fixture


async def test_a_reload_schedules_a_job_that_runs_on_the_poll_connections(lab: Lab) -> None:  # noqa: F811
    names = [h.name for h in lab.hosts[:2]]
    data = lab.data(names)
    at = (datetime.now(UTC) + timedelta(milliseconds=500)).isoformat()
    data["jobs"] = {
        "report": {
            "command": "uptime",
            "targets": {"hosts": names},
            "schedule": {"at": at},
            "owner": "admin",
        }
    }
    lab.path.write_text(HEADER + yaml.safe_dump(data, sort_keys=False))
    jobs = lab.running.ego.job_scheduler
    assert jobs is not None
    async with lab.client("admin") as c:
        reloaded = await c.post("/api/admin/inventory/reload")
        assert reloaded.status_code == 200, reloaded.text
        assert "jobs" in reloaded.json()["sections"]
        await jobs.until_runs_ended(1, 15)
        (listed,) = (await c.get("/api/jobs")).json()
    assert listed["last_run"]["state"] == "ok"
    assert sorted(listed["last_results"]) == sorted(names)
    history = JobHistory(lab.running.ego.store.engine)
    (run,) = history.runs("report")
    results = history.results(run.run_id)
    assert {r["host"] for r in results} == set(names)
    assert all("load average" in r["stdout"] for r in results)
    audit = lab.running.reloader._audit
    assert audit is not None
    entries = audit.entries(action="job:report")
    assert [(e.action, e.actor, e.via) for e in entries] == [
        ("job:report.done", "admin", "scheduler"),
        ("job:report", "admin", "scheduler"),
    ]
    del data["jobs"]
    lab.path.write_text(HEADER + yaml.safe_dump(data, sort_keys=False))
    async with lab.client("admin") as c:
        assert (await c.post("/api/admin/inventory/reload")).status_code == 200
        assert (await c.get("/api/jobs")).json() == []


async def test_a_reboot_step_silences_the_hosts_alerts_until_it_is_back(lab: Lab) -> None:  # noqa: F811
    names = [h.name for h in lab.hosts[:2]]
    data = lab.data(names)
    data["jobs"] = {
        "bounce": {
            "steps": [{"reboot": True, "sudo": False, "wait": 30}, {"check": "true"}],
            "targets": {"hosts": names[:1]},
        }
    }
    lab.path.write_text(HEADER + yaml.safe_dump(data, sort_keys=False))
    jobs = lab.running.ego.job_scheduler
    assert jobs is not None
    async with lab.client("admin") as c:
        assert (await c.post("/api/admin/inventory/reload")).status_code == 200
        started = await c.post("/api/jobs/bounce/run")
        assert started.status_code == 202, started.text
        await jobs.until_runs_ended(1, 40)
        run = (await c.get(f"/api/job-runs/{started.json()['run_id']}")).json()
    assert run["state"] == "ok", run
    assert [r["state"] for r in run["results"]] == ["ok", "ok"]
    audit = lab.running.reloader._audit
    assert audit is not None
    window = [(e.action, e.target, e.actor) for e in reversed(audit.entries(action="alert."))]
    assert window == [
        ("alert.silence", f"host={names[0]}", "admin"),
        ("alert.unsilence", f"host={names[0]}", "admin"),
    ]

"""Scheduled jobs through the API and `mirror jobs`, against the real OpenSSH server, with
runs riding the poll loops' connections as in `mirror serve`: roles per route, run now with
live output, a run's stored results, pause/resume audited, the CLI's tables and exit codes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect as ws_connect

from api.app import create_app
from cli.main import main
from mirror.audit import AuditLog
from mirror.auth import AuthService
from mirror.inventory import Inventory
from mirror.inventory.current import CurrentInventory
from mirror.live import LiveHub
from mirror.storage import Store
from poller.commands import PollerConnections, SshCommandRunner
from poller.host import HostPoller
from poller.job_scheduler import JobScheduler
from poller.ssh import KnownHosts
from tests.support.sshd import Sshd
from tests.test_api import _serve
from tests.test_commands import inventory_for

PASSWORD = "correct horse battery"


@pytest.fixture
async def ego(
    sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[dict[str, Any]]:
    data = inventory_for(sshd).model_dump(mode="json", exclude_none=True)
    data["jobs"] = {
        "greet": {
            "command": "echo hello; echo oops >&2",
            "targets": {"groups": ["lab"]},
            "schedule": {"cron": "30 4 * * 1", "timezone": "Europe/Berlin"},
            "owner": "ops",
        },
        "both": {"command": "echo hi", "targets": {"hosts": ["box", "gone"]}},
    }
    inventory = Inventory.from_dict(data)
    store = Store.open(f"sqlite:///{tmp_path / 'mirror.db'}")
    store.upgrade()
    auth = AuthService(store.engine)
    tokens = {}
    for role in ("viewer", "operator"):
        auth.add_user(role, PASSWORD, role)
        tokens[role] = auth.create_token(role, "operate", user=role)[1]
    tokens["read"] = auth.create_token("ro", "read", user="operator")[1]
    known = KnownHosts(tmp_path / "kh")
    pollers = [
        HostPoller(h, known, interval_s=5, timeout_s=3, slow_every_s=30)
        for h in inventory.hosts_resolved()
    ]
    runner = SshCommandRunner(PollerConnections(pollers))
    audit = AuditLog(store.engine)
    jobs = JobScheduler(CurrentInventory(inventory), runner, audit, store.engine)
    await jobs.start()
    app = create_app(
        store, LiveHub(), inventory, auth=auth, control=runner, audit=audit, scheduled_jobs=jobs
    )
    monkeypatch.delenv("MIRROR_TOKEN_FILE", raising=False)
    monkeypatch.setenv("MIRROR_DATA_DIR", str(tmp_path))
    async for address in _serve(app):
        monkeypatch.setenv("MIRROR_SERVER", f"http://{address}")
        yield {"address": address, "tokens": tokens, "audit": audit, "jobs": jobs}
    await jobs.stop()
    await runner.close()
    for poller in pollers:
        await poller.close()
    store.close()


def client(ego: dict[str, Any], who: str) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {ego['tokens'][who]}"}
    return httpx.AsyncClient(base_url=f"http://{ego['address']}", headers=headers, timeout=15)


async def test_viewers_see_jobs_and_runs_but_cannot_run_or_read_output(
    ego: dict[str, Any],
) -> None:
    for who in ("viewer", "read"):
        async with client(ego, who) as c:
            assert (await c.get("/api/jobs")).status_code == 200
            assert (await c.get("/api/job-runs")).status_code == 200
            for method, path in (
                ("POST", "/api/jobs/greet/run"),
                ("POST", "/api/jobs/greet/pause"),
                ("POST", "/api/jobs/greet/resume"),
                ("GET", "/api/job-runs/nosuch"),
                ("POST", "/api/job-runs/nosuch/cancel"),
            ):
                response = await c.request(method, path)
                assert response.status_code == 403, (who, path, response.text)
    assert ego["audit"].entries(action="job") == []


async def test_run_now_streams_output_and_stores_each_targets_result(ego: dict[str, Any]) -> None:
    async with client(ego, "operator") as c:
        started = await c.post("/api/jobs/greet/run")
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]
        headers = {"Authorization": f"Bearer {ego['tokens']['operator']}"}
        url = f"ws://{ego['address']}/api/job-runs/{run_id}/stream"
        messages = []
        async with ws_connect(url, additional_headers=headers) as sock:
            async for raw in sock:
                messages.append(json.loads(raw))
                if messages[-1]["type"] == "done":
                    break
        run = (await c.get(f"/api/job-runs/{run_id}")).json()
        listed = {j["name"]: j for j in (await c.get("/api/jobs")).json()}
        history = (await c.get("/api/job-runs?job=greet")).json()
    outputs = {(m["stream"], m["text"]) for m in messages if m["type"] == "output"}
    assert outputs == {("stdout", "hello\n"), ("stderr", "oops\n")}
    (result,) = [m for m in messages if m["type"] == "result"]
    assert (result["host"], result["state"], result["exit_status"]) == ("box", "ok", 0)
    assert messages[-1] == {"type": "done", "run_id": run_id, "job": "greet", "state": "ok"}
    assert (run["state"], run["trigger"], run["requested_by"]) == ("ok", "manual", "operator")
    (stored,) = run["results"]
    assert (stored["stdout"], stored["stderr"]) == ("hello\n", "oops\n")
    greet = listed["greet"]
    assert greet["schedule"] == "cron 30 4 * * 1 (Europe/Berlin)"
    assert greet["next_run"] is not None and greet["paused"] is False
    assert greet["last_run"]["run_id"] == run_id
    assert greet["last_results"]["box"]["state"] == "ok"
    assert listed["both"]["schedule"] == "by hand" and listed["both"]["next_run"] is None
    assert [r["run_id"] for r in history] == [run_id]
    entries = ego["audit"].entries(action="job:greet")
    assert [(e.action, e.actor) for e in entries] == [
        ("job:greet.done", "operator"),
        ("job:greet", "operator"),
    ]
    assert entries[1].detail["owner"] == "ops"


async def test_pause_and_resume_are_audited_and_unknown_jobs_refused(ego: dict[str, Any]) -> None:
    async with client(ego, "operator") as c:
        paused = await c.post("/api/jobs/greet/pause")
        assert paused.json() == {"name": "greet", "paused": True, "next_run": None}
        resumed = (await c.post("/api/jobs/greet/resume")).json()
        assert resumed["paused"] is False and resumed["next_run"] is not None
        unknown = await c.post("/api/jobs/nosuch/run")
        assert unknown.status_code == 404
        assert unknown.json()["error"] == "no job named 'nosuch' in the inventory"
        by_hand = await c.post("/api/jobs/both/pause")
        assert by_hand.status_code == 400
        assert by_hand.json()["error"] == "job 'both' has no schedule to pause"
    actions = [(e.action, e.target, e.actor) for e in ego["audit"].entries(action="job.")]
    assert actions == [("job.resume", "greet", "operator"), ("job.pause", "greet", "operator")]


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_the_cli_lists_runs_and_pauses_through_ego(
    ego: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIRROR_TOKEN", ego["tokens"]["operator"])
    code, out, err = await cli(capsys, "jobs", "run", "both")
    assert code == 1  # one target is down
    assert out == "box: hi\n"
    assert "box: [exit 0 in " in err
    assert "gone: [error: " in err and "refused" in err
    assert err.rstrip().endswith("job both: failed")
    code, out, _ = await cli(capsys, "jobs", "run", "greet", "--quiet")
    assert (code, out) == (0, "")
    code, out, _ = await cli(capsys, "jobs", "pause", "greet")
    assert (code, out) == (0, "job greet paused: no scheduled runs\n")
    code, out, _ = await cli(capsys, "jobs", "list")
    lines = out.splitlines()
    assert lines[0].split() == ["JOB", "SCHEDULE", "NEXT", "RUN", "LAST", "TARGETS"]
    greet = next(line for line in lines if line.startswith("greet"))
    assert "paused" in greet and " ok " in greet and "1 hosts" in greet
    both = next(line for line in lines if line.startswith("both"))
    assert "by hand" in both and "failed" in both and "(gone not ok)" in both
    code, out, _ = await cli(capsys, "jobs", "history")
    rows = out.splitlines()[1:]
    assert [r.split()[1:3] for r in rows] == [["greet", "operator"], ["both", "operator"]]
    assert [r.split()[6] for r in rows] == ["ok", "failed"]  # RUN JOB BY DATE TIME S STATE
    code, _, err = await cli(capsys, "jobs", "run", "nosuch")
    assert code == 1 and "no job named 'nosuch'" in err
    monkeypatch.setenv("MIRROR_TOKEN", ego["tokens"]["viewer"])
    code, _, err = await cli(capsys, "jobs", "resume", "greet")
    assert code == 1 and "refused" in err

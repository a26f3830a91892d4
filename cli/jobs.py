"""`mirror jobs list|run NAME|history [NAME]|pause NAME|resume NAME` (issue 18).

Through the running EGO's API, like `mirror run`: the scheduler lives in EGO, a run is a
new channel on each host's connection there, and EGO's audit log records who asked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cli.client import EgoClient, credentials, server_url
from mirror.settings import Settings

RUN_STREAM = "/api/job-runs/{id}/stream"


def add_job_commands(sub: argparse._SubParsersAction) -> None:
    def ego(p: argparse.ArgumentParser) -> None:
        p.add_argument("--server", metavar="URL", help="EGO (default: $MIRROR_SERVER)")
        p.add_argument("--token-file", type=Path, metavar="FILE", help="an operate token")

    jobs = sub.add_parser("jobs", help="scheduled jobs: list, run now, history, pause, resume")
    j_sub = jobs.add_subparsers(metavar="ACTION")
    p = j_sub.add_parser("list", help="jobs with their schedule, next run and last result")
    ego(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_jobs_list)
    p = j_sub.add_parser("run", help="run a job now, its output streamed per host")
    ego(p)
    p.add_argument("name")
    p.add_argument("--quiet", action="store_true", help="only each host's result")
    p.set_defaults(func=cmd_jobs_run)
    p = j_sub.add_parser("history", help="runs, newest first (missed runs included)")
    ego(p)
    p.add_argument("name", nargs="?", help="only this job")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_jobs_history)
    for action, text in (("pause", "no scheduled runs until resumed"), ("resume", "resume")):
        p = j_sub.add_parser(action, help=text)
        ego(p)
        p.add_argument("name")
        p.set_defaults(func=cmd_jobs_switch, action=action)


def _call(args: argparse.Namespace, work: Any) -> Any:
    settings = Settings.from_env()
    url = server_url(args.server, settings)

    async def go() -> Any:
        async with EgoClient(url, credentials(settings, args.token_file)) as client:
            await client.probe()
            return await work(client)

    return asyncio.run(go())


def _when(ts: float | None) -> str:
    return "-" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def jobs_table(jobs: list[dict[str, Any]]) -> str:
    if not jobs:
        return "no jobs in the inventory"
    lines = [f"{'JOB':20} {'SCHEDULE':34} {'NEXT RUN':19}  {'LAST':8} TARGETS"]
    for job in jobs:
        last = job.get("last_run") or {}
        results = job.get("last_results") or {}
        bad = sorted(h for h, r in results.items() if r["state"] != "ok")
        targets = f"{len(job['targets'])} hosts" + (f" ({', '.join(bad)} not ok)" if bad else "")
        nxt = "paused" if job["paused"] else _when(job["next_run"])
        if job.get("running"):
            nxt += " (running)"
        lines.append(
            f"{job['name'][:20]:20} {job['schedule'][:34]:34} {nxt:19}  "
            f"{last.get('state', '-'):8} {targets}"
        )
    return "\n".join(lines)


def runs_table(runs: list[dict[str, Any]]) -> str:
    if not runs:
        return "no runs"
    lines = [f"{'RUN':16} {'JOB':18} {'BY':14} {'STARTED':19} {'SECONDS':>8}  {'STATE':11} NOTE"]
    for r in runs:
        when = r["started"] or r["scheduled"]
        seconds = "-" if r["duration_s"] is None else f"{r['duration_s']:.1f}"
        lines.append(
            f"{r['run_id']:16} {r['job'][:18]:18} {r['requested_by'][:14]:14} {_when(when):19} "
            f"{seconds:>8}  {r['state']:11} {r['note'] or ''}"
        )
    return "\n".join(lines)


def cmd_jobs_list(args: argparse.Namespace) -> int:
    jobs = _call(args, lambda c: c.call("GET", "/api/jobs"))
    print(json.dumps(jobs, indent=2) if args.json else jobs_table(jobs))
    return 0


def cmd_jobs_history(args: argparse.Namespace) -> int:
    path = f"/api/job-runs?limit={args.limit}" + (f"&job={quote(args.name)}" if args.name else "")
    runs = _call(args, lambda c: c.call("GET", path))
    print(json.dumps(runs, indent=2) if args.json else runs_table(runs))
    return 0


def cmd_jobs_switch(args: argparse.Namespace) -> int:
    path = f"/api/jobs/{quote(args.name, safe='')}/{args.action}"
    state = _call(args, lambda c: c.call("POST", path))
    nxt = "no scheduled runs" if state["paused"] else f"next run {_when(state['next_run'])}"
    print(f"job {state['name']} {args.action}d: {nxt}")
    return 0


def cmd_jobs_run(args: argparse.Namespace) -> int:
    """Exit 0 when every target ended ok, 1 otherwise."""

    async def work(client: EgoClient) -> str:
        started = await client.call("POST", f"/api/jobs/{quote(args.name, safe='')}/run")
        print(f"job {args.name}: run {started['run_id']}", file=sys.stderr)
        state = "?"
        async for message in client.stream(started["run_id"], RUN_STREAM):
            kind = message.get("type")
            if kind == "output" and not args.quiet:
                out = sys.stdout if message["stream"] == "stdout" else sys.stderr
                for line in message["text"].splitlines(keepends=True):
                    out.write(f"{message['host']}: {line}")
                out.flush()
            elif kind == "result":
                summary = _summary(message)
                print(f"{message['host']}: [{summary}]", file=sys.stderr)
            elif kind == "done":
                state = message["state"]
            elif kind in ("error", "ended"):
                print(f"mirror: {message.get('error') or message.get('reason')}", file=sys.stderr)
        print(f"job {args.name}: {state}", file=sys.stderr)
        return str(state)

    return 0 if _call(args, work) == "ok" else 1


def _summary(result: dict[str, Any]) -> str:
    attempt = f" (attempt {result['attempt']})" if result.get("attempt", 1) > 1 else ""
    if result["state"] in ("error", "cancelled"):
        return f"{result['state']}: {result['error']}{attempt}"
    if result["state"] == "timeout":
        return f"timeout: {result['error']}{attempt}"
    how = (
        f"signal {result['exit_signal']}"
        if result["exit_signal"]
        else f"exit {result['exit_status']}"
    )
    return f"{how} in {result['duration_s']:.2f} s{attempt}"

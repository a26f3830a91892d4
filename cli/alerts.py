"""`mirror alerts ...` and `mirror notify test CHANNEL`.

Listing, acknowledging and silencing go through the running EGO's API (its engine applies a
silence at once, and its audit log records who did it); ``rules`` reads the inventory file
(the rules in force, defaults included) and ``notify test`` sends from here through the
channel the inventory names, so a channel can be checked before EGO runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cli.client import EgoClient, credentials, server_url
from mirror.errors import ConfigError, UsageError
from mirror.settings import Settings, parse_duration


def add_alert_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def ego(p: argparse.ArgumentParser) -> None:
        p.add_argument("--server", metavar="URL", help="EGO (default: $MIRROR_SERVER)")
        p.add_argument("--token-file", type=Path, metavar="FILE", help="an operate token")

    alerts = sub.add_parser("alerts", help="alerts: list, acknowledge, silence, rules")
    a_sub = alerts.add_subparsers(metavar="ACTION")
    p = a_sub.add_parser("list", help="active alerts (pending, firing), newest first")
    ego(p)
    p.add_argument("--history", action="store_true", help="resolved alerts instead")
    p.add_argument("--all", action="store_true", help="active and resolved")
    p.add_argument("--host", help="only this host")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_alerts_list)
    p = a_sub.add_parser("ack", help="acknowledge an alert (no more repeats)")
    ego(p)
    p.add_argument("id", type=int)
    p.add_argument("--comment", default="", help="what is being done about it")
    p.set_defaults(func=cmd_alerts_ack)
    p = a_sub.add_parser("silence", help="silence alerts matching labels for a while")
    ego(p)
    p.add_argument(
        "--match",
        action="append",
        default=[],
        metavar="LABEL=GLOB",
        required=True,
        help="host=nas, alertname=fs-*, group=lab, severity=warning (repeatable: all must match)",
    )
    p.add_argument("--for", dest="duration", required=True, help="how long: 2h, 3d")
    p.add_argument("--comment", required=True, help="why")
    p.add_argument("--weekly", metavar="DAYS@HH:MM+DURATION", help="e.g. sat,sun@02:00+2h")
    p.set_defaults(func=cmd_alerts_silence)
    p = a_sub.add_parser("silences", help="silences in force (--expired: all)")
    ego(p)
    p.add_argument("--expired", action="store_true")
    p.set_defaults(func=cmd_alerts_silences)
    p = a_sub.add_parser("unsilence", help="end a silence now")
    ego(p)
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_alerts_unsilence)
    p = a_sub.add_parser("rules", help="the rules in force (defaults and the file's)")
    p.add_argument("-i", "--inventory", type=Path, help="inventory file")
    p.set_defaults(func=cmd_alerts_rules)

    notify = sub.add_parser("notify", help="notification channels")
    n_sub = notify.add_subparsers(metavar="ACTION")
    p = n_sub.add_parser("test", help="send a test message through a channel of the inventory")
    p.add_argument("channel")
    p.add_argument("-i", "--inventory", type=Path, help="inventory file")
    p.set_defaults(func=cmd_notify_test)


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    if getattr(args, "inventory", None):
        from dataclasses import replace

        settings = replace(settings, inventory_path=args.inventory)
    return settings


def _call(args: argparse.Namespace, work: Callable[[EgoClient], Awaitable[Any]]) -> Any:
    settings = _settings(args)
    url = server_url(args.server, settings)

    async def go() -> Any:
        async with EgoClient(
            url, credentials(settings, args.token_file), settings.tls_dir / "ca.pem"
        ) as client:
            await client.probe()
            return await work(client)

    return asyncio.run(go())


def _when(ts: float | None) -> str:
    return "-" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def alert_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no alerts"
    lines = [f"{'ID':>5}  {'STATUS':9} {'SEVERITY':9} {'RULE':18} {'WHERE':28} {'SINCE':19}  NOTE"]
    for r in rows:
        where = r["target"] + (f" {r['instance']}" if r.get("instance") else "")
        note = []
        if r.get("ack_by"):
            note.append(f"acked by {r['ack_by']}")
        if r.get("silenced_by"):
            note.append(f"silenced #{r['silenced_by']}")
        value = r.get("value")
        if value is not None:
            note.insert(0, f"value {value:.4g}")
        lines.append(
            f"{r['id']:>5}  {r['status']:9} {r['severity']:9} {r['rule'][:18]:18} "
            f"{where[:28]:28} {_when(r['since']):19}  {', '.join(note)}"
        )
    return "\n".join(lines)


def cmd_alerts_list(args: argparse.Namespace) -> int:
    state = "all" if args.all else "history" if args.history else "active"
    path = f"/api/alerts?state={state}" + (f"&host={quote(args.host)}" if args.host else "")
    rows = _call(args, lambda c: c.call("GET", path))
    print(json.dumps(rows, indent=2) if args.json else alert_table(rows))
    return 0


def cmd_alerts_ack(args: argparse.Namespace) -> int:
    body = {"comment": args.comment}
    row = _call(args, lambda c: c.call("POST", f"/api/alerts/{args.id}/ack", body))
    print(f"alert {row['id']} ({row['rule']} on {row['target']}) acknowledged by {row['ack_by']}")
    return 0


def parse_matchers(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        label, sep, glob = item.partition("=")
        if not sep or not label.strip() or not glob:
            raise UsageError(f"--match {item!r}: expected LABEL=GLOB, e.g. host=nas")
        out[label.strip()] = glob
    return out


def parse_weekly_arg(text: str) -> dict[str, Any]:
    """``sat,sun@02:00+2h`` → the API's weekly window."""
    try:
        days, rest = text.split("@", 1)
        start, length = rest.split("+", 1)
        duration_s = parse_duration(length)
    except ValueError:
        raise UsageError(f"--weekly {text!r}: expected DAYS@HH:MM+DURATION") from None
    return {"days": days.split(","), "start": start, "duration_s": duration_s}


def cmd_alerts_silence(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {
        "matchers": parse_matchers(args.match),
        "duration": args.duration,
        "comment": args.comment,
    }
    if args.weekly:
        body["weekly"] = parse_weekly_arg(args.weekly)
    made = _call(args, lambda c: c.call("POST", "/api/alerts/silences", body))
    print(f"silence {made['id']} until {_when(made['ends'])}")
    return 0


def cmd_alerts_silences(args: argparse.Namespace) -> int:
    path = "/api/alerts/silences" + ("?expired=true" if args.expired else "")
    found = _call(args, lambda c: c.call("GET", path))
    if not found:
        print("no silences")
    for s in found:
        matchers = ",".join(f"{k}={v}" for k, v in s["matchers"].items())
        state = "active" if s["active"] else "waiting" if s["ends"] > time.time() else "ended"
        print(
            f"{s['id']:>5}  {state:7} {matchers:30} until {_when(s['ends'])}  "
            f"{s['created_by']}: {s['comment']}"
        )
    return 0


def cmd_alerts_unsilence(args: argparse.Namespace) -> int:
    done = _call(args, lambda c: c.call("DELETE", f"/api/alerts/silences/{args.id}"))
    print(f"silence {done['id']} ended")
    return 0


def cmd_alerts_rules(args: argparse.Namespace) -> int:
    # Here, not at the top: the rule models cost ~0.1 s to build, which every other
    # `mirror` command (and --help) would pay.
    from mirror.alerts.defaults import DEFAULTS, effective_rules
    from mirror.inventory import load_inventory

    inventory = load_inventory(_settings(args).inventory_path)
    section = inventory.alerts
    in_file = {r.name for r in section.rules}
    for rule in effective_rules(section):
        origin = "file" if rule.name not in DEFAULTS else "default"
        if rule.name in DEFAULTS and rule.name in in_file:
            origin = "override"
        body = rule.model_dump(by_alias=True, exclude_defaults=True, exclude={"name"})
        text = json.dumps(body, ensure_ascii=False)
        print(f"{rule.name:18} {origin:8} {text}")
    return 0


def cmd_notify_test(args: argparse.Namespace) -> int:
    from mirror.inventory import load_inventory
    from notify.channels import Channel, send

    path = _settings(args).inventory_path
    inventory = load_inventory(path)
    entry = inventory.notify.channels.get(args.channel)
    if entry is None:
        known = ", ".join(sorted(inventory.notify.channels)) or "none"
        raise ConfigError(f"no channel {args.channel!r} in {path} (channels: {known})")
    channel = Channel.from_entry(args.channel, entry, Path(path).absolute().parent)
    sent_at = time.strftime("%H:%M:%S")
    body = f"channel {args.channel} works (sent by `mirror notify test` at {sent_at})"
    asyncio.run(send(channel, "MIRROR STAGE: test message", body))
    print(f"{args.channel}: sent", file=sys.stdout)
    return 0

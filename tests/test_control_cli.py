"""`mirror run` / `action` / `tunnel` / `wake` from the shell, against the real OpenSSH server:
through a running EGO (the Litestar app with a poller's connection), refused by EGO, with
no EGO at all (direct login), Ctrl-C, and the cold fan-out against the simulator."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import yaml

from api.app import create_app
from cli.main import main
from lab import LabServer, ensure_keys, lab_inventory, make_lab
from mirror.audit import AuditLog
from mirror.auth import AuthService
from mirror.control import CommandRequest, ResultState
from mirror.inventory import Inventory
from mirror.live import LiveHub
from mirror.storage import Store
from poller.commands import PollerConnections, SshCommandRunner
from poller.fanout import run_cold
from poller.host import HostPoller
from poller.ssh import KnownHosts
from tests.support.sshd import Sshd, free_port
from tests.test_api import _serve
from tests.test_commands import cli_inventory, gone_within, inventory_for
from tests.test_commands import shared_dir as shared_dir  # a fixture

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def ego(
    sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[dict[str, Any]]:
    """EGO as `mirror serve` wires it: commands ride the pollers' connections."""
    data = inventory_for(sshd).model_dump(mode="json", exclude_none=True)
    data["actions"] = {"greet": {"command": "echo hello {who}", "params": {"who": "word"}}}
    inventory = Inventory.from_dict(data)
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(data))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    store = Store.open(f"sqlite:///{data_dir / 'mirror.db'}")
    store.upgrade()
    auth = AuthService(store.engine)
    auth.add_user("alice", "correct horse battery", "operator")
    auth.add_user("victor", "correct horse battery", "viewer")
    tokens = {
        "alice": auth.create_token("alice", "operate", user="alice")[1],
        "read": auth.create_token("ro", "read", user="alice")[1],
        "victor": auth.create_token("victor", "operate", user="victor")[1],
    }
    known = KnownHosts(tmp_path / "kh")
    pollers = [
        HostPoller(h, known, interval_s=5, timeout_s=3, slow_every_s=30)
        for h in inventory.hosts_resolved()
    ]
    runner = SshCommandRunner(PollerConnections(pollers))
    app = create_app(store, LiveHub(), inventory, auth=auth, control=runner)
    monkeypatch.setenv("MIRROR_DATA_DIR", str(data_dir))
    monkeypatch.delenv("MIRROR_DATABASE_URL", raising=False)
    monkeypatch.delenv("MIRROR_TOKEN", raising=False)
    monkeypatch.delenv("MIRROR_TOKEN_FILE", raising=False)
    monkeypatch.setenv("MIRROR_INVENTORY", str(path))
    async for address in _serve(app):
        monkeypatch.setenv("MIRROR_SERVER", f"http://{address}")
        yield {
            "address": address,
            "tokens": tokens,
            "store": store,
            "auth": auth,
            "pollers": {p.host.name: p for p in pollers},
            "inventory": path,
        }
    await runner.close()
    for poller in pollers:
        await poller.close()
    store.close()


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`mirror ARGV` in a thread (it runs its own event loop; EGO runs in this one)."""
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def audit_entries(ego: dict[str, Any], action: str, wait: bool = True) -> list[Any]:
    """Read through EGO's own audit log (one writer: a second AuditLog in this process
    would race EGO's for the same auth events)."""
    headers = {"Authorization": f"Bearer {ego['tokens']['alice']}"}
    async with httpx.AsyncClient(base_url=f"http://{ego['address']}", headers=headers) as c:
        for _ in range(100):  # EGO stores the results just after the stream's last message
            entries = [
                SimpleNamespace(**e)
                for e in (await c.get("/api/audit", params={"action": action})).json()
            ]
            if not wait or any(e.action.endswith(".done") for e in entries):
                break
            await asyncio.sleep(0.05)
    return entries


async def test_run_goes_through_ego_on_its_connection(
    ego: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MIRROR_TOKEN", ego["tokens"]["alice"])
    poller = ego["pollers"]["box"]
    held = await poller.connection()
    script = "echo one; sleep 0.2; echo two >&2; exit 3"
    code, out, err = await cli(capsys, "run", "--host", "box", "--", script)
    assert code == 1
    assert out == "one\n"
    assert err.startswith("two\nbox: exit 3 in ")
    assert await poller.connection() is held  # a new channel, not a new login
    code, out, err = await cli(capsys, "run", "--host", "box,gone", "--", "hostname")
    assert code == 1 and out.startswith("box | ")
    assert "box: exit 0" in err and "gone: error: connection refused" in err
    assert "directly" not in err  # no fallback notice: EGO answered
    code, _, err = await cli(capsys, "run", "--group", "nolab", "--", "true")
    assert code == 1 and "no host is in group 'nolab'" in err and "Traceback" not in err
    entries = await audit_entries(ego, "command")
    assert {(e.actor, e.via) for e in entries} == {("alice", "token")}
    assert [e.action for e in entries] == ["command.done", "command"] * 2
    assert entries[-1].detail and entries[-1].detail["command"] == script


async def test_json_output_through_ego(
    ego: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    monkeypatch.setenv("MIRROR_TOKEN", ego["tokens"]["alice"])
    code, out, _ = await cli(capsys, "run", "--json", "--group", "lab", "--", "echo hi")
    assert code == 0
    [result] = json.loads(out)
    assert (result["host"], result["state"], result["stdout"]) == ("box", "ok", "hi\n")


async def test_minted_token_acts_as_the_local_user_and_is_revoked(
    ego: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = await cli(capsys, "run", "--host", "box", "--", "echo minted")
    assert code == 0 and out == "minted\n"
    [_, started] = await audit_entries(ego, "command")
    assert started.actor.startswith("cli:") and started.via == "token"
    minted = [t for t in ego["auth"].list_tokens() if t.name.startswith("cli:")]
    assert minted and all(t.revoked is not None for t in minted)
    assert all(t.expires is not None and t.expires - t.created <= 120 for t in minted)


@pytest.mark.parametrize(
    ("token", "words"),
    [
        ("mst_not-a-real-token", "unknown, revoked or expired API token"),
        ("read", "scope is 'read'"),
        ("victor", "needs role operator or admin"),
    ],
    ids=["unknown", "read-scope", "viewer"],
)
async def test_refusal_is_said_and_never_bypassed(
    ego: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    token: str,
    words: str,
) -> None:
    monkeypatch.setenv("MIRROR_TOKEN", ego["tokens"].get(token, token))
    code, out, err = await cli(capsys, "run", "--host", "box", "--", "echo never")
    assert code == 77, err
    assert out == "" and "refused MIRROR_TOKEN" in err and words in err
    assert "directly" not in err and "Traceback" not in err
    assert await audit_entries(ego, "command", wait=False) == []


async def test_token_file_must_be_private(
    ego: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "token"
    path.write_text(ego["tokens"]["alice"] + "\n")
    path.chmod(0o644)
    code, _, err = await cli(capsys, "run", "--token-file", str(path), "--host", "box", "--", "id")
    assert code == 1 and "chmod 600" in err
    path.chmod(0o600)
    code, out, _ = await cli(
        capsys, "run", "--token-file", str(path), "--host", "box", "--", "echo ok"
    )
    assert code == 0 and out == "ok\n"
    assert (await audit_entries(ego, "command"))[0].actor == "alice"


async def test_no_ego_falls_back_to_direct_login_with_a_notice(
    sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cli_inventory(sshd, tmp_path, monkeypatch)
    nobody = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("MIRROR_SERVER", nobody)
    code, out, err = await cli(capsys, "run", "-i", str(path), "--host", "box", "--", "echo hi")
    assert code == 0 and out == "hi\n"
    assert (
        err == f"mirror: no EGO at {nobody} (nothing listens): logging in to the hosts directly\n"
    )
    code, out, err = await cli(
        capsys, "run", "--direct", "-i", str(path), "--host", "box", "--", "echo hi"
    )
    assert (code, out, err) == (0, "hi\n", "")
    with Store.open(f"sqlite:///{tmp_path / 'data' / 'mirror.db'}") as store:
        entries = AuditLog(store.engine).entries(action="command")
    assert [e.action for e in entries] == ["command.done", "command"] * 2
    assert all(e.actor.startswith("cli:") and e.via == "cli" for e in entries)


async def test_action_through_ego(
    ego: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MIRROR_TOKEN", ego["tokens"]["alice"])
    code, out, _ = await cli(capsys, "action", "greet", "--group", "lab", "--param", "who=world")
    assert code == 0 and out == "hello world\n"
    code, out, err = await cli(capsys, "action", "greet", "--host", "box", "--param", "who=a;id")
    assert code == 1 and out == "" and "box: error: parameter 'who' must be" in err
    entries = await audit_entries(ego, "action:greet")
    assert [(e.action, e.actor) for e in entries] == [
        ("action:greet.done", "alice"),
        ("action:greet", "alice"),
    ]


def _spawn_env(ego: dict[str, Any], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIRROR_")}
    env.update(
        MIRROR_SERVER=f"http://{ego['address']}",
        MIRROR_TOKEN=ego["tokens"]["alice"],
        MIRROR_DATA_DIR=os.environ["MIRROR_DATA_DIR"],
        MIRROR_INVENTORY=str(ego["inventory"]),
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


async def _spawn(env: dict[str, str], *argv: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", *argv,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=ROOT,
    )  # fmt: skip


@pytest.mark.parametrize("how", ["ego", "direct"])
async def test_ctrl_c_stops_the_remote_command(
    ego: dict[str, Any],
    shared_dir: Path,
    how: str,
) -> None:
    pid = shared_dir / "pid"
    extra = ["--direct"] if how == "direct" else []
    proc = await _spawn(
        _spawn_env(ego), "run", *extra, "--host", "box", "--", f"echo $$ > {pid}; echo go; sleep 60"
    )
    assert proc.stdout is not None and proc.stderr is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 15)
    assert line == b"go\n"
    proc.send_signal(signal.SIGINT)
    started = time.monotonic()
    code = await asyncio.wait_for(proc.wait(), 10)
    err = (await proc.stderr.read()).decode()
    assert code == 130, err
    assert time.monotonic() - started < 8
    assert "box: cancelled after" in err and "Traceback" not in err
    assert await gone_within([int(pid.read_text())]), "the remote command survived Ctrl-C"
    if how == "ego":
        entries = await audit_entries(ego, "command")
        assert entries[0].result == "1 cancelled" and entries[0].actor == "alice"


async def test_tunnel_through_ego_until_ctrl_c(ego: dict[str, Any]) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    proc = await _spawn(_spawn_env(ego), "tunnel", "--host", "box", str(port), "--to", "127.0.0.1")
    assert proc.stdout is not None and proc.stderr is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 15)).decode()
        assert line.startswith("tunnel 127.0.0.2:") and "held by EGO" in line, line
        listen = line.split()[1]
        async with httpx.AsyncClient() as plain:
            assert (await plain.get(f"http://{listen}/")).text == "ok"
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
        assert "tunnel closed (1 connections)" in (await proc.stderr.read()).decode()
    finally:
        if proc.returncode is None:
            proc.kill()
        server.close()
    entries = await audit_entries(ego, "tunnel", wait=False)
    assert [(e.action, e.actor) for e in entries] == [
        ("tunnel.close", "alice"),
        ("tunnel.open", "alice"),
    ]


async def test_cold_fan_out_does_not_wait_on_a_silent_host(tmp_path: Path) -> None:
    """A host that accepts TCP and never speaks SSH costs its own connect timeout, once,
    while the others (two command slots) all finish first."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    mute = await asyncio.start_server(silent, "127.0.0.1", 0)
    mute_port = mute.sockets[0].getsockname()[1]
    host_key, client_key, client_pub = ensure_keys(tmp_path / "keys")
    lab = make_lab(12, start=1)
    async with LabServer(lab, 0, host_key, client_pub) as sim:
        data = lab_inventory(lab, client_key, sim.port, connect_timeout_s=1.5)
        data["hosts"].insert(0, {"name": "mute", "address": "127.0.0.1",
                                 "ssh": {"port": mute_port}})  # fmt: skip
        hosts = Inventory.from_dict(data).hosts_resolved()
        names = tuple(h.name for h in hosts)
        done_at: dict[str, float] = {}
        started = time.monotonic()

        def seen(event: Any) -> None:
            done_at.setdefault(event.host, time.monotonic() - started)

        request = CommandRequest("hostname", names, timeout_s=10, concurrency=2)
        results = await run_cold(hosts, KnownHosts(tmp_path / "kh"), request, seen)
        elapsed = time.monotonic() - started
    mute.close()
    by_name = {r.host: r for r in results}
    assert by_name["mute"].state is ResultState.ERROR
    assert "no answer within 1.5 s while logging in" in (by_name["mute"].error or "")
    assert all(by_name[h.name].state is ResultState.OK for h in lab)
    assert max(done_at[h.name] for h in lab) < 1.5  # none waited behind the mute host
    assert elapsed < 4


def test_wake_from_the_cli_is_audited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(5)
    inventory = {
        "subnets": [{"name": "lab", "cidr": "127.77.0.0/28", "wol_broadcast": "127.0.0.1",
                     "wol_port": listener.getsockname()[1]}],
        "hosts": [{"name": "alpha", "address": "127.77.0.1", "mac": "02:00:00:00:00:01"}],
    }  # fmt: skip
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(inventory))
    monkeypatch.setenv("MIRROR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MIRROR_DATABASE_URL", raising=False)
    try:
        assert main(["wake", "alpha", "-i", str(path), "--no-wait"]) == 0
        assert len(listener.recvfrom(2048)[0]) == 102
    finally:
        listener.close()
    assert "magic packet" in capsys.readouterr().out
    with Store.open(f"sqlite:///{tmp_path / 'data' / 'mirror.db'}") as store:
        [entry] = AuditLog(store.engine).entries(action="wol")
    assert entry.actor.startswith("cli:") and entry.via == "cli"
    assert entry.target == "alpha" and entry.result == "requested"
    assert entry.detail == {"mac": "02:00:00:00:00:01", "sent_to": inventory_port(inventory)}


def inventory_port(inventory: dict[str, Any]) -> str:
    return f"127.0.0.1:{inventory['subnets'][0]['wol_port']}"

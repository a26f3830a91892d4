"""What operators type into web terminals reaches the audit log only when configured
(``MIRROR_AUDIT_KEYSTROKES=1``), and then never a line the host did not echo (passwords)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from mirror.audit import AuditEntry, AuditLog
from mirror.control.keystrokes import KeystrokeRecorder
from mirror.errors import ConfigError
from mirror.settings import Settings
from tests.support.sshd import Sshd
from tests.test_control_api import _read_until, serve_control, ws

# ---- the recorder on its own ----


def typed(recorder: KeystrokeRecorder, keys: str | list[str], echo: bool) -> None:
    """One key per message, as xterm.js sends them; the host echoes each key or not."""
    for key in keys:
        recorder.input(key)
        if echo and key not in ("\r", "\x7f", "\x1b[A"):
            recorder.output(key)
        elif echo and key == "\x7f":
            recorder.output("\b \b")
        elif key == "\r":
            recorder.output("\r\n")


def test_echoed_lines_are_recorded_and_unechoed_ones_withheld() -> None:
    rec = KeystrokeRecorder()
    rec.output("alice@box:~$ ")
    typed(rec, "sudo lz\x7fs /root\r", echo=True)
    rec.output("[sudo] password for alice: ")  # a prompt holding the secret's letters
    typed(rec, "alice\r", echo=False)
    rec.output("secrets.txt\r\nalice@box:~$ ")
    typed(rec, ["l", "s", "\x1b[A", "\r"], echo=True)  # an arrow key is dropped
    typed(rec, "\x03", echo=False)
    rec.output("^C\r\n")
    assert rec.take(final=True) == {
        "input": "sudo ls /root\nls\n^C\n",
        "lines": 3,
        "withheld_lines": 1,
    }
    assert rec.take(final=True) is None


def test_a_pasted_line_is_judged_by_the_echo_that_follows() -> None:
    rec = KeystrokeRecorder()
    rec.input("echo pasted\r")
    rec.output("echo pasted\r\npasted\r\n$ ")
    rec.input("hunter2\r")  # a secret pasted at a prompt with echo off
    rec.output("\r\n" + "x" * 10_000)  # whatever the command prints later is not its echo
    detail = rec.take(final=True)
    assert detail == {"input": "echo pasted\n", "lines": 1, "withheld_lines": 1}


def test_a_session_records_a_bounded_amount() -> None:
    rec = KeystrokeRecorder(max_chars=20)
    for _ in range(5):
        rec.input("abcdefgh\r")
        rec.output("abcdefgh\r\n")
    detail = rec.take(final=True)
    assert detail is not None and detail["lines"] == 2 and detail["dropped_chars"] == 24


def test_the_setting_is_read_and_checked() -> None:
    base = {"MIRROR_DATA_DIR": "/tmp/x"}
    assert Settings.from_env(base).audit_keystrokes is False
    assert Settings.from_env(base | {"MIRROR_AUDIT_KEYSTROKES": "1"}).audit_keystrokes is True
    with pytest.raises(ConfigError, match="MIRROR_AUDIT_KEYSTROKES must be 1 or 0"):
        Settings.from_env(base | {"MIRROR_AUDIT_KEYSTROKES": "maybe"})


# ---- through the API, against the real OpenSSH server ----


@pytest.fixture(params=[False, True], ids=["default", "keystrokes"])
async def env(request: pytest.FixtureRequest, sshd: Sshd, tmp_path: Path) -> AsyncIterator[Any]:
    async for served in serve_control(sshd, tmp_path, audit_keystrokes=request.param):
        yield served | {"keystrokes": request.param}


async def _session(env: dict[str, Any]) -> list[AuditEntry]:
    async with ws(env, "operator", "/api/hosts/box/terminal") as sock:

        async def send(text: str) -> None:
            await sock.send(json.dumps({"type": "input", "data": text}))

        # The strict echo rule withholds a line pasted before the shell is ready (a banner's
        # line break comes before its echo), so wait for the prompt as a user would.
        await _read_until(sock, "$ ")
        await send("echo hi-$((3*3))\n")
        await _read_until(sock, "hi-9\r\n")
        await send("stty -echo; echo ready-$((2+2)); read pw; stty echo; echo got-$((1+1))\n")
        await _read_until(sock, "ready-4\r\n")
        await send("hunter2-pw\n")  # echo is off: a password prompt
        await _read_until(sock, "got-2\r\n")
        await send("exit\n")
        with pytest.raises(ConnectionClosed):
            await _read_until(sock, "never")
    log = AuditLog(env["store"].engine)
    for _ in range(100):
        if log.entries(action="terminal.end"):
            break
        await asyncio.sleep(0.05)
    return log.entries(action="terminal")


async def test_keystrokes_only_when_configured_and_never_unechoed(env: dict[str, Any]) -> None:
    entries = await _session(env)
    actions = [e.action for e in reversed(entries)]
    everything = json.dumps([e.detail for e in entries])
    assert "hunter2" not in everything
    if not env["keystrokes"]:
        assert actions == ["terminal.start", "terminal.end"]
        assert "hi-$((3*3))" not in everything
    else:
        assert actions == ["terminal.start", "terminal.input", "terminal.end"]
        [typed_in] = [e for e in entries if e.action == "terminal.input"]
        assert typed_in.detail is not None
        lines = typed_in.detail["input"].splitlines()
        assert lines[0] == "echo hi-$((3*3))" and lines[1].startswith("stty -echo;")
        assert lines[2:] == ["exit"] and typed_in.detail["withheld_lines"] == 1
    assert AuditLog(env["store"].engine).verify().ok

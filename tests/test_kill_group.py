"""EGO's stop of a command's whole process group, as sent to a real sshd whose login user's
shell is /bin/sh, which is dash on Debian: dash's kill refused `kill -TERM -- -PGID`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncssh
import pytest

from mirror.control.output import PGID_TAG, kill_group_command, wrap_command
from tests.support.sshd import Sshd


def _login_shell(user: str) -> str:
    for line in Path("/etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return fields[6]
    return ""


async def test_kill_group_command_stops_every_process_under_dash(sshd: Sshd) -> None:
    shell = _login_shell(sshd.user)
    if Path(shell).resolve() != Path("/usr/bin/dash"):
        pytest.skip(f"{sshd.user}'s shell {shell} is not dash (scripts/setup.sh --test)")
    async with asyncssh.connect(
        sshd.ok_address,
        sshd.port,
        username=sshd.user,
        client_keys=[str(sshd.client_key)],
        known_hosts=None,
        agent_path=None,
    ) as conn:
        # A child in the background and one in the foreground: the session's first process
        # alone getting the signal would leave `sleep 300` behind.
        proc = await conn.create_process(
            wrap_command("sleep 300 & sleep 301; echo never", sudo=False), encoding=None
        )
        err = b""
        while PGID_TAG not in err or not err.endswith(b"\n"):
            err += await asyncio.wait_for(proc.stderr.read(4096), 10)
        pgid = int(err.split(PGID_TAG, 1)[1].split(b"\n", 1)[0])
        alive = await conn.run(f"ps -o pid= -g {pgid} | wc -l", check=True)
        assert int(str(alive.stdout).strip()) >= 2  # the shell and its sleeps
        # What EGO sends (poller/commands.py), run by dash; its errors are not hidden here.
        killed = await conn.run(
            kill_group_command(pgid, 1.0).replace(" 2>/dev/null", ""), check=False
        )
        assert "Illegal number" not in str(killed.stderr), killed.stderr
        await asyncio.wait_for(proc.wait_closed(), 10)
        left = await conn.run(f"ps -o stat=,pid=,args= -g {pgid}", check=False)
        running = [p for p in str(left.stdout).splitlines() if not p.strip().startswith("Z")]
        assert running == [], left.stdout  # gone, or dead and not yet reaped
    assert b"never" not in await proc.stdout.read()


def test_the_old_form_is_what_dash_refuses() -> None:
    """The reason for `-s`: dash itself, asked the old way (a group that cannot exist)."""
    import shutil
    import subprocess

    if shutil.which("dash") is None:
        pytest.skip("dash not installed")
    old = subprocess.run(["dash", "-c", "kill -TERM -- -999999"], capture_output=True, text=True)
    assert "Illegal number: -" in old.stderr
    new = subprocess.run(
        ["dash", "-c", kill_group_command(999999, 0.1).replace(" 2>/dev/null", "")],
        capture_output=True,
        text=True,
    )
    assert "Illegal number" not in new.stderr and "No such process" in new.stderr

"""collectors.launch through a real sshd, logging in as real users whose login shell is each
of sh, dash, bash, zsh, ksh, fish, tcsh, csh and busybox ash, with noisy rc files.

A shell that is not installed is skipped with the package to install; `scripts/setup.sh
--test` installs them all.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import pwd
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pytest

from collectors import launch
from collectors.frame import parse_frame
from collectors.linux.kind import KIND as LINUX
from collectors.linux.sample import parse_fast
from mirror.control.output import PGID_TAG
from tests.support.sshd import Sshd

SHELLS = {
    # name: (path of the login shell, Debian package)
    "sh": ("/bin/sh", "dash"),
    "dash": ("/usr/bin/dash", "dash"),
    "bash": ("/bin/bash", "bash"),
    "zsh": ("/usr/bin/zsh", "zsh"),
    "ksh": ("/usr/bin/ksh93", "ksh"),
    "fish": ("/usr/bin/fish", "fish"),
    "tcsh": ("/usr/bin/tcsh", "tcsh"),
    "csh": ("/usr/bin/bsd-csh", "csh"),
    "ash": ("/bin/busybox", "busybox-static"),
}
# Each shell's rc file that runs for a non-interactive `shell -c` from sshd, made noisy:
# a banner on stdout, one on stderr, and an stty that fails without a terminal.
_POSIX_NOISE = "echo '*** Welcome to {0} ***'; echo '{0} rc on stderr' >&2; stty -echo\n"
NOISY_RC = {
    "bash": (".bashrc", _POSIX_NOISE.format("bash")),
    "zsh": (".zshenv", _POSIX_NOISE.format("zsh")),
    "fish": (".config/fish/config.fish", _POSIX_NOISE.format("fish")),
    "tcsh": (".tcshrc", "echo '*** Welcome to tcsh ***'\nstty -echo\n"),
    "csh": (".cshrc", "echo '*** Welcome to csh ***'\nstty -echo\n"),
}


@dataclass(frozen=True)
class Login:
    shell: str
    user: str
    home: Path


def _shell_path(name: str, root: Path) -> str:
    path, package = SHELLS[name]
    if not Path(path).exists():
        pytest.skip(f"{name} is not installed (apt-get install {package})")
    if name == "ash":  # busybox picks the applet from argv[0], which sshd sets to the basename
        link = root / "ash"
        if not link.exists():
            link.symlink_to(path)
        return str(link)
    return path


@pytest.fixture(scope="module")
def shell_root(sshd: Sshd) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("needs root to create a user per login shell")
    yield sshd.root


def _user(name: str, shell_root: Path) -> Login:
    shell = _shell_path(name, shell_root)
    user = f"mt-{name}"
    try:
        entry = pwd.getpwnam(user)
        if entry.pw_shell != shell:
            subprocess.run(["usermod", "-s", shell, user], check=True)
    except KeyError:
        subprocess.run(["useradd", "-m", "-s", shell, "-p", "*", user], check=True)
        entry = pwd.getpwnam(user)
    home = Path(entry.pw_dir)
    # A clean home each time: no rc file, no stray file from an earlier run.
    for child in home.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    return Login(name, user, home)


def _noisy(login: Login) -> None:
    if login.shell not in NOISY_RC:
        return
    rel, text = NOISY_RC[login.shell]
    path = login.home / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    info = pwd.getpwnam(login.user)
    for p in (path, *path.relative_to(login.home).parents):
        os.chown(login.home / p, info.pw_uid, info.pw_gid)


async def _connect(sshd: Sshd, user: str) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        sshd.ok_address,
        sshd.port,
        username=user,
        client_keys=[str(sshd.client_key)],
        known_hosts=None,
        agent_path=None,
        connect_timeout=5,
    )


async def _reflector_fast_frame(sshd: Sshd, login: Login) -> tuple[bytes, int]:
    """Launch the real Linux REFLECTOR; return the login noise before the marker and the
    number of fast frames that parsed."""
    plan = launch.reflector_launch(LINUX.program)
    async with await _connect(sshd, login.user) as conn:
        proc = await conn.create_process(plan.command, encoding=None)
        proc.stdin.write(plan.stdin + b"s\ns\n")
        buf = b""
        while (found := launch.find_ready(buf)) is None:
            chunk = await asyncio.wait_for(proc.stdout.read(65536), 10)
            if not chunk:
                err = await proc.stderr.read()
                raise AssertionError(launch.launch_failure(buf, err, proc.exit_status))
            buf += chunk
        pid, at = found
        assert pid > 1
        rest = buf[at:]
        frames = 0
        for _ in range(2):
            while b"@@E\n" not in rest:
                rest += await asyncio.wait_for(proc.stdout.read(65536), 10)
            end = rest.index(b"@@E\n") + 4
            sample = parse_fast(parse_frame(rest[:end]))
            assert sample.memory.total_bytes > 0
            frames += 1
            rest = rest[end:]
        proc.stdin.write(b"q\n")
        await asyncio.wait_for(proc.wait(), 10)
        assert proc.exit_status == 0
        return buf[: at - len(f"@@R {pid}\n")], frames


async def _command(sshd: Sshd, login: Login, command: str) -> tuple[int | None, bytes, bytes]:
    async with await _connect(sshd, login.user) as conn:
        result = await asyncio.wait_for(conn.run(launch.command_launch(command), encoding=None), 15)
        return result.exit_status, bytes(result.stdout or b""), bytes(result.stderr or b"")


@pytest.mark.parametrize("name", list(SHELLS))
async def test_reflector_runs_under_every_login_shell(
    sshd: Sshd, shell_root: Path, name: str
) -> None:
    login = _user(name, shell_root)
    noise, frames = await _reflector_fast_frame(sshd, login)
    assert frames == 2
    assert noise == b""


@pytest.mark.parametrize("name", list(NOISY_RC))
async def test_reflector_survives_noisy_rc_files(sshd: Sshd, shell_root: Path, name: str) -> None:
    login = _user(name, shell_root)
    _noisy(login)
    noise, frames = await _reflector_fast_frame(sshd, login)
    assert frames == 2
    assert f"*** Welcome to {name} ***".encode() in noise


TRICKY = (
    "printf '%s|' \"a  b\" 'it'\"'\"'s' '\\back' '!bang' \"$((6*7))\" 'tab\there' 'é€'; "
    "echo; echo to-stderr >&2; exit 7"
)
TRICKY_OUT = "a  b|it's|\\back|!bang|42|tab\there|é€|\n".encode()


@pytest.mark.parametrize("name", list(SHELLS))
async def test_command_runs_as_posix_sh_with_its_exit_status(
    sshd: Sshd, shell_root: Path, name: str
) -> None:
    login = _user(name, shell_root)
    _noisy(login)
    status, out, err = await _command(sshd, login, TRICKY)
    assert status == 7, err
    assert out.endswith(TRICKY_OUT), out
    # The group announcement comes before the command's own stderr.
    assert launch.PGID_TAG == PGID_TAG
    tag_at = err.index(PGID_TAG)
    pgid = int(err[tag_at + len(PGID_TAG) :].split(b"\n", 1)[0])
    assert pgid > 1
    assert err.index(b"to-stderr") > tag_at
    # csh reads `>&2` as "to a file named 2": nothing of ours may do that.
    assert not (login.home / "2").exists()


@pytest.mark.parametrize("name", ["sh", "fish", "tcsh", "csh"])
async def test_a_failing_command_is_never_ok(sshd: Sshd, shell_root: Path, name: str) -> None:
    login = _user(name, shell_root)
    assert (await _command(sshd, login, "false"))[0] == 1
    assert (await _command(sshd, login, "exit 0"))[0] == 0
    # A syntax error in the command is sh's, and fails.
    status, _out, err = await _command(sshd, login, "if then fi (")
    assert status not in (0, None), err


async def test_process_group_of_a_command_can_be_killed(sshd: Sshd, shell_root: Path) -> None:
    login = _user("fish", shell_root)
    async with await _connect(sshd, login.user) as conn:
        proc = await conn.create_process(
            launch.command_launch("sleep 300 & sleep 301; echo never"), encoding=None
        )
        err = b""
        while PGID_TAG not in err or not err.endswith(b"\n"):
            err += await asyncio.wait_for(proc.stderr.read(4096), 10)
        pgid = int(err.split(PGID_TAG, 1)[1].split(b"\n", 1)[0])
        # `kill -s KILL -- -PGID`: dash's kill reads `kill -KILL -- -PGID` as pid "-".
        killed = await conn.run(launch.command_launch(f"kill -s KILL -- -{pgid}"), encoding=None)
        assert killed.exit_status == 0
        await asyncio.wait_for(proc.wait_closed(), 10)
        assert proc.exit_signal is not None or proc.exit_status not in (0, None)


async def test_a_fixed_command_host_is_told_apart(sshd: Sshd) -> None:
    plan = launch.reflector_launch(LINUX.program)
    async with await asyncssh.connect(
        sshd.garbage_address,
        sshd.port,
        username=sshd.user,
        client_keys=[str(sshd.client_key)],
        known_hosts=None,
        agent_path=None,
    ) as conn:
        proc = await conn.create_process(plan.command, encoding=None)
        proc.stdin.write(plan.stdin)
        proc.stdin.write_eof()
        out = await asyncio.wait_for(proc.stdout.read(), 10)
        await proc.wait_closed()
    assert launch.find_ready(out) is None
    why = launch.launch_failure(out, b"", proc.exit_status)
    assert "fixed command" in why and "Welcome to BusyBox" in why


def test_launch_text_is_one_line_of_safe_characters() -> None:
    plan = launch.reflector_launch(LINUX.program)
    assert "\n" not in plan.command and "!" not in plan.command
    assert plan.command.count("'") == 2
    assert plan.stdin == LINUX.program.encode()
    line = launch.command_launch("echo '!' \"$HOME\" \\ \n x")
    assert "\n" not in line and "!" not in line and line.count("'") == 2
    with pytest.raises(ValueError, match="character"):
        launch._exec_sh("echo 'x'")


def test_launch_failure_words() -> None:
    assert "could not read" in launch.launch_failure(
        b"", b"mirror: could not read the program from stdin\n", launch.NO_PROGRAM_STATUS
    )
    why = launch.launch_failure(b"", b"tcsh: Unmatched '.\n", 1)
    assert "Unmatched" in why and "exit status 1" in why
    assert launch.find_ready(b"noise\n@@R 12") is None  # the line is not complete yet
    assert launch.find_ready(b"noise\n@@R 12\nX") == (12, 13)


@pytest.mark.parametrize("module", ["freebsd", "macos"])
async def test_bsd_family_programs_start_through_a_csh_login(
    sshd: Sshd, shell_root: Path, module: str
) -> None:
    """The other kinds' launches through the shell that breaks the most (not their OS
    here, so only the framing is checked)."""
    kind = importlib.import_module(f"collectors.{module}.kind")
    plan = kind.launch()
    login = _user("csh", shell_root)
    async with await _connect(sshd, login.user) as conn:
        proc = await conn.create_process(plan.command, encoding=None)
        proc.stdin.write(plan.stdin + b"x\nq\n")
        out = await asyncio.wait_for(proc.stdout.read(), 60)
    found = launch.find_ready(out)
    assert found is not None, out[:200]
    assert parse_frame(out[found[1] :]).kind == "x"

"""The SSH side of the simulator: one asyncssh server answering for many loopback addresses.

All always-up hosts share one ``asyncssh.listen`` (one listening socket per address, one
acceptor); the handler looks at the local address a connection arrived on to know which host
was asked.  A host can be taken down (:meth:`LabServer.set_down`): its listening socket stops
accepting, so connects are refused, and its open connections are dropped.  When it comes back
it gets a listener of its own (the flappy host always has one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncssh

from lab import commands
from lab.model import HostModel, SimHost, check_loopback, stable_seed

log = logging.getLogger(__name__)

REFLECTOR_MARKER = "MIRROR STAGE REFLECTOR"
REBOOT = ["systemctl", "reboot"]
_UNKNOWN_FRAME = b"@@B ? 0\n@@E\n"


def ensure_keys(directory: Path) -> tuple[Path, Path, Path]:
    """(host key, client private key, client public key): ed25519, created once, then reused."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    host_key = directory / "sim_host_ed25519"
    client_key = directory / "sim_client_ed25519"
    client_pub = directory / "sim_client_ed25519.pub"
    for path in (host_key, client_key):
        pub = path.with_name(path.name + ".pub")
        if path.exists() and pub.exists():
            continue
        key = asyncssh.generate_private_key("ssh-ed25519", comment=f"mirror-sim {path.name}")
        tmp = path.with_name(path.name + ".tmp")
        key.write_private_key(str(tmp))
        os.chmod(tmp, 0o600)
        tmp.replace(path)
        key.write_public_key(str(pub))
    return host_key, client_key, client_pub


def lab_ssh(client_key: Path, port: int, user: str = "mirror", **extra: Any) -> dict[str, Any]:
    """An inventory's ``ssh:`` settings that log in to a :class:`LabServer` on ``port``."""
    return {
        "user": user,
        "port": port,
        "key_file": str(client_key),
        "agent": False,
        # The simulator makes its key on first run: record it, as a newcomer would.
        "trust_on_first_use": True,
        **extra,
    }


def lab_inventory(
    lab: Sequence[SimHost], client_key: Path, port: int, user: str = "mirror", **extra: Any
) -> dict[str, Any]:
    """``lab`` as an inventory (for ``Inventory.from_dict``): every host by name and address,
    logging in with :func:`lab_ssh`; ``extra`` adds ssh settings (``connect_timeout_s``)."""
    return {
        "defaults": {"ssh": lab_ssh(client_key, port, user, **extra)},
        "hosts": [{"name": h.name, "address": h.address} for h in lab],
    }


class _Server(asyncssh.SSHServer):
    def __init__(self, lab: LabServer) -> None:
        self.lab = lab
        self.name: str | None = None
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        model = self.lab.by_address.get(conn.get_extra_info("sockname")[0])
        if model is None or model.host.name in self.lab.down:
            conn.abort()
            return
        self.name = model.host.name
        self.lab.connections[self.name].add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.name is not None and self.conn is not None:
            self.lab.connections[self.name].discard(self.conn)

    def password_auth_supported(self) -> bool:
        return False


class LabServer:
    """Serves ``hosts`` over SSH on ``port`` of each host's loopback address."""

    def __init__(
        self,
        hosts: list[SimHost],
        port: int,
        host_key_path: Path,
        authorized_client_key: Path,
        flappy: str | None = None,
        *,
        flappy_period: float = 120.0,
        flappy_downtime: float = 40.0,
    ) -> None:
        self.hosts = list(hosts)
        for h in self.hosts:
            check_loopback(h.address)
        self.models = {h.name: HostModel(h) for h in self.hosts}
        if len(self.models) != len(self.hosts):
            raise ValueError("host names must be unique")
        self.by_address = {m.host.address: m for m in self.models.values()}
        if len(self.by_address) != len(self.hosts):
            raise ValueError("host addresses must be unique")
        if flappy is not None and flappy not in self.models:
            raise ValueError(f"flappy host {flappy!r} is not in the lab")
        self.port = port
        self.host_key_path = Path(host_key_path)
        self.authorized_client_key = Path(authorized_client_key)
        self.flappy = flappy
        self.flappy_period = flappy_period
        self.flappy_downtime = flappy_downtime
        self.down: set[str] = set()
        self.connections: dict[str, set[asyncssh.SSHServerConnection]] = {
            name: set() for name in self.models
        }
        self._shared: asyncssh.SSHAcceptor | None = None
        self._own: dict[str, asyncssh.SSHAcceptor | None] = {}
        self._pending: set[asyncio.Task] = set()
        self._flap_task: asyncio.Task | None = None
        self._options: dict[str, object] = {}
        self.frames = 0  # frames served, for benchmarks
        self.reboot_downtime = 1.0  # seconds down after `systemctl reboot`
        self._reboots: set[asyncio.Task[None]] = set()

    # --- life cycle ------------------------------------------------------------------

    async def start(self) -> None:
        if self.port == 0:
            self.port = _free_port(self.hosts[0].address if self.hosts else "127.0.0.1")
        self._options = dict(
            server_factory=lambda: _Server(self),
            server_host_keys=[asyncssh.read_private_key(str(self.host_key_path))],
            authorized_client_keys=asyncssh.read_authorized_keys(str(self.authorized_client_key)),
            process_factory=self._handle,
            encoding=None,
            allow_scp=False,
            agent_forwarding=False,
            x11_forwarding=False,
            login_timeout=30,
            backlog=128,
        )
        shared = [h.address for h in self.hosts if h.name != self.flappy]
        if shared:
            self._shared = await asyncssh.listen(host=shared, port=self.port, **self._options)
        if self.flappy is not None:
            self._own[self.flappy] = await self._listen_one(self.flappy)
            self._flap_task = asyncio.create_task(self._flap(), name="sim-flappy")

    async def stop(self) -> None:
        if self._flap_task is not None:
            self._flap_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flap_task
            self._flap_task = None
        for task in [*self._pending, *self._reboots]:
            task.cancel()
        acceptors = [a for a in (self._shared, *self._own.values()) if a is not None]
        for acceptor in acceptors:
            acceptor.close()
        for conns in self.connections.values():
            for conn in list(conns):
                conn.abort()
        for acceptor in acceptors:
            with contextlib.suppress(Exception):
                await acceptor.wait_closed()
        self._shared = None
        self._own.clear()

    async def __aenter__(self) -> LabServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- control ---------------------------------------------------------------------

    def set_down(self, name: str, down: bool) -> None:
        """Down: connects to the host are refused and its connections dropped. Up: it listens
        again at once (connects made now wait in the backlog until the acceptor is ready)."""
        model = self.models[name]
        if down:
            if name in self.down:
                return
            self.down.add(name)
            self._close_listener(name, model.host.address)
            self._drop_connections(name)
        else:
            if name not in self.down:
                return
            self.down.discard(name)
            sock = _bound_socket(model.host.address, self.port)
            task = asyncio.get_running_loop().create_task(self._adopt(name, sock))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    def reboot(self, name: str) -> None:
        """The host reboots: uptime and counters restart, open connections are dropped."""
        self.models[name].reboot()
        self._drop_connections(name)

    async def settle(self) -> None:
        """Wait until listeners re-opened by :meth:`set_down` are accepting."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    def addresses(self) -> dict[str, str]:
        return {h.name: h.address for h in self.hosts}

    # --- internals -------------------------------------------------------------------

    def _close_listener(self, name: str, address: str) -> None:
        own = self._own.pop(name, None)
        if own is not None:
            own.close()
            return
        if self._shared is None:
            return
        loop = asyncio.get_running_loop()
        for sock in self._shared.sockets:
            if sock.getsockname()[0] == address:
                # Stop this one socket of the shared acceptor: the loop forgets it and the
                # kernel refuses new connects.  The fd is closed with the acceptor.
                loop.remove_reader(sock.fileno())
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _drop_connections(self, name: str) -> None:
        for conn in list(self.connections[name]):
            conn.abort()
        self.connections[name].clear()

    async def _listen_one(
        self, name: str, sock: socket.socket | None = None
    ) -> asyncssh.SSHAcceptor:
        address = self.models[name].host.address
        if sock is None:
            sock = _bound_socket(address, self.port)
        return await asyncssh.listen(sock=sock, **self._options)

    async def _adopt(self, name: str, sock: socket.socket) -> None:
        try:
            acceptor = await self._listen_one(name, sock)
        except BaseException:
            sock.close()
            raise
        if name in self.down:  # went down again meanwhile
            acceptor.close()
        else:
            self._own[name] = acceptor

    async def _flap(self) -> None:
        assert self.flappy is not None
        name = self.flappy
        jitter = (stable_seed(name, "flap") % 1000) / 1000  # 0..1, stable per host
        up_time = max(1.0, self.flappy_period - self.flappy_downtime)
        while True:
            await asyncio.sleep(up_time * (0.85 + 0.3 * jitter))
            log.info("sim: %s goes down", name)
            self.set_down(name, True)
            await asyncio.sleep(self.flappy_downtime)
            self.reboot(name)
            self.set_down(name, False)
            await self.settle()
            log.info("sim: %s is back (rebooted)", name)

    async def _handle(self, process: asyncssh.SSHServerProcess) -> None:
        model = self.by_address.get(process.get_extra_info("sockname")[0])
        status = 0
        try:
            if model is None:
                status = 255
            elif process.command is not None and REFLECTOR_MARKER in process.command:
                await self._reflector(process, model)
            elif process.command is not None and commands.split(process.command) == REBOOT:
                self._reboot_soon(model.host.name)  # answers first, as systemd does
            elif process.command is not None:
                result = await commands.run(process.command, model, _username(process))
                if result.stdout:
                    process.stdout.write(result.stdout.encode())
                if result.stderr:
                    process.stderr.write(result.stderr.encode())
                status = result.status
            else:
                status = await self._shell(process, model)
        except (asyncssh.Error, ConnectionError, BrokenPipeError, asyncio.CancelledError):
            status = 255
        except Exception:  # a bug here must not take the whole lab down
            log.exception("sim: handler failed for %s", model.host.name if model else "?")
            status = 255
        with contextlib.suppress(Exception):
            process.exit(status)

    def _reboot_soon(self, name: str) -> None:
        """``systemctl reboot``: down a moment later, back ``reboot_downtime`` after that
        with its uptime started again (the scheduler's reboot step, issue 18)."""

        async def reboot() -> None:
            await asyncio.sleep(0.2)
            self.set_down(name, True)
            await asyncio.sleep(self.reboot_downtime)
            self.reboot(name)
            self.set_down(name, False)
            await self.settle()

        task = asyncio.get_running_loop().create_task(reboot())
        self._reboots.add(task)  # not _pending: settle() in it would wait on itself
        task.add_done_callback(self._reboots.discard)

    async def _reflector(self, process: asyncssh.SSHServerProcess, model: HostModel) -> None:
        stdin, stdout = process.stdin, process.stdout
        while True:
            line = await stdin.readline()
            if not line:
                return
            req = line[:-1] if line.endswith(b"\n") else line
            if req == b"s":
                stdout.write(model.fast_frame())
                self.frames += 1
            elif req == b"x":
                stdout.write(model.slow_frame())
                self.frames += 1
            elif req == b"q":
                return
            else:
                stdout.write(_UNKNOWN_FRAME)

    async def _shell(self, process: asyncssh.SSHServerProcess, model: HostModel) -> int:
        """A tiny line shell for interactive sessions (echoes when a pty was asked for)."""
        user = _username(process)
        prompt = f"{user}@{model.host.name}:~$ ".encode()
        tty = process.get_terminal_type() is not None
        nl = b"\r\n" if tty else b"\n"
        process.stdout.write(prompt)
        buf = b""
        while True:
            try:
                data = await process.stdin.read(4096)
            except asyncssh.TerminalSizeChanged:
                continue  # asyncssh raises it on read; `stty size` asks the channel instead
            if not data:
                return 0
            for byte in data:
                ch = bytes((byte,))
                if ch in (b"\r", b"\n"):
                    if tty:
                        process.stdout.write(b"\r\n")
                    line, buf = buf.decode(errors="replace"), b""
                    argv = commands.split(line)
                    if argv[:1] in (["exit"], ["logout"]):
                        return 0
                    if argv == ["stty", "size"] and tty:
                        # The pty's size as the client last set it, so a web terminal's resize
                        # can be seen from inside the session, as on a real host.
                        cols, rows = process.get_terminal_size()[:2]
                        result = commands.Result(0, f"{rows} {cols}\n")
                    else:
                        result = await commands.run(line, model, user)
                    out = (result.stdout + result.stderr).encode()
                    process.stdout.write(out.replace(b"\n", nl) if tty else out)
                    process.stdout.write(prompt)
                elif ch == b"\x04" and not buf:  # ^D
                    return 0
                elif ch in (b"\x7f", b"\x08"):
                    if buf:
                        buf = buf[:-1]
                        if tty:
                            process.stdout.write(b"\b \b")
                elif ch == b"\x03":  # ^C
                    buf = b""
                    process.stdout.write(b"^C" + nl + prompt)
                else:
                    buf += ch
                    if tty:
                        process.stdout.write(ch)


def _username(process: asyncssh.SSHServerProcess) -> str:
    return process.get_extra_info("username") or "mirror"


def _bound_socket(address: str, port: int) -> socket.socket:
    check_loopback(address)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _free_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((check_loopback(address), 0))
        return sock.getsockname()[1]

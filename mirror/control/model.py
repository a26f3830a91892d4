"""What a command run asks for and what it gives back, and the protocols the API calls.

The API never imports the poller: it is handed an object satisfying ``CommandRunner``
(``poller.commands.SshCommandRunner`` in ``mirror serve``), and tests may hand it a fake.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol, runtime_checkable

DEFAULT_TIMEOUT_S = 60.0
MAX_TIMEOUT_S = 24 * 3600.0
DEFAULT_CAP_BYTES = 64 * 1024  # kept per stream: the first half and the last half
DEFAULT_CONCURRENCY = 64

Stream = Literal["stdout", "stderr"]


class ResultState(StrEnum):
    OK = "ok"  # exited 0
    FAILED = "failed"  # exited non-zero or by a signal
    TIMEOUT = "timeout"  # stopped by EGO at the deadline
    CANCELLED = "cancelled"  # stopped by a user
    ERROR = "error"  # never ran: offline host, refused channel, sudo would prompt, …


@dataclass(frozen=True, slots=True)
class CommandRequest:
    command: str
    hosts: tuple[str, ...]
    timeout_s: float = DEFAULT_TIMEOUT_S
    sudo: bool = False
    cap_bytes: int = DEFAULT_CAP_BYTES
    concurrency: int = DEFAULT_CONCURRENCY


@dataclass(frozen=True, slots=True)
class OutputEvent:
    """A piece of a host's output as it arrived (UTF-8, undecodable bytes replaced)."""

    host: str
    stream: Stream
    text: str
    ts: float


@dataclass(frozen=True, slots=True)
class HostResult:
    host: str
    state: ResultState
    exit_status: int | None = None
    exit_signal: str | None = None
    duration_s: float = 0.0
    stdout: str = ""  # capped: head + marker + tail
    stderr: str = ""
    stdout_bytes: int = 0  # full sizes, whatever was kept
    stderr_bytes: int = 0
    truncated: bool = False
    error: str | None = None

    def summary(self) -> str:
        """One line for the audit log and the CLI's last line per host."""
        if self.state is ResultState.ERROR:
            return f"error: {self.error}"
        if self.state in (ResultState.TIMEOUT, ResultState.CANCELLED):
            return f"{self.state} after {self.duration_s:.1f} s"
        how = f"signal {self.exit_signal}" if self.exit_signal else f"exit {self.exit_status}"
        return f"{how} in {self.duration_s:.2f} s"


@dataclass(frozen=True, slots=True)
class TunnelInfo:
    id: str
    host: str
    listen_host: str
    listen_port: int
    dest_host: str
    dest_port: int
    opened_by: str
    opened_at: float
    connections: int = 0  # accepted so far
    active: int = 0  # open now
    bytes_to_host: int = 0
    bytes_from_host: int = 0
    state: Literal["open", "closed"] = "open"
    closed_at: float | None = None
    close_reason: str | None = None  # "closed by alice", "connection lost: …"
    allowed_from: tuple[str, ...] = ()  # networks whose clients may connect (tunnel_rules)
    refused: int = 0  # connections from anyone else, closed at once


@dataclass
class CancelToken:
    """Set by a user (or a closed client) to stop a run; checked by the runner."""

    event: asyncio.Event = field(default_factory=asyncio.Event)
    reason: str = "cancelled"

    def cancel(self, reason: str = "cancelled") -> None:
        self.reason = reason
        self.event.set()

    @property
    def cancelled(self) -> bool:
        return self.event.is_set()


class TerminalSession(Protocol):
    """An interactive PTY channel on a host's connection."""

    async def read(self) -> str:
        """Next output ('' once the shell has ended)."""
        ...

    def end_reason(self) -> str:
        """Once ``read`` gave '': "the shell ended", or "connection lost: …" when the
        host's connection died under the shell."""
        ...

    def write(self, text: str) -> None: ...

    def resize(self, cols: int, rows: int) -> None: ...

    async def close(self) -> None: ...


@runtime_checkable  # Litestar checks dependency values against their declared types
class CommandRunner(Protocol):
    """What EGO (or the CLI) offers the API for acting on hosts."""

    def host_names(self) -> set[str]: ...

    async def run(
        self,
        request: CommandRequest,
        on_output: Callable[[OutputEvent], None],
        cancel: CancelToken,
    ) -> list[HostResult]: ...

    async def open_terminal(self, host: str, cols: int, rows: int) -> TerminalSession: ...

    async def open_tunnel(
        self,
        host: str,
        dest_port: int,
        dest_host: str,
        listen_port: int,
        opened_by: str,
        allowed_from: tuple[str, ...] = (),
    ) -> TunnelInfo: ...

    def tunnels(self) -> list[TunnelInfo]: ...

    async def close_tunnel(self, tunnel_id: str, reason: str = "closed") -> TunnelInfo | None: ...

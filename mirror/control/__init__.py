"""Control: commands, actions, terminals and tunnels over the hosts' own SSH connections.

This package holds what the API and the CLI share without touching SSH: the request and
result types, the runner's protocol (``CommandRunner``; the poller implements it in
``poller/commands.py``), the wrapping of a command for a POSIX shell, the output cap, and
the named actions with their validated parameters.
"""

from mirror.control.model import (
    CancelToken,
    CommandRequest,
    CommandRunner,
    HostResult,
    OutputEvent,
    ResultState,
    TerminalSession,
    TunnelInfo,
)

__all__ = [
    "CancelToken",
    "CommandRequest",
    "CommandRunner",
    "HostResult",
    "OutputEvent",
    "ResultState",
    "TerminalSession",
    "TunnelInfo",
]

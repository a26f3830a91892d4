"""The one error tree of MIRROR STAGE.

Each class decides what the caller does next (see STYLE.md): a poll loop turns a
``CollectError`` into the host's state and keeps going; the CLI turns any of them
into a one-line message and a non-zero exit, never a traceback.
"""

from __future__ import annotations


class MirrorError(Exception):
    """Base of every error MIRROR STAGE raises on purpose."""


class ConfigError(MirrorError):
    """The inventory or settings are wrong; nothing was polled."""


class UsageError(ConfigError):
    """The command line itself is wrong (a malformed option value): the CLI exits 2, as
    argparse does for an unknown option or a missing argument."""


class CollectError(MirrorError):
    """Reading a host or device failed. ``state`` is what the host is marked as."""

    state = "error"


class Unreachable(CollectError):
    state = "unreachable"


class AuthFailed(CollectError):
    """Credentials refused; retried with a long backoff so a host's auth log is not hammered."""

    state = "auth-failed"


class HostKeyChanged(CollectError):
    """The host presented a key other than the recorded one: refuse to poll (possible MITM)."""

    state = "hostkey-changed"


class HostKeyUnknown(CollectError):
    """No key recorded for the host and trust-on-first-use is off for it."""

    state = "hostkey-unknown"


class Timeout(CollectError):
    state = "timeout"


class ParseError(CollectError):
    """The host answered, but not with what the parser expects (garbage, truncated output)."""

    state = "error"


class Unsupported(CollectError):
    """The target is of a kind EGO cannot read yet (a host OS without a host kind);
    retried slowly, as a retry in a few seconds cannot fix it."""

    state = "error"


class Unexpected(CollectError):
    """A poll raised something no one planned for (a bug): state ``error``, the traceback
    logged once; the original exception is its ``__cause__``."""

    state = "error"


class StorageError(MirrorError):
    """The database refused or is unreachable."""

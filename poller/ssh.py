"""Open one SSH connection to a host, verifying its key against EGO's own known_hosts.

Every asyncssh/OS error is mapped onto ``mirror.errors`` (by ``poller.health.classify``): the
poll loop only ever sees ``CollectError`` subclasses and turns them into host states.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import asyncssh

from mirror.errors import (
    AuthFailed,
    CollectError,
    ConfigError,
    HostKeyChanged,
    HostKeyUnknown,
    Unreachable,
)
from mirror.inventory import HostConfig, resolve_password
from poller.health import classify

log = logging.getLogger(__name__)

# Keepalives find a half-open connection (host powered off, cable pulled) within
# ~interval × count seconds instead of waiting for TCP to give up after minutes.
KEEPALIVE_INTERVAL_S = 15
KEEPALIVE_COUNT_MAX = 3

# AES-GCM before ChaCha20-Poly1305: both are OpenSSH defaults, but asyncssh's ChaCha
# costs ~51 µs per packet against ~8 µs for AES-GCM (bench on this machine), paid on
# every poll of every host; hosts with AES-NI also spend less. The rest stay as fallbacks.
PREFERRED_CIPHERS = (
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes256-ctr",
    "aes192-ctr",
    "aes128-ctr",
)


def known_hosts_pattern(host: str, port: int) -> str:
    """OpenSSH writes non-default ports as ``[host]:port``."""
    return host if port == 22 else f"[{host}]:{port}"


class KnownHosts:
    """EGO's known_hosts file (in the data directory, apart from the user's own).

    Parsed once and reused for every connection (1000 hosts reconnecting would
    otherwise parse the whole file 1000 times); re-read when the file changes on disk,
    e.g. after `mirror trust` in another process.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._parsed: asyncssh.SSHKnownHosts | None = None
        self._stamp: tuple[int, int] | None = None

    def ensure(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch(mode=0o600, exist_ok=True)

    def parsed(self) -> asyncssh.SSHKnownHosts:
        self.ensure()
        stat = self.path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        if self._parsed is None or stamp != self._stamp:
            self._parsed = asyncssh.import_known_hosts(self.path.read_text(encoding="ascii"))
            self._stamp = stamp
        return self._parsed

    def recorded_keys(self, host: str, port: int) -> list[asyncssh.SSHKey]:
        trusted, *_ = self.parsed().match(host, host, port)
        return list(trusted)

    def record(self, host: str, port: int, key: asyncssh.SSHKey) -> None:
        self.ensure()
        line = f"{known_hosts_pattern(host, port)} {key.export_public_key().decode().strip()}\n"
        with self.path.open("a", encoding="ascii") as f:
            f.write(line)

    def forget(self, host: str, port: int) -> int:
        """Drop every line for host:port (``mirror trust`` after a legitimate re-install)."""
        if not self.path.exists():
            return 0
        pattern = known_hosts_pattern(host, port)
        lines = self.path.read_text(encoding="ascii").splitlines(keepends=True)
        kept = [ln for ln in lines if pattern not in ln.split(" ", 1)[0].split(",")]
        self.path.write_text("".join(kept), encoding="ascii")
        return len(lines) - len(kept)


class _FirstUseClient(asyncssh.SSHClient):
    """asyncssh asks this only for a key that is not in known_hosts: record it on first
    contact when the inventory allows it; never when another key is recorded."""

    def __init__(self, known_hosts: KnownHosts, host_name: str, allow: bool) -> None:
        self._known_hosts = known_hosts
        self._host_name = host_name
        self._allow = allow

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        if not self._allow or self._known_hosts.recorded_keys(host, port):
            return False
        self._known_hosts.record(host, port, key)
        log.warning(
            "%s: recorded host key %s on first use", self._host_name, key.get_fingerprint("sha256")
        )
        return True


def _target(host: HostConfig) -> tuple[str, int | tuple[()]]:
    """Host name and port to dial; a ``config_host`` alias lets ~/.ssh/config decide."""
    ssh = host.ssh
    assert ssh is not None
    if ssh.config_host:
        # The alias's HostName/Port/User/IdentityFile in ~/.ssh/config win (documented).
        return ssh.config_host, ()
    return host.address, ssh.port


def connect_options(host: HostConfig) -> tuple[str, int, dict[str, object]]:
    """Where to dial (host, port of its key) and asyncssh's options for it, host keys aside."""
    ssh = host.ssh
    if ssh is None:
        raise ConfigError(f"{host.name}: no ssh settings")
    dial_host, port = _target(host)
    key_port = port if isinstance(port, int) else 22
    options: dict[str, object] = {
        "connect_timeout": ssh.connect_timeout_s,
        "login_timeout": ssh.connect_timeout_s,
        "keepalive_interval": KEEPALIVE_INTERVAL_S,
        "keepalive_count_max": KEEPALIVE_COUNT_MAX,
        # Only what the inventory names: never fall back to asking for input.
        "kbdint_auth": False,
        "gss_auth": False,
        "encryption_algs": PREFERRED_CIPHERS,
    }
    if port != ():
        options["port"] = port
    if ssh.user and not ssh.config_host:
        options["username"] = ssh.user
    if ssh.key_file:
        options["client_keys"] = [str(ssh.key_file)]
    if not ssh.agent:
        options["agent_path"] = None
    password = resolve_password(ssh)
    if password is not None:
        options["password"] = password
    else:
        options["password_auth"] = False
    return dial_host, key_port, options


async def connect(host: HostConfig, known_hosts: KnownHosts) -> asyncssh.SSHClientConnection:
    """Connect and authenticate, or raise a ``CollectError`` saying why not."""
    dial_host, key_port, options = connect_options(host)
    ssh = host.ssh
    assert ssh is not None
    known_hosts.ensure()
    options["known_hosts"] = known_hosts.parsed()
    try:
        return await asyncssh.connect(
            dial_host,
            client_factory=lambda: _FirstUseClient(known_hosts, host.name, ssh.trust_on_first_use),
            **options,
        )
    except asyncssh.HostKeyNotVerifiable as exc:
        if known_hosts.recorded_keys(dial_host, key_port):
            raise HostKeyChanged(
                f"host key of {dial_host}:{key_port} differs from the one recorded in "
                f"{known_hosts.path}; polling refused. If the host was re-installed, "
                f"run `mirror trust {host.name}`"
            ) from exc
        raise HostKeyUnknown(
            f"no host key recorded for {dial_host}:{key_port}; run "
            f"`mirror trust {host.name}` or set ssh.trust_on_first_use for it"
        ) from exc
    except asyncssh.PermissionDenied as exc:
        raise AuthFailed(f"authentication refused for user {ssh.user!r}: {exc.reason}") from exc
    except (asyncssh.Error, OSError, TimeoutError) as exc:
        raise map_error(exc) from exc


async def trust_first_use(host: HostConfig, known_hosts: KnownHosts) -> asyncssh.SSHKey:
    """Fetch the host's key and record it (the inventory allowed TOFU, or the owner asked)."""
    dial_host, port = _target(host)
    key_port = port if isinstance(port, int) else 22
    try:
        key = await asyncio.wait_for(
            asyncssh.get_server_host_key(dial_host, key_port),
            timeout=host.ssh.connect_timeout_s if host.ssh else 5,
        )
    except (TimeoutError, asyncssh.Error, OSError) as exc:
        raise map_error(exc) from exc
    if key is None:
        raise Unreachable(f"{dial_host}:{key_port} sent no host key")
    known_hosts.record(dial_host, key_port, key)
    log.warning("%s: recorded host key %s on first use", host.name, key.get_fingerprint("sha256"))
    return key


def map_error(exc: BaseException) -> CollectError:
    """A transport error as a host state: ``poller.health.classify``, the one mapping."""
    return classify(exc)


async def close_quietly(conn: asyncssh.SSHClientConnection | None) -> None:
    if conn is None:
        return
    conn.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(conn.wait_closed(), timeout=2)

"""Settings read once from the environment (12-factor), with defaults that need no setup.

Storage tiers (issue 3) keep data for a duration each; durations are a number and a unit
(``s m h d w y``): ``MIRROR_RETENTION_RAW`` (default ``48h``), ``MIRROR_RETENTION_1M``
(``30d``), ``MIRROR_RETENTION_1H`` (``730d``, two years), and ``MIRROR_COMPRESS_AFTER``
(``6h``: TimescaleDB only, the age after which raw chunks are compressed). Stored command
results (issue 6) are kept ``MIRROR_RETENTION_COMMANDS`` (``90d``); the audit log is never
trimmed. ``MIRROR_AUDIT_KEYSTROKES=1`` records what operators type into web terminals.
``MIRROR_INVENTORY_WATCH_S`` (default 3, 0 = off) is how often a running EGO checks the
inventory file for changes to reload. ``MIRROR_BACKUP_KEEP`` (default 7, 0 = off) is how
many daily backups (``mirror db backup``) a running EGO keeps in ``DATA_DIR/backups``.

``MIRROR_AUDIT_KEY_FILE`` and ``MIRROR_AUDIT_SEAL_FILE`` (default ``audit.key`` and
``audit.seals`` in the data directory) seal the audit log outside the database.

``MIRROR_TRUSTED_PROXIES`` (default: none) lists the reverse proxies whose
``X-Forwarded-For`` is believed; from anyone else the header is ignored.

``MIRROR_TUNNEL_BIND`` (default ``127.0.0.2``) is the address tunnels listen on: never EGO's
own (``MIRROR_BIND``), because browsers send a host's cookies to every port of it, so a
device page reached through a tunnel on EGO's address would get EGO's session cookie.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path

from mirror.audit_seal import AuditSeal
from mirror.errors import ConfigError

# Tunnels listen here (README "Security"): a loopback address of its own, never EGO's.
DEFAULT_TUNNEL_BIND = "127.0.0.2"


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    inventory_path: Path
    bind_host: str
    bind_port: int
    retention_raw_s: float = 48 * 3600.0
    retention_1m_s: float = 30 * 86400.0
    retention_1h_s: float = 730 * 86400.0
    compress_after_s: float = 6 * 3600.0
    retention_commands_s: float = 90 * 86400.0
    audit_keystrokes: bool = False
    backup_keep: int = 7  # daily backups kept in backup_dir; 0: no daily backup
    inventory_watch_s: float = 3.0  # how often `mirror serve` checks the inventory file; 0: never
    # `mirror demo`: a reload may only bring 127.x addresses (mirror/inventory/loopback.py).
    loopback_only: bool = False
    tunnel_bind: str = DEFAULT_TUNNEL_BIND
    # Proxies whose X-Forwarded-For EGO believes (addresses or networks); none by default.
    trusted_proxies: tuple[str, ...] = ()
    # The audit log's seals (mirror/audit_seal.py): None = in data_dir.
    audit_key_file: Path | None = None
    audit_seal_file: Path | None = None
    # HTTPS (mirror/tls.py): "auto" = when bound beyond loopback, "on", "off" (plain HTTP).
    tls_mode: str = "auto"
    tls_cert_file: Path | None = None  # the owner's certificate and key; None: EGO's own CA
    tls_key_file: Path | None = None
    tls_names: tuple[str, ...] = ()  # extra names/addresses for EGO's own certificate

    @property
    def https(self) -> bool:
        """Whether EGO serves HTTPS: beyond loopback unless the owner opted out."""
        if self.tls_mode != "auto":
            return self.tls_mode == "on"
        return not is_loopback(self.bind_host)

    @property
    def tls_dir(self) -> Path:
        return self.data_dir / "tls"

    @property
    def backup_dir(self) -> Path:
        return self.data_dir / "backups"

    @property
    def known_hosts_path(self) -> Path:
        return self.data_dir / "known_hosts"

    def audit_seal(self) -> AuditSeal:
        """Where the audit log's key and seals live: outside the database."""
        return AuditSeal(
            self.audit_key_file or self.data_dir / "audit.key",
            self.audit_seal_file or self.data_dir / "audit.seals",
        )

    @staticmethod
    def redacted_url(url: str) -> str:
        """The database URL with any password masked, for messages and logs."""
        from sqlalchemy.engine import make_url

        try:
            return make_url(url).render_as_string(hide_password=True)
        except Exception:  # an unparsable URL still must not leak what follows "://"
            return url.split("://", 1)[0] + "://…"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(
            env.get("MIRROR_DATA_DIR") or Path.home() / ".local" / "share" / "mirror-stage"
        ).expanduser()
        database_url = env.get("MIRROR_DATABASE_URL") or f"sqlite:///{data_dir / 'mirror.db'}"
        port = env.get("MIRROR_PORT", "8077")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"MIRROR_PORT must be a port number 1-65535, got {port!r}")
        bind_host = env.get("MIRROR_BIND", "127.0.0.1")
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            inventory_path=Path(env.get("MIRROR_INVENTORY", "inventory.yaml")).expanduser(),
            bind_host=bind_host,
            bind_port=int(port),
            retention_raw_s=_duration(env, "MIRROR_RETENTION_RAW", "48h"),
            retention_1m_s=_duration(env, "MIRROR_RETENTION_1M", "30d"),
            retention_1h_s=_duration(env, "MIRROR_RETENTION_1H", "730d"),
            compress_after_s=_duration(env, "MIRROR_COMPRESS_AFTER", "6h"),
            retention_commands_s=_duration(env, "MIRROR_RETENTION_COMMANDS", "90d"),
            audit_keystrokes=_flag(env, "MIRROR_AUDIT_KEYSTROKES"),
            inventory_watch_s=_seconds(env, "MIRROR_INVENTORY_WATCH_S", 3.0),
            backup_keep=_count(env, "MIRROR_BACKUP_KEEP", 7),
            trusted_proxies=_networks(env, "MIRROR_TRUSTED_PROXIES"),
            audit_key_file=_path(env, "MIRROR_AUDIT_KEY_FILE"),
            audit_seal_file=_path(env, "MIRROR_AUDIT_SEAL_FILE"),
            tunnel_bind=tunnel_bind(
                env.get("MIRROR_TUNNEL_BIND") or DEFAULT_TUNNEL_BIND, bind_host
            ),
            **_tls(env),
        )


def is_loopback(host: str) -> bool:
    """``localhost`` or a 127.x / ::1 address; a name or a wildcard is not."""
    host = host.strip().strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _tls(env: dict[str, str]) -> dict[str, object]:
    """``MIRROR_TLS`` (auto/on/off), ``MIRROR_TLS_CERT_FILE`` + ``MIRROR_TLS_KEY_FILE``,
    ``MIRROR_TLS_NAMES``."""
    mode = env.get("MIRROR_TLS", "").strip().lower() or "auto"
    mode = {"1": "on", "true": "on", "yes": "on", "0": "off", "false": "off", "no": "off"}.get(
        mode, mode
    )
    if mode not in ("auto", "on", "off"):
        raise ConfigError(
            f"MIRROR_TLS must be auto (HTTPS beyond loopback), on or off, got {mode!r}"
        )
    cert, key = _path(env, "MIRROR_TLS_CERT_FILE"), _path(env, "MIRROR_TLS_KEY_FILE")
    if (cert is None) != (key is None):
        raise ConfigError("MIRROR_TLS_CERT_FILE and MIRROR_TLS_KEY_FILE go together: set both")
    names = tuple(n.strip() for n in env.get("MIRROR_TLS_NAMES", "").split(",") if n.strip())
    return {"tls_mode": mode, "tls_cert_file": cert, "tls_key_file": key, "tls_names": names}


def tunnel_bind(address: str, ego_bind: str) -> str:
    """Where tunnels may listen: an IP address (not a name) that is not EGO's own address
    nor a wildcard that includes it, so no browser ever sends EGO's cookie to a tunnel."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        raise ConfigError(
            f"MIRROR_TUNNEL_BIND must be an IP address (default {DEFAULT_TUNNEL_BIND}), "
            f"got {address!r}"
        ) from None
    if ip.is_unspecified:
        raise ConfigError(
            f"MIRROR_TUNNEL_BIND={address} would include EGO's own address: a device page "
            "reached through a tunnel would get EGO's session cookie. Name one address."
        )
    ego = "127.0.0.1" if ego_bind.strip() == "localhost" else ego_bind.strip()
    if str(ip) == ego:
        raise ConfigError(
            f"MIRROR_TUNNEL_BIND={address} is EGO's own address (MIRROR_BIND): browsers send "
            "a host's cookies to all its ports, so a device page reached through a tunnel "
            f"would get EGO's session cookie. Use another address (default {DEFAULT_TUNNEL_BIND})."
        )
    return str(ip)


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdwy])$")
_DURATION_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 365 * 86400}


def parse_duration(text: str) -> float:
    """Seconds in ``"48h"``, ``"30d"``, ``"2y"``…; ``ValueError`` naming the forms otherwise."""
    match = _DURATION.match(text.strip().lower())
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a duration such as 90m, 48h, 30d, 2y")
    return float(match.group(1)) * _DURATION_UNIT_S[match.group(2)]


def _duration(env: dict[str, str], name: str, default: str) -> float:
    try:
        return parse_duration(env.get(name) or default)
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def _flag(env: dict[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be 1 or 0 (true/false, yes/no, on/off), got {value!r}")


def _count(env: dict[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) > 10_000:
        raise ConfigError(f"{name} must be a whole number 0-10000, got {text!r}")
    return int(text)


def _path(env: dict[str, str], name: str) -> Path | None:
    value = env.get(name, "").strip()
    return Path(value).expanduser() if value else None


def _networks(env: dict[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated IP addresses or networks (``127.0.0.1, 10.0.0.0/24``)."""
    found = []
    for item in env.get(name, "").split(","):
        if not item.strip():
            continue
        try:
            found.append(str(ipaddress.ip_network(item.strip(), strict=False)))
        except ValueError:
            raise ConfigError(
                f"{name} must list IP addresses or networks (a,b/24), got {item.strip()!r}"
            ) from None
    return tuple(found)


def _seconds(env: dict[str, str], name: str, default: float) -> float:
    """A plain number of seconds, 0 for off."""
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 86400:
        raise ConfigError(f"{name} must be a number of seconds (0 turns it off), got {text!r}")
    return value

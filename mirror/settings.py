"""Settings read once from the environment (12-factor), with defaults that need no setup."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mirror.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    inventory_path: Path
    bind_host: str
    bind_port: int

    @property
    def known_hosts_path(self) -> Path:
        return self.data_dir / "known_hosts"

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
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            inventory_path=Path(env.get("MIRROR_INVENTORY", "inventory.yaml")).expanduser(),
            bind_host=env.get("MIRROR_BIND", "127.0.0.1"),
            bind_port=int(port),
        )

"""An API token kept in a file (``--token-file``, ``MIRROR_TOKEN_FILE``, the MQTT buttons'
``MIRROR_MQTT_BUTTON_TOKEN_FILE``): refused when others may read it, as ssh refuses a key."""

from __future__ import annotations

import stat
from pathlib import Path

from mirror.errors import ConfigError


def read_token_file(path: Path) -> str:
    try:
        info = path.stat()
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"token file {path} may be read by others: `chmod 600 {path}` (it is a password)"
            )
        secret = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"token file {path}: {exc.strerror or exc}") from None
    if not secret or len(secret.split()) != 1:
        raise ConfigError(f"token file {path}: expected one token (mst_…) and nothing else")
    return secret

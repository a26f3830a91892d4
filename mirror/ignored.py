"""Discovered addresses an admin chose to ignore (the discovered page's "ignore").

Kept in one small JSON file in the data directory (``discovery_ignored.json``), not in
``inventory.yaml``: it says nothing about the lab, only what the owner does not want listed
again. Written atomically (beside it, then renamed); a missing or unreadable file is an empty
list, and an unreadable one is never overwritten silently: ``add`` and ``remove`` raise.
"""

from __future__ import annotations

import ipaddress
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from mirror.errors import ConfigError

FILE_NAME = "discovery_ignored.json"


class IgnoredAddresses:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def load(self) -> dict[str, dict[str, Any]]:
        """address -> {"by": who, "at": unix seconds}."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{self.path}: cannot read the ignored addresses: {exc}") from None
        return {str(k): dict(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def add(self, address: str, by: str) -> dict[str, Any]:
        ip = str(ipaddress.ip_address(address))
        with self._lock:
            entries = self.load()
            entries[ip] = {"by": by, "at": time.time()}
            self._write(entries)
        return entries[ip]

    def remove(self, address: str) -> bool:
        ip = str(ipaddress.ip_address(address))
        with self._lock:
            entries = self.load()
            found = entries.pop(ip, None) is not None
            if found:
                self._write(entries)
        return found

    def _write(self, entries: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(entries, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

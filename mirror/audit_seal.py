"""Keyed seals over the audit chain, kept outside the database.

The hash chain alone (``mirror.audit``) is recomputable by anyone who can write to the
database: drop the triggers, edit a row, rehash everything after it, and ``verify`` passes;
delete the newest entries and nothing is left to disagree. A seal closes both gaps. After
each append EGO writes one line to the seal file (``MIRROR_AUDIT_SEAL_FILE``, default
``$MIRROR_DATA_DIR/audit.seals``)::

    <entry id> <TAB> <that entry's hash> <TAB> HMAC-SHA256(key, "<id>:<hash>")

with a key from ``MIRROR_AUDIT_KEY_FILE`` (default ``$MIRROR_DATA_DIR/audit.key``, made
with mode 0600 on first use) that is never stored in the database. ``verify`` then checks
each seal's HMAC and that the chain still has that entry with that hash, and that the chain
reaches the newest seal. Someone who can write to the database but cannot read the key
cannot forge a seal for a rewritten chain, and cannot remove the newest entries unnoticed.

What it does not prove: anything about someone who can read the key file (keep it readable
by EGO's user only, or on other storage), or who can also truncate the seal file (make it
append-only, ``chattr +a``, or ship its lines elsewhere as they are written).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mirror.errors import ConfigError

KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class Seal:
    entry_id: int
    entry_hash: str
    mac: str


@dataclass(frozen=True, slots=True)
class SealReport:
    ok: bool
    checked: int
    reason: str | None = None


def _mac(key: bytes, entry_id: int, entry_hash: str) -> str:
    return hmac.new(key, f"{entry_id}:{entry_hash}".encode(), hashlib.sha256).hexdigest()


class AuditSeal:
    def __init__(self, key_file: Path, seal_file: Path) -> None:
        self.key_file = key_file
        self.seal_file = seal_file
        self._key: bytes | None = None

    def key(self, *, create: bool = True) -> bytes:
        if self._key is not None:
            return self._key
        if not self.key_file.exists() and create:
            self.key_file.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process made it first: read theirs
            else:
                with os.fdopen(fd, "w") as out:
                    out.write(secrets.token_hex(KEY_BYTES) + "\n")
        try:
            text = self.key_file.read_text().strip()
            self._key = bytes.fromhex(text)
        except FileNotFoundError:
            raise ConfigError(
                f"audit key {self.key_file} is missing: the seals cannot be checked"
            ) from None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"audit key {self.key_file}: unreadable ({exc})") from None
        if len(self._key) < 16:
            raise ConfigError(f"audit key {self.key_file}: too short")
        return self._key

    def seal(self, entry_id: int, entry_hash: str) -> None:
        """Append one seal (one short line: O_APPEND keeps concurrent writers' lines whole)."""
        line = f"{entry_id}\t{entry_hash}\t{_mac(self.key(), entry_id, entry_hash)}\n"
        self.seal_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.seal_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def seals(self) -> Iterator[Seal | None]:
        """The seal file's lines; None for a line that is not a seal."""
        if not self.seal_file.exists():
            return
        with self.seal_file.open() as lines:
            for line in lines:
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 3 or not parts[0].isdigit():
                    yield None
                    continue
                yield Seal(int(parts[0]), parts[1], parts[2])

    def check(self, chain: dict[int, str], head_id: int) -> SealReport:
        """Every seal genuine and matching ``chain`` (id -> hash), none past ``head_id``."""
        if not self.seal_file.exists():
            return SealReport(True, 0)
        key = self.key(create=False)
        return check_seals(key, self.seals(), chain, head_id)


def check_seals(
    key: bytes, seals: Iterable[Seal | None], chain: dict[int, str], head_id: int
) -> SealReport:
    """Pure: the seals against the chain's hashes."""
    checked, newest = 0, 0
    for number, seal in enumerate(seals, 1):
        if seal is None:
            return SealReport(False, checked, f"seal line {number} is not a seal")
        if not hmac.compare_digest(seal.mac, _mac(key, seal.entry_id, seal.entry_hash)):
            return SealReport(False, checked, f"seal line {number} is forged (wrong key)")
        newest = max(newest, seal.entry_id)
        if seal.entry_id <= head_id:
            if chain.get(seal.entry_id) != seal.entry_hash:
                return SealReport(
                    False,
                    checked,
                    f"entry {seal.entry_id} is not the one sealed: the chain was rewritten",
                )
            checked += 1
    if newest > head_id:
        gone = f"{head_id + 1}" if newest == head_id + 1 else f"{head_id + 1}-{newest}"
        return SealReport(
            False, checked, f"entries {gone} are gone: the log once reached entry {newest}"
        )
    return SealReport(True, checked)

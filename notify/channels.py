"""One notification channel: an Apprise URL behind an env var or a file.

The URL carries tokens (a Telegram bot token, an SMTP password), so it is resolved at send
time, used, and dropped: never stored, logged or returned. Errors name the channel, never
the URL.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

import apprise

from mirror.alerts.config import ChannelEntry
from mirror.errors import ConfigError, MirrorError
from mirror.inventory.models import SecretRef, resolve_secret

# Apprise logs each failure with the service's own wording; the dispatcher records the
# failure itself, once, without the URL.
logging.getLogger("apprise").setLevel(logging.CRITICAL)


class SendError(MirrorError):
    """A channel refused, failed or timed out; the message says which, never the URL."""


@dataclass(frozen=True, slots=True)
class Channel:
    name: str
    ref: SecretRef
    rate_per_min: int = 20
    timeout_s: float = 10.0

    @classmethod
    def from_entry(cls, name: str, entry: ChannelEntry, base_dir: Path | None) -> Channel:
        path = None
        if entry.url_file is not None:
            path = Path(entry.url_file).expanduser()
            if base_dir is not None and not path.is_absolute():
                path = base_dir / path
        return cls(name, SecretRef(entry.url_env, path), entry.rate_per_min, entry.timeout_s)


def _url(channel: Channel) -> str:
    try:
        return resolve_secret(channel.ref, "url")
    except ConfigError as e:
        raise SendError(f"channel {channel.name}: {e}") from None


def _deliver(url: str, title: str, body: str, name: str) -> None:
    box = apprise.Apprise()
    if not box.add(url):
        raise SendError(f"channel {name}: Apprise does not understand its URL")
    if not box.notify(title=title, body=body):
        raise SendError(f"channel {name}: the service refused or could not be reached")


async def send(channel: Channel, title: str, body: str) -> None:
    """Deliver one message or raise ``SendError``; at most ``timeout_s``."""
    url = _url(channel)
    try:
        await asyncio.wait_for(
            asyncio.to_thread(_deliver, url, title, body, channel.name), channel.timeout_s
        )
    except TimeoutError:
        raise SendError(f"channel {channel.name}: no answer in {channel.timeout_s:g} s") from None

"""Web Push (RFC 8030/8291/8292) to the browsers that subscribed, through pywebpush.

The VAPID key pair is made on first start (``vapid_private.pem`` in the data directory,
mode 0600) and its public half is what a page subscribes with. A route sends to every
subscribed browser by naming the channel ``webpush``. A subscription the push service
says is gone (404/410) is dropped.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from mirror.alerts.push import PushSubscriptions, Subscription
from notify.channels import SendError

log = logging.getLogger(__name__)
CHANNEL = "webpush"  # the name routes use


def load_or_create_vapid(path: Path) -> Vapid:
    path = Path(path)
    if path.is_file():
        return Vapid.from_file(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    vapid = Vapid()
    vapid.generate_keys()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(vapid.private_pem())
    return vapid


def public_key(vapid: Vapid) -> str:
    """The applicationServerKey a page subscribes with (base64url, no padding)."""
    raw = vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class WebPusher:
    def __init__(
        self,
        subscriptions: PushSubscriptions,
        vapid: Vapid,
        subject: str = "mailto:mirror-stage@localhost",
        timeout_s: float = 10.0,
    ) -> None:
        self.subscriptions = subscriptions
        self.vapid = vapid
        self.subject = subject
        self.timeout_s = timeout_s

    @property
    def public_key(self) -> str:
        return public_key(self.vapid)

    def _push(self, sub: Subscription, payload: str) -> None:
        try:
            webpush(
                sub.info(),
                payload,
                vapid_private_key=self.vapid,
                vapid_claims={"sub": self.subject},
                timeout=self.timeout_s,
                ttl=3600,
            )
        except WebPushException as e:
            status = e.response.status_code if e.response is not None else None
            if status in (404, 410):
                self.subscriptions.remove(sub.endpoint)
                log.info("push subscription of %s is gone (HTTP %s): dropped", sub.user, status)
                return
            raise SendError(f"web push to {sub.user}'s browser: HTTP {status}") from None
        except OSError as e:  # requests' ConnectionError, timeouts
            raise SendError(f"web push to {sub.user}'s browser: {type(e).__name__}") from None

    async def push_all(self, title: str, body: str, url: str = "/#/alerts") -> None:
        """One message to every subscribed browser; SendError if any push failed."""
        subs = await asyncio.to_thread(self.subscriptions.all)
        payload = json.dumps({"title": title, "body": body[:3000], "url": url})
        failed = []
        for sub in subs:
            try:
                await asyncio.to_thread(self._push, sub, payload)
            except SendError as e:
                failed.append(str(e))
        if failed:
            raise SendError("; ".join(failed))

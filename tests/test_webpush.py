"""Web Push, the sending side: pushed to an endpoint on loopback that decrypts the payload
with the subscription's own keys (RFC 8291), as a browser's push service would hand it on."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import http_ece
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mirror.alerts.push import PushSubscriptions
from mirror.storage import Store
from notify.channels import SendError
from notify.webpush import WebPusher, load_or_create_vapid, public_key
from tests.support.receivers import http_receiver


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture
def subs(tmp_path: Path) -> PushSubscriptions:
    store = Store.open(f"sqlite:///{tmp_path / 'm.db'}")
    store.upgrade()
    return PushSubscriptions(store.engine)


def test_vapid_keys_are_made_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "vapid_private.pem"
    first = load_or_create_vapid(path)
    assert path.stat().st_mode & 0o777 == 0o600
    again = load_or_create_vapid(path)
    assert public_key(first) == public_key(again)
    assert len(base64.urlsafe_b64decode(public_key(first) + "==")) == 65  # uncompressed P-256


async def test_a_push_arrives_encrypted_for_that_browser_only(
    tmp_path: Path, subs: PushSubscriptions
) -> None:
    browser_key = ec.generate_private_key(ec.SECP256R1())
    p256dh = browser_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    auth = b"0123456789abcdef"
    vapid = load_or_create_vapid(tmp_path / "vapid_private.pem")
    pusher = WebPusher(subs, vapid)
    with http_receiver() as push_service:
        push_service.ok_status = 201
        endpoint = f"http://127.0.0.1:{push_service.port}/push/abc"
        subs.add("ana", endpoint, _b64(p256dh), _b64(auth))
        assert subs.listing() == [{"id": 1, "user": "ana"}]  # no endpoint, no keys
        await pusher.push_all("MIRROR STAGE: 1 firing", "host-down on nas", "/#/host/nas")
        [got] = push_service.got
        assert got.path == "/push/abc"
        assert got.headers["content-encoding"] == "aes128gcm"
        assert got.headers["authorization"].startswith("vapid t=")
        assert f"k={pusher.public_key}" in got.headers["authorization"]
        assert b"host-down" not in got.body  # encrypted on the wire
        plain = http_ece.decrypt(got.body, private_key=browser_key, auth_secret=auth)
        assert json.loads(plain) == {
            "title": "MIRROR STAGE: 1 firing",
            "body": "host-down on nas",
            "url": "/#/host/nas",
        }
        # The push service says the subscription is gone: dropped, no error.
        push_service.status = 410
        await pusher.push_all("t", "b")
        assert subs.all() == []
        subs.add("ana", endpoint, _b64(p256dh), _b64(auth))
        push_service.status = 500
        with pytest.raises(SendError, match="web push to ana's browser: HTTP 500"):
            await pusher.push_all("t", "b")
        assert len(subs.all()) == 1
    with pytest.raises(ValueError, match="http"):
        subs.add("ana", "file:///etc/passwd", "x", "y")

"""Web Push subscriptions of the browsers that asked for alert notifications.

A subscription is the push service's endpoint and the browser's keys (RFC 8291); it is
stored so that EGO can push while no page is open, and never returned by the API (a list
says only who subscribed and when). Sending is notify/webpush.py's job.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from mirror.storage.schema import metadata

push_subscriptions = sa.Table(
    "push_subscriptions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_name", sa.String(128), nullable=False),
    sa.Column("endpoint", sa.Text, nullable=False),
    sa.Column("p256dh", sa.String(256), nullable=False),
    sa.Column("auth", sa.String(64), nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("endpoint", name="uq_push_subscriptions_endpoint"),
)


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    user: str
    endpoint: str
    p256dh: str
    auth: str

    def info(self) -> dict[str, object]:
        """As pywebpush wants it (the browser's PushSubscription.toJSON())."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


class PushSubscriptions:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, user: str, endpoint: str, p256dh: str, auth: str) -> int:
        if not endpoint.startswith(("https://", "http://")):
            raise ValueError("a push endpoint is an http(s) URL")
        if not p256dh or not auth:
            raise ValueError("a push subscription needs keys.p256dh and keys.auth")
        with self._engine.begin() as conn:
            conn.execute(
                sa.delete(push_subscriptions).where(push_subscriptions.c.endpoint == endpoint)
            )
            row = {
                "user_name": user,
                "endpoint": endpoint,
                "p256dh": p256dh,
                "auth": auth,
                "created_ms": round(time.time() * 1000),
            }
            insert = sa.insert(push_subscriptions).values(row).returning(push_subscriptions.c.id)
            return conn.execute(insert).scalar_one()

    def remove(self, endpoint: str) -> int:
        with self._engine.begin() as conn:
            query = sa.delete(push_subscriptions).where(push_subscriptions.c.endpoint == endpoint)
            return conn.execute(query).rowcount

    def all(self) -> list[Subscription]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(push_subscriptions).order_by(push_subscriptions.c.id))
            return [Subscription(r.id, r.user_name, r.endpoint, r.p256dh, r.auth) for r in rows]

    def listing(self) -> list[dict[str, object]]:
        """Who subscribed (never the endpoint or keys)."""
        return [{"id": s.id, "user": s.user} for s in self.all()]

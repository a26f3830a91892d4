"""Alerts over HTTP: thin controllers over :class:`mirror.alerts.service.AlertService`.

Anyone signed in reads; acknowledging and silencing need role operator (or admin); rule
edits and channel tests need admin. Channel URLs are never in an answer: a channel is its
name and its status.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.admin import require_admin
from api.control import require_operate
from api.errors import ApiError, BadRequest, NotFound
from api.inventory_admin import Unprocessable
from mirror.alerts.history import NoSuchAlert
from mirror.alerts.service import AlertService
from mirror.auth import Identity
from mirror.errors import MirrorError
from mirror.inventory import InventoryError
from mirror.settings import parse_duration


class NoAlerts(ApiError):
    status_code = 503


class AckRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    comment: str = ""


class SilenceRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    matchers: dict[str, str]
    duration: str  # "2h", "7d"
    comment: str
    weekly: dict[str, Any] | None = None  # {"days": ["sat"], "start": "02:00", "duration_s": 7200}


class PushKeys(msgspec.Struct, kw_only=True):
    p256dh: str
    auth: str


class PushSubscription(msgspec.Struct, kw_only=True):
    """The browser's PushSubscription.toJSON() (expirationTime and the like ignored)."""

    endpoint: str
    keys: PushKeys


class PushEndpoint(msgspec.Struct, kw_only=True):
    endpoint: str


def _push(alerts: AlertService | None) -> tuple[Any, str]:
    push = _service(alerts).push
    if push is None:
        raise NoAlerts("Web Push is sent by the running EGO: run `mirror serve`")
    return push


def _service(alerts: AlertService | None) -> AlertService:
    if alerts is None:
        raise NoAlerts("alerts are evaluated by the running EGO: run `mirror serve`")
    return alerts


class AlertsController(Controller):
    path = "/api/alerts"
    tags = ["alerts"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @get("/")
    async def list_alerts(
        self,
        alerts: NamedDependency[AlertService | None],
        which: Annotated[str, QueryParameter(name="state")] = "active",
        host: FromQuery[str | None] = None,
        limit: FromQuery[int] = 200,
    ) -> list[dict[str, Any]]:
        """``state``: active (pending and firing), history (resolved) or all."""
        if which not in ("active", "history", "all"):
            raise BadRequest(f"state must be active, history or all, got {which!r}")
        if not 1 <= limit <= 5000:
            raise BadRequest(f"limit must be 1-5000, got {limit}")
        return await _service(alerts).list(which, host, limit)

    @get("/summary")
    async def summary(self, alerts: NamedDependency[AlertService | None]) -> dict[str, int]:
        """Counts for the badge: firing, pending, and firing by severity."""
        return _service(alerts).summary()

    @post("/{alert_id:int}/ack", guards=[require_operate], status_code=200)
    async def ack(
        self,
        request: Request[Identity, Any, Any],
        alert_id: FromPath[int],
        data: JSONBody[AckRequest],
        alerts: NamedDependency[AlertService | None],
    ) -> dict[str, Any]:
        try:
            return await _service(alerts).ack(
                alert_id, request.user.name, request.user.via, data.comment
            )
        except NoSuchAlert as e:
            raise NotFound(str(e)) from None

    @get("/silences")
    async def silences(
        self, alerts: NamedDependency[AlertService | None], expired: FromQuery[bool] = False
    ) -> list[dict[str, Any]]:
        return await _service(alerts).silences(expired)

    @post("/silences", guards=[require_operate], status_code=201)
    async def add_silence(
        self,
        request: Request[Identity, Any, Any],
        data: JSONBody[SilenceRequest],
        alerts: NamedDependency[AlertService | None],
    ) -> dict[str, Any]:
        try:
            duration_s = parse_duration(data.duration)
            return await _service(alerts).silence(
                data.matchers, duration_s, request.user.name, request.user.via, data.comment,
                data.weekly,
            )  # fmt: skip
        except ValueError as e:
            raise BadRequest(str(e)) from None

    @delete("/silences/{silence_id:int}", guards=[require_operate], status_code=200)
    async def expire_silence(
        self,
        request: Request[Identity, Any, Any],
        silence_id: FromPath[int],
        alerts: NamedDependency[AlertService | None],
    ) -> dict[str, Any]:
        try:
            return await _service(alerts).expire(silence_id, request.user.name, request.user.via)
        except NoSuchAlert as e:
            raise NotFound(str(e)) from None

    @get("/rules")
    async def rules(self, alerts: NamedDependency[AlertService | None]) -> list[dict[str, Any]]:
        return _service(alerts).rules()

    @put("/rules/{name:str}", guards=[require_admin], status_code=200)
    async def put_rule(
        self,
        request: Request[Identity, Any, Any],
        name: FromPath[str],
        data: JSONBody[dict[str, Any]],
        alerts: NamedDependency[AlertService | None],
    ) -> dict[str, Any]:
        """Write the rule into inventory.yaml (comments kept) and reload it."""
        rule = {"name": name, **{k: v for k, v in data.items() if k != "name"}}
        try:
            result = await _service(alerts).put_rule(rule, request.user.name, request.user.via)
        except InventoryError as e:
            raise Unprocessable(
                "the rule was refused; the file and the running rules stay",
                {"problems": [str(p) for p in e.problems]},
            ) from None
        except (RuntimeError, ValueError) as e:
            raise NoAlerts(str(e)) from None
        return result.as_dict()

    @delete("/rules/{name:str}", guards=[require_admin], status_code=200)
    async def delete_rule(
        self,
        request: Request[Identity, Any, Any],
        name: FromPath[str],
        alerts: NamedDependency[AlertService | None],
    ) -> dict[str, Any]:
        try:
            result = await _service(alerts).delete_rule(name, request.user.name, request.user.via)
        except LookupError as e:
            raise NotFound(str(e)) from None
        except InventoryError as e:
            raise Unprocessable("refused", {"problems": [str(p) for p in e.problems]}) from None
        return result.as_dict()

    @get("/channels")
    async def channels(
        self, alerts: NamedDependency[AlertService | None]
    ) -> dict[str, dict[str, Any]]:
        service = _service(alerts)
        return service.channels.status() if service.channels is not None else {}

    @post("/channels/{name:str}/test", guards=[require_admin], status_code=200)
    async def test_channel(
        self,
        request: Request[Identity, Any, Any],
        name: FromPath[str],
        alerts: NamedDependency[AlertService | None],
    ) -> dict[str, Any]:
        """Send a test message through the channel now (the UI's "send test" button)."""
        service = _service(alerts)
        if service.channels is None:
            raise NoAlerts("no notification dispatcher in this process")
        try:
            await service.channels.test(name)
        except MirrorError as e:
            raise Unprocessable(str(e)) from None
        return {"channel": name, "sent": True}

    @get("/push/key")
    async def push_key(self, alerts: NamedDependency[AlertService | None]) -> dict[str, str]:
        """The VAPID public key a page subscribes with (applicationServerKey)."""
        return {"public_key": _push(alerts)[1]}

    @post("/push/subscriptions", status_code=201)
    async def push_subscribe(
        self,
        request: Request[Identity, Any, Any],
        data: JSONBody[PushSubscription],
        alerts: NamedDependency[AlertService | None],
    ) -> dict[str, Any]:
        """This browser gets alert notifications by Web Push (routes naming ``webpush``)."""
        subs = _push(alerts)[0]
        try:
            new_id = await anyio.to_thread.run_sync(
                subs.add, request.user.name, data.endpoint, data.keys.p256dh, data.keys.auth
            )
        except ValueError as e:
            raise BadRequest(str(e)) from None
        return {"id": new_id, "user": request.user.name}

    @post("/push/unsubscribe", status_code=200)
    async def push_unsubscribe(
        self, data: JSONBody[PushEndpoint], alerts: NamedDependency[AlertService | None]
    ) -> dict[str, Any]:
        removed = await anyio.to_thread.run_sync(_push(alerts)[0].remove, data.endpoint)
        return {"removed": removed}

    @get("/push/subscriptions")
    async def push_list(
        self, alerts: NamedDependency[AlertService | None]
    ) -> list[dict[str, object]]:
        """Who gets Web Push (never the endpoints or keys)."""
        return await anyio.to_thread.run_sync(_push(alerts)[0].listing)

"""Publish each host's state to an MQTT broker for Home Assistant (opt-in: ``MIRROR_MQTT``).

One task follows the live hub and keeps only each host's latest event; another keeps a
connection to the broker (aiomqtt) and publishes what changed. A broker that is down, slow
or refuses the credentials never reaches polling: the hub drops what this subscriber does
not take, the bridge reconnects with a growing pause (1 s to 60 s) and, once connected,
announces every host again and publishes their latest states. The first failure and the
recovery are logged once each; the password is never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aiomqtt
import msgspec

from bridge.buttons import PRESS, ButtonPresser
from bridge.homeassistant import Topics, button_discovery, discovery, object_id, state
from mirror.errors import ConfigError
from mirror.events import HostPoll
from mirror.live import LiveHub

log = logging.getLogger(__name__)
# aiomqtt warns at every publish beyond ten in flight; a round of 254 concurrent ones is
# how the bridge is meant to work, so only its errors are worth the log.
_client_log = logging.getLogger(f"{__name__}.client")
_client_log.setLevel(logging.ERROR)

BACKOFF_S = (1.0, 60.0)


@dataclass(frozen=True, slots=True)
class MqttSettings:
    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None
    topics: Topics = field(default_factory=Topics)
    client_id: str = "mirror-ego"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MqttSettings | None:
        """``MIRROR_MQTT=mqtt://USER@HOST:PORT`` (None when unset); the password only from
        ``MIRROR_MQTT_PASSWORD_FILE`` or ``MIRROR_MQTT_PASSWORD``, never in the URL;
        ``MIRROR_MQTT_DISCOVERY_PREFIX`` (``homeassistant``), ``MIRROR_MQTT_BASE`` (``mirror``)."""
        env = os.environ if env is None else env
        url = env.get("MIRROR_MQTT", "").strip()
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme != "mqtt" or not parts.hostname:
            raise ConfigError(f"MIRROR_MQTT must look like mqtt://USER@HOST:PORT, got {url!r}")
        if parts.password is not None:
            raise ConfigError(
                "MIRROR_MQTT must not carry the password: put it in the file named by "
                "MIRROR_MQTT_PASSWORD_FILE (or in MIRROR_MQTT_PASSWORD)"
            )
        try:
            port = parts.port or 1883
        except ValueError as e:
            raise ConfigError(f"MIRROR_MQTT: {e}") from None
        password = env.get("MIRROR_MQTT_PASSWORD") or None
        secret_file = env.get("MIRROR_MQTT_PASSWORD_FILE")
        if secret_file:
            try:
                password = Path(secret_file).expanduser().read_text().strip()
            except OSError as e:
                raise ConfigError(
                    f"MIRROR_MQTT_PASSWORD_FILE: {e.strerror}: {secret_file}"
                ) from None
        topics = Topics(
            env.get("MIRROR_MQTT_DISCOVERY_PREFIX", "homeassistant").strip("/") or "homeassistant",
            env.get("MIRROR_MQTT_BASE", "mirror").strip("/") or "mirror",
        )
        username = unquote(parts.username) if parts.username else None
        return cls(parts.hostname, port, username, password, topics)

    def where(self) -> str:
        return f"mqtt://{self.username + '@' if self.username else ''}{self.host}:{self.port}"


class MqttBridge:
    def __init__(
        self,
        hub: LiveHub,
        settings: MqttSettings,
        hosts: Callable[[], Iterable[str]] = list,
        *,
        backoff_s: tuple[float, float] = BACKOFF_S,
        buttons: ButtonPresser | None = None,
    ) -> None:
        """``hosts``: the inventory's host names now (announced even before their first poll);
        ``buttons``: Home Assistant buttons on each host (bridge/buttons.py), or none."""
        self._hub = hub
        self._buttons = buttons
        self._presses: set[asyncio.Task[None]] = set()
        self._settings = settings
        self._hosts = hosts
        self._backoff_s = backoff_s
        self._latest: dict[str, Mapping[str, Any]] = {}
        self._pending: set[str] = set()
        self._announced: set[str] = set()
        self._wake = asyncio.Event()
        self.connected = False
        self.published = 0
        self.failures = 0

    async def run(self) -> None:
        """Until cancelled."""
        follow = asyncio.create_task(self._follow(), name="mqtt-follow")
        pause = self._backoff_s[0]
        try:
            while True:
                try:
                    await self._session()
                except aiomqtt.MqttError as e:
                    if self.connected or self.failures == 0:  # a new outage: say it once
                        log.warning("MQTT broker %s: %s; will retry", self._settings.where(), e)
                        pause = self._backoff_s[0]
                    else:
                        pause = min(pause * 2, self._backoff_s[1])
                    self.failures += 1
                    self.connected = False
                await asyncio.sleep(pause)
        finally:
            follow.cancel()

    async def _session(self) -> None:
        s = self._settings
        topics = s.topics
        will = aiomqtt.Will(topics.availability, "offline", qos=1, retain=True)
        async with aiomqtt.Client(
            s.host,
            s.port,
            username=s.username,
            password=s.password,
            identifier=s.client_id,
            will=will,
            keepalive=30,
            timeout=10,
            logger=_client_log,
        ) as client:
            if self.failures:
                log.info("MQTT broker %s: connected again", s.where())
            self.connected, self.failures = True, 0
            await client.publish(topics.availability, "online", qos=1, retain=True)
            await client.subscribe(topics.ha_status)
            if self._buttons is not None:
                await client.subscribe(topics.buttons, qos=1)
            self._announced.clear()
            self._pending |= set(self._latest) | set(self._hosts())
            self._wake.set()
            # The connection's loss surfaces in whichever task touches it first.
            tasks = {
                asyncio.create_task(self._listen(client)),
                asyncio.create_task(self._publish(client)),
            }
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            for task in done:
                task.result()  # an MqttError: to run(), which reconnects
            raise aiomqtt.MqttError("the broker closed the connection")

    async def _listen(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            if self._buttons is not None and message.topic.matches(self._settings.topics.buttons):
                self._pressed(client, str(message.topic), message.payload)
            elif message.payload in (b"online", "online"):  # Home Assistant (re)started
                self._announced.clear()
                self._pending |= set(self._latest) | set(self._hosts())
                self._wake.set()

    async def _publish(self, client: aiomqtt.Client) -> None:
        topics = self._settings.topics
        while True:
            await self._wake.wait()
            self._wake.clear()
            pending, self._pending = self._pending, set()
            # Concurrently: paho writes them back to back; one at a time, each await costs a
            # turn of the connection's loop (tens of ms: a 254-host round took seconds).
            announce = [h for h in sorted(pending) if h not in self._announced]
            await asyncio.gather(
                *(
                    client.publish(topic, payload, qos=1, retain=True)
                    for host in announce
                    for topic, payload in self._discovery(host)
                )
            )
            self._announced.update(announce)
            states = [(h, self._latest[h]) for h in sorted(pending) if h in self._latest]
            await asyncio.gather(
                *(
                    client.publish(topics.state(h), _json(state(e)), qos=0, retain=True)
                    for h, e in states
                )
            )
            self.published += len(states)

    def _discovery(self, host: str) -> list[tuple[str, str]]:
        topics = self._settings.topics
        found = discovery(host, topics, _model(self._latest.get(host)))
        if self._buttons is not None:
            shown = [(b.key, b.name, b.icon) for b in self._buttons.buttons.values()]
            found += button_discovery(host, topics, shown)
        return found

    def _pressed(self, client: aiomqtt.Client, topic: str, payload: Any) -> None:
        """A press from Home Assistant: to EGO's API in a task of its own (never in the way
        of the connection's messages); the answer goes to ``TOPIC/result``."""
        assert self._buttons is not None
        parts = topic.split("/")
        oid, key = parts[-3], parts[-1]
        text = payload.decode(errors="replace") if isinstance(payload, bytes) else str(payload)
        hosts = {object_id(h): h for h in self._hosts()}
        if text != PRESS or key not in self._buttons.buttons or oid not in hosts:
            log.warning("MQTT button %s: not a press of a known button on a known host", topic)
            return
        task = asyncio.create_task(self._press(client, topic, hosts[oid], key))
        self._presses.add(task)
        task.add_done_callback(self._presses.discard)

    async def _press(self, client: aiomqtt.Client, topic: str, host: str, key: str) -> None:
        assert self._buttons is not None
        try:
            result = await self._buttons.press(host, key)
        except Exception as exc:  # EGO's API is in this process: a bug, not the broker's
            log.exception("MQTT button %s on %s failed", key, host)
            result = {"host": host, "button": key, "ok": False, "error": type(exc).__name__}
        await client.publish(f"{topic}/result", _json(result), qos=1)

    async def _follow(self) -> None:
        async for event in self._hub.subscribe():
            if not isinstance(event, HostPoll):  # pings, state changes, wake results
                continue
            self._latest[event.host] = msgspec.structs.asdict(event)
            self._pending.add(event.host)
            self._wake.set()


def _model(event: Mapping[str, Any] | None) -> str | None:
    info = (event or {}).get("info") or {}
    model = info.get("os")
    return str(model) if model else None


def _json(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))

"""Home Assistant MQTT discovery for EGO's hosts (pure: topics and payloads, no network).

Each host is a Home Assistant *device* with a connectivity binary sensor (up/down) and
sensors for its key metrics, all read from one retained JSON state topic per host, so a
poll is one MQTT message. EGO's own availability topic (retained ``online``, and
``offline`` as the connection's will) makes every entity unavailable when EGO is gone.
Payload keys follow Home Assistant's documented discovery schema (abbreviations not used,
for readability): https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ORIGIN = {"name": "MIRROR STAGE", "support_url": "https://github.com/"}
_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")


@dataclass(frozen=True, slots=True)
class Sensor:
    key: str  # the key in the host's state JSON
    name: str
    unit: str | None = None
    device_class: str | None = None
    precision: int = 1


SENSORS = (
    Sensor("cpu", "CPU busy", "%"),
    Sensor("memory", "Memory used", "%"),
    Sensor("load", "Load (1 min)", None, None, 2),
    Sensor("root_disk", "Root filesystem used", "%"),
    Sensor("temperature", "Temperature (hottest sensor)", "°C", "temperature"),
)


@dataclass(frozen=True, slots=True)
class Topics:
    discovery_prefix: str = "homeassistant"
    base: str = "mirror"

    @property
    def availability(self) -> str:
        return f"{self.base}/status"

    @property
    def ha_status(self) -> str:
        """Home Assistant's birth/last-will topic: ``online`` asks for discovery again."""
        return f"{self.discovery_prefix}/status"

    def state(self, host: str) -> str:
        return f"{self.base}/{object_id(host)}/state"

    def button(self, host: str, key: str) -> str:
        """Where Home Assistant publishes a press of ``key`` on ``host``."""
        return f"{self.base}/{object_id(host)}/button/{key}"

    @property
    def buttons(self) -> str:
        """Every host's buttons, to subscribe to."""
        return f"{self.base}/+/button/+"

    def config(self, component: str, host: str, key: str) -> str:
        return f"{self.discovery_prefix}/{component}/mirror_{object_id(host)}/{key}/config"


def object_id(name: str) -> str:
    """A host name as a topic level and entity id part (``nas.lan`` → ``nas_lan``)."""
    return _UNSAFE.sub("_", name) or "_"


def discovery(host: str, topics: Topics, model: str | None = None) -> list[tuple[str, str]]:
    """The retained config messages announcing ``host`` and its entities."""
    device: dict[str, Any] = {
        "identifiers": [f"mirror_{object_id(host)}"],
        "name": host,
        "manufacturer": "MIRROR STAGE",
    }
    if model:
        device["model"] = model
    common = {
        "device": device,
        "origin": ORIGIN,
        "availability_topic": topics.availability,
        "state_topic": topics.state(host),
    }
    out = [
        (
            topics.config("binary_sensor", host, "connectivity"),
            _json(
                {
                    **common,
                    "name": "Reachable",
                    "unique_id": f"mirror_{object_id(host)}_connectivity",
                    "device_class": "connectivity",
                    "value_template": "{{ value_json.up }}",
                    "payload_on": "ON",
                    "payload_off": "OFF",
                }
            ),
        )
    ]
    for sensor in SENSORS:
        config: dict[str, Any] = {
            **common,
            "name": sensor.name,
            "unique_id": f"mirror_{object_id(host)}_{sensor.key}",
            "value_template": f"{{{{ value_json.{sensor.key} }}}}",
            "state_class": "measurement",
            "suggested_display_precision": sensor.precision,
        }
        if sensor.unit:
            config["unit_of_measurement"] = sensor.unit
        if sensor.device_class:
            config["device_class"] = sensor.device_class
        out.append((topics.config("sensor", host, sensor.key), _json(config)))
    return out


def button_discovery(
    host: str, topics: Topics, buttons: Iterable[tuple[str, str, str]]
) -> list[tuple[str, str]]:
    """Retained config messages for ``host``'s buttons: ``(key, name, icon)`` each; a press
    publishes ``PRESS`` on :meth:`Topics.button`."""
    device = {"identifiers": [f"mirror_{object_id(host)}"], "name": host}
    return [
        (
            topics.config("button", host, key),
            _json(
                {
                    "device": device,
                    "origin": ORIGIN,
                    "availability_topic": topics.availability,
                    "name": name,
                    "unique_id": f"mirror_{object_id(host)}_{key}",
                    "command_topic": topics.button(host, key),
                    "payload_press": "PRESS",
                    "icon": icon,
                }
            ),
        )
        for key, name, icon in buttons
    ]


def state(event: Mapping[str, Any]) -> dict[str, Any]:
    """A host's state JSON from one live event (``None`` where a value is not known, which
    Home Assistant shows as "unknown")."""
    metrics: Mapping[str, float] = event.get("metrics") or {}
    temps = [v for k, v in metrics.items() if k.startswith("temp.celsius[")]
    return {
        "up": "ON" if event.get("state") == "up" else "OFF",
        "state": event.get("state"),
        "error": event.get("error"),
        "cpu": _rounded(metrics.get("cpu.busy_pct"), 1),
        "memory": _rounded(metrics.get("mem.used_pct"), 1),
        "load": _rounded(metrics.get("load.1"), 2),
        "root_disk": _rounded(metrics.get("fs.used_pct[/]"), 1),
        "temperature": _rounded(max(temps), 1) if temps else None,
        "ts": event.get("ts"),
    }


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


def _json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))

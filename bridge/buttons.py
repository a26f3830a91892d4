"""Home Assistant buttons on each host: wake it, restart a named service (opt-in).

``MIRROR_MQTT_BUTTONS`` lists them (``wake; restart:nginx; restart:docker``) and
``MIRROR_MQTT_BUTTON_TOKEN_FILE`` names the API token they act with (``chmod 600``; an
``operate`` token of an operator or admin, from ``mirror token create --scope operate --user
NAME``). Buttons without a token are refused at start: nothing on the broker can act on its
own. A press is a request to EGO's own API made in-process (no socket, the app itself):
the same authentication, the same role guards, the same audit entries as the web UI's Wake
and Actions buttons, under the token's user. A viewer's token, a read token or a revoked
one is refused there (403/401) like any other caller; the answer is published on the
button's result topic and logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mirror.auth.tokenfile import read_token_file
from mirror.errors import ConfigError

log = logging.getLogger(__name__)

PRESS = "PRESS"
_SERVICE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9:_.@-]{0,254}")  # as the action's "service" kind


@dataclass(frozen=True, slots=True)
class Button:
    key: str  # topic level and entity id part: "wake", "restart_nginx"
    name: str  # what Home Assistant shows
    service: str | None = None  # restart:SERVICE; None: wake
    icon: str = "mdi:power"

    def request(self, host: str) -> tuple[str, dict[str, Any] | None]:
        """The API call this button makes for ``host``: path and JSON body."""
        if self.service is None:
            return f"/api/hosts/{host}/wake", None
        return f"/api/hosts/{host}/actions/restart-service", {"params": {"service": self.service}}


def parse_buttons(text: str) -> tuple[Button, ...]:
    """``wake; restart:nginx`` (``;`` or ``,`` between buttons) → buttons; ConfigError names
    the item that is neither."""
    found: dict[str, Button] = {}
    for item in re.split(r"[;,]", text):
        item = item.strip()
        if not item:
            continue
        if item == "wake":
            button = Button("wake", "Wake")
        elif item.startswith("restart:") and _SERVICE.fullmatch(item.split(":", 1)[1]):
            service = item.split(":", 1)[1]
            key = "restart_" + re.sub(r"[^A-Za-z0-9_-]", "_", service)
            button = Button(key, f"Restart {service}", service, "mdi:restart")
        else:
            raise ConfigError(
                f"MIRROR_MQTT_BUTTONS: {item!r} is neither 'wake' nor 'restart:SERVICE' "
                "(a systemd unit name)"
            )
        found[button.key] = button
    return tuple(found.values())


@dataclass(frozen=True, slots=True)
class ButtonSettings:
    buttons: tuple[Button, ...]
    token: str  # the API token presses act with; never logged nor published

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ButtonSettings | None:
        buttons = parse_buttons(env.get("MIRROR_MQTT_BUTTONS", ""))
        token_file = env.get("MIRROR_MQTT_BUTTON_TOKEN_FILE", "").strip()
        if not buttons:
            return None
        if not token_file:
            raise ConfigError(
                "MIRROR_MQTT_BUTTONS needs MIRROR_MQTT_BUTTON_TOKEN_FILE: the operate token "
                "(mirror token create --scope operate --user NAME) whose user's role the "
                "buttons act with; without one no button is offered"
            )
        return cls(buttons, read_token_file(Path(token_file).expanduser()))

    def __repr__(self) -> str:  # the token stays out of logs and tracebacks
        return f"ButtonSettings(buttons={[b.key for b in self.buttons]!r}, token=…)"


class ButtonPresser:
    """Presses go to EGO's API in-process, with the owner's token."""

    def __init__(self, app: Any, settings: ButtonSettings) -> None:
        self.buttons = {b.key: b for b in settings.buttons}
        self._token = settings.token
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 0))
        self._http = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1")

    async def press(self, host: str, key: str) -> dict[str, Any]:
        """The API's answer, shortened: ``status``, ``ok``, ``error`` (and a run's ``job``)."""
        button = self.buttons[key]
        path, body = button.request(host)
        response = await self._http.post(
            path, json=body, headers={"Authorization": f"Bearer {self._token}"}, timeout=30
        )
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        ok = response.status_code < 300
        result = {
            "host": host,
            "button": key,
            "status": response.status_code,
            "ok": ok,
            "error": None if ok else str(answer.get("error", response.reason_phrase)),
        }
        if ok and isinstance(answer, dict) and "id" in answer:
            result["job"] = answer["id"]
        if ok:
            log.info("MQTT button %s on %s: done (HTTP %d)", key, host, response.status_code)
        else:
            log.warning(
                "MQTT button %s on %s refused: %s (HTTP %d)",
                key,
                host,
                result["error"],
                response.status_code,
            )
        return result

    async def close(self) -> None:
        await self._http.aclose()

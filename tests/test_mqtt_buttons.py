"""Home Assistant buttons over MQTT (bridge/buttons.py) against a real Mosquitto, EGO's real
API in-process, the real command runner on the suite's sshd and a UDP listener on
127.0.0.1 as the Wake-on-LAN target: a press acts only with the owner's token, with that
token's user's role, and is in the audit log as the web UI's buttons are."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from api.app import create_app
from bridge.buttons import ButtonPresser, ButtonSettings, parse_buttons
from bridge.mqtt import MqttBridge
from mirror.audit import AuditLog
from mirror.auth import AuthService
from mirror.errors import ConfigError
from mirror.inventory import Inventory
from mirror.live import LiveHub
from mirror.storage import Store
from poller.commands import OwnConnections, SshCommandRunner
from poller.icmp import IcmpAccess, IcmpMode
from poller.ssh import KnownHosts
from poller.wol import WakeService
from tests.support.sshd import Sshd
from tests.test_commands import inventory_for
from tests.test_mqtt import PASSWORD, USER, Broker, broker, settings, until  # noqa: F401
from tests.test_network import MAC, Listener

ROLE_PASSWORD = "correct horse battery"


def test_buttons_are_parsed_and_need_the_owners_token(tmp_path: Path) -> None:
    found = parse_buttons("wake; restart:nginx, restart:docker.service")
    assert [b.key for b in found] == ["wake", "restart_nginx", "restart_docker_service"]
    assert found[1].request("box") == (
        "/api/hosts/box/actions/restart-service",
        {"params": {"service": "nginx"}},
    )
    with pytest.raises(ConfigError, match="neither 'wake' nor 'restart:SERVICE'"):
        parse_buttons("restart:nginx; rm -rf")
    with pytest.raises(ConfigError, match="neither"):
        parse_buttons("restart:$(reboot)")
    with pytest.raises(ConfigError, match="needs MIRROR_MQTT_BUTTON_TOKEN_FILE"):
        ButtonSettings.from_env({"MIRROR_MQTT_BUTTONS": "wake"})
    assert ButtonSettings.from_env({}) is None
    token = tmp_path / "buttons.token"
    token.write_text("mst_secret\n")
    token.chmod(0o644)
    env = {"MIRROR_MQTT_BUTTONS": "wake", "MIRROR_MQTT_BUTTON_TOKEN_FILE": str(token)}
    with pytest.raises(ConfigError, match="may be read by others"):
        ButtonSettings.from_env(env)
    token.chmod(0o600)
    loaded = ButtonSettings.from_env(env)
    assert loaded is not None and loaded.token == "mst_secret"
    assert "mst_secret" not in repr(loaded)


@dataclass
class House:
    broker: Broker
    app: Any
    hub: LiveHub
    tokens: dict[str, str]
    audit: AuditLog
    listener: Listener


@pytest.fixture
async def house(sshd: Sshd, tmp_path: Path, broker: Broker) -> AsyncIterator[House]:  # noqa: F811
    listener = Listener()
    base = inventory_for(sshd).model_dump(mode="json")
    base["hosts"][0]["mac"] = MAC
    base["subnets"] = [
        {
            "name": "lab",
            "cidr": f"{sshd.ok_address}/32",
            "wol_broadcast": "127.0.0.1",
            "wol_port": listener.port,
        }
    ]
    inventory = Inventory.from_dict(base)
    store = Store.open(f"sqlite:///{tmp_path / 'mirror.db'}")
    store.upgrade()
    auth = AuthService(store.engine)
    tokens = {}
    for role in ("viewer", "operator"):
        auth.add_user(role, ROLE_PASSWORD, role)
        tokens[role] = auth.create_token(f"mqtt-{role}", "operate", user=role)[1]
    runner = SshCommandRunner(
        OwnConnections(inventory.hosts_resolved(), KnownHosts(tmp_path / "kh"))
    )

    async def answers(address: str) -> bool:  # the woken host's ping (not what is tested)
        return True

    wake = WakeService(
        inventory, IcmpAccess(IcmpMode.PRIVILEGED, "test"), timeout_s=3, ping=answers
    )
    audit = AuditLog(store.engine)
    hub = LiveHub()
    app = create_app(store, hub, inventory, auth=auth, control=runner, wake=wake, audit=audit)
    yield House(broker, app, hub, tokens, audit, listener)
    await wake.close()
    await runner.close()
    store.close()
    listener.sock.close()


@dataclass
class Running:
    bridge: MqttBridge
    messages: list[aiomqtt.Message]
    client: aiomqtt.Client


@pytest.fixture
async def ha(house: House) -> AsyncIterator[Any]:
    """Home Assistant's side: a client that sees everything and can press; and a factory
    for the bridge with a given token (None: no buttons)."""
    started: list[asyncio.Task[None]] = []
    presser: list[ButtonPresser] = []

    async def bridge_with(who: str | None) -> Running:
        buttons = None
        if who is not None:
            spec = ButtonSettings(parse_buttons("wake; restart:nginx"), house.tokens[who])
            buttons = ButtonPresser(house.app, spec)
            presser.append(buttons)
        bridge = MqttBridge(
            house.hub,
            settings(house.broker),
            lambda: ["box"],
            backoff_s=(0.1, 0.4),
            buttons=buttons,
        )
        started.append(asyncio.create_task(bridge.run()))
        await until(lambda: bridge.connected)
        return Running(bridge, seen, client)

    seen: list[aiomqtt.Message] = []
    async with aiomqtt.Client(
        "127.0.0.1", house.broker.port, username=USER, password=PASSWORD
    ) as client:
        await client.subscribe("homeassistant/#")
        await client.subscribe("mirror/#")

        async def collect() -> None:
            async for message in client.messages:
                seen.append(message)

        collector = asyncio.create_task(collect())
        yield bridge_with
        for task in (*started, collector):
            task.cancel()
        await asyncio.gather(*started, collector, return_exceptions=True)
        for p in presser:
            await p.close()


def _payload(messages: list[aiomqtt.Message], topic: str) -> Any:
    found = [m for m in messages if str(m.topic) == topic]
    return json.loads(found[-1].payload) if found else None


async def _press(run: Running, key: str) -> dict[str, Any]:
    topic = f"mirror/box/button/{key}"
    before = len(run.messages)
    await run.client.publish(topic, "PRESS", qos=1)
    await until(lambda: _payload(run.messages[before:], f"{topic}/result") is not None, 20)
    return _payload(run.messages[before:], f"{topic}/result")


async def test_operator_token_wakes_and_restarts_audited(house: House, ha: Any) -> None:
    run = await ha("operator")
    await until(
        lambda: _payload(run.messages, "homeassistant/button/mirror_box/restart_nginx/config")
    )
    config = _payload(run.messages, "homeassistant/button/mirror_box/wake/config")
    assert config["command_topic"] == "mirror/box/button/wake"
    assert config["payload_press"] == "PRESS" and config["availability_topic"] == "mirror/status"
    assert config["device"]["identifiers"] == ["mirror_box"]

    result = await _press(run, "wake")
    assert result["status"] == 202 and result["ok"] is True, result
    packet = await asyncio.to_thread(house.listener.receive)
    assert packet == b"\xff" * 6 + bytes.fromhex(MAC.replace(":", "")) * 16
    [wol] = house.audit.entries(action="wol")
    assert (wol.actor, wol.target) == ("operator", "box")

    result = await _press(run, "restart_nginx")
    assert result["status"] == 202 and result["job"], result
    # The start, then the run's end: it ran on the host over SSH (the test's login user may
    # not sudo, so systemctl's answer is an error there, as for a web UI press).
    await until(lambda: len(house.audit.entries(action="action:restart-service")) == 2, 20)
    done, restart = house.audit.entries(action="action:restart-service")
    assert done.action == "action:restart-service.done" and done.actor == "operator"
    assert restart.actor == "operator" and restart.target == "box"
    assert restart.result == "started" and restart.detail["sudo"] is True
    assert restart.detail["params"] == {"service": "nginx"}
    assert restart.detail["command"] == "systemctl restart nginx"


async def test_a_viewers_token_is_refused_like_in_the_web_ui(house: House, ha: Any) -> None:
    run = await ha("viewer")
    for key in ("wake", "restart_nginx"):
        result = await _press(run, key)
        assert result["status"] == 403 and result["ok"] is False, result
    house.listener.sock.settimeout(0.5)
    with pytest.raises(socket.timeout):
        house.listener.receive()
    assert house.audit.entries(action="wol") == []
    assert house.audit.entries(action="action:") == []


async def test_without_a_token_there_are_no_buttons(house: House, ha: Any) -> None:
    run = await ha(None)
    await until(
        lambda: _payload(run.messages, "homeassistant/binary_sensor/mirror_box/connectivity/config")
    )
    assert not [m for m in run.messages if "/button/" in str(m.topic)]
    await run.client.publish("mirror/box/button/wake", "PRESS", qos=1)
    house.listener.sock.settimeout(1.0)
    with pytest.raises(socket.timeout):
        house.listener.receive()
    assert not [m for m in run.messages if str(m.topic).endswith("/result")]
    assert house.audit.entries(action="wol") == []

"""Home Assistant over MQTT: discovery payloads (pure), and the bridge against a real
Mosquitto the test starts on loopback (password auth, a restart, wrong credentials)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiomqtt
import pytest
from msgspec.structs import asdict as as_dict

from bridge.homeassistant import SENSORS, Topics, discovery, object_id, state
from bridge.mqtt import MqttBridge, MqttSettings
from mirror.errors import ConfigError
from mirror.events import HostPoll, PingPoll
from mirror.live import LiveHub
from tests.support.mosquitto import MOSQUITTO, Broker, running_broker

USER, PASSWORD = "ego", "broker secret 1"


def event(host: str, up: bool = True, **metrics: float) -> HostPoll:
    return HostPoll(
        host=host,
        state="up" if up else "unreachable",
        error=None if up else "connection refused",
        ts=1_767_225_600.0,
        duration_ms=3.0,
        metrics={k.replace("__", "."): v for k, v in metrics.items()},
        info={"os": "Debian GNU/Linux 12"},
    )


# -- pure -------------------------------------------------------------------------------


def test_discovery_announces_a_device_with_connectivity_and_sensors() -> None:
    topics = Topics()
    found = dict(discovery("nas.lan", topics, "Debian GNU/Linux 12"))
    assert set(found) == {
        "homeassistant/binary_sensor/mirror_nas_lan/connectivity/config",
        *(f"homeassistant/sensor/mirror_nas_lan/{s.key}/config" for s in SENSORS),
    }
    reach = json.loads(found["homeassistant/binary_sensor/mirror_nas_lan/connectivity/config"])
    assert reach["device_class"] == "connectivity"
    assert reach["state_topic"] == "mirror/nas_lan/state"
    assert reach["availability_topic"] == "mirror/status"
    assert reach["device"]["identifiers"] == ["mirror_nas_lan"]
    assert reach["device"]["model"] == "Debian GNU/Linux 12"
    cpu = json.loads(found["homeassistant/sensor/mirror_nas_lan/cpu/config"])
    assert cpu["unit_of_measurement"] == "%" and cpu["value_template"] == "{{ value_json.cpu }}"
    ids = [json.loads(p)["unique_id"] for p in found.values()]
    assert len(ids) == len(set(ids))


def test_state_of_an_up_and_a_down_host() -> None:
    up = state(
        as_dict(
            event(
                "a",
                cpu__busy_pct=12.345,
                mem__used_pct=50.0,
                **{
                    "load.1": 0.5,
                    "fs.used_pct[/]": 71.0,
                    "temp.celsius[a]": 40,
                    "temp.celsius[b]": 55,
                },
            )
        )
    )
    assert up["up"] == "ON" and up["cpu"] == 12.3 and up["temperature"] == 55
    assert up["root_disk"] == 71.0
    down = state(as_dict(event("a", up=False)))
    assert down["up"] == "OFF" and down["cpu"] is None and down["error"] == "connection refused"


@pytest.mark.parametrize(
    ("name", "expected"), [("nas", "nas"), ("nas.lan", "nas_lan"), ("서버/1 #", "___1__")]
)
def test_object_ids_are_safe_topic_levels(name: str, expected: str) -> None:
    assert object_id(name) == expected


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MIRROR_MQTT": "mqtt://ego:pw@127.0.0.1"}, "must not carry the password"),
        ({"MIRROR_MQTT": "http://127.0.0.1"}, "must look like mqtt://"),
        ({"MIRROR_MQTT": "mqtt://127.0.0.1:99999"}, "MIRROR_MQTT"),
        (
            {
                "MIRROR_MQTT": "mqtt://ego@127.0.0.1",
                "MIRROR_MQTT_PASSWORD_FILE": "/nonexistent-mirror-test/password",
            },
            "No such file",
        ),
    ],
)
def test_bad_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        MqttSettings.from_env(env)


def test_settings_take_the_password_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "mqtt.pw"
    secret.write_text(PASSWORD + "\n")
    found = MqttSettings.from_env(
        {"MIRROR_MQTT": "mqtt://ego@127.0.0.1:1884", "MIRROR_MQTT_PASSWORD_FILE": str(secret)}
    )
    assert found is not None and found.password == PASSWORD and found.port == 1884
    assert PASSWORD not in found.where()
    assert MqttSettings.from_env({}) is None


# -- a real broker ----------------------------------------------------------------------


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    if not Path(MOSQUITTO).exists():
        pytest.skip("mosquitto not installed (scripts/setup.sh --test installs it)")
    with running_broker(tmp_path, (USER, PASSWORD)) as found:
        yield found


def settings(broker: Broker, password: str = PASSWORD) -> MqttSettings:
    return MqttSettings("127.0.0.1", broker.port, USER, password)


async def listen(broker: Broker, into: list[aiomqtt.Message]) -> None:
    async with aiomqtt.Client("127.0.0.1", broker.port, username=USER, password=PASSWORD) as c:
        await c.subscribe("homeassistant/#")
        await c.subscribe("mirror/#")
        async for message in c.messages:
            into.append(message)


async def until(check, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def topics_of(messages: list[aiomqtt.Message]) -> list[str]:
    return [str(m.topic) for m in messages]


@pytest.fixture
async def running(broker: Broker) -> AsyncIterator[tuple[LiveHub, MqttBridge]]:
    hub = LiveHub()
    bridge = MqttBridge(
        hub, settings(broker), lambda: ["nas", "never-polled"], backoff_s=(0.1, 0.4)
    )
    task = asyncio.create_task(bridge.run())
    yield hub, bridge
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_hosts_are_announced_and_their_states_published(
    broker: Broker, running: tuple[LiveHub, MqttBridge]
) -> None:
    hub, bridge = running
    await until(lambda: bridge.connected)
    hub.publish(event("nas", cpu__busy_pct=33.0))
    hub.publish(
        PingPoll(
            host="ping/127.77.0.1",
            state="up",
            error=None,
            ts=0,
            duration_ms=1,
            metrics={},
            info=None,
        )
    )  # not a host
    await until(lambda: bridge.published >= 1)
    seen: list[aiomqtt.Message] = []
    follower = asyncio.create_task(listen(broker, seen))  # retained: a late subscriber sees all
    try:
        await until(lambda: "mirror/nas/state" in topics_of(seen))
        await until(lambda: "mirror/status" in topics_of(seen))
    finally:
        follower.cancel()
    by_topic = {str(m.topic): m for m in seen}
    assert json.loads(by_topic["mirror/nas/state"].payload)["cpu"] == 33.0
    assert by_topic["mirror/status"].payload == b"online"
    assert "homeassistant/binary_sensor/mirror_nas/connectivity/config" in by_topic
    # An inventory host not yet polled is announced too (its entities "unknown").
    assert "homeassistant/sensor/mirror_never-polled/cpu/config" in by_topic
    assert not any("ping" in t for t in by_topic)


async def test_a_broker_restart_is_survived_and_the_latest_state_sent_again(
    broker: Broker, running: tuple[LiveHub, MqttBridge]
) -> None:
    hub, bridge = running
    await until(lambda: bridge.connected)
    broker.stop()  # persistence off: the broker forgets every retained message
    await until(lambda: not bridge.connected)
    hub.publish(event("nas", cpu__busy_pct=44.0))  # while the broker is away
    assert bridge.published == 0
    broker.start()
    await until(lambda: bridge.connected and bridge.published >= 1, timeout=15)
    seen: list[aiomqtt.Message] = []
    follower = asyncio.create_task(listen(broker, seen))
    try:
        await until(lambda: "mirror/nas/state" in topics_of(seen))
        await until(lambda: "homeassistant/sensor/mirror_nas/cpu/config" in topics_of(seen))
    finally:
        follower.cancel()
    state_message = next(m for m in seen if str(m.topic) == "mirror/nas/state")
    assert json.loads(state_message.payload)["cpu"] == 44.0


async def test_home_assistant_coming_online_gets_discovery_again(
    broker: Broker, running: tuple[LiveHub, MqttBridge]
) -> None:
    _, bridge = running
    await until(lambda: bridge.connected)
    seen: list[aiomqtt.Message] = []
    follower = asyncio.create_task(listen(broker, seen))
    try:
        await until(lambda: "homeassistant/sensor/mirror_nas/cpu/config" in topics_of(seen))
        before = topics_of(seen).count("homeassistant/sensor/mirror_nas/cpu/config")
        async with aiomqtt.Client(
            "127.0.0.1", broker.port, username=USER, password=PASSWORD
        ) as home_assistant:
            await home_assistant.publish("homeassistant/status", "online")
        await until(
            lambda: topics_of(seen).count("homeassistant/sensor/mirror_nas/cpu/config") > before
        )
    finally:
        follower.cancel()


async def test_wrong_credentials_never_block_the_hub(broker: Broker) -> None:
    hub = LiveHub()
    bridge = MqttBridge(hub, settings(broker, "wrong"), backoff_s=(0.05, 0.2))
    task = asyncio.create_task(bridge.run())
    try:
        await until(lambda: bridge.failures >= 3)
        started = time.monotonic()
        for i in range(5000):
            hub.publish(event(f"h{i % 254}", cpu__busy_pct=float(i)))
        assert time.monotonic() - started < 1.0
        assert not bridge.connected and bridge.published == 0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

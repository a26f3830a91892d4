"""/metrics: the exposition's shape (pure), and a real Prometheus scraping a real EGO app."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from api.app import create_app
from api.metrics import STALE_AFTER_S, exposition, families, family_name
from api.schemas import Host
from mirror.auth import AuthService
from mirror.inventory import Inventory
from mirror.live import LiveHub
from mirror.model import HostState, PollStatus, Snapshot
from mirror.storage import Store
from tests.support.sshd import free_port
from tests.test_api import _serve

PROMETHEUS = shutil.which("prometheus")


def _host(name: str, state: str, metrics_ts: float | None, **metrics: float) -> Host:
    return Host(
        name=name,
        address="127.77.0.9",
        groups=["lab", "rack-1"],
        tags=[],
        mac=None,
        local=False,
        in_inventory=True,
        state=state,
        error=None,
        ts=metrics_ts,
        duration_ms=42.0,
        metrics={k.replace("__", "."): v for k, v in metrics.items()},
        metrics_ts=metrics_ts,
        info=None,
    )


@pytest.mark.parametrize(
    ("series", "family", "instance"),
    [
        ("cpu.busy_pct", "mirror_cpu_busy_pct", ""),
        ("cpu.busy_pct[3]", "mirror_cpu_busy_pct", "3"),
        ("net.rx_bytes_per_s[eth0.100]", "mirror_net_rx_bytes_per_s", "eth0.100"),
        ("fs.used_pct[/var/lib]", "mirror_fs_used_pct", "/var/lib"),
        ("temp.celsius[Package id 0]", "mirror_temp_celsius", "Package id 0"),
        ("gpu.mem-used.bytes", "mirror_gpu_mem_used_bytes", ""),
    ],
)
def test_series_names_become_families_and_an_instance_label(
    series: str, family: str, instance: str
) -> None:
    assert family_name(series) == (family, instance)


def _exposed(hosts: list[Host], now: float) -> dict[str, list[tuple[dict[str, str], float]]]:
    found = families(hosts, now, subscribers=2, storage={"writable": True, "buffered": 3})
    body, content_type = exposition(found, "application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    text = body.decode()
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):  # the format Prometheus parses
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def test_current_values_are_exposed_and_stale_ones_are_not() -> None:
    now = 1_767_225_600.0
    hosts = [
        _host("fresh", "up", now - 5, cpu__busy_pct=12.5, **{"net.rx_bytes_per_s[eth0]": 1e3}),
        _host("stale", "unreachable", now - STALE_AFTER_S - 1, cpu__busy_pct=99.0),
    ]
    exposed = _exposed(hosts, now)
    assert exposed["mirror_cpu_busy_pct"] == [
        ({"host": "fresh", "group": "lab,rack-1", "instance": ""}, 12.5)
    ]
    assert exposed["mirror_net_rx_bytes_per_s"][0][0]["instance"] == "eth0"
    assert sorted(exposed["mirror_up"], key=lambda s: s[0]["host"]) == [
        ({"host": "fresh", "group": "lab,rack-1"}, 1.0),
        ({"host": "stale", "group": "lab,rack-1"}, 0.0),
    ]
    states = {labels["state"]: value for labels, value in exposed["mirror_targets"]}
    assert states["up"] == 1 and states["unreachable"] == 1 and states["timeout"] == 0
    assert exposed["mirror_live_subscribers"] == [({}, 2.0)]
    assert exposed["mirror_storage_buffered"] == [({}, 3.0)]
    assert exposed["mirror_storage_writable"] == [({}, 1.0)]
    age = dict((labels["host"], value) for labels, value in exposed["mirror_last_poll_age_seconds"])
    assert age == {"fresh": 5.0, "stale": STALE_AFTER_S + 1}


# -- a real Prometheus ------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'mirror.db'}")
    store.upgrade()
    yield store  # type: ignore[misc]
    store.close()


async def test_a_real_prometheus_scrapes_what_ego_stored(store: Store, tmp_path: Path) -> None:
    if PROMETHEUS is None:
        pytest.skip("prometheus not installed (scripts/setup.sh --test installs Debian's)")
    now = time.time()  # /metrics exposes values younger than a minute: write them now
    store.write(
        [Snapshot("alpha", now, {"cpu.busy_pct": 37.25, "net.rx_bytes_per_s[eth0]": 2048.0})],
        [PollStatus("alpha", HostState.UP, now, None, 12.0)],
    )
    inventory = Inventory.from_dict(
        {
            "groups": {"lab": {}},
            "hosts": [{"name": "alpha", "address": "127.77.0.1", "groups": ["lab"]}],
        },
        "inv.yaml",
    )
    _, token = AuthService(store.engine).create_token("prometheus", "read")
    app = create_app(store, LiveHub(), inventory)
    async for address in _serve(app):
        async with httpx.AsyncClient(base_url=f"http://{address}", timeout=10) as client:
            refused = await client.get("/metrics")
            assert refused.status_code == 401  # a token is needed, as for every read
        token_file = tmp_path / "token"
        token_file.write_text(token)
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
            "scrape_configs:\n"
            "  - job_name: mirror\n"
            "    honor_labels: true\n"
            f"    authorization: {{type: Bearer, credentials_file: {token_file}}}\n"
            f"    static_configs: [{{targets: ['{address}']}}]\n"
        )
        async for prometheus in _prometheus(config, tmp_path / "tsdb"):
            async with httpx.AsyncClient(base_url=prometheus, timeout=10) as client:
                busy = await _query(client, 'mirror_cpu_busy_pct{host="alpha"}')
                rx = await _query(client, 'mirror_net_rx_bytes_per_s{instance="eth0"}')
                up = await _query(client, 'up{job="mirror"}')
    assert busy["metric"]["group"] == "lab" and float(busy["value"][1]) == 37.25
    assert rx["metric"]["host"] == "alpha" and float(rx["value"][1]) == 2048.0
    assert float(up["value"][1]) == 1.0  # Prometheus parsed every line it scraped


async def _prometheus(config: Path, data: Path) -> AsyncIterator[str]:
    port = free_port()
    assert PROMETHEUS is not None
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


async def _query(client: httpx.AsyncClient, promql: str) -> dict:  # type: ignore[type-arg]
    for _ in range(150):  # Prometheus starts, then scrapes every second
        try:
            answer = (await client.get("/api/v1/query", params={"query": promql})).json()
        except httpx.TransportError:
            answer = {}
        result = answer.get("data", {}).get("result", [])
        if result:
            return result[0]
        await asyncio.sleep(0.2)
    raise AssertionError(f"Prometheus never had {promql}")

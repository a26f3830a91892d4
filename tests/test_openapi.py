"""A bounded schemathesis pass over EGO's own OpenAPI document: no generated request, however
odd, gets a 5xx. The real app as `mirror serve` builds it (poller, command runner, tunnels,
inventory reloader, SQLite) on a simulated lab on loopback, served by uvicorn over HTTP,
called with an admin's operate token so every route is reached past its guards.

Derandomized (the same cases every run) and bounded per operation, so the pass takes the
same time and finds the same things each time.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402 - after the skip

from ego.runtime import SERVER_OPTIONS, start  # noqa: E402
from lab import LabServer, ensure_keys, lab_ssh, make_lab  # noqa: E402
from mirror.auth import AuthService  # noqa: E402
from mirror.inventory import load_inventory  # noqa: E402
from mirror.settings import Settings  # noqa: E402

EXAMPLES_PER_OPERATION = 30


class Ego:
    """EGO with its HTTP server, in a thread with its own event loop (schemathesis calls
    synchronously)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = ""
        self.token = ""
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="ego", daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(60) or self.error is not None:
            raise RuntimeError(f"EGO did not start: {self.error!r}")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self.error = exc
            self._ready.set()

    async def _main(self) -> None:
        import uvicorn

        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        host_key, client_key, client_pub = ensure_keys(self.root / "keys")
        hosts = make_lab(2, subnet="127.78.9.0/24", start=10, seed="openapi")
        async with LabServer(hosts, 0, host_key, client_pub) as lab:
            path = self.root / "inventory.yaml"
            inventory = {
                "poll": {"interval_s": 5, "timeout_s": 4, "slow_every_s": 30},
                "defaults": {"ssh": lab_ssh(client_key, lab.port)},
                "hosts": [{"name": h.name, "address": h.address} for h in hosts],
            }
            path.write_text(yaml.safe_dump(inventory))
            settings_ = Settings(
                data_dir=self.root / "data",
                database_url=f"sqlite:///{self.root / 'mirror.db'}",
                inventory_path=path,
                bind_host="127.0.0.1",
                bind_port=0,
                inventory_watch_s=0,
            )
            running = await start(settings_, load_inventory(path))
            try:
                auth = AuthService(running.ego.store.engine)
                auth.add_user("admin", "correct horse battery", "admin")
                # A spare admin: a generated PATCH may demote or disable the other one.
                auth.add_user("spare", "correct horse battery", "admin")
                for i in range(300):  # a generated DELETE /api/admin/tokens/{id} hits these
                    auth.create_token(f"decoy{i}", "read")
                self.token = auth.create_token("openapi", "operate", user="admin")[1]
                sock = socket.socket()
                sock.bind(("127.0.0.1", 0))
                config = uvicorn.Config(
                    running.app, log_level="warning", lifespan="on", **SERVER_OPTIONS
                )
                server = uvicorn.Server(config)
                task = asyncio.create_task(server.serve(sockets=[sock]))
                while not server.started:
                    await asyncio.sleep(0.01)
                self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
                self._ready.set()
                await self._stop.wait()
                server.should_exit = True
                await asyncio.wait_for(task, 10)
            finally:
                await running.stop()


@pytest.fixture(scope="module")
def ego(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ego]:
    running = Ego(tmp_path_factory.mktemp("openapi"))
    running.start()
    yield running
    running.stop()


def _operations(ego: Ego) -> list[Any]:
    raw = httpx.get(
        f"{ego.url}/schema/openapi.json", headers={"Authorization": f"Bearer {ego.token}"}
    ).json()
    return [result.ok() for result in schemathesis.openapi.from_dict(raw).get_all_operations()]


def test_no_generated_request_gets_a_5xx(ego: Ego) -> None:
    """Each operation in turn (schemathesis' pytest plugin does not run on pytest 9 yet)."""
    server_errors: list[str] = []
    operations = _operations(ego)
    assert len(operations) > 30  # the whole API, not an empty document

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: Any) -> None:
            response = case.call(
                base_url=ego.url, headers={"Authorization": f"Bearer {ego.token}"}, timeout=30
            )
            if response.status_code >= 500:
                server_errors.append(
                    f"{case.method} {case.formatted_path} {case.query or ''} -> "
                    f"{response.status_code}: {response.text[:200]}"
                )

        call()
    assert ego.error is None, ego.error
    assert not server_errors, "\n".join(server_errors[:20])

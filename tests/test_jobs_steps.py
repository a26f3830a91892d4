"""Jobs with steps that wait, against the simulated lab (a host there reboots for real as far
as SSH can tell: `systemctl reboot` drops its connections, it refuses connects for a moment,
then answers with its uptime started again): run → reboot (under a maintenance window that
silences the host's alerts, closed once it is back) → check, each step's outcome stored;
a wake step without Wake-on-LAN, and a reboot that never comes back, fail with their reason."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from lab import LabServer, ensure_keys, lab_inventory, make_lab
from mirror.alerts.history import AlertHistory
from mirror.audit import AuditLog
from mirror.inventory import Inventory
from mirror.inventory.current import CurrentInventory
from mirror.storage import Store
from poller.commands import OwnConnections, SshCommandRunner
from poller.job_scheduler import JobScheduler
from poller.ssh import KnownHosts


class Windows:
    """The maintenance side of ``AlertService`` (silence, expire) on the real alert tables."""

    def __init__(self, history: AlertHistory) -> None:
        self.history = history
        self.opened: list[tuple[dict[str, str], float, str]] = []

    async def silence(
        self, matchers: dict[str, str], duration_s: float, who: str, via: str, comment: str
    ) -> dict[str, Any]:
        now = time.time()
        made = self.history.add_silence(matchers, now, now + duration_s, who, comment)
        self.opened.append((matchers, duration_s, comment))
        return {"id": made.id}

    async def expire(self, silence_id: int, who: str, via: str) -> dict[str, Any]:
        self.history.expire_silence(silence_id)
        return {"id": silence_id}


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    host_key, client_key, client_pub = ensure_keys(tmp_path / "keys")
    hosts = make_lab(2, subnet="127.78.18.0/24", start=10, seed="jobs")
    async with LabServer(hosts, 0, host_key, client_pub) as server:
        data = lab_inventory(hosts, client_key, server.port, connect_timeout_s=2)
        names = [h.name for h in hosts]
        data["jobs"] = {
            "patch": {
                "steps": [
                    {"run": "echo patching"},
                    {"reboot": True, "sudo": False, "wait": 20},
                    {"check": "uptime"},
                ],
                "targets": {"hosts": names[:1]},
            },
            "wake-it": {"steps": [{"wake": True, "wait": 2}], "targets": {"hosts": names[1:]}},
            "never-back": {
                "steps": [{"reboot": True, "sudo": False, "wait": 3}],
                "targets": {"hosts": names[1:]},
            },
        }
        inventory = Inventory.from_dict(data)
        store = Store.open(f"sqlite:///{tmp_path / 'mirror.db'}")
        store.upgrade()
        source = OwnConnections(inventory.hosts_resolved(), KnownHosts(tmp_path / "kh"))
        runner = SshCommandRunner(source)
        windows = Windows(AlertHistory(store.engine))
        jobs = JobScheduler(
            CurrentInventory(inventory),
            runner,
            AuditLog(store.engine),
            store.engine,
            maintenance=windows,
        )
        await jobs.start()
        try:
            yield {"jobs": jobs, "server": server, "names": names, "windows": windows}
        finally:
            await jobs.stop()
            await runner.close()
            store.close()


async def test_run_reboot_and_check_each_recorded_with_a_maintenance_window(
    env: dict[str, Any],
) -> None:
    jobs, host = env["jobs"], env["names"][0]
    started = time.monotonic()
    run_id = jobs.run_now("patch", "olive", "session")
    await jobs.until_runs_ended(1, 30)
    results = jobs.history.results(run_id)
    assert [(r["command"], r["state"]) for r in results] == [
        ("[1] echo patching", "ok"),
        ("[2] reboot, wait up to 20 s", "ok"),
        ("[3] uptime", "ok"),
    ]
    assert results[0]["stdout"] == "patching\n"
    assert results[1]["stdout"].startswith("back (up ")
    assert results[1]["duration_ms"] >= 1000  # it was down for reboot_downtime
    assert "load average" in results[2]["stdout"]
    assert jobs.history.run(run_id).state == "ok"
    assert time.monotonic() - started < 25
    ((matchers, duration, comment),) = env["windows"].opened
    assert (matchers, duration) == ({"host": host}, 20.0)
    assert comment == f"maintenance: job patch reboots {host}"
    (window,) = env["windows"].history.silences(include_expired=True)
    assert not window.active(time.time())  # closed once the host was back


async def test_a_wake_without_wol_and_a_host_that_never_comes_back_fail_with_why(
    env: dict[str, Any],
) -> None:
    jobs, server, host = env["jobs"], env["server"], env["names"][1]
    server.reboot_downtime = 30.0  # longer than the step waits
    woken = jobs.run_now("wake-it", "olive", "session")
    gone = jobs.run_now("never-back", "olive", "session")
    await jobs.until_runs_ended(2, 30)
    (wake,) = jobs.history.results(woken)
    assert (wake["state"], wake["error"]) == ("error", "Wake-on-LAN is not available here")
    (reboot,) = jobs.history.results(gone)
    assert reboot["state"] == "timeout"
    assert reboot["error"].startswith("rebooted, not back after 3 s (")
    # Not closed early: it ran its length (the step's wait), then the host's alerts count.
    (window,) = env["windows"].history.silences(include_expired=True)
    assert window.matchers == {"host": host}
    assert window.ends - window.starts == pytest.approx(3.0, abs=0.01)

"""CPU a poll costs the MONITORED host, per sample, measured on a real sshd on loopback.

Compares, in one run on one machine:
  * MIRROR STAGE's REFLECTOR: one persistent channel, shell built-ins (the shipped design);
  * a new exec channel per sample (`cat` of the same five /proc files);
  * the same two as root, whose login shell is bash with the machine's rc files;
  * one scrape of Debian's prometheus-node-exporter (default collectors, and only the
    five that match: cpu, meminfo, loadavg, netdev, diskstats).
Host CPU is read from /proc: utime+stime (+ reaped children) of every process under the
test sshd (session processes, shells, cats), or of node_exporter. Poller-side CPU per
sample (fetch + parse + rates) is this process's own CPU time.

Run: .venv/bin/python bench/host_cost.py [--samples N]   (needs root for sshd; loopback only)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncssh

from collectors.hostkind import FAST_REQUEST
from collectors.linux.kind import KIND as LINUX
from poller.reflector import SshReflector
from poller.ssh import PREFERRED_CIPHERS
from tests.support.sshd import Sshd, free_port, start_sshd

CLK_TCK = os.sysconf("SC_CLK_TCK")
FIVE_FILES = "cat /proc/stat /proc/meminfo /proc/loadavg /proc/net/dev /proc/diskstats"


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()


def tree_cpu_s(root_pid: int) -> float:
    """CPU seconds of every descendant of root_pid (not root_pid itself), children reaped
    by them included (an exec's shell and cat end up in its sshd's cutime/cstime)."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields:
                parents[int(entry.name)] = int(fields[1])
    total = 0
    for pid in parents:
        p, inside = pid, False
        while p in parents and p != 1:
            p = parents[p]
            if p == root_pid:
                inside = True
                break
        if inside:
            fields = _stat_fields(pid)
            if fields:
                total += sum(int(x) for x in fields[11:15])
    return total / CLK_TCK


def proc_cpu_s(pid: int) -> float:
    fields = _stat_fields(pid)
    return sum(int(x) for x in fields[11:13]) / CLK_TCK if fields else 0.0


async def connect(sshd: Sshd, user: str) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        sshd.ok_address,
        sshd.port,
        username=user,
        client_keys=[str(sshd.client_key)],
        known_hosts=None,
        agent_path=None,
        encryption_algs=PREFERRED_CIPHERS,  # as the poller connects
    )


async def measure_reflector(sshd: Sshd, user: str, samples: int) -> tuple[float, float]:
    async with await connect(sshd, user) as conn:
        reflector = await SshReflector.start(conn, LINUX.command())
        collector = LINUX.collector()  # parse + rates, as the poller does per host
        collector.fast(await reflector.request(FAST_REQUEST))  # warm: login shell runs here, once
        assert sshd.process is not None
        before_host = tree_cpu_s(sshd.process.pid)
        before_self = time.process_time()
        for _ in range(samples):
            collector.fast(await reflector.request(FAST_REQUEST))
        poller_s = time.process_time() - before_self
        host_s = tree_cpu_s(sshd.process.pid) - before_host
        await reflector.close()
    return host_s / samples * 1000, poller_s / samples * 1000


async def measure_exec(sshd: Sshd, user: str, samples: int) -> float:
    async with await connect(sshd, user) as conn:
        await conn.run(FIVE_FILES, check=True)
        assert sshd.process is not None
        before = tree_cpu_s(sshd.process.pid)
        for _ in range(samples):
            await conn.run(FIVE_FILES, check=True)
        return (tree_cpu_s(sshd.process.pid) - before) / samples * 1000


def measure_node_exporter(samples: int, collectors: list[str] | None) -> float | None:
    binary = shutil.which("prometheus-node-exporter")
    if not binary:
        return None
    port = free_port()
    args = [binary, f"--web.listen-address=127.0.0.1:{port}", "--log.level=error"]
    if collectors:
        args += ["--collector.disable-defaults", *(f"--collector.{c}" for c in collectors)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                time.sleep(0.05)
        for _ in range(5):
            urllib.request.urlopen(url, timeout=5).read()
        before = proc_cpu_s(proc.pid)
        for _ in range(samples):
            urllib.request.urlopen(url, timeout=5).read()
        return (proc_cpu_s(proc.pid) - before) / samples * 1000
    finally:
        proc.terminate()
        proc.wait()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args()
    n = args.samples
    rows: list[tuple[str, int, float | None, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # sshd reads authorized_keys as the login user
        sshd = start_sshd(Path(tmp) / "sshd")
        try:
            host_ms, poller_ms = await measure_reflector(sshd, sshd.user, n)
            rows.append(
                (
                    "REFLECTOR: persistent channel, sh built-ins",
                    n,
                    host_ms,
                    f"user {sshd.user} (/bin/sh); poller side {poller_ms:.2f} ms/sample",
                )
            )
            rows.append(
                (
                    "new exec channel per sample (cat)",
                    n,
                    await measure_exec(sshd, sshd.user, n),
                    f"user {sshd.user} (/bin/sh)",
                )
            )
            if os.geteuid() == 0:
                heavy = max(20, n // 20)
                host_ms, _ = await measure_reflector(sshd, "root", n)
                rows.append(
                    (
                        "REFLECTOR, login shell bash + rc files",
                        n,
                        host_ms,
                        "root: rc runs once per connection",
                    )
                )
                rows.append(
                    (
                        "new exec per sample, login shell bash + rc",
                        heavy,
                        await measure_exec(sshd, "root", heavy),
                        "root: rc runs every exec",
                    )
                )
        finally:
            sshd.stop()
    rows.append(
        (
            "node_exporter scrape, default collectors",
            n,
            measure_node_exporter(n, None),
            "Debian prometheus-node-exporter",
        )
    )
    rows.append(
        (
            "node_exporter scrape, the 5 matching collectors",
            n,
            measure_node_exporter(n, ["cpu", "meminfo", "loadavg", "netdev", "diskstats"]),
            "cpu meminfo loadavg netdev diskstats",
        )
    )

    print(f"\nHost CPU per sample ({os.cpu_count()} cores, {os.uname().release}, loopback)\n")
    width = max(len(r[0]) for r in rows)
    print(f"{'method':<{width}}  {'samples':>7}  {'host CPU ms/sample':>18}  notes")
    print(f"{'-' * width}  {'-' * 7}  {'-' * 18}  -----")
    for name, count, ms, note in rows:
        shown = "n/a" if ms is None else f"{ms:.3f}"
        print(f"{name:<{width}}  {count:>7}  {shown:>18}  {note}")


if __name__ == "__main__":
    asyncio.run(main())

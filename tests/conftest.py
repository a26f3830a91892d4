"""Shared test fixtures: the network guard and a real OpenSSH server on loopback."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.sshd import SSHD, Sshd, start_sshd

# --- a network namespace of the suite's own -------------------------------------------
# The suite runs where nothing but loopback exists: whatever a test (or the code under test,
# or a browser it starts) does, no packet and no DNS query can leave the machine. A pytest
# started outside one re-runs itself inside one (scripts/isolated.sh) as soon as it is
# configured (by then output capture is suspended, so the new process keeps the terminal);
# the socket guard below still names the offending test.


def _interfaces() -> list[str]:
    lines = Path("/proc/self/net/dev").read_text().splitlines()[2:]
    return [line.split(":", 1)[0].strip() for line in lines]


# scripts/isolated.sh: loopback, and a veth pair whose two ends are both in the namespace.
ISOLATED_INTERFACES = {"lo", "mirror0", "mirror1"}


def _routes() -> list[str]:
    return Path("/proc/self/net/route").read_text().splitlines()[1:]


def _isolate() -> None:
    if "lo" in _interfaces() and set(_interfaces()) <= ISOLATED_INTERFACES and not _routes():
        return
    if os.environ.get("MIRROR_TEST_ISOLATED"):
        raise SystemExit(f"tests: still outside an isolated namespace: {_interfaces()}")
    os.environ["MIRROR_TEST_ISOLATED"] = "1"
    isolated = Path(__file__).resolve().parents[1] / "scripts" / "isolated.sh"
    try:
        os.execv(str(isolated), [str(isolated), *sys.orig_argv])
    except OSError as e:
        raise SystemExit(f"tests: cannot enter a network namespace of their own: {e}") from e


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    _isolate()


# --- network guard ---------------------------------------------------------------
# Tests may only reach 127.0.0.0/8 (and ::1). Any other destination is refused and
# fails the test even when the code under test swallows the error (a poller turns
# errors into host states, so an exception alone could go unnoticed).

_violations: list[str] = []


def _allowed(address: object) -> bool:
    if not isinstance(address, tuple) or not address:
        return True  # AF_UNIX paths and the like
    host = address[0]
    if not isinstance(host, str):
        return True
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a DNS name: resolving it would itself be traffic


def _guard(method_name: str):  # type: ignore[no-untyped-def]
    original = getattr(socket.socket, method_name)

    def guarded(self, *args):  # type: ignore[no-untyped-def]
        address = args[-1] if method_name in ("sendto",) else args[0] if args else None
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _allowed(address):
            _violations.append(f"{method_name} to {address!r}")
            raise PermissionError(f"network guard: {method_name} to {address!r} is not loopback")
        return original(self, *args)

    return original, guarded


_ORIGINALS = {}
for _name in ("connect", "connect_ex", "sendto"):
    _ORIGINALS[_name], _patched = _guard(_name)
    setattr(socket.socket, _name, _patched)


@pytest.fixture(autouse=True)
def network_guard() -> Iterator[None]:
    _violations.clear()
    yield
    if _violations:
        found = list(_violations)
        _violations.clear()
        pytest.fail(f"test sent traffic outside 127.0.0.0/8: {found}")


# --- a real OpenSSH server -----------------------------------------------------------


@pytest.fixture(scope="session")
def sshd() -> Iterator[Sshd]:
    if not Path(SSHD).exists():
        pytest.fail("OpenSSH server not installed: run `make test` (it installs openssh-server)")
    # Not under pytest's 0700 temp root: sshd reads authorized_keys as the login user.
    root = Path(tempfile.mkdtemp(prefix="mirror-sshd-"))
    server = start_sshd(root)
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


# --- TimescaleDB ------------------------------------------------------------------
# The suite's own PostgreSQL cluster with TimescaleDB preloaded (tests/support/tsdb.py),
# started on first use; PGlite only where TimescaleDB is not installed, and said so.


def pytest_report_header(config: pytest.Config) -> str:
    from tests.support import tsdb

    why = tsdb.cluster_missing()
    if why is None:
        return "timescaledb: the suite's own PostgreSQL 15 cluster with TimescaleDB preloaded"
    fallback = tsdb.pglite_missing()
    return f"timescaledb: FALLBACK to PGlite ({why})" + (
        f"; PGlite unavailable too ({fallback}): TimescaleDB tests skip" if fallback else ""
    )


def _cluster(scheduler: bool) -> Iterator[object]:
    from tests.support import tsdb

    if tsdb.cluster_missing() is not None:
        yield None
        return
    cluster = tsdb.start_cluster(scheduler=scheduler)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def tsdb_cluster() -> Iterator[object]:
    """The cluster (``tsdb.TsdbCluster``, scheduler off), or None where TimescaleDB is not
    installed."""
    yield from _cluster(False)


@pytest.fixture(scope="session")
def tsdb_scheduler_cluster() -> Iterator[object]:
    """A cluster where TimescaleDB's background scheduler runs the jobs (or None)."""
    yield from _cluster(True)


@pytest.fixture
def tsdb(tsdb_cluster: object) -> Iterator[object]:
    """An empty TimescaleDB database (``tsdb.Tsdb``): the cluster's, else a PGlite server."""
    from tests.support import tsdb as support

    if isinstance(tsdb_cluster, support.TsdbCluster):
        with tsdb_cluster.database() as url:
            yield support.Tsdb(url, True, tsdb_cluster.label)
        return
    why = support.cluster_missing()
    fallback = support.pglite_missing()
    if fallback:
        pytest.skip(f"no TimescaleDB: {why}; PGlite fallback: {fallback}")
    server = support.start_pglite()
    try:
        yield support.Tsdb(server.url, False, f"PGlite FALLBACK ({why})")
    finally:
        server.stop()


@pytest.fixture
def tsdb_scheduled(tsdb_scheduler_cluster: object) -> Iterator[object]:
    """An empty database on the real server with its background scheduler running."""
    from tests.support import tsdb as support

    if not isinstance(tsdb_scheduler_cluster, support.TsdbCluster):
        pytest.skip(f"needs a real TimescaleDB server: {support.cluster_missing()}")
    with tsdb_scheduler_cluster.database() as url:
        yield support.Tsdb(url, True, tsdb_scheduler_cluster.label)

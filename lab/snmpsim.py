"""Start snmpsim (a real SNMP agent serving recorded walks) on loopback, for tests, bench and demo.

Each ``<community>.snmprec`` in ``data_dir`` answers SNMPv2c with that community on every
endpoint. Only 127.0.0.0/8 endpoints are accepted: this is never pointed at a real network.
"""

from __future__ import annotations

import ctypes
import ipaddress
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from mirror.errors import ConfigError
from mirror.process import stop_process, wait_for_log

READY_TIMEOUT_S = 30.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Loaded before any fork: the child only calls it (see _die_with_parent).
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent goes, even by SIGKILL, so a killed
    test run or demo does not leave snmpsim holding its ports (it runs in its own session)."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _command() -> str:
    beside = Path(sys.executable).with_name("snmpsim-command-responder")
    found = str(beside) if beside.exists() else shutil.which("snmpsim-command-responder")
    if found is None:
        raise ConfigError("snmpsim is not installed (pip install snmpsim pysmi)")
    return found


@dataclass
class SnmpSim:
    data_dir: Path
    endpoints: list[tuple[str, int]]
    process: subprocess.Popen[bytes] | None = None
    work_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="mirror-snmpsim-")))
    variation_dir: Path | None = None  # replaces snmpsim's own modules (lab.wave)

    def start(self) -> SnmpSim:
        for address, _ in self.endpoints:
            if not ipaddress.ip_address(address).is_loopback:
                raise ConfigError(f"snmpsim endpoint {address} is not a loopback address")
        log_path = self.work_dir / "snmpsim.log"
        args = [
            _command(),
            f"--data-dir={self.data_dir}",
            f"--cache-dir={self.work_dir / 'cache'}",
            "--logging-method=stderr",
            *([f"--variation-modules-dir={self.variation_dir}"] if self.variation_dir else []),
            *(f"--agent-udpv4-endpoint={a}:{p}" for a, p in self.endpoints),
        ]
        # As root snmpsim refuses to start unless told it may (it would otherwise drop to nobody).
        env = os.environ | {"SNMPSIM_ALLOW_ROOT": "true"}
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # only a prctl call: safe after fork
            )
        wanted = [f"Listening at UDP/IPv4 endpoint {a}:{p}" for a, p in self.endpoints]
        if wait_for_log(self.process, log_path, wanted, READY_TIMEOUT_S):
            return self
        self.stop()
        tail = log_path.read_text(errors="replace")[-800:]
        raise ConfigError(f"snmpsim did not start: {tail}")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None
        shutil.rmtree(self.work_dir, ignore_errors=True)

    def __enter__(self) -> SnmpSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

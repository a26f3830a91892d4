"""A real Net-SNMP agent (Debian ``snmpd``) on a loopback UDP port, with v2c and a v3 user."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mirror.process import stop_process, wait_for_log

SNMPD = shutil.which("snmpd") or "/usr/sbin/snmpd"
COMMUNITY = "mirror-ro-test"
V3_USER, V3_AUTH, V3_PRIV = "monv3", "authpass123", "privpass123"


def free_udp_port(address: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


@dataclass
class Snmpd:
    root: Path
    address: str
    port: int
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Snmpd:
        conf = self.root / "snmpd.conf"
        conf.write_text(
            f"agentAddress udp:{self.address}:{self.port}\n"
            f"rocommunity {COMMUNITY} 127.0.0.1\n"
            f"createUser {V3_USER} SHA {V3_AUTH} AES {V3_PRIV}\n"
            f"rouser {V3_USER} priv\n"
            "sysName mirror-test-snmpd\n"
            "sysLocation loopback\n"
        )
        (self.root / "persist").mkdir(exist_ok=True)
        env = os.environ | {"SNMP_PERSISTENT_DIR": str(self.root / "persist")}
        log = (self.root / "snmpd.log").open("wb")
        self.process = subprocess.Popen(
            [SNMPD, "-f", "-C", "-c", str(conf), "-Lf", str(self.root / "agent.log"),
             "-p", str(self.root / "snmpd.pid")],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
        agent_log = self.root / "agent.log"
        if wait_for_log(self.process, agent_log, ["NET-SNMP version"], 10):
            return self
        self.stop()
        text = agent_log.read_text(errors="replace") if agent_log.exists() else ""
        raise RuntimeError(f"snmpd did not start: {text[-500:]}")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

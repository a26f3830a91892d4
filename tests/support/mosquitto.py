"""A real Mosquitto broker on loopback, started for a test or a bench (bench/mqtt.py)."""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.sshd import free_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


@dataclass
class Broker:
    port: int
    config: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait until it accepts connections (10 s at most)."""
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError("mosquitto did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@contextmanager
def running_broker(directory: Path, login: tuple[str, str] | None = None) -> Iterator[Broker]:
    """A broker on 127.0.0.1 and a free port, its files in ``directory``: with ``login``
    (user, password) only that user may connect, without it anyone may. Persistence is off,
    so a restart (``stop``, ``start``) forgets every retained message."""
    port = free_port()
    lines = [f"listener {port} 127.0.0.1", "persistence false"]
    if login is None:
        lines.append("allow_anonymous true")
    else:
        passwords = directory / "passwd"
        subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), *login], check=True)
        lines += ["allow_anonymous false", f"password_file {passwords}"]
    # Started as root, mosquitto would switch to its own user, who cannot read ``directory``.
    lines.append(f"user {getpass.getuser()}")
    config = directory / "mosquitto.conf"
    config.write_text("\n".join(lines) + "\n")
    broker = Broker(port, config)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()

"""A real OpenSSH server on loopback with its own config and keys (tests and bench)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab import lab_ssh
from mirror.process import stop_process

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
TEST_USER = "mirrortest"


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def keygen(path: Path) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
        check=True,
    )
    return path


def login_user() -> str:
    """Root logs in as a user whose shell is /bin/sh (root's bash rc costs ~110 ms/exec)."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.getuid()).pw_name
    try:
        pwd.getpwnam(TEST_USER)
    except KeyError:
        # "*" rather than useradd's default "!": with UsePAM no, sshd refuses "!" as locked.
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", "-p", "*", TEST_USER], check=True)
    return TEST_USER


@dataclass
class Sshd:
    """One sshd answering on several loopback addresses, each with a role."""

    root: Path
    port: int
    user: str
    client_key: Path
    host_key: Path
    process: subprocess.Popen[bytes] | None = None

    ok_address = "127.0.0.21"
    hang_address = "127.0.0.22"  # ForceCommand sleep: a host whose commands hang
    garbage_address = "127.0.0.23"  # ForceCommand that prints garbage

    def config(self) -> str:
        garbage = self.root / "garbage.sh"
        garbage.write_text(
            "#!/bin/sh\nprintf 'Welcome to BusyBox!\\n\\x00\\xff@@B\\n'; cat >/dev/null\n"
        )
        garbage.chmod(0o755)
        return f"""
Port {self.port}
ListenAddress {self.ok_address}
ListenAddress {self.hang_address}
ListenAddress {self.garbage_address}
HostKey {self.host_key}
PidFile {self.root}/sshd.pid
AuthorizedKeysFile {self.root}/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxSessions 64
MaxStartups 200
PermitRootLogin prohibit-password
LogLevel ERROR
Match LocalAddress {self.hang_address}
    ForceCommand sleep 600
Match LocalAddress {self.garbage_address}
    ForceCommand {garbage}
"""

    def ssh_settings(self, **overrides: Any) -> dict[str, Any]:
        """An inventory's ``ssh:`` settings that log in to this server with the client key
        (as to the simulator: key only, no agent, its host key trusted on first use)."""
        return lab_ssh(self.client_key, self.port, self.user) | overrides

    def start(self) -> None:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        conf = self.root / "sshd_config"
        conf.write_text(self.config())
        self.process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(conf)], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex((self.ok_address, self.port)) == 0:
                    return
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"sshd exited: {err}")
            time.sleep(0.05)
        raise RuntimeError("sshd did not start listening")

    def stop(self) -> None:
        stop_process(self.process)

    def restart_with_new_host_key(self) -> None:
        self.stop()
        self.host_key.unlink()
        self.host_key.with_suffix(".pub").unlink()
        keygen(self.host_key)
        self.start()


def start_sshd(root: Path) -> Sshd:
    """Keys, authorized_keys and a running server under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    client_key = keygen(root / "client_ed25519")
    host_key = keygen(root / "host_ed25519")
    (root / "authorized_keys").write_text(client_key.with_suffix(".pub").read_text())
    (root / "authorized_keys").chmod(0o644)
    server = Sshd(root, free_port(Sshd.ok_address), login_user(), client_key, host_key)
    server.start()
    return server

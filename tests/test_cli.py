"""The `mirror` command as a user runs it: a real process, real sshd, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.support.sshd import Sshd, free_port

MIRROR = [sys.executable, "-m", "cli"]


def run(
    args: list[str], tmp_path: Path, timeout: float = 60, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MIRROR_DATA_DIR": str(tmp_path / "data"), **extra_env}
    env.pop("MIRROR_DATABASE_URL", None)
    return subprocess.run(
        [*MIRROR, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )


def write_inventory(tmp_path: Path, sshd: Sshd, port: int | None = None) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "defaults": {"ssh": sshd.ssh_settings(port=port or sshd.port)},
                "hosts": [{"name": "box", "address": sshd.ok_address, "tags": ["서버"]}],
            },
            allow_unicode=True,
        )
    )
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["poll", "--help"],
        ["check", "--help"],
        ["serve", "--help"],
        ["db", "upgrade", "--help"],
        ["demo", "--help"],
        ["trust", "--help"],
    ],
)
def test_help_everywhere(args: list[str], tmp_path: Path) -> None:
    result = run(args, tmp_path)
    assert result.returncode == 0
    assert "usage: mirror" in result.stdout


def test_poll_prints_a_table(sshd: Sshd, tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path, sshd)
    result = run(["poll", "--host", "box", "-i", str(inventory)], tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("box: up")
    for heading in ("CPU", "Load", "Mem", "Filesystems", "Network", "Top processes by CPU"):
        assert heading in out
    assert "Traceback" not in result.stderr


def test_poll_json(sshd: Sshd, tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path, sshd)
    result = run(["poll", "--host", "box", "--json", "-i", str(inventory)], tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["state"] == "up"
    assert data["metrics"]["cpu.busy_pct"] >= 0
    assert data["info"]["kernel"] == os.uname().release


def test_poll_unreachable_host_says_why(sshd: Sshd, tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path, sshd, port=free_port(sshd.ok_address))
    result = run(["poll", "--host", "box", "-i", str(inventory)], tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("box: unreachable — connection refused")
    assert "Traceback" not in result.stderr


def test_poll_unknown_host(sshd: Sshd, tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path, sshd)
    result = run(["poll", "--host", "nope", "-i", str(inventory)], tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "mirror: no host named 'nope' in the inventory (hosts: box)"


def test_check_reports_problems_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "inventory.yaml"
    bad.write_text("hosts:\n  - name: a\n    address: 127.0.0.1\n    ssh:\n      port: 70000\n")
    result = run(["check", str(bad)], tmp_path)
    assert result.returncode == 1
    assert f"{bad}:5 hosts[0].ssh.port: must be 1-65535, got 70000" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_check_accepts_the_shipped_inventory(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[1] / "inventory.yaml"
    # It names the owner's key, ~/.ssh/id_ed25519: here, one in a home of the test's own.
    key = tmp_path / "home" / ".ssh" / "id_ed25519"
    key.parent.mkdir(parents=True)
    key.write_text("a key\n")
    key.chmod(0o600)
    result = run(["check", str(shipped)], tmp_path, HOME=str(tmp_path / "home"))
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().endswith(": ok")


def test_poll_with_broken_inventory_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "inventory.yaml"
    bad.write_text("hosts: [\n")
    result = run(["poll", "--host", "x", "-i", str(bad)], tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert str(bad) in result.stderr


def test_trust_replaces_a_changed_key(sshd: Sshd, tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path, sshd)
    result = run(["trust", "box", "-i", str(inventory)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "recorded ssh-ed25519 key SHA256:" in result.stdout
    again = run(["trust", "box", "-i", str(inventory)], tmp_path)
    assert "replaced 1 old entry" in again.stdout
    known = (tmp_path / "data" / "known_hosts").read_text().splitlines()
    assert len(known) == 1


def test_ssh_config_alias_and_agent(sshd: Sshd, tmp_path: Path) -> None:
    """OpenSSH conventions: a Host alias from ~/.ssh/config, the key held by ssh-agent."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(
        f"Host box-alias\n  HostName {sshd.ok_address}\n  Port {sshd.port}\n  User {sshd.user}\n"
    )
    agent_sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(agent_sock)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(50):
            if agent_sock.exists():
                break
            time.sleep(0.05)
        env_agent = {**os.environ, "SSH_AUTH_SOCK": str(agent_sock)}
        subprocess.run(["ssh-add", "-q", str(sshd.client_key)], env=env_agent, check=True)
        inventory = tmp_path / "inventory.yaml"
        inventory.write_text(
            yaml.safe_dump(
                {
                    "hosts": [
                        {
                            "name": "box",
                            "address": sshd.ok_address,
                            "ssh": {
                                "config_host": "box-alias",
                                "agent": True,
                                "trust_on_first_use": True,
                            },
                        }
                    ]
                }
            )
        )
        env = {
            **env_agent,
            "HOME": str(home),
            "MIRROR_DATA_DIR": str(tmp_path / "data"),
        }
        result = subprocess.run(
            [*MIRROR, "poll", "--host", "box", "--json", "-i", str(inventory)],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=Path(__file__).resolve().parents[1],
        )
    finally:
        agent.terminate()
        agent.wait()
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["state"] == "up"


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        # 2: the command line itself is wrong (argparse's own, and option values it cannot
        # check: the same status, one line, no traceback).
        (["no-such-command"], 2, "invalid choice"),
        (["poll"], 2, "--host"),
        (["serve", "--port", "eighty"], 2, "--port"),
        (["audit", "list", "--since", "yesterday"], 2, "--since"),
        (["run", "--host", "box", "--timeout", "0", "--", "true"], 2, "--timeout"),
        ([], 2, "usage: mirror"),
        # 1: a problem found or a failure.
        (["check", "no-such-folder/inventory.yaml"], 1, "inventory"),
        (["poll", "--host", "ghost", "-i", "no-such-folder/inventory.yaml"], 1, "inventory"),
    ],
)
def test_exit_status_usage_2_problem_1(
    args: list[str], code: int, says: str, tmp_path: Path
) -> None:
    result = run(args, tmp_path)
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert says in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_check_and_serve_refuse_missing_or_open_secret_files(tmp_path: Path) -> None:
    open_key = tmp_path / "open_key"
    open_key.write_text("a key\n")
    open_key.chmod(0o644)
    good_key = tmp_path / "good_key"
    good_key.write_text("a key\n")
    good_key.chmod(0o600)
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "defaults:\n"
        "  ssh:\n"
        "    user: mon\n"
        "    key_file: no-such-key   # relative to this file's folder\n"
        "groups:\n"
        "  pis:\n"
        "    ssh: {password_file: /}\n"
        "hosts:\n"
        "  - name: a\n"
        "    address: 127.77.3.1\n"
        "    ssh: {key_file: open_key}\n"
        "  - name: b\n"
        "    address: 127.77.3.2\n"
        "    groups: [pis]\n"
        "  - name: c\n"
        "    address: 127.77.3.3\n"
        f"    ssh: {{key_file: {good_key}}}\n"
    )
    check = run(["check", str(inventory)], tmp_path)
    assert check.returncode == 1
    assert check.stdout.splitlines() == [
        f"{inventory}:4 defaults.ssh.key_file: {tmp_path}/no-such-key: no such file",
        f"{inventory}:7 groups.pis.ssh.password_file: /: not a regular file",
        f"{inventory}:11 hosts[0].ssh.key_file: {open_key} may be read by others (mode 644): "
        f"`chmod 600 {open_key}`",
    ]
    port = str(free_port())
    serve = run(["serve", "-i", str(inventory), "--port", port], tmp_path, timeout=30)
    assert serve.returncode == 1 and "Traceback" not in serve.stderr
    assert f"{inventory}:4 defaults.ssh.key_file:" in serve.stderr
    assert f"{inventory}:11 hosts[0].ssh.key_file:" in serve.stderr
    open_key.chmod(0o600)
    (tmp_path / "no-such-key").write_text("a key\n")
    (tmp_path / "no-such-key").chmod(0o400)
    inventory.write_text(
        inventory.read_text().replace("password_file: /", "password_file: good_key")
    )
    fixed = run(["check", str(inventory)], tmp_path)
    assert fixed.returncode == 0 and fixed.stdout.strip().endswith(": ok"), fixed.stdout

"""A real install (issue 16): the wheel carries the built web UI and the migrations, and
`mirror install` writes a systemd unit that `systemd-analyze verify` passes.

The wheel is built from this checkout (``python -m build``: an sdist, then the wheel from the
sdist, as a packager would), installed in a fresh virtual environment and run as
``mirror serve`` from a folder outside the source tree: it must migrate a new database and
serve the page and its script from the installed copy.
"""

from __future__ import annotations

import re
import shutil
import site
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from cli.install import UNIT_NAME
from cli.main import main
from tests.support.sshd import free_port

ROOT = Path(__file__).resolve().parents[1]
UNIT = Path("etc/systemd/system") / UNIT_NAME
HARDENING = {
    "User": "mirror-stage",
    "AmbientCapabilities": "CAP_NET_RAW",
    "CapabilityBoundingSet": "CAP_NET_RAW",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "ReadWritePaths": "/var/lib/mirror-stage /etc/mirror-stage",
    "StandardOutput": "journal",
    "EnvironmentFile": "/etc/mirror-stage/mirror-stage.env",
}

needs_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (Debian systemd; scripts/setup.sh --test)",
)


def _settings(unit_text: str) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in unit_text.splitlines() if "=" in line and line[0] != "#"
    )


def _verify(unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )


@needs_analyze
def test_installed_unit_passes_systemd_analyze_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["install", "--root", str(tmp_path)]) == 0
    unit = tmp_path / UNIT
    text = unit.read_text()
    found = _settings(text)
    for key, value in HARDENING.items():
        assert found.get(key) == value, key
    assert found["ExecStart"] == f"{Path(sys.executable).parent / 'mirror'} serve"
    done = _verify(unit)
    assert done.returncode == 0 and done.stdout + done.stderr == "", done.stderr

    # The check is not vacuous: a wrong value and a missing program are caught.
    bad = tmp_path / "broken" / UNIT_NAME
    bad.parent.mkdir()
    bad.write_text(
        text.replace("ProtectSystem=strict", "ProtectSystem=sometimes").replace(
            found["ExecStart"], "/nonexistent/mirror serve"
        )
    )
    done = _verify(bad)
    assert done.returncode != 0
    assert "protect system" in done.stderr and "/nonexistent/mirror" in done.stderr


def test_install_keeps_the_owners_config_and_uninstall_keeps_data_unless_purged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inventory = tmp_path / "mine.yaml"
    inventory.write_text("hosts:\n  - {name: nas, address: 127.0.0.9}\n")
    assert main(["install", "--root", str(tmp_path), "--inventory", str(inventory)]) == 0
    env = tmp_path / "etc/mirror-stage/mirror-stage.env"
    assert "MIRROR_DATA_DIR=/var/lib/mirror-stage" in env.read_text()
    assert (tmp_path / "etc/mirror-stage/inventory.yaml").read_text() == inventory.read_text()
    assert (env.stat().st_mode & 0o777) == 0o640
    env.write_text(env.read_text() + "MIRROR_PORT=9443\n")  # the owner's edit
    data = tmp_path / "var/lib/mirror-stage"
    (data / "mirror.db").write_bytes(b"not lost")
    # Installing again (an upgrade) keeps both files as the owner left them.
    assert main(["install", "--root", str(tmp_path), "--dry-run"]) == 0
    shown = capsys.readouterr().out
    assert f"keep /etc/mirror-stage/{env.name} (already there)" in shown
    assert main(["install", "--root", str(tmp_path)]) == 0
    assert env.read_text().endswith("MIRROR_PORT=9443\n")

    assert main(["uninstall", "--root", str(tmp_path)]) == 0
    assert not (tmp_path / UNIT).exists()
    assert (data / "mirror.db").read_bytes() == b"not lost" and env.exists()
    assert main(["uninstall", "--root", str(tmp_path), "--purge"]) == 0
    assert not data.exists() and not env.parent.exists()


def test_dry_run_on_the_real_system_only_prints(capsys: pytest.CaptureFixture[str]) -> None:
    unit = Path("/") / UNIT
    before = unit.exists()
    assert main(["install", "--dry-run"]) == 0
    shown = capsys.readouterr().out
    assert f"write /{UNIT} (mode 644):" in shown
    assert "run systemctl enable --now mirror-stage" in shown
    assert "    AmbientCapabilities=CAP_NET_RAW" in shown
    assert unit.exists() == before
    assert main(["uninstall", "--dry-run", "--purge"]) == 0
    assert "remove /var/lib/mirror-stage" in capsys.readouterr().out
    assert unit.exists() == before


def test_wheel_installs_and_serves_the_built_ui_outside_the_source_tree(tmp_path: Path) -> None:
    if not (ROOT / "web" / "dist" / "index.html").is_file():
        pytest.fail("web/dist is not built: run `scripts/setup.sh --test`")
    out = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheel = next(out.glob("mirror_stage-*.whl"))

    fresh = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(fresh)], check=True)
    python = fresh / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    # The dependencies are this suite's (no index in the test's namespace): the fresh venv
    # sees their folder as a plain path, so the checkout's editable-install hook never runs.
    deps = Path(site.getsitepackages()[0])
    fresh_site = next((fresh / "lib").glob("python3*/site-packages"))
    (fresh_site / "deps.pth").write_text(f"{deps}\n")

    away = tmp_path / "elsewhere"
    away.mkdir()
    where = subprocess.run(
        [
            str(python),
            "-c",
            "import api.app, mirror.storage.store as s; "
            "print(api.app.BUILT_WEB_DIR); print(s.MIGRATIONS_DIR)",
        ],
        cwd=away,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(Path(p).is_relative_to(fresh_site) for p in where), where

    (away / "inventory.yaml").write_text("hosts: []\n")
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(away),
        "MIRROR_DATA_DIR": str(away / "data"),
        "MIRROR_PORT": str(port),
        "MIRROR_BACKUP_KEEP": "0",
    }
    log = away / "serve.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [str(fresh / "bin" / "mirror"), "serve"],
            cwd=away,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        page = httpx.get(f"{base}/", timeout=10)
        assert page.status_code == 200
        script = re.search(r'src="(/assets/[^"]+\.js)"', page.text)
        assert script, page.text
        asset = httpx.get(base + script[1], timeout=10)
        assert asset.status_code == 200
        assert asset.headers["content-type"].startswith(
            ("text/javascript", "application/javascript")
        )
        installed = fresh_site / "mirror/_data/web/dist" / script[1].lstrip("/")
        assert asset.content == installed.read_bytes()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

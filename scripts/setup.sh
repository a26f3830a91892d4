#!/usr/bin/env bash
# Install what MIRROR STAGE needs. `scripts/setup.sh` for the demo;
# `scripts/setup.sh --test` also installs what the test suite talks to
# (OpenSSH server, net-snmp, fping, Chromium) and the test tools.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need Debian packages: ${missing[*]} (run as root or install them)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

apt_install python3-venv
if [ $want_test -eq 1 ]; then
  apt_install openssh-server openssh-client snmpd snmp fping iproute2 prometheus-node-exporter prometheus chromium fonts-noto-cjk sudo postgresql-15 ieee-data
  # Login shells that tests/test_launch_shells.py logs in with, and shellcheck for the
  # REFLECTOR programs (tests skip, saying which package, when one is missing).
  apt_install zsh fish tcsh csh ksh busybox-static shellcheck
  # sshd started by the tests runs as root but logs in as a user whose shell is /bin/sh.
  if [ "$(id -u)" -eq 0 ]; then
    id mirrortest >/dev/null 2>&1 || useradd -m -s /bin/sh mirrortest
    usermod -p '*' mirrortest  # no password, but not locked ("!" makes sshd refuse keys too)
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip >/dev/null
if [ $want_test -eq 1 ]; then
  .venv/bin/pip install -q -e '.[test]'
else
  .venv/bin/pip install -q -e .
fi
# The web UI (web/, Vite + TypeScript) is built into web/dist, which `mirror serve` serves;
# without npm the minimal page in web/minimal is served instead.
if command -v npm >/dev/null 2>&1; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null && npm run -s build >/dev/null)
else
  echo "setup: npm not found: web UI not built (the minimal page is served instead)" >&2
fi
# Tests only: a real TimescaleDB for tests/test_storage_timescale.py and friends. The suite
# starts a PostgreSQL cluster of its own with it preloaded (tests/support/tsdb.py); it needs
# the extension's files in PostgreSQL 15's folders, which ../shared/timescaledb/install.sh
# puts there (idempotent; it changes no server's settings). Without them the tests fall back
# to PGlite (WASM PostgreSQL with timescaledb, on node) and say so.
if [ $want_test -eq 1 ]; then
  tsdb_installer=../shared/timescaledb/install.sh
  if [ -f /usr/share/postgresql/15/extension/timescaledb.control ]; then
    :
  elif [ -f "$tsdb_installer" ] && [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing TimescaleDB from $tsdb_installer"
    bash "$tsdb_installer" >/dev/null
  elif [ -f "$tsdb_installer" ]; then
    echo "setup: run $tsdb_installer as root for the TimescaleDB tests" >&2
  fi
  if [ ! -f /usr/share/postgresql/15/extension/timescaledb.control ]; then
    if command -v npm >/dev/null 2>&1; then
      echo "setup: TimescaleDB not installed: the tests fall back to PGlite" >&2
      (cd tests/support/timescale && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    else
      echo "setup: neither TimescaleDB nor npm: the TimescaleDB tests will be skipped" >&2
    fi
  fi
fi
echo "setup: ok"

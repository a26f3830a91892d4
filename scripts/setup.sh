#!/usr/bin/env bash
# Install what MIRROR STAGE needs. `scripts/setup.sh` for the demo;
# `scripts/setup.sh --test` also installs what the test suite talks to
# (OpenSSH server, net-snmp, fping, Chromium) and the test tools (pytest, ruff, mypy).
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
  apt_install faketime  # `make test-clock`: the time-sensitive tests at chosen clock times
  # certutil: tests/test_https.py gives Chromium an NSS database that trusts EGO's CA;
  # systemd-analyze: tests/test_install.py verifies the unit `mirror install` writes.
  apt_install libnss3-tools systemd
  # sshd started by the tests runs as root but logs in as a user whose shell is /bin/sh.
  if [ "$(id -u)" -eq 0 ]; then
    id mirrortest >/dev/null 2>&1 || useradd -m -s /bin/sh mirrortest
    usermod -p '*' mirrortest  # no password, but not locked ("!" makes sshd refuse keys too)
  fi
fi

# A second run skips what is already done: each step leaves a stamp holding the hash of
# what it was made from (pyproject.toml, package-lock.json, the web sources) and runs again
# only when that changed, so `make demo` starts again in about a second. Delete the stamp
# (or the folder) to force a step.
hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1; }
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
py_key="$(hash_of pyproject.toml)-$(.venv/bin/python -V 2>&1)"
extras=""
[ $want_test -eq 1 ] && extras="[test]"
# The test extras include everything the demo needs: a test stamp serves both.
if stamp_ok .venv/.setup-test "$py_key" || { [ $want_test -eq 0 ] && stamp_ok .venv/.setup-demo "$py_key"; }; then
  :
else
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e ".$extras"
  echo "$py_key" > ".venv/.setup-$([ $want_test -eq 1 ] && echo test || echo demo)"
fi
# The web UI (web/, Vite + TypeScript) is built into web/dist, which `mirror serve` serves;
# without npm the minimal page in web/minimal is served instead.
if command -v npm >/dev/null 2>&1; then
  npm_key="$(hash_of web/package-lock.json)"
  if ! stamp_ok web/node_modules/.setup-stamp "$npm_key"; then
    (cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$npm_key" > web/node_modules/.setup-stamp
  fi
  web_key="$(find web/src web/public web/scripts web/index.html web/vite.config.ts \
    web/tsconfig.json web/package.json web/package-lock.json -type f 2>/dev/null | LC_ALL=C sort | xargs cat | sha256sum | cut -d' ' -f1)"
  if ! stamp_ok web/dist/.setup-stamp "$web_key"; then
    (cd web && npm run -s build >/dev/null)
    echo "$web_key" > web/dist/.setup-stamp
  fi
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
      ts_key="$(hash_of tests/support/timescale/package-lock.json)"
      if ! stamp_ok tests/support/timescale/node_modules/.setup-stamp "$ts_key"; then
        (cd tests/support/timescale && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
        echo "$ts_key" > tests/support/timescale/node_modules/.setup-stamp
      fi
    else
      echo "setup: neither TimescaleDB nor npm: the TimescaleDB tests will be skipped" >&2
    fi
  fi
fi
echo "setup: ok"

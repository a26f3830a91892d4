#!/bin/sh
# Run a command in a network namespace of its own where only loopback leads anywhere:
# nothing it does can reach beyond this machine (no route, no resolver). So that "this
# machine" still has a network card to report, the namespace gets a veth pair, mirror0 and
# mirror1, both ends inside it, no address: a cable from the namespace back into itself.
#   scripts/isolated.sh .venv/bin/pytest -q tests/test_icmp.py
#   scripts/isolated.sh sh -c '.venv/bin/mirror sweep 127.77.0.0/28'
# The test suite re-runs itself through this (tests/conftest.py); use it for manual network
# experiments too. Root gets a plain network namespace; others a user namespace with one.
set -eu
[ $# -gt 0 ] || { echo "usage: scripts/isolated.sh COMMAND [ARG...]" >&2; exit 2; }
command -v unshare >/dev/null && command -v ip >/dev/null || {
  echo "isolated: needs unshare (util-linux) and ip (iproute2)" >&2; exit 1; }
inside='ip link set lo up &&
  { ip link add mirror0 type veth peer name mirror1 2>/dev/null &&
    ip link set mirror0 addrgenmode none && ip link set mirror1 addrgenmode none &&
    ip link set mirror0 up && ip link set mirror1 up || true; } &&
  exec "$@"'
if [ "$(id -u)" -eq 0 ]; then
  exec unshare --net -- sh -c "$inside" isolated "$@"
fi
exec unshare --map-root-user --net -- sh -c "$inside" isolated "$@"

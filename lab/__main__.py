"""Run a simulated lab by hand: ``python -m lab --hosts 20 --port 2222 --keys DIR``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from pathlib import Path

from lab.model import make_lab
from lab.server import LabServer, ensure_keys


async def _serve(args: argparse.Namespace) -> None:
    host_key, client_key, client_pub = ensure_keys(Path(args.keys))
    hosts = make_lab(args.hosts, subnet=args.subnet, start=args.start, seed=args.seed)
    flappy = args.flappy or None
    lab = LabServer(hosts, args.port, host_key, client_pub, flappy=flappy)
    await lab.start()
    print(f"{len(hosts)} hosts {hosts[0].address}…{hosts[-1].address} port {lab.port}")
    print(f"client key: {client_key}")
    for h in hosts[: args.show]:
        print(f"  {h.name:10} {h.address:15} {h.profile}{'  (flappy)' if h.name == flappy else ''}")
    try:
        await asyncio.Event().wait()
    finally:
        await lab.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m lab", description=__doc__)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--subnet", default="127.77.0.0/24")
    parser.add_argument("--start", type=int, default=10)
    parser.add_argument("--seed", default="demo")
    parser.add_argument("--port", type=int, default=2222)
    parser.add_argument("--keys", default=".mirror-sim-keys")
    parser.add_argument("--flappy", default="", help="name of a host that goes down now and then")
    parser.add_argument("--show", type=int, default=20, help="list this many hosts")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("asyncssh").setLevel(logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()

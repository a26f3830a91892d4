"""NVIDIA utilisation on the fast cadence from ONE long-running ``nvidia-smi`` per host.

``nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits -lms N`` prints one line
per GPU every N ms until it is stopped (the driver is queried in-process; no process per
poll). The poller keeps the channel open and, at each fast poll, hands this module what
arrived since the last one: the newest line of each GPU wins. Lines are those of the
one-shot query (``collectors.linux.nvidia_smi``), so parsing and metric names are shared.
A partial last line (the loop was mid-write) is left for the next call.
"""

from __future__ import annotations

from collectors.linux import nvidia_smi
from collectors.linux.nvidia_smi import Gpu


def command(interval_ms: int) -> str:
    if interval_ms < 100:
        raise ValueError("nvidia-smi loop interval below 100 ms")
    return f"{nvidia_smi.COMMAND} -lms {interval_ms}"


def latest(buffer: str) -> tuple[dict[int, Gpu], str]:
    """(newest reading per GPU index, the unfinished tail to keep for next time)."""
    complete, _, tail = buffer.rpartition("\n")
    found: dict[int, Gpu] = {}
    for gpu in nvidia_smi.parse(complete):
        found[gpu.index] = gpu
    return found, tail

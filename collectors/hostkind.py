"""What a host kind is: everything OS-specific about reading one kind of host.

A ``HostKind`` bundles the REFLECTOR program EGO sends to such a host, how to launch it,
the parsers that turn its fast (``"s"``) and slow (``"x"``) frames into series, and the
metric names those series use. The poller (``poller.host``) knows only this interface:
it connects, sends ``kind.command()`` on one channel, asks for frames, and hands each to
the host's ``Collector``. Kinds are found in ``collectors.kinds``; adding one is a new
folder under ``collectors/`` (see ``collectors/KINDS.md``).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

from collectors.frame import Frame

# The requests every REFLECTOR answers (one per line on its stdin), each with one frame.
FAST_REQUEST = "s"  # every poll: counters and gauges, cheap to read
SLOW_REQUEST = "x"  # every minute or so: identity, filesystems, processes, GPUs
QUIT_REQUEST = "q"


class Collector(Protocol):
    """One host's parsers and what they keep between polls (previous counters, so rates).

    ``fast`` returns the poll's series; ``slow`` the slow series and the host's info
    (identity and tables shown by the API). Both raise ``mirror.errors.ParseError`` on a
    frame they cannot read at all; a missing optional source is simply left out.
    """

    def fast(self, frame: Frame) -> dict[str, float]: ...

    def slow(self, frame: Frame) -> tuple[dict[str, float], dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class HostKind:
    os: str  # the inventory's ``os:`` value, e.g. "linux" (mirror.inventory.OS_NAMES)
    uname: str  # what ``uname -s`` prints on such a host, e.g. "Linux" (detection)
    program: str  # the REFLECTOR text, sent to the host on each new session
    launch: Callable[[str], str]  # program → the command line that runs it
    collector: Callable[[], Collector]  # a fresh collector for one host
    metrics: tuple[str, ...]  # metric names (without ``[instance]``) its series may use

    def command(self) -> str:
        """The command line for an SSH session channel (or ``/bin/sh -c`` locally)."""
        return self.launch(self.program)


class SampleCollector:
    """A kind's collector built from its four pure functions: parse a frame into a sample,
    then turn (previous, current) samples into series (rates need the previous one)."""

    def __init__(
        self,
        parse_fast: Callable[[Frame], Any],
        fast_metrics: Callable[[Any, Any], dict[str, float]],
        parse_slow: Callable[[Frame], Any],
        slow_metrics: Callable[[Any, Any], tuple[dict[str, float], dict[str, Any]]],
    ) -> None:
        self._parse_fast, self._fast_metrics = parse_fast, fast_metrics
        self._parse_slow, self._slow_metrics = parse_slow, slow_metrics
        self._prev_fast: Any = None
        self._prev_slow: Any = None

    def fast(self, frame: Frame) -> dict[str, float]:
        sample = self._parse_fast(frame)
        metrics = self._fast_metrics(self._prev_fast, sample)
        self._prev_fast = sample
        return metrics

    def slow(self, frame: Frame) -> tuple[dict[str, float], dict[str, Any]]:
        sample = self._parse_slow(frame)
        series, info = self._slow_metrics(self._prev_slow, sample)
        self._prev_slow = sample
        return series, info


def sample_kind(
    os: str,
    uname: str,
    program: str,
    parsers: tuple[
        Callable[[Frame], Any],
        Callable[[Any, Any], dict[str, float]],
        Callable[[Frame], Any],
        Callable[[Any, Any], tuple[dict[str, float], dict[str, Any]]],
    ],
    metrics: tuple[str, ...],
) -> HostKind:
    """A POSIX kind whose collector is its four pure functions (:class:`SampleCollector`):
    ``parsers`` is (parse_fast, fast_metrics, parse_slow, slow_metrics)."""
    return HostKind(
        os=os,
        uname=uname,
        program=program,
        launch=posix_launch,
        collector=lambda: SampleCollector(*parsers),
        metrics=metric_names(metrics),
    )


def metric_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """Names without their instance part (``net.rx_bytes_per_s[IF]`` → ``net.rx_bytes_per_s``)."""
    return tuple(dict.fromkeys(name.split("[", 1)[0] for name in names))


def packaged_text(package: str, name: str) -> str:
    """A file shipped inside a kind's folder (its REFLECTOR program)."""
    return resources.files(package).joinpath(name).read_text()


def posix_launch(program: str) -> str:
    """Shell text that runs a POSIX-shell program under bash (fast reads) or ``/bin/sh``.

    The outer ``/bin/sh`` makes the text independent of the user's login shell, so it
    suits every Unix kind (Linux, macOS, the BSDs).
    """
    body = (
        f"R={shlex.quote(program)}; "
        'if command -v bash >/dev/null 2>&1; then exec bash --norc --noprofile -c "$R"; '
        'else exec /bin/sh -c "$R"; fi'
    )
    return f"exec /bin/sh -c {shlex.quote(body)}"

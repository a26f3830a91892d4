"""The ``anomaly`` rule kind's source: a streaming detector (mirror.anomaly) per series.

Only series a rule names are followed (``anomaly: cpu.busy_pct`` follows that metric on
every target, every instance), so the memory is ~3 kB per followed series, not per stored
series. Each poll's value is scored as it arrives; :meth:`DetectorSource.anomaly_rate`
answers the share of anomalous points among a series' points of the last ``window_s``, or
None while the points do not yet cover the window (a rule never fires on a detector that
has only just started). Detectors start afresh with EGO: their state is not stored yet.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping

from mirror.alerts.config import RuleEntry
from mirror.anomaly import ANOMALY_THRESHOLD, Detector
from mirror.events import HostPoll
from mirror.live import LiveHub

MAX_POINTS = 4096  # per series: 5.7 h at one point per 5 s, the longest window it answers
_COVERED = 0.9  # the points must span this share of the window


class _Followed:
    __slots__ = ("detector", "points")

    def __init__(self) -> None:
        self.detector = Detector()
        self.points: deque[tuple[float, bool]] = deque(maxlen=MAX_POINTS)


class DetectorSource:
    def __init__(self, metrics: Callable[[], set[str]]) -> None:
        """``metrics``: the metric names the current rules follow (asked at each poll, so a
        reloaded inventory takes effect at once)."""
        self._metrics = metrics
        self._followed: dict[tuple[str, str], _Followed] = {}

    @property
    def followed(self) -> int:
        return len(self._followed)

    def observe(self, target: str, ts: float, metrics: Mapping[str, float]) -> None:
        wanted = self._metrics()
        if not wanted:
            return
        for name, value in metrics.items():
            if name.split("[", 1)[0] not in wanted:
                continue
            followed = self._followed.get((target, name))
            if followed is None:
                followed = self._followed[(target, name)] = _Followed()
            score = followed.detector.update(float(value))
            followed.points.append((ts, score >= ANOMALY_THRESHOLD))

    def anomaly_rate(self, target: str, series: str, window_s: float) -> float | None:
        followed = self._followed.get((target, series))
        if followed is None or not followed.points:
            return None
        newest = followed.points[-1][0]
        start = newest - window_s
        if followed.points[0][0] > start + window_s * (1 - _COVERED):
            return None  # not enough history yet
        flags = [flag for ts, flag in followed.points if ts > start]
        return sum(flags) / len(flags) if flags else None

    def forget(self, targets: set[str]) -> None:
        """Drop the detectors of targets no longer in the inventory."""
        for key in [k for k in self._followed if k[0] not in targets]:
            del self._followed[key]

    async def run(self, hub: LiveHub) -> None:
        """Score every poll on ``hub`` until cancelled."""
        async for event in hub.subscribe():
            if isinstance(event, HostPoll) and event.metrics:
                self.observe(event.host, event.ts, event.metrics)


def followed_metrics(rules: Iterable[RuleEntry]) -> set[str]:
    """The metric names the ``anomaly`` rules among ``rules`` follow."""
    return {r.anomaly.split("[", 1)[0] for r in rules if r.anomaly}

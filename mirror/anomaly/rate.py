"""Anomaly rate over a sliding window of points: the "sustained anomaly" condition."""

from __future__ import annotations

from mirror.anomaly.detector import DEFAULT_TUNING

MAX_WINDOW = 4096


class AnomalyRate:
    """Which of the last ``window`` points were anomalous, as the bits of one integer.

    ``add(score)`` shifts in one point (anomalous when ``score >= threshold``);
    ``value`` is the share of anomalous points among the last ``window`` (fewer while
    fewer were added); ``sustained(min_rate)`` says whether that share reaches
    ``min_rate`` over a full window, so a rule does not fire on the first points.
    """

    __slots__ = ("_bits", "_count", "threshold", "window")

    def __init__(self, window: int, threshold: float = DEFAULT_TUNING.threshold) -> None:
        if not 1 <= window <= MAX_WINDOW:
            raise ValueError(f"anomaly rate window must be 1..{MAX_WINDOW} points, not {window}")
        self.window = window
        self.threshold = threshold
        self._bits = 0  # bit 0 = newest point
        self._count = 0  # points added, up to window

    def add(self, score: float) -> None:
        flag = 1 if score >= self.threshold else 0
        self._bits = ((self._bits << 1) | flag) & ((1 << self.window) - 1)
        self._count = min(self._count + 1, self.window)

    @property
    def anomalous(self) -> int:
        """Anomalous points among the last ``window``."""
        return self._bits.bit_count()

    @property
    def value(self) -> float:
        return self.anomalous / self._count if self._count else 0.0

    def sustained(self, min_rate: float) -> bool:
        return self._count == self.window and self.value >= min_rate

    def to_int(self) -> int:
        """The state as one non-negative integer (``from_int`` takes it back)."""
        return (self._bits << 13) | self._count

    @classmethod
    def from_int(
        cls, state: int, window: int, threshold: float = DEFAULT_TUNING.threshold
    ) -> AnomalyRate:
        rate = cls(window, threshold)
        rate._count = min(state & 0x1FFF, window)
        rate._bits = (state >> 13) & ((1 << window) - 1)
        return rate

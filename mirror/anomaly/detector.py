"""A streaming anomaly detector for one series: constant memory, state in bytes.

Each value is scored from the past only, in three steps:

1. Two raw surprises in [0, 1]:
   * **level**: how far a fast moving average has left a slow one, in slow standard
     deviations (catches steps, spikes and drifts);
   * **novelty**: whether the value's recent shape was never seen before. The value is
     quantised (a grid fixed after the first values, no coarser than the series' own
     step-to-step noise); the pair (level, how long it stayed there) and the last four
     distinct levels form two contexts, looked up in a small bit set (a Bloom filter
     of one hash). Unseen contexts are novel. This is the sequence memory that HTM and
     context-based detectors keep, squeezed into a fixed number of bytes: the bit set
     has two generations and the older one is dropped when the newer fills up, so old
     habits are forgotten and the memory stays bounded.
2. Each surprise goes through an **anomaly likelihood** (as Numenta's detectors do):
   its short average is compared with its own long-run distribution and the Gaussian
   tail probability q becomes ``log(q) / log(1e-10)`` (q = 1e-5 gives 0.5). A series
   that is always surprising thus stops being surprising.
3. The score is the sum of the two (capped at 1: both surprises agreeing count more than
   either alone), or 1 when the value leaves the range seen so far by more than a margin.
   After a score at or above the threshold the detector stays below it for a refractory
   period, one event, one alarm (a value beyond the range still scores 1).

Non-finite values are skipped (score 0, state untouched).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from mirror.errors import MirrorError

_LOG_TINY = math.log(1e-10)
_SQRT2 = math.sqrt(2.0)
_MIX = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1
_LEVEL_CAP = 1 << 62  # quantised levels fit the state's int64


class StateError(MirrorError):
    """Bytes given to ``Detector.from_bytes`` are not a detector state of this version."""


@dataclass(frozen=True, slots=True)
class Tuning:
    """The detector's constants. The defaults are the product's; tests and the bench
    may pass others. Counts are in values (at 1 value / 5 s, 150 values = 12.5 min)."""

    threshold: float = 0.6  # a score >= this is an anomalous point
    warmup: int = 150  # values learnt before any score above 0
    fast_alpha: float = 0.1  # the fast moving average
    slow_alpha: float = 0.002  # the slow average and variance (~500 values)
    level_k: float = 3.0  # level surprise = d / (d + k * sd)
    short_alpha: float = 0.3  # likelihood: short average of a surprise
    novelty_short_alpha: float = 0.2
    long_alpha: float = 0.0005  # likelihood: long-run mean and variance (~2000 values)
    min_std: float = 0.02  # floor of a surprise's long-run standard deviation
    levels: int = 8  # quantisation: the warm-up range in this many steps...
    noise_steps: float = 6.0  # ...but no finer than this many mean |x[t] - x[t-1]|
    set_bits: int = 13  # bits of each of the two bit-set generations (2**13 = 1 kB)
    set_fill: float = 0.125  # a generation this full becomes the old one
    range_margin: float = 0.03  # beyond the seen range by this share of it: score 1
    refractory: int = 400  # values held below the threshold after an anomaly
    range_sd: float = 0.0  # ...and by this many slow standard deviations
    agree: float = 1.0  # weight of the smaller of the two scores (0: the larger alone)


DEFAULT_TUNING = Tuning()

# version 1: header, then the two bit-set generations
_HEAD = struct.Struct("<4sBB5q14d4q")
_MAGIC = b"MAD\x00"
_VERSION = 1


def _likelihood(short: float, mean: float, var: float, min_std: float) -> float:
    z = (short - mean) / max(math.sqrt(var) if var > 0.0 else 0.0, min_std)
    if z <= 0.0:
        return 0.0
    return math.log(1e-10 + 0.5 * math.erfc(z / _SQRT2)) / _LOG_TINY


def _hash(*parts: int) -> int:
    h = 0
    for p in parts:
        h = ((h ^ (p & _MASK64)) * _MIX) & _MASK64
        h ^= h >> 29
    return h


class Detector:
    """Scores one series, value by value. ``update(x)`` returns a score in [0, 1]."""

    __slots__ = (
        "_bits_new",
        "_bits_old",
        "_cool",
        "_dif",
        "_fast",
        "_fill",
        "_hi",
        "_hist",
        "_level",
        "_lo",
        "_n",
        "_nov",
        "_prev",
        "_res",
        "_run",
        "_set_mask",
        "_slow",
        "_slow_var",
        "_sur",
        "tuning",
    )

    def __init__(self, tuning: Tuning = DEFAULT_TUNING) -> None:
        self.tuning = tuning
        self._n = 0  # values seen
        self._lo = self._hi = 0.0  # range seen
        self._prev = self._fast = self._slow = self._slow_var = self._dif = 0.0
        self._res = 0.0  # quantisation step, 0 until fixed
        self._level = 0
        self._run = 0  # values spent at the current level
        self._hist = [0, 0, 0, 0]  # last distinct levels, oldest first
        # likelihood moments: [short, mean, var] of level surprise and of novelty
        self._sur = [0.0, 0.0, 0.0]
        self._nov = [0.0, 0.0, 0.0]
        self._cool = 0
        self._fill = 0  # bits set in the new generation
        size = 1 << (tuning.set_bits - 3)
        self._bits_new = bytearray(size)
        self._bits_old = bytearray(size)
        self._set_mask = (1 << tuning.set_bits) - 1

    @property
    def count(self) -> int:
        """Values learnt so far."""
        return self._n

    def _seen(self, h: int) -> int:
        """1 if context hash ``h`` was seen (and remember it), else 0."""
        h &= self._set_mask
        i = h >> 3
        bit = 1 << (h & 7)
        new = self._bits_new
        if new[i] & bit:
            return 1
        new[i] |= bit
        self._fill += 1
        if self._fill > self.tuning.set_fill * (self._set_mask + 1):
            self._bits_old, self._bits_new = new, self._bits_old
            self._bits_new[:] = bytes(len(new))
            self._fill = 0
        return 1 if self._bits_old[i] & bit else 0

    def update(self, x: float) -> float:
        """Learn ``x`` and return its anomaly score in [0, 1] (0 during the warm-up)."""
        if not math.isfinite(x):
            return 0.0
        t = self.tuning
        n = self._n = self._n + 1
        if n == 1:
            self._lo = self._hi = self._prev = self._fast = self._slow = x
            return 0.0
        # level surprise: fast average against the slow one, in slow standard deviations
        self._fast += t.fast_alpha * (x - self._fast)
        sd = math.sqrt(self._slow_var)
        d = abs(self._fast - self._slow)
        sur = d / (d + t.level_k * sd) if sd > 0.0 else (0.0 if d == 0.0 else 1.0)
        a = 1.0 / n if n * t.slow_alpha < 1.0 else t.slow_alpha
        delta = x - self._slow
        self._slow += a * delta
        self._slow_var += a * (delta * (x - self._slow) - self._slow_var)
        self._dif += a * (abs(x - self._prev) - self._dif)
        self._prev = x
        la = 1.0 / n if n * t.long_alpha < 1.0 else t.long_alpha
        score = self._step(self._sur, sur, t.short_alpha, la, t.min_std)
        # novelty of the recent shape
        if self._res == 0.0 and n >= t.warmup // 2:
            self._res = max(
                (self._hi - self._lo) / t.levels, t.noise_steps * self._dif, 1e-9 * (abs(x) + 1.0)
            )
        if self._res > 0.0:
            level = max(-_LEVEL_CAP, min(_LEVEL_CAP, math.floor(x / self._res)))
            hist = self._hist
            if level == self._level and self._run:
                self._run += 1
            else:
                if self._run:
                    hist.pop(0)
                    hist.append(self._level)
                self._level = level
                self._run = 1
            seen = self._seen(_hash(1, level, self._run.bit_length()))
            seen += self._seen(_hash(2, hist[1], hist[2], hist[3], level))
            nov = 1.0 - 0.5 * seen
            s2 = self._step(self._nov, nov, t.novelty_short_alpha, la, t.min_std)
            score = max(score, s2) + t.agree * min(score, s2)
        span = self._hi - self._lo
        margin = max(t.range_margin * span, t.range_sd * math.sqrt(self._slow_var))
        broke = n > t.warmup and (x > self._hi + margin or x < self._lo - margin)
        if broke:
            score = 1.0
        self._hi = max(self._hi, x)
        self._lo = min(self._lo, x)
        if n <= t.warmup or self._hi == self._lo:
            return 0.0  # learning, or a series that never moved (nothing to compare with)
        score = min(max(score, 0.0), 1.0)
        if self._cool > 0 and not broke:  # a new extreme is never held back
            self._cool -= 1
            return min(score, math.nextafter(t.threshold, 0.0))
        if score >= t.threshold:
            self._cool = t.refractory
        return score

    @staticmethod
    def _step(
        m: list[float], raw: float, short_alpha: float, long_alpha: float, min_std: float
    ) -> float:
        """Feed a raw surprise to its likelihood moments ``m``; return its score."""
        m[0] += short_alpha * (raw - m[0])
        d = raw - m[1]
        m[1] += long_alpha * d
        m[2] += long_alpha * (d * (raw - m[1]) - m[2])
        return _likelihood(m[0], m[1], m[2], min_std)

    # --- state -------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The whole state (not the tuning), for ``from_bytes`` after a restart."""
        head = _HEAD.pack(
            _MAGIC,
            _VERSION,
            self.tuning.set_bits,
            self._n,
            self._run,
            self._cool,
            self._level,
            self._fill,
            self._lo,
            self._hi,
            self._prev,
            self._fast,
            self._slow,
            self._slow_var,
            self._dif,
            self._res,
            *self._sur,
            *self._nov,
            *self._hist,
        )
        return head + self._bits_new + self._bits_old

    @classmethod
    def from_bytes(cls, data: bytes, tuning: Tuning = DEFAULT_TUNING) -> Detector:
        """Rebuild a detector from ``to_bytes``; ``StateError`` if the bytes are not one."""
        size = 1 << (tuning.set_bits - 3)
        want = _HEAD.size + 2 * size
        if len(data) != want or data[:4] != _MAGIC:
            raise StateError(f"not an anomaly detector state ({len(data)} bytes, want {want})")
        f = _HEAD.unpack_from(data)
        if f[1] != _VERSION or f[2] != tuning.set_bits:
            raise StateError(f"anomaly detector state version {f[1]}/{f[2]} is not {_VERSION}")
        d = cls(tuning)
        (d._n, d._run, d._cool, d._level, d._fill) = f[3:8]
        (d._lo, d._hi, d._prev, d._fast, d._slow, d._slow_var, d._dif, d._res) = f[8:16]
        d._sur = list(f[16:19])
        d._nov = list(f[19:22])
        d._hist = list(f[22:26])
        off = _HEAD.size
        d._bits_new = bytearray(data[off : off + size])
        d._bits_old = bytearray(data[off + size : off + 2 * size])
        return d

"""The anomaly detector on real NAB excerpts (tests/fixtures/anomaly) and on made-up steps,
spikes and flat lines; its saved state, its bounded memory, the sustained-anomaly rate and
`mirror anomaly score`."""

from __future__ import annotations

import math
import random
import tracemalloc
from pathlib import Path

import pytest

from cli.main import main
from mirror.anomaly import (
    ANOMALY_THRESHOLD,
    AnomalyRate,
    Detector,
    StateError,
    score_values,
)

FIXTURES = Path(__file__).parent / "fixtures" / "anomaly"
NAB_PROBATION = 600  # NAB does not score a full file's first 15 % (604 rows here)


def nab_values(name: str) -> list[float]:
    lines = (FIXTURES / name).read_text().splitlines()
    assert lines[0] == "timestamp,value"
    return [float(line.split(",")[1]) for line in lines[1:]]


def anomalous(scores: list[float], start: int = 0) -> list[int]:
    return [i for i, s in enumerate(scores) if i >= start and s >= ANOMALY_THRESHOLD]


def noise(n: int, seed: int = 1, level: float = 50.0, width: float = 5.0) -> list[float]:
    """Bounded noise, as most metrics are (Gaussian noise keeps setting new extremes,
    which the detector reports, as it would on a real series)."""
    rng = random.Random(seed)
    return [level + rng.uniform(-width, width) for _ in range(n)]


@pytest.mark.parametrize(
    ("name", "window"),
    [
        ("ec2_cpu_utilization_5f5533_head1300.csv", (1171, 1371)),
        ("rds_cpu_utilization_e47b3b_head1100.csv", (846, 1046)),
    ],
)
def test_labelled_nab_anomaly_is_found_and_nothing_else(name: str, window: tuple[int, int]) -> None:
    scores = score_values(nab_values(name))
    found = anomalous(scores, NAB_PROBATION)
    assert found, f"no score >= {ANOMALY_THRESHOLD} after row {NAB_PROBATION}"
    assert all(window[0] <= i <= window[1] for i in found), found


def test_a_nab_flatline_is_never_anomalous() -> None:
    values = nab_values("art_flatline_head1000.csv")
    assert len(set(values)) == 1
    assert max(score_values(values)) == 0.0


@pytest.mark.parametrize("value", [0.0, -3.5, 1e12, 42.0])
def test_flat_series_are_never_anomalous(value: float) -> None:
    assert max(score_values([value] * 5000)) == 0.0


def test_a_spike_is_detected_on_its_own_value() -> None:
    values = noise(2000)
    values[1500] += 30.0  # 10 standard deviations
    scores = score_values(values)
    assert anomalous(scores, 200) == [1500]


def test_a_step_change_is_detected_within_a_few_values() -> None:
    values = noise(1500) + noise(500, seed=2, level=62.0)  # a step of 4 standard deviations
    scores = score_values(values)
    found = anomalous(scores, 200)
    assert found and 1500 <= found[0] <= 1505, found


def test_scores_are_in_range_and_warm_up_scores_zero() -> None:
    rng = random.Random(3)
    values = [rng.choice([0.0, 1.0, 1e6, -50.0]) * rng.random() for _ in range(3000)]
    scores = score_values(values)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert max(scores[: Detector().tuning.warmup]) == 0.0


def test_state_round_trip_continues_exactly() -> None:
    values = nab_values("rds_cpu_utilization_e47b3b_head1100.csv")
    a = Detector()
    for v in values[:700]:
        a.update(v)
    b = Detector.from_bytes(a.to_bytes())
    assert b.count == a.count == 700
    assert [a.update(v) for v in values[700:]] == [b.update(v) for v in values[700:]]
    assert a.to_bytes() == b.to_bytes()


def test_foreign_bytes_are_refused_with_a_clear_error() -> None:
    state = Detector().to_bytes()
    with pytest.raises(StateError, match="not an anomaly detector state"):
        Detector.from_bytes(state[:-1])
    with pytest.raises(StateError, match="not an anomaly detector state"):
        Detector.from_bytes(b"XXXX" + state[4:])


def test_memory_is_constant_however_long_the_series() -> None:
    values = noise(30_000, seed=4, width=30.0)  # noisy: every context is new, the set rotates
    d = Detector()
    sizes = []
    tracemalloc.start()
    for i, v in enumerate(values):
        d.update(v)
        if i in (2_000, 29_999):
            sizes.append((len(d.to_bytes()), tracemalloc.get_traced_memory()[0]))
    tracemalloc.stop()
    (bytes_a, mem_a), (bytes_b, mem_b) = sizes
    assert bytes_a == bytes_b <= 4096
    assert mem_b - mem_a < 512, (mem_a, mem_b)


def test_non_finite_values_are_skipped() -> None:
    d = Detector()
    for v in noise(300):
        d.update(v)
    before = d.to_bytes()
    assert d.update(math.nan) == 0.0
    assert d.update(math.inf) == 0.0
    assert d.to_bytes() == before


def test_anomaly_rate_is_sustained_only_over_a_full_window() -> None:
    rate = AnomalyRate(10)
    for _ in range(5):
        rate.add(1.0)
    assert rate.value == 1.0 and not rate.sustained(0.5)  # only 5 points seen
    for _ in range(5):
        rate.add(0.0)
    assert rate.anomalous == 5 and rate.sustained(0.5) and not rate.sustained(0.6)
    for _ in range(5):
        rate.add(ANOMALY_THRESHOLD - 1e-9)
    assert rate.value == 0.0 and not rate.sustained(0.1)
    rate.add(ANOMALY_THRESHOLD)
    again = AnomalyRate.from_int(rate.to_int(), 10)
    assert (again.anomalous, again.value) == (1, 0.1)
    with pytest.raises(ValueError, match="window"):
        AnomalyRate(0)


def test_cli_prints_one_score_per_row_as_nab_expects(tmp_path: Path, capsys) -> None:
    src = FIXTURES / "rds_cpu_utilization_e47b3b_head1100.csv"
    assert main(["anomaly", "score", str(src)]) == 0
    printed = [float(line) for line in capsys.readouterr().out.splitlines()]
    assert printed == score_values(nab_values(src.name))
    assert main(["anomaly", "score", "--threshold"]) == 0
    assert float(capsys.readouterr().out) == ANOMALY_THRESHOLD


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,abc\n", "3: value 'abc'"),
        ("timestamp,value\n2014-01-01 00:00:00,nan\n", "2: value 'nan' is not a finite"),
        ("timestamp,level\n2014-01-01 00:00:00,1\n", "1: no 'value' column"),
        ("", "empty input"),
    ],
)
def test_cli_names_the_bad_line(tmp_path: Path, capsys, text: str, message: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    assert main(["anomaly", "score", str(bad)]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_after_an_anomaly_only_new_extremes_get_through() -> None:
    values = noise(2000)
    values[1000] += 30.0
    values[1050] += 60.0  # inside the refractory period, beyond anything seen
    values[1100] += 30.0  # inside it, not beyond: one event, one alarm
    assert anomalous(score_values(values), 200) == [1000, 1050]

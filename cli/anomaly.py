"""`mirror anomaly score`: the product's anomaly detector over a `timestamp,value` CSV.

It prints one score in [0, 1] per data row, each computed from the rows before it and
itself only (a fresh detector per run), so the Numenta Anomaly Benchmark can run the
very code EGO runs: `nab_score.py --command 'mirror anomaly score'`. With `--threshold`
it prints the one score at which the product calls a point anomalous.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from mirror.errors import MirrorError


class InputError(MirrorError):
    """The CSV cannot be scored: no `value` column, or a value that is not a number."""


def read_values(lines: Iterable[str], name: str) -> list[float]:
    """The `value` column of a CSV with a header, as floats; `InputError` naming the line."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise InputError(f"{name}: empty input, want a header line such as 'timestamp,value'")
    columns = [h.strip() for h in header]
    if "value" not in columns:
        raise InputError(f"{name}:1: no 'value' column in header {','.join(columns)!r}")
    col = columns.index("value")
    values: list[float] = []
    for row in reader:
        if not row:
            continue
        where = f"{name}:{reader.line_num}"
        if col >= len(row):
            raise InputError(f"{where}: {len(row)} field(s), no value")
        try:
            value = float(row[col])
        except ValueError:
            raise InputError(f"{where}: value {row[col]!r} is not a number") from None
        if not math.isfinite(value):
            raise InputError(f"{where}: value {row[col]!r} is not a finite number")
        values.append(value)
    return values


def run_score(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from mirror.anomaly import ANOMALY_THRESHOLD, score_values

    if args.threshold:
        out.write(f"{ANOMALY_THRESHOLD!r}\n")
        return 0
    if args.file is None or str(args.file) == "-":
        values = read_values(sys.stdin, "<stdin>")
    else:
        path: Path = args.file
        try:
            with path.open(newline="", encoding="utf-8") as f:
                values = read_values(f, str(path))
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read: {exc}") from None
    # repr: the shortest exact text, so a score held just below the threshold stays below it
    out.write("".join(f"{s!r}\n" for s in score_values(values)))
    return 0

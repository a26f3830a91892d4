"""The anomaly detector's figures: NAB scores, cross-validation, CPU and memory per series.

Modes (default: all three):
  nab   runs NAB's scorer (nab_score.py from the benchmark folder) with
        `--command 'mirror anomaly score'` over the whole corpus it has, i.e. the code
        the product runs, then scores the same outputs again at the product's fixed
        threshold (`mirror anomaly score --threshold`); prints the three profiles.
  cv    leave-one-category-out: the threshold NAB's optimiser picks on the other
        categories, applied to the held-out one (and the product's threshold, for
        comparison). Says whether one threshold carries over to data it was not set on.
  cost  microseconds per value, bytes per series (live objects and saved state), and
        the share of one core for a fleet of HOSTS x SERIES series at one value per
        INTERVAL seconds.

Run: .venv/bin/python bench/anomaly.py [nab|cv|cost ...] [--nab DIR] [--jobs N]
     (DIR: the benchmark folder with nab_score.py and data/; default $MIRROR_NAB or
     ../shared/anomaly next to the checkout)
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import itertools
import json
import os
import random
import shlex
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mirror.anomaly import ANOMALY_THRESHOLD, Detector, Tuning, score_values

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
# The choices the tuning was made among (cv mode): each held-out category is scored with
# the one that does best, at its own fixed threshold, on the other categories.
CV_GRID: dict[str, tuple[float, ...]] = {
    "threshold": (0.5, 0.6),
    "agree": (0.0, 1.0),
    "range_margin": (0.02, 0.03, 0.05),
    "range_sd": (0.0, 0.5),
}


def find_nab(given: str | None) -> Path:
    candidates = [given or os.environ.get("MIRROR_NAB") or ""]
    candidates += [str(p / "shared" / "anomaly") for p in ROOT.parents[:3]]
    for c in candidates:
        if c and (Path(c) / "nab_score.py").is_file():
            return Path(c)
    raise SystemExit("bench/anomaly.py: no NAB folder (nab_score.py); give --nab DIR")


def load_scorer(nab: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("nab_score", nab / "nab_score.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mirror_command() -> str:
    exe = Path(sys.executable).with_name("mirror")
    if exe.exists():
        return f"{shlex.quote(str(exe))} anomaly score"
    return f"{shlex.quote(sys.executable)} -m cli anomaly score"


def run_nab(nab: Path, jobs: int) -> None:
    scorer = [sys.executable, str(nab / "nab_score.py"), "--data", str(nab / "data")]
    with tempfile.TemporaryDirectory() as tmp:
        opt, fixed, out = Path(tmp, "opt.json"), Path(tmp, "fixed.json"), Path(tmp, "out")
        t0 = time.perf_counter()
        cmd = [*scorer, "--command", mirror_command(), "--out", str(out), "--jobs", str(jobs)]
        subprocess.run([*cmd, "--json", str(opt)], check=True, capture_output=True, cwd=ROOT)
        wall = time.perf_counter() - t0
        again = ["--results", str(out), "--detector", "cmd", "--json", str(fixed)]
        subprocess.run(
            [*scorer, *again, "--fixed-threshold", repr(ANOMALY_THRESHOLD)],
            check=True,
            capture_output=True,
        )
        o, f = json.loads(opt.read_text()), json.loads(fixed.read_text())
    first = o["profiles"]["standard"]
    cats = sorted(first["categories"])
    print(f"NAB, `mirror anomaly score` over {nab / 'data'} ({len(first['files'])} files,")
    print(f"{first['windows']} windows; categories {', '.join(cats)}); {wall:.0f} s wall")
    print()
    head = f"{'profile':<20} {'opt. thr':>9} {'score':>7} {'hits':>5} {'FP':>4}"
    print(f"{head}   {'fixed thr':>9} {'score':>7} {'hits':>5} {'FP':>4}")
    for name in PROFILES:
        a, b = o["profiles"][name], f["profiles"][name]
        print(
            f"{name:<20} {a['threshold']:>9.4f} {a['score']:>7.2f} {a['hits']:>5} "
            f"{a['false_positives']:>4}   {b['threshold']:>9.4f} {b['score']:>7.2f} "
            f"{b['hits']:>5} {b['false_positives']:>4}"
        )
    print()
    print("per category, standard profile, fixed threshold:")
    print(f"{'category':<24} {'windows':>7} {'hits':>5} {'FP':>4} {'cat.score':>9}")
    for c in cats:
        x = f["profiles"]["standard"]["categories"][c]
        cs = "n/a" if x["category_score"] is None else f"{x['category_score']:.2f}"
        print(f"{c:<24} {x['windows']:>7} {x['hits']:>5} {x['false_positives']:>4} {cs:>9}")


def read_corpus(nab: Path) -> tuple[ModuleType, list, dict[str, list[float]]]:
    ns = load_scorer(nab)
    windows = ns.load_windows([str(nab / "data" / "windows.json")])
    corpus = ns.load_corpus([str(nab / "data")], windows, None)
    values: dict[str, list[float]] = {}
    for df in corpus:
        with gzip.open(df.path, "rt") as f:
            next(f)
            values[df.rel] = [float(line.rsplit(",", 1)[1]) for line in f if line.strip()]
    return ns, corpus, values


def run_cv(nab: Path) -> None:
    ns, corpus, values = read_corpus(nab)
    profiles = json.loads((nab / "profiles.json").read_text())
    cost = {"standard": profiles["standard"]}
    scores = {rel: score_values(v) for rel, v in values.items()}
    cats = sorted({df.category for df in corpus})
    print("leave-one-category-out, standard profile: threshold optimised on the other")
    print("categories, then the held-out category scored at it")
    print(
        f"{'held out':<24} {'thr (others)':>12} {'score':>7} {'hits':>5} {'FP':>4}"
        f"   {'at product thr':>14}"
    )
    for held in cats:
        train = [df for df in corpus if df.category != held]
        test = [df for df in corpus if df.category == held]
        thr = ns.evaluate(train, scores, cost)["standard"]["threshold"]
        at = ns.evaluate(test, scores, cost, thr)["standard"]
        prod = ns.evaluate(test, scores, cost, ANOMALY_THRESHOLD)["standard"]
        s = "n/a" if at["score"] is None else f"{at['score']:.2f}"
        p = "n/a" if prod["score"] is None else f"{prod['score']:.2f}"
        print(
            f"{held:<24} {thr:>12.4f} {s:>7} {at['hits']:>3}/{at['windows']:<2}"
            f"{at['false_positives']:>4}   {p:>14}"
        )
    # the same for the tuning itself: pick among CV_GRID without the held-out category
    keys = list(CV_GRID)
    configs = [dict(zip(keys, c, strict=True)) for c in itertools.product(*CV_GRID.values())]
    runs = []
    for conf in configs:
        tuning = Tuning(**conf)
        runs.append((conf, {rel: score_values(v, tuning) for rel, v in values.items()}))
    print()
    print(f"leave-one-category-out over {len(configs)} tunings ({', '.join(keys)}), each")
    print("at its own fixed threshold: the best on the other categories, on the held-out one")
    print(f"{'held out':<24} {'score':>7} {'hits':>5} {'FP':>4}   chosen tuning")
    every = [df for df in corpus]
    for held in [*cats, None]:
        train = [df for df in every if df.category != held]
        test = [df for df in every if df.category == held] or every

        def fixed_score(run: tuple[dict[str, float], dict[str, list[float]]], part: list) -> dict:
            conf, sc = run
            return ns.evaluate(part, sc, cost, conf["threshold"])["standard"]

        best = max(runs, key=lambda r: fixed_score(r, train)["score"])
        at = fixed_score(best, test)
        s = "n/a" if at["score"] is None else f"{at['score']:.2f}"
        name = held or "(none: all, in-sample)"
        print(
            f"{name:<24} {s:>7} {at['hits']:>3}/{at['windows']:<2}{at['false_positives']:>4}"
            f"   {' '.join(f'{k}={v:g}' for k, v in best[0].items())}"
        )


def run_cost(hosts: int, series: int, interval: float) -> None:
    rng = random.Random(5)
    # a busy, realistic series: daily-ish wave, noise, steps and spikes
    values = [
        50 + 20 * ((i // 300) % 3) + 10 * rng.random() + (80 if rng.random() < 0.002 else 0)
        for i in range(100_000)
    ]
    det = Detector()
    t0 = time.process_time()
    for v in values:
        det.update(v)
    us = (time.process_time() - t0) / len(values) * 1e6
    n = 1000
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    fleet = [Detector() for _ in range(n)]
    for i, d in enumerate(fleet):
        for v in values[i * 50 : i * 50 + 400]:
            d.update(v)
    live = (tracemalloc.get_traced_memory()[0] - before) / n
    tracemalloc.stop()
    saved = len(fleet[0].to_bytes())
    rate = hosts * series / interval
    share = rate * us / 1e6 * 100
    print(f"{'figure':<44} {'value':>12}")
    print(f"{'CPU per value (update)':<44} {us:>9.2f} µs")
    print(f"{'memory per series (live detector)':<44} {live:>9.0f} B")
    print(f"{'saved state per series (to_bytes)':<44} {saved:>9d} B")
    print(f"{f'fleet: {hosts} hosts x {series} series / {interval:g} s':<44} {rate:>7.0f} val/s")
    print(f"{'fleet: share of one core':<44} {share:>10.2f} %")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("modes", nargs="*", metavar="MODE", help="nab, cv, cost (default: all)")
    ap.add_argument("--nab", help="NAB folder (nab_score.py, data/, profiles.json)")
    ap.add_argument("--jobs", type=int, default=2, help="files scored at a time (nab)")
    ap.add_argument("--hosts", type=int, default=254)
    ap.add_argument("--series", type=int, default=40, help="series per host")
    ap.add_argument("--interval", type=float, default=5.0, help="seconds between values")
    args = ap.parse_args()
    modes = args.modes or ["nab", "cv", "cost"]
    if set(modes) - {"nab", "cv", "cost"}:
        ap.error(f"unknown mode(s) {', '.join(sorted(set(modes) - {'nab', 'cv', 'cost'}))}")
    for i, mode in enumerate(modes):
        if i:
            print()
        if mode == "nab":
            run_nab(find_nab(args.nab), args.jobs)
        elif mode == "cv":
            run_cv(find_nab(args.nab))
        else:
            run_cost(args.hosts, args.series, args.interval)


if __name__ == "__main__":
    main()

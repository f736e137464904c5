"""Sweep result tables at the size of "12 towns × 20 staffing levels × 30 replications" (7,200 replications).

    python benchmarks/bench_sweep_tables.py [--quick]

Builds a sweep folder synthetically — 240 points (a staff factor over the 12
Hui'an brigades × 20 totals) × 30 replication files, each with the scopes and
measures of a real Hui'an replication (one short run gives their names) and
random values — then times writing the result tables from the replication
files, two ways in the same run:

* **before**: the CSV path this project used until now — each replication file
  read with pandas, ``results.csv`` (every replication) and ``summary.csv``
  written with pandas (kept here as the baseline);
* **now**: :meth:`sim.sweep.SweepFolder.write_tables` — the replication files of
  a point read in one go (pyarrow), ``results.parquet`` and ``summary.csv``.

Target: ≤ 5 s at 7,200 replications.  Each way runs twice, interleaved
(before, now, before, now), and the best of each is compared; the process's CPU
time is shown beside the wall time (on a busy machine the wall time grows with
the load, the CPU time much less), and the sizes of the written tables too.
Both ways must write the same ``summary.csv``, byte for byte: it is checked.  ``--quick`` uses 40 points × 12 replications (a smoke test).
The best time is also printed at the issue's machine speed (:mod:`machine`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "huian.toml"

from machine import ISSUE_BARE_US, at_issue_speed, bare_us  # noqa: E402

from enforcement_grid.experiments import run_replication  # noqa: E402
from enforcement_grid.sim import load_scenario  # noqa: E402
from enforcement_grid.sim.measures import summarise  # noqa: E402
from enforcement_grid.experiments.sweep import SweepFolder, _cell, _prepend, point_id, read_rep  # noqa: E402

LEVELS = list(range(10, 110, 5))  # 20 staffing levels


def synthetic_sweep(folder: Path, brigades: list[str], reps: int, scopes_metrics: pd.DataFrame, seed: int = 1):
    """A duck-typed sweep (points, factors, replications) and its replication files under ``folder``."""
    rng = np.random.default_rng(seed)
    points = []
    for b in brigades:
        for level in LEVELS:
            values = {"staff_brigade": b, "staff": level}
            points.append(SimpleNamespace(id=point_id(values), values=values))
    sweep = SimpleNamespace(points=points, factors=["staff_brigade", "staff"], replications=reps)
    out = SweepFolder(folder)
    keys = [f"{s},{m}" if "," not in s else f'"{s}",{m}' for s, m in zip(scopes_metrics["scope"],
                                                                        scopes_metrics["metric"], strict=True)]
    nan = scopes_metrics["value"].isna().to_numpy()
    for p in points:
        (folder / "reps" / p.id).mkdir(parents=True)
        for k in range(reps):
            values = rng.random(len(keys))
            lines = ["scope,metric,value"] + [f"{key}," if gap else f"{key},{v!r}"
                                              for key, v, gap in zip(keys, values.tolist(), nan, strict=True)]
            out.rep_file(p.id, k).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sweep, out


def before_csv(sweep, folder: Path) -> None:
    """The CSV path as it was: pandas per file, results.csv of every replication, summary.csv."""
    out = SweepFolder(folder)
    results, summaries = [], []
    for p in sweep.points:
        frames = [read_rep(out.rep_file(p.id, k)).assign(rep=k) for k in range(sweep.replications)
                  if out.rep_file(p.id, k).exists()]
        metrics = pd.concat(frames, ignore_index=True)[["scope", "metric", "rep", "value"]]
        head = {"point": p.id, **{name: _cell(p.values[name]) for name in sweep.factors}}
        results.append(_prepend(metrics, head))
        summaries.append(_prepend(summarise(metrics)[["scope", "metric", "mean", "ci_low", "ci_high", "sd", "n"]],
                                  head))
    pd.concat(results, ignore_index=True).to_csv(folder / "results.csv", index=False)
    pd.concat(summaries, ignore_index=True).to_csv(folder / "summary.csv", index=False)


def now_parquet(sweep, folder: Path) -> None:
    SweepFolder(folder).write_tables(sweep)


def mib(path: Path) -> str:
    return f"{path.stat().st_size / 2**20:,.1f} MiB" if path.exists() else "—"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="40 points × 12 replications instead of 240 × 30 (smoke test)")
    ap.add_argument("--rounds", type=int, default=2, help="timed runs of each way, interleaved (default 2)")
    args = ap.parse_args()
    sc = load_scenario(SCENARIO, ["scenario.horizon_days=10", "scenario.warmup_days=1"])
    shape = run_replication(sc, 0, False).metrics[["scope", "metric", "value"]]
    brigades = [b.name for b in sc.brigades][: 2 if args.quick else 12]
    reps = 12 if args.quick else 30
    base = Path(tempfile.mkdtemp(prefix="egrid-bench-tables-"))
    try:
        started = time.perf_counter()
        sweep, _ = synthetic_sweep(base, brigades, reps, shape)
        n = len(sweep.points) * reps
        print(f"{len(sweep.points)} points × {reps} replications = {n:,} replication files of {len(shape)} rows "
              f"(built in {time.perf_counter() - started:.1f} s); 1-minute load average "
              f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        times: dict[str, list[float]] = {"before (CSV, pandas per file)": [], "now (Parquet, pyarrow)": []}
        cpu: dict[str, list[float]] = {name: [] for name in times}
        for _ in range(args.rounds):
            for name, fn in zip(times, (before_csv, now_parquet), strict=True):
                t, c = time.perf_counter(), time.process_time()
                fn(sweep, base)
                times[name].append(time.perf_counter() - t)
                cpu[name].append(time.process_time() - c)
        before_csv(sweep, base)  # untimed: both summaries, to check they are the same
        (base / "summary.csv").replace(base / "summary-before.csv")
        now_parquet(sweep, base)
        same = (base / "summary.csv").read_bytes() == (base / "summary-before.csv").read_bytes()
        b, a = (min(v) for v in times.values())
        for name, v in times.items():
            print(f"  {name:32s} best {min(v):6.2f} s  (all: {', '.join(f'{x:.2f}' for x in v)}); "
                  f"CPU time of this process {min(cpu[name]):.2f} s")
        verdict = "not measured (--quick)" if args.quick else ("met" if a <= 5 else "NOT met")
        bare = bare_us()
        print(f"  ratio before / now: {b / a:.1f}×   target: now ≤ 5 s at 7,200 replications: {verdict};"
              f" now {at_issue_speed(a, bare):.2f} s at the issue's machine speed"
              f" (bare SimPy {bare:.1f} µs/arrival here, {ISSUE_BARE_US} there)")
        print(f"  sizes: results.csv {mib(base / 'results.csv')}, results.parquet {mib(base / 'results.parquet')}, "
              f"summary.csv {mib(base / 'summary.csv')}; summary.csv the same byte for byte both ways: {same}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

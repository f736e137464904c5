"""One town simulated when one town changes: a restricted replication against the whole county, same run.

    python benchmarks/bench_replay.py [--quick] [--towns N]

For one replication of a simulated year: the whole-county baseline (logged once per
replication), then for each of the first N brigades one staff level run restricted
(:mod:`sim.replay`) and, for the first two, the whole-county run of the same level.
Prints the cost of a restricted replication as a share of a whole-county one and
extrapolates "12 towns × 20 levels × 30 replications" on 2 cores (target ≤ 15 min):
30 × (one baseline + 240 restricted) ÷ 2, against 7,200 whole-county years ÷ 2.

The default scenario runs as it is: cases a department sends back for joint action
(``transfer.returned_share``) are sent back on receipt, so they do not couple the towns.
"""

from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

from enforcement_grid.experiments import replay
from enforcement_grid.sim import load_scenario
from enforcement_grid.experiments import run_replication
from enforcement_grid.experiments.sweep import restaff

ROOT = Path(__file__).resolve().parents[1]


def timed(fn, *args, **kw):
    gc.collect()
    t = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="60 days instead of a year")
    ap.add_argument("--towns", type=int, default=12)
    args = ap.parse_args()
    days = 60 if args.quick else 365
    base = load_scenario(ROOT / "scenarios/huian.toml", [f"scenario.horizon_days={days}"])
    print(f"Hui'an default, {days} days, replication 0")
    t_base, baseline = timed(replay.record_baseline, base, 0)
    print(f"   baseline (whole county, logged):  {t_base:6.2f} s")
    whole, part = [], []
    for i, b in enumerate(base.brigades[: args.towns]):
        n = sum(r.officers for r in base.staffing if r.brigade == b.name)
        sc = restaff(base, b.name, max(4, int(n * 0.8)))
        assert replay.restriction_problem(sc, base, [b.name]) is None
        t_part, r = timed(replay.run_restricted, sc, [b.name], baseline, keep_records=False)
        part.append(t_part)
        line = f"   {b.name}: restricted {t_part:6.2f} s"
        if i < 2:  # the whole county at the same level, alternating with the restricted runs
            t_whole, w = timed(run_replication, sc, 0, keep_records=False)
            whole.append(t_whole)
            line += f"   whole county {t_whole:6.2f} s"
        print(line)
    t_whole = sum(whole) / len(whole)
    t_part = sum(part) / len(part)
    share = t_part / t_whole
    print(f"   restricted ÷ whole county: {share:.2f} (min–max of restricted {min(part):.2f}–{max(part):.2f} s;"
          f" whole {min(whole):.2f}–{max(whole):.2f} s)")
    scale = 365 / days
    full = 30 * (t_base + 240 * t_part) / 2 * scale
    plain = 7200 * t_whole / 2 * scale
    print(f"   12 towns × 20 levels × 30 replications of a year on 2 cores: {full / 60:.1f} min restricted,"
          f" {plain / 60:.1f} min whole county   ratio {full / plain:.2f}   (target ≤ 15 min)")


if __name__ == "__main__":
    main()

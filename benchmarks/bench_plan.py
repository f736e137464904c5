"""Speed of ``egrid plan scenarios/huian.toml`` at its defaults, with its breakdown, against a baseline in the same run.

    python benchmarks/bench_plan.py [--days D] [-n N] [--workers W]

Targets (2-core machine): the whole command ≤ 5 minutes; the optimisation itself
(curves for every shift pattern, the allocation solve, the weekly timetable) ≤ 30 s.
Baseline, measured in the same run: one ``egrid run scenarios/huian.toml`` of the
same length and replications — the plan is shown as a multiple of it (it simulates
every lever combination, the baselines and the "are the posts enough" totals).
The breakdown is the plan folder's timings.csv.  On a machine shared with other
work, note its load average: the timings scale with it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
EGRID = [sys.executable, "-m", "enforcement_grid.cli.cli"]


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, help="run length (default: the scenario's 365)")
    ap.add_argument("-n", type=int, help="replications (default: the scenario's 10)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    extra = (["--days", str(args.days)] if args.days else []) + (["-n", str(args.n)] if args.n else [])
    scenario = str(ROOT / "scenarios" / "huian.toml")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        base = timed([*EGRID, "run", scenario, *extra, "--workers", str(args.workers), "--no-records",
                      "--out", f"{tmp}/run"])
        plan = timed([*EGRID, "plan", scenario, *extra, "--workers", str(args.workers), "-q", "--out", f"{tmp}/plan"])
        steps = pd.read_csv(Path(tmp) / "plan" / "timings.csv").set_index("step")["seconds"]
        runs = len(pd.read_csv(Path(tmp) / "plan" / "plans.csv"))
    print(f"load average at the start: {load:.1f} on {os.cpu_count()} cores")
    print(f"baseline  egrid run huian {' '.join(extra) or '(defaults)'}: {base:7.1f} s")
    print(f"egrid plan huian {' '.join(extra) or '(defaults)'}:        {plan:7.1f} s  "
          f"= {plan / base:.1f} × the baseline ({runs} plans simulated)  target ≤ 300 s: "
          f"{'met' if plan <= 300 else 'NOT met'}")
    opt = steps.get("optimise", float("nan"))
    print(f"  optimisation {opt:7.1f} s  target ≤ 30 s: {'met' if opt <= 30 else 'NOT met'}")
    for step, s in steps.items():
        print(f"    {step:28s} {s:7.1f} s")


if __name__ == "__main__":
    main()

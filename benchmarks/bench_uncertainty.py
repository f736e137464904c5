"""Uncertainty: Morris screening of the Hui'an ranges at the command's default settings.

    python benchmarks/bench_uncertainty.py [--workers W] [--days D]

Target: ``egrid uncertainty scenarios/huian.toml`` (Morris, 10 trajectories, 2 inner
replications, a simulated year, the before counterpart, 2 workers) in ≤ 15 minutes
on the 2-core machine.  That run is too long to repeat here, so it is measured on a
reduced size and extrapolated:

1. **Baseline**: one replication of a simulated year of the current and of the
   before scenario in this process (best of two).
2. **Reduced study**: one Morris trajectory (k + 1 draws and the nominal one), runs
   of ``--days`` days, the same variants, on ``--workers`` local processes, end to end
   (building and checking every draw, the pool, the draw files, the analysis).  Its
   time beyond its replications' own (run alone in this process) is the machinery's
   **overhead per replication** (worker start-up, building and checking each draw,
   pickling, draw files).
3. **Extrapolation**: the default study's replications × (a year's replication time +
   that overhead) ÷ workers, plus the analysis time of 2 scaled by the number of draws.

Wall-clock timings need an otherwise idle machine; on a shared one they are inflated
by the other work, so every figure is also given in **CPU time** (this process and its
finished worker processes), which the other work inflates much less: the CPU-time
extrapolation is the estimate for an idle 2-core machine.  The load average is printed.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "huian.toml"
BEFORE = ROOT / "scenarios" / "huian-before.toml"

from enforcement_grid.sim import load_scenario  # noqa: E402
from enforcement_grid.experiments.executors import make_executor  # noqa: E402
from enforcement_grid.uncertainty.report import analyse  # noqa: E402
from enforcement_grid.uncertainty.runner import build_study, run_study, simulate  # noqa: E402

TARGET_S = 15 * 60


def _best(fn, times: int = 2) -> tuple[float, float]:
    """Best wall and best CPU time of ``times`` calls."""
    wall = cpu = float("inf")
    for _ in range(times):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = min(wall, time.perf_counter() - t), min(cpu, time.process_time() - c)
    return wall, cpu


def _cpu_all() -> float:
    """CPU seconds of this process and of its finished child processes."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _tasks(study) -> int:
    return sum(study.reps(d) * len(study.variants) for d in range(study.draws))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--days", type=float, default=60.0, help="run length of the reduced study")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")

    full = build_study(SCENARIO, [], BEFORE, "morris", 10, 2, None)
    k = len(full.inputs)
    print(f"default study: {k} inputs, {full.draws - 1} Morris draws + nominal, variants "
          f"{[v.label for v in full.variants]}, {_tasks(full)} replications of a year")

    year = {label: load_scenario(path) for label, path in (("current", SCENARIO), ("before", BEFORE))}
    simulate(year["current"], 0)  # warm caches
    t_year = {label: _best(lambda sc=sc: simulate(sc, 0)) for label, sc in year.items()}
    for label, (w, c) in t_year.items():
        print(f"1. one simulated year, {label}: {w:.2f} s wall, {c:.2f} s CPU in this process")
    wall_year = sum(w for w, _ in t_year.values()) / len(t_year)
    cpu_year = sum(c for _, c in t_year.values()) / len(t_year)

    small = build_study(SCENARIO, [], BEFORE, "morris", 1, 2, args.days)
    days = {label: load_scenario(path, [f"scenario.horizon_days={args.days}"])
            for label, path in (("current", SCENARIO), ("before", BEFORE))}
    t_small = [_best(lambda sc=sc: simulate(sc, 0)) for sc in days.values()]
    wall_small = sum(w for w, _ in t_small) / len(t_small)
    cpu_small = sum(c for _, c in t_small) / len(t_small)
    tmp = Path(tempfile.mkdtemp(prefix="bench-uncertainty-"))
    try:
        started, cpu0 = time.perf_counter(), _cpu_all()
        with make_executor(args.workers) as ex:
            run_study(small, tmp / "study", ex)
        t_run, c_run = time.perf_counter() - started, _cpu_all() - cpu0
        started, cpu0 = time.perf_counter(), _cpu_all()
        analyse(small, tmp / "study")
        t_analyse, c_analyse = time.perf_counter() - started, _cpu_all() - cpu0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n_small, n_full, w = _tasks(small), _tasks(full), args.workers
    ratio = full.draws / small.draws
    overhead_wall = max(0.0, t_run * w - n_small * wall_small) / n_small  # per replication, on top of simulating
    overhead_cpu = max(0.0, c_run - n_small * cpu_small) / n_small
    print(f"2. reduced study ({small.draws} draws × {len(small.variants)} variants, {args.days:g} days, "
          f"{n_small} replications) on {w} workers: {t_run:.1f} s wall against {n_small * wall_small / w:.1f} s "
          f"of replications alone, {c_run:.1f} s CPU against {n_small * cpu_small:.1f} s: the machinery adds "
          f"{overhead_cpu:.3f} s CPU ({overhead_wall:.3f} s wall) per replication; analysis {t_analyse:.1f} s "
          f"wall, {c_analyse:.1f} s CPU")
    for what, per_rep, overhead, analysis in (
            ("wall clock (this machine, as loaded)", wall_year, overhead_wall, t_analyse),
            ("CPU time (an idle 2-core machine)", cpu_year, overhead_cpu, c_analyse)):
        estimate = n_full * (per_rep + overhead) / w + analysis * ratio
        print(f"3. default study from {what}: {n_full} × ({per_rep:.2f} + {overhead:.3f}) s ÷ {w} + "
              f"{analysis:.1f} s × {ratio:.1f} (analysis, scaled by draws) = {estimate / 60:.1f} min "
              f"({estimate / TARGET_S:.2f} × the 15-minute target) — {'met' if estimate <= TARGET_S else 'MISSED'}")
    print(f"   load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

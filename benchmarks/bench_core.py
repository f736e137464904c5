"""Speed and memory of the simulation core, each against a baseline measured in the same run.

    python benchmarks/bench_core.py [--quick]

1. **Cost per violation vs bare SimPy.**  A bare SimPy M/M/c (one ``simpy.Resource``,
   one process per arrival) with as many arrivals as the model has violations; the
   model on the same M/M/c reduction and on the default Hui'an scenario.  Ratio:
   model cost per violation ÷ bare SimPy cost per arrival (target ≤ 3).  Both model runs are
   timed as the best of 3 in one process, records kept (the first run of a process also pays
   one-time imports and caches: its time is shown beside).
   Also the SimPy events per violation of one such year (counted in an untimed run), and the ratio
   split in two factors: events per violation ÷ events per bare arrival (how much more happens) ×
   cost per event ÷ a bare event's (how much dearer each happening is).
2. **One simulated year of the default scenario** per replication (target ≤ 0.5 s, issue 15).
3. **Memory with records off**: peak traced memory of a 5-year run ÷ a 1-year run
   (target: about 1, flat in the run length).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the M/M/c scenario builder shared with the tests

import factory  # noqa: E402
from machine import ISSUE_BARE_US, at_issue_speed, bare_simpy_mmc, counted_steps  # noqa: E402

from enforcement_grid.experiments import run_replication  # noqa: E402
from enforcement_grid.sim import load_scenario  # noqa: E402


def events_per_violation(sc, rep=0) -> tuple[int, int]:
    """SimPy events processed and violations created in one replication (an untimed, counted run)."""
    from enforcement_grid.sim.model import Model

    model = Model(sc, rep)
    count = counted_steps(model.env)
    model.run()
    return count[0], model.recorder.created


def timed_replication(sc, rep=0, keep=True):
    gc.collect()
    t = time.perf_counter()
    result = run_replication(sc, rep, keep_records=keep)
    return time.perf_counter() - t, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter runs (smoke test of the benchmark)")
    args = ap.parse_args()
    years = 2 if args.quick else 5
    tmp = Path(tempfile.mkdtemp())

    print("1. cost per violation against bare SimPy M/M/c")
    days = 60 if args.quick else 365
    mmc = load_scenario(factory.mmc(tmp / "mmc", 4.0, 30.0, 3, days=days, replications=1))
    mmc_times = []
    for _ in range(1 if args.quick else 3):  # best of 3, as the Hui'an year below (the first run of a
        t, r_mmc = timed_replication(mmc)  # process also pays one-time imports and caches)
        mmc_times.append(t)
    t_mmc = min(mmc_times)
    n_mmc = len(r_mmc.records)
    t_bare = min(bare_simpy_mmc(n_mmc, 3, 4.0 / 60, 30.0, seed=s) for s in range(3))
    per_bare = t_bare / n_mmc
    print(f"   bare SimPy M/M/c:      {n_mmc:7d} arrivals   {per_bare * 1e6:6.1f} µs/arrival")
    print(f"   model, M/M/c:          {n_mmc:7d} violations {t_mmc / n_mmc * 1e6:6.1f} µs/violation"
          f"   ratio {t_mmc / n_mmc / per_bare:.2f}   (best of {len(mmc_times)}; first run {mmc_times[0]:.2f} s)")

    huian = load_scenario(ROOT / "scenarios/huian.toml")
    if args.quick:
        huian = load_scenario(ROOT / "scenarios/huian.toml", ["scenario.horizon_days=60"])
    times = []
    for rep in range(1 if args.quick else 3):
        t, r = timed_replication(huian, rep)
        times.append(t)
    n = len(r.records)
    t_year = min(times)
    print(f"   model, Hui'an default: {n:7d} violations {t_year / n * 1e6:6.1f} µs/violation"
          f"   ratio {t_year / n / per_bare:.2f}   (target ≤ 3)")
    u = r.units
    jobs = n + int(u["patrol_visits_done"].sum() + u["inspections_done"].sum())
    print(f"                          {jobs:7d} jobs       {t_year / jobs * 1e6:6.1f} µs/job"
          f"         ratio {t_year / jobs / per_bare:.2f}   (violations + patrol visits + inspections)")
    events, created = events_per_violation(huian)
    print(f"                          {events:7d} SimPy events, {events / created:.1f} per violation")
    # the ratio per violation = (events per violation ÷ per bare arrival) × (cost per event ÷ bare cost per event)
    bare_events = bare_simpy_mmc(n_mmc, 3, 4.0 / 60, 30.0, count_events=True) / n_mmc
    per_event, bare_per_event = t_year / n / (events / created), per_bare / bare_events
    print(f"   split of the ratio: {events / created:.1f} events per violation ÷ {bare_events:.1f} per bare arrival"
          f" = {events / created / bare_events:.2f};  {per_event * 1e6:.2f} µs per event ÷ {bare_per_event * 1e6:.2f}"
          f" bare = {per_event / bare_per_event:.2f};  product {t_year / n / per_bare:.2f}")

    print("2. one simulated year of the default Hui'an scenario, per replication")
    print(f"   {t_year:.2f} s (target ≤ 0.5 s; best of {len(times)});"
          f" {at_issue_speed(t_year, per_bare * 1e6):.2f} s at the issue's machine speed"
          f" (bare SimPy {ISSUE_BARE_US} µs/arrival there, {per_bare * 1e6:.1f} here)")

    print("3. peak memory with records off")
    peaks = {}
    for y in (1, years):
        sc = load_scenario(ROOT / "scenarios/huian.toml", [f"scenario.horizon_days={365 * y}", "records.keep=false"])
        gc.collect()
        tracemalloc.start()
        run_replication(sc, 0)
        peaks[y] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print(f"   1 year: {peaks[1] / 2**20:.1f} MiB   {years} years: {peaks[years] / 2**20:.1f} MiB"
          f"   ratio {peaks[years] / peaks[1]:.2f} (target ≈ 1: flat in run length)")


if __name__ == "__main__":
    main()

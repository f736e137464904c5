"""Speed and memory of the simulation core, each against a baseline measured in the same run.

    python benchmarks/bench_core.py [--quick]

1. **Cost per violation vs bare SimPy.**  A bare SimPy M/M/c (one ``simpy.Resource``,
   one process per arrival) with as many arrivals as the model has violations; the
   model on the same M/M/c reduction and on the default Hui'an scenario.  Ratio:
   model cost per violation ÷ bare SimPy cost per arrival (target ≤ 3).  Measured in pairs,
   each model replication (records kept) followed at once by its bare run, 5 pairs: the median
   ratio and its range (min–max), which a best-of-N of each taken apart would not show on a
   machine whose speed drifts.  The first run of a process also pays one-time imports and
   caches: it is run first, untimed in the pairs, its time shown beside.
   Also the SimPy events per violation of one such year (counted in an untimed run), and the ratio
   split in two factors: events per violation ÷ events per bare arrival (how much more happens) ×
   cost per event ÷ a bare event's (how much dearer each happening is).
2. **One simulated year of the default scenario** per replication (target ≤ 0.5 s, issue 15): the
   pairs' years, median (min–max), and each scaled by its own bare run to the issue's machine.
3. **Memory with records off**: peak traced memory of a 5-year run ÷ a 1-year run
   (target: about 1, flat in the run length).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
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


@dataclass
class Pair:
    """One model replication and, right after it, a bare SimPy M/M/c run of as many arrivals."""

    bare_us: float  # bare SimPy, µs per arrival
    seconds: float  # the replication
    n: int  # its violations
    jobs: int  # violations + patrol visits + inspections

    @property
    def model_us(self) -> float:
        return self.seconds / self.n * 1e6

    @property
    def ratio(self) -> float:
        return self.model_us / self.bare_us


def paired(replicate, rounds: int) -> list[Pair]:
    """``rounds`` pairs of runs a moment apart (the machine's speed drifts): model replication ``i``
    (``replicate(i)`` → (seconds, RunResult)), then a bare SimPy M/M/c with as many arrivals as it had
    violations."""
    out = []
    for i in range(rounds):
        seconds, r = replicate(i)
        n = len(r.records)
        bare_us = bare_simpy_mmc(n, 3, 4.0 / 60, 30.0, seed=i) / n * 1e6
        u = r.units
        out.append(Pair(bare_us, seconds, n, n + int(u["patrol_visits_done"].sum() + u["inspections_done"].sum())))
    return out


def _spread(values: list[float], fmt: str = "6.1f") -> str:
    """Median (min–max)."""
    return f"{statistics.median(values):{fmt}} ({format(min(values), fmt).strip()}–{format(max(values), fmt).strip()})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter runs (smoke test of the benchmark)")
    args = ap.parse_args()
    years = 2 if args.quick else 5
    tmp = Path(tempfile.mkdtemp())

    print("1. cost per violation against bare SimPy M/M/c (in pairs: a model run, then a bare one; median (min–max))")
    rounds = 1 if args.quick else 5
    days = 60 if args.quick else 365
    mmc = load_scenario(factory.mmc(tmp / "mmc", 4.0, 30.0, 3, days=days, replications=1))
    huian = load_scenario(ROOT / "scenarios/huian.toml", ["scenario.horizon_days=60"] if args.quick else [])
    first_mmc = timed_replication(mmc)[0]  # the first run of a process also pays one-time imports and
    first_huian = timed_replication(huian, rounds)[0]  # caches: run each once first, untimed below
    mmc_pairs = paired(lambda i: timed_replication(mmc), rounds)
    n_mmc = mmc_pairs[0].n
    print(f"   bare SimPy M/M/c:      {n_mmc:7d} arrivals   {_spread([p.bare_us for p in mmc_pairs])} µs/arrival")
    print(f"   model, M/M/c:          {n_mmc:7d} violations {_spread([p.model_us for p in mmc_pairs])} µs/violation"
          f"   ratio {_spread([p.ratio for p in mmc_pairs], '.2f')}   (first run of the process {first_mmc:.2f} s)")

    huian_pairs = paired(lambda i: timed_replication(huian, i), rounds)
    print(f"   bare SimPy M/M/c:      {huian_pairs[0].n:7d} arrivals   {_spread([p.bare_us for p in huian_pairs])}"
          f" µs/arrival   (the Hui'an pairs')")
    print(f"   model, Hui'an default: {huian_pairs[0].n:7d} violations {_spread([p.model_us for p in huian_pairs])}"
          f" µs/violation   ratio {_spread([p.ratio for p in huian_pairs], '.2f')}   (target ≤ 3)")
    job_ratios = [p.ratio * p.n / p.jobs for p in huian_pairs]
    print(f"                          {huian_pairs[0].jobs:7d} jobs       per job ratio {_spread(job_ratios, '.2f')}"
          f"   (violations + patrol visits + inspections)")
    events, created = events_per_violation(huian)
    print(f"                          {events:7d} SimPy events, {events / created:.1f} per violation")
    # the ratio per violation = (events per violation ÷ per bare arrival) × (cost per event ÷ bare cost per event)
    bare_events = bare_simpy_mmc(n_mmc, 3, 4.0 / 60, 30.0, count_events=True) / n_mmc
    ratio = statistics.median(p.ratio for p in huian_pairs)
    more = events / created / bare_events
    print(f"   split of the median ratio: {events / created:.1f} events per violation ÷ {bare_events:.1f} per bare"
          f" arrival = {more:.2f};  cost per event ÷ a bare event's = {ratio / more:.2f};  product {ratio:.2f}")

    print("2. one simulated year of the default Hui'an scenario, per replication")
    years_s = [p.seconds for p in huian_pairs]
    scaled = [at_issue_speed(p.seconds, p.bare_us) for p in huian_pairs]
    print(f"   {_spread(years_s, '.2f')} s (target ≤ 0.5 s; first run of the process {first_huian:.2f} s);"
          f" {_spread(scaled, '.2f')} s at the issue's machine speed (bare SimPy {ISSUE_BARE_US} µs/arrival there)")

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

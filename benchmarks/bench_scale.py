"""Scale: parallel speed-up, a simulated Hui'an year × 30, Dask's overhead, memory of long horizons.

    python benchmarks/bench_scale.py [--quick]

Each figure is printed against a baseline measured in the same run.  Records are
off throughout (running sums only, as in sweeps).  Timings need an otherwise idle
machine: each section prints the load average it started under.

1. **Speed-up of 2 workers over 1**: 40 replications of the default Hui'an
   scenario (120 days) run in this process, then on 2 local worker processes
   (``experiments.run(..., workers=2)``).  Target ≥ 1.9× (issue 15).  Beside it, the
   machine's own ceiling measured just before and after (:func:`machine.parallel_ceiling`:
   two copies of a CPU-bound loop at once against one), and the speed-up as a share of it.
2. **30 replications of a simulated Hui'an year** on all cores.  Target ≤ 45 s;
   shown against 30 × one replication's time in this process.
3. **Dask's overhead**: the same 30 replications on a ``LocalCluster`` (one
   single-threaded worker process per core) against plain local processes.
   The cluster is started, and its workers have imported the model (one run),
   before the clock starts: start-up and that first run are shown separately,
   paid once per cluster, not per run.  Target ≤ 10 % (issue 15).

Timed runs are repeated (three times, interleaved: a, b, a, b, a, b) and the best of each is
compared (the ratio of each a, b pair is shown too, with its median), so a burst of other work
on the machine does not decide a ratio.
4. **Peak memory of a 10-year horizon against a 1-year one**: each horizon runs
   one replication in a fresh child process.  The child resets its peak
   resident set size after loading (``/proc/self/clear_refs``, Linux) and
   reports the peak during the run (``VmHWM``) next to its size before it; the
   process's ``ru_maxrss`` is shown too, though importing the libraries can set
   that peak.  A second child per horizon reports the run's peak Python
   allocations (``tracemalloc``).  Target: the 10-year peak no more than the
   1-year's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
SCENARIO = ROOT / "scenarios" / "huian.toml"

from machine import parallel_ceiling  # noqa: E402

from enforcement_grid.experiments import run  # noqa: E402
from enforcement_grid.sim import load_scenario  # noqa: E402

CHILD = r"""
import gc, json, resource, sys, tracemalloc
from enforcement_grid.sim import load_scenario
from enforcement_grid.experiments import run_replication


def status(key):  # kiB, from /proc/self/status (Linux)
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])


sc = load_scenario(sys.argv[1], [f"scenario.horizon_days={sys.argv[2]}", "records.keep=false"])
run_replication(load_scenario(sys.argv[1], ["scenario.horizon_days=20", "records.keep=false"]), 0)  # warm caches
gc.collect()
if sys.argv[3] == "traced":
    tracemalloc.start()
    run_replication(sc, 0)
    print(json.dumps({"traced_peak_b": tracemalloc.get_traced_memory()[1]}))
else:
    before = status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:  # reset the peak (VmHWM) to the current size
        f.write("5")
    run_replication(sc, 0)
    print(json.dumps({"before_kib": before, "peak_kib": status("VmHWM"),
                      "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def load() -> str:
    """Other work on the machine skews every figure here: each section shows the load it started under."""
    return f"(1-minute load average at start {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)"


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def huian(days: float):
    return load_scenario(SCENARIO, [f"scenario.horizon_days={days}", "records.keep=false"])


def best_of(rounds: int, **runs) -> dict[str, list[float]]:
    """Time each named run ``rounds`` times, interleaved (a, b, a, b …) so drift hits both alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            times[name].append(timed(fn))
    return times


def _all(ts: list[float]) -> str:
    return ", ".join(f"{t:.1f}" for t in ts)


def _pairs(a: list[float], b: list[float]) -> str:
    """Each pair's overhead a ÷ b − 1, and their median."""
    r = [x / y - 1 for x, y in zip(a, b)]
    return ", ".join(f"{x:+.1%}" for x in r) + f" (median {statistics.median(r):+.1%})"


def speed_up(reps: int, days: float, rounds: int) -> None:
    sc = huian(days)
    print(f"1. speed-up: {reps} replications of Hui'an, {days:g} days, 2 worker processes vs 1")
    print(f"   {load()}")
    before = parallel_ceiling()
    t = best_of(rounds, one=lambda: run(sc, reps, workers=1), two=lambda: run(sc, reps, workers=2))
    after = parallel_ceiling()
    one, two = min(t["one"]), min(t["two"])
    ceiling = before + after
    print(f"   1 worker (in this process): {one:6.1f} s (best of {_all(t['one'])})")
    print(f"   2 worker processes:         {two:6.1f} s (best of {_all(t['two'])})   "
          f"speed-up {one / two:.2f}× (target ≥ 1.9×)")
    print(f"   speed-up pair by pair: {', '.join(f'{a / b:.2f}×' for a, b in zip(t['one'], t['two']))}")
    print(f"   the machine's own ceiling, two bare CPU-bound processes ÷ one, before and after: "
          f"{', '.join(f'{c:.2f}×' for c in ceiling)} (2.00× on two free cores); "
          f"the speed-up is {one / two / max(ceiling):.0%}–{one / two / min(ceiling):.0%} of it")


def year_and_dask(reps: int, days: float, cores: int, rounds: int) -> None:
    from distributed import Client, LocalCluster

    sc = huian(days)
    print(f"2. {reps} replications of a simulated Hui'an year ({days:g} days) on all {cores} cores")
    print(f"   {load()}")
    single = min(timed(lambda rep=rep: run(sc, [rep], workers=1)) for rep in range(2))
    t0 = time.perf_counter()
    with LocalCluster(n_workers=cores, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        started = time.perf_counter() - t0
        cold = timed(lambda: run(sc, reps, scheduler=client))
        t = best_of(rounds, plain=lambda: run(sc, reps, workers=cores),
                    dask=lambda: run(sc, reps, scheduler=client))
    plain, dask = min(t["plain"]), min(t["dask"])
    print(f"   one replication in this process: {single:5.2f} s  → {reps} serially ≈ {reps * single:5.1f} s")
    print(f"   {reps} on {cores} processes:          {plain:5.1f} s (best of {_all(t['plain'])})  "
          f"ratio {plain / (reps * single):.2f} of serial (target ≤ 45 s)")
    print(f"3. Dask LocalCluster ({cores} single-threaded worker processes) vs plain processes, "
          f"same {reps} replications")
    print(f"   cluster start-up:             {started:5.1f} s (once per cluster)")
    print(f"   Dask, first run on the cluster: {cold:5.1f} s  overhead {cold / plain - 1:+.1%} "
          f"(workers import the model)")
    print(f"   Dask, warm workers:           {dask:5.1f} s (best of {_all(t['dask'])})  "
          f"overhead {dask / plain - 1:+.1%} (target ≤ 10 %)")
    print(f"   overhead pair by pair (each Dask run against the plain run before it): {_pairs(t['dask'], t['plain'])}")


def child_memory(days: float, how: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", CHILD, str(SCENARIO), str(days), how], capture_output=True,
                         text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def memory(years: int) -> None:
    print(f"4. peak memory, {years}-year vs 1-year horizon, records off (a fresh child process per horizon)")
    print(f"   {load()}")
    m = {y: child_memory(365 * y, "rss") for y in (1, years)}
    for y in (1, years):
        grow = (m[y]["peak_kib"] - m[y]["before_kib"]) / 1024
        print(f"   {y:2d} year(s): peak RSS during the run {m[y]['peak_kib'] / 1024:6.1f} MiB "
              f"({m[y]['before_kib'] / 1024:.1f} MiB before it, so +{grow:.1f} MiB for the run; "
              f"process ru_maxrss {m[y]['maxrss_kib'] / 1024:.1f} MiB)")
    g1 = m[1]["peak_kib"] - m[1]["before_kib"]
    gy = m[years]["peak_kib"] - m[years]["before_kib"]
    print(f"   ratio of peak RSS {m[years]['peak_kib'] / m[1]['peak_kib']:.2f}, of the run's own growth "
          f"{gy / max(g1, 1):.2f} (target: {years}-year peak no more than the 1-year's)")
    t = {y: child_memory(365 * y, "traced")["traced_peak_b"] for y in (1, years)}
    print(f"   peak Python allocations during the run (tracemalloc): 1 year {t[1] / 2**20:.1f} MiB, "
          f"{years} years {t[years] / 2**20:.1f} MiB, ratio {t[years] / t[1]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer, shorter runs (smoke test of the benchmark)")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    print(f"{cores} cores, Python {sys.version.split()[0]}\n")
    if args.quick:
        speed_up(12, 30, rounds=1)
        year_and_dask(8, 60, cores, rounds=1)
        memory(2)
    else:
        speed_up(40, 120, rounds=3)
        year_and_dask(30, 365, cores, rounds=3)
        memory(10)


if __name__ == "__main__":
    main()

"""One town simulated when one town changes: a restricted replication against the whole county, same run.

    python benchmarks/bench_replay.py [--quick] [--towns N] [--sweep-replications K]

For one replication of a simulated year: the whole-county baseline (logged once per
replication), then for each of the first N brigades one staff level run restricted
(:mod:`sim.replay`) and, for the first two, the whole-county run of the same level.
Prints the cost of a restricted replication as a share of a whole-county one and
extrapolates "12 towns × 20 levels × 30 replications" on 2 cores (target ≤ 15 min):
30 × (one baseline + 240 restricted) ÷ 2, against 7,200 whole-county years ÷ 2.

Then **a real sweep** (``run_sweep`` on 2 local workers, records off, as ``egrid sweep``
runs it): every town × 20 staff levels (6 to 44 officers) × K replications (default 1),
restricted, against the same grid's first town with ``replay=False`` (the whole county
each time), both timed whole (task hand-out, each replication's files, the tables);
extrapolated to 30 replications.

Each extrapolation is also printed at the issue's machine speed (:mod:`machine`: scaled by a
bare SimPy M/M/c measured at the start of this run).

The default scenario runs as it is: cases a department sends back for joint action
(``transfer.returned_share``) are sent back on receipt, so they do not couple the towns.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from pathlib import Path

from machine import ISSUE_BARE_US, at_issue_speed, bare_us

from enforcement_grid.experiments import replay
from enforcement_grid.sim import load_scenario
from enforcement_grid.experiments import run_replication
from enforcement_grid.experiments.executors import ProcessExecutor
from enforcement_grid.experiments.sweep import load_sweep, restaff, run_sweep

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
    ap.add_argument("--sweep-replications", type=int, default=1, help="replications of the real sweep (0: skip it)")
    args = ap.parse_args()
    days = 60 if args.quick else 365
    bare = bare_us()
    print(f"machine: bare SimPy M/M/c {bare:.1f} µs per arrival ({ISSUE_BARE_US} µs when the issue was measured)")
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
          f" {plain / 60:.1f} min whole county   ratio {full / plain:.2f}   (target ≤ 15 min;"
          f" {at_issue_speed(full, bare) / 60:.1f} min at the issue's machine speed)")
    if args.sweep_replications > 0:
        real_sweep(base, days, args.sweep_replications, bare)


LEVELS = list(range(6, 46, 2))  # 20 staff levels


def sweep_file(folder: Path, brigades: list[str], days: int, replications: int) -> Path:
    names = ", ".join(f'"{b}"' for b in brigades)
    path = folder / f"sweep-{len(brigades)}.toml"
    path.write_text(
        f'scenario = "{(ROOT / "scenarios/huian.toml").as_posix()}"\nreplications = {replications}\n'
        f'days = {days}\nrecords = false\n[[factor]]\nname = "staff"\nstaff = [{names}]\nvalues = {LEVELS}\n',
        encoding="utf-8")
    return path


def real_sweep(base, days: int, replications: int, bare: float) -> None:
    towns = [b.name for b in base.brigades]
    tmp = Path(tempfile.mkdtemp())
    grid = load_sweep(sweep_file(tmp, towns, days, replications))
    one = load_sweep(sweep_file(tmp, towns[:1], days, replications))
    n, n1 = len(grid.points) * replications, len(one.points) * replications
    print(f"   a real sweep on 2 workers: {len(towns)} towns × {len(LEVELS)} levels × {replications} replication(s)")
    t0 = time.perf_counter()
    run_sweep(grid, tmp / "restricted", ProcessExecutor(2))
    t_grid = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_sweep(one, tmp / "whole", ProcessExecutor(2), replay=False)
    t_one = time.perf_counter() - t0
    per_part, per_whole = t_grid / n, t_one / n1
    scale = 365 / days * 7200
    print(f"      restricted: {n} replications in {t_grid:.1f} s ({per_part:.3f} s each, 2 workers)")
    print(f"      whole county ({towns[0]} only): {n1} replications in {t_one:.1f} s ({per_whole:.3f} s each)")
    print(f"      7,200 replications of a year: {scale * per_part / 60:.1f} min restricted, "
          f"{scale * per_whole / 60:.1f} min whole county   ratio {per_part / per_whole:.2f}   (target ≤ 15 min;"
          f" {at_issue_speed(scale * per_part, bare) / 60:.1f} min at the issue's machine speed)")


if __name__ == "__main__":
    main()

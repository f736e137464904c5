"""Speed of the optimiser at Hui'an size (12 towns, 218 villages), each against a baseline in the same run.

    python benchmarks/bench_optimize.py [--quick]

1. **Allocation**: building the coverage curves, building and solving the MILP
   (target: solve ≤ 1 s); baseline: the greedy allocation on the same curves —
   ratio of solve times, and of the coverage each reaches.
2. **Weekly patrol plan** for the whole county within 1 % of optimal (target ≤ 10 s);
   baseline: the simulator's default rule plan — ratio of times.
3. **Simulation–optimisation loop** end to end (target ≤ 5 minutes); baseline: one
   simulated replication of the loop's check — ratio of times.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from enforcement_grid.optimize.allocation import allocate, county_coverage, greedy
from enforcement_grid.optimize.data import allocation_data
from enforcement_grid.optimize.loop import sim_opt_loop, simulate
from enforcement_grid.optimize.patrol import plan_patrols
from enforcement_grid.sim import load_scenario
from enforcement_grid.sim.patrol_plan import default_plan

ROOT = Path(__file__).resolve().parents[1]


def timed(fn, *a, **k):
    t = time.perf_counter()
    out = fn(*a, **k)
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip the loop")
    args = ap.parse_args()
    sc = load_scenario(ROOT / "scenarios/huian.toml")
    o = sc.settings.optimize

    print("1. post allocation (coverage objective)")
    t_curves, data = timed(allocation_data, sc)
    t_alloc, result = timed(allocate, data, "coverage", None, o.time_limit_s, o.gap)
    t_greedy, g = timed(greedy, data)
    rep = result.report
    print(f"   coverage curves (12 towns × {o.max_posts_per_brigade} levels): {t_curves:.2f} s")
    print(f"   MILP build {rep.build_s:.3f} s, solve {rep.solve_s:.3f} s (target ≤ 1 s), "
          f"{'proven optimal' if rep.proven_optimal else 'not proven'}; with re-balancing {t_alloc:.2f} s")
    print(f"   greedy baseline {t_greedy * 1000:.1f} ms: time ratio {rep.solve_s / max(t_greedy, 1e-9):.0f}×, "
          f"coverage {county_coverage(data, result.levels):.3f} vs greedy {county_coverage(data, g):.3f} "
          f"(ratio {county_coverage(data, result.levels) / county_coverage(data, g):.3f})")

    print("2. weekly patrol plan, whole county, 1 % gap")
    t_rule, _ = timed(default_plan, sc)
    t_patrol, patrol = timed(plan_patrols, sc, None, None, o.time_limit_s, o.patrol_gap)
    worst = max(r.gap for r in patrol.reports.values() if r.has_solution)
    print(f"   build {patrol.build_s:.2f} s, solve {patrol.solve_s:.2f} s, total {t_patrol:.2f} s (target ≤ 10 s), "
          f"largest gap {worst:.2%}, checker: {'ok' if not patrol.problems else patrol.problems[:2]}")
    print(f"   default rule plan {t_rule:.2f} s: ratio {t_patrol / t_rule:.1f}×")

    if args.quick:
        return
    print("3. simulation–optimisation loop")
    t_one, _ = timed(simulate, sc, result.table, None, 1)
    t_loop, loop = timed(sim_opt_loop, sc, "coverage", None, None)
    print(f"   loop {t_loop:.1f} s (target ≤ 300 s), {loop.iterations} solve(s), converged {loop.converged}; "
          f"one check ({o.loop_replications} replications × {o.loop_days:g} days, 1 worker) {t_one:.1f} s: "
          f"ratio {t_loop / t_one:.1f}×")


if __name__ == "__main__":
    main()

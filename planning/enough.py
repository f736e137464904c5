"""Are the posts enough?  The plan re-made for other county totals, simulated on the same random numbers.

For each share of today's posts (``SHARES``: 80, 90, 100, 110 %) the posts of
each source and their certified officers are scaled (largest remainder, as
``egrid optimize tradeoff`` does), the allocation and rotas are chosen on the
same curves, and the chosen visits are packed into routes by the default rule
(the weekly patrol model is too slow to run for every total; the 100 % point is
made the same way, so the curve compares like with like).  The fewest posts
that come within ``tolerance`` (one percentage point) of the 100 % point are
found on the approximation by bisection, then simulated; if the simulated
coverage falls short, the total steps up by 5 % of today's until it does (at
most ``max_checks`` simulations).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import pandas as pd

from enforcement_grid.optimize.allocation import AllocationConflict, county_coverage
from enforcement_grid.optimize.data import source_totals
from enforcement_grid.sim import Scenario
from enforcement_grid.experiments import RunSet, run
from enforcement_grid.sim.staffing import largest_remainder

from .optimise import optimise

SHARES = (0.8, 0.9, 1.0, 1.1)
METRIC = "coverage_weighted"


@dataclass
class Enough:
    table: pd.DataFrame  # key, total_posts, share_of_today, certified, predicted, mean, ci_low, ci_high, status
    runs: dict[str, RunSet] = field(default_factory=dict)
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    fewest: str | None = None  # key of the fewest-posts row that reaches the 100 % point within tolerance


def scaled_totals(sc: Scenario, total: int) -> tuple[dict[str, int], dict[str, int]]:
    """Posts and certified officers by source for another county total (largest remainder)."""
    posts0, cert0 = source_totals(sc)
    have = sum(posts0.values())
    posts = largest_remainder(total, {s: float(n) for s, n in posts0.items()})
    cert = {s: min(posts[s], round(cert0[s] * total / have)) for s in posts0}
    return posts, cert


def _plan_at(sc, total, objective, curves):
    posts, cert = scaled_totals(sc, total)
    opt = optimise(sc, objective if objective != "min-posts" else "coverage", None, posts=posts,
                   certified=cert, curves=curves, timetable="rule")
    return opt, county_coverage(opt.data, opt.result.levels)


def _county(rs: RunSet) -> tuple[float, float, float]:
    s = rs.summary
    r = s[(s["scope"] == "county") & (s["metric"] == METRIC)].iloc[0]
    return float(r["mean"]), float(r["ci_low"]), float(r["ci_high"])


def posts_enough(sc: Scenario, curves, replications: int, objective: str = "coverage", workers=None,
                 scheduler=None, executor=None, tolerance: float = 0.01, max_checks: int = 3,
                 on_run=None) -> Enough:
    """Simulate the plan at 80–110 % of today's posts and find the fewest that reach 100 %'s within ``tolerance``."""
    have = sum(source_totals(sc)[0].values())
    out = Enough(pd.DataFrame())
    rows = []
    approx: dict[int, float] = {}

    def simulate(key, total, share, opt, pred):
        planned = opt.scenario
        planned = dataclasses.replace(planned, settings=planned.settings.model_copy(update={
            "scenario": planned.settings.scenario.model_copy(update={"name": f"{sc.name}-{key}"})}))
        if on_run:
            on_run(key, planned)
        rs = run(planned, replications, workers=workers, keep_records=False, scheduler=scheduler, executor=executor)
        out.runs[key], out.scenarios[key] = rs, planned
        m, lo, hi = _county(rs)
        rows.append((key, total, share, int(opt.allocation["certified"].sum()), pred, m, lo, hi, "simulated"))
        return m

    for share in SHARES:
        total = round(have * share)
        key = f"posts-{round(share * 100)}"
        try:
            opt, pred = _plan_at(sc, total, objective, curves)
        except AllocationConflict as err:
            rows.append((key, total, share, math.nan, math.nan, math.nan, math.nan, math.nan,
                         "infeasible: " + err.lines[0]))
            continue
        approx[total] = pred
        simulate(key, total, share, opt, pred)
    full = next((r for r in rows if r[0] == "posts-100" and r[8] == "simulated"), None)
    if full is not None:
        goal_approx = approx[have] - tolerance
        lo, hi = 1, have  # smallest total whose approximation reaches the goal, by bisection
        cache: dict[int, tuple] = {}

        def ok(total):
            if total not in cache:
                try:
                    cache[total] = _plan_at(sc, total, objective, curves)
                except AllocationConflict:
                    cache[total] = (None, -math.inf)
            return cache[total][1] >= goal_approx

        while lo < hi:
            mid = (lo + hi) // 2
            if ok(mid):
                hi = mid
            else:
                lo = mid + 1
        total = lo
        goal = full[5] - tolerance
        for _ in range(max_checks):
            key = f"fewest-{total}"
            done = next((r for r in rows if r[1] == total and r[8] == "simulated"), None)
            if done is not None:
                m = done[5]
                key = done[0]
            else:
                ok(total)
                opt, pred = cache[total]
                if opt is None:
                    break
                m = simulate(key, total, total / have, opt, pred)
            if m >= goal:
                out.fewest = key
                break
            total = min(have, total + max(1, round(0.05 * have)))
    out.table = pd.DataFrame(rows, columns=["key", "total_posts", "share_of_today", "certified", "predicted",
                                            "mean", "ci_low", "ci_high", "status"])
    out.table = out.table.sort_values("total_posts", kind="stable", ignore_index=True)
    out.table["fewest"] = out.table["key"] == out.fewest
    return out


__all__ = ["Enough", "posts_enough", "scaled_totals", "SHARES", "METRIC"]

"""The simulation–optimisation loop: solve on the curves, simulate the plan, correct the curves, re-solve.

1. Solve the allocation on the approximate coverage curves.
2. Simulate the chosen plan (``loop_replications`` × ``loop_days`` after the warm-up).
3. At each town's chosen level, replace the approximation by the simulated
   class-weighted coverage; at the levels not simulated, scale the approximation
   by the simulated ÷ approximate ratio at the nearest simulated level of that
   town (so a town whose approximation was optimistic is corrected everywhere).
4. Re-solve; stop when the plan repeats (or after ``loop_max_iterations``).

The final plan is reported with its simulated coverage and 95 % CI, side by side
with a population-proportional allocation simulated on the same random numbers,
and the paired difference.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
from dataclasses import dataclass, field

import pandas as pd

from enforcement_grid.experiments import run
from enforcement_grid.sim.config import Scenario
from enforcement_grid.sim.measures import summarise

from .allocation import AllocationResult, allocate, county_coverage
from .data import AllocationData, Curve, allocation_data
from .export import proportional_allocation, visits_by_village, with_plan

log = logging.getLogger(__name__)


@dataclass
class LoopResult:
    final: AllocationResult
    data: AllocationData  # with the corrected curves
    approx_curves: dict[str, Curve]
    simulated: dict[tuple[str, int], tuple[float, float, float]]  # (town, level) → mean, ci_low, ci_high
    history: pd.DataFrame  # iteration, town, level, predicted, simulated
    plan_summary: pd.DataFrame  # simulated summary of the final plan
    baseline_summary: pd.DataFrame  # … of the population-proportional allocation
    comparison: pd.DataFrame  # paired differences (plan − proportional)
    baseline_table: pd.DataFrame
    iterations: int
    converged: bool
    extras: dict = field(default_factory=dict)


def simulation_settings(sc: Scenario) -> list[str]:
    o = sc.settings.optimize
    s = sc.settings.scenario
    return [f"scenario.horizon_days={s.warmup_days + o.loop_days}", f"scenario.replications={o.loop_replications}"]


def simulate(sc: Scenario, table: pd.DataFrame, visits: dict[str, int] | None, workers: int | None):
    """Simulate an allocation (and patrol visits) with the loop's replications and horizon."""
    o = sc.settings.optimize
    s = sc.settings.scenario
    short = sc.settings.model_copy(update={
        "scenario": s.model_copy(update={"horizon_days": s.warmup_days + o.loop_days,
                                         "replications": o.loop_replications}),
    })
    planned = with_plan(dataclasses.replace(sc, settings=short), table, visits)
    return run(planned, o.loop_replications, workers=workers, keep_records=False)


def town_values(runset, metric: str = "coverage_weighted") -> pd.DataFrame:
    summ = runset.summary
    rows = summ[(summ["metric"] == metric)]
    return rows.set_index("scope")[["mean", "ci_low", "ci_high"]]


def correct(curves: dict[str, Curve], approx: dict[str, Curve], simulated: dict) -> None:
    """Replace simulated levels; scale the others by the nearest simulated level's ratio."""
    for town, curve in curves.items():
        seen = sorted(k for (t, k) in simulated if t == town)
        if not seen:
            continue
        for k in curve.levels:
            if (town, k) in simulated:
                curve.weighted[k] = simulated[(town, k)][0]
                curve.kind[k] = "simulated"
                continue
            near = min(seen, key=lambda s: (abs(s - k), s))
            a = approx[town].weighted[near]
            ratio = simulated[(town, near)][0] / a if a > 0 else 1.0
            curve.weighted[k] = min(1.0, approx[town].weighted[k] * ratio)
            curve.kind[k] = "corrected"


def paired_difference(a, b, metric: str, scope: str = "county") -> tuple[float, float, float]:
    """Mean of (b − a) over replications (same seeds) with its 95 % t-interval."""
    ma = a.metrics
    mb = b.metrics
    va = ma[(ma.scope == scope) & (ma.metric == metric)].set_index("rep")["value"]
    vb = mb[(mb.scope == scope) & (mb.metric == metric)].set_index("rep")["value"]
    diff = (vb - va).dropna().to_frame("value").assign(scope=scope, metric=metric).reset_index()
    if diff.empty:  # the measure is undefined in every replication (e.g. no case of a class)
        return math.nan, math.nan, math.nan
    s = summarise(diff)
    r = s.iloc[0]
    return float(r["mean"]), float(r["ci_low"]), float(r["ci_high"])


def sim_opt_loop(sc: Scenario, objective: str = "coverage", target: float | None = None,
                 workers: int | None = None, data: AllocationData | None = None, progress=None) -> LoopResult:
    """Run the loop (see module docstring) and return the final plan with its simulated check."""
    o = sc.settings.optimize
    data = data or allocation_data(sc)
    approx = copy.deepcopy(data.curves)
    simulated: dict[tuple[str, int], tuple[float, float, float]] = {}
    history = []
    last = None  # the last simulated plan and its run
    converged = False
    for it in range(1, o.loop_max_iterations + 1):
        correct(data.curves, approx, simulated)
        result = allocate(data, objective, target, o.time_limit_s, o.gap)
        if last is not None and result.levels == last[0].levels:
            converged = True
            break
        run_ = simulate(sc, result.table, visits_by_village(sc, result.visits), workers)
        values = town_values(run_)
        for t in data.towns:
            k = result.levels[t]
            m, lo, hi = (float(values.loc[t, c]) for c in ("mean", "ci_low", "ci_high"))
            simulated[(t, k)] = (m, lo, hi)
            history.append((it, t, k, result.predicted[t], m))
        if progress:
            progress(it, result, values)
        log.info("iteration %d: predicted county %.3f", it, county_coverage(data, result.levels))
        last = (result, run_)
    final, last_run = last
    baseline = proportional_allocation(sc)
    base_run = simulate(sc, baseline, None, workers)
    comparison = []
    for metric in ("coverage_weighted", "coverage", *[f"coverage_{k}" for k in sc.settings.classes]):
        comparison.append((metric, *paired_difference(base_run, last_run, metric)))
    comp = pd.DataFrame(comparison, columns=["metric", "difference", "ci_low", "ci_high"])
    comp["significant"] = (comp["ci_low"] > 0) | (comp["ci_high"] < 0)
    hist = pd.DataFrame(history, columns=["iteration", "town", "certified", "predicted", "simulated"])
    return LoopResult(
        final=final, data=data, approx_curves=approx, simulated=simulated, history=hist,
        plan_summary=last_run.summary, baseline_summary=base_run.summary, comparison=comp,
        baseline_table=baseline, iterations=it, converged=converged,
        extras={"plan_run": last_run, "baseline_run": base_run},  # for like-with-like splits of the gain
    )


def curves_table(data: AllocationData, approx: dict[str, Curve], simulated: dict) -> pd.DataFrame:
    """town, certified, coverage, kind, ci_low, ci_high — approximate and simulated points."""
    rows = []
    for t, c in approx.items():
        for k in c.levels:
            rows.append((t, k, c.weighted[k], "approx", math.nan, math.nan))
    for (t, k), (m, lo, hi) in simulated.items():
        rows.append((t, k, m, "simulated", lo, hi))
    return pd.DataFrame(rows, columns=["town", "certified", "coverage", "kind", "ci_low", "ci_high"])


__all__ = ["sim_opt_loop", "LoopResult", "curves_table", "simulate", "paired_difference"]

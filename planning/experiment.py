"""The honest comparison: the plan against today, and each lever's share of the difference.

Levers (in this order; each moves today's scenario toward the plan):

* ``allocation`` — the plan's staffing table (posts and certified officers per
  brigade and source);
* ``rotas`` — the plan's shift pattern per brigade (towns table);
* ``patrol`` — the plan's patrol visits per village and weekly timetable.  With
  the plan's staff and rotas it is exactly the plan's timetable; with other staff
  or rotas (the combinations that credit the other levers) the same visits per
  village are packed into routes by the default rule for the teams that exist
  there (:func:`sim.patrol_plan.default_plan`).  Without the lever, the default
  weekly rule applies (every village weekly, hot spots twice).

Every combination of the levers is simulated on common random numbers (the same
seed and replications), so each lever's Shapley share has a paired CI and the
shares add up to the plan's total gain in every replication
(:func:`experiments.levers.decompose`).  A lever the plan leaves as today is
not simulated; its share is exactly zero.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from enforcement_grid.experiments.levers import Decomposition, Lever, decompose, lever_from_target
from enforcement_grid.sim.config import PatrolVisit, Scenario
from enforcement_grid.sim.patrol_plan import PLAN_COLUMNS, default_plan, visits_per_week

LEVERS = ("allocation", "rotas", "patrol")
LABELS = {
    "allocation": {"zh": "编制分配", "en": "allocation of posts"},
    "rotas": {"zh": "排班", "en": "duty rotas"},
    "patrol": {"zh": "巡查频次与周计划", "en": "patrol frequency and timetable"},
    "total": {"zh": "合计", "en": "total"},
}


def patrol_lever(plan: Scenario) -> Lever:
    """The plan's visits per village (and, with the plan's staff and rotas, its timetable)."""
    table = pd.DataFrame([r.model_dump() for r in plan.patrol_plan], columns=PLAN_COLUMNS)
    visits = {k: int(v) for k, v in visits_per_week(table).items()}
    visits.update({v.village: 0 for v in plan.villages if v.village not in visits})

    def apply(sc: Scenario) -> Scenario:
        files = dict(sc.files)
        if sc.staffing == plan.staffing and sc.towns == plan.towns:
            files["patrol_plan"] = plan.files["patrol_plan"]
            return dataclasses.replace(sc, patrol_plan=plan.patrol_plan, files=files)
        rule = default_plan(dataclasses.replace(sc, patrol_plan=()), visits)
        files.pop("patrol_plan", None)
        rows = tuple(PatrolVisit(**r) for r in rule[PLAN_COLUMNS].to_dict("records"))
        return dataclasses.replace(sc, patrol_plan=rows, files=files)

    return Lever("patrol", apply=apply, label=LABELS["patrol"]["en"])


def plan_levers(today: Scenario, plan: Scenario) -> tuple[list[Lever], list[str]]:
    """The levers the plan moves, in order, and the names of those it leaves as today."""
    levers, unchanged = [], []
    if today.staffing != plan.staffing:
        levers.append(lever_from_target("allocation", plan, settings=["staffing.sources"], tables=["staffing"], label=LABELS["allocation"]["en"]))
    else:
        unchanged.append("allocation")
    if [t.shift_pattern for t in today.towns] != [t.shift_pattern for t in plan.towns]:
        levers.append(lever_from_target("rotas", plan, tables=["towns"], label=LABELS["rotas"]["en"]))
    else:
        unchanged.append("rotas")
    levers.append(patrol_lever(plan))
    return levers, unchanged


def credit(today: Scenario, plan: Scenario, replications: int, workers=None, scheduler=None,
           on_run=None) -> tuple[Decomposition, list[str]]:
    """Simulate every combination of the plan's levers on common random numbers (see module docstring)."""
    levers, unchanged = plan_levers(today, plan)
    dec = decompose(today, plan, levers, replications=replications, workers=workers, scheduler=scheduler,
                    keep_records=False, on_run=on_run)
    return dec, unchanged


def lever_table(dec: Decomposition, unchanged: list[str], metrics: list[str]) -> pd.DataFrame:
    """``levers.csv``: lever, metric, effect, ci_low, ci_high — county Shapley shares and the total, paired 95 % CI.

    A lever the plan leaves as today has effect 0 with the interval [0, 0].
    """
    t = dec.table[(dec.table["scope"] == "county") & dec.table["metric"].isin(metrics)
                  & dec.table["method"].isin(["shapley", "total"])]
    rows = []
    for m in metrics:
        sel = t[t["metric"] == m]
        for lever in LEVERS:
            r = sel[sel["lever"] == lever]
            if lever in unchanged or r.empty:
                rows.append((lever, m, 0.0, 0.0, 0.0))
            else:
                r = r.iloc[0]
                rows.append((lever, m, r["effect"], r["ci_low"], r["ci_high"]))
        r = sel[sel["lever"] == "total"]
        if not r.empty:
            r = r.iloc[0]
            rows.append(("total", m, r["effect"], r["ci_low"], r["ci_high"]))
    return pd.DataFrame(rows, columns=["lever", "metric", "effect", "ci_low", "ci_high"])


__all__ = ["LEVERS", "LABELS", "credit", "lever_table", "plan_levers", "patrol_lever"]

"""Choose the plan: posts and certified officers per brigade and source, each brigade's rota, its patrols.

The three levers are chosen together on the optimiser's fast coverage
approximation (:mod:`optimize.approx`):

* **rotas** — for every shift pattern the scenario lists, the coverage curve of
  each town if its brigade worked that pattern; a town's curve for the
  allocation model is the upper envelope (at each certified level, the best
  pattern; ties keep today's), so the allocation model (:mod:`optimize.allocation`,
  unchanged) chooses levels and, through them, rotas in one solve;
* **allocation** — posts of each source and certified officers per brigade
  (:func:`optimize.allocation.allocate` on those curves);
* **patrol** — the visits per village that come with each chosen level, made
  into the one weekly timetable by :func:`optimize.patrol.plan_patrols` for the
  planned staff and rotas.  ``visits`` is counted from that timetable: it is
  what is simulated.

The result is a scenario in memory (its staffing, towns and patrol plan
replaced, validated) and the tables the plan folder shows.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import pandas as pd

from enforcement_grid.optimize.allocation import AllocationResult, allocate
from enforcement_grid.optimize.data import AllocationData, Curve, allocation_data, need_certified_for_teams, town_curve
from enforcement_grid.optimize.export import staffing_rows, visits_by_village
from enforcement_grid.optimize.patrol import PatrolResult, plan_patrols
from enforcement_grid.sim.config import PatrolVisit, Scenario
from enforcement_grid.sim.patrol_plan import PLAN_COLUMNS, visits_per_week
from enforcement_grid.sim.staffing import with_staffing

NOTE = "egrid plan"  # source_note of the planned staffing rows


@dataclass
class Optimised:
    """A chosen plan: the scenario that carries it and the tables that show it."""

    scenario: Scenario  # the plan (staffing, rotas, timetable), validated, in memory
    allocation: pd.DataFrame  # town, source, posts, certified
    rotas: pd.DataFrame  # town, today, planned, predicted_<pattern> …
    timetable: pd.DataFrame  # town, team, day, village, order (the one simulated)
    visits: pd.DataFrame  # town, village, visits_per_week (today's rule and the plan)
    predicted: dict[str, float]  # approximate class-weighted coverage per town
    result: AllocationResult
    patrol: PatrolResult
    data: AllocationData
    curves: tuple = ()  # (envelope, pattern at each level, every pattern's curve): :func:`rota_curves`
    timings: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def with_rotas(sc: Scenario, rotas: dict[str, str]) -> Scenario:
    """The scenario with some towns' brigades on other shift patterns (towns table ``shift_pattern``)."""
    towns = tuple(t.model_copy(update={"shift_pattern": rotas.get(t.town, t.shift_pattern)}) for t in sc.towns)
    return dataclasses.replace(sc, towns=towns)  # a new object: its cached lookups follow the new towns


def rota_curves(sc: Scenario, patterns: list[str] | None = None) -> tuple[dict[str, Curve], dict[str, dict[int, str]],
                                                                        dict[str, dict[str, dict[int, float]]]]:
    """Each town's envelope curve over the shift patterns, the pattern at each level, and every pattern's curve."""
    o = sc.settings.optimize
    patterns = list(patterns or sc.settings.shift_patterns)
    today = {t.town: t.shift_pattern for t in sc.towns}
    _, cert = _totals(sc)
    cap = min(o.max_posts_per_brigade, sum(cert.values()))
    per_pattern: dict[str, dict[str, Curve]] = {}
    for p in patterns:
        sp = with_rotas(sc, {t: p for t in today})
        per_pattern[p] = {t: town_curve(sp, t, cap, o.approx_samples) for t in today}
    curves, choice, shown = {}, {}, {}
    for t in today:
        order = [today[t]] + [p for p in patterns if p != today[t]] if today[t] in patterns else patterns
        levels = sorted({k for p in order for k in per_pattern[p][t].levels})
        best: dict[int, str] = {}
        for k in levels:
            cands = [p for p in order if k in per_pattern[p][t].weighted]
            best[k] = max(cands, key=lambda p: (per_pattern[p][t].weighted[k], -order.index(p)))
        c0 = per_pattern[order[0]][t]
        curves[t] = Curve(
            town=t, levels=levels,
            weighted={k: per_pattern[best[k]][t].weighted[k] for k in levels},
            by_class={k: per_pattern[best[k]][t].by_class[k] for k in levels},
            visits={k: per_pattern[best[k]][t].visits[k] for k in levels},
            floor=min(per_pattern[p][t].floor for p in order), floor_reason=c0.floor_reason,
            kind={k: "approx" for k in levels},
        )
        choice[t] = best
        shown[t] = {p: dict(per_pattern[p][t].weighted) for p in order}
    return curves, choice, shown


def _totals(sc: Scenario) -> tuple[dict[str, int], dict[str, int]]:
    from enforcement_grid.optimize.data import source_totals

    return source_totals(sc)


def planned_scenario(sc: Scenario, allocation: pd.DataFrame, rotas: dict[str, str],
                     timetable: pd.DataFrame | None) -> Scenario:
    """The scenario with the plan's staffing, rotas and timetable (None: the default patrol rule)."""
    rostered = with_rotas(sc, rotas)
    rows = staffing_rows(allocation, NOTE)
    plan = () if timetable is None else tuple(PatrolVisit(**r) for r in timetable[PLAN_COLUMNS].to_dict("records"))
    return with_staffing(rostered, rows, patrol_plan=plan)


def optimise(sc: Scenario, objective: str = "coverage", target: float | None = None,
             data: AllocationData | None = None, patterns: list[str] | None = None,
             posts: dict[str, int] | None = None, certified: dict[str, int] | None = None,
             curves=None, timetable: str = "optimiser") -> Optimised:
    """Choose the plan (see module docstring).

    ``posts``/``certified`` by source: another county total (the "are the posts
    enough" question); ``curves``: the envelope from an earlier call (same
    scenario), to skip recomputing it.  ``timetable``: ``"optimiser"`` (the
    weekly patrol model) or ``"rule"`` (the default rule's packing with the
    chosen visits: fast, for the what-if totals).
    """
    o = sc.settings.optimize
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if curves is None:
        curves = rota_curves(sc, patterns)
    envelope, choice, shown = curves
    timings["curves_s"] = time.perf_counter() - t0
    if data is None:
        data = allocation_data(sc, curves={t: dataclasses.replace(c) for t, c in envelope.items()},
                               posts=posts, certified=certified)
        pats = list(patterns or sc.settings.shift_patterns)
        data.need_certified = {t: min(need_certified_for_teams(with_rotas(sc, {t: p}), t) for p in pats)
                               for t in data.towns}
    t1 = time.perf_counter()
    result = allocate(data, objective, target, o.time_limit_s, o.gap)
    timings["allocation_s"] = time.perf_counter() - t1
    rotas = {t: choice[t][k] for t, k in result.levels.items()}
    want = visits_by_village(sc, result.visits)
    unpatrolled = planned_scenario(sc, result.table, rotas, None)
    t2 = time.perf_counter()
    if timetable == "optimiser":
        patrol = plan_patrols(unpatrolled, want, time_limit_s=o.time_limit_s, gap=o.patrol_gap)
        plan = patrol.plan
        problems = list(patrol.problems)
    else:
        from enforcement_grid.sim.patrol_plan import default_plan

        patrol = None
        plan = default_plan(unpatrolled, want)
        problems = []
    timings["timetable_s"] = time.perf_counter() - t2
    planned = planned_scenario(sc, result.table, rotas, plan)
    from enforcement_grid.sim.patrol_plan import default_plan

    rule = visits_per_week(default_plan(sc))
    got = visits_per_week(plan)
    visits = pd.DataFrame(
        [(v.town, v.village, int(rule.get(v.village, 0)), int(got.get(v.village, 0))) for v in sc.villages],
        columns=["town", "village", "visits_today", "visits_per_week"])
    today = {t.town: t.shift_pattern for t in sc.towns}
    rota_rows = []
    for t in data.towns:
        k = result.levels[t]
        row = {"town": t, "today": today[t], "planned": rotas[t], "certified": k}
        for p, w in shown[t].items():
            row[f"predicted_{p}"] = w.get(k, float("nan"))
        rota_rows.append(row)
    return Optimised(
        scenario=planned, allocation=result.table[["town", "source", "posts", "certified"]].copy(),
        rotas=pd.DataFrame(rota_rows), timetable=plan[PLAN_COLUMNS].copy(), visits=visits,
        predicted=dict(result.predicted), result=result, patrol=patrol, data=data, curves=curves, timings=timings,
        problems=problems,
    )


__all__ = ["Optimised", "optimise", "planned_scenario", "rota_curves", "with_rotas"]

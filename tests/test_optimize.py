"""The optimiser: optima against brute force, greedy's failure on non-concave curves,
the independent checker, named conflicts, the patrol model and the simulation loop."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import factory
from enforcement_grid.optimize.allocation import AllocationConflict, allocate, county_coverage, greedy
from enforcement_grid.optimize.check import check_allocation, check_patrol
from enforcement_grid.optimize.data import AllocationData, Curve, allocation_data
from enforcement_grid.optimize.export import proportional_allocation, with_plan
from enforcement_grid.optimize.loop import sim_opt_loop
from enforcement_grid.optimize.patrol import plan_patrols
from enforcement_grid.sim import load_scenario
from enforcement_grid.experiments import run_replication


def small_data(curves: dict[str, dict[int, float]], posts, certified, max_posts=5, need=1, min_law=1,
               ratio=1.0) -> AllocationData:
    towns = list(curves)
    return AllocationData(
        towns=towns,
        sources=["urban_management", "law"],
        posts=posts,
        certified=certified,
        demand={t: 1.0 + i for i, t in enumerate(towns)},
        population={t: 1000 * (i + 1) for i, t in enumerate(towns)},
        min_law=min_law,
        max_posts=max_posts,
        max_uncertified_per_certified=ratio,
        need_certified={t: need for t in towns},
        curves={t: Curve(t, sorted(c), dict(c), {k: {} for k in c}, {k: np.zeros(1) for k in c}, min(c), "")
                for t, c in curves.items()},
        current=None,
        max_moves=None,
        villages={t: ["v"] for t in towns},
        law_sources=("law",),
    )


def brute_force(data: AllocationData, objective: str, target: float | None = None):
    """Every integer allocation of posts and certified officers; the best objective value."""
    towns, S = data.towns, data.sources
    best = None

    def splits(total, n):
        for cut in itertools.combinations(range(total + n - 1), n - 1):
            parts, prev = [], -1
            for c in cut + (total + n - 1,):
                parts.append(c - prev - 1)
                prev = c
            yield parts

    totals = {s: range(data.posts[s] + 1) if objective == "min-posts" else [data.posts[s]] for s in S}
    ctotals = {s: range(data.certified[s] + 1) if objective == "min-posts" else [data.certified[s]] for s in S}
    for tot in itertools.product(*[totals[s] for s in S]):
        for xs in itertools.product(*[list(splits(n, len(towns))) for n in tot]):
            for ctot in itertools.product(*[ctotals[s] for s in S]):
                for qs in itertools.product(*[list(splits(n, len(towns))) for n in ctot]):
                    ok, levels, posts = True, {}, 0
                    for i, t in enumerate(towns):
                        x = {s: xs[j][i] for j, s in enumerate(S)}
                        q = {s: qs[j][i] for j, s in enumerate(S)}
                        cert, p = sum(q.values()), sum(x.values())
                        if any(q[s] > x[s] for s in S) or x["law"] < data.min_law or cert < data.need_certified[t] \
                                or p > data.max_posts or p - cert > data.max_uncertified_per_certified * cert \
                                or cert not in data.curves[t].weighted:
                            ok = False
                            break
                        if objective == "min-posts" and data.curves[t].weighted[cert] < target - 1e-12:
                            ok = False
                            break
                        levels[t] = cert
                        posts += p
                    if not ok:
                        continue
                    if objective == "coverage":
                        value = county_coverage(data, levels)
                    elif objective == "equity":
                        value = min(data.curves[t].weighted[levels[t]] for t in towns)
                    else:
                        value = -posts
                    if best is None or value > best + 1e-12:
                        best = value
    return best


CURVES = {
    "A": {1: 0.0, 2: 0.05, 3: 0.6, 4: 0.62, 5: 0.63},   # nothing until a team can keep up: not concave
    "B": {1: 0.3, 2: 0.45, 3: 0.55, 4: 0.6, 5: 0.62},
    "C": {1: 0.1, 2: 0.2, 3: 0.5, 4: 0.52, 5: 0.7},
}


@pytest.mark.parametrize("objective", ["coverage", "equity"])
def test_allocation_matches_brute_force(objective):
    data = small_data(CURVES, {"urban_management": 6, "law": 3}, {"urban_management": 5, "law": 2})
    result = allocate(data, objective)
    assert check_allocation(result.table, data, objective) == []
    best = brute_force(data, objective)
    if objective == "coverage":
        got = county_coverage(data, result.levels)
    else:
        got = min(data.curves[t].weighted[result.levels[t]] for t in data.towns)
    assert got == pytest.approx(best, abs=1e-9)
    assert result.report.proven_optimal


def test_min_posts_matches_brute_force():
    data = small_data(CURVES, {"urban_management": 7, "law": 3}, {"urban_management": 6, "law": 3})
    result = allocate(data, "min-posts", target=0.5)
    assert check_allocation(result.table, data, "min-posts", 0.5) == []
    assert -int(result.table["posts"].sum()) == brute_force(data, "min-posts", 0.5)


def test_greedy_is_far_from_optimal_on_non_concave_curves():
    """Town A gains nothing until its third officer; greedy never starts it, the model does."""
    curves = {"A": {1: 0.0, 2: 0.0, 3: 0.9, 4: 0.92}, "B": {1: 0.3, 2: 0.4, 3: 0.45, 4: 0.5}}
    data = small_data(curves, {"urban_management": 5, "law": 2}, {"urban_management": 5, "law": 0}, max_posts=6)
    data.demand = {"A": 1.0, "B": 1.0}
    g = greedy(data)
    opt = allocate(data, "coverage")
    assert county_coverage(data, opt.levels) - county_coverage(data, g) > 0.2
    assert opt.levels["A"] >= 3 and g["A"] < 3


def test_checker_catches_a_broken_allocation():
    data = small_data(CURVES, {"urban_management": 6, "law": 3}, {"urban_management": 5, "law": 2})
    table = allocate(data, "coverage").table.copy()
    i = table.index[(table["source"] == "law")][0]
    table.loc[i, ["posts", "certified"]] = 0
    problems = check_allocation(table, data)
    assert any(p.startswith("law_posts_min_") for p in problems)
    assert any(p.startswith("source_total_law") for p in problems)


def test_too_few_law_posts_is_a_named_conflict():
    data = small_data(CURVES, {"urban_management": 6, "law": 2}, {"urban_management": 5, "law": 0}, min_law=1)
    with pytest.raises(AllocationConflict) as err:
        allocate(data, "coverage")
    text = str(err.value)
    assert "law_posts_min" in text and "source_total_law" in text and "short by 1" in text


def test_an_unreachable_target_is_a_named_conflict():
    data = small_data(CURVES, {"urban_management": 6, "law": 3}, {"urban_management": 5, "law": 2})
    with pytest.raises(AllocationConflict) as err:
        allocate(data, "min-posts", target=0.65)
    assert "coverage_target_A" in str(err.value) and "63.0%" in str(err.value)


def test_a_hidden_conflict_is_diagnosed_by_slack():
    """Town A works at 2 or 4 certified officers, town B only at 4; 7 certified officers must all be
    placed.  No single pre-check sees it (the floors add up to 6); the slack diagnosis names it."""
    curves = {"A": {2: 0.3, 4: 0.6}, "B": {4: 0.5}}
    data = small_data(curves, {"urban_management": 7, "law": 2}, {"urban_management": 5, "law": 2}, max_posts=6)
    with pytest.raises(AllocationConflict) as err:
        allocate(data, "coverage")
    text = str(err.value)
    assert "these requirements conflict" in text and "source_certified" in text and "relaxed by 1" in text


def test_default_scenario_allocation_is_valid_and_beats_proportional_in_prediction():
    sc = load_scenario("scenarios/huian.toml")
    data = allocation_data(sc)
    result = allocate(data, "coverage")
    assert check_allocation(result.table, data) == []
    assert result.report.solve_s < 5
    prop = proportional_allocation(sc)
    levels = prop.groupby("town")["certified"].sum().to_dict()
    prop_cov = sum(data.demand[t] * data.curves[t].weighted.get(levels[t], 0.0) for t in data.towns) / sum(
        data.demand.values())
    assert county_coverage(data, result.levels) >= prop_cov
    # posts: the reform's totals exactly
    assert result.table.groupby("source")["posts"].sum().to_dict() == {
        "county_department": 120, "law": 37, "reallocated": 60, "urban_management": 140}


def test_patrol_plan_meets_every_requirement_and_runs_in_the_simulator(tmp_path):
    sc = load_scenario(factory.scenario(tmp_path, lambda s, t: [r.update(certified=r["officers"]) for r in t["staffing"]]))
    result = plan_patrols(sc)
    assert result.problems == []
    plan = result.plan
    assert list(plan.columns) == ["town", "team", "day", "village", "order"]
    visits = plan.groupby("village").size()
    for v in sc.villages:
        want = 2 if v.hot_spot else 1
        assert visits.get(v.village, 0) >= want
    planned = with_plan(sc, pd.DataFrame(
        [(r.brigade, r.source, r.officers, r.certified) for r in sc.staffing],
        columns=["town", "source", "posts", "certified"]), plan=plan)
    res = run_replication(planned, 0)
    assert res.units["patrol_visits_done"].sum() > 0


def test_patrol_checker_catches_consecutive_days_and_long_routes():
    plan = pd.DataFrame([("T", 0, "Mon", "v1", 0), ("T", 0, "Tue", "v1", 0), ("T", 0, "Sun", "v2", 0),
                         ("T", 0, "Mon", "v2", 1)], columns=["town", "team", "day", "village", "order"])
    problems = check_patrol(plan, {"v1": 1, "v2": 1, "v3": 1}, {("T", "Mon", 0): 600.0}, {"T": 540.0}, {"T": 1}, 3)
    assert any("no_consecutive_days_v1" in p for p in problems)
    assert any("no_consecutive_days_v2" in p for p in problems)  # Sunday → Monday
    assert any("visits_min_v3" in p for p in problems)
    assert any("route_fits_shift_T_Mon_0" in p for p in problems)


def test_simulation_optimisation_loop_converges_and_reports_against_proportional(tmp_path):
    sc = load_scenario(factory.scenario(tmp_path))
    result = sim_opt_loop(sc, workers=1)
    data = result.data
    assert check_allocation(result.final.table, data) == []
    assert result.iterations <= sc.settings.optimize.loop_max_iterations
    assert set(result.history["town"]) == set(data.towns)
    # the simulated points replaced the approximation at the levels visited
    for (town, level), (mean, lo, hi) in result.simulated.items():
        assert data.curves[town].weighted[level] == mean and lo <= mean <= hi
    assert {"coverage_weighted", "coverage"} <= set(result.comparison["metric"])
    assert np.isfinite(result.comparison.set_index("metric").loc[["coverage_weighted", "coverage"], "difference"]).all()


def test_cli_optimize_allocation_and_patrol(tmp_path):
    path = factory.scenario(tmp_path / "sc")
    out = tmp_path / "alloc"
    proc = subprocess.run([sys.executable, "-m", "enforcement_grid.cli.cli", "optimize", "allocation", str(path), "--no-loop",
                           "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    alloc = pd.read_csv(out / "allocation.csv")
    assert list(alloc.columns)[:3] == ["town", "source", "posts"]
    assert "all constraints hold" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "enforcement_grid.cli.cli", "optimize", "patrol", str(path), "--allocation",
                           str(out), "--out", str(tmp_path / "patrol")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    patrol = pd.read_csv(tmp_path / "patrol" / "patrol.csv")
    assert list(patrol.columns)[:4] == ["town", "team", "day", "village"]
    # a timetable that fits: planned = required in every brigade, no village left out, no warning
    short = pd.read_csv(tmp_path / "patrol" / "patrol_shortfall.csv")
    assert list(short.columns)[:5] == ["brigade", "villages", "visits_required", "visits_planned", "villages_not_weekly"]
    assert sorted(short["brigade"]) == ["乙镇", "甲镇"]
    assert (short["visits_planned"] == short["visits_required"]).all() and (short["villages_not_weekly"] == 0).all()
    assert "Against the rule (F12): 6 of the 6 weekly visits required" in proc.stdout
    assert "warning" not in proc.stderr
    # the plan folder is a scenario the simulator runs
    run = subprocess.run([sys.executable, "-m", "enforcement_grid.cli.cli", "run", str(tmp_path / "patrol" / "scenario.toml"),
                          "--days", "5", "--out", str(tmp_path / "r"), "--workers", "1"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_cli_optimize_patrol_reports_a_timetable_that_cannot_fit(tmp_path):
    # a visit to a village takes 30 min + 70 min per 1,000 residents: 甲镇's villages (12,000 and 8,000
    # residents) cannot be visited within a 540-minute shift, 乙镇's (6,000 and 4,000) can
    path = factory.scenario(tmp_path / "sc", lambda s, t: s["patrol"].update(visit_min_per_1k_residents=70.0))
    out = tmp_path / "patrol"
    proc = subprocess.run([sys.executable, "-m", "enforcement_grid.cli.cli", "optimize", "patrol", str(path),
                           "--out", str(out)], capture_output=True, text=True)
    # the model plans what fits (乙镇) instead of giving up on the brigade that cannot meet the rule
    assert proc.returncode == 0, proc.stderr
    short = pd.read_csv(out / "patrol_shortfall.csv").set_index("brigade")
    assert short.loc["甲镇", ["villages", "visits_required", "visits_planned", "villages_not_weekly"]].tolist() == [2, 3, 0, 2]
    assert short.loc["乙镇", ["visits_required", "visits_planned", "villages_not_weekly"]].tolist() == [3, 3, 0]
    assert "Against the rule (F12): 3 of the 6 weekly visits required planned (50.0%)" in proc.stdout
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: 甲镇: the patrol timetable does not visit 2 of its 2 village(s) in a week "
                        "(F12 asks weekly): 甲社区1, 甲村1"]
    assert "Traceback" not in proc.stderr


def test_cli_conflicting_requirements_exit_2(tmp_path):
    path = factory.scenario(tmp_path / "sc", lambda s, t: s["optimize"].update(min_law_posts_per_brigade=5))
    proc = subprocess.run([sys.executable, "-m", "enforcement_grid.cli.cli", "optimize", "allocation", str(path), "--no-loop",
                           "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "law_posts_min" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


def test_tradeoff_is_monotone_in_posts(tmp_path):
    path = factory.scenario(tmp_path / "sc")
    out = tmp_path / "t"
    proc = subprocess.run([sys.executable, "-m", "enforcement_grid.cli.cli", "optimize", "tradeoff", str(path), "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    df = pd.read_csv(out / "tradeoff.csv").dropna(subset=["coverage"])
    assert len(df) >= 2 and (np.diff(df["coverage"].to_numpy()) >= -1e-9).all()
    assert math.isfinite(df["coverage"].iloc[-1])


def test_stability_limit_keeps_the_current_placement():
    """With a current placement and at most k posts moved, the plan moves at most k posts (and with
    k = 0 it is the current placement whenever that is feasible).  The population-proportional
    placement needs 4 moves to give every rural brigade a team on its weekend duty shift, so the
    limits tried start above that."""
    sc = load_scenario("scenarios/huian.toml")
    current = proportional_allocation(sc)
    curves = allocation_data(sc).curves
    free = allocate(allocation_data(sc, curves=curves), "coverage")
    for k in (6, 12):
        data = allocation_data(sc, curves=curves, current=current)
        data.max_moves = k
        result = allocate(data, "coverage")
        assert check_allocation(result.table, data) == []
        merged = result.table.merge(current, on=["town", "source"], suffixes=("", "_now"))
        moved = (merged["posts"] - merged["posts_now"]).abs().sum() / 2
        assert moved <= k
        assert county_coverage(data, result.levels) <= county_coverage(data, free.levels) + 1e-9


def _crowded_town(tmp_path, extra: int = 8):
    """乙镇 with 2 + ``extra`` villages and two patrol teams whose visits take most of a shift: ten visits a
    week fit."""
    def edit(s, t):
        s["patrol"].update(visit_base_min=400.0, visit_min_per_1k_residents=0.0)
        [r.update(certified=r["officers"]) for r in t["staffing"]]
        t["towns"][1]["villages"] = 2 + extra
        for i in range(extra):
            t["villages"].append({**t["villages"][2], "village": f"乙村{i + 3}", "lat": 25.06 + 0.002 * i,
                                  "lon": 118.91 - 0.002 * i, "grid_workers": 1})
    return load_scenario(factory.scenario(tmp_path, edit))


def test_patrol_visits_that_do_not_fit_leave_no_village_unvisited_for_a_week(tmp_path):
    """Asked for three visits a week in every village while only ten visits fit in 乙镇's week: the timetable
    visits all ten villages once (F12's weekly visit first), rather than some three times and others never,
    and the checker names every visit asked and not planned."""
    sc = _crowded_town(tmp_path)
    villages = [v.village for v in sc.villages if v.town == "乙镇"]
    assert len(villages) == 10
    result = plan_patrols(sc, {v.village: 3 for v in sc.villages})
    visits = result.plan[result.plan["town"] == "乙镇"].groupby("village").size().reindex(villages).fillna(0)
    assert visits.sum() == 10  # the week's capacity is used in full
    assert (visits == 1).all(), visits.to_dict()
    assert sum("visits_min_乙" in p for p in result.problems) == 10


def test_patrol_keeps_the_weekly_rule_when_the_visits_asked_do_not_fit(tmp_path):
    """Asked for three visits everywhere, the rule (weekly, hot spots twice) fitting: the rule is met in full."""
    sc = _crowded_town(tmp_path, extra=2)  # 乙村1–4, hot spot 乙村2 twice: five visits needed, ten fit
    result = plan_patrols(sc, {v.village: 3 for v in sc.villages})
    visits = result.plan.groupby("village").size()
    for v in sc.villages:
        assert visits.get(v.village, 0) >= (2 if v.hot_spot else 1), (v.village, visits.to_dict())


def test_rule_packer_gives_up_later_visits_before_any_village_weekly_one(tmp_path):
    """The default rule asked for three visits a week in each of 乙镇's ten villages, where a day holds two:
    each day keeps its villages' first visits of the week, so every village is visited weekly."""
    from enforcement_grid.sim.patrol_plan import default_plan

    sc = _crowded_town(tmp_path)
    plan = default_plan(sc, {v.village: 3 for v in sc.villages})
    villages = [v.village for v in sc.villages if v.town == "乙镇"]
    visits = plan[plan["town"] == "乙镇"].groupby("village").size().reindex(villages).fillna(0)
    assert visits.sum() == 10
    assert (visits >= 1).all(), visits.to_dict()

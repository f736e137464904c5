"""The weekly patrol model: which villages are patrolled on which day, and by which team, per town (F12).

Sets
    V villages of the town; D working days of the brigade's first shift; K patrol
    teams a day (first-shift teams minus those kept free for response).
Parameters
    need_v visits a week at least (from the allocation, or the rule: weekly, hot
    spots twice); cap visits at most, never on consecutive days; a_v visit
    minutes; b_v travel minutes from the base; capacity_d the day's patrol
    minutes = K × (shift minutes − one way back per route); value_v the
    class-weighted violations a visit is expected to find (rate × detection ×
    weight), halving with each visit beyond the required ones (diminishing
    returns); travel_value the violations an hour of team time finds on patrol
    (what travel costs).
Variables
    y_{v,d} ∈ {0,1} village v patrolled on day d; extra_{v,j} ∈ {0,1} its j-th
    visit beyond the required ones.
Constraints
    visits_min_v:              Σ_d y_{v,d} ≥ need_v
                               (when the visits asked do not all fit, the model is solved again
                               with F12's rule as the requirement and the rest as valued extras; if
                               even the rule does not fit, with shortfall variables, a village's
                               weekly visit dropped only after every other required visit; the
                               checker reports every visit asked and not planned)
    visits_max_v:              Σ_d y_{v,d} ≤ cap
    no_consecutive_days_v_d:   y_{v,d} + y_{v,d+1} ≤ 1
    day_capacity_d:            Σ_v (a_v + b_v) y_{v,d} ≤ capacity_d
    extra_visits_counted_v:    Σ_j extra_{v,j} ≤ Σ_d y_{v,d} − need_v  (in order j = 1, 2, …)
Objective
    max Σ_{v,j} value_v / (need_v + j) · extra_{v,j} − travel_value · Σ_{v,d} b_v y_{v,d} / 60

Travel is radial in the model (each stop charged its distance from the base);
each day's villages are then cut into at most K routes (swept by angle around
the base, each route ordered by nearest neighbour and timed with the
simulator's travel model).  When a day's villages do not fit its K routes, that
day's capacity is cut by the excess and the town is solved again.  Days without
team symmetry keep the model small: a county week solves in well under a second.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp

from enforcement_grid.sim.config import WEEKDAYS, Scenario
from enforcement_grid.sim.patrol_plan import PLAN_COLUMNS, patrol_teams
from enforcement_grid.sim.roster import first_shift
from enforcement_grid.sim.processes.violations import rate_table
from enforcement_grid.sim.travel import travel_times

from .check import check_patrol
from .solver import SolveReport, solve
from .weekdays import most_visits


@dataclass
class PatrolResult:
    plan: pd.DataFrame  # town, team, day, village, order
    route_minutes: dict[tuple, float]  # (town, day, team) → minutes of travel and visits
    reports: dict[str, SolveReport]
    problems: list[str]  # from the independent checker (empty when valid)
    required: dict[str, int]
    build_s: float
    solve_s: float
    rounds: dict[str, int]


def _trip(sc, a, b) -> float:
    """Mean travel minutes between two places: the simulator's (:class:`sim.travel.TravelTimes`)."""
    return travel_times(sc).minutes(a, b)


def village_value(sc: Scenario) -> dict[str, float]:
    """Class-weighted violations a week a patrol visit can find in each village (rate × detection × weight)."""
    rates = rate_table(sc)
    out = {v.village: 0.0 for v in sc.villages}
    classes = sc.settings.classes
    for vi, ii, per_year in zip(rates.village, rates.item, rates.per_year):
        c = classes[sc.items[ii].klass]
        out[sc.villages[vi].village] += per_year / 52.14 * c.patrol_detect_prob * c.weight
    return out


def route_order(sc: Scenario, base, stops: list) -> tuple[list, float]:
    """Nearest-neighbour order from the base, and the route's minutes (travel there and back, and visits)."""
    left = list(stops)
    here, order, minutes = base, [], 0.0
    while left:
        nxt = min(left, key=lambda v: (_trip(sc, here, v), v.village))
        minutes += _trip(sc, here, nxt) + sc.settings.patrol.visit_min(nxt.population)
        order.append(nxt)
        left.remove(nxt)
        here = nxt
    if order:
        minutes += _trip(sc, here, base)
    return order, minutes


def split_routes(sc: Scenario, base, stops: list, length_min: float) -> list[tuple[list, float]]:
    """Cut a day's villages into routes that each fit the shift: sweep by angle around the base."""
    angle = {v.village: math.atan2(v.lat - base.lat, (v.lon - base.lon) * math.cos(math.radians(base.lat)))
             for v in stops}
    routes: list[tuple[list, float]] = []
    current: list = []
    for v in sorted(stops, key=lambda v: (angle[v.village], v.village)):
        trial = route_order(sc, base, current + [v])
        if current and trial[1] > length_min:
            routes.append(route_order(sc, base, current))
            current = [v]
        else:
            current = current + [v]
    if current:
        routes.append(route_order(sc, base, current))
    return routes


def plan_patrols(sc: Scenario, required: dict[str, int] | None = None, travel_value: float | None = None,
                 time_limit_s: float = 10.0, gap: float = 0.01, max_rounds: int = 20) -> PatrolResult:
    """Solve the weekly patrol model for every brigade (see module docstring)."""
    s = sc.settings
    p = s.patrol
    if travel_value is None:
        travel_value = s.optimize.patrol_travel_value if s.optimize is not None else 0.0
    value = village_value(sc)
    rows, minutes_of, reports, rounds = [], {}, {}, {}
    build_s = solve_s = 0.0
    req_all: dict[str, int] = {}
    teams_by: dict[str, int] = {}
    for b in sc.brigades:
        shift = first_shift(sc, b.shift_pattern)
        days = sorted(shift.weekday_numbers)
        teams = patrol_teams(sc, b.name)
        teams_by[b.name] = teams
        villages = [v for v in sc.villages if v.town in b.towns]
        base = sc.town_by_name[b.base_town]
        cap = most_visits(days, p.max_visits_per_week)
        need, rule = {}, {}
        for v in villages:
            rule[v.village] = min(p.visits_per_week(v.hot_spot), cap)
            want = required.get(v.village, 0) if required is not None else rule[v.village]
            need[v.village] = min(int(want), cap)
        req_all.update(need)
        needs = [need, {n: min(k, rule[n]) for n, k in need.items()}]  # the visits asked; F12's rule only
        if teams <= 0:
            reports[b.name] = SolveReport("infeasible", False, math.nan, math.nan, 0.0, 0.0)
            continue
        back = float(np.mean([_trip(sc, base, v) for v in villages])) if villages else 0.0
        capacity = {d: teams * (shift.length_min - back) for d in days}
        routes: dict[int, list] = {}
        mode = 0  # 0: every visit asked is required; 1: F12's rule only, the rest valued; 2: shortfalls allowed
        for rnd in range(1, max_rounds + 1):
            rounds[b.name] = rnd
            t0 = time.perf_counter()
            prob, y = _build(sc, villages, base, days, needs[min(mode, 1)], cap, capacity, value, travel_value,
                             soft=mode == 2)
            t1 = time.perf_counter()
            rep = solve(prob, time_limit_s, gap, build_s=t1 - t0)
            build_s += t1 - t0
            solve_s += rep.solve_s
            reports[b.name] = rep
            if not rep.has_solution and mode < 2:
                mode += 1  # the visits asked do not all fit: keep F12's rule, then plan as many as fit
                continue
            if not rep.has_solution:
                break
            over = False
            for d in days:
                stops = [v for v in villages if y[v.village, d].value() > 0.5]
                day_routes = split_routes(sc, base, stops, shift.length_min)
                routes[d] = day_routes
                if len(day_routes) > teams or any(m > shift.length_min + 1e-6 for _, m in day_routes):
                    spill = sum(m for _, m in day_routes[teams:]) + sum(
                        max(0.0, m - shift.length_min) for _, m in day_routes[:teams])
                    capacity[d] -= max(1.5 * spill, 10.0)  # cut a little more than the excess: fewer rounds
                    over = True
            if not over:
                break
        if not reports[b.name].has_solution:
            continue
        for d in days:
            for k, (order, minutes) in enumerate(routes.get(d, [])):
                minutes_of[(b.name, WEEKDAYS[d], k)] = minutes
                for i, v in enumerate(order):
                    rows.append((b.name, k, WEEKDAYS[d], v.village, i))
    plan = pd.DataFrame(rows, columns=PLAN_COLUMNS)
    shift_len = {b.name: float(first_shift(sc, b.shift_pattern).length_min) for b in sc.brigades}
    problems = check_patrol(plan, req_all, minutes_of, shift_len, teams_by, p.max_visits_per_week)
    for town, rep in reports.items():
        if not rep.has_solution:
            problems.append(
                f"weekly patrol of {town}: {rep.status} — the required visits do not fit the patrol teams' days "
                f"({teams_by.get(town, 0)} patrol team(s) a day after keeping {p.response_teams_reserved} free for response)"
            )
    return PatrolResult(plan, minutes_of, reports, problems, req_all, build_s, solve_s, rounds)


def _build(sc, villages, base, days, need, cap, capacity, value, travel_value, soft: bool = False):
    p = sc.settings.patrol
    town = villages[0].town if villages else "town"
    prob = pulp.LpProblem(f"patrol_{town}", pulp.LpMaximize)
    y = prob.add_variable_dict("visit_%s_%s", [(v.village, d) for v in villages for d in days], cat=pulp.LpBinary)
    b = {v.village: _trip(sc, base, v) for v in villages}
    a = {v.village: p.visit_min(v.population) for v in villages}
    consecutive = [(d, e) for d in days for e in days if (e - d) % 7 == 1]
    extra, short, short_weekly = {}, {}, {}
    for v in villages:
        n = v.village
        total = pulp.lpSum(y[n, d] for d in days)
        if soft:
            weekly = min(need[n], p.min_visits_per_week)
            short_weekly[n] = prob.add_variable(f"short_weekly_{n}", lowBound=0, upBound=weekly)
            short[n] = prob.add_variable(f"short_{n}", lowBound=0, upBound=need[n] - weekly)
            prob += total + short_weekly[n] >= weekly, f"visits_weekly_{n}"
            prob += total + short_weekly[n] + short[n] >= need[n], f"visits_min_{n}"
        else:
            prob += total >= need[n], f"visits_min_{n}"
        prob += total <= cap, f"visits_max_{n}"
        for d, e in consecutive:
            prob += y[n, d] + y[n, e] <= 1, f"no_consecutive_days_{n}_{d}"
        for j in range(1, cap - need[n] + 1):
            extra[n, j] = prob.add_variable(f"extra_{n}_{j}", cat=pulp.LpBinary)
        if cap > need[n]:
            # soft: the short visits count as made here, or a village short of its need would make the model
            # infeasible (extras ≥ 0 > total − need); the penalties on the shortfalls keep them from buying extras
            made = total + short_weekly[n] + short[n] if soft else total
            prob += (pulp.lpSum(extra[n, j] for j in range(1, cap - need[n] + 1)) <= made - need[n]), \
                f"extra_visits_counted_{n}"
            for j in range(2, cap - need[n] + 1):
                prob += extra[n, j] <= extra[n, j - 1], f"extra_visits_in_order_{n}_{j}"
    for d in days:
        prob += pulp.lpSum((a[v.village] + b[v.village]) * y[v.village, d] for v in villages) <= capacity[d], \
            f"day_capacity_{d}"
    gain = pulp.lpSum(value[n] / (need[n] + j) * var for (n, j), var in extra.items())
    travel_h = pulp.lpSum(b[n] * var for (n, d), var in y.items()) / 60.0
    missing = pulp.lpSum(short.values())
    penalty = 1000.0 * (max(value.values(), default=1.0) + 1.0)  # a missing required visit outweighs all else
    weekly_penalty = penalty * (1 + sum(need.values()))  # and a village left unvisited all week outweighs those
    prob += gain - travel_value * travel_h - penalty * missing - weekly_penalty * pulp.lpSum(short_weekly.values())
    return prob, y


def repeated_inspections(sc: Scenario) -> pd.DataFrame:
    """Inspection visits a year per town: separate departments' visits against joint visits (F12).

    Uses ``[inspection.obligations]`` (visits per business a year, by department)
    and ``joint_share`` (the share of obligations that a joint visit can combine).
    """
    insp = sc.settings.inspection
    if not insp.obligations:
        return pd.DataFrame(columns=["town", "businesses", "obligations", "separate_visits", "joint_visits", "avoided"])
    rows = []
    rates = np.array(list(insp.obligations.values()), float)
    for t in sc.towns:
        n = t.businesses
        separate = n * rates.sum()
        joint = n * insp.visits_per_business(joint=True)
        rows.append((t.town, n, separate, separate, joint, separate - joint))
    return pd.DataFrame(rows, columns=["town", "businesses", "obligations", "separate_visits", "joint_visits", "avoided"])

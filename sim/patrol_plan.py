"""Weekly patrol plans: the table the simulator reads, and a simple default rule.

A patrol plan is a table with one row per planned visit: ``town`` (the brigade),
``team`` (index of a first-shift team), ``day`` (Mon…Sun), ``village`` and the
``order`` of the visit in the team's route that day.  The optimiser writes the
same table (``egrid optimize patrol``); until one is given, :func:`default_plan`
builds one by rule:

* every village gets ``min_visits_per_week`` visits, hot spots
  ``hot_spot_visits_per_week`` (F12: at least weekly);
* visits are spread evenly over the brigade's working days, villages staggered;
* each working day's villages are swept by angle around the base into routes for
  the day shift's patrol teams (teams on duty minus ``response_teams_reserved``),
  each route filling at most the shift length with travel and visits.

Visits that do not fit are left out and reported by :func:`plan_shortfall`; a day that
cannot take all its visits gives up villages' later visits of the week (third, then second)
before any village's first, so the weekly visit (F12) is the last to go.
"""

from __future__ import annotations

import math

import pandas as pd

from .config import WEEKDAYS, Scenario
from .roster import expected_teams, first_shift, presence_factor
from .travel import travel_times

PLAN_COLUMNS = ["town", "team", "day", "village", "order"]


def patrol_teams(sc: Scenario, brigade: str, certified: float | None = None) -> int:
    """Patrol teams a working day: whole expected first-shift teams less ``response_teams_reserved`` (never < 0).

    The teams are the simulator's (:func:`sim.roster.expected_teams`; ``certified``
    as there).  The rule plan, the patrol optimiser and the coverage approximation
    all plan with this many routes a day.
    """
    b = next(x for x in sc.brigades if x.name == brigade)
    shift = first_shift(sc, b.shift_pattern)
    teams = math.floor(expected_teams(sc, brigade, certified)[shift.name])
    return max(0, teams - sc.settings.patrol.response_teams_reserved)


def default_plan(sc: Scenario, visits: dict[str, int] | None = None) -> pd.DataFrame:
    """The rule-based weekly patrol plan for every brigade (see module docstring).

    ``visits`` (village → visits a week) replaces the rule's frequencies, e.g. with
    the optimiser's choice.
    """
    patrol = sc.settings.patrol
    travel = travel_times(sc)
    towns = sc.town_by_name
    rows = []
    for b in sc.brigades:
        shift = first_shift(sc, b.shift_pattern)
        days = sorted(shift.weekday_numbers)
        teams = patrol_teams(sc, b.name)
        if teams <= 0 or not days:
            continue
        base = towns[b.base_town]
        villages = [v for v in sc.villages if v.town in b.towns]
        per_day: dict[int, list] = {d: [] for d in days}
        for n, v in enumerate(villages):
            if visits is not None:
                f = int(visits.get(v.village, 0))
            else:
                f = patrol.visits_per_week(v.hot_spot)
            f = min(f, len(days))
            for j in range(f):
                slot = (n + round(j * len(days) / f)) % len(days)
                per_day[days[slot]].append((j, v))
        for d in days:
            todays = per_day[d]
            angle = {
                v.village: math.atan2(v.lat - base.lat, (v.lon - base.lon) * math.cos(math.radians(base.lat)))
                for _, v in todays
            }
            todays.sort(key=lambda jv: angle[jv[1].village])
            routes = _pack_routes([v for _, v in todays], base, shift.length_min, teams, patrol, travel)
            # a day that does not fit gives up a village's later visits of the week before anyone's first
            while sum(map(len, routes)) < len(todays) and any(j > 0 for j, _ in todays):
                last = max(j for j, _ in todays)
                drop = max((i for i, (j, _) in enumerate(todays) if j == last))
                del todays[drop]
                routes = _pack_routes([v for _, v in todays], base, shift.length_min, teams, patrol, travel)
            for k, route in enumerate(routes):
                for order, v in enumerate(route):
                    rows.append((b.name, k, WEEKDAYS[d], v.village, order))
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def _pack_routes(villages, base, length_min, teams, patrol, travel):
    """Fill up to ``teams`` routes in sweep order; each route ends back at base within the shift."""
    routes: list[list] = []
    current: list = []
    used = 0.0
    prev = base
    for v in villages:
        leg = travel.minutes(prev, v)
        back = travel.minutes(v, base)
        cost = leg + patrol.visit_min(v.population)
        if current and used + cost + back > length_min:
            routes.append(current)
            if len(routes) == teams:
                return routes
            current, used, prev = [], 0.0, base
            leg = travel.minutes(prev, v)
            cost = leg + patrol.visit_min(v.population)
        if used + cost + back <= length_min:
            current.append(v)
            used += cost
            prev = v
    if current:
        routes.append(current)
    return routes[:teams]


def plan_table(sc: Scenario) -> pd.DataFrame:
    """The scenario's own plan if it has one, else the default rule's."""
    if sc.patrol_plan:
        return pd.DataFrame([r.model_dump() for r in sc.patrol_plan], columns=PLAN_COLUMNS)
    return default_plan(sc)


def plan_shortfall(sc: Scenario, plan: pd.DataFrame) -> pd.DataFrame:
    """Villages visited fewer times a week than the rule asks (``min`` or ``hot spot``)."""
    patrol = sc.settings.patrol
    visits = plan.groupby("village").size().to_dict()
    rows = []
    for v in sc.villages:
        want = patrol.visits_per_week(v.hot_spot)
        got = int(visits.get(v.village, 0))
        if got < want:
            rows.append((v.town, v.village, want, got))
    return pd.DataFrame(rows, columns=["town", "village", "visits_wanted", "visits_planned"])


def agendas(sc: Scenario, plan: pd.DataFrame, village_index: dict[str, int]) -> dict[str, dict[int, dict[int, list[int]]]]:
    """Plan table → brigade → weekday → team → ordered village indices."""
    out: dict[str, dict[int, dict[int, list[int]]]] = {}
    if plan.empty:
        return out
    ordered = plan.sort_values(["town", "day", "team", "order"], kind="stable")
    for town, day, team, village in zip(ordered["town"], ordered["day"], ordered["team"], ordered["village"]):
        wd = WEEKDAYS.index(day)
        out.setdefault(town, {}).setdefault(wd, {}).setdefault(int(team), []).append(village_index[village])
    return out


def visits_per_week(plan: pd.DataFrame) -> pd.Series:
    """Planned visits a week per village."""
    return plan.groupby("village").size()


def visits_required(sc: Scenario) -> pd.DataFrame:
    """Weekly visits the rule asks of each village (``town, village, visits_wanted``):
    :func:`plan_shortfall` of an empty plan, so the rule stays in one place."""
    short = plan_shortfall(sc, pd.DataFrame(columns=PLAN_COLUMNS))
    return short[["town", "village", "visits_wanted"]]


__all__ = [
    "PLAN_COLUMNS",
    "visits_required",
    "default_plan",
    "plan_table",
    "plan_shortfall",
    "agendas",
    "expected_teams",
    "patrol_teams",
    "presence_factor",
    "first_shift",
    "visits_per_week",
]

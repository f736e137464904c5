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

Visits that do not fit are left out and reported by :func:`plan_shortfall`.
"""

from __future__ import annotations

import math

import pandas as pd

from .config import Scenario
from .travel import great_circle_km, travel_minutes

PLAN_COLUMNS = ["town", "team", "day", "village", "order"]
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def expected_teams(sc: Scenario, brigade: str) -> dict[str, float]:
    """Expected two-officer teams on each shift of a working day, from the roster."""
    b = next(x for x in sc.brigades if x.name == brigade)
    pattern = sc.settings.shift_patterns[b.shift_pattern]
    certified = sum(r.certified for r in sc.staffing if r.brigade == brigade)
    presence = presence_factor(sc, b.shift_pattern)
    field = sc.settings.officer_time.field_share
    return {s.name: certified * presence * field * s.staff_share / 2.0 for s in pattern.shifts}


def presence_factor(sc: Scenario, pattern_name: str) -> float:
    """Share of a brigade's officers present on one of its working days.

    Officers work ``net_duty_days`` a year spread over the pattern's working days
    (e.g. 5 a week → 260.7 a year), at most all of them.
    """
    pattern = sc.settings.shift_patterns[pattern_name]
    working_days_per_year = len(pattern.working_days) * 365.0 / 7.0
    return min(1.0, sc.settings.officer_time.net_duty_days / working_days_per_year)


def first_shift(sc: Scenario, pattern_name: str):
    pattern = sc.settings.shift_patterns[pattern_name]
    return min(pattern.shifts, key=lambda s: s.start_min)


def default_plan(sc: Scenario, visits: dict[str, int] | None = None) -> pd.DataFrame:
    """The rule-based weekly patrol plan for every brigade (see module docstring).

    ``visits`` (village → visits a week) replaces the rule's frequencies, e.g. with
    the optimiser's choice.
    """
    patrol = sc.settings.patrol
    travel = sc.settings.travel
    urban = set(travel.urban_towns)
    towns = sc.town_by_name
    rows = []
    for b in sc.brigades:
        shift = first_shift(sc, b.shift_pattern)
        days = sorted(shift.weekday_numbers)
        teams = math.floor(expected_teams(sc, b.name)[shift.name]) - patrol.response_teams_reserved
        if teams <= 0 or not days:
            continue
        base = towns[b.base_town]
        villages = [v for v in sc.villages if v.town in b.towns]
        per_day: dict[int, list] = {d: [] for d in days}
        for n, v in enumerate(villages):
            if visits is not None:
                f = int(visits.get(v.village, 0))
            else:
                f = patrol.hot_spot_visits_per_week if v.hot_spot else patrol.min_visits_per_week
            f = min(f, len(days))
            for j in range(f):
                slot = (n + round(j * len(days) / f)) % len(days)
                per_day[days[slot]].append(v)
        for d in days:
            todays = per_day[d]
            angle = {
                v.village: math.atan2(v.lat - base.lat, (v.lon - base.lon) * math.cos(math.radians(base.lat)))
                for v in todays
            }
            todays.sort(key=lambda v: angle[v.village])
            routes = _pack_routes(todays, base, shift.length_min, teams, patrol, travel, urban, b.base_town)
            for k, route in enumerate(routes):
                for order, v in enumerate(route):
                    rows.append((b.name, k, WEEKDAY_NAMES[d], v.village, order))
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def _trip(a_lat, a_lon, a_town, b_lat, b_lon, b_town, travel, urban) -> float:
    km = great_circle_km(a_lat, a_lon, b_lat, b_lon)
    return float(travel_minutes(km, a_town == b_town and a_town in urban, travel))


def _pack_routes(villages, base, length_min, teams, patrol, travel, urban, base_town):
    """Fill up to ``teams`` routes in sweep order; each route ends back at base within the shift."""
    routes: list[list] = []
    current: list = []
    used = 0.0
    prev = (base.lat, base.lon, base_town)
    for v in villages:
        here = (v.lat, v.lon, v.town)
        leg = _trip(*prev, *here, travel, urban)
        back = _trip(*here, base.lat, base.lon, base_town, travel, urban)
        cost = leg + patrol.visit_min(v.population)
        if current and used + cost + back > length_min:
            routes.append(current)
            if len(routes) == teams:
                return routes
            current, used, prev = [], 0.0, (base.lat, base.lon, base_town)
            leg = _trip(*prev, *here, travel, urban)
            cost = leg + patrol.visit_min(v.population)
        if used + cost + back <= length_min:
            current.append(v)
            used += cost
            prev = here
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
    visits = plan.groupby("village").size()
    rows = []
    for v in sc.villages:
        want = patrol.hot_spot_visits_per_week if v.hot_spot else patrol.min_visits_per_week
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
    for (town, day, team), grp in ordered.groupby(["town", "day", "team"], sort=False):
        wd = WEEKDAY_NAMES.index(day)
        out.setdefault(town, {}).setdefault(wd, {})[int(team)] = [village_index[v] for v in grp["village"]]
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
    "presence_factor",
    "first_shift",
    "visits_per_week",
]

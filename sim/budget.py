"""The officer-hours budget practitioners draw up: what the listed work needs against what staff provide.

All figures are officer-hours a year (a team-hour is OFFICERS_PER_TEAM = 2 officer-hours, F4).

Provided, per brigade:
``officer_hours`` = officers × net duty days × mean shift length; of that,
``desk_hours`` (files, legal review, briefings), ``other_town_work_hours`` (time
lost to other town work, F3) and the rest, ``field_hours``.  Only certified
officers form teams (F4) and transition posts give only part of their time (F5),
so ``team_field_hours`` = the officer-hours of the teams the simulator fields:
2 × expected teams on each shift (:func:`sim.roster.expected_teams`, the one
rule) × shift hours × the days a year the shift runs.

Needed, per brigade, from the scenario's rates and times (expected values):
``response_hours`` — every violation the brigade handles, a team's round trip
from base plus on-site time (an upper bound: violations found on patrol need no
extra trip); ``case_work_hours`` — follow-up of filed cases; ``patrol_hours`` —
the weekly patrol plan's routes (travel and visits) × 52.14; ``inspection_hours``
— scheduled inspections with a round trip each; ``reinspection_hours`` — second
visits (``[reinspection]``, 复查) of the corrected and filed town cases, a round trip
and the visit each.  What the listed work leaves of the field hours is time not used
by the listed work (the model has no other work for it), not "idle" time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import MIN_PER_HOUR, OFFICERS_PER_TEAM, Scenario
from .patrol_plan import plan_table
from .processes.violations import rate_table
from .roster import expected_teams
from .travel import travel_times

WEEKS_PER_YEAR = 365.0 / 7.0
NEED_COLUMNS = ["response_hours", "case_work_hours", "patrol_hours", "inspection_hours", "reinspection_hours"]


def budget_table(sc: Scenario, plan: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per brigade and a ``county`` total (see module docstring)."""
    s = sc.settings
    ot = s.officer_time
    plan = plan_table(sc) if plan is None else plan
    rates = rate_table(sc)
    travel = travel_times(sc)
    villages = sc.villages
    seats = sc.town_by_name
    vidx = {v.village: i for i, v in enumerate(villages)}
    rows = []
    for b in sc.brigades:
        pattern = s.shift_patterns[b.shift_pattern]
        shift_h = pattern.duty_day_min / MIN_PER_HOUR
        staff = [r for r in sc.staffing if r.brigade == b.name]
        officers = sum(r.officers for r in staff)
        certified = sum(r.certified for r in staff)
        hours = officers * ot.net_duty_days * shift_h
        desk = hours * ot.desk_share
        other = (hours - desk) * ot.other_town_work_share
        field = hours - desk - other
        teams = expected_teams(sc, b.name)
        team_field = sum(OFFICERS_PER_TEAM * teams[sh.name] * sh.length_min / MIN_PER_HOUR * len(sh.weekday_numbers) * WEEKS_PER_YEAR
                         for sh in pattern.shifts)
        base = seats[b.base_town]
        served = [i for i, v in enumerate(villages) if v.town in b.towns]
        round_trip = {i: 2.0 * travel.minutes(base, villages[i]) for i in served}

        response = case_work = reinspection = 0.0
        r = s.reinspection
        mask = np.isin(rates.village, served)
        for v_i, it_i, per_year in zip(rates.village[mask], rates.item[mask], rates.per_year[mask]):
            item = sc.items[it_i]
            if not sc.handled_by_brigade(item):
                continue
            cls = s.classes[item.klass]
            officers_per = OFFICERS_PER_TEAM * item.teams_needed
            response += per_year * officers_per * (round_trip[int(v_i)] + item.on_site_mean_min)
            case_work += per_year * OFFICERS_PER_TEAM * cls.case_share * cls.case_followup_min
            if r is not None:
                revisits = cls.corrected_share * r.corrected_share + cls.case_share * r.case_share
                reinspection += per_year * OFFICERS_PER_TEAM * revisits * (round_trip[int(v_i)] + r.visit_min)

        patrol = 0.0
        mine = plan[plan["town"] == b.name].sort_values(["day", "team", "order"])
        for _, route in mine.groupby(["day", "team"]):
            stops = [villages[vidx[v]] for v in route["village"]]
            minutes, prev = 0.0, base
            for stop in stops:
                minutes += travel.minutes(prev, stop) + s.patrol.visit_min(stop.population)
                prev = stop
            minutes += travel.minutes(prev, base)
            patrol += minutes * WEEKS_PER_YEAR * OFFICERS_PER_TEAM

        businesses = np.array([villages[i].businesses for i in served], float)
        visits = businesses.sum() * s.inspection.visits_per_business()
        mean_trip = float(np.average([round_trip[i] for i in served], weights=businesses)) if businesses.sum() else 0.0
        inspection = visits * (s.inspection.visit_min + mean_trip) * OFFICERS_PER_TEAM

        rows.append({
            "brigade": b.name,
            "officers": officers,
            "certified": certified,
            "officer_hours": hours,
            "desk_hours": desk,
            "other_town_work_hours": other,
            "field_hours": field,
            "team_field_hours": team_field,
            "response_hours": response / MIN_PER_HOUR,
            "case_work_hours": case_work / MIN_PER_HOUR,
            "patrol_hours": patrol / MIN_PER_HOUR,
            "inspection_hours": inspection / MIN_PER_HOUR,
            "reinspection_hours": reinspection / MIN_PER_HOUR,
        })
    df = pd.DataFrame(rows)
    total = df.drop(columns="brigade").sum()
    df = pd.concat([df, pd.DataFrame([{"brigade": "county", **total.to_dict()}])], ignore_index=True)
    df["needed_hours"] = df[NEED_COLUMNS].sum(axis=1)
    df["needed_share"] = df["needed_hours"] / df["team_field_hours"]
    df["spare_officers"] = (df["team_field_hours"] - df["needed_hours"]) / (ot.net_duty_days * _mean_shift_h(sc))
    return df


def _mean_shift_h(sc: Scenario) -> float:
    lengths = [p.duty_day_min for p in sc.settings.shift_patterns.values()]
    return float(np.mean(lengths)) / MIN_PER_HOUR


def verdict(df: pd.DataFrame) -> str:
    """A plain sentence for the county row: enough staff, far more than enough, or short."""
    c = df[df["brigade"] == "county"].iloc[0]
    share = c["needed_share"]
    head = (
        f"The listed field work needs {c['needed_hours']:,.0f} officer-hours a year; certified officers "
        f"provide {c['team_field_hours']:,.0f} field hours ({share:.0%} needed)."
    )
    short = df[(df["brigade"] != "county") & (df["needed_share"] > 1.0)]["brigade"].tolist()
    if share <= 0.5:
        text = (
            f"{head} Staff are far more than the listed work needs: about {c['spare_officers']:.0f} "
            f"officers' field time is not used by the listed work and is left for seeing more (extra "
            f"patrols, inspections) or for work the model does not list. Coverage then "
            f"depends on how often villages are patrolled and businesses inspected, not on response capacity."
        )
    elif share <= 1.0:
        text = f"{head} Staff cover the listed work; {1 - share:.0%} of the field hours is not used by it."
    else:
        text = f"{head} Staff are short of the listed work by {c['needed_hours'] - c['team_field_hours']:,.0f} hours."
    if short:
        text += f" Brigades short of their own work: {', '.join(short)}."
    return text


def measured_shares(units: pd.DataFrame) -> pd.DataFrame:
    """Shares of on-duty team time by activity, as measured in a run, per brigade and county;
    ``unlisted_share`` is the rest: time not used by the listed work (not idleness: the
    model simply lists no other work for it)."""
    from .processes.brigade import ACTIVITIES  # the activity names the model accounts

    brig = units[units["kind"] == "brigade"]
    g = brig.groupby("unit", sort=False)[["on_duty_min", *[f"{a}_min" for a in ACTIVITIES]]].sum()
    g.loc["county"] = g.sum()
    out = pd.DataFrame(index=g.index)
    for a in ACTIVITIES:
        out[f"{a}_share"] = g[f"{a}_min"] / g["on_duty_min"]
    out["unlisted_share"] = 1.0 - out.sum(axis=1)
    return out.reset_index().rename(columns={"unit": "brigade"})

"""Solver-independent checks: every constraint recomputed from the result tables with plain pandas.

The tests and the command line both run these on every solution, so a modelling
slip in the PuLP code cannot pass unnoticed.  Each function returns a list of
problems (empty when the plan is valid), one line per broken requirement, named
as in the model.
"""

from __future__ import annotations

import pandas as pd

from enforcement_grid.sim.config import WEEKDAYS

from .data import AllocationData

EPS = 1e-6


def check_allocation(table: pd.DataFrame, data: AllocationData, objective: str = "coverage",
                     target: float | None = None) -> list[str]:
    """Recompute the allocation model's constraints from ``town, source, posts, certified``."""
    p: list[str] = []
    if (table["posts"] < 0).any() or (table["certified"] < 0).any():
        p.append("posts and certified must be >= 0")
    bad = table[table["certified"] > table["posts"]]
    for _, r in bad.iterrows():
        p.append(f"certified_within_posts_{r.town}_{r.source}: {r.certified} certified > {r.posts} posts")
    by_source = table.groupby("source")[["posts", "certified"]].sum()
    for s in data.sources:
        got_p = int(by_source.loc[s, "posts"]) if s in by_source.index else 0
        got_c = int(by_source.loc[s, "certified"]) if s in by_source.index else 0
        if objective == "min-posts":
            if got_p > data.posts[s]:
                p.append(f"source_total_{s}: {got_p} posts > {data.posts[s]}")
            if got_c > data.certified[s]:
                p.append(f"source_certified_{s}: {got_c} certified > {data.certified[s]}")
        else:
            if got_p != data.posts[s]:
                p.append(f"source_total_{s}: {got_p} posts placed, expected {data.posts[s]}")
            if got_c != data.certified[s]:
                p.append(f"source_certified_{s}: {got_c} certified placed, expected {data.certified[s]}")
    by_town = table.groupby("town")[["posts", "certified"]].sum()
    law_sources = [s for s in data.law_sources if s in data.sources]
    law = table[table["source"].isin(law_sources)].groupby("town")["posts"].sum()
    for t in data.towns:
        posts = int(by_town.loc[t, "posts"]) if t in by_town.index else 0
        cert = int(by_town.loc[t, "certified"]) if t in by_town.index else 0
        if law_sources and int(law.get(t, 0)) < data.min_law:
            p.append(f"law_posts_min_{t}: {int(law.get(t, 0))} law posts < {data.min_law}")
        if cert < data.need_certified[t]:
            p.append(f"certified_team_every_shift_{t}: {cert} certified < {data.need_certified[t]}")
        if posts > data.max_posts:
            p.append(f"posts_max_{t}: {posts} posts > {data.max_posts}")
        if posts - cert > data.max_uncertified_per_certified * cert + EPS:
            p.append(f"uncertified_assist_limit_{t}: {posts - cert} uncertified > "
                     f"{data.max_uncertified_per_certified:g} × {cert} certified")
        curve = data.curves[t]
        if cert not in curve.weighted:
            p.append(f"one_level_{t}: {cert} certified officers is not a feasible level "
                     f"(floor {curve.floor}: {curve.floor_reason})")
        elif objective == "min-posts" and target is not None and curve.weighted[cert] < target - EPS:
            p.append(f"coverage_target_{t}: coverage {curve.weighted[cert]:.3f} < target {target:.3f}")
    if data.current is not None and data.max_moves is not None:
        merged = table.merge(data.current, on=["town", "source"], how="outer", suffixes=("", "_now")).fillna(0)
        moved = (merged["posts"] - merged["posts_now"]).abs().sum() / 2
        if moved > data.max_moves + EPS:
            p.append(f"moves_max: {moved:g} posts moved > {data.max_moves}")
    return p


def check_patrol(plan: pd.DataFrame, required: dict[str, int], route_minutes: dict[tuple, float],
                 shift_minutes: dict[str, float], teams: dict[str, int], cap: int) -> list[str]:
    """Recompute the patrol model's constraints from ``town, team, day, village``.

    ``required`` visits a week per village (at least), ``route_minutes[(town, day, team)]``
    the route's actual minutes (travel and visits), ``shift_minutes`` and ``teams``
    the patrol shift's length and the patrol teams of each town.
    """
    p: list[str] = []
    visits = plan.groupby("village").size()
    for village, need in required.items():
        got = int(visits.get(village, 0))
        if got < need:
            p.append(f"visits_min_{village}: {got} visits a week < {need}")
        if got > cap:
            p.append(f"visits_max_{village}: {got} visits a week > {cap}")
    same_day = plan.groupby(["village", "day"]).size()
    for (village, day), n in same_day.items():
        if n > 1:
            p.append(f"one_visit_a_day_{village}_{day}: visited {n} times")
    for village, grp in plan.groupby("village"):
        idx = sorted({WEEKDAYS.index(d) for d in grp["day"]})
        for a in idx:
            b = (a + 1) % 7
            if b in idx and b != a:
                p.append(f"no_consecutive_days_{village}: {WEEKDAYS[a]} and {WEEKDAYS[b]}")
    for (town, day, team), minutes in route_minutes.items():
        if minutes > shift_minutes[town] + EPS:
            p.append(f"route_fits_shift_{town}_{day}_{team}: {minutes:.0f} min > {shift_minutes[town]:.0f} min")
    for town, grp in plan.groupby("town"):
        if grp["team"].nunique() and grp["team"].max() >= teams.get(town, 0):
            p.append(f"response_teams_kept_free_{town}: team {grp['team'].max()} patrols, "
                     f"only {teams.get(town, 0)} patrol teams may")
    return p

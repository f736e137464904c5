"""Optimiser inputs built from a validated scenario: sets, parameters and coverage curves.

Nothing here solves anything: it turns the configuration (and, in the loop,
simulated coverage) into the labelled data the models read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from enforcement_grid.sim.config import Scenario
from enforcement_grid.sim.errors import ScenarioError
from enforcement_grid.sim.roster import expected_people

from .approx import LevelResult, TownApprox


@dataclass
class Curve:
    """Coverage of one town by certified officers (the level), with the patrol visits chosen at each level."""

    town: str
    levels: list[int]  # feasible levels only (certified officers)
    weighted: dict[int, float]  # class-weighted coverage, approximate or simulated
    by_class: dict[int, dict[str, float]]
    visits: dict[int, np.ndarray]
    floor: int  # smallest feasible level
    floor_reason: str  # why the level below the floor is not feasible
    kind: dict[int, str] = field(default_factory=dict)  # "approx" or "simulated"


@dataclass
class AllocationData:
    """Sets and parameters of the post-allocation model."""

    towns: list[str]
    sources: list[str]  # the scenario's [sources], in its order
    posts: dict[str, int]  # N_s: posts by source
    certified: dict[str, int]  # C_s: certified officers by source
    demand: dict[str, float]  # W_t: class-weighted expected violations a year
    population: dict[str, int]
    min_law: int
    max_posts: int
    max_uncertified_per_certified: float
    need_certified: dict[str, int]  # certified officers for a team on every shift
    curves: dict[str, Curve]
    current: pd.DataFrame | None  # town, source, posts (for the stability limit)
    max_moves: int | None
    villages: dict[str, list[str]]  # town → village names (order of the visit vectors)
    law_sources: tuple[str, ...] = ()  # sources whose posts count as law posts (law_posts_min_t)


def need_certified_for_teams(sc: Scenario, town: str) -> int:
    """Smallest certified count that puts two officers in the field on every shift (transition posts count in part)."""
    per_certified = min(expected_people(sc, town, 1.0).values())  # the simulator's rule, per certified officer
    return max(2, math.ceil(2.0 / per_certified - 1e-9))


def town_curve(sc: Scenario, town: str, max_level: int, samples: int, seed: int = 0) -> Curve:
    """The approximate coverage curve of one town over certified levels 0 … ``max_level``."""
    approx = TownApprox(sc, town, samples, seed)
    results: dict[int, LevelResult] = {k: approx.evaluate(k) for k in range(0, max_level + 1)}
    feasible = [k for k, r in results.items() if r.feasible]
    floor = feasible[0] if feasible else max_level + 1
    reason = results[floor - 1].why_not if floor - 1 in results else ""
    return Curve(
        town=town,
        levels=feasible,
        weighted={k: results[k].weighted for k in feasible},
        by_class={k: results[k].coverage for k in feasible},
        visits={k: results[k].visits for k in feasible},
        floor=floor,
        floor_reason=reason,
        kind={k: "approx" for k in feasible},
    )


def source_totals(sc: Scenario) -> tuple[dict[str, int], dict[str, int]]:
    """Posts and certified officers by source in the scenario's staffing table."""
    posts = {s: 0 for s in sc.settings.sources}
    cert = {s: 0 for s in sc.settings.sources}
    for r in sc.staffing:
        posts[r.source] += r.officers
        cert[r.source] += r.certified
    return posts, cert


def allocation_data(sc: Scenario, curves: dict[str, Curve] | None = None, current: pd.DataFrame | None = None,
                    posts: dict[str, int] | None = None, certified: dict[str, int] | None = None) -> AllocationData:
    """The allocation model's data for a scenario after the reform."""
    s = sc.settings
    if s.reform.mode != "after":
        raise ScenarioError(
            f"{sc.files['settings']}: reform.mode: the allocation of posts to town brigades needs mode \"after\""
        )
    if s.optimize is None:
        raise ScenarioError(f"{sc.files['settings']}: [optimize]: missing; the optimiser needs this section")
    o = s.optimize
    towns = [t.town for t in sc.towns]
    n_posts, n_cert = source_totals(sc)
    posts = posts or n_posts
    certified = certified or n_cert
    if curves is None:
        cap = min(o.max_posts_per_brigade, sum(certified.values()))
        curves = {t: town_curve(sc, t, cap, o.approx_samples) for t in towns}
    weights = {k: c.weight for k, c in s.classes.items()}
    from enforcement_grid.sim.processes.violations import rate_table

    rates = rate_table(sc)
    demand = {t: 0.0 for t in towns}
    for vi, ii, r in zip(rates.village, rates.item, rates.per_year):
        demand[sc.villages[vi].town] += weights[sc.items[ii].klass] * r
    return AllocationData(
        towns=towns,
        sources=list(s.sources),
        law_sources=sc.law_sources,
        posts=dict(posts),
        certified=dict(certified),
        demand=demand,
        population={t.town: t.population for t in sc.towns},
        min_law=o.min_law_posts_per_brigade,
        max_posts=o.max_posts_per_brigade,
        max_uncertified_per_certified=o.max_uncertified_per_certified,
        need_certified={t: need_certified_for_teams(sc, t) for t in towns},
        curves=curves,
        current=current,
        max_moves=o.max_moves,
        villages={t: [v.village for v in sc.villages if v.town == t] for t in towns},
    )

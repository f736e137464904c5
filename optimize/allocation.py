"""The post-allocation model: how the transferred posts are shared among the town brigades.

Sets
    T towns; S sources (the scenario's [sources]; Hui'an: urban_management 140,
    county_department 120, reallocated 60, law 37); L ⊆ S the law sources (law = true); K_t feasible levels of town t —
    certified officers from the town's floor (a team on every shift, weekly patrol of every village) to the cap.
Parameters
    N_s posts and C_s certified officers of source s; cov_{t,k} the class-weighted
    coverage of town t with k certified officers (the patrol visits chosen within
    its time budget come with the level); W_t the town's class-weighted demand;
    law_min; cap; r the most uncertified officers per certified one;
    need_t the certified officers for a team on every shift; x0 a current placement.
Variables
    x_{t,s} ∈ ℤ≥0 posts; q_{t,s} ∈ ℤ≥0 certified among them; y_{t,k} ∈ {0,1}
    town t at level k (one level per town, so curves need not be concave).
Constraints (named by meaning and index)
    one_level_t:                Σ_k y_{t,k} = 1
    level_is_certified_t:       Σ_s q_{t,s} = Σ_k k y_{t,k}
    certified_within_posts_t_s: q_{t,s} ≤ x_{t,s}
    source_total_s:             Σ_t x_{t,s} = N_s     (≤ for min-posts)
    source_certified_s:         Σ_t q_{t,s} = C_s     (≤ for min-posts)
    law_posts_min_t:            Σ_{s∈L} x_{t,s} ≥ law_min   (if L is not empty)
    certified_team_every_shift_t: Σ_s q_{t,s} ≥ need_t
    posts_max_t:                Σ_s x_{t,s} ≤ cap
    uncertified_assist_limit_t: Σ_s (x − q)_{t,s} ≤ r Σ_s q_{t,s}
    moves_max:                  Σ_{t,s} |x − x0| ≤ 2 · max_moves   (if a current placement is given)
    coverage_target_t:          Σ_k cov_{t,k} y_{t,k} ≥ target   (min-posts only)
Objectives
    coverage:  max Σ_t W_t Σ_k cov_{t,k} y_{t,k} / Σ_t W_t
    equity:    max z,  z ≤ Σ_k cov_{t,k} y_{t,k} ∀t   (ties broken by coverage)
    min-posts: min Σ_{t,s} x_{t,s}                     (ties broken by coverage)
    A second solve keeps the chosen levels (and, for min-posts, the total) and
    places the posts as close to each town's population share, and each town's
    mix of sources as close to the county's, as the constraints allow — this
    decides where the uncertified posts go and keeps brigades mixed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pulp

from .data import AllocationData
from .solver import SolveReport, solve

OBJECTIVES = ("coverage", "equity", "min-posts")
TIE = 1e-4  # weight of the tie-breaking objective


class AllocationConflict(ValueError):
    """Requirements that cannot all be met: each line names them and the shortfall."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        super().__init__("\n".join(lines))


@dataclass
class AllocationResult:
    """A solved allocation: the table, levels and patrol visits per town, and how the solve ended."""

    table: pd.DataFrame  # town, source, posts, certified
    levels: dict[str, int]  # certified officers per town
    predicted: dict[str, float]  # class-weighted coverage from the curves
    visits: dict[str, np.ndarray]  # patrol visits a week per village, per town
    objective: str
    report: SolveReport

    @property
    def county_predicted(self) -> float:
        return float(np.mean(list(self.predicted.values())))


def _name(*parts) -> str:
    return "_".join(str(p) for p in parts).replace(" ", "_")


def build(data: AllocationData, objective: str = "coverage", target: float | None = None, soft: bool = False):
    """The PuLP problem and its variables; ``soft`` adds penalised slack to every constraint group
    (phase one of the conflict diagnosis: minimise the slack needed)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}")
    T, S = data.towns, data.sources
    sense = pulp.LpMinimize if (objective == "min-posts" or soft) else pulp.LpMaximize
    prob = pulp.LpProblem(_name("allocation", objective), sense)
    x = prob.add_variable_dict("posts_%s_%s", [(t, s) for t in T for s in S], lowBound=0, cat=pulp.LpInteger)
    q = prob.add_variable_dict("certified_%s_%s", [(t, s) for t in T for s in S], lowBound=0, cat=pulp.LpInteger)
    y = prob.add_variable_dict("level_%s_%s", [(t, k) for t in T for k in data.curves[t].levels], cat=pulp.LpBinary)
    slack: dict[str, pulp.LpVariable] = {}

    def add(constraint: pulp.LpConstraint, name: str) -> None:
        """Add a named constraint; in soft mode give it slack in the direction that relaxes it."""
        if not soft:
            prob.addConstraint(constraint, name)
            return
        up = prob.add_variable(_name("slack", name), lowBound=0)
        slack[name] = up
        if constraint.sense == pulp.LpConstraintLE:
            prob.addConstraint(_relax(constraint, -up), name)
        elif constraint.sense == pulp.LpConstraintGE:
            prob.addConstraint(_relax(constraint, up), name)
        else:
            down = prob.add_variable(_name("slack_down", name), lowBound=0)
            slack[name + ":down"] = down
            prob.addConstraint(_relax(constraint, up - down), name)

    cov = {t: sum(data.curves[t].weighted[k] * y[t, k] for k in data.curves[t].levels) for t in T}
    level = {t: sum(k * y[t, k] for k in data.curves[t].levels) for t in T}
    posts_t = {t: pulp.lpSum(x[t, s] for s in S) for t in T}
    cert_t = {t: pulp.lpSum(q[t, s] for s in S) for t in T}
    for t in T:
        if not data.curves[t].levels:
            continue  # reported by precheck() before any solve
        prob += pulp.lpSum(y[t, k] for k in data.curves[t].levels) == 1, _name("one_level", t)
        prob += cert_t[t] - level[t] == 0, _name("level_is_certified", t)
        for s in S:
            prob += q[t, s] - x[t, s] <= 0, _name("certified_within_posts", t, s)
        law = [s for s in data.law_sources if s in S]
        if law:
            add(pulp.lpSum(x[t, s] for s in law) >= data.min_law, _name("law_posts_min", t))
        add(cert_t[t] >= data.need_certified[t], _name("certified_team_every_shift", t))
        add(posts_t[t] <= data.max_posts, _name("posts_max", t))
        add(posts_t[t] - cert_t[t] <= data.max_uncertified_per_certified * cert_t[t],
            _name("uncertified_assist_limit", t))
        if objective == "min-posts":
            add(cov[t] >= target, _name("coverage_target", t))
    for s in S:
        total_x = pulp.lpSum(x[t, s] for t in T)
        total_q = pulp.lpSum(q[t, s] for t in T)
        if objective == "min-posts":
            add(total_x <= data.posts[s], _name("source_total", s))
            add(total_q <= data.certified[s], _name("source_certified", s))
        else:
            add(total_x == data.posts[s], _name("source_total", s))
            add(total_q == data.certified[s], _name("source_certified", s))
    if data.current is not None and data.max_moves is not None:
        x0 = data.current.set_index(["town", "source"])["posts"].to_dict()
        d = prob.add_variable_dict("moved_%s_%s", [(t, s) for t in T for s in S], lowBound=0)
        for t in T:
            for s in S:
                prob += d[t, s] >= x[t, s] - x0.get((t, s), 0), _name("moved_up", t, s)
                prob += d[t, s] >= x0.get((t, s), 0) - x[t, s], _name("moved_down", t, s)
        add(pulp.lpSum(d.values()) <= 2 * data.max_moves, "moves_max")

    weight = sum(data.demand.values()) or 1.0
    county = pulp.lpSum((data.demand[t] / weight) * cov[t] for t in T if data.curves[t].levels)
    # last tie-break: posts close to a population-proportional share (places uncertified posts sensibly)
    pop = sum(data.population.values())
    total_posts = sum(data.posts.values())
    dev = prob.add_variable_dict("off_proportional_%s", T, lowBound=0)
    for t in T:
        share = total_posts * data.population[t] / pop
        prob += dev[t] >= posts_t[t] - share, _name("off_proportional_up", t)
        prob += dev[t] >= share - posts_t[t], _name("off_proportional_down", t)
    # … and each town's posts mixed from the sources in the county's proportions
    mix = prob.add_variable_dict("off_mix_%s_%s", [(t, s) for t in T for s in S], lowBound=0)
    for t in T:
        for s in S:
            share_s = data.posts[s] / max(total_posts, 1)
            prob += mix[t, s] >= x[t, s] - share_s * posts_t[t], _name("off_mix_up", t, s)
            prob += mix[t, s] >= share_s * posts_t[t] - x[t, s], _name("off_mix_down", t, s)
    balance = (pulp.lpSum(dev.values()) + pulp.lpSum(mix.values())) / max(total_posts, 1)
    if soft:
        prob += pulp.lpSum(slack.values())
    elif objective == "coverage":
        prob += county
    elif objective == "equity":
        z = prob.add_variable("lowest_town_coverage", lowBound=0, upBound=1)
        for t in T:
            if data.curves[t].levels:
                prob += z - cov[t] <= 0, _name("lowest_town", t)
        prob += z + TIE * county
    else:
        prob += pulp.lpSum(x.values()) - TIE * county
    return prob, {"x": x, "q": q, "y": y, "slack": slack, "balance": balance}


def _relax(constraint: pulp.LpConstraint, amount) -> pulp.LpConstraint:
    """The same constraint with ``amount`` added to its left-hand side."""
    expr = pulp.LpAffineExpression(constraint)
    expr = expr + amount
    return pulp.LpConstraint(expr, constraint.sense, rhs=0)


def precheck(data: AllocationData, objective: str, target: float | None) -> list[str]:
    """Requirements that conflict on their face, named, with the shortfall."""
    T = data.towns
    out = []
    law = [s for s in data.law_sources if s in data.sources]
    law_posts = sum(data.posts.get(s, 0) for s in law)
    if law and data.min_law * len(T) > law_posts:
        out.append(
            f"law_posts_min (at least {data.min_law} law post in each of {len(T)} brigades = "
            f"{data.min_law * len(T)}) conflicts with source_total_{'+'.join(law)} ({law_posts} law posts): "
            f"short by {data.min_law * len(T) - law_posts}"
        )
    for t in T:
        c = data.curves[t]
        if not c.levels:
            out.append(
                f"posts_max_{t} (at most {data.max_posts} posts) conflicts with what brigade {t} must do at all "
                f"({c.floor_reason or 'no feasible staff level'}): no staff level up to the cap is enough"
            )
    floors = {t: data.curves[t].floor for t in T if data.curves[t].levels}
    cert_total = sum(data.certified.values())
    if objective != "min-posts" and sum(floors.values()) > cert_total:
        worst = sorted(floors, key=floors.get, reverse=True)[:3]
        out.append(
            f"the towns' floors (certified officers for a team on every shift and weekly patrols of every village: "
            f"{sum(floors.values())} in all; largest {', '.join(f'{t} {floors[t]}' for t in worst)}) conflict with "
            f"source_certified ({cert_total} certified officers): short by {sum(floors.values()) - cert_total}"
        )
    if objective != "min-posts":
        posts_total = sum(data.posts.values())
        if posts_total > data.max_posts * len(T):
            out.append(
                f"posts_max (at most {data.max_posts} posts in each of {len(T)} brigades = {data.max_posts * len(T)}) "
                f"conflicts with source_total ({posts_total} posts to place): {posts_total - data.max_posts * len(T)} "
                f"posts have nowhere to go"
            )
        uncert = posts_total - cert_total
        if uncert > data.max_uncertified_per_certified * cert_total + 1e-9:
            out.append(
                f"uncertified_assist_limit (at most {data.max_uncertified_per_certified:g} uncertified per certified "
                f"officer) conflicts with source totals ({uncert} uncertified, {cert_total} certified)"
            )
    if objective == "min-posts" and target is not None:
        for t in T:
            c = data.curves[t]
            if c.levels:
                best = max(c.weighted.values())
                if best < target - 1e-12:
                    out.append(
                        f"coverage_target_{t} ({target:.0%}) cannot be reached: the best coverage of brigade {t} "
                        f"at up to {data.max_posts} posts is {best:.1%}, short by {target - best:.1%}"
                    )
    return out


def allocate(data: AllocationData, objective: str = "coverage", target: float | None = None,
             time_limit_s: float = 10.0, gap: float = 1e-4) -> AllocationResult:
    """Solve the allocation; raise AllocationConflict naming the requirements that conflict."""
    if objective == "min-posts" and target is None:
        raise ValueError("min-posts needs a coverage target")
    conflicts = precheck(data, objective, target)
    if conflicts:
        raise AllocationConflict(conflicts)
    t0 = time.perf_counter()
    prob, v = build(data, objective, target)
    report = solve(prob, time_limit_s, gap, build_s=time.perf_counter() - t0)
    if not report.has_solution:
        raise AllocationConflict(diagnose(data, objective, target, time_limit_s) or
                                 [f"the allocation model is {report.status} and no single requirement explains it"])
    _balance_posts(prob, v, objective, time_limit_s, gap)
    rows = []
    for t in data.towns:
        for s in data.sources:
            rows.append((t, s, int(round(v["x"][t, s].value())), int(round(v["q"][t, s].value()))))
    table = pd.DataFrame(rows, columns=["town", "source", "posts", "certified"])
    levels = {t: int(table[table.town == t]["certified"].sum()) for t in data.towns}
    predicted = {t: data.curves[t].weighted[levels[t]] for t in data.towns}
    visits = {t: data.curves[t].visits[levels[t]] for t in data.towns}
    return AllocationResult(table, levels, predicted, visits, objective, report)


def _balance_posts(prob: pulp.LpProblem, v: dict, objective: str, time_limit_s: float, gap: float) -> None:
    """Second solve: levels fixed (and the total posts for min-posts), posts close to population shares."""
    for var in v["y"].values():
        var.lowBound = var.upBound = round(var.value())
    if objective == "min-posts":
        total = round(sum(var.value() for var in v["x"].values()))
        prob.addConstraint(pulp.lpSum(v["x"].values()) == total, "total_posts_fixed")
    prob.sense = pulp.LpMinimize
    prob.setObjective(v["balance"])
    report = solve(prob, time_limit_s, gap)
    if not report.has_solution:  # cannot happen: the first solution is feasible; keep it if it does
        raise AllocationConflict([f"re-balancing the posts failed ({report.status})"])


def diagnose(data: AllocationData, objective: str, target: float | None, time_limit_s: float) -> list[str]:
    """Phase one with penalised slack: which named requirements must give, and by how much."""
    prob, v = build(data, objective, target, soft=True)
    report = solve(prob, time_limit_s, 1e-6)
    if not report.has_solution:
        return []
    lines = []
    for name, sl in v["slack"].items():
        amount = sl.value() or 0.0
        if amount > 1e-6:
            lines.append(f"{name.removesuffix(':down')} must be relaxed by {amount:g}")
    if lines:
        lines.insert(0, "these requirements conflict (the least relaxation that makes the rest feasible):")
    return lines


def county_coverage(data: AllocationData, levels: dict[str, int]) -> float:
    """Demand-weighted county coverage of a set of levels, from the curves."""
    total = sum(data.demand.values())
    return sum(data.demand[t] * data.curves[t].weighted[levels[t]] for t in data.towns) / total


def greedy(data: AllocationData) -> dict[str, int]:
    """A greedy allocation of certified officers, one at a time to the best marginal gain.

    It exists to show why the model chooses levels with binary variables: when a
    curve is zero until a town can keep up (not concave), a town's first officers
    gain nothing and greedy never starts it.
    """
    levels = {t: data.curves[t].floor if data.curves[t].levels else 0 for t in data.towns}
    left = sum(data.certified.values()) - sum(levels.values())
    total = sum(data.demand.values())

    def value(t, k):
        c = data.curves[t]
        return c.weighted.get(k, 0.0) * data.demand[t] / total

    while left > 0:
        best, gain = None, -math.inf
        for t in data.towns:
            k = levels[t] + 1
            if k in data.curves[t].weighted:
                g = value(t, k) - value(t, levels[t])
                if g > gain:
                    best, gain = t, g
        if best is None:
            break
        levels[best] += 1
        left -= 1
    return levels

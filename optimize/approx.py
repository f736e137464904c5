"""A fast approximation of a town's coverage at a given staff level — the optimiser's coverage curves.

For a brigade with ``certified`` officers this estimates, without the event
simulation, the share of violations acted on within their target time counted
from when they arise, by class — and chooses, within the brigade's time budget,
how often each village is patrolled.

How it approximates the simulation (same parameters, same meaning):

* **Teams on duty.**  The simulator's own rule (:func:`sim.roster.expected_teams`):
  certified × kept share (transition posts, F5) × presence × field share × the
  shift's staff share people, rounded and paired as the simulator does; a shift
  has a team if that is at least two people.
* **Passive discovery** (grid worker, complaint), report and triage delays: drawn
  exactly as the model does (exponentials with the scenario's means).
* **Response**: from the report, wait for the next on-duty time, then the M/M/c
  mean wait (Erlang C) of the response load on the teams not patrolling or
  inspecting, then the mean travel from the base (the simulator's travel times,
  :class:`sim.travel.TravelTimes`).
* **Patrols**: ``f`` visits a week spread over the first shift's working days;
  each visit finds the violation with the class's probability; the finder acts
  at once.  **Inspections** find business violations at the inspection rate ×
  detection probability.
* **Transferred items**: found as above, then transfer delay, the county
  department's next working time and travel from the county seat.
* **Patrol frequency**: every village gets its minimum visits (hot spots their
  hot-spot visits); extra visits, up to the cap, go greedily to the villages with
  the most weighted coverage gained per patrol minute.  Visits are booked on
  days (never two consecutive days for a village, :mod:`optimize.weekdays`), each
  day holding its patrol teams' shifts less one way back per route, and the week
  no more than the team time the response and inspection loads leave.

Monte Carlo with fixed seeds (``approx_samples`` per class), the same draws for
every staff level, so curves are smooth in staff and the same on every run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from enforcement_grid.sim.config import MIN_PER_DAY, MIN_PER_WEEK, Scenario
from enforcement_grid.sim.roster import expected_teams, first_shift
from enforcement_grid.sim.patrol_plan import patrol_teams
from enforcement_grid.sim.processes.discovery import grid_coverage
from enforcement_grid.sim.processes.violations import rate_table
from enforcement_grid.sim.travel import travel_times

from .weekdays import DayLoad, most_visits

NEVER = 1e12  # minutes: "not within any horizon"


def erlang_c_wait(c: int, lam: float, service: float) -> float:
    """Mean wait in queue (minutes) of an M/M/c queue; ``inf`` if c < 1 or ρ ≥ 1."""
    if c < 1 or lam <= 0:
        return 0.0 if lam <= 0 and c >= 1 else math.inf
    a = lam * service
    if a >= c:
        return math.inf
    term, below = 1.0, 1.0
    for k in range(1, c):
        term *= a / k
        below += term
    top = term * a / c * c / (c - a)
    p_wait = top / (below + top)
    return p_wait * service / (c - a)


@dataclass
class LevelResult:
    """The approximation at one staff level of one town."""

    certified: float
    feasible: bool  # every shift has a team, weekly patrols fit, response load below capacity
    why_not: str
    coverage: dict[str, float]  # by class
    weighted: float  # class-weighted coverage (weights from the scenario)
    visits: np.ndarray  # patrol visits a week per village
    patrol_hours_week: float
    teams_per_shift: dict[str, float] = field(default_factory=dict)


class TownApprox:
    """The coverage approximation of one town's brigade (after the reform)."""

    def __init__(self, sc: Scenario, town: str, samples: int, seed: int = 0):
        s = sc.settings
        self.sc = sc
        self.town = town
        t = sc.town_by_name[town]
        self.villages = [v for v in sc.villages if v.town == town]
        V = len(self.villages)
        travel = travel_times(sc)  # the simulator's travel times
        self.base_travel = np.array([travel.minutes(t, v) for v in self.villages], float)
        seat = sc.town_by_name[s.reform.county_seat]
        self.county_travel = np.array([travel.minutes(seat, v) for v in self.villages], float)
        self.visit_min = np.array([s.patrol.visit_min(v.population) for v in self.villages])
        self.visit_cost = self.visit_min + self.base_travel  # radial approximation of a route's travel per stop
        self.return_allowance = float(self.base_travel.mean()) if V else 0.0  # each route's way back
        self.cover = np.array([grid_coverage(v.grid_workers, v.population, s.grid.residents_per_grid)
                               for v in self.villages])
        self.rule_visits = np.array([s.patrol.visits_per_week(v.hot_spot) for v in self.villages], int)  # F12
        self.businesses = np.array([v.businesses for v in self.villages], float)

        self.class_keys = tuple(s.classes)
        C = len(self.class_keys)
        rates = rate_table(sc)
        vindex = {v.village: i for i, v in enumerate(self.villages)}
        all_v = [sc.villages[i].village for i in range(len(sc.villages))]
        self.handled = np.zeros((V, C))
        self.transferred = np.zeros((V, C))
        self.business_share = np.zeros((V, C))
        onsite = np.zeros(C)
        onsite_w = np.zeros(C)
        for vi, ii, per_year in zip(rates.village, rates.item, rates.per_year):
            name = all_v[vi]
            if name not in vindex:
                continue
            item = sc.items[ii]
            c = self.class_keys.index(item.klass)
            j = vindex[name]
            if sc.handled_by_brigade(item):
                self.handled[j, c] += per_year
                onsite[c] += per_year * item.on_site_mean_min
                onsite_w[c] += per_year
            else:
                self.transferred[j, c] += per_year
            if item.driver == "businesses":
                self.business_share[j, c] += per_year
        total = self.handled + self.transferred
        with np.errstate(invalid="ignore", divide="ignore"):
            self.business_share = np.where(total > 0, self.business_share / total, 0.0)
        self.onsite_mean = np.where(onsite_w > 0, onsite / np.maximum(onsite_w, 1e-12), 0.0)
        self.weights = np.array([s.classes[k].weight for k in self.class_keys])
        self.volume = total  # per year, by village and class

        # shifts of the brigade (minutes within the week) and the county departments' working time
        self.pattern = s.shift_patterns[t.shift_pattern]
        self.first = first_shift(sc, t.shift_pattern)
        self.patrol_days = sorted(self.first.weekday_numbers)
        dept_pattern = s.shift_patterns[sc.departments[0].shift_pattern] if sc.departments else self.pattern
        self.dept_windows = _week_windows(dept_pattern.shifts)

        # common random draws, per class
        rng = np.random.default_rng(np.random.SeedSequence([seed, 8128]))
        N = samples
        self.N = N
        self.t0 = np.empty((C, N))
        for c, key in enumerate(self.class_keys):
            prof = s.profiles[s.classes[key].profile]
            w = (np.asarray(prof.day_of_week)[:, None] * np.asarray(prof.hour_of_day)[None, :]).ravel()
            hours = rng.choice(168, size=N, p=w / w.sum())
            self.t0[c] = hours * 60.0 + rng.random(N) * 60.0
        self.e = rng.standard_exponential((8, C, N))
        self.u_geom = rng.random((C, N))
        self.u_business = rng.random((C, N))
        self._cache: dict = {}

    # ------------------------------------------------------------------ one staff level

    def teams(self, certified: float) -> dict[str, float]:
        """Mean two-officer teams on each shift: the simulator's rule (:func:`sim.roster.expected_teams`)."""
        return expected_teams(self.sc, self.town, certified)

    def evaluate(self, certified: float) -> LevelResult:
        s = self.sc.settings
        teams = self.teams(certified)
        staffed = [sh for sh in self.pattern.shifts if 2.0 * teams[sh.name] >= 2.0]
        empty = LevelResult(certified, False, "", {k: 0.0 for k in self.class_keys}, 0.0,
                            np.zeros(len(self.villages)), 0.0, teams)
        if len(staffed) < len(self.pattern.shifts):
            missing = [sh.name for sh in self.pattern.shifts if sh not in staffed]
            empty.why_not = f"no two-officer team on shift(s) {', '.join(missing)}"
            return empty

        # weekly team-minutes on duty, and the loads on them
        on_duty_min_week = sum(teams[sh.name] * sh.length_min * len(sh.weekday_numbers) for sh in self.pattern.shifts)
        shift_min_week = sum(sh.length_min * len(sh.weekday_numbers) for sh in self.pattern.shifts)
        handled_per_week = self.handled.sum(axis=0) * 7.0 / 365.0
        mean_trip = float(np.average(self.base_travel, weights=self.volume.sum(axis=1) + 1e-12))
        followup = np.array([s.classes[k].case_share * s.classes[k].case_followup_min for k in self.class_keys])
        service = 2 * mean_trip + self.onsite_mean + followup
        response_min_week = float((handled_per_week * service).sum())
        inspections_week = self.businesses.sum() * s.inspection.visits_per_business() * 7.0 / 365.0
        inspection_min_week = inspections_week * (s.inspection.visit_min + 2 * mean_trip)

        # patrol budget: first-shift teams minus the reserve, day by day, and what the loads leave
        first_teams = patrol_teams(self.sc, self.town, certified)
        budget = on_duty_min_week - response_min_week - inspection_min_week
        cap = most_visits(self.patrol_days, s.patrol.max_visits_per_week)
        base_visits = np.minimum(self.rule_visits, cap)
        days = DayLoad(self.patrol_days, first_teams * (self.first.length_min - self.return_allowance))
        placed = all(days.place(v, self.visit_cost[v], int(base_visits[v]))
                     for v in np.argsort(-base_visits * self.visit_cost, kind="stable"))
        need = days.total
        if not placed or need > budget + 1e-9:
            empty.why_not = (f"weekly patrols of every village do not fit: {first_teams} patrol team(s) a day, "
                             f"{float((base_visits * self.visit_cost).sum()) / 60:.0f} team-hours a week needed")
            return empty

        # response queue on the teams left after patrols and inspections (Erlang C)
        busy_other = (need + inspection_min_week) / max(shift_min_week, 1.0)
        c_eff = math.floor(on_duty_min_week / max(shift_min_week, 1.0) - busy_other)
        lam = float(handled_per_week.sum()) / max(shift_min_week, 1.0)
        wq = erlang_c_wait(c_eff, lam, float(np.average(service, weights=handled_per_week + 1e-12)))
        if not math.isfinite(wq):
            empty.why_not = f"response load exceeds the {c_eff} team(s) left after patrols and inspections"
            return empty

        windows = _week_windows(staffed)
        key = (tuple(sh.name for sh in staffed), round(wq, 1))
        if key not in self._cache:
            self._cache[key] = self._coverage_table(windows, wq)
        table = self._cache[key]  # (V, C, F) coverage by village, class, visits a week

        visits = base_visits.copy()
        value = self.weights[None, :] * self.volume  # (V, C)
        gains = sorted(
            ((float((value[v] * (table[v, :, f + 1] - table[v, :, f])).sum()) / self.visit_cost[v], v, f)
             for v in range(len(self.villages)) for f in range(int(base_visits[v]), cap)),
            key=lambda g: (-g[0], g[1], g[2]),
        )
        for gain, v, f in gains:  # best gain per patrol minute first, each village's visits in order
            if gain <= 0 or visits[v] != f or days.total + self.visit_cost[v] > budget:
                continue
            if days.place(v, self.visit_cost[v], f + 1):
                visits[v] = f + 1
        spent = days.total
        cov_vc = table[np.arange(len(self.villages)), :, visits]  # (V, C)
        vol = self.volume
        by_class = {}
        for c, k in enumerate(self.class_keys):
            tot = vol[:, c].sum()
            by_class[k] = float((vol[:, c] * cov_vc[:, c]).sum() / tot) if tot > 0 else math.nan
        weighted = float((value * cov_vc).sum() / value.sum()) if value.sum() > 0 else math.nan
        return LevelResult(certified, True, "", by_class, weighted, visits, spent / 60.0, teams)

    # ------------------------------------------------------------------ the Monte Carlo table

    def _coverage_table(self, windows: list[tuple[float, float]], wq: float) -> np.ndarray:
        """Coverage for every village, class and weekly visit count 0…cap (given staffed shifts, wait)."""
        s = self.sc.settings
        V, C = len(self.villages), len(self.class_keys)
        cap = most_visits(self.patrol_days, s.patrol.max_visits_per_week)
        out = np.zeros((V, C, cap + 1))
        e = self.e
        for c, key in enumerate(self.class_keys):
            k = s.classes[key]
            t0 = self.t0[c]
            target = k.target_min
            comp_rate = k.complaint_per_day / MIN_PER_DAY
            t_comp = np.where(comp_rate > 0, e[1, c] / max(comp_rate, 1e-300), np.inf)
            t_comp = np.where(t_comp <= e[2, c] * k.noticeable_days * MIN_PER_DAY, t_comp, np.inf)
            p_insp = k.inspection_detect_prob * s.inspection.visits_per_business() / (365.0 * MIN_PER_DAY)
            t_insp = np.where(p_insp > 0, e[5, c] / max(p_insp, 1e-300), np.inf)
            if k.patrol_detect_prob > 0:
                n_visits = np.ceil(np.log1p(-self.u_geom[c]) / math.log1p(-min(k.patrol_detect_prob, 1 - 1e-12)))
                n_visits = np.maximum(n_visits, 1)
            else:
                n_visits = None
            for v in range(V):
                g_rate = k.grid_notice_per_day * self.cover[v] / MIN_PER_DAY
                t_grid = e[0, c] / g_rate if g_rate > 0 else np.full(self.N, np.inf)
                grid_first = t_grid <= t_comp
                passive = np.minimum(t_grid, t_comp)
                delay = np.where(grid_first, s.grid.report_delay_mean_min, s.complaint.relay_delay_mean_min)
                report = passive + e[3, c] * delay + e[4, c] * s.command_centre.triage_mean_min
                business = self.u_business[c] < self.business_share[v, c]
                found_insp = np.where(business, t_insp, np.inf)
                start = _next_open(t0 + report, windows) - t0
                acted_handled = start + wq + self.base_travel[v]
                for f in range(cap + 1):
                    if f == 0 or n_visits is None:
                        found_patrol = np.full(self.N, np.inf)
                    else:
                        found_patrol = self._patrol_find(t0, f, n_visits) - t0
                    active = np.minimum(found_patrol, found_insp)
                    acted_h = np.minimum(acted_handled, active)
                    found = np.minimum(report, active + e[4, c] * s.command_centre.triage_mean_min)
                    moved = t0 + found + e[6, c] * s.transfer.delay_mean_min
                    acted_x = _next_open(moved, self.dept_windows) - t0 + self.county_travel[v]
                    h, x = self.handled[v, c], self.transferred[v, c]
                    if h + x <= 0:
                        out[v, c, f] = math.nan
                        continue
                    cov_h = float(np.mean(acted_h <= target)) if h > 0 else 0.0
                    cov_x = float(np.mean(acted_x <= target)) if x > 0 else 0.0
                    out[v, c, f] = (h * cov_h + x * cov_x) / (h + x)
        return np.nan_to_num(out, nan=0.0)

    def _patrol_find(self, t0: np.ndarray, f: int, n_visits: np.ndarray) -> np.ndarray:
        """Time of the n-th patrol visit after t0, for visits spread over the working days."""
        days = self.patrol_days
        slots = sorted({days[round(j * len(days) / f) % len(days)] for j in range(f)})
        visit_times = np.array([d * MIN_PER_DAY + self.first.start_min + 120.0 for d in slots])
        m = len(visit_times)
        week_pos = np.mod(t0, MIN_PER_WEEK)
        idx = np.searchsorted(visit_times, week_pos, side="right")  # first visit after t0 this week
        k = idx + n_visits - 1
        weeks, slot = np.divmod(k, m)
        return t0 - week_pos + weeks * MIN_PER_WEEK + visit_times[slot.astype(int)]


def _week_windows(shifts) -> list[tuple[float, float]]:
    """Open windows of a set of shifts within a week, merged, in minutes from Monday 00:00."""
    raw = sorted(
        (d * MIN_PER_DAY + sh.start_min, d * MIN_PER_DAY + sh.end_min)
        for sh in shifts for d in sh.weekday_numbers
    )
    merged: list[list[float]] = []
    for a, b in raw:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _next_open(t: np.ndarray, windows: list[tuple[float, float]]) -> np.ndarray:
    """The first time ≥ t inside one of the weekly windows (NEVER if there are none)."""
    t = np.asarray(t, float)
    if not windows:
        return np.full(t.shape, NEVER)
    finite = np.isfinite(t)
    tt = np.where(finite, t, 0.0)
    week0 = np.floor(tt / MIN_PER_WEEK) * MIN_PER_WEEK
    pos = tt - week0
    starts = np.array([a for a, _ in windows])
    ends = np.array([b for _, b in windows])
    i = np.searchsorted(ends, pos, side="right")  # first window ending after pos
    wrap = i >= len(windows)
    i = np.where(wrap, 0, i)
    base = np.where(wrap, week0 + MIN_PER_WEEK, week0)
    start = base + starts[i]
    out = np.where(wrap, start, np.where(pos >= starts[i], tt, start))
    return np.where(finite, out, np.inf)

"""Who is on duty: certified officers and two-officer teams, day by day, in constant memory.

Only certified officers make up two-officer teams (F4).  With certification on,
officers not certified at the start sit every exam (``first_sitting_day``, then
every ``sitting_interval_days``, up to the ``deadline_years``) until they pass
(probability ``pass_prob`` a sitting); an officer who has not passed by the
deadline stays an assistant.  Transition posts (F5) give the town only part of
their time.  The exam draws come from one ``certification`` stream per brigade,
officer by officer and sitting by sitting, so two plans with the same staff see
the same exam results whatever the run length.

Teams on a shift = certified officers × kept share (transition posts) ×
presence × field share × staff share, rounded to whole people at random (one
draw per day and shift from the brigade's ``roster`` stream, in day order), then
paired.  Days are drawn as the run reaches them and only monthly sums are kept,
so memory does not grow with the length of the run.

This is the one rule for the teams a brigade fields: :func:`expected_teams`
gives their expected number per shift, exactly the mean of the simulator's
draw, and the officer-hours budget, the patrol planner, the coverage
approximation and the optimiser all call it (facts F4, F5 in docs/domain.md).
"""

from __future__ import annotations

import bisect
import math

import numpy as np
import pandas as pd

from .calendar import rota_weekday
from .config import OFFICERS_PER_TEAM, Scenario, ShiftPattern

DAYS_PER_MONTH = 365.0 / 12.0


def presence_factor(sc: Scenario, pattern_name: str) -> float:
    """Share of a brigade's officers present on one of its working days.

    Officers work ``net_duty_days`` a year spread over the slots of the rota: a
    shift with staff share s on n weekdays asks s × n officer-days a week of each
    present officer (:attr:`ShiftPattern.slot_days_per_week`; a plain weekday
    shift: 5 a week → 260.7 a year; a weekday shift plus a weekend duty shift of
    0.3: 5.6 a week), at most all of them.
    """
    pattern = sc.settings.shift_patterns[pattern_name]
    slot_days_per_year = pattern.slot_days_per_week * 365.0 / 7.0
    return min(1.0, sc.settings.officer_time.net_duty_days / slot_days_per_year)


def first_shift(sc: Scenario, pattern_name: str):
    """The shift of a pattern that starts first in the day (patrols and campaigns run on it)."""
    pattern = sc.settings.shift_patterns[pattern_name]
    return min(pattern.shifts, key=lambda s: s.start_min)


def kept_share(sc: Scenario, brigade: str) -> float:
    """Share of a brigade's certified time the town can use: transition posts give only part of theirs (F5).

    1 − (officers of the transition ``sources`` / all officers) × ``share_of_posts`` × (1 − ``available_share``).
    """
    t = sc.settings.transition
    rows = [r for r in sc.staffing if r.brigade == brigade]
    officers = sum(r.officers for r in rows)
    if t is None or t.share_of_posts <= 0 or officers <= 0:
        return 1.0
    in_sources = sum(r.officers for r in rows if r.source in t.sources)
    return 1.0 - in_sources / officers * t.share_of_posts * (1.0 - t.available_share)


def mean_teams(people: float) -> float:
    """Expected teams from ``people`` expected officers on a shift, under the simulator's rounding.

    The simulator fields ``floor(floor(people + U) / k)`` teams of k = OFFICERS_PER_TEAM
    (U uniform on [0, 1), :meth:`DailyTeams._make`): with n = floor(people) and
    f = people − n, that is floor(n / k), plus f when one more person makes a team
    (for pairs: n / 2 when n is even, (n − 1) / 2 + f when n is odd).
    """
    n = math.floor(people)
    f = people - n
    k = OFFICERS_PER_TEAM
    return n // k + (f if (n + 1) % k == 0 else 0.0)


def expected_people(sc: Scenario, brigade: str, certified: float | None = None) -> dict[str, float]:
    """Expected certified officers in the field on each shift of a working day of the brigade.

    ``certified``: the brigade's certified officers (default: the staffing table's,
    before anyone passes an exam) — the optimiser asks at other staff levels, with
    the brigade's own mix of sources for the transition posts.
    """
    b = next(x for x in sc.brigades if x.name == brigade)
    pattern = sc.settings.shift_patterns[b.shift_pattern]
    if certified is None:
        certified = sum(r.certified for r in sc.staffing if r.brigade == brigade)
    effective = certified * kept_share(sc, brigade)
    per_officer = presence_factor(sc, b.shift_pattern) * sc.settings.officer_time.field_share
    # the same product, in the same order, as DailyTeams._expected_people
    return {s.name: effective * per_officer * s.staff_share for s in pattern.shifts}


def expected_teams(sc: Scenario, brigade: str, certified: float | None = None) -> dict[str, float]:
    """Expected two-officer teams on each shift of a working day of the brigade: the simulator's mean.

    See :func:`expected_people` for ``certified`` and :func:`mean_teams` for the rounding.
    """
    return {name: mean_teams(x) for name, x in expected_people(sc, brigade, certified).items()}


class Roster:
    """Certified officers of one brigade on any day, from its exam record (memory: one number per officer)."""

    def __init__(self, sc: Scenario, brigade: str, rng: np.random.Generator):
        s = sc.settings
        rows = [r for r in sc.staffing if r.brigade == brigade]
        self.officers = sum(r.officers for r in rows)
        self.certified0 = sum(r.certified for r in rows)
        uncertified = self.officers - self.certified0
        cert = s.certification
        self.deadline_day = math.inf
        self.passed_on = np.full(0, np.inf)
        if cert is not None and cert.enabled and uncertified > 0:
            self.deadline_day = cert.deadline_years * 365.0
            sittings = np.arange(cert.first_sitting_day, self.deadline_day + 1e-9, cert.sitting_interval_days)
            passed = np.full(uncertified, np.inf)
            if sittings.size:
                passes = rng.random((uncertified, sittings.size)) < cert.pass_prob
                first = np.where(passes.any(axis=1), passes.argmax(axis=1), -1)
                passed = np.where(first >= 0, sittings[np.maximum(first, 0)], np.inf)
            self.passed_on = np.sort(passed)
        self._passed_list = self.passed_on.tolist()
        self.never = int(np.isinf(self.passed_on).sum())
        self.kept = kept_share(sc, brigade)  # transition posts give only part of their time (F5)

    def headcount(self, day: float) -> int:
        """Certified people on ``day``."""
        return self.certified0 + bisect.bisect_right(self._passed_list, day)  # = searchsorted(side="right")

    def effective(self, day: float) -> float:
        """Certified officers the town can use on ``day`` (transition posts count in part)."""
        return self.headcount(day) * self.kept

    def past_deadline(self, day: float) -> int:
        """Officers still uncertified after the deadline (0 before it)."""
        return self.never if day >= self.deadline_day else 0


class DailyTeams:
    """Teams on each shift of each day, made as the run reaches the day.

    ``teams_on(day)`` must be asked in non-decreasing day order (simulation time
    only moves forward); skipped days are still drawn, so the numbers do not
    depend on who asks when.  ``pulls[day]`` teams of the first shift go to
    campaigns (F11); ``force[day]`` is how many actually went.  A unit of fixed teams with no
    pulls (a county department) has the same row on every day of a rota weekday: nothing is
    drawn, so its rows are not made day by day (:attr:`fixed_rows`).
    """

    def __init__(self, pattern: ShiftPattern, presence: float, field_share: float, rng: np.random.Generator | None,
                 roster: Roster | None = None, teams: float = 0.0, first: int = 0,
                 pulls: dict[int, int] | None = None, holidays=frozenset()):
        """A brigade: certified officers from its ``roster``, rounded at random with ``rng``.
        A county department: a fixed number of ``teams`` shared over its shifts (``rng`` None)."""
        self.shares = np.array([s.staff_share for s in pattern.shifts], float)
        self._share_list = self.shares.tolist()
        self.days_of = [frozenset(s.weekday_numbers) for s in pattern.shifts]
        self.roster = roster
        self.fixed_teams = teams
        self.per_officer = presence * field_share
        self.rng = rng
        self.first = first
        self.pulls = pulls or {}
        self.holidays = frozenset(holidays)  # public holidays run the Sunday rota (sim.calendar.rota_weekday)
        self.force: dict[int, int] = {}
        self._day = -1
        self._row = np.zeros(len(self.shares), np.int64)
        self._months: dict[int, list[float]] = {}
        # a county department's people on each shift, the same every day (round half to even, as numpy)
        self._fixed_people = [round(OFFICERS_PER_TEAM * teams * x) for x in self._share_list]
        # a unit whose rows are all fixed: rota weekday → (the row of each such day, its mean teams per
        # shift that runs), made once (None for any other unit)
        self.fixed_rows = ({wd: self._weekday_row(wd) for wd in range(7)}
                           if roster is None and not self.pulls else None)

    def _expected_people(self, day: int) -> np.ndarray:
        if self.roster is None:
            return OFFICERS_PER_TEAM * self.fixed_teams * self.shares
        return self.roster.effective(day) * self.per_officer * self.shares

    def most(self, last_day: int) -> np.ndarray:
        """An upper bound of the teams on each shift up to ``last_day`` (certified staff only grow)."""
        people = np.floor(self._expected_people(last_day)) + (1 if self.rng is not None else 0)
        return (people // OFFICERS_PER_TEAM).astype(np.int64)

    def teams_on(self, day: int) -> np.ndarray:
        if self.fixed_rows is not None:
            self._day = max(self._day, day)
            return self.fixed_rows[rota_weekday(day, self.holidays)][0]
        while self._day < day:
            self._day += 1
            self._row = self._make(self._day)
        return self._row

    def _make(self, day: int) -> np.ndarray:
        # Plain Python floats and ints on this per-day path (numpy scalar calls cost more than the
        # arithmetic); the same operations in the same order as the array form, so the same numbers.
        shares = self._share_list
        if self.roster is None:  # fixed teams with campaign pulls (without, teams_on takes fixed_rows)
            people = self._fixed_people
        else:
            base = self.roster.effective(day) * self.per_officer
            u = self.rng.random(len(shares)).tolist()  # one draw per shift, in shift order
            people = [math.floor(base * x + ui) for x, ui in zip(shares, u)]
        wd = rota_weekday(day, self.holidays)
        row = [int(p) // OFFICERS_PER_TEAM if wd in d else 0 for p, d in zip(people, self.days_of)]
        want = self.pulls.get(day, 0)
        if want:
            took = min(want, row[self.first])
            row[self.first] -= took
            self.force[day] = took
        month = int(day / DAYS_PER_MONTH)
        acc = self._months.get(month)
        if acc is None:
            acc = self._months[month] = [0.0, 0.0, 0.0, 0.0, 0.0]
        acc[0] += 1
        if self.roster is not None:
            acc[1] += self.roster.headcount(day)
            acc[4] += self.roster.past_deadline(day)
        total = sum(row)
        if total:
            acc[2] += 1
            acc[3] += total / sum(1 for x in row if x > 0)
        return np.array(row, np.int64)

    def _weekday_row(self, wd: int) -> tuple[np.ndarray, float]:
        """A fixed-team unit's row on rota weekday ``wd`` (shared by every such day: not to be changed)
        and its mean teams per shift that runs."""
        row = [int(p) // OFFICERS_PER_TEAM if wd in d else 0 for p, d in zip(self._fixed_people, self.days_of)]
        total = sum(row)
        array = np.array(row, np.int64)
        array.flags.writeable = False
        return array, total / sum(1 for x in row if x > 0) if total else 0.0

    def _count_fixed_day(self, day: int) -> None:
        """A fixed-rows unit's ``day`` counted in the day's month."""
        per_shift = self.fixed_rows[rota_weekday(day, self.holidays)][1]
        month = int(day / DAYS_PER_MONTH)
        acc = self._months.get(month)
        if acc is None:
            acc = self._months[month] = [0.0, 0.0, 0.0, 0.0, 0.0]
        acc[0] += 1
        if per_shift:
            acc[2] += 1
            acc[3] += per_shift

    def monthly(self, unit: str) -> pd.DataFrame:
        """month, unit, certified (people), teams (mean per shift over days a shift runs), past_deadline."""
        if self.fixed_rows is not None and not self._months:  # fixed rows: the months of the days asked
            for day in range(self._day + 1):
                self._count_fixed_day(day)
        rows = [(m, unit, a[1] / a[0], a[3] / a[2] if a[2] else np.nan, a[4] / a[0])
                for m, a in sorted(self._months.items())]
        return pd.DataFrame(rows, columns=["month", "unit", "certified", "teams", "past_deadline"])


"""Enforcement units (town brigades, the county brigade, county departments) and their teams.

A unit fields **two-officer teams**.  A team is one entity (both officers move
together), so it is taken atomically: no officer waits holding a place for a
partner (F4).  How many teams a unit has on a shift on a given day comes from its
roster: certified officers present that day (after leave, training, desk work and
other town work), rounded to whole people, paired.  Uncertified officers assist
but never make up a team.

Each team is a SimPy process that loops: take the next job (its patrol agenda
first, then the unit's queue by priority), travel, work, and either chain to the
next job from where it is or return to base and wait.  Jobs are responses to
reported violations (priority = severity), scheduled business inspections
(``command_centre.inspection_priority``) and patrol routes (a team's own agenda for the day).

A team with nothing to do heads back to base.  If nothing is waiting when it sets
off, it waits on the road: the dispatcher counts it free from its arrival at base
(``free_at``), and calls it back then should a job be queued or a patrol route be
handed to it meanwhile, to look for work as a team reaching base does.  The road
home is then not an event of its own (most returns find nothing waiting).

Time a team spends is accumulated by activity (area accumulation, not sampling)
over the observation window, so utilisation and the split of field time are exact.
Each team keeps its own sums, in the order of its own working day, and the unit's are
their sum at the end (:meth:`Unit.end_of_run`): when in its day a team books a stretch
does not change the totals.
"""

from __future__ import annotations

import bisect
import functools
import heapq
from dataclasses import dataclass, field
from operator import attrgetter

from ..calendar import exact_delay, overlap, rota_weekday
from ..config import MIN_PER_DAY, ShiftPattern

ACTIVITIES = ("response", "case_work", "patrol", "inspection", "reinspection")


class Response:
    """Act on a reported violation: ``stage`` is ``first`` (the unit's own first action),
    ``transfer`` (a county department acting on a transferred case) or ``escalation``
    (a county department closing a case the town escalated)."""

    __slots__ = ("violation", "stage", "priority", "teams_needed", "lead", "here", "all_here")
    kind = "response"

    def __init__(self, violation, stage: str, priority: int, teams_needed: int):
        self.violation = violation
        self.stage = stage
        self.priority = priority
        self.teams_needed = teams_needed
        self.lead = None  # the team that records the action; others are escorts
        self.here = 0  # teams of a multi-team job on site so far
        self.all_here = None  # event: the last of them has arrived (work starts together)


class InspectionVisit:
    """A scheduled inspection of one business in a village, for one department's items
    (``department``) or, as a joint visit, for every department's (``department`` None)."""

    __slots__ = ("village", "business", "department", "priority", "teams_needed")
    kind = "inspection"

    def __init__(self, village: int, business: int, department: str | None, priority: int):
        self.village = village
        self.business = business
        self.department = department
        self.priority = priority  # command_centre.inspection_priority
        self.teams_needed = 1


class Revisit:
    """A second visit to a violation's village after its first action: re-inspection after a
    correction (复查) or a filed case's follow-up visit (``[reinspection]``, queued by the casework)."""

    __slots__ = ("violation", "village", "visit_min", "priority", "teams_needed")
    kind = "reinspection"

    def __init__(self, violation, visit_min: float, priority: int):
        self.violation = violation
        self.village = violation.village
        self.visit_min = visit_min
        self.priority = priority
        self.teams_needed = 1


class PatrolRoute:
    """A day's patrol: villages in order, to be started before ``shift_end``."""

    __slots__ = ("villages", "shift_end", "priority", "teams_needed")
    kind = "patrol"

    def __init__(self, villages: list[int], shift_end: float):
        self.villages = villages
        self.shift_end = shift_end
        self.priority = 99
        self.teams_needed = 1


@dataclass
class UnitCounters:
    """What a unit did, for the measures (counts over the observation window)."""

    patrol_visits_planned: int = 0
    patrol_visits_done: int = 0
    inspections_planned: int = 0
    inspections_done: int = 0
    reinspections_done: int = 0
    team_shift_min: float = 0.0  # on-duty team time (team-minutes)
    shift_min: float = 0.0  # shift time whether or not a team was on it (minutes)
    campaign_min: float = 0.0  # team time spent on campaigns (outside routine work)
    businesses: int = 0  # businesses in the towns served (for inspections per business)
    call_outs: int = 0  # urgent items out of hours that called out the on-call team
    on_call_min: float = 0.0  # team time of on-call teams called out (overtime, not on-duty time)
    aided_others: int = 0  # reports of another brigade's town this unit was sent to (mutual aid)
    aided_by_others: int = 0  # reports of this unit's towns sent to another brigade (mutual aid)
    routed: int = 0  # reports of this unit's towns routed to a brigade (home or helper)
    busy: dict[str, float] = field(default_factory=lambda: {a: 0.0 for a in ACTIVITIES})


class Dispatcher:
    """The unit's queue of jobs (highest priority first, then first come) and its idle teams.

    ``duty(t)``: the unit's teams on duty at ``t`` by shift (:meth:`Unit.duty`); ``waiting()``,
    if set, is called when a pump leaves a job queued (a unit without a shift clock wakes itself
    at the next shift start then, :meth:`Unit._wake_at_next_shift`).  ``idle`` is in the order the
    teams are free from (``Team.free_at``): teams still on the road back to base come last."""

    def __init__(self, env, duty):
        self.env = env
        self.duty = duty
        self.queue: list = []
        self.idle: list["Team"] = []
        self._seq = 0
        self.waiting = None

    def submit(self, job) -> None:
        self._seq += 1
        heapq.heappush(self.queue, (-job.priority, self._seq, job))
        self.pump()

    def __len__(self) -> int:
        return len(self.queue)

    def add_idle(self, team: "Team") -> None:
        """An idle team, in the order of the time it is free from."""
        bisect.insort_right(self.idle, team, key=attrgetter("free_at"))

    def free_teams(self, k: int, first: "Team | None" = None) -> list["Team"] | None:
        """``k`` teams for a job: ``first`` (if given) and the idle teams at base and on duty now, in
        ``idle`` order (None if there are not enough)."""
        now = self.env.now
        on = self.duty(now)
        if first is None and not any(on):  # nobody on duty (a night, a weekend): no idle team to look at
            return None
        chosen = [first] if first is not None else []
        for team in self.idle:
            if len(chosen) >= k or team.free_at > now:  # the rest are still on their way back to base
                break
            if team is not first and team.k < on[team.shift_idx]:
                chosen.append(team)
        return chosen if len(chosen) >= k else None

    def pump(self) -> None:
        """Hand queued jobs to idle on-duty teams, in priority order, while they fit."""
        while self.queue:
            job = self.queue[0][2]
            teams = self.free_teams(job.teams_needed)
            if teams is None:
                self._call_back_returning()
                if self.waiting is not None:
                    self.waiting()
                return
            heapq.heappop(self.queue)
            for team in teams:
                self.assign(team, job)

    def work_for(self, team: "Team") -> tuple:
        """What a team looking for work (done with a job, or reaching base) takes: its patrol route if it
        has one and is on duty, else the next queued job that fits with it first; and the other idle
        teams that job needs, for the caller to wake.  (None, ()) if nothing fits now."""
        now = self.env.now
        if team.agenda and team.on_duty(now):
            return team.agenda.pop(0), ()
        if not self.queue or not team.on_duty(now):
            return None, ()
        job = self.queue[0][2]
        teams = self.free_teams(job.teams_needed, first=team)
        if teams is None:
            return None, ()
        heapq.heappop(self.queue)
        return job, teams[1:]

    def assign(self, team: "Team", job) -> None:
        """Wake an idle team with a job."""
        self.idle.remove(team)
        wake, team.wake = team.wake, None
        wake.succeed(job)

    def call_back(self, team: "Team") -> None:
        """Have a team on its way back to base look for work when it gets there (once)."""
        if not team.called_back:
            team.called_back = True
            now = self.env.now
            self.env.timeout(exact_delay(now, team.free_at), value=team).callbacks.append(self._back_at_base)

    def _call_back_returning(self) -> None:
        """Work is waiting: each team on its way back looks for it on arrival."""
        now = self.env.now
        for team in reversed(self.idle):
            if team.free_at <= now:
                break
            self.call_back(team)

    def _back_at_base(self, event) -> None:
        """A team called back reaches base and looks for work (:meth:`work_for`)."""
        team = event.value
        team.called_back = False
        job, others = self.work_for(team)
        if job is not None:
            self.assign(team, job)  # first, as the team arriving acts first (it leads a multi-team job)
            for other in others:
                self.assign(other, job)


class Team:
    """Two certified officers who move and work together."""

    def __init__(self, unit: "Unit", shift_idx: int, k: int):
        self.unit = unit
        self.env = unit.env
        self.shift_idx = shift_idx
        self.k = k
        self.id = f"{unit.name}/{unit.shift_names[shift_idx]}/{k}"
        self.location = unit.base
        self.agenda: list = []
        self.wake = None
        self.free_at = 0.0  # idle: the time it is (or will be) at base and free
        self.called_back = False  # idle on the way back: called back on arrival (Dispatcher.call_back)
        self.busy = dict.fromkeys(ACTIVITIES, 0.0)  # minutes by activity in the observation window
        self.process = self.env.process(self.run())

    def on_duty(self, t: float) -> bool:
        return self.k < self.unit.duty(t)[self.shift_idx]

    def _account(self, activity: str, start: float, end: float) -> None:
        w0, w1 = self.unit.window
        if w0 <= start and end <= w1:  # the common case: wholly inside the observation window
            self.busy[activity] += end - start
        else:
            self.busy[activity] += overlap(start, end, w0, w1)

    def run(self):
        env = self.env
        unit = self.unit
        last_activity = "response"
        while True:
            job, others = unit.dispatcher.work_for(self)
            for other in others:  # a multi-team job: the others set off with it
                unit.dispatcher.assign(other, job)
            if job is None:
                self.free_at = env.now
                if self.location != unit.base:
                    t0 = env.now
                    back = unit.travel.trip(self.location, unit.base, None, unit.route_rng)
                    self.location = unit.base
                    if back > 0:
                        if unit.dispatcher.queue or self.agenda:  # work waiting: look again at base
                            yield env.timeout(back)
                            self._account(last_activity, t0, env.now)
                            continue
                        # nothing waiting: idle on the way back, free from its arrival
                        self.free_at = t0 + back  # the clock a timeout of ``back`` would reach
                        if self.free_at < unit.horizon:  # (a trip the run does not see end is not booked)
                            self._account(last_activity, t0, self.free_at)
                self.wake = env.event()
                unit.dispatcher.add_idle(self)
                job = yield self.wake
            last_activity = job.kind
            if job.kind == "response":
                yield from self._respond(job)
            elif job.kind == "inspection":
                yield from self._inspect(job)
            elif job.kind == "reinspection":
                yield from self._revisit(job)
            else:
                yield from self._patrol(job)

    # -- the kinds of work -------------------------------------------------------

    def _act(self, v, stage: str, activity: str):
        """Work on site on a violation the team is at, then let the case move on."""
        casework = self.unit.casework
        on_site, followup = casework.begin_action(v, self, stage)
        t0 = self.env.now
        yield self.env.timeout(on_site + followup)
        self._account(activity, t0, t0 + on_site)
        self._account("case_work", t0 + on_site, self.env.now)
        casework.end_action(v, stage, self)

    @staticmethod
    def _trip_z(v, stage: str) -> float | None:
        """The violation's own travel noise for the trip to it: the first response's, or a county
        department's (so a department's trip does not depend on the order of its other jobs); a joint
        action draws from the brigade's route stream (None)."""
        if stage == "first":
            return v.travel_z
        if stage in ("transfer", "escalation"):
            return v.county_travel_z
        return None

    def _respond(self, job: Response):
        unit = self.unit
        trace = unit.trace
        v = job.violation
        lead = job.lead is None
        if lead:
            job.lead = self
            unit.casework.dispatched(v, self, job.stage)
        elif trace is not None:
            trace.append((self.env.now, self.id, f"v{v.id} escort dispatched"))
        t0 = self.env.now
        travel = unit.travel.trip(self.location, v.village, self._trip_z(v, job.stage), unit.route_rng)
        if travel > 0:
            yield self.env.timeout(travel)
            self._account("response", t0, self.env.now)
        self.location = v.village
        if job.teams_needed > 1:  # a multi-team job starts when the last team is on site
            job.here += 1
            if job.all_here is None:
                job.all_here = self.env.event()
            if job.here < job.teams_needed:
                t0 = self.env.now
                yield job.all_here
                self._account("response", t0, self.env.now)
            else:
                job.all_here.succeed()
        if lead:
            yield from self._act(v, job.stage, "response")
        else:  # an escort team of a multi-team job stays for the same on-site time
            if trace is not None:
                trace.append((self.env.now, self.id, f"v{v.id} escort on site"))
            t0 = self.env.now
            yield self.env.timeout(v.on_site_dur)
            self._account("response", t0, self.env.now)

    def _inspect(self, job: InspectionVisit):
        unit = self.unit
        inspection = unit.inspection
        t0 = self.env.now
        # the trip and the visit as one timeout, ending on the minute two timeouts in turn would reach
        t_done = (t0 + unit.travel.trip(self.location, job.village, None, unit.route_rng)) + inspection.visit_min
        yield self.env.timeout(exact_delay(t0, t_done))
        self.location = job.village
        self._account("inspection", t0, self.env.now)
        unit.count("inspections_done", t0)
        for v in inspection.checked(job.village, job.business, job.department):
            if inspection.found(v, self):
                yield from self._act(v, "first", "inspection")

    def _revisit(self, job: Revisit):
        unit = self.unit
        t0 = self.env.now
        yield self.env.timeout(unit.travel.trip(self.location, job.village, None, unit.route_rng) + job.visit_min)
        self.location = job.village
        self._account("reinspection", t0, self.env.now)
        unit.count("reinspections_done", t0)
        if unit.trace is not None:
            unit.trace.append((self.env.now, self.id, f"v{job.violation.id} re-inspected"))

    def _patrol(self, job: PatrolRoute):
        unit = self.unit
        patrol = unit.patrol
        for village in job.villages:
            travel = unit.travel.trip(self.location, village, None, unit.route_rng)
            if self.env.now + travel >= job.shift_end:
                break  # the rest of the route is missed today
            t0 = self.env.now
            yield self.env.timeout(travel + patrol.visit_min[village])
            self.location = village
            self._account("patrol", t0, self.env.now)
            unit.count("patrol_visits_done", t0)
            for v in patrol.look(village):
                if patrol.found(v, self):
                    yield from self._act(v, "first", "patrol")


class Unit:
    """A brigade or county department: a base, a shift pattern, a roster of teams, a queue.

    ``daily.teams_on(d)[s]`` is the number of teams on shift ``s`` on day ``d``
    (:class:`sim.roster.DailyTeams`), made as the run reaches the day; the run
    lasts ``days`` days.  ``agendas[weekday][team k]`` is the list of villages team k of the first
    shift patrols on that weekday; ``inspections_per_day`` are queued at the start
    of each working day.

    Its collaborators, all required (what its teams touch): ``travel`` (trip times:
    ``trip(a, b, z, rng)``), ``casework`` (dispatch, on-site action and what follows),
    the ``patrol`` channel (visit minutes, ``look``, ``found``), the ``inspection``
    channel (``pick_business``, visit minutes, ``checked``, ``found``), the
    observation ``window`` (start, end) minutes, the ``horizon`` minute the run ends at, the
    unit's ``route_rng`` and the event ``trace`` (None when off).
    """

    def __init__(
        self,
        env,
        name: str,
        base: int,
        pattern: ShiftPattern,
        daily,
        days: int,
        *,
        travel,
        casework,
        patrol,
        inspection,
        window: tuple[float, float],
        horizon: float,
        route_rng,
        trace: list | None,
        agendas: dict[int, dict[int, list[int]]] | None = None,
        inspections_per_day: float = 0.0,
    ):
        self.env = env
        self.travel = travel
        self.casework = casework
        self.patrol = patrol
        self.inspection = inspection
        self.window = window
        self.horizon = horizon  # the run ends here
        self.trace = trace
        self.name = name
        self.base = base
        self.pattern = pattern
        self.shift_names = [s.name for s in pattern.shifts]
        self._shift_start = tuple(s.start_min for s in pattern.shifts)
        self._shift_end = tuple(s.end_min for s in pattern.shifts)
        self._shift_days = tuple(frozenset(s.weekday_numbers) for s in pattern.shifts)
        self._order = tuple(sorted(range(len(pattern.shifts)), key=lambda s: self._shift_start[s]))  # by start time
        self.daily = daily
        self.days = days
        # who is on duty is asked often and changes only at the day's shift starts and ends: the answer
        # is kept with the minutes [lo, hi) it holds for (whole-minute clock times: exact bounds)
        self._bounds, self._running = _duty_spans(self._shift_start, self._shift_end, self._shift_days)
        self._duty_lo, self._duty_hi, self._duty_on = 0.0, -1.0, []
        self._duty_day, self._duty_row, self._duty_spans = -1, [], []
        self.route_rng = route_rng
        self.served_villages = None  # brigades: villages of its towns, and businesses' cumulative shares
        self.business_cum = None
        self.agendas = agendas or {}
        self.inspections_per_day = inspections_per_day
        self.counters = UnitCounters()
        self.on_call = None  # brigades whose pattern has on_call: sim.processes.on_call.OnCall
        self.job_log = None  # if set, job_log(unit, job) sees each job handed to the unit (experiments.replay)
        self.dispatcher = Dispatcher(self.env, self.duty)
        most = daily.most(days - 1)
        self.teams = [Team(self, s, k) for s in range(len(pattern.shifts)) for k in range(int(most[s]))]
        self._by_shift = [[t for t in self.teams if t.shift_idx == s] for s in range(len(pattern.shifts))]
        self.routine = bool(self.agendas) or self.inspections_per_day > 0
        if self.routine:
            self.env.process(self._shift_clock())
        else:
            self._wake_pending = False
            self.dispatcher.waiting = self._wake_at_next_shift

    def duty(self, t: float) -> list[int]:
        """Teams on duty at ``t`` on each shift: team k of shift s is on duty when ``k < duty(t)[s]``
        (the shift runs that day, ``t`` is within it, and the roster has more than k teams on it)."""
        if self._duty_lo <= t < self._duty_hi:
            return self._duty_on
        day = int(t // MIN_PER_DAY)
        lo = day * MIN_PER_DAY
        if day >= self.days:
            self._duty_lo, self._duty_hi, self._duty_on = lo, float("inf"), [0] * len(self.shift_names)
            return self._duty_on
        if day != self._duty_day:
            self._duty_day, self._duty_row = day, self.daily.teams_on(day).tolist()
            self._duty_spans = self._running[rota_weekday(day, self.daily.holidays)]  # a holiday: the Sunday rota
        clock = t - lo  # exact: lo is a whole number of minutes at most t
        i = bisect.bisect_right(self._bounds, clock)  # the same answer until the next shift start or end
        self._duty_on = [n if running else 0 for n, running in zip(self._duty_row, self._duty_spans[i - 1])]
        self._duty_lo, self._duty_hi = lo + self._bounds[i - 1], lo + self._bounds[i]
        return self._duty_on

    def team_on_duty(self, s: int, k: int, t: float) -> bool:
        return k < self.duty(t)[s]

    def any_on_duty(self, t: float) -> bool:
        """Some rostered team of the unit is on duty at ``t`` (on-call teams do not count)."""
        return any(self.duty(t))

    def has_free_team(self) -> bool:
        """An idle team of the unit is on duty now (it would take a job at once)."""
        return self.dispatcher.free_teams(1) is not None

    def count(self, counter: str, t: float, n: int = 1) -> None:
        """Add ``n`` to ``counter`` if ``t`` is inside the observation window."""
        w0, w1 = self.window
        if w0 <= t < w1:
            setattr(self.counters, counter, getattr(self.counters, counter) + n)

    def submit(self, job) -> None:
        """A job for the unit: its queue (after ``job_log``, if set, has seen it)."""
        if self.job_log is not None:
            self.job_log(self, job)
        self.dispatcher.submit(job)

    def _day_shifts(self, day: int) -> list[tuple[int, float, float]]:
        """(shift, start minute, end minute) of each shift that runs on ``day``, in start order."""
        return _shifts_of_day(day, self.daily.holidays, self._order, self._shift_start, self._shift_end,
                              self._shift_days)

    def _shift_starts(self, first_day: int = 0):
        """(day, shift, start minute, end minute) of each shift that runs, in time order."""
        for day in range(first_day, self.days):
            for s, t_start, t_end in self._day_shifts(day):
                yield day, s, t_start, t_end

    def _count_shift(self, t_start: float, t_end: float, on_duty: int) -> None:
        """On-duty team time of a shift with ``on_duty`` teams (what the observation window sees of it)."""
        d = _window_minutes(t_start, t_end, self.window)
        self.counters.team_shift_min += on_duty * d
        self.counters.shift_min += d

    def _shift_clock(self):
        """At each shift start: hand out patrol routes, queue the day's inspections, wake teams."""
        env = self.env
        carry = 0.0
        for day, s, t_start, t_end in self._shift_starts():
            if t_start > env.now:
                yield env.timeout(t_start - env.now)
            on_duty = int(self.daily.teams_on(day)[s])
            self._count_shift(t_start, t_end, on_duty)
            if s == self.daily.first:  # routine work (patrols, inspections) runs on the first shift's days
                self._start_patrols(day, s, t_end, on_duty)
                carry += self.inspections_per_day
                due = int(carry)
                carry -= due
                for _ in range(due):
                    self.count("inspections_planned", env.now)
                    self.dispatcher.submit(InspectionVisit(*self.inspection.pick_business(self), self.inspection.priority))
            for team in self._by_shift[s]:
                if team.agenda and team.wake is not None:  # idle, with a route
                    if team.free_at > env.now:
                        self.dispatcher.call_back(team)  # on its way back: it takes the route at base
                    elif team.on_duty(env.now):
                        self.dispatcher.assign(team, team.agenda.pop(0))
            self.dispatcher.pump()

    # A unit with no routine work (no patrol agendas, no inspections: a county department) needs
    # its shift starts only to hand queued jobs to the teams coming on duty.  It runs no clock:
    # a job left queued wakes the unit at the next shift start, and its on-duty time is counted
    # day by day at the end of the run (the same sums in the same order as the clock's).

    def _wake_at_next_shift(self) -> None:
        if self._wake_pending:
            return
        now = self.env.now
        for _, _, t_start, _ in self._shift_starts(int(now // MIN_PER_DAY)):
            if t_start > now:
                self._wake_pending = True
                self.env.timeout(t_start - now).callbacks.append(self._shift_wake)
                return

    def _shift_wake(self, _event) -> None:
        self._wake_pending = False
        self.dispatcher.pump()  # (leaves a job queued: the next wake is set again)

    def end_of_run(self) -> None:
        """The unit's busy minutes (its teams' sums, in team order); for a unit without a shift clock,
        also the on-duty time of every day of the run, in day order.

        A unit of fixed rows (a county department without campaign pulls) has the same days in every
        run of the same rota, teams, holidays, length and window: those sums are made once per process
        (:func:`_fixed_duty_minutes`, the same additions in the same order from zero)."""
        c = self.counters
        for activity in ACTIVITIES:
            c.busy[activity] = sum((team.busy[activity] for team in self.teams), 0.0)
        if self.routine:
            return
        daily = self.daily
        if daily.fixed_rows is not None and c.team_shift_min == 0.0 and c.shift_min == 0.0:
            rows = tuple((wd, tuple(row.tolist())) for wd, (row, _) in sorted(daily.fixed_rows.items()))
            c.team_shift_min, c.shift_min = _fixed_duty_minutes(
                self._order, self._shift_start, self._shift_end, self._shift_days, rows, daily.holidays,
                self.days, self.window)
            daily.teams_on(self.days - 1)  # as the day loop leaves it: every day asked
            return
        for day in range(self.days):
            on = daily.teams_on(day).tolist()
            for s, t_start, t_end in self._day_shifts(day):
                self._count_shift(t_start, t_end, on[s])

    def _start_patrols(self, day: int, s: int, t_end: float, on_duty: int) -> None:
        routes = self.agendas.get(day % 7, {})
        for k, villages in routes.items():
            self.count("patrol_visits_planned", self.env.now, len(villages))
            if k < on_duty and villages:
                self._by_shift[s][k].agenda.append(PatrolRoute(list(villages), t_end))


@functools.lru_cache(maxsize=64)
def _duty_spans(starts: tuple, ends: tuple, days: tuple) -> tuple[tuple, dict]:
    """A rota's spans of the day and which shifts run in each: the sorted bounds (0, every shift start
    and end within the day, 1440) and, by rota weekday, for each span [bounds[i], bounds[i+1]) whether
    each shift runs in it (no shift starts or ends inside a span, so its first minute answers for all
    of it).  Made once per rota and shared by its units (read only)."""
    bounds = tuple(sorted({0, MIN_PER_DAY, *(min(max(b, 0), MIN_PER_DAY) for b in starts + ends)}))
    running = {wd: tuple(tuple(wd in d and start <= lo < end for d, start, end in zip(days, starts, ends))
                         for lo in bounds[:-1]) for wd in range(7)}
    return bounds, running


@functools.lru_cache(maxsize=64)
def _fixed_duty_minutes(order: tuple, starts: tuple, ends: tuple, days: tuple, rows: tuple, holidays: frozenset,
                        n_days: int, window: tuple) -> tuple[float, float]:
    """(on-duty team-minutes, shift minutes) of a fixed-rows unit over a run: its day loop, every day in
    order (rota weekday ``wd`` → the day's teams per shift, ``rows``; ``order`` the shifts by start), from
    zero."""
    on_by_weekday = dict(rows)
    team_min, shift_min = 0.0, 0.0
    for day in range(n_days):
        on = on_by_weekday[rota_weekday(day, holidays)]
        for s, t_start, t_end in _shifts_of_day(day, holidays, order, starts, ends, days):
            d = _window_minutes(t_start, t_end, window)
            team_min += on[s] * d
            shift_min += d
    return team_min, shift_min


def _shifts_of_day(day: int, holidays, order, starts, ends, days) -> list[tuple[int, float, float]]:
    """(shift, start minute, end minute) of each shift that runs on ``day``, in start order (a public
    holiday runs the Sunday rota)."""
    wd = rota_weekday(day, holidays)
    lo = day * MIN_PER_DAY
    return [(s, lo + starts[s], lo + ends[s]) for s in order if wd in days[s]]


def _window_minutes(t_start: float, t_end: float, window: tuple[float, float]) -> float:
    """Minutes of [t_start, t_end) inside the observation window."""
    w0, w1 = window
    return t_end - t_start if (w0 <= t_start and t_end <= w1) else overlap(t_start, t_end, w0, w1)

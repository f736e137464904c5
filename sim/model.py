"""The SimPy model of one replication: from a validated scenario to violation records.

Flow of a violation (facts F2, F6–F9, F12, F15 of docs/domain.md):

1. it **arises** in a village (non-homogeneous Poisson, :mod:`~sim.processes.violations`)
   and is latent;
2. it is **discovered** by the village grid worker, a citizen complaint, a brigade
   patrol or a business inspection, whichever comes first
   (:mod:`~sim.processes.discovery`);
3. the **command centre** triages the report: items the brigade handles go to its
   queue (priority = severity); the rest are **transferred** to the owning county
   department after a transfer delay;
4. a **two-officer team** travels to the village and acts on site; the outcome is
   corrected on the spot, a case filed (follow-up work), or escalated to the county
   department, which closes it.  Teams that find a violation on patrol or inspection
   act on it at once.

Locations are indexed: villages ``0 … V-1``, then town seats ``V … V+T-1``.

The model only assembles the parts and runs them; each part has its own home and
is handed its collaborators explicitly:

* discovery channels — :mod:`~sim.processes.channels` (policy objects, one per channel);
* the command centre (triage, transfer) — :mod:`~sim.processes.command_centre`;
* inspections — :mod:`~sim.processes.inspection`;
* units and teams — :mod:`~sim.processes.brigade`; what follows the first action —
  :mod:`~sim.processes.casework`; campaigns — :mod:`~sim.processes.campaign`;
* record writing and the count of violations created — :mod:`~sim.recorder`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import simpy

from .calendar import days_in, exact_delay
from .config import MIN_PER_DAY, MIN_PER_WEEK, Scenario, ShiftPattern
from .patrol_plan import agendas, first_shift, plan_table, presence_factor
from .processes.brigade import Unit, UnitCounters
from .processes.campaign import campaign_process, campaign_villages
from .processes.casework import Casework
from .processes.channels import PassiveChannel, build_channels
from .processes.command_centre import CommandCentre
from .processes.inspection import BusinessRisk
from .processes.discovery import Violation, Watch
from .processes.mutual_aid import MutualAid, preference_lists
from .processes.on_call import OnCall
from .processes.violations import ArrivalGenerator, OnSiteTime, injected_batch, rate_table
from .recorder import Recorder, RecordList
from .roster import DAYS_PER_MONTH, DailyTeams, Roster
from .streams import BufferedNormals, Streams
from .travel import travel_times

__all__ = ["Model", "ModelOutput", "RecordList", "Trips"]


@dataclass
class ModelOutput:
    """What a finished run hands to the measures: records went to the sink; unit counters here."""

    units: dict[str, UnitCounters]
    unit_kind: dict[str, str]  # unit name → "brigade" or "department"
    unit_towns: dict[str, tuple[str, ...]]
    timeline: "pd.DataFrame"  # month, unit, certified, teams, past_deadline, stock_latent (brigades)
    past_deadline_end: dict[str, float]  # officers uncertified after the deadline, at the end
    latent_end: int
    violations: int  # the model's own count of violations created (records must add up to it)
    extras: dict = field(default_factory=dict)


class Trips:
    """Trip minutes between locations: the mean matrix and a log-normal noise factor with mean one."""

    def __init__(self, mean_min: np.ndarray, noise_cv: float):
        self.rows = mean_min.tolist()  # plain floats: read on every trip
        self.sigma = math.sqrt(math.log1p(noise_cv * noise_cv))

    def trip(self, a: int, b: int, z: float | None, rng) -> float:
        """Travel minutes from a to b; ``z`` a standard normal (else drawn from ``rng``)."""
        mean = self.rows[a][b]
        if mean == 0.0 or self.sigma == 0.0:
            return mean
        if z is None:
            z = rng.standard_normal()
        sig = self.sigma
        return mean * math.exp(sig * z - 0.5 * sig * sig)


class _Arrivals:
    """The Poisson arrivals of :meth:`Model._arrive` as a chain of timeouts with a callback: the same
    events in the same order (an urgent start at minute 0, one timeout per later arrival minute),
    without resuming a generator for each violation."""

    def __init__(self, model: "Model"):
        self.model = model
        self.env = env = model.env
        self.horizon = model.horizon
        self.batches = model._week_batches()
        self.batch = None
        self.j = 0
        start = simpy.events.Event(env)
        start._ok = True
        start._value = None
        start.callbacks.append(self._start)
        env.schedule(start, simpy.events.URGENT)

    def _start(self, _event) -> None:
        m = self.model
        batch = m._stock_batch()
        if batch is not None:
            for j in range(len(batch.time)):
                m._new_violation(batch, j, batch.time[j], stock=True)
        self._next_batch()
        self._step(None)

    def _next_batch(self) -> bool:
        self.batch = next(self.batches, None)
        self.j = 0
        return self.batch is not None

    def _step(self, event) -> None:
        env = self.env
        new = self.model._new_violation
        horizon = self.horizon
        if event is not None:  # the timeout to arrival j: it arises now (as after the generator's yield)
            new(self.batch, self.j, self.batch.time[self.j])
            self.j += 1
        while self.batch is not None:
            times = self.batch.time
            j = self.j
            while j < len(times):
                t = times[j]
                if t >= horizon:
                    j = len(times)
                    break
                if t > env.now:
                    self.j = j
                    env.timeout(t - env.now).callbacks.append(self._step)
                    return
                new(self.batch, j, t)
                j += 1
            self.j = j
            self._next_batch()


# A violation as the whole county's arrival process created it: its id, its batch and row, the
# time it arose, whether it is of the stock, the clock then, and its town.
ARRIVAL_FIELDS = ("id", "batch", "row", "time", "stock", "clock", "town")


class Model:
    """One replication of a scenario.  ``run()`` simulates to the horizon and returns a ModelOutput.

    ``arrivals``: a list of :class:`~sim.processes.violations.InjectedViolation` replacing
    the Poisson arrivals (and the stock of old violations); ``trace``: a list that
    receives ``(time, who, what)`` events (exact tests).

    ``restrict``: simulate only some towns (:mod:`sim.replay`): an object with ``towns``
    (the towns simulated), ``stand_in(model, brigade)`` (what stands for a brigade not
    simulated), ``start(model)`` (starts the replay of the other towns' county work) and
    ``arrivals()``: the simulated towns' violations as a whole-county run of the same
    replication created them (:data:`ARRIVAL_FIELDS` rows, in order, and how many the county
    created), or None.  Without those, every violation is drawn again (the same random
    numbers) and the other towns' are skipped.
    """

    def __init__(self, sc: Scenario, replication: int, sink=None, arrivals=None, trace: list | None = None,
                 restrict=None):
        self.sc = sc
        s = sc.settings
        self.replication = replication
        self.env = env = simpy.Environment()
        self.streams = Streams(s.scenario.seed, replication)
        self.horizon = s.scenario.horizon_min
        self.window = (s.scenario.warmup_min, self.horizon)
        self.injected = arrivals
        self.restrict = restrict
        # if set, arrival_log(batch, row, time, stock) sees each violation the arrival process creates,
        # before it is made (experiments.replay logs a whole-county run's arrivals)
        self.arrival_log = None
        self.only_towns = restrict.towns if restrict is not None else None
        self.class_keys = tuple(s.classes)
        self.items = sc.items
        self.on_site = [OnSiteTime(i.on_site_distribution, i.on_site_mean_min, i.on_site_cv) for i in sc.items]
        self.on_site_z = any(rule.needs_z for rule in self.on_site)  # batches carry normal quantiles then
        self._build_places()
        self.recorder = Recorder(env, sink, self.village_names, sc.items, self.class_keys, trace)
        self.watch = Watch(len(sc.villages))
        self.units: dict[str, Unit] = {}  # filled by _build_units; the parts below hold this dict
        self.command_centre = CommandCentre(env, sc.items, self.units, self.watch, trace, s)
        self.channels = build_channels(sc, env, self.streams, self.watch, self.command_centre, trace)
        self.passive = [c for c in self.channels.values() if isinstance(c, PassiveChannel)]
        self.casework = Casework(env, sc, self.units, self.recorder, self.streams)
        self._build_units()
        self._build_duty()
        self.arrivals = ArrivalGenerator(sc, rate_table(sc), self.streams)
        self._start_campaigns()
        if self.injected is None and restrict is None:
            _Arrivals(self)  # the Poisson arrivals, as event callbacks (no process to resume per violation)
        else:
            env.process(self._arrive())
        if restrict is not None:
            restrict.start(self)

    @property
    def sink(self):
        return self.recorder.sink

    # ------------------------------------------------------------------ build

    def _build_places(self) -> None:
        sc = self.sc
        s = sc.settings
        vs = sc.villages
        ts = sc.towns
        self.village_names = [v.village for v in vs]
        self.village_index = {v.village: i for i, v in enumerate(vs)}
        V = len(vs)
        self.seat = {t.town: V + i for i, t in enumerate(ts)}
        self.village_town = [v.town for v in vs]
        self.travel_mean = travel_times(sc).mean_min  # the one travel rule (sim.travel)
        self.travel = Trips(self.travel_mean, s.travel.noise_cv)
        self.village_businesses = [v.businesses for v in vs]
        self.item_handled = [sc.handled_by_brigade(i) for i in sc.items]
        self.item_business = [i.driver == "businesses" for i in sc.items]
        self.business_risk = BusinessRisk(s.inspection)  # which business a business item arises at
        self.stock_violations: list[Violation] = []  # for the remaining stock by month

    def _build_units(self) -> None:
        sc = self.sc
        s = sc.settings
        days = days_in(self.horizon) + 1
        plan = plan_table(sc)
        self.plan = plan
        by_brigade = agendas(sc, plan, self.village_index)
        self.days = days
        lc = s.lifecycle  # the working calendar's public holidays: the Sunday rota runs (holiday duty)
        self.holidays = frozenset(lc.holidays) if lc is not None else frozenset()
        pulled = self._campaign_pulls(days)
        self.unit_kind: dict[str, str] = {}
        self.unit_towns: dict[str, tuple[str, ...]] = {}
        self.brigade_of_town = sc.brigade_of_town
        inspection = self.channels["inspection"]

        def unit(name, base_town, pattern, daily, **kw) -> Unit:
            return Unit(
                self.env, name, self.seat[base_town], pattern, daily, days,
                travel=self.travel, casework=self.casework, patrol=self.channels["patrol"],
                inspection=inspection, window=self.window, horizon=self.horizon,
                route_rng=BufferedNormals(self.streams.for_unit("route", name)),  # trip noise only
                trace=self.recorder.trace, **kw,
            )

        for b in sc.brigades:
            if self.only_towns is not None and not self.only_towns.intersection(b.towns):
                self.units[b.name] = self.restrict.stand_in(self, b.name)
                self.unit_kind[b.name] = "brigade"
                self.unit_towns[b.name] = b.towns
                continue
            pattern = s.shift_patterns[b.shift_pattern]
            roster = Roster(sc, b.name, self.streams.for_unit("certification", b.name))
            daily = DailyTeams(
                pattern, presence_factor(sc, b.shift_pattern), s.officer_time.field_share,
                self.streams.for_unit("roster", b.name), roster=roster,
                first=pattern.shifts.index(first_shift(sc, b.shift_pattern)),
                pulls=pulled.get(b.name, {}),  # teams away on a campaign (F11)
                holidays=self.holidays,
            )
            served = [v for v in sc.villages if v.town in b.towns]
            businesses = sum(v.businesses for v in served)
            routine = ShiftPattern.model_construct(shifts=[first_shift(sc, b.shift_pattern)])  # no weekend-duty inspections
            u = unit(b.name, b.base_town, pattern, daily, agendas=by_brigade.get(b.name, {}),
                     inspections_per_day=inspection.per_day(businesses, routine))
            u.counters.businesses = businesses
            u.served_villages = np.array([self.village_index[v.village] for v in served], np.int64)
            weights = np.array([v.businesses for v in served], float)
            u.business_cum = np.cumsum(weights) / weights.sum() if weights.sum() > 0 else None
            self.units[b.name] = u
            self.unit_kind[b.name] = "brigade"
            self.unit_towns[b.name] = b.towns
        for d in sc.departments:
            pattern = s.shift_patterns[d.shift_pattern]
            daily = DailyTeams(pattern, 1.0, 1.0, None, teams=sc.department_teams(d), holidays=self.holidays)
            self.units[d.department] = unit(d.department, d.base_town, pattern, daily)
            self.unit_kind[d.department] = "department"
            self.unit_towns[d.department] = ()

    def _build_duty(self) -> None:
        """On-call teams of brigades whose rota has them, and the mutual-aid rule of the command centre."""
        s = self.sc.settings
        brigades = [b.name for b in self.sc.brigades]
        oc = s.on_call
        if oc is not None and oc.enabled:
            for b in self.sc.brigades:
                unit = self.units[b.name]
                if s.shift_patterns[b.shift_pattern].on_call and getattr(unit, "simulated", True):
                    unit.on_call = OnCall(unit, oc.teams, oc.callout_delay_min)
        ma = s.mutual_aid
        if ma is not None and ma.enabled:
            bases = {name: self.units[name].base for name in brigades}
            prefs = preference_lists(bases, self.travel.rows, ma.max_travel_min)
            self.command_centre.mutual_aid = MutualAid(ma, self.units, prefs)

    # ------------------------------------------------------------------ campaigns (F11)

    def _campaign_pulls(self, days: int) -> dict[str, dict[int, int]]:
        """Teams each brigade is asked to send to campaigns, by day."""
        pulls: dict[str, dict[int, int]] = {}
        for c in self.sc.settings.campaigns:
            for town in c.towns:
                b = self.sc.brigade_of_town[town]
                for d in range(int(c.start_day), min(days, int(c.start_day) + int(round(c.days)))):
                    pulls.setdefault(b, {})[d] = pulls.get(b, {}).get(d, 0) + c.teams_per_town
        return pulls

    def _start_campaigns(self) -> None:
        sc = self.sc
        self.campaign_villages: dict[str, list[str]] = {}  # campaign → the villages it sweeps (the run folder keeps it)
        brigade_of_town = {town: self.units[b] for town, b in sc.brigade_of_town.items()}
        for c in sc.settings.campaigns:
            names = campaign_villages(sc, c)
            self.campaign_villages[c.name] = names
            villages = [self.village_index[n] for n in names]
            if not villages or self.only_towns is not None:  # restricted runs: campaigns are replayed work
                continue
            shift_of = {}
            for town in c.towns:
                sh = first_shift(sc, sc.town_by_name[town].shift_pattern if sc.settings.reform.mode == "after"
                                 else sc.settings.reform.county_brigade_shift_pattern)
                shift_of[town] = (sh.start_min, sh.end_min)
            self.env.process(campaign_process(
                self.env, c, villages, shift_of, brigade_of_town=brigade_of_town, travel=self.travel,
                channel=self.channels["campaign"], visit_min=self.channels["patrol"].visit_min,
                casework=self.casework, window=self.window, horizon=self.horizon,
            ))

    # ------------------------------------------------------------------ arrivals

    def _arrive(self):
        """Injected arrivals, or a restricted run's; a whole county's Poisson arrivals are :class:`_Arrivals`."""
        if self.only_towns is not None:
            yield from self._arrive_restricted()
            return
        env = self.env
        batch = injected_batch(self.sc, self.injected).as_lists(self.on_site_z)
        for j in range(len(batch.time)):
            t = batch.time[j]
            if t >= self.horizon:
                break
            if t > env.now:
                yield env.timeout(t - env.now)
            self._new_violation(batch, j, t)

    def _stock_batch(self):
        """The stock of old violations at minute 0 as one batch (None: no stock)."""
        stock = self.sc.settings.stock
        if stock is None or stock.violations <= 0:
            return None
        return self.arrivals.stock(stock.violations, self.class_keys.index(stock.klass),
                                   stock.max_age_days * MIN_PER_DAY, self.streams.stock).as_lists(self.on_site_z)

    def _week_batches(self):
        """The Poisson arrivals a week at a time, each week drawn when the run reaches it."""
        end = math.ceil(self.horizon / 60.0) * 60.0
        t0 = 0.0
        while t0 < self.horizon:
            t1 = min(t0 + MIN_PER_WEEK, end)
            yield self.arrivals.batch(t0, t1).as_lists(self.on_site_z)
            t0 = t1

    def _arrive_restricted(self):
        """As the whole county's arrivals (:class:`_Arrivals`), but the other towns' violations are not simulated:
        the clock of each simulated arrival is the one the whole county's arrival process reached.  Known
        arrivals (``restrict.arrivals()``) are created again from their batches; otherwise every violation is
        drawn and the other towns' skipped (their ids, and the draws of a channel that draws its own)."""
        env = self.env
        if self.injected is not None:
            raise ValueError("a restricted run cannot take injected arrivals")
        known = None if any(ch.draws_in_delay for ch in self.passive) else self.restrict.arrivals()
        if known is not None:
            rows, created = known
            recorder = self.recorder
            for vid, batch, j, t, stock, clock, _town in rows:
                if clock > env.now:
                    yield env.timeout(exact_delay(env.now, clock))
                recorder.created = vid  # its id (recorder.new_id)
                self._new_violation(batch, j, t, stock)
            recorder.created = created
            return
        towns = self.only_towns
        simulated = [t in towns for t in self.village_town]
        batch = self._stock_batch()
        if batch is not None:
            for j in range(len(batch.time)):
                if simulated[batch.village[j]]:
                    self._new_violation(batch, j, batch.time[j], stock=True)
                else:
                    self._skip_violation(batch, j, batch.time[j])
        clock = 0.0  # the whole county's arrival process's clock
        for batch in self._week_batches():
            for j in range(len(batch.time)):
                t = batch.time[j]
                if t >= self.horizon:
                    break
                if t > clock:
                    clock = clock + (t - clock)
                if not simulated[batch.village[j]]:
                    self._skip_violation(batch, j, t)
                    continue
                if clock > env.now:
                    yield env.timeout(exact_delay(env.now, clock))
                self._new_violation(batch, j, t)

    def _skip_violation(self, b, j: int, t: float) -> None:
        """Another town's violation in a restricted run: its id and its channels' own draws, nothing else."""
        self.recorder.new_id()
        age = max(t, 0.0) - t
        for ch in self.passive:
            if ch.draws_in_delay:
                ch.delay_min(b, j, b.klass[j], b.village[j], b.item[j], age)

    def _new_violation(self, b, j: int, t: float, stock: bool = False) -> None:
        """A violation arises at ``t`` (before the start, ``t`` < 0, for the stock of old ones)."""
        if self.arrival_log is not None:
            self.arrival_log(b, j, t, stock)
        vid = self.recorder.new_id()
        village = b.village[j]
        item_i = b.item[j]
        c = b.klass[j]
        item = self.items[item_i]
        v = Violation(vid, t, village, item_i, c)
        v.stock = stock
        v.return_u = b.return_u[j]
        v.town = self.village_town[village]
        v.brigade = self.brigade_of_town[v.town]
        v.handled = self.item_handled[item_i]
        v.severity = item.severity
        nb = self.village_businesses[village]
        v.business = self.business_risk.arising(b.business_u[j], nb) if (self.item_business[item_i] and nb > 0) else -1
        if stock:
            self.stock_violations.append(v)
        now = max(t, 0.0)  # an old violation can only be found from the start on
        age = now - t
        # the passive channels compete: the earliest wins (ties: the first registered)
        delay, first = math.inf, None
        for ch in self.passive:
            d = ch.delay_min(b, j, c, village, item_i, age)
            if d < delay:
                delay, first = d, ch
        s = self.sc.settings
        v.t_passive = now + delay
        v.passive_channel = first.name if first is not None else ""
        v.report_delay = b.report_e[j] * (first.report_delay_min(v.town) if first is not None
                                          else s.complaint.relay_delay_mean_min)
        v.triage_delay = b.triage_e[j] * s.command_centre.triage_mean_min
        v.transfer_delay = b.transfer_e[j] * s.transfer.delay_mean_min
        v.on_site_dur = self.on_site[item_i].minutes(b, j)
        v.outcome_u = b.outcome_u[j]
        v.travel_z = b.travel_z[j]
        v.county_travel_z = b.county_travel_z[j]
        self.recorder.opened(v)
        self.watch.add(v)
        if self.recorder.trace is not None:
            self.recorder.note(self.village_names[village], f"v{vid} arises: {item.code}")
        if first is not None:
            self.command_centre.schedule_passive(v, now, self.horizon)

    # ------------------------------------------------------------------ end of the run

    def _month_end_min(self, month: int) -> float:
        return min((month + 1) * DAYS_PER_MONTH * MIN_PER_DAY, self.horizon)

    def _count_stock(self) -> None:
        """Old violations still unseen now, by brigade: the month's ``stock_latent``."""
        now = self.env.now
        counts = dict.fromkeys(self.unit_kind, 0)
        for v in self.stock_violations:
            if not v.found and v.t_passive > now:
                counts[v.brigade] = counts.get(v.brigade, 0) + 1
        self.stock_latent.append(counts)

    def _stock_clock(self):
        """At the end of each month of the timeline, count the stock still unseen."""
        month = 0
        while self._month_end_min(month) < self.horizon:
            yield self.env.timeout(self._month_end_min(month) - self.env.now)
            self._count_stock()
            month += 1

    def _timeline(self) -> pd.DataFrame:
        frames = []
        for name, unit in self.units.items():
            if self.unit_kind[name] == "brigade" and unit.daily is not None:
                unit.daily.teams_on(self.days - 1)  # every day of the run drawn
                f = unit.daily.monthly(name)
                f["stock_latent"] = [self.stock_latent[min(int(m), len(self.stock_latent) - 1)].get(name, 0)
                                     for m in f["month"]]
                frames.append(f)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=["month", "unit", "certified", "teams", "past_deadline", "stock_latent"])

    def run(self) -> ModelOutput:
        self.stock_latent: list[dict[str, int]] = []  # by month: brigade → old violations unseen at its end
        self.env.process(self._stock_clock())
        self.env.run(until=self.horizon)
        for u in self.units.values():
            if getattr(u, "simulated", True):
                u.end_of_run()
        self._count_stock()  # the last month ends at the horizon
        latent = self.watch.latent_count()
        self.recorder.close_books(self.horizon)
        return ModelOutput(
            units={name: u.counters for name, u in self.units.items()},
            unit_kind=dict(self.unit_kind),
            unit_towns=dict(self.unit_towns),
            timeline=self._timeline(),
            past_deadline_end={name: float(u.daily.roster.past_deadline(self.days - 1))
                               for name, u in self.units.items() if u.daily is not None and u.daily.roster is not None},
            latent_end=latent,
            violations=self.recorder.created,
        )

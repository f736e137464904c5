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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import simpy

from .calendar import days_in
from .config import MIN_PER_DAY, MIN_PER_WEEK, Scenario
from .patrol_plan import agendas, first_shift, plan_table, presence_factor
from .processes.brigade import Response, Unit, UnitCounters
from .processes.campaign import campaign_process, campaign_villages
from .processes.casework import Casework
from .processes.discovery import Violation, Watch, grid_coverage, passive_discovery
from .processes.violations import ArrivalGenerator, on_site_minutes, rate_table
from .roster import DailyTeams, Roster
from .streams import Streams
from .travel import travel_times


class RecordList:
    """The default record sink: keeps every record."""

    def __init__(self):
        self.rows: list[tuple] = []

    def add(self, rows: list[tuple]) -> None:
        self.rows.extend(rows)


@dataclass
class ModelOutput:
    """What a finished run hands to the measures: records went to the sink; unit counters here."""

    units: dict[str, UnitCounters]
    unit_kind: dict[str, str]  # unit name → "brigade" or "department"
    unit_towns: dict[str, tuple[str, ...]]
    timeline: "pd.DataFrame"  # month, unit, certified, teams, past_deadline (brigades)
    past_deadline_end: dict[str, float]  # officers uncertified after the deadline, at the end
    latent_end: int
    violations: int
    extras: dict = field(default_factory=dict)


class Model:
    """One replication of a scenario.  ``run()`` simulates to the horizon and returns a ModelOutput."""

    FLUSH_EVERY = 5_000  # records handed to the sink at a time (running sums: a small peak)

    def __init__(self, sc: Scenario, replication: int, sink=None):
        self.sc = sc
        s = sc.settings
        self.replication = replication
        self.env = simpy.Environment()
        self.streams = Streams(s.scenario.seed, replication)
        self.horizon = s.scenario.horizon_min
        self.window = (s.scenario.warmup_min, self.horizon)
        self.sink = sink if sink is not None else RecordList()
        self._pending: list[tuple] = []
        self.open: dict[int, Violation] = {}
        self._next_id = 0

        self._build_places()
        self._build_items_and_classes()
        self.watch = Watch(len(sc.villages))
        self._build_units()
        self.casework = Casework(self, sc)
        self.begin_action = self.casework.begin_action
        self.end_action = self.casework.end_action
        self.arrivals = ArrivalGenerator(sc, rate_table(sc), self.streams)
        self._start_campaigns()
        self.env.process(self._arrive())

    # ------------------------------------------------------------------ build

    def _build_places(self) -> None:
        sc = self.sc
        s = sc.settings
        vs = sc.villages
        ts = sc.towns
        self.village_names = [v.village for v in vs]
        self.village_index = {v.village: i for i, v in enumerate(vs)}
        self.town_index = {t.town: i for i, t in enumerate(ts)}
        V = len(vs)
        self.seat = {t.town: V + i for i, t in enumerate(ts)}
        self.village_town = [v.town for v in vs]
        self.travel_mean = travel_times(sc).mean_min  # the one travel rule (same location numbers)
        self._travel_rows = self.travel_mean.tolist()  # plain floats: read on every trip
        cv = s.travel.noise_cv
        self._travel_sigma = math.sqrt(math.log1p(cv * cv))
        self.patrol_visit_min = [s.patrol.visit_min(v.population) for v in vs]
        self.inspection = s.inspection
        self.inspection_visit_min = s.inspection.visit_min
        rates = s.inspection.obligations
        self.inspection_departments = [d for d, r in rates.items() if r > 0]
        weights = np.array([rates[d] for d in self.inspection_departments], float)
        self.inspection_cum = np.cumsum(weights) / weights.sum() if weights.size else np.zeros(0)
        self.village_businesses = np.array([v.businesses for v in vs], np.int64)
        # the grid covers each village in proportion to its workers per grid (and, with separate
        # networks, only through the networks that watch an item's category: F10)
        self.categories = sorted({i.category for i in sc.items})
        self.grid_cover = np.zeros((len(vs), len(self.categories)))
        for j, cat in enumerate(self.categories):
            if s.grid.networks == "separate":
                share = sum(n.share for n in s.grid.separate.values() if cat in n.categories)
            else:
                share = 1.0
            for i, v in enumerate(vs):
                self.grid_cover[i, j] = grid_coverage(v.grid_workers * share, v.population, s.grid.residents_per_grid)
        self.grid_cover = self.grid_cover.tolist()  # plain floats: read once per violation

    def _build_items_and_classes(self) -> None:
        sc = self.sc
        s = sc.settings
        self.class_keys = tuple(s.classes)
        self.classes = [s.classes[k] for k in self.class_keys]
        self.items = sc.items
        self.item_handled = [sc.handled_by_brigade(i) for i in sc.items]
        self.item_category = [sorted({i.category for i in sc.items}).index(i.category) for i in sc.items]
        self.item_business = [i.driver == "businesses" for i in sc.items]
        self.class_grid_per_min = [c.grid_notice_per_day / MIN_PER_DAY for c in self.classes]
        self.class_complaint_per_min = [c.complaint_per_day / MIN_PER_DAY for c in self.classes]
        self.class_noticeable_min = [c.noticeable_days * MIN_PER_DAY for c in self.classes]
        self.class_outcome_cut = [(c.corrected_share, c.corrected_share + c.case_share) for c in self.classes]

    def _build_units(self) -> None:
        sc = self.sc
        s = sc.settings
        days = days_in(self.horizon) + 1
        plan = plan_table(sc)
        self.plan = plan
        by_brigade = agendas(sc, plan, self.village_index)
        self.units: dict[str, Unit] = {}
        self.days = days
        pulled = self._campaign_pulls(days)
        self.unit_kind: dict[str, str] = {}
        self.unit_towns: dict[str, tuple[str, ...]] = {}
        self.brigade_of_town = sc.brigade_of_town
        for b in sc.brigades:
            pattern = s.shift_patterns[b.shift_pattern]
            roster = Roster(sc, b.name, self.streams.for_unit("certification", b.name))
            daily = DailyTeams(
                pattern, presence_factor(sc, b.shift_pattern), s.officer_time.field_share,
                self.streams.for_unit("roster", b.name), roster=roster,
                first=pattern.shifts.index(first_shift(sc, b.shift_pattern)),
                pulls=pulled.get(b.name, {}),  # teams away on a campaign (F11)
            )
            served = [v for v in sc.villages if v.town in b.towns]
            businesses = sum(v.businesses for v in served)
            per_year = businesses * s.inspection.visits_per_business()
            per_day = per_year / (len(pattern.working_days) * 365.0 / 7.0) if pattern.working_days else 0.0
            unit = Unit(
                self, b.name, self.seat[b.base_town], pattern, daily, days,
                agendas=by_brigade.get(b.name, {}), inspections_per_day=per_day,
            )
            unit.counters.businesses = businesses
            unit.served_villages = np.array([self.village_index[v.village] for v in served], np.int64)
            weights = np.array([v.businesses for v in served], float)
            unit.business_cum = np.cumsum(weights) / weights.sum() if weights.sum() > 0 else None
            self.units[b.name] = unit
            self.unit_kind[b.name] = "brigade"
            self.unit_towns[b.name] = b.towns
        for d in sc.departments:
            pattern = s.shift_patterns[d.shift_pattern]
            daily = DailyTeams(pattern, 1.0, 1.0, None, teams=sc.department_teams(d))
            self.units[d.department] = Unit(self, d.department, self.seat[d.base_town], pattern, daily, days)
            self.unit_kind[d.department] = "department"
            self.unit_towns[d.department] = ()

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
        for c in sc.settings.campaigns:
            names = campaign_villages(sc, c)
            self.campaign_villages[c.name] = names
            villages = [self.village_index[n] for n in names]
            if not villages:
                continue
            shift_of = {}
            for town in c.towns:
                sh = first_shift(sc, sc.town_by_name[town].shift_pattern if sc.settings.reform.mode == "after"
                                 else sc.settings.reform.county_brigade_shift_pattern)
                shift_of[town] = (sh.start_min, sh.end_min)
            self.env.process(campaign_process(self, c, villages, shift_of))

    # ------------------------------------------------------------------ arrivals and discovery

    def _arrive(self):
        env = self.env
        stock = self.sc.settings.stock
        if stock is not None and stock.violations > 0:
            batch = self.arrivals.stock(stock.violations, self.class_keys.index(stock.klass),
                                        stock.max_age_days * MIN_PER_DAY, self.streams.stock).as_lists()
            for j in range(len(batch.time)):
                self._new_violation(batch, j, batch.time[j], stock=True)
        t0 = 0.0
        while t0 < self.horizon:
            t1 = min(t0 + MIN_PER_WEEK, math.ceil(self.horizon / 60.0) * 60.0)
            batch = self.arrivals.batch(t0, t1).as_lists()
            for j in range(len(batch.time)):
                t = batch.time[j]
                if t >= self.horizon:
                    break
                if t > env.now:
                    yield env.timeout(t - env.now)
                self._new_violation(batch, j, t)
            t0 = t1

    def _new_violation(self, b, j: int, t: float, stock: bool = False) -> None:
        """A violation arises at ``t`` (before the start, ``t`` < 0, for the stock of old ones)."""
        vid = self._next_id
        self._next_id += 1
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
        nb = int(self.village_businesses[village])
        v.business = int(b.business_u[j] * nb) if (self.item_business[item_i] and nb > 0) else -1
        now = max(t, 0.0)  # an old violation can only be found from the start on
        age = now - t
        delay, channel = passive_discovery(
            b.grid_e[j], b.complaint_e[j], b.noticeable_e[j] - age / self.class_noticeable_min[c],
            self.class_grid_per_min[c] * self.grid_cover[village][self.item_category[item_i]],
            self.class_complaint_per_min[c], self.class_noticeable_min[c],
        )
        s = self.sc.settings
        v.t_passive = now + delay
        v.passive_channel = channel
        if channel == "grid":
            mean = s.grid.report_delay_by_town_min.get(v.town, s.grid.report_delay_mean_min)
        else:
            mean = s.complaint.relay_delay_mean_min
        v.report_delay = b.report_e[j] * mean
        v.triage_delay = b.triage_e[j] * s.command_centre.triage_mean_min
        v.transfer_delay = b.transfer_e[j] * s.transfer.delay_mean_min
        v.on_site_dur = on_site_minutes(item.on_site_distribution, item.on_site_mean_min, item.on_site_cv, b.on_site_u[j])
        v.outcome_u = b.outcome_u[j]
        v.travel_z = b.travel_z[j]
        self.open[vid] = v
        self.watch.add(v)
        if channel:
            at = v.t_passive + v.report_delay + v.triage_delay
            if at < self.horizon:
                ev = self.env.timeout(at - now, value=v)
                ev.callbacks.append(self._passive_report)

    def _passive_report(self, event) -> None:
        v = event.value
        if v.found:  # a patrol or inspection got there first
            return
        v.found = True
        v.channel = v.passive_channel
        v.t_disc = v.t_passive
        v.t_report = v.t_passive + v.report_delay
        self.watch.remove(v)
        self._route(v)

    def _route(self, v: Violation) -> None:
        """The command centre's triage decision (F6, F15): the town acts, or transfer to the county."""
        item = self.items[v.item]
        if v.handled:
            self.units[v.brigade].submit(Response(v, "first", item.severity, item.teams_needed))
        else:
            v.t_transfer = self.env.now
            ev = self.env.timeout(v.transfer_delay, value=v)
            ev.callbacks.append(self._transfer_arrives)

    def _transfer_arrives(self, event) -> None:
        v = event.value
        item = self.items[v.item]
        self.units[item.department].submit(Response(v, "transfer", item.severity, item.teams_needed))

    # ------------------------------------------------------------------ called by teams

    def trip(self, a: int, b: int, z: float | None = None, unit: Unit | None = None) -> float:
        """Travel minutes from location a to b; ``z`` a standard normal (else drawn from the unit's route stream)."""
        mean = self._travel_rows[a][b]
        if mean == 0.0 or self._travel_sigma == 0.0:
            return mean
        if z is None:
            z = unit.route_rng.standard_normal()
        sig = self._travel_sigma
        return mean * math.exp(sig * z - 0.5 * sig * sig)

    def dispatched(self, v: Violation, team, stage: str) -> None:
        if stage == "first" or (stage == "transfer" and math.isnan(v.t_dispatch)):
            v.t_dispatch = self.env.now
            v.team = team.id
            v.handler = team.unit.name

    def patrol_look(self, village: int) -> list[Violation]:
        return self.watch.visible_in_village(village, self.env.now)

    def inspect(self, village: int, business: int, department: str | None) -> list[Violation]:
        """Latent violations at the business that this visit checks (all items on a joint visit)."""
        found = self.watch.visible_at_business(village, business, self.env.now)
        if department is None:
            return found
        return [v for v in found if self.items[v.item].department == department]

    def found_on_visit(self, v: Violation, team, channel: str, p: float | None = None) -> bool:
        """Does the visiting team see it (probability ``p``, else the class's for the channel)?
        If so it is discovered; True if the team acts on it now."""
        now = self.env.now
        if v.found or v.t_passive <= now:
            return False  # seen since the visit began (by the grid, a complaint, or this team)
        if p is None:
            c = self.classes[v.klass]
            p = c.patrol_detect_prob if channel == "patrol" else c.inspection_detect_prob
        rng = self.streams.for_unit("inspection" if channel == "inspection" else "patrol", team.unit.name)
        if p <= 0.0 or rng.random() >= p:
            return False
        v.found = True
        v.channel = channel
        v.t_disc = now
        v.t_report = now
        self.watch.remove(v)
        if v.handled and v.brigade == team.unit.name:
            return True
        # not the brigade's item: reported to the command centre, which transfers it
        ev = self.env.timeout(v.triage_delay, value=v)
        ev.callbacks.append(lambda e: self._route(e.value))
        return False

    def pick_business(self, unit: Unit) -> tuple[int, int, str | None]:
        """A business of the unit's towns for an inspection (village ∝ businesses, then uniform),
        and the department whose obligation the visit meets (None for a joint visit)."""
        rng = self.streams.for_unit("inspection", unit.name)
        u_village, u_business, u_dept = rng.random(3)
        department = None
        if not self.inspection.joint and self.inspection_departments:
            j = int(np.searchsorted(self.inspection_cum, u_dept, side="right"))
            department = self.inspection_departments[min(j, len(self.inspection_departments) - 1)]
        if unit.business_cum is None:
            return int(unit.served_villages[0]), -1, department
        i = int(np.searchsorted(unit.business_cum, u_village, side="right"))
        village = int(unit.served_villages[min(i, len(unit.served_villages) - 1)])
        n = int(self.village_businesses[village])
        return village, (int(u_business * n) if n > 0 else -1), department

    # ------------------------------------------------------------------ records

    def finish(self, v: Violation) -> None:
        """The violation's story has ended: write its record."""
        self.open.pop(v.id, None)
        self._pending.append(self._row(v, v.outcome))
        if len(self._pending) >= self.FLUSH_EVERY:
            self.sink.add(self._pending)
            self._pending = []

    def _row(self, v: Violation, outcome: str) -> tuple:
        item = self.items[v.item]
        return (
            v.id, v.town, self.village_names[v.village], item.code, item.category, self.class_keys[v.klass],
            v.severity, v.handled, v.channel, v.handler, v.team,
            v.t, v.t_disc, v.t_report, v.t_transfer, v.t_dispatch, v.t_onsite,
            v.t_filed, v.t_review_req, v.t_review, v.deadline, v.t_closed, outcome,
            v.area, v.cost_h, v.returned, v.stock,
        )

    def _close_books(self) -> None:
        """Record every violation still open at the horizon with an ``open_*`` outcome."""
        end = self.horizon
        for v in sorted(self.open.values(), key=lambda x: x.id):
            if not v.found and v.passive_channel and v.t_passive < end:
                v.channel = v.passive_channel
                v.t_disc = v.t_passive
                if v.t_passive + v.report_delay < end:
                    v.t_report = v.t_passive + v.report_delay
            if not v.channel:
                outcome = "open_undiscovered"
            elif math.isnan(v.t_onsite):
                outcome = "open_waiting"
            else:
                outcome = "open_in_progress"
            self._pending.append(self._row(v, outcome))
        self.open.clear()
        self.sink.add(self._pending)
        self._pending = []

    def _timeline(self) -> pd.DataFrame:
        frames = []
        for name, unit in self.units.items():
            if self.unit_kind[name] == "brigade":
                unit.daily.teams_on(self.days - 1)  # every day of the run drawn
                frames.append(unit.daily.monthly(name))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=["month", "unit", "certified", "teams", "past_deadline"])

    def run(self) -> ModelOutput:
        self.env.run(until=self.horizon)
        latent = self.watch.latent_count()
        n = self._next_id
        self._close_books()
        return ModelOutput(
            units={name: u.counters for name, u in self.units.items()},
            unit_kind=dict(self.unit_kind),
            unit_towns=dict(self.unit_towns),
            timeline=self._timeline(),
            past_deadline_end={name: float(u.daily.roster.past_deadline(self.days - 1))
                               for name, u in self.units.items() if u.daily.roster is not None},
            latent_end=latent,
            violations=n,
        )


"""One town simulated when one town changes: the other towns' county work replayed from a baseline run.

Towns share only the county departments (cases transferred to them and cases the
towns escalate; the departments' teams) and campaigns.  So a replication of a
scenario that differs from a **baseline** scenario only in some brigades' staff can
simulate just those brigades' towns, with the work the other towns sent the
departments replayed as it arrived in the baseline run:

1. :func:`record_baseline` runs the baseline (whole county) once per replication and
   logs every job handed to a department (time, stage, the violation as it was then)
   and every violation as the arrival process created it (batch, row, id, clock).
2. :func:`run_restricted` runs the changed scenario with only the changed towns'
   brigades (:class:`~sim.model.Model` ``restrict=``): the changed towns' violations
   are created again from the logged batches at the logged clock (the same random
   numbers), the other towns' are not simulated, and their department jobs are
   submitted again at the logged times, exactly.
3. The other towns' records, team time and timeline are the baseline's, their
   department cases this run's.  A town whose department cases came out as in the
   baseline in every field the measures read (:data:`sim.measures.MEASURED_FIELDS`)
   also takes the baseline's sums and measures whole; the county's are made anew.

**Why it is exact, and when it is not.**  A department's behaviour depends only on
the jobs it receives (their times, order and content) and its own stream, and no
department hands work to a brigade: a case it sends back for joint action with the
town (``transfer.returned_share``, F15) is sent back on receipt, before its queue
(:mod:`sim.processes.command_centre`), so that town's story never passes through a
department's queue.  The other towns' brigades therefore behave as in the baseline,
their department work is what was replayed, and the restricted run *is* the
whole-county run: every record, unit and measure equal (records kept: to the last
digit; with records off the running sums add the same records in another order, so
they may differ in the last bits).  Should a model change give a department a way to
hand work to a town that is not simulated, the stand-in that town has raises
:class:`Coupled` and the replication **falls back** to the whole county
(:func:`replicate`).  Before running, :func:`restriction_problem` refuses (falls back)
where the coupling is structural: campaigns that involve the changed towns, mutual
aid between neighbouring towns, a brigade serving every town, or other differences
from the baseline than the changed brigades' staff.  Jobs arriving at a department
at the very same minute as one of the changed towns' keep the order of their SimPy
events only up to ties of continuous times (which have probability zero).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import pandas as pd

from enforcement_grid.sim.config import Scenario
from enforcement_grid.sim.measures import MEASURED_FIELDS, SumSink, add_sums, violation_sums
from enforcement_grid.sim.records import Record, record_columns
from enforcement_grid.sim.calendar import exact_delay
from enforcement_grid.sim.model import Model, ModelOutput, RecordList
from enforcement_grid.sim.processes.brigade import Response, UnitCounters
from enforcement_grid.sim.processes.discovery import Violation
from .runner import RunResult, item_targets, measure_replication, run_replication

_UNSET = object()
SLOTS = Violation.__slots__


def _snapshot(v: Violation) -> tuple:
    return tuple(getattr(v, s, _UNSET) for s in SLOTS)


_MEASURED = tuple(Record._fields.index(f) for f in MEASURED_FIELDS)


def _same_measures(a: tuple, b: tuple) -> bool:
    """Records equal in every field the measures read (NaN equal to NaN): which team acted may differ."""
    return a == b or all(x == y or (x != x and y != y) for x, y in ((a[k], b[k]) for k in _MEASURED))


def _restore(snap: tuple) -> Violation:
    v = Violation.__new__(Violation)
    for s, x in zip(SLOTS, snap):
        if x is not _UNSET:
            setattr(v, s, x)
    return v


class Coupled(Exception):
    """Work reached a town that is not simulated: the towns are coupled in this replication."""


# --------------------------------------------------------------------------- when it applies


def restricted_towns(sc: Scenario, brigades: list[str]) -> frozenset[str]:
    """The towns the changed brigades serve (the towns simulated)."""
    by_name = {b.name: b for b in sc.brigades}
    return frozenset(t for name in brigades for t in by_name[name].towns)


def mutual_aid_enabled(sc: Scenario) -> bool:
    """Mutual aid between neighbouring towns couples them directly (no restriction then).

    The hook for that setting: any ``mutual_aid`` section with ``enabled`` true (or present
    without an ``enabled`` flag) counts as on."""
    aid = getattr(sc.settings, "mutual_aid", None)
    return aid is not None and bool(getattr(aid, "enabled", True))


def restriction_problem(sc: Scenario, base: Scenario, brigades: list[str]) -> str | None:
    """Why ``sc`` cannot be run as ``base`` with only ``brigades`` simulated (None: it can)."""
    if not brigades:
        return "no brigade changed"
    names = {b.name for b in sc.brigades}
    if names != {b.name for b in base.brigades} or any(b not in names for b in brigades):
        return "the brigades differ from the baseline's"
    towns = restricted_towns(sc, brigades)
    if towns >= {t.town for t in sc.towns}:
        return "the changed brigades serve every town"
    if mutual_aid_enabled(sc) or mutual_aid_enabled(base):
        return "mutual aid couples neighbouring towns"
    village_town = {v.village: v.town for v in sc.villages}
    for c in list(sc.settings.campaigns) + list(base.settings.campaigns):
        touched = set(c.towns)
        if isinstance(c.villages, list):
            touched |= {village_town.get(v) for v in c.villages}
        if touched & towns:
            return f"campaign {c.name!r} involves a changed town"
    changed = set(brigades)
    keep = [r for r in sc.staffing if r.brigade not in changed]
    if keep != [r for r in base.staffing if r.brigade not in changed]:
        return "other brigades' staff differ from the baseline's"
    if sc.settings.model_copy(update={"staffing": base.settings.staffing}) != base.settings:
        return "settings other than staff differ from the baseline's"  # (staffing.sources follow the table)
    if (sc.villages, sc.towns, sc.items, sc.departments) != (base.villages, base.towns, base.items, base.departments):
        return "places, items or departments differ from the baseline's"
    return None


# --------------------------------------------------------------------------- the baseline


@dataclass
class Baseline:
    """What a whole-county run left for restricted runs of the same replication."""

    replication: int
    records: dict[int, tuple]  # violation id → its record
    jobs: list[tuple]  # (time, department, stage, priority, teams_needed, violation snapshot), in order
    out: ModelOutput
    plan: pd.DataFrame  # the patrol plan the baseline ran
    latent_by_town: dict[str, int] = field(default_factory=dict)
    arrivals: list[tuple] = field(default_factory=list)  # every violation as created (sim.model.ARRIVAL_FIELDS)
    _fixed: dict = field(default_factory=dict, repr=False)

    def town_metrics(self, sc: Scenario) -> dict[str, list[tuple[str, float]]]:
        """Each town's measures in the baseline, as a run with records kept makes them (once per baseline;
        ``sc``: the baseline's scenario or one that differs from it in some brigades' staff only — a
        town's measures do not depend on another brigade's staff)."""
        got = self._fixed.get("town_metrics")
        if got is None:
            sink = RecordList()
            sink.rows = list(self.records.values())
            m = measure_replication(sc, self.replication, sink, self.out, self.plan, {}).metrics
            m = m[m["scope"] != "county"]
            got = self._fixed["town_metrics"] = {
                town: list(zip(g["metric"], g["value"])) for town, g in m.groupby("scope", sort=False)}
        return got

    def unit_timelines(self) -> dict[str, pd.DataFrame]:
        """Each brigade's rows of the baseline's timeline (made once)."""
        got = self._fixed.get("unit_timelines")
        if got is None:
            got = self._fixed["unit_timelines"] = _by_unit(self.out.timeline)
        return got

    def plan_outside(self, towns: frozenset[str]) -> pd.DataFrame:
        """The baseline's patrol plan of the towns not in ``towns`` (made once per set of towns)."""
        key = ("plan_outside", towns)
        got = self._fixed.get(key)
        if got is None:
            got = self._fixed[key] = _plan_outside(self.plan, towns)
        return got

    def department_ids_by_town(self) -> dict[str, list[int]]:
        """The violations of each town that reached a department."""
        got = self._fixed.get("department_ids_by_town")
        if got is None:
            got = {}
            for i in sorted(self.job_ids):
                got.setdefault(self.records[i].town, []).append(i)
            self._fixed["department_ids_by_town"] = got
        return got

    def arrivals_in(self, towns: frozenset[str]) -> tuple[list[tuple], int]:
        """The towns' violations as the baseline created them, and how many it created in all."""
        key = ("arrivals", towns)
        got = self._fixed.get(key)
        if got is None:
            got = self._fixed[key] = [a for a in self.arrivals if a[-1] in towns]
        return got, len(self.arrivals)

    @property
    def job_ids(self) -> frozenset[int]:
        """Violations that reached a department: a restricted run simulates their department work again."""
        got = self._fixed.get("ids")
        if got is None:
            vid = SLOTS.index("id")
            got = self._fixed["ids"] = frozenset(j[5][vid] for j in self.jobs)
        return got

    @property
    def towns(self) -> list[str]:
        """The towns of the county (those the brigades serve)."""
        return list(dict.fromkeys(t for ts in self.out.unit_towns.values() for t in ts))

    def town_sums(self, args: tuple) -> pd.DataFrame:
        """Per (town, class) sums of every record of the baseline (made once)."""
        return self._sums("whole", args, lambda i: True)

    def fixed_sums(self, args: tuple) -> pd.DataFrame:
        """Per (town, class) sums of the records no restricted run can change outside its own towns:
        those of violations that never reached a department (made once, for every restriction)."""
        ids = self.job_ids
        return self._sums("fixed", args, lambda i: i not in ids)

    def _sums(self, name: str, args: tuple, keep) -> pd.DataFrame:
        targets, warmup, horizon = args
        key = (name, tuple(sorted(targets.items())), warmup, horizon)
        got = self._fixed.get(key)
        if got is None:
            rows = [r for i, r in self.records.items() if keep(i)]
            got = self._fixed[key] = violation_sums(record_columns(rows, MEASURED_FIELDS), *args)
        return got


def _by_unit(timeline: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {name: rows for name, rows in timeline.groupby("unit", sort=False)}


def _plan_outside(plan: pd.DataFrame, towns: frozenset[str]) -> pd.DataFrame:
    return plan[~plan["town"].isin(towns)].reset_index(drop=True)


def record_baseline(sc: Scenario, replication: int) -> Baseline:
    """Run the whole county once, logging the departments' incoming work."""
    sink = RecordList()
    model = Model(sc, replication, sink=sink)
    env = model.env
    jobs: list[tuple] = []

    def log_job(unit, job):
        jobs.append((env.now, unit.name, job.stage, job.priority, job.teams_needed, _snapshot(job.violation)))

    for name, unit in model.units.items():
        if model.unit_kind[name] == "department":
            unit.job_log = log_job
    arrivals: list[tuple] = []
    village_town, recorder = model.village_town, model.recorder

    def log_arrival(b, j, t, stock):
        arrivals.append((recorder.created, b, j, t, stock, env.now, village_town[b.village[j]]))

    model.arrival_log = log_arrival
    latent = {}
    out = model.run()
    for v_by_id in model.watch.by_village:
        for v in v_by_id.values():
            latent[v.town] = latent.get(v.town, 0) + 1
    return Baseline(replication, {r.violation: r for r in sink.rows}, jobs, out, model.plan, latent, arrivals)


# --------------------------------------------------------------------------- the restricted run


class _StandIn:
    """Stands for a brigade not simulated.  Nothing should reach it (departments hand no work to
    towns); a job that does means the towns are coupled in this replication."""

    simulated = False  # the model gives it no on-call teams or other live parts

    def __init__(self, name: str):
        self.name = name
        self.counters = UnitCounters()
        self.daily = None

    def submit(self, job) -> None:
        v = getattr(job, "violation", None)
        raise Coupled(f"{self.name}, not simulated, was sent a {job.kind} job {getattr(job, 'stage', '')}"
                      + ("" if v is None else f" for v{v.id}"))


class _Restriction:
    def __init__(self, towns: frozenset[str], baseline: Baseline):
        self.towns = towns
        self.baseline = baseline

    def stand_in(self, model, brigade: str) -> _StandIn:
        return _StandIn(brigade)

    def start(self, model) -> None:
        model.env.process(self._replay(model))

    def arrivals(self) -> tuple[list[tuple], int]:
        return self.baseline.arrivals_in(self.towns)

    def _replay(self, model):
        env = model.env
        towns = self.towns
        town_slot = SLOTS.index("town")
        for t, dept, stage, priority, teams_needed, snap in self.baseline.jobs:
            if snap[town_slot] in towns:
                continue  # the changed towns' own work is simulated
            if t > env.now:
                yield env.timeout(exact_delay(env.now, t))  # on the logged minute exactly
            v = _restore(snap)
            model.recorder.opened(v)
            model.units[dept].submit(Response(v, stage, priority, teams_needed))


def run_restricted(sc: Scenario, brigades: list[str], baseline: Baseline,
                   keep_records: bool | None = None) -> RunResult:
    """Replication ``baseline.replication`` of ``sc`` simulating only ``brigades``' towns.

    ``baseline`` from :func:`record_baseline` of the scenario ``sc`` differs from only in
    those brigades' staff (check first with :func:`restriction_problem`).  Raises
    :class:`Coupled` if a department handed work to a town that is not simulated.
    """
    replication = baseline.replication
    towns = restricted_towns(sc, brigades)
    restriction = _Restriction(towns, baseline)
    sink = RecordList()
    model = Model(sc, replication, sink=sink, restrict=restriction)
    if not _plan_outside(model.plan, towns).equals(baseline.plan_outside(towns)):
        raise Coupled("the other towns' patrol plan differs from the baseline's")
    out = model.run()

    # the records: the changed towns' and the departments' replayed cases from this run, the rest the baseline's
    mine = {r.violation: r for r in sink.rows}
    base = baseline.out
    simulated = {name for name, u in model.units.items() if not isinstance(u, _StandIn)}
    units = {name: (out.units[name] if name in simulated else base.units[name]) for name in base.units}
    own, theirs = _by_unit(out.timeline), baseline.unit_timelines()
    brigade_frames = [rows for rows in ((own if name in simulated else theirs).get(name)
                                        for name, kind in base.unit_kind.items() if kind == "brigade")
                      if rows is not None]
    timeline = pd.concat(brigade_frames, ignore_index=True) if brigade_frames else base.timeline
    past = {name: (out.past_deadline_end[name] if name in simulated else x)
            for name, x in base.past_deadline_end.items()}
    latent = out.latent_end + sum(n for t, n in baseline.latent_by_town.items() if t not in towns)
    merged = ModelOutput(units, dict(base.unit_kind), dict(base.unit_towns), timeline, past, latent,
                         out.violations)
    # a town not simulated whose department cases came out as in the baseline (in every field the measures
    # read) has the baseline's sums, team time and patrol plan: its measures are the baseline's
    records = baseline.records
    by_town = baseline.department_ids_by_town()
    unchanged = {town for town in baseline.towns if town not in towns
                 and all(_same_measures(mine.get(i, records[i]), records[i]) for i in by_town.get(town, ()))}
    known = baseline.town_metrics(sc)
    keep = sc.settings.records.keep if keep_records is None else keep_records
    if keep:
        result_sink = RecordList()
        result_sink.rows = [mine.get(i, r) if r.town not in towns else mine[i]
                            for i, r in sorted(records.items())]
    else:  # sums: the unchanged towns' as the baseline left them, the other towns' records that never reached
        # a department likewise, and the rest (the simulated towns', the others' department cases) from this run
        s = sc.settings.scenario
        result_sink = SumSink(item_targets(sc), s.warmup_min, s.horizon_min)
        level = lambda f: f.index.get_level_values("town")  # noqa: E731
        whole, fixed = baseline.town_sums(result_sink.args), baseline.fixed_sums(result_sink.args)
        moved = [t for t in by_town if t not in towns and t not in unchanged]
        made = [r for i, r in mine.items() if r.town in towns and i in records]
        made += [mine.get(i, records[i]) for t in moved for i in by_town[t]]
        result_sink.sums = add_sums(add_sums(whole[level(whole).isin(unchanged)], fixed[level(fixed).isin(moved)]),
                                    violation_sums(record_columns(made, MEASURED_FIELDS), *result_sink.args))
    return measure_replication(sc, replication, result_sink, merged, model.plan, model.campaign_villages,
                               known_towns={t: known[t] for t in unchanged if t in known})


# --------------------------------------------------------------------------- for the sweep

_CACHE: "OrderedDict[tuple[str, int], Baseline]" = OrderedDict()
CACHE_SIZE = 2  # baselines kept per process (tasks run replication by replication)


def baseline_for(base: Scenario, key: str, replication: int) -> Baseline:
    """The baseline of ``replication`` of ``base`` (``key``: its fingerprint), run once per process."""
    k = (key, replication)
    got = _CACHE.get(k)
    if got is None:
        got = _CACHE[k] = record_baseline(base, replication)
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(k)
    return got


def replicate(sc: Scenario, base: Scenario, base_key: str, brigades: list[str], replication: int,
              keep_records: bool | None = None) -> RunResult:
    """``sc``'s replication with only ``brigades`` simulated, or the whole county should they couple."""
    try:
        return run_restricted(sc, brigades, baseline_for(base, base_key, replication), keep_records)
    except Coupled:
        return run_replication(sc, replication, keep_records)


__all__ = ["Baseline", "Coupled", "record_baseline", "run_restricted", "restriction_problem",
           "restricted_towns", "mutual_aid_enabled", "baseline_for", "replicate"]

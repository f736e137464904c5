"""Run replications: one function per replication, many in parallel processes or on a cluster.

A replication depends only on the scenario and ``(seed, replication)``, never on
which worker ran it or in what order, so serial, parallel and Dask runs give the
same numbers to the last digit.  Where replications run is :mod:`sim.executors`;
grids of scenarios with resumable output are :mod:`sim.sweep`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Callable, Iterable

import pandas as pd

from enforcement_grid.sim.config import Scenario
from enforcement_grid.sim.errors import ScenarioError
from .executors import Executor, Failed, Shared, Task, make_executor
from enforcement_grid.sim.measures import SumSink, plan_visits, run_metrics, summarise, unit_table, unvisited_villages, violation_sums
from enforcement_grid.sim.model import Model, RecordList
from enforcement_grid.sim.records import columns_frame, record_columns, records_frame

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """One replication: its records (if kept), sums, team time and measures."""

    scenario: str
    replication: int
    seed: int
    records: pd.DataFrame | None
    sums: pd.DataFrame
    units: pd.DataFrame
    metrics: pd.DataFrame  # scope, metric, value
    plan: pd.DataFrame  # the patrol plan the run used
    timeline: pd.DataFrame  # month, unit, certified officers, teams on duty per running shift
    campaign_villages: dict[str, list[str]] = field(default_factory=dict)  # campaign → villages the model chose


def item_targets(sc: Scenario) -> dict[str, float]:
    """Target time (minutes) of each item: its own ``target_hours`` if given, else its class's."""
    classes = sc.settings.classes
    return {
        i.code: (i.target_hours * 60.0 if i.target_hours is not None else classes[i.klass].target_min)
        for i in sc.items
    }


def run_replication(sc: Scenario, replication: int, keep_records: bool | None = None) -> RunResult:
    """Simulate one replication of a scenario and measure it."""
    s = sc.settings.scenario
    keep = sc.settings.records.keep if keep_records is None else keep_records
    sink = RecordList() if keep else SumSink(item_targets(sc), s.warmup_min, s.horizon_min)
    model = Model(sc, replication, sink=sink)
    out = model.run()
    return measure_replication(sc, replication, sink, out, model.plan, model.campaign_villages)


def measure_replication(sc: Scenario, replication: int, sink, out, plan: pd.DataFrame,
                        campaign_villages: dict[str, list[str]], known_towns=None) -> RunResult:
    """The measures of one finished replication: ``sink`` a RecordList (records kept) or a SumSink,
    ``out`` the model's :class:`~sim.model.ModelOutput`; ``known_towns`` as :func:`run_metrics`' ``known``."""
    s = sc.settings.scenario
    args = (item_targets(sc), s.warmup_min, s.horizon_min)
    if isinstance(sink, RecordList):
        columns = record_columns(sorted(sink.rows, key=attrgetter("violation")))
        sums = violation_sums(columns, *args)  # from the arrays, not back from the table's columns
        records = columns_frame(columns)
    else:
        records = None
        sums = sink.sums if sink.sums is not None else violation_sums(records_frame([]), *args)
    units = unit_table(out.units, out.unit_kind, out.unit_towns, out.past_deadline_end)
    timeline = out.timeline
    metrics = run_metrics(
        sums, units, [t.town for t in sc.towns], {k: c.weight for k, c in sc.settings.classes.items()},
        s.horizon_min - s.warmup_min, plan_visits(sc, plan), known_towns,
    )
    return RunResult(sc.name, replication, s.seed, records, sums, units, metrics, plan, timeline,
                     dict(campaign_villages))


def _warn_unvisited(sc: Scenario) -> None:
    """F12: every village at least weekly.  A plan that leaves villages out says so, once per run."""
    from enforcement_grid.sim.patrol_plan import plan_table

    missing = unvisited_villages(plan_visits(sc, plan_table(sc)))
    if missing:
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        log.warning("warning: %s: the patrol plan does not visit %d village(s) in a week (F12 asks weekly): %s",
                    sc.name, len(missing), shown)


class ReplicationError(RuntimeError):
    """Some replications raised; the others finished.  ``failures`` says which, with seed and error;
    ``partial`` holds the replications that finished (a :class:`RunSet`, or None if none did)."""

    def __init__(self, failures: list[Failed], partial: "RunSet | None" = None):
        self.failures = failures
        self.partial = partial
        lines = [f"{f.scenario} replication {f.replication} (seed {f.seed}): {f.error}" for f in failures]
        super().__init__(f"{len(failures)} replication(s) failed: " + "; ".join(lines))


@dataclass
class RunSet:
    """Replications of one scenario, and their tidy tables."""

    scenario: Scenario
    results: list[RunResult]

    @property
    def metrics(self) -> pd.DataFrame:
        """scope, metric, rep, value for every replication."""
        frames = [r.metrics.assign(rep=r.replication) for r in self.results]
        return pd.concat(frames, ignore_index=True)[["scope", "metric", "rep", "value"]]

    @property
    def summary(self) -> pd.DataFrame:
        return summarise(self.metrics)

    @property
    def records(self) -> pd.DataFrame | None:
        if any(r.records is None for r in self.results):
            return None
        return pd.concat([r.records.assign(rep=r.replication) for r in self.results], ignore_index=True)

    @property
    def timeline(self) -> pd.DataFrame:
        return pd.concat([r.timeline.assign(rep=r.replication) for r in self.results], ignore_index=True)

    @property
    def units(self) -> pd.DataFrame:
        return pd.concat([r.units.assign(rep=r.replication) for r in self.results], ignore_index=True)


def run(
    sc: Scenario,
    replications: int | Iterable[int] | None = None,
    workers: int | None = 1,
    keep_records: bool | None = None,
    on_result: Callable[[RunResult], None] | None = None,
    scheduler=None,
    executor: Executor | None = None,
) -> RunSet:
    """Run replications (default: the scenario's count) and return them in replication order.

    Where they run: ``executor`` if given; else a Dask cluster if ``scheduler``
    (an address such as ``tcp://10.0.0.5:8786``, or a ``distributed.Client``) is
    given; else ``workers`` local processes (None: all cores; 1: in this process).
    The numbers are the same wherever they run.  ``on_result`` is called with each
    replication as it finishes.  If some replications raise, the others still run
    and :class:`ReplicationError` then lists the failures and holds the others.
    """
    if replications is None:
        replications = sc.settings.scenario.replications
    reps = list(range(replications)) if isinstance(replications, int) else list(replications)
    _warn_unvisited(sc)
    seed = sc.settings.scenario.seed
    shared = Shared(sc)
    tasks = [Task(rep, run_replication, (shared, rep, keep_records), sc.name, seed, rep) for rep in reps]
    if executor is None and scheduler is None and len(reps) == 1:
        workers = 1
    results: dict[int, RunResult] = {}
    failures: list[Failed] = []
    owned = executor is None
    ex = make_executor(workers, scheduler) if owned else executor
    try:
        for outcome in ex.map_unordered(tasks):
            if isinstance(outcome, Failed):
                log.info("%s replication %s failed: %s", sc.name, outcome.replication, outcome.error)
                failures.append(outcome)
                continue
            results[outcome.task.key] = outcome.value
            if on_result:
                on_result(outcome.value)
    finally:
        if owned:
            ex.close()
    if failures:
        failures.sort(key=lambda f: f.replication)
        if all(isinstance(f.exception, ScenarioError) for f in failures):  # the user's input, not a crash
            raise ScenarioError(sorted({p for f in failures for p in f.exception.problems}))
        finished = [results[r] for r in reps if r in results]
        raise ReplicationError(failures, RunSet(sc, finished) if finished else None) from failures[0].exception
    return RunSet(sc, [results[r] for r in reps])

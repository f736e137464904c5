"""Run replications: one function per replication, many in parallel processes.

A replication depends only on the scenario and ``(seed, replication)``, never on
which worker ran it or in what order, so serial and parallel runs give the same
numbers to the last digit.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable

import pandas as pd

from .config import Scenario
from .measures import SumSink, run_metrics, summarise, unit_table, violation_sums
from .model import Model, RecordList
from .records import records_frame

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
    args = (item_targets(sc), s.warmup_min, s.horizon_min)
    sink = RecordList() if keep else SumSink(*args)
    model = Model(sc, replication, sink=sink)
    out = model.run()
    if keep:
        records = records_frame(sink.rows).sort_values("violation", kind="stable", ignore_index=True)
        sums = violation_sums(records, *args)
    else:
        records = None
        sums = sink.sums if sink.sums is not None else violation_sums(records_frame([]), *args)
    units = unit_table(out.units, out.unit_kind, out.unit_towns)
    metrics = run_metrics(
        sums, units, [t.town for t in sc.towns], {k: c.weight for k, c in sc.settings.classes.items()},
        s.horizon_min - s.warmup_min,
    )
    return RunResult(sc.name, replication, s.seed, records, sums, units, metrics, model.plan)


def _one(args) -> RunResult:
    sc, rep, keep = args
    return run_replication(sc, rep, keep)


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
    def units(self) -> pd.DataFrame:
        return pd.concat([r.units.assign(rep=r.replication) for r in self.results], ignore_index=True)


def run(
    sc: Scenario,
    replications: int | Iterable[int] | None = None,
    workers: int | None = 1,
    keep_records: bool | None = None,
    on_result: Callable[[RunResult], None] | None = None,
) -> RunSet:
    """Run replications (default: the scenario's count) on ``workers`` processes (None: all cores)."""
    if replications is None:
        replications = sc.settings.scenario.replications
    reps = list(range(replications)) if isinstance(replications, int) else list(replications)
    n_workers = os.cpu_count() or 1 if workers is None else max(1, int(workers))
    results: dict[int, RunResult] = {}
    if n_workers == 1 or len(reps) == 1:
        for rep in reps:
            results[rep] = run_replication(sc, rep, keep_records)
            if on_result:
                on_result(results[rep])
    else:
        with ProcessPoolExecutor(max_workers=min(n_workers, len(reps))) as pool:
            for res in pool.map(_one, [(sc, rep, keep_records) for rep in reps]):
                results[res.replication] = res
                if on_result:
                    on_result(res)
    return RunSet(sc, [results[r] for r in reps])

"""Write a run folder whole or not at all.

A run folder holds:

* ``summary.csv`` — ``scope, metric, mean, ci_low, ci_high`` (scope is ``county``
  or a town name as in the scenario);
* ``replications.csv`` — every measure of every replication (``scope, metric, rep, value``);
* ``records.csv.gz`` — one row per violation and replication (if records were kept);
* ``coverage_by_weekday_hour.csv`` — coverage by replication, town, class, weekday and hour of
  arising (if records were kept; :func:`sim.measures.coverage_by_weekday_hour`);
* ``units.csv`` — team time and visit counts per unit and replication;
* ``timeline.csv`` — certified officers and teams on duty per brigade, month and replication;
* ``patrol_plan.csv`` — the weekly patrol plan the run used;
* ``campaign_villages.csv`` — ``campaign, village``: the villages each campaign swept, as the model chose them;
* ``patrol_visits.csv`` — per village, weekly visits the rule requires and the plan gives;
* ``scenario.json`` — the resolved settings, and ``tables/`` — copies of the tables read.

* ``errors.csv`` — only if some replications failed: which (seed, replication) and why;
  the run folder then holds the others and ``scenario.json`` says ``"complete": false``.

The folder is written through :class:`~sim.staging.staged_folder`: filled in a
hidden temporary folder beside the target, marked as egrid's, then renamed into
place, so an interrupted write leaves no half-written run folder.  An existing
folder is replaced only with ``force``, and only if egrid wrote it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from enforcement_grid.sim.config import Scenario
from enforcement_grid.sim.measures import coverage_by_weekday_hour, plan_visits
from .runner import item_targets
from enforcement_grid.sim.staging import TargetState, staged_folder, write_file_atomic
from enforcement_grid.sim.staging import check_target as _check_target

SUMMARY_COLUMNS = ["scope", "metric", "mean", "ci_low", "ci_high"]


def write_frame_atomic(df, path: Path, **kwargs) -> None:
    """Write a DataFrame to CSV through a temporary file in the same folder, then rename."""
    write_file_atomic(path, lambda tmp: df.to_csv(tmp, index=False, **kwargs))


def run_inputs(sc: Scenario) -> list[str]:
    """The files a run reads (a run folder must never replace the folder holding them)."""
    return [str(f) for f in sc.files.values()]


def check_target(out: Path, force: bool, inputs=(), what: str = "run folder") -> TargetState:
    """Refuse a target that cannot or must not be written (see :func:`sim.staging.check_target`): before any work."""
    return _check_target(out, force, inputs=inputs, what=what)


def write_run(out: Path, sc: Scenario, runset, force: bool = False, *, state: TargetState | None = None,
              failures=(), writer: str = "egrid run") -> Path:
    """Write the run folder for a :class:`~sim.runner.RunSet` (see module docstring).

    ``failures``: replications that raised (:class:`~sim.executors.Failed`); the
    folder then holds the others and is marked incomplete.
    """
    out = Path(out)
    with staged_folder(out, writer=writer, force=force, inputs=run_inputs(sc), what="run folder",
                       state=state) as tmp:
        summary = runset.summary
        summary[SUMMARY_COLUMNS].to_csv(tmp / "summary.csv", index=False)
        runset.metrics.to_csv(tmp / "replications.csv", index=False)
        runset.units.to_csv(tmp / "units.csv", index=False)
        runset.timeline.to_csv(tmp / "timeline.csv", index=False)
        runset.results[0].plan.to_csv(tmp / "patrol_plan.csv", index=False)
        chosen = runset.results[0].campaign_villages
        pd.DataFrame([(c, v) for c, names in chosen.items() for v in names],
                     columns=["campaign", "village"]).to_csv(tmp / "campaign_villages.csv", index=False)
        plan_visits(sc, runset.results[0].plan).to_csv(tmp / "patrol_visits.csv", index=False)
        records = runset.records
        if records is not None:
            records.to_csv(tmp / "records.csv.gz", index=False, compression="gzip")
            st = sc.settings.scenario
            coverage_by_weekday_hour(records, item_targets(sc), st.warmup_min, st.horizon_min).to_csv(
                tmp / "coverage_by_weekday_hour.csv", index=False)
        failed = sorted(failures, key=lambda f: f.replication)
        meta = {
            "scenario": sc.name,
            "seed": sc.settings.scenario.seed,
            "replications": [r.replication for r in runset.results],
            "complete": not failed,
            "failed_replications": [f.replication for f in failed],
            "files": sc.files,
            "settings": sc.settings.model_dump(mode="json"),
        }
        if failed:
            pd.DataFrame(
                [(f.scenario, f.seed, f.replication, f.error, f.where) for f in failed],
                columns=["scenario", "seed", "replication", "error", "where"],
            ).to_csv(tmp / "errors.csv", index=False)
        (tmp / "scenario.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        (tmp / "tables").mkdir()
        for key, file in sc.files.items():
            if key not in ("settings", "staffing", "patrol_plan"):
                shutil.copyfile(file, tmp / "tables" / f"{key}.csv")
        # staffing and the patrol plan as the run used them (a plan may replace them in memory)
        pd.DataFrame([r.model_dump() for r in sc.staffing]).to_csv(tmp / "tables" / "staffing.csv", index=False)
        shutil.copyfile(sc.files["settings"], tmp / "tables" / "scenario.toml")
    return out

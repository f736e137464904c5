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

Everything is written into a hidden temporary folder next to the target and then
renamed into place, so an interrupted write leaves no half-written run folder.
An existing folder is replaced only when ``force`` is given.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from .config import Scenario
from .errors import ScenarioError
from .measures import coverage_by_weekday_hour, plan_visits
from .runner import item_targets

SUMMARY_COLUMNS = ["scope", "metric", "mean", "ci_low", "ci_high"]


def write_frame_atomic(df, path: Path, **kwargs) -> None:
    """Write a DataFrame to CSV through a temporary file in the same folder, then rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        df.to_csv(tmp, index=False, **kwargs)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_target(out: Path, force: bool) -> None:
    """Refuse an existing run folder unless ``force``: before any work is done."""
    if out.exists() and not force:
        raise ScenarioError(
            f"{out}: the run folder already exists; choose another --out or add --force to replace it"
        )


def write_run(out: Path, sc: Scenario, runset, force: bool = False) -> Path:
    """Write the run folder for a :class:`~sim.runner.RunSet` (see module docstring)."""
    out = Path(out)
    check_target(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
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
        meta = {
            "scenario": sc.name,
            "seed": sc.settings.scenario.seed,
            "replications": [r.replication for r in runset.results],
            "files": sc.files,
            "settings": sc.settings.model_dump(mode="json"),
        }
        (tmp / "scenario.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        (tmp / "tables").mkdir()
        for key, file in sc.files.items():
            if key not in ("settings", "staffing", "patrol_plan"):
                shutil.copyfile(file, tmp / "tables" / f"{key}.csv")
        # staffing and the patrol plan as the run used them (a plan may replace them in memory)
        pd.DataFrame([r.model_dump() for r in sc.staffing]).to_csv(tmp / "tables" / "staffing.csv", index=False)
        shutil.copyfile(sc.files["settings"], tmp / "tables" / "scenario.toml")
        swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def swap_into_place(tmp: Path, out: Path) -> None:
    """Rename a finished temporary folder to ``out``, replacing an old one only once the new one is whole."""
    if out.exists():
        trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
        os.replace(out, trash / out.name)
        os.replace(tmp, out)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, out)

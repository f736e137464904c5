"""``egrid plan``: make the plan, compare it honestly, and write one plan folder whole or not at all.

The folder (see docs in cli/plan_cmd.py):

* ``scenario.toml`` + ``tables/`` + ``patrol.csv`` — the plan as a self-contained
  scenario: ``egrid run DIR/scenario.toml`` with the same seed, days and
  replications gives ``runs/plan/summary.csv`` exactly;
* ``allocation.csv`` (town, source, posts, certified), ``patrol.csv`` (the one
  timetable simulated), ``visits.csv`` (visits a week per village, today's rule
  and the plan's), ``rotas.csv`` (today's and the planned shift pattern per
  brigade, with the approximate coverage of each pattern at the planned staff);
* ``levers.csv`` (lever, metric, effect, ci_low, ci_high: Shapley shares of the
  plan's gain over today, county, paired 95 % CI) and ``levers-all.csv`` (every
  method, town and measure), ``levels.csv`` (every combination's summary);
* ``enough.csv`` (the plan at 80–110 % of today's posts and the fewest posts
  within one point), ``budget.csv`` (officer-hours, today and the plan);
* ``plans.csv`` (every plan compared: key, role, run folder, posts, visits) and
  ``runs/<key>/`` (their run folders); ``timings.csv`` (seconds per step).

The report (``report/``) and ``comparison.csv`` are added by the caller through
``finish(folder)`` before the folder is put in place (the report is a later stage).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from enforcement_grid.optimize.export import proportional_allocation, staffing_rows
from enforcement_grid.sim import Scenario
from enforcement_grid.experiments import RunSet, run
from enforcement_grid.sim.budget import budget_table
from enforcement_grid.experiments.executors import make_executor
from enforcement_grid.sim.load import load_scenario
from enforcement_grid.experiments.output import check_target, run_inputs, write_run
from enforcement_grid.sim.staging import staged_folder
from enforcement_grid.sim.staffing import with_staffing

from .enough import posts_enough
from .experiment import credit, lever_table
from .optimise import optimise
from .scenario_file import write_scenario

ROLES = ("before", "today", "proportional", "plan")


@dataclass
class PlanOptions:
    objective: str = "coverage"
    target: float | None = None
    replications: int | None = None  # default: the scenario's
    workers: int | None = None
    scheduler: str | None = None
    before: Scenario | None = None  # the scenario before the reform (same seed, days, replications)
    enough: bool = True  # simulate the plan at 80–110 % of today's posts
    progress: Callable[[str], None] | None = None


@dataclass
class PlanOutcome:
    folder: Path
    runs: dict[str, RunSet]
    plans: pd.DataFrame
    levers: pd.DataFrame
    enough: pd.DataFrame | None
    timings: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def today_scenario(sc: Scenario) -> Scenario:
    """Today's staffing and rotas with the default patrol rule (no timetable table)."""
    files = {k: v for k, v in sc.files.items() if k != "patrol_plan"}
    return dataclasses.replace(sc, patrol_plan=(), files=files)


def proportional_scenario(sc: Scenario) -> tuple[Scenario, pd.DataFrame]:
    """Posts shared by population (:func:`optimize.export.proportional_allocation`), today's rotas, the default rule."""
    table = proportional_allocation(sc)
    out = with_staffing(today_scenario(sc), staffing_rows(table, "population-proportional (egrid plan)"),
                        patrol_plan=())
    out = dataclasses.replace(out, settings=out.settings.model_copy(update={
        "scenario": out.settings.scenario.model_copy(update={"name": f"{sc.name}-proportional"})}))
    return out, table


def _named(sc: Scenario, name: str) -> Scenario:
    return dataclasses.replace(sc, settings=sc.settings.model_copy(update={
        "scenario": sc.settings.scenario.model_copy(update={"name": name})}))


def make_plan(sc: Scenario, out: str | Path, options: PlanOptions | None = None, force: bool = False,
              finish: Callable[[Path, "PlanOutcome"], None] | None = None) -> PlanOutcome:
    """Make the plan and write its folder (see module docstring); ``finish(tmp, outcome)`` adds the report."""
    o = options or PlanOptions()
    say = o.progress or (lambda msg: None)
    out = Path(out)
    state = check_target(out, force, inputs=run_inputs(sc), what="plan folder")  # before any work
    n = o.replications or sc.settings.scenario.replications
    timings: dict[str, float] = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    with staged_folder(out, writer="egrid plan", force=force, what="plan folder", state=state) as tmp:
        t0 = time.perf_counter()
        today = today_scenario(sc)
        say("optimising posts, rotas and patrols …")
        opt = optimise(today, o.objective, o.target)
        timings.update({f"optimise.{k}": v for k, v in opt.timings.items()})
        timings["optimise"] = time.perf_counter() - t0
        path = write_scenario(
            tmp, opt.scenario, f"{sc.name}-plan",
            title_zh=f"{sc.settings.scenario.title_zh or sc.name}（优化方案）",
            title_en=f"{sc.settings.scenario.title_en or sc.name} (plan)",
            description=f"egrid plan --objective {o.objective}: posts, rotas and patrols of {sc.name}",
            header=f"# The plan made by egrid plan from {sc.files['settings']} (objective {o.objective}).\n"
                   "# Every setting is resolved here; the sources of the assumptions are the comments of "
                   "tables/source-scenario.toml.",
        )
        plan = load_scenario(path)
        opt.allocation.to_csv(tmp / "allocation.csv", index=False)
        opt.visits.to_csv(tmp / "visits.csv", index=False)
        opt.rotas.to_csv(tmp / "rotas.csv", index=False)

        t1 = time.perf_counter()
        say(f"simulating the levers' combinations ({n} replication(s) each) …")
        dec, unchanged = credit(today, plan, n, o.workers, o.scheduler,
                                on_run=lambda mask, s: say(f"  run {s.name}"))
        timings["levers"] = time.perf_counter() - t1
        runs: dict[str, RunSet] = {"today": dec.base, "plan": dec.target}
        keys = {"today": 0, "plan": dec.full}
        for mask, rs in dec.runs.items():
            if mask not in (0, dec.full):
                runs[dec.combination(mask)] = rs
                keys[dec.combination(mask)] = mask

        t2 = time.perf_counter()
        prop, prop_table = proportional_scenario(sc)
        extra = [("proportional", prop)]
        if o.before is not None:
            extra.insert(0, ("before", o.before))
        executor = make_executor(o.workers, o.scheduler)
        enough = None
        try:
            for key, s in extra:
                say(f"  run {s.name}")
                runs[key] = run(s, n, keep_records=False, executor=executor)
            timings["baselines"] = time.perf_counter() - t2
            if o.enough:
                t3 = time.perf_counter()
                say("are the posts enough? the plan at 80–110 % of today's posts …")
                en = posts_enough(today, opt.curves, n, o.objective, executor=executor,
                                  on_run=lambda key, s: say(f"  run {key}"))
                runs.update(en.runs)
                enough = en.table
                timings["enough"] = time.perf_counter() - t3
        finally:
            executor.close()

        t4 = time.perf_counter()
        scenarios = {"today": today, "plan": plan, "proportional": prop, **({"before": o.before} if o.before else {})}
        for key in runs:
            if key not in scenarios:
                scenarios[key] = runs[key].scenario
        rows = []
        for key, rs in runs.items():
            s = scenarios[key]
            role = key if key in ROLES else ("lever" if key in keys else "posts")
            write_run(tmp / "runs" / key, s, rs)
            rows.append((key, role, s.name, f"runs/{key}", sum(r.officers for r in s.staffing),
                         len(rs.results[0].plan), "+".join(sorted(key.split("+"))) if role == "lever" else ""))
        plans = pd.DataFrame(rows, columns=["key", "role", "scenario", "folder", "posts", "visits_per_week",
                                            "levers"])
        plans.to_csv(tmp / "plans.csv", index=False)
        metrics = ["coverage_weighted", "coverage", *[f"coverage_{k}" for k in sc.settings.classes]]
        levers = lever_table(dec, unchanged, metrics)
        levers.to_csv(tmp / "levers.csv", index=False)
        dec.table.to_csv(tmp / "levers-all.csv", index=False)
        dec.levels().to_csv(tmp / "levels.csv", index=False)
        if enough is not None:
            enough.to_csv(tmp / "enough.csv", index=False)
        prop_table.to_csv(tmp / "proportional-allocation.csv", index=False)
        budget = pd.concat([budget_table(today).assign(plan="today"), budget_table(plan).assign(plan="plan")],
                           ignore_index=True)
        budget.to_csv(tmp / "budget.csv", index=False)
        timings["write"] = time.perf_counter() - t4
        outcome = PlanOutcome(out, runs, plans, levers, enough, timings, list(opt.problems))
        if finish is not None:
            t5 = time.perf_counter()
            finish(tmp, outcome)
            timings["report"] = time.perf_counter() - t5
        pd.DataFrame(sorted(timings.items()), columns=["step", "seconds"]).to_csv(tmp / "timings.csv", index=False)
        _retarget(tmp, out)
    return outcome


def _retarget(tmp: Path, out: Path) -> None:
    """Run folders record their tables' paths; point the plan's at the folder's final place."""
    for meta in (tmp / "runs").glob("*/scenario.json"):
        text = meta.read_text(encoding="utf-8")
        meta.write_text(text.replace(str(tmp), str(out)), encoding="utf-8")


__all__ = ["make_plan", "PlanOptions", "PlanOutcome", "today_scenario", "proportional_scenario"]

"""A study: variants × parameter draws × replications, run on any executor, resumable.

**Variants** are the scenarios compared: the scenario itself (``current``), its
before-the-reform counterpart (``before``) and each plan folder (``--plan``).  Each
variant reads its own ``[uncertainty]`` table (inherited through ``extends``): a
range that is the same in two variants is one input (the same draw moves both,
e.g. an item's on-site time); a range that a variant restates differently, or that
the current scenario does not have, is an input of its own, named ``<variant>:<key>``
(the before mode's report delay is not the after mode's).

**Draws**: draw 0 is the scenario as written (the nominal values; its
replications give the simulation-noise-only interval), draws 1 … N are the
design's rows (:mod:`uncertainty.design`).  Every draw and every variant runs
replications 0 … n−1 with the scenario's seed: common random numbers, so
differences between draws and between plans are theirs, not noise.

**Folder** (``--out``)::

    DIR/study.json              the definition (design, ranges, fingerprints of the variants)
    DIR/design.csv              draw, one column per input: the value it took
    DIR/draws/draw-<k>.csv      variant, rep, metric, value — written whole once every
                                replication of the draw has finished: a rerun resumes
    DIR/errors.csv              replications that raised

A folder holding a different study is refused unless ``force``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from enforcement_grid.sim.config import Scenario
from enforcement_grid.sim.errors import ScenarioError
from enforcement_grid.experiments.executors import Done, Executor, Failed, Shared, Task
from enforcement_grid.sim.load import load_scenario
from enforcement_grid.experiments.output import write_frame_atomic
from enforcement_grid.sim.staging import staged_folder
from enforcement_grid.experiments.runner import run_replication
from enforcement_grid.experiments.sweep import fingerprint

from . import design as design_mod
from .history import Observed, figures, read_observed
from .ranges import Range, apply, read_ranges

log = logging.getLogger(__name__)

# County measures kept per replication (the headlines and what the report shows beside them).
KEPT = ("coverage", "coverage_weighted", "response_time_min", "utilisation", "on_time_closure_rate")
DRAW = re.compile(r"^draw-(\d+)\.csv$")


@dataclass(frozen=True, eq=False)
class Variant:
    label: str
    role: str  # current | before | plan
    scenario: Scenario
    ranges: tuple[Range, ...]


@dataclass(frozen=True)
class Input:
    """One uncertain input of the study: its name and the range it has in each variant it applies to."""

    name: str
    ranges: dict  # variant label → Range

    @property
    def first(self) -> Range:
        return next(iter(self.ranges.values()))


@dataclass(frozen=True, eq=False)
class Study:
    variants: tuple[Variant, ...]
    inputs: tuple[Input, ...]
    observed: tuple[Observed, ...]
    method: str
    samples: int
    replications: int
    nominal_replications: int
    seed: int
    design: np.ndarray  # draws 1 … N (row i is draw i + 1), quantiles

    @property
    def names(self) -> list[str]:
        return [i.name for i in self.inputs]

    @property
    def draws(self) -> int:
        """Draws including the nominal draw 0."""
        return len(self.design) + 1

    def reps(self, draw: int) -> int:
        return self.nominal_replications if draw == 0 else self.replications

    def variant(self, label: str) -> Variant:
        return next(v for v in self.variants if v.label == label)

    def values(self, draw: int) -> dict[str, dict[str, float]]:
        """Variant label → {range key: value} of a draw (empty for the nominal draw)."""
        out: dict[str, dict[str, float]] = {v.label: {} for v in self.variants}
        if draw == 0:
            return out
        u = self.design[draw - 1]
        for j, inp in enumerate(self.inputs):
            for label, r in inp.ranges.items():
                out[label][r.key] = r.at(u[j])
        return out

    def scenario(self, draw: int, label: str) -> Scenario:
        v = self.variant(label)
        vals = self.values(draw)[label]
        if not vals:
            return v.scenario
        try:
            return apply(v.scenario, vals, list(v.ranges))
        except ScenarioError as err:
            shown = ", ".join(f"{k}={x:g}" for k, x in vals.items())
            raise ScenarioError([f"draw {draw} ({label}; {shown}): {p}" for p in err.problems]) from None

    def design_table(self) -> pd.DataFrame:
        rows = []
        for d in range(self.draws):
            vals = self.values(d)
            row = {"draw": d}
            for inp in self.inputs:
                label, r = next(iter(inp.ranges.items()))
                row[inp.name] = vals[label].get(r.key, r.value)
            rows.append(row)
        return pd.DataFrame(rows, columns=["draw", *self.names])

    def definition(self) -> dict:
        return {
            "method": self.method, "samples": self.samples, "replications": self.replications,
            "nominal_replications": self.nominal_replications, "seed": self.seed,
            "inputs": {i.name: {k: r.definition() for k, r in i.ranges.items()} for i in self.inputs},
            "observed": [o.__dict__ for o in self.observed],
            "variants": {v.label: [v.role, fingerprint(v.scenario)] for v in self.variants},
            "design": hashlib.sha256(np.ascontiguousarray(self.design).tobytes()).hexdigest()[:16],
        }


def _load(path: str | Path, days: float | None) -> Scenario:
    overrides = [f"scenario.horizon_days={days}"] if days is not None else []
    sc = load_scenario(path, overrides)
    if days is not None and sc.settings.scenario.warmup_days >= days:
        raise ScenarioError(f"--days {days:g}: the run must be longer than the warm-up (scenario.warmup_days = "
                            f"{sc.settings.scenario.warmup_days:g} in {path})")
    return sc


def before_counterpart(path: str | Path) -> Path | None:
    """``<name>-before.toml`` beside the scenario, if there is one."""
    p = Path(path)
    cand = p.with_name(f"{p.stem}-before{p.suffix}")
    return cand if cand.exists() and cand.resolve() != p.resolve() else None


def build_study(scenario: str | Path, plans: list[str | Path] = (), before: str | Path | None = None,
                method: str = "morris", samples: int = 10, replications: int = 2, days: float | None = None,
                nominal_replications: int | None = None) -> Study:
    """Load and check every variant and its ranges, join the inputs, and draw the design."""
    if method not in design_mod.METHODS:
        raise ScenarioError(f"--method {method!r}: expected one of {', '.join(design_mod.METHODS)}")
    problems: list[str] = []
    variants: list[Variant] = []
    specs = [("current", "current", scenario)]
    if before is not None:
        specs.append(("before", "before", before))
    seen = {"current", "before"}
    for p in plans:
        folder = Path(p)
        file = folder / "scenario.toml" if folder.is_dir() else folder
        label = folder.name if folder.is_dir() else folder.stem
        if label in seen:
            problems.append(f"--plan {p}: a second variant named {label!r}; give plan folders distinct names")
            continue
        seen.add(label)
        if not file.exists():
            problems.append(f"--plan {p}: expected a plan folder written by egrid optimize (with scenario.toml)")
            continue
        specs.append((label, "plan", file))
    for label, role, file in specs:
        try:
            sc = _load(file, days)
            variants.append(Variant(label, role, sc, tuple(read_ranges(sc))))
        except ScenarioError as err:
            problems.extend(err.problems)
    if problems:
        raise ScenarioError(problems)
    base = variants[0]
    seeds = {v.label: v.scenario.settings.scenario.seed for v in variants}
    if len(set(seeds.values())) > 1:
        raise ScenarioError(f"the variants have different seeds ({seeds}); common random numbers need one seed")
    if not base.ranges:
        raise ScenarioError(f"{base.scenario.files['settings']}: uncertainty: no ranges; add an [uncertainty] "
                            f"table (see docs/uncertainty.md)")
    # Join the ranges into inputs: the same range in two variants is one input.
    # A range of another variant that the current scenario lacks, or states differently, is the
    # variant's own input, named "<variant>:<key>".
    inputs: dict[str, dict[str, Range]] = {r.key: {base.label: r} for r in base.ranges}
    for v in variants[1:]:
        for r in v.ranges:
            shared = inputs.get(r.key)
            if shared is not None and shared[base.label].definition() == r.definition():
                shared[v.label] = r
            else:
                inputs[f"{v.label}:{r.key}"] = {v.label: r}
    ins = tuple(Input(k, d) for k, d in inputs.items())
    seed = base.scenario.settings.scenario.seed
    names = [i.name for i in ins]
    X = design_mod.sample(method, names, samples, seed)
    nominal = nominal_replications or max(replications, base.scenario.settings.scenario.replications)
    observed = tuple(read_observed(base.scenario))
    return Study(tuple(variants), ins, observed, method, samples, replications, nominal, seed, X)


# --------------------------------------------------------------------------- one replication


def simulate(sc: Scenario, replication: int) -> pd.DataFrame:
    """One replication, reduced to the county measures and observable figures a study keeps: metric, value."""
    r = run_replication(sc, replication, keep_records=False)
    s = sc.settings.scenario
    county = r.metrics[r.metrics["scope"] == "county"].set_index("metric")["value"]
    keep = [*KEPT, *(f"coverage_{k}" for k in sc.settings.classes)]
    rows = [(m, float(county.get(m, float("nan")))) for m in keep]
    building = sc.settings.building_growth.classes if sc.settings.building_growth else []  # the growing class(es)
    rows += [(f"observed:{k}", v) for k, v in
             figures(r.sums, r.metrics, s.horizon_min - s.warmup_min, list(building)).items()]
    return pd.DataFrame(rows, columns=["metric", "value"])


# --------------------------------------------------------------------------- folder


class StudyFolder:
    def __init__(self, out: str | Path):
        self.out = Path(out)

    def draw_file(self, draw: int) -> Path:
        return self.out / "draws" / f"draw-{draw:05d}.csv"

    def check(self, study: Study, force: bool) -> str:
        out = self.out
        if not out.exists():
            return "new"
        if not out.is_dir():
            raise ScenarioError(f"{out}: exists and is not a folder; choose another --out")
        meta = out / "study.json"
        if not meta.exists():
            if force or not any(out.iterdir()):
                return "replace"
            raise ScenarioError(f"{out}: exists and is not an uncertainty study folder; choose another --out "
                                f"or add --force to replace it")
        try:
            held = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            held = {}
        want = json.loads(json.dumps(study.definition()))
        if held == want:
            return "resume"
        if force:
            return "replace"
        diff = sorted(k for k in set(want) | set(held) if held.get(k) != want.get(k))
        raise ScenarioError(f"{out}: holds a different study (it differs in: {', '.join(diff)}); choose another "
                            f"--out, or add --force to discard it and start again")

    def prepare(self, study: Study, action: str) -> None:
        if action == "resume":
            for stale in (self.out / "draws").glob(".*"):
                stale.unlink(missing_ok=True)
            return
        self.out.parent.mkdir(parents=True, exist_ok=True)
        with staged_folder(self.out, writer="egrid uncertainty", force=True, what="study folder") as tmp:
            (tmp / "study.json").write_text(json.dumps(study.definition(), ensure_ascii=False, indent=1,
                                                       sort_keys=True), encoding="utf-8")
            study.design_table().to_csv(tmp / "design.csv", index=False)
            (tmp / "draws").mkdir()

    def finished(self) -> set[int]:
        folder = self.out / "draws"
        if not folder.is_dir():
            return set()
        return {int(m.group(1)) for f in folder.iterdir() if (m := DRAW.match(f.name))}

    def save(self, draw: int, frames: dict[tuple[str, int], pd.DataFrame]) -> None:
        parts = [df.assign(variant=label, rep=rep) for (label, rep), df in sorted(frames.items())]
        table = pd.concat(parts, ignore_index=True)[["variant", "rep", "metric", "value"]]
        write_frame_atomic(table, self.draw_file(draw))

    def results(self, study: Study) -> pd.DataFrame:
        """draw, variant, rep, metric, value of every finished draw, read back exactly."""
        frames = []
        for d in sorted(self.finished()):
            if d < study.draws:
                df = pd.read_csv(self.draw_file(d), dtype={"variant": str, "metric": str}, keep_default_na=False,
                                 na_values={"value": [""]}, encoding="utf-8",
                                 **({"float_precision": "round_trip"} if int(pd.__version__[0]) < 3 else {}))
                frames.append(df.assign(draw=d))
        if not frames:
            return pd.DataFrame(columns=["draw", "variant", "rep", "metric", "value"])
        return pd.concat(frames, ignore_index=True)[["draw", "variant", "rep", "metric", "value"]]


@dataclass
class StudyReport:
    out: Path
    action: str
    total_draws: int
    reused: int
    ran: int = 0
    failures: list[Failed] = field(default_factory=list)


def run_study(study: Study, out: str | Path, executor: Executor, force: bool = False,
              on_start: Callable[[StudyReport, int], None] | None = None,
              on_outcome: Callable[[Done | Failed], None] | None = None) -> StudyReport:
    """Run every replication of every draw not yet stored; store each draw whole as it completes."""
    folder = StudyFolder(out)
    action = folder.check(study, force)
    # Build (and so validate) every draw's scenarios before anything is written.
    done = folder.finished() if action == "resume" else set()
    todo = [d for d in range(study.draws) if d not in done]
    scenarios = {(d, v.label): study.scenario(d, v.label) for d in todo for v in study.variants}
    folder.prepare(study, action)
    report = StudyReport(folder.out, action, study.draws, len(done))
    tasks, pending = [], {}
    for d in todo:
        pending[d] = {}
        for v in study.variants:
            shared = Shared(scenarios[d, v.label])
            for k in range(study.reps(d)):
                tasks.append(Task((d, v.label, k), simulate, (shared, k), f"{v.scenario.name} draw {d}",
                                  study.seed, k))
    if on_start:
        on_start(report, len(tasks))
    need = {d: len(study.variants) * study.reps(d) for d in todo}
    broken: set[int] = set()
    for outcome in executor.map_unordered(tasks):
        d, label, k = outcome.task.key
        if isinstance(outcome, Done):
            pending[d][label, k] = outcome.value
            if len(pending[d]) == need[d] and d not in broken:
                folder.save(d, pending.pop(d))
                report.ran += 1
        else:
            log.error("draw %s %s replication %s failed: %s", d, label, k, outcome.error)
            report.failures.append(outcome)
            broken.add(d)
        if on_outcome:
            on_outcome(outcome)
    errors = folder.out / "errors.csv"
    if report.failures:
        rows = [(f.task.key[0], f.task.key[1], f.seed, f.replication, f.error, f.where) for f in report.failures]
        write_frame_atomic(pd.DataFrame(rows, columns=["draw", "variant", "seed", "replication", "error", "where"]),
                           errors)
    else:
        errors.unlink(missing_ok=True)
    return report


__all__ = ["Variant", "Input", "Study", "build_study", "before_counterpart", "simulate", "StudyFolder",
           "StudyReport", "run_study", "KEPT"]

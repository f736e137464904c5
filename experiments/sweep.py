"""Sweeps: a grid of scenario variants × replications, run anywhere, resumable, nothing lost.

A **sweep file** (TOML) names a scenario and the factors to vary; the grid is the
Cartesian product of the factors' values, and each grid point is one scenario::

    scenario = "huian.toml"        # relative to the sweep file
    replications = 10              # per point (default: the scenario's)
    days = 120                     # optional: scenario.horizon_days for every point
    seed = 1                       # optional: scenario.seed for every point
    records = false                # per-violation records off (running sums only); true writes them per replication
    set = ["officer_time.other_town_work_share=0.3"]   # optional: fixed overrides, as `egrid run --set`

    [[factor]]
    name = "desk"                          # the factor's column in the result tables
    set = "officer_time.desk_share"        # a dotted settings key, as `--set KEY=VALUE`
    values = [0.2, 0.3, 0.4]               # any TOML values: numbers, strings, booleans, lists, tables

    [[factor]]
    name = "luocheng_staff"
    staff = "螺城镇"                        # a brigade (after the reform: a town)
    values = [30, 50, 70]                  # its total officers

    [[factor]]                             # or: several brigades, one at a time
    name = "staff"                         # columns staff_brigade (which one) and staff (its total)
    staff = ["东岭镇", "崇武镇"]
    values = [30, 50]

A ``set`` factor overrides one setting per value, exactly as ``egrid run --set``
would.  A ``staff`` factor scales one brigade's officers to each total, keeping the
mix of sources (largest-remainder rounding) and the share of certified officers
(rounded half up, never more than the officers); the county's ``staffing.sources``
totals change by the same amounts, so every other brigade keeps its staff.
With a list of brigades, each is scaled in turn while the others keep their
staff (12 towns × 20 levels is one factor of 240 choices, not a product).

Every point is validated before anything runs or is written: unknown keys,
wrong types, unknown settings, unknown brigades, values a scenario refuses,
duplicate factors or values are reported together, each naming the sweep file,
the field (``factor[1].values[2]``) and what was expected
(:class:`~sim.errors.ScenarioError`, exit status 2 on the command line).

**Output folder** (``run_sweep``)::

    DIR/sweep.toml                 a copy of the sweep file
    DIR/sweep.json                 the resolved definition and a fingerprint of each point's inputs
    DIR/points.csv                 point, one column per factor, scenario, seed
    DIR/reps/<point>/rep-<k>.csv   one replication's measures (scope, metric, value),
                                   written atomically as soon as it finishes;
                                   rep-<k>.units.csv (team time) and, with records, rep-<k>.records.csv.gz
    DIR/errors.csv                 replications that raised: point, seed, replication, error, where
    DIR/results.parquet            point, factors…, scope, metric, rep, value (every replication; Parquet)
    DIR/summary.csv                point, factors…, scope, metric, mean, ci_low, ci_high, sd, n (for people)
    DIR/.egrid-output              the marker of a folder egrid wrote (what wrote it, when)

``results.parquet`` and ``summary.csv`` are recomputed from the replication files at
the end, so a sweep interrupted (Ctrl-C, a killed worker, a killed process) and
run again gives byte for byte the tables of an uninterrupted run: finished
replications are found by their files and not rerun, and one file per
replication means none is counted twice.  A point's id (``desk-0.3_luocheng_staff-50-1f3a9c2e``)
is a readable slug of its factor values plus a hash of them, stable across runs.
A folder holding a different sweep (other factors, or inputs that changed since
— the scenario or a table edited) is refused unless ``force``; a different
``replications`` only adds (or leaves out) replications.  ``force`` replaces
only a folder egrid wrote, and never one holding the sweep's own inputs
(:mod:`sim.staging`).  The results table is Parquet (pyarrow): at 7,200
replications it is written in seconds, where a CSV of every replication took
tens of seconds and hundreds of megabytes.

A point that changes only brigades' staff (a ``staff`` factor, other factors fixed) simulates
only those brigades' towns, with the rest of the county's department work replayed from a
whole-county baseline of the same replication (:mod:`sim.replay`): the same records and
measures, at a fraction of the cost.  Where the towns are coupled (campaigns or mutual aid
involving the changed towns) it runs the whole county.  ``run_sweep(..., replay=False)`` turns this off.  With records off, a restricted
replication sums its records in one batch, the whole county's in batches of 5,000: the measures
may then differ in the last bits (never more).

Every point runs with the scenario's seed, so replication *k* of every point
sees the same random numbers (common random numbers): differences between points
are the factors', not noise.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import logging
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Callable

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from enforcement_grid.sim.config import Scenario
from enforcement_grid.sim.errors import ScenarioError
from .executors import Done, Executor, Failed, Shared, Task
from enforcement_grid.sim.load import _field_path, _read_toml, load_scenario
from enforcement_grid.sim.textfiles import read_text
from enforcement_grid.sim.measures import summarise
from .output import write_frame_atomic
from enforcement_grid.sim.staging import TMP_TAG, check_target, read_marker, staged_folder, write_file_atomic, write_marker
from .runner import run_replication
from enforcement_grid.sim.staffing import largest_remainder, with_staffing
from enforcement_grid.sim.size import MAX_HORIZON_DAYS, check_size

log = logging.getLogger(__name__)

MAX_POINTS = 100_000
# Columns of the result tables: a factor may not take one of these names.
RESERVED = frozenset({
    "point", "scope", "metric", "rep", "value", "mean", "ci_low", "ci_high", "sd", "n",
    "scenario", "seed", "replication", "error", "where",
})


# --------------------------------------------------------------------------- the sweep file


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _canon(value: Any) -> str:
    """A canonical text of a TOML value (for hashes and duplicate checks)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


_KEY = re.compile(r"^[^\s=.\"']+(\.[^\s=.\"']+)*$")


class Factor(_Strict):
    """One factor of the grid: a settings key (``set``) or a brigade's staff (``staff``), and its values.

    ``staff`` names one brigade, or a list of brigades taken one at a time (each
    at each value while the others keep their staff; the brigade is then a
    column of its own, ``<name>_brigade``).
    """

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=40)
    set: str | None = None
    staff: str | list[str] | None = None
    values: list[Any] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, v: str):
        if v in RESERVED or v.removesuffix("_brigade") in RESERVED:
            raise ValueError(f"{v!r} is a column of the result tables; expected another name")
        return v

    @property
    def brigades(self) -> list[str]:
        """The brigades a staff factor changes (none for a settings factor)."""
        return [] if self.staff is None else [self.staff] if isinstance(self.staff, str) else list(self.staff)

    @property
    def one_at_a_time(self) -> bool:
        return isinstance(self.staff, list)

    @property
    def columns(self) -> list[str]:
        return [f"{self.name}_brigade", self.name] if self.one_at_a_time else [self.name]

    @property
    def size(self) -> int:
        return len(self.values) * max(1, len(self.brigades))

    @field_validator("set")
    @classmethod
    def _dotted_key(cls, v: str | None):
        if v is None:
            return v
        if not _KEY.match(v):
            raise ValueError("expected a dotted settings key such as officer_time.desk_share (no spaces, quotes or =)")
        if v in ("scenario.replications",):
            raise ValueError("replications are set by the sweep's own `replications`, not by a factor")
        return v

    @field_validator("staff")
    @classmethod
    def _brigade_name(cls, v: str | list[str] | None):
        if v is None:
            return v
        names = [v] if isinstance(v, str) else v
        if not names:
            raise ValueError("expected a brigade, or a list of brigades taken one at a time; got an empty list")
        for name in names:
            if not name.strip():
                raise ValueError("expected the name of a brigade (after the reform: a town); got an empty name")
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"{', '.join(map(repr, twice))} listed twice; expected each brigade once")
        return v

    @field_validator("values")
    @classmethod
    def _values(cls, v: list[Any], info: ValidationInfo):
        if info.data.get("staff") is not None:
            for i, x in enumerate(v):
                if isinstance(x, bool) or not isinstance(x, int) or x < 1:
                    raise ValueError(f"values[{i}]: expected a whole number of officers, at least 1; got {x!r}")
        seen: set[str] = set()
        for i, x in enumerate(v):
            c = _canon(x)
            if c in seen:
                raise ValueError(f"values[{i}]: {x!r} is listed twice; expected each value once")
            seen.add(c)
        return v

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.set is None) == (self.staff is None):
            raise ValueError("expected exactly one of `set` (a settings key) or `staff` (a brigade)")
        return self


class SweepFile(_Strict):
    """The sweep file, validated: unknown keys rejected, types strict."""

    title: str = ""
    scenario: str = Field(min_length=1)
    replications: int | None = Field(default=None, ge=1, le=100_000)
    days: float | None = Field(default=None, gt=0, le=MAX_HORIZON_DAYS)
    seed: int | None = Field(default=None, ge=0)
    records: bool = False
    set: list[str] = []
    factor: list[Factor] = []

    @field_validator("days")
    @classmethod
    def _finite(cls, v):
        if v is not None and not math.isfinite(v):
            raise ValueError("expected a finite number of days")
        return v

    @field_validator("set")
    @classmethod
    def _overrides(cls, v: list[str]):
        for i, text in enumerate(v):
            key, sep, _ = text.partition("=")
            if not sep or not _KEY.match(key.strip()):
                raise ValueError(f"set[{i}]: expected KEY=VALUE, e.g. \"officer_time.desk_share=0.4\"; got {text!r}")
        return v

    @field_validator("factor")
    @classmethod
    def _distinct(cls, v: list[Factor], info: ValidationInfo):
        fixed = [t.partition("=")[0].strip() for t in info.data.get("set", [])]
        problems = []
        for what, keys in (
            ("column", [c for f in v for c in f.columns]),
            ("set", [f.set for f in v if f.set is not None] + fixed),
            ("staff", [b for f in v for b in f.brigades]),
        ):
            twice = sorted({k for k in keys if keys.count(k) > 1})
            if twice:
                where = "two factors, or in a factor and `set`" if what == "set" else "two factors"
                problems.append(f"{what} {', '.join(map(repr, twice))} appears in {where}; expected each once")
        if problems:
            raise ValueError("; ".join(problems))
        size = math.prod(f.size for f in v)
        if size > MAX_POINTS:
            raise ValueError(f"the grid has {size:,} points; expected at most {MAX_POINTS:,} (split the sweep)")
        return v


@dataclass(frozen=True, eq=False)
class Point:
    """One grid point: its id, factor values and the scenario it runs."""

    id: str
    values: dict[str, Any]
    scenario: Scenario
    fingerprint: str
    base: Scenario | None = None  # the point before its staff changes (the baseline of a restricted run)
    base_fingerprint: str = ""
    changed: tuple[str, ...] = ()  # the brigades whose staff the point changes


@dataclass(frozen=True, eq=False)
class Sweep:
    """A validated sweep: the file, the base scenario and every point, ready to run."""

    path: Path
    spec: SweepFile
    text: str
    points: tuple[Point, ...]
    replications: int

    @property
    def factors(self) -> list[str]:
        """The factor columns of the result tables."""
        return [c for f in self.spec.factor for c in f.columns]

    @property
    def keep_records(self) -> bool:
        return self.spec.records

    def definition(self) -> dict:
        """What makes two sweeps the same (the replication count aside)."""
        spec = self.spec.model_dump(mode="json", exclude={"replications", "title"})
        return {"sweep": spec, "points": {p.id: p.fingerprint for p in self.points}}


# --------------------------------------------------------------------------- values → overrides


def toml_value(v: Any) -> str:
    """A TOML value as text, for a ``KEY=VALUE`` override."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        out = []
        for ch in v:
            if ch in '"\\':
                out.append("\\" + ch)
            elif ord(ch) < 0x20 or ord(ch) == 0x7F:
                out.append(f"\\u{ord(ch):04x}")
            else:
                out.append(ch)
        return '"' + "".join(out) + '"'
    if isinstance(v, (datetime, date, time)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{toml_value(str(k))} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"not a TOML value: {v!r}")


def _cell(v: Any) -> Any:
    """A factor value as a table cell: scalars as they are, lists and tables as JSON text."""
    return v if isinstance(v, (bool, int, float, str)) else _canon(v)


_UNSAFE = re.compile(r"[^\w.]+")  # kept: letters of any script, digits, "_" and "."


def point_id(values: dict[str, Any]) -> str:
    """A stable, filesystem-safe id: a readable slug of the factor values and a hash of them.

    The slug keeps letters of any script (town names stay readable), digits and
    dots, and nothing that means something to a file system or a shell.
    """
    digest = hashlib.sha1(_canon(list(values.items())).encode("utf-8")).hexdigest()[:8]
    parts = []
    for k, v in values.items():
        text = v if isinstance(v, str) else _canon(v)
        parts.append(f"{k}-{_UNSAFE.sub('_', text)}")
    slug = "_".join(parts)[:60].strip("._-")
    return f"{slug}-{digest}" if slug else f"point-{digest}"


def fingerprint(sc: Scenario) -> str:
    """A hash of everything a scenario's results depend on (settings and table rows, not file paths)."""
    h = hashlib.sha256()
    h.update(_canon(sc.settings.model_dump(mode="json", exclude={"tables"})).encode("utf-8"))
    for f in dataclasses.fields(sc):
        if f.name in ("settings", "files"):
            continue
        value = getattr(sc, f.name)
        if isinstance(value, tuple):
            value = [r.model_dump(mode="json") if isinstance(r, BaseModel) else r for r in value]
        h.update(f.name.encode("utf-8"))
        h.update(_canon(value).encode("utf-8"))
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------- staffing


def restaff(sc: Scenario, brigade: str, total: int) -> Scenario:
    """The scenario with ``brigade`` scaled to ``total`` officers, keeping its mix of sources and certified share.

    Officers per row: ``total`` split in proportion to the rows' officers (largest
    remainder).  Certified: the brigade's certified share times ``total``, rounded
    half up, split in proportion to the rows' certified officers and never more
    than a row's officers.  ``staffing.sources`` totals change by the same amounts.
    """
    rows = [r for r in sc.staffing if r.brigade == brigade]
    if not rows:
        raise ScenarioError(f"{sc.files.get('staffing', 'staffing')}: brigade {brigade!r}: has no staffing rows")
    old = sum(r.officers for r in rows)
    if old == 0:
        raise ScenarioError(f"{sc.files.get('staffing', 'staffing')}: brigade {brigade!r}: has no officers to scale; "
                            f"expected some officers to keep the mix of")
    officers = largest_remainder(total, [r.officers for r in rows])
    want = min(total, math.floor(total * sum(r.certified for r in rows) / old + 0.5))
    split = largest_remainder(want, [r.certified for r in rows])
    certified = [min(c, o) for c, o in zip(split, officers, strict=True)]
    short = want - sum(certified)
    for i in sorted(range(len(rows)), key=lambda i: certified[i] - officers[i]):  # most room first
        add = min(short, officers[i] - certified[i])
        certified[i] += add
        short -= add
    new = {id(r): r.model_copy(update={"officers": o, "certified": c})
           for r, o, c in zip(rows, officers, certified, strict=True)}
    return with_staffing(sc, [new.get(id(r), r) for r in sc.staffing])


# --------------------------------------------------------------------------- loading


def _problem(file: str, error: dict) -> str:
    """A pydantic error on the sweep file → ``file: field: what was expected``."""
    loc = error["loc"]
    field_ = _field_path(loc) or "(top level)"
    kind = error["type"]
    if kind == "missing":
        return f"{file}: {field_}: missing; this key is required"
    if kind == "extra_forbidden":
        model = Factor if len(loc) > 1 and loc[0] == "factor" else SweepFile
        return f"{file}: {field_}: unknown key (is it misspelt?); expected one of {', '.join(model.model_fields)}"
    msg = error["msg"].removeprefix("Value error, ")
    got = error.get("input")
    if isinstance(got, (dict, list)) or kind == "value_error":
        return f"{file}: {field_}: {msg}"
    return f"{file}: {field_}: {msg}; got {got!r}"



def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file and build every point's scenario; raise ScenarioError on any problem.

    Nothing is written.  Problems are collected and reported together, each as
    ``<sweep file>: <field>: <what was expected>``.
    """
    path = Path(path)
    file = str(path)
    raw = _read_toml(path)
    try:
        spec = SweepFile.model_validate(raw)
    except ValidationError as err:
        raise ScenarioError([_problem(file, e) for e in err.errors()]) from None
    text = read_text(path)

    scenario_path = path.parent / spec.scenario
    if not scenario_path.is_file():
        raise ScenarioError(f"{file}: scenario: scenario file {scenario_path} not found")
    loaded: dict[tuple[str, ...], Scenario] = {}

    def load(overrides: tuple[str, ...]) -> Scenario:
        if overrides not in loaded:
            loaded[overrides] = load_scenario(scenario_path, overrides)
        return loaded[overrides]

    def attempt(field_: str, overrides: tuple[str, ...]) -> Scenario | None:
        try:
            return load(overrides)
        except ScenarioError as err:
            problems.extend(f"{file}: {field_}: {p}" for p in err.problems)
            return None

    # The base: the scenario, then each fixed override, so a problem is blamed on the right field.
    problems: list[str] = []
    fixed: tuple[str, ...] = ()
    for field_, extra in (
        ("scenario", ()),
        *((f"set[{i}]", (t,)) for i, t in enumerate(spec.set)),
        ("days", (f"scenario.horizon_days={toml_value(spec.days)}",) if spec.days is not None else ()),
        ("seed", (f"scenario.seed={spec.seed}",) if spec.seed is not None else ()),
    ):
        if not extra and fixed:
            continue
        if attempt(field_, fixed + extra) is None:
            raise ScenarioError(problems)
        fixed += extra
    base = load(fixed)

    # Each factor value on its own.  A choice: (settings override, (brigade, total), table columns).
    brigades = [b.name for b in base.brigades]
    choices: list[list[tuple[str | None, tuple[str, int] | None, dict[str, Any]]]] = []
    for i, f in enumerate(spec.factor):
        if f.staff is not None:
            unknown = [b for b in f.brigades if b not in brigades]
            if unknown:
                shown = ", ".join(brigades) if len(brigades) <= 20 else "a brigade of the scenario"
                problems.append(
                    f"{file}: factor[{i}].staff: {', '.join(map(repr, unknown))} "
                    f"{'is not a brigade' if len(unknown) == 1 else 'are not brigades'} of {scenario_path} "
                    f"({base.settings.reform.mode} the reform); expected one of {shown}"
                )
                continue
            choice = []
            for brigade in f.brigades:
                for j, v in enumerate(f.values):
                    try:
                        restaff(base, brigade, v)
                    except ScenarioError as err:
                        problems.extend(f"{file}: factor[{i}].values[{j}] ({f.name} = {v!r}"
                                        f"{', brigade ' + brigade if f.one_at_a_time else ''}): {p}"
                                        for p in err.problems)
                    cols = {f"{f.name}_brigade": brigade, f.name: v} if f.one_at_a_time else {f.name: v}
                    choice.append((None, (brigade, v), cols))
            choices.append(choice)
            continue
        key_problem = None
        for j, v in enumerate(f.values):
            override = f"{f.set}={toml_value(v)}"
            try:
                load(fixed + (override,))
            except ScenarioError as err:
                keyed = [p for p in err.problems if "unknown setting" in p or "not a section" in p]
                if keyed:
                    key_problem = keyed[0]
                    break
                problems.extend(f"{file}: factor[{i}].values[{j}] ({f.name} = {v!r}): {p}" for p in err.problems)
        if key_problem is not None:
            problems.append(f"{file}: factor[{i}].set: {f.set!r} is not a setting of {scenario_path} ({key_problem})")
        choices.append([(f"{f.set}={toml_value(v)}", None, {f.name: v}) for v in f.values])
    if problems:
        raise ScenarioError(problems)

    # Every combination.
    points: list[Point] = []
    base_prints: dict[tuple[str, ...], str] = {}
    for combo in itertools.product(*choices):
        values = {k: v for _, _, cols in combo for k, v in cols.items()}
        pid = point_id(values)
        overrides = fixed + tuple(o for o, _, _ in combo if o is not None)
        sc = attempt(f"point {pid}", overrides)
        if sc is None:
            continue
        unstaffed = sc
        try:
            for _, staff, _ in combo:
                if staff is not None:
                    sc = restaff(sc, *staff)
        except ScenarioError as err:
            problems.extend(f"{file}: point {pid}: {p}" for p in err.problems)
            continue
        changed = tuple(dict.fromkeys(staff[0] for _, staff, _ in combo if staff is not None))
        if changed and overrides not in base_prints:
            base_prints[overrides] = fingerprint(unstaffed)
        points.append(Point(pid, values, sc, fingerprint(sc), unstaffed if changed else None,
                            base_prints.get(overrides, "") if changed else "", changed))
        if len(problems) > 50:
            break
    if problems:
        raise ScenarioError(problems)
    ids = [p.id for p in points]
    if len(set(ids)) != len(ids):  # pragma: no cover - a hash collision
        raise ScenarioError(f"{file}: factor: two points have the same id; rename a factor")
    replications = spec.replications or base.settings.scenario.replications
    return Sweep(path, spec, text, tuple(points), replications)


# --------------------------------------------------------------------------- the work of one replication


@dataclass
class RepOutput:
    """What a worker sends back for one replication: measures, team time, records if kept."""

    metrics: pd.DataFrame
    units: pd.DataFrame
    records: pd.DataFrame | None


def replicate(sc: Scenario, replication: int, keep_records: bool) -> RepOutput:
    """Run one replication and keep only what the sweep stores (a task for any executor)."""
    r = run_replication(sc, replication, keep_records)
    return RepOutput(r.metrics, r.units, r.records)


# --------------------------------------------------------------------------- the output folder


REP = re.compile(r"^rep-(\d+)\.csv$")


class SweepFolder:
    """The output folder of a sweep (layout in the module docstring)."""

    def __init__(self, out: str | Path):
        self.out = Path(out)

    def rep_file(self, point: str, rep: int, kind: str = "") -> Path:
        suffix = {"": ".csv", "units": ".units.csv", "records": ".records.csv.gz"}[kind]
        return self.out / "reps" / point / f"rep-{rep}{suffix}"

    # ---- before any work: same sweep (resume), new, or refused

    def check(self, sweep: Sweep, force: bool) -> str:
        """``"new"``, ``"resume"`` or ``"replace"``; a folder holding something else is refused unless ``force``.

        ``force`` replaces only a folder egrid wrote (one holding the marker), never
        one holding the sweep's own inputs.  Writes nothing.
        """
        out = self.out
        inputs = sweep_inputs(sweep)
        if out.is_dir() and not out.is_symlink() and (out / "sweep.json").exists():
            try:
                held = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                held = {}
            want = sweep.definition()
            if _canon(held.get("sweep")) == _canon(want["sweep"]) and held.get("points") == want["points"]:
                check_target(out, True, inputs=inputs, what="sweep folder")  # writable, holds no input
                return "resume"
            if not force:
                if _canon(held.get("sweep")) != _canon(want["sweep"]):
                    diff = sorted(k for k in set(want["sweep"]) | set(held.get("sweep") or {})
                                  if (held.get("sweep") or {}).get(k) != want["sweep"].get(k))
                    why = f"a different sweep (it differs in: {', '.join(diff)})"
                else:
                    changed = sum(1 for k, v in want["points"].items() if (held.get("points") or {}).get(k) != v)
                    why = (f"this sweep with other inputs: {changed} point(s) changed since it started "
                           f"(the scenario or its tables were edited)")
                raise ScenarioError(
                    f"{out}: holds {why}; choose another --out, or add --force to discard it and start again"
                )
        elif out.is_dir() and not out.is_symlink() and any(out.iterdir()) and not force:
            raise ScenarioError(
                f"{out}: exists and is not a sweep folder; choose another --out or add --force to replace it"
            )
        state = check_target(out, force, inputs=inputs, what="sweep folder")
        return "new" if state.kind == "absent" else "replace"

    def prepare(self, sweep: Sweep, action: str, force: bool = False) -> None:
        """Create the folder whole (sweep.toml, sweep.json, points.csv, reps/), or tidy one being resumed."""
        out = self.out
        if action == "resume":
            held = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
            if held.get("replications") != sweep.replications:
                self._write_meta(out, sweep)
            if read_marker(out) is None:  # a sweep folder of an older version: egrid wrote it
                write_marker(out, "egrid sweep", "sweep folder")
            # temporary files of a process killed mid-write
            for stale in [*(out / "reps").glob("*/.*"), *out.glob(f".*{TMP_TAG}*")]:
                if stale.is_file():
                    stale.unlink(missing_ok=True)
            return
        with staged_folder(out, writer="egrid sweep", force=force or action == "replace",
                           inputs=sweep_inputs(sweep), what="sweep folder") as tmp:
            self._write_meta(tmp, sweep)
            (tmp / "reps").mkdir()

    def _write_meta(self, folder: Path, sweep: Sweep) -> None:
        _write_text_atomic(folder / "sweep.toml", sweep.text)
        meta = {**sweep.definition(), "replications": sweep.replications}
        _write_text_atomic(folder / "sweep.json", json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True))
        write_frame_atomic(points_table(sweep), folder / "points.csv")

    # ---- during the run

    def finished(self, sweep: Sweep) -> set[tuple[str, int]]:
        """(point, replication) pairs whose measures are stored."""
        done = set()
        for p in sweep.points:
            folder = self.out / "reps" / p.id
            if folder.is_dir():
                for f in folder.iterdir():
                    m = REP.match(f.name)
                    if m:
                        done.add((p.id, int(m.group(1))))
        return done

    def save(self, point: str, rep: int, output: RepOutput) -> None:
        """Store one replication; the measures file, written last, marks it finished."""
        folder = self.out / "reps" / point
        folder.mkdir(parents=True, exist_ok=True)
        write_frame_atomic(output.units, self.rep_file(point, rep, "units"))
        if output.records is not None:
            write_frame_atomic(output.records, self.rep_file(point, rep, "records"), compression="gzip")
        write_frame_atomic(output.metrics[["scope", "metric", "value"]], self.rep_file(point, rep))

    def write_errors(self, failures: list[Failed]) -> None:
        path = self.out / "errors.csv"
        if not failures:
            path.unlink(missing_ok=True)
            return
        rows = [(f.task.key[0], f.seed, f.replication, f.error, f.where) for f in failures]
        table = pd.DataFrame(rows, columns=["point", "seed", "replication", "error", "where"])
        write_frame_atomic(table.sort_values(["point", "replication"], kind="stable"), path)

    def clear_tables(self) -> None:
        for name in (RESULTS, "summary.csv", "results.csv"):
            (self.out / name).unlink(missing_ok=True)

    # ---- at the end

    def tables(self, sweep: Sweep) -> tuple[pa.Table, pd.DataFrame]:
        """results (an Arrow table; its text columns dictionary-encoded) and summary, from the replication
        files only.

        Every point's files are read in one go (:func:`read_reps`), and the
        summary of all points is one call of :func:`sim.measures.summarise`, with
        (point, scope) and metric as integer codes: the same numbers, in the same
        order, as summarising point by point.
        """
        import numpy as np
        import pyarrow as pa

        factors = sweep.factors
        kinds = _factor_types(sweep)
        tables, which = [], []
        for i, p in enumerate(sweep.points):
            files = [(k, self.rep_file(p.id, k)) for k in range(sweep.replications)]
            metrics = read_reps([(k, f) for k, f in files if f.exists()])
            if metrics is not None and metrics.num_rows:
                tables.append(metrics)
                which.append(np.full(metrics.num_rows, i, dtype=np.int64))
        cols = ["point", *factors]
        if not tables:
            schema = pa.schema([("point", pa.string()), *((f, kinds[f]) for f in factors), ("scope", pa.string()),
                                ("metric", pa.string()), ("rep", pa.int64()), ("value", pa.float64())])
            return (schema.empty_table(),
                    pd.DataFrame(columns=[*cols, "scope", "metric", "mean", "ci_low", "ci_high", "sd", "n"]))
        measures = pa.concat_tables(tables).unify_dictionaries()
        point = pa.array(np.concatenate(which).astype(np.int32))
        ids = pa.array([p.id for p in sweep.points], pa.string())
        head = {"point": pa.DictionaryArray.from_arrays(point, ids)}  # text columns by code (_text_type)
        for name in factors:
            cells = pa.array([_typed_cell(p.values[name], kinds[name]) for p in sweep.points], kinds[name])
            head[name] = pa.DictionaryArray.from_arrays(point, cells) if kinds[name] == pa.string() else cells.take(point)
        scope = measures.column("scope").combine_chunks()
        metric = measures.column("metric").combine_chunks()
        results = pa.table({**head, "scope": scope, "metric": metric, "rep": measures.column("rep"),
                            "value": measures.column("value")})

        # one summary of every point: (point, scope) and metric as integer codes
        n_scopes = len(scope.dictionary)
        coded = pd.DataFrame({
            "scope": point.to_numpy() * n_scopes + scope.indices.to_numpy().astype(np.int64),
            "metric": pd.Categorical.from_codes(metric.indices.to_numpy(), categories=metric.dictionary.to_pylist()),
            "rep": measures.column("rep").to_numpy(),
            "value": measures.column("value").to_numpy(),
        })
        s = summarise(coded)
        key = s["scope"].to_numpy()
        at = key // n_scopes
        summary = pd.DataFrame({"point": np.asarray(ids.to_pylist(), dtype=object)[at]})
        for name in factors:
            cells = np.empty(len(sweep.points), dtype=object)
            cells[:] = [_cell(p.values[name]) for p in sweep.points]
            summary[name] = pd.Series(cells[at]).infer_objects()
        summary["scope"] = np.asarray(scope.dictionary.to_pylist(), dtype=object)[key % n_scopes]
        summary["metric"] = s["metric"].astype(str).to_numpy(dtype=object)
        for c in ("mean", "ci_low", "ci_high", "sd", "n"):
            summary[c] = s[c].to_numpy()
        return results, summary

    def write_tables(self, sweep: Sweep) -> tuple[Path, pd.DataFrame]:
        """Write results.parquet and summary.csv (each atomically); return the results' path and the summary."""
        import pyarrow.parquet as pq

        results, summary = self.tables(sweep)
        path = self.out / RESULTS
        # dictionary-encoded text is stored as Parquet stores text (by code), and read back as text
        write_file_atomic(path, lambda tmp: pq.write_table(results, tmp, compression="zstd", store_schema=False))
        write_frame_atomic(summary, self.out / "summary.csv")
        return path, summary


RESULTS = "results.parquet"
_HEADER = b"scope,metric,value"


def _factor_types(sweep: Sweep) -> dict:
    """One Arrow type per factor column: bool, int64, float64 or string (mixed or nested values as JSON text)."""
    import pyarrow as pa

    out = {}
    for name in sweep.factors:
        cells = [_cell(p.values[name]) for p in sweep.points]
        kinds = {type(c) for c in cells}
        if kinds == {bool}:
            out[name] = pa.bool_()
        elif kinds == {int}:
            out[name] = pa.int64()
        elif kinds <= {int, float} and kinds:
            out[name] = pa.float64()
        else:
            out[name] = pa.string()
    return out


def _typed_cell(v: Any, kind) -> Any:
    import pyarrow as pa

    c = _cell(v)
    if kind == pa.string():
        return c if isinstance(c, str) else _canon(c)
    return float(c) if kind == pa.float64() else c


def read_reps(files: list[tuple[int, Path]]):
    """Replication files (rep, path) of one point → one Arrow table (scope, metric, rep, value), read exactly.

    The files are joined and parsed in one go (a per-file parser call costs more
    than the parsing); town names stay text (``NA`` too), an empty value is NaN.
    ``scope`` and ``metric`` come dictionary-encoded (:func:`_text_type`): a few names repeated on
    every row, parsed once each.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not files:
        return None
    bodies, counts = [], []
    for _, f in files:
        first, _, body = f.read_bytes().partition(b"\n")
        if first.rstrip(b"\r") != _HEADER:
            return _read_reps_one_by_one(files)
        if body and not body.endswith(b"\n"):
            body += b"\n"
        bodies.append(body)
        counts.append(body.count(b"\n"))
    convert = pacsv.ConvertOptions(
        column_types={"scope": _text_type(), "metric": _text_type(), "value": pa.float64()},
        strings_can_be_null=False, null_values=[""],
    )
    table = pacsv.read_csv(pa.py_buffer(_HEADER + b"\n" + b"".join(bodies)),
                           read_options=pacsv.ReadOptions(use_threads=False), convert_options=convert)
    if table.num_rows != sum(counts):  # a quoted line break somewhere: count rows per file instead
        return _read_reps_one_by_one(files)
    value = table.column("value").fill_null(float("nan"))
    rep = pa.array(np.repeat(np.array([k for k, _ in files], dtype=np.int64), counts))
    return pa.table({"scope": table.column("scope"), "metric": table.column("metric"), "rep": rep, "value": value})


def _read_reps_one_by_one(files: list[tuple[int, Path]]):
    import pyarrow as pa

    frames = [read_rep(f).assign(rep=k) for k, f in files]
    frame = pd.concat(frames, ignore_index=True)[["scope", "metric", "rep", "value"]]
    table = pa.Table.from_pandas(frame.astype({"rep": "int64"}), preserve_index=False)
    return pa.table({c: table.column(c).cast(pa.string()).dictionary_encode() if c in ("scope", "metric")
                     else table.column(c) for c in table.column_names})


def _text_type():
    """The Arrow type of a text column of few distinct values (point, scope, metric, text factors)."""
    import pyarrow as pa

    return pa.dictionary(pa.int32(), pa.string())


def sweep_inputs(sweep: Sweep) -> list[str]:
    """The files a sweep reads: the sweep file and every point's scenario and tables."""
    files = {str(sweep.path)}
    for p in sweep.points:
        files.update(str(f) for f in p.scenario.files.values())
    return sorted(files)


def _prepend(df: pd.DataFrame, head: dict[str, Any]) -> pd.DataFrame:
    front = pd.DataFrame({k: [v] * len(df) for k, v in head.items()}, index=df.index)
    return pd.concat([front, df], axis=1)


# pandas 3 parses floats exactly by default (and deprecates the option); pandas 2 needs "round_trip".
_EXACT = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}


def read_rep(path: Path) -> pd.DataFrame:
    """One replication file, read back exactly (town names kept as text, floats to the last digit)."""
    return pd.read_csv(
        path, dtype={"scope": str, "metric": str, "value": float}, keep_default_na=False,
        na_values={"value": [""]}, encoding="utf-8", **_EXACT,
    )


def points_table(sweep: Sweep) -> pd.DataFrame:
    rows = [
        {"point": p.id, **{k: _cell(v) for k, v in p.values.items()}, "scenario": p.scenario.name,
         "seed": p.scenario.settings.scenario.seed}
        for p in sweep.points
    ]
    return pd.DataFrame(rows, columns=["point", *sweep.factors, "scenario", "seed"])


def _write_text_atomic(path: Path, text: str) -> None:
    write_file_atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


# --------------------------------------------------------------------------- running


@dataclass
class SweepReport:
    """What a call of :func:`run_sweep` did."""

    out: Path
    action: str  # new, resume, replace
    total: int  # replications in the sweep
    reused: int  # found finished in the folder
    ran: int = 0  # finished in this call
    failures: list[Failed] = field(default_factory=list)
    results_path: Path | None = None  # results.parquet, once written
    summary: pd.DataFrame | None = None

    @property
    def results(self) -> pd.DataFrame | None:
        """Every replication's measures (read from results.parquet)."""
        return None if self.results_path is None else pd.read_parquet(self.results_path)

    @property
    def saved(self) -> int:
        return self.reused + self.ran


def replicate_restricted(sc: Scenario, base: Scenario, base_key: str, brigades: tuple[str, ...], replication: int,
                         keep_records: bool) -> RepOutput:
    """A replication of a point that changes only ``brigades``' staff: those brigades' towns simulated, the
    rest of the county's department work replayed from ``base`` (:mod:`sim.replay`; the whole county should
    work reach a town not simulated).  The same numbers as :func:`replicate`."""
    from .replay import replicate as replay_replicate

    r = replay_replicate(sc, base, base_key, list(brigades), replication, keep_records)
    return RepOutput(r.metrics, r.units, r.records)


def restricted_points(sweep: Sweep) -> set[str]:
    """Points whose replications can simulate only the brigades they change (:func:`sim.replay.restriction_problem`)."""
    from .replay import restriction_problem

    return {p.id for p in sweep.points
            if p.changed and restriction_problem(p.scenario, p.base, list(p.changed)) is None}


def tasks_for(sweep: Sweep, todo: list[tuple[Point, int]], replay: bool = True) -> list[Task]:
    """One task per (point, replication).  With ``replay``, points changing one brigade's staff run
    restricted (:func:`replicate_restricted`), replication by replication so each worker logs a
    replication's baseline once for all the points."""
    shared: dict[str, Shared] = {}
    restricted = restricted_points(sweep) if replay else set()
    if restricted:
        todo = sorted(todo, key=lambda pk: pk[1])  # the order of work only, not of any result
    tasks = []
    for p, k in todo:
        sc = shared.setdefault(p.id, Shared(p.scenario))
        label = (f"{p.scenario.name} {p.id}", p.scenario.settings.scenario.seed, k)
        if p.id in restricted:
            base = shared.setdefault("base:" + p.base_fingerprint, Shared(p.base))
            tasks.append(Task((p.id, k), replicate_restricted,
                              (sc, base, p.base_fingerprint, p.changed, k, sweep.keep_records), *label))
        else:
            tasks.append(Task((p.id, k), replicate, (sc, k, sweep.keep_records), *label))
    return tasks


def check_sweep_size(sweep: Sweep, max_violations: int | None, option: str = "--max-violations") -> None:
    """Refuse a sweep whose points would create too many violations per replication (see :mod:`sim.size`)."""
    problems = []
    for p in sweep.points:
        try:
            check_size(p.scenario, max_violations, option)
        except ScenarioError as err:
            problems.extend(f"{sweep.path}: point {p.id}: {line}" for line in err.problems)
        if len(problems) >= 10:
            break
    if problems:
        raise ScenarioError(problems)


def run_sweep(
    sweep: Sweep,
    out: str | Path,
    executor: Executor,
    force: bool = False,
    on_start: Callable[[SweepReport], None] | None = None,
    on_outcome: Callable[[Done | Failed], None] | None = None,
    replay: bool = True,
) -> SweepReport:
    """Run the replications not yet stored in ``out``, storing each as it finishes; then write the tables.

    ``on_start`` receives the report before work starts (total and reused known);
    ``on_outcome`` each finished or failed replication.  An interruption
    (KeyboardInterrupt) propagates after the replications finished so far are
    stored; running again resumes.  ``replay``: points that change only one brigade's staff
    simulate only its towns where that gives the same numbers (:mod:`sim.replay`).
    """
    folder = SweepFolder(out)
    action = folder.check(sweep, force)
    folder.prepare(sweep, action, force)
    done = folder.finished(sweep)
    todo = [(p, k) for p in sweep.points for k in range(sweep.replications) if (p.id, k) not in done]
    total = len(sweep.points) * sweep.replications
    report = SweepReport(folder.out, action, total, total - len(todo))
    if on_start:
        on_start(report)
    if todo:
        folder.clear_tables()
    for outcome in executor.map_unordered(tasks_for(sweep, todo, replay)):
        point, rep = outcome.task.key
        if isinstance(outcome, Done):
            folder.save(point, rep, outcome.value)
            report.ran += 1
        else:
            log.error("point %s replication %s (seed %s) failed: %s", point, rep, outcome.seed, outcome.error)
            report.failures.append(outcome)
            folder.write_errors(report.failures)
        if on_outcome:
            on_outcome(outcome)
    folder.write_errors(report.failures)
    report.results_path, report.summary = folder.write_tables(sweep)
    return report


__all__ = [
    "SweepFile", "Factor", "Sweep", "Point", "load_sweep", "restaff", "point_id", "fingerprint", "toml_value",
    "RepOutput", "replicate", "replicate_restricted", "restricted_points", "check_sweep_size", "SweepFolder",
    "SweepReport", "run_sweep", "read_rep", "read_reps", "sweep_inputs",
]

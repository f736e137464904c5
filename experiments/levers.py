"""Which settings carry a difference: one-at-a-time effects and Shapley shares of named levers.

Two scenarios differ in many settings (before and after the reform; today's
staffing and a plan).  Group the differences into named **levers** — each a set
of setting overrides, or a function Scenario → Scenario that moves the base
toward the target on that lever — and :func:`decompose` simulates every
combination of them (2^k scenarios for k ≤ 4 levers) on common random numbers:
the same seed and replications for every combination, so replication *r* of each
sees the same violations and every difference is paired replication by
replication.  For every measure of the run summary (county and each town) it
reports, per lever:

* ``add_to_base``: the base with only this lever moved, minus the base;
* ``drop_from_target``: the target, minus the target with only this lever reverted;
* ``shapley``: the lever's Shapley share, the average of its marginal effect over
  all orders of moving the levers — computed per replication from the 2^k
  combinations, so the shares sum exactly to the total effect in every
  replication and each share has a paired confidence interval;

and the ``total`` effect (target minus base).  One-at-a-time effects answer
"what does this lever do alone / what would be lost without it"; they need not
add up when levers interact.  Shapley shares always add up, and say how the
total divides when they do interact.

The levers must reach the target exactly: every setting and table in which the
two scenarios differ belongs to a lever, else :class:`~sim.errors.ScenarioError`
names the settings no lever moves.  Combination ``S`` is the base with the
levers of ``S`` applied in the order given; levers should touch disjoint
settings, so that the order does not matter.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from enforcement_grid.sim import Scenario, ScenarioError, summarise
from enforcement_grid.sim.config import Settings
from enforcement_grid.sim.load import check_references, settings_problems

from .executors import make_executor
from .output import write_frame_atomic
from .runner import RunSet, run

MAX_LEVERS = 4  # 2^4 = 16 combinations; more would need sampled Shapley orders
METHODS = ("total", "shapley", "add_to_base", "drop_from_target")
TABLE_COLUMNS = ["lever", "scope", "metric", "method", "effect", "ci_low", "ci_high", "n"]
TOTAL = "total"  # the lever (and method) name of the total effect's rows
TABLES = ("towns", "villages", "items", "departments", "staffing", "patrol_plan")
# Labels of a scenario, not inputs: two scenarios that differ only in these are the same experiment.
LABELS = frozenset({"name", "title_zh", "title_en", "description"})
_NAME = re.compile(r"^[A-Za-z0-9_]+$")


# --------------------------------------------------------------------------- levers


def with_settings(sc: Scenario, overrides: Mapping[str, Any], where: str = "overrides", check: bool = True) -> Scenario:
    """The scenario with dotted settings keys (``grid.report_delay_mean_min``) set and re-validated.

    A value the settings refuse is a :class:`ScenarioError` naming ``where`` and the field.
    ``check``: also check the tables against the new settings (off while a lever
    still has tables to change).
    """
    if not overrides:
        return sc
    raw = sc.settings.model_dump(mode="python")
    for key, value in overrides.items():
        node = raw
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ScenarioError(f"{where}: {key}: {part!r} is a value, not a section")
            node = child
        node[parts[-1]] = value
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as err:
        raise ScenarioError(settings_problems(err, where)) from None
    out = dataclasses.replace(sc, settings=settings)
    if check:
        check_references(out)
    return out


@dataclass(frozen=True)
class Lever:
    """A named lever: setting overrides (dotted key → target value) and/or a function Scenario → Scenario.

    ``name`` is a plain identifier (letters, digits, ``_``: it names combinations
    and rows of the table); ``label`` is what a reader sees.
    """

    name: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    apply: Callable[[Scenario], Scenario] | None = None
    label: str = ""

    def __post_init__(self):
        if not _NAME.match(self.name) or self.name == TOTAL:
            raise ValueError(f"lever name {self.name!r}: expected letters, digits and _ only, and not {TOTAL!r}")
        if not self.settings and self.apply is None:
            raise ValueError(f"lever {self.name!r}: give settings overrides or a function, or both")

    def move(self, sc: Scenario) -> Scenario:
        """The scenario with this lever moved to the target."""
        out = with_settings(sc, self.settings, where=f"lever {self.name}", check=self.apply is None)
        if self.apply is None:
            return out
        out = self.apply(out)
        check_references(out)
        return out


def _get(tree: Mapping[str, Any], key: str) -> Any:
    node: Any = tree
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise ScenarioError(f"lever: {key}: not a setting of the target scenario")
        node = node[part]
    return node


def lever_from_target(name: str, target: Scenario, settings: Iterable[str] = (), tables: Iterable[str] = (),
                      label: str = "") -> Lever:
    """A lever that copies the target's values of some settings (dotted keys or whole sections) and tables."""
    dump = target.settings.model_dump(mode="python")
    values = {key: _get(dump, key) for key in settings}
    tables = tuple(tables)
    for t in tables:
        if t not in TABLES:
            raise ValueError(f"lever {name!r}: unknown table {t!r}; expected one of {', '.join(TABLES)}")

    def copy_tables(sc: Scenario) -> Scenario:
        if not tables:
            return sc
        files = dict(sc.files)
        for t in tables:
            if t in target.files:
                files[t] = target.files[t]
            else:
                files.pop(t, None)
        return dataclasses.replace(sc, files=files, **{t: getattr(target, t) for t in tables})

    return Lever(name, values, copy_tables if tables else None, label)


# --------------------------------------------------------------------------- what differs


def _leaf_differences(a: Any, b: Any, prefix: str) -> list[str]:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        out = []
        for key in sorted(set(a) | set(b), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in a or key not in b:
                out.append(path)
            else:
                out.extend(_leaf_differences(a[key], b[key], path))
        return out
    return [] if a == b else [prefix]


# settings sections that describe the inputs rather than drive the model
NOT_MODEL_INPUTS = ("uncertainty", "observed", "published_ranges")


def differences(a: Scenario, b: Scenario) -> list[str]:
    """The settings (dotted keys) and tables in which two scenarios differ, labels and file paths aside.

    Sections the model never reads (ranges of the estimates, observed and published
    figures) are left out: they cannot carry an effect.
    """
    exclude = {"tables", *NOT_MODEL_INPUTS}
    da = a.settings.model_dump(mode="json", exclude=exclude)
    db = b.settings.model_dump(mode="json", exclude=exclude)
    for d in (da, db):
        for key in LABELS:
            d["scenario"].pop(key, None)
    out = _leaf_differences(da, db, "")
    out += [f"table {t}" for t in TABLES if getattr(a, t) != getattr(b, t)]
    return out


# --------------------------------------------------------------------------- Shapley


def shapley(values: Sequence[Any], k: int, exact: bool = False) -> list[Any]:
    """Shapley shares of k players from the values of all 2^k coalitions.

    ``values[mask]`` is the value of the coalition whose members are the set bits
    of ``mask`` (bit i: player i); values may be numbers or numpy arrays (one
    entry per replication).  Share i = Σ over coalitions S without i of
    |S|! (k−|S|−1)! / k! × (v(S ∪ {i}) − v(S)).  The shares sum to
    v(all) − v(none); exactly so with ``exact`` (Fraction weights) and Fraction
    values, to rounding with floats.
    """
    if len(values) != 1 << k:
        raise ValueError(f"expected {1 << k} coalition values for {k} levers, got {len(values)}")
    weights = [Fraction(math.factorial(s) * math.factorial(k - s - 1), math.factorial(k)) for s in range(k)]
    w = weights if exact else [float(x) for x in weights]
    shares = []
    for i in range(k):
        bit = 1 << i
        total: Any = 0
        for mask in range(1 << k):
            if not mask & bit:
                total = total + w[mask.bit_count()] * (values[mask | bit] - values[mask])
        shares.append(total)
    return shares


# --------------------------------------------------------------------------- the experiment


@dataclass
class Decomposition:
    """The runs of every combination and the effects of each lever.

    ``table``: lever, scope, metric, method, effect, ci_low, ci_high, n (the mean
    paired effect over replications and its t confidence interval); the total
    effect has lever and method ``total``.  ``per_rep``: the same effects per
    replication (column ``rep``, value ``effect``).  ``runs``: combination mask
    → :class:`RunSet` (bit i set: lever i moved); ``runs[0]`` is the base,
    ``runs[full]`` the target.
    """

    levers: tuple[Lever, ...]
    runs: dict[int, RunSet]
    per_rep: pd.DataFrame
    table: pd.DataFrame
    confidence: float = 0.95

    @property
    def full(self) -> int:
        return (1 << len(self.levers)) - 1

    @property
    def base(self) -> RunSet:
        return self.runs[0]

    @property
    def target(self) -> RunSet:
        return self.runs[self.full]

    def combination(self, mask: int) -> str:
        """The levers moved in a combination, ``+``-joined (``none`` for the base)."""
        names = [lv.name for i, lv in enumerate(self.levers) if mask >> i & 1]
        return "+".join(names) or "none"

    def levels(self) -> pd.DataFrame:
        """Each combination's summary: combination, levers moved, then scope, metric, mean, ci_low, ci_high, n."""
        frames = []
        for mask, rs in sorted(self.runs.items()):
            s = rs.summary
            frames.append(s.assign(combination=mask, moved=self.combination(mask))[
                ["combination", "moved", "scope", "metric", "mean", "ci_low", "ci_high", "n"]])
        return pd.concat(frames, ignore_index=True)

    def effects(self, metric: str, scope: str = "county", method: str | None = None) -> pd.DataFrame:
        """Rows of the table for one measure (and method)."""
        t = self.table[(self.table["metric"] == metric) & (self.table["scope"] == scope)]
        return t if method is None else t[t["method"] == method]

    def write(self, path: str | Path) -> Path:
        """The table as CSV, written whole or not at all."""
        path = Path(path)
        write_frame_atomic(self.table, path)
        return path


def combinations(base: Scenario, levers: Sequence[Lever]) -> dict[int, Scenario]:
    """Every combination of levers applied to the base (mask → scenario), named ``<base>.<lever>-<lever>``."""
    out = {}
    for mask in range(1 << len(levers)):
        sc = base
        moved = []
        for i, lever in enumerate(levers):
            if mask >> i & 1:
                sc = lever.move(sc)
                moved.append(lever.name)
        if moved:
            name = f"{base.name}.{'-'.join(moved)}"
            s = sc.settings
            sc = dataclasses.replace(sc, settings=s.model_copy(
                update={"scenario": s.scenario.model_copy(update={"name": name})}))
        out[mask] = sc
    return out


def _check_levers(levers: Sequence[Lever]) -> None:
    if not 1 <= len(levers) <= MAX_LEVERS:
        raise ValueError(f"expected 1 to {MAX_LEVERS} levers (2^k combinations are simulated), got {len(levers)}")
    names = [lv.name for lv in levers]
    if len(set(names)) != len(names):
        raise ValueError(f"lever names must be distinct, got {names}")


def decompose(
    base: Scenario,
    target: Scenario,
    levers: Sequence[Lever],
    replications: int | None = None,
    workers: int | None = None,
    scheduler=None,
    keep_records: bool | str | None = "endpoints",
    confidence: float = 0.95,
    on_run: Callable[[int, Scenario], None] | None = None,
) -> Decomposition:
    """Simulate every combination of the levers on common random numbers and credit each lever.

    ``replications``: per combination (default: the base's); every combination
    uses the base's seed.  ``keep_records``: ``"endpoints"`` (default) keeps
    per-violation records for the base and target only, as their scenarios say;
    True/False/None as :func:`sim.run` for every combination.  ``on_run(mask,
    scenario)`` is called before each combination runs.
    """
    levers = tuple(levers)
    _check_levers(levers)
    k = len(levers)
    full = (1 << k) - 1
    scenarios = combinations(base, levers)
    missed = differences(scenarios[full], target)
    if missed:
        raise ScenarioError([
            f"{target.files.get('settings', target.name)}: {d}: differs from "
            f"{base.files.get('settings', base.name)} but no lever moves it to the target's value; "
            f"expected every difference to belong to one lever ({', '.join(lv.name for lv in levers)})"
            for d in missed
        ])
    scenarios[full] = target  # the same inputs; the target keeps its own name and files
    n = replications or base.settings.scenario.replications
    runs: dict[int, RunSet] = {}
    executor = make_executor(workers, scheduler)
    try:
        for mask, sc in scenarios.items():
            if on_run is not None:
                on_run(mask, sc)
            keep = (None if mask in (0, full) else False) if keep_records == "endpoints" else keep_records
            runs[mask] = run(sc, replications=n, keep_records=keep, executor=executor)
    finally:
        executor.close()
    per_rep = lever_effects(runs, levers)
    return Decomposition(levers, runs, per_rep, effect_table(per_rep, confidence), confidence)


def lever_effects(runs: Mapping[int, RunSet], levers: Sequence[Lever]) -> pd.DataFrame:
    """Per replication: lever, method, scope, metric, rep, effect, from the runs of all 2^k combinations.

    A replication in which a measure is undefined (NaN) in any combination has
    NaN effects for that measure, so every method counts the same replications.
    """
    k = len(levers)
    full = (1 << k) - 1
    frames = {mask: rs.metrics.set_index(["scope", "metric", "rep"])["value"] for mask, rs in runs.items()}
    wide = pd.DataFrame(frames).reindex(columns=range(1 << k))
    v = wide.to_numpy(float, copy=True)
    v[np.isnan(v).any(axis=1)] = np.nan
    cols = [v[:, m] for m in range(1 << k)]
    rows: list[tuple[str, str, np.ndarray]] = [(TOTAL, TOTAL, cols[full] - cols[0])]
    shares = shapley(cols, k)
    for i, lever in enumerate(levers):
        bit = 1 << i
        rows.append((lever.name, "shapley", shares[i]))
        rows.append((lever.name, "add_to_base", cols[bit] - cols[0]))
        rows.append((lever.name, "drop_from_target", cols[full] - cols[full ^ bit]))
    index = wide.index.to_frame(index=False)
    out = [index.assign(lever=name, method=method, effect=effect) for name, method, effect in rows]
    return pd.concat(out, ignore_index=True)[["lever", "method", "scope", "metric", "rep", "effect"]]


def effect_table(per_rep: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Mean paired effect and its t confidence interval per lever, scope, metric and method."""
    frames = []
    for (lever, method), g in per_rep.groupby(["lever", "method"], sort=False):
        s = summarise(g.rename(columns={"effect": "value"})[["scope", "metric", "rep", "value"]], confidence)
        frames.append(s.assign(lever=lever, method=method).rename(columns={"mean": "effect"}))
    t = pd.concat(frames, ignore_index=True)
    scope_order = {s: i for i, s in enumerate(per_rep["scope"].drop_duplicates())}
    metric_order = {m: i for i, m in enumerate(per_rep["metric"].drop_duplicates())}
    lever_order = {lv: i for i, lv in enumerate(per_rep["lever"].drop_duplicates())}
    t = t.sort_values(
        ["scope", "metric", "method", "lever"], kind="stable",
        key=lambda c: c.map({"scope": scope_order, "metric": metric_order,
                             "method": {m: i for i, m in enumerate(METHODS)}, "lever": lever_order}[c.name]),
    )
    t["n"] = t["n"].astype(int)
    return t[TABLE_COLUMNS].reset_index(drop=True)

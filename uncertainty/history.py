"""Calibration to what a county knows: the ``[observed]`` table and history matching.

A scenario may state county figures it has observed, each with a tolerance and
its source::

    [observed]
    cases_per_year = { value = 17500, tolerance = 7500, why = "DOMAIN: about 15,000 a year, range 10,000–25,000" }

The figures a county can know (:data:`FIGURES`): platform cases a year (violations
discovered), on-time closure of filed cases, the shares of discovered violations
found by patrols, grid workers, complaints and inspections, and illegal-building
files a year (illegal-building violations discovered: the county opens a file on
each, whether it is stopped on the spot or becomes a formal case).  Figures count
violations arising after the warm-up, per year of the measured window.  A parameter draw is **ruled out** when a simulated figure (mean of
the draw's replications, current scenario) is farther from the observed value
than the tolerance plus the simulation noise (1.96 standard errors of that mean,
95 %): history matching, not fitting — what remains is every draw the county's
figures cannot tell apart.  :func:`narrowing` says how much of each range is
left among the draws kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from enforcement_grid.sim.config import DAYS_PER_YEAR, MIN_PER_DAY, Scenario
from enforcement_grid.sim.errors import ScenarioError

# figure → (what it is, the measure of sim.measures it is, or None if computed here from the sums)
FIGURES = {
    "cases_per_year": "violations discovered a year (platform cases), county",
    "building_files_per_year": "illegal-building violations discovered a year (each gets a file), county",
    "on_time_closure_rate": "filed town cases closed within the time limit, share of those closed",
    "found_by_patrol_share": "share of discovered violations found by patrols",
    "found_by_grid_share": "share of discovered violations found by grid workers",
    "found_by_complaint_share": "share of discovered violations found by complaints",
    "found_by_inspection_share": "share of discovered violations found by inspections",
}
SHARES = {k for k in FIGURES if k.endswith(("_share", "_rate"))}
NOISE_Z = 1.96  # simulation-noise allowance: a 95 % normal quantile on the draw's mean


@dataclass(frozen=True)
class Observed:
    figure: str
    value: float
    tolerance: float
    why: str


def read_observed(sc: Scenario) -> list[Observed]:
    """The scenario's ``[observed]`` figures, checked (unknown figure, bad numbers, missing reason)."""
    file = sc.files.get("settings", "scenario")
    problems, out = [], []
    for key, entry in sc.settings.observed.items():
        where = f"{file}: observed.{key}"
        if key not in FIGURES:
            problems.append(f"{where}: unknown figure; expected one of {', '.join(FIGURES)}")
            continue
        if not isinstance(entry, dict) or set(entry) != {"value", "tolerance", "why"}:
            got = sorted(entry) if isinstance(entry, dict) else entry
            problems.append(f"{where}: expected {{ value = …, tolerance = …, why = \"…\" }}; got {got!r}")
            continue
        v, tol, why = entry["value"], entry["tolerance"], entry["why"]
        ok = True
        for name, x in (("value", v), ("tolerance", tol)):
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                problems.append(f"{where}.{name}: expected a finite number; got {x!r}")
                ok = False
        if not isinstance(why, str) or not why.strip():
            problems.append(f"{where}.why: expected the source of the figure; got {why!r}")
            ok = False
        if not ok:
            continue
        if tol <= 0:
            problems.append(f"{where}.tolerance: expected a number > 0; got {tol!r}")
            continue
        if key in SHARES and not 0 <= v <= 1:
            problems.append(f"{where}.value: expected a share between 0 and 1; got {v!r}")
            continue
        if key not in SHARES and v < 0:
            problems.append(f"{where}.value: expected a number >= 0; got {v!r}")
            continue
        out.append(Observed(key, float(v), float(tol), why))
    if problems:
        raise ScenarioError(problems)
    return out


def figures(sums: pd.DataFrame, metrics: pd.DataFrame, window_min: float, building_classes: list[str]) -> dict[str, float]:
    """The observable figures of one replication: from its violation sums and county measures."""
    years = window_min / (DAYS_PER_YEAR * MIN_PER_DAY)
    county = metrics[metrics["scope"] == "county"].set_index("metric")["value"]
    by_class = sums.groupby(level="klass").sum()
    out = {
        "cases_per_year": float(sums["discovered"].sum()) / years,
        "building_files_per_year": float(by_class.loc[by_class.index.isin(building_classes), "discovered"].sum())
        / years,
    }
    for k in FIGURES:
        if k not in out:
            out[k] = float(county.get(k, float("nan")))
    return out


def match(per_rep: pd.DataFrame, observed: list[Observed]) -> pd.DataFrame:
    """Per draw: each figure's simulated mean and standard error, its distance and whether it is kept.

    ``per_rep``: draw, rep, figure, value (the current scenario's replications).
    Returns draw, figure, observed, tolerance, mean, se, distance, consistent, and a
    row per draw with figure ``"all"`` whose ``consistent`` says whether the draw is kept.
    """
    rows = []
    for draw, g in per_rep.groupby("draw", sort=True):
        keep = True
        for ob in observed:
            x = g.loc[g["figure"] == ob.figure, "value"].to_numpy(float)
            x = x[~np.isnan(x)]
            mean = float(x.mean()) if len(x) else float("nan")
            se = float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else 0.0
            distance = abs(mean - ob.value)
            ok = bool(len(x)) and distance <= ob.tolerance + NOISE_Z * se
            keep &= ok
            rows.append((draw, ob.figure, ob.value, ob.tolerance, mean, se, distance, ok))
        rows.append((draw, "all", np.nan, np.nan, np.nan, np.nan, np.nan, keep))
    return pd.DataFrame(rows, columns=["draw", "figure", "observed", "tolerance", "mean", "se", "distance",
                                       "consistent"])


def narrowing(values: pd.DataFrame, kept: list[int], ranges: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """How much of each input's range the kept draws still span.

    ``values``: one row per draw (index = draw), one column per input (the value used);
    ``ranges``: input → (low, high) before matching.
    """
    rows = []
    k = values.loc[values.index.isin(kept)]
    for name, (lo, hi) in ranges.items():
        if k.empty:
            rows.append((name, lo, hi, np.nan, np.nan, 0.0, len(values), 0))
            continue
        a, b = float(k[name].min()), float(k[name].max())
        rows.append((name, lo, hi, a, b, (b - a) / (hi - lo), len(values), len(k)))
    return pd.DataFrame(rows, columns=["input", "low", "high", "kept_low", "kept_high", "share_of_range_left",
                                       "draws", "draws_kept"])


__all__ = ["FIGURES", "Observed", "read_observed", "figures", "match", "narrowing", "NOISE_Z"]

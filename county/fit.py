"""Fit what a platform case export can tell about a scenario, with confidence intervals.

Every fitted value is written into a scenario that ``extends`` the original (see
:mod:`.write`), each with its provenance ("fitted from 14,212 cases, 2023-01 to 2023-09").
All intervals are at :data:`CONFIDENCE` (95 %).

**Violation rates by town and class.**  The platform sees reported cases, not violations.
In a steady state (a platform running for years) every violation that is ever found is
reported at the rate violations arise times the share ever found; the model's grid finds
every violation eventually (its rate is positive wherever a village has grid workers), so
the rate of reported cases estimates the rate of arising.  For class *k* and town *t*:
``cases / years`` with an exact Poisson interval, and the scenario's rate factor
``rate_factors.k.t = old factor × fitted rate / the scenario's expected rate`` (expected
rate from :func:`enforcement_grid.sim.processes.violations.rate_table`).  Slow classes
(hidden hazards, found over months) are underestimated by short or young exports.

**Hour-of-day and weekday profiles** of each class from the report times (24 and 7
weights, half a case added to every bin, weekdays divided by how often each occurs in the
period).  They are profiles of reports: the model applies them to arising, which comes
earlier by the discovery delay.

**Channel shares → discovery parameters.**  The shares of cases found by grid workers,
complaints, patrols and inspections (per class; campaign and other sources left out).  In
the model (:mod:`enforcement_grid.sim.processes.discovery`) the grid notices a violation at
rate ``classes.k.grid_notice_per_day`` × village grid coverage, complaints come at
``classes.k.complaint_per_day`` while it is noticeable, and patrols and inspections find it
on visits with ``patrol_detect_prob`` / ``inspection_detect_prob``, at a frequency set by
the staffing and the patrol plan.  Treating the channels as competing hazards
(share of channel c = hazard of c ÷ total hazard) and keeping the active hazards (patrol,
inspection: they depend on the plan being assessed) fixed, the passive rates become::

    grid_notice_per_day  ×= (s_grid / s0_grid)           × (s0_active / s_active)
    complaint_per_day    ×= (s_complaint / s0_complaint) × (s0_active / s_active)

where ``s`` are the export's shares and ``s0`` those of a reference run of the original
scenario, counted by the same rule (:func:`.export.cases_of_run`).  The step is then
repeated once (``refine``) against a reference run of the scenario with the values found,
since the hazards are not exactly competing exponentials (patrols are visits, complaints
stop when a violation is no longer noticeable); the interval is that of the last step.
When either has no patrol or inspection finds, the passive total is kept instead (``× (s0_passive /
s_passive)``).  Intervals: parametric bootstrap of both multinomial counts.  The detection
probabilities are not fitted.

**On-site time.**  For cases closed within :data:`SAME_VISIT_MAX_MIN` of the first action
(put right at the visit), closure − action is the time on site.  Its mean in the export
÷ its mean in the reference run (same rule) scales ``on_site_mean_min`` of the class's items.

**Closure times** (report → closure) are fitted as distributions (quantiles) for the report
and the held-out check; they are outcomes of staffing, queues and the case lifecycle, not
one parameter, so they are not written into the scenario.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from enforcement_grid.sim.config import DAYS_PER_YEAR, Scenario
from enforcement_grid.sim.processes.violations import rate_table
from enforcement_grid.experiments.runner import run

from .cases import CaseTable, Mapping
from .export import cases_of_run, minutes_between

CONFIDENCE = 0.95
Z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
FIT_CHANNELS = ("grid", "complaint", "patrol", "inspection")
ACTIVE = ("patrol", "inspection")
PASSIVE_PARAMETER = {"grid": "grid_notice_per_day", "complaint": "complaint_per_day"}
MIN_CLASS_CASES = 30  # fewer cases of a class: its profile, shares and times are not fitted
MIN_PROFILE_CASES = 100
SAME_VISIT_MAX_MIN = 480.0  # closed within 8 hours of the first action: put right at the visit
BOOTSTRAP = 1000
REFERENCE_START = pd.Timestamp("2024-01-01")  # a Monday: the date of a reference run's minute 0


# --------------------------------------------------------------------------- rates


def expected_rates(sc: Scenario) -> pd.DataFrame:
    """The scenario's expected new violations a year by class and town (klass, town, per_year)."""
    rt = rate_table(sc)
    town = np.array([v.town for v in sc.villages])[rt.village]
    klass = np.array(rt.class_keys)[rt.pair_class]
    df = pd.DataFrame({"klass": klass, "town": town, "per_year": rt.per_year})
    full = pd.MultiIndex.from_product([list(sc.settings.classes), [t.town for t in sc.towns]], names=["klass", "town"])
    return df.groupby(["klass", "town"])["per_year"].sum().reindex(full, fill_value=0.0).reset_index()


def poisson_interval(n: np.ndarray, exposure: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval of a Poisson rate: ``n`` events over ``exposure``."""
    a = 1 - CONFIDENCE
    n = np.asarray(n, float)
    lo = np.where(n > 0, stats.chi2.ppf(a / 2, 2 * n) / 2, 0.0)
    hi = stats.chi2.ppf(1 - a / 2, 2 * n + 2) / 2
    return lo / exposure, hi / exposure


def fit_rates(cases: CaseTable, sc: Scenario) -> pd.DataFrame:
    """klass, town, cases, per_year, ci_low, ci_high, model_per_year, old_factor, factor, factor_low,
    factor_high, fitted (a class with fewer than MIN_CLASS_CASES cases is not fitted)."""
    years = cases.days / DAYS_PER_YEAR
    exp = expected_rates(sc)
    counts = cases.mapped.groupby(["klass", "town"]).size()
    exp["cases"] = [int(counts.get((k, t), 0)) for k, t in zip(exp["klass"], exp["town"])]
    exp["per_year"], exp["model_per_year"] = exp["cases"] / years, exp["per_year"]
    exp["ci_low"], exp["ci_high"] = poisson_interval(exp["cases"].to_numpy(), years)
    rf = sc.settings.rate_factors
    exp["old_factor"] = [rf.get(k, {}).get(t, 1.0) for k, t in zip(exp["klass"], exp["town"])]
    per_model = exp["model_per_year"].where(exp["model_per_year"] > 0)
    for col, src in (("factor", "per_year"), ("factor_low", "ci_low"), ("factor_high", "ci_high")):
        exp[col] = exp["old_factor"] * exp[src] / per_model
    class_cases = exp.groupby("klass")["cases"].transform("sum")
    exp["fitted"] = (class_cases >= MIN_CLASS_CASES) & per_model.notna()
    cols = ["klass", "town", "cases", "per_year", "ci_low", "ci_high", "model_per_year", "old_factor",
            "factor", "factor_low", "factor_high", "fitted"]
    return exp[cols]


# --------------------------------------------------------------------------- profiles


def fit_profiles(cases: CaseTable) -> dict[str, dict]:
    """Per class with enough cases: ``hour_of_day`` (24) and ``day_of_week`` (7, Monday first)
    weights of the report times, each with mean one, and the number of cases ``n``."""
    start, end = cases.period
    days = pd.date_range(start.normalize(), end - pd.Timedelta(seconds=1), freq="D")
    weekday_days = np.bincount(days.day_of_week, minlength=7).astype(float)
    out = {}
    for klass, g in cases.mapped.groupby("klass"):
        if len(g) < MIN_PROFILE_CASES:
            continue
        t = g["reported_at"]
        hod = np.bincount(t.dt.hour, minlength=24) + 0.5
        dow = (np.bincount(t.dt.day_of_week, minlength=7) + 0.5) / np.maximum(weekday_days, 1.0)
        out[klass] = {"hour_of_day": [round(x, 3) for x in hod / hod.mean()],
                      "day_of_week": [round(x, 3) for x in dow / dow.mean()], "n": len(g)}
    return out


# --------------------------------------------------------------------------- channels and discovery


def channel_counts(cases: CaseTable) -> pd.DataFrame:
    """Cases by class (rows) and discovery channel (columns :data:`FIT_CHANNELS`)."""
    m = cases.mapped
    m = m[m["channel"].isin(FIT_CHANNELS)]
    table = m.groupby(["klass", "channel"]).size().unstack(fill_value=0)
    return table.reindex(columns=list(FIT_CHANNELS), fill_value=0)


def wilson(k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a share ``k / n``."""
    k, n = np.asarray(k, float), np.asarray(n, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
        half = Z * np.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


def shares_table(data: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """klass, channel, cases, share, ci_low, ci_high, reference_cases, reference_share."""
    rows = []
    for klass in data.index.union(reference.index):
        d = data.loc[klass] if klass in data.index else pd.Series(0, index=list(FIT_CHANNELS))
        r = reference.loc[klass] if klass in reference.index else pd.Series(0, index=list(FIT_CHANNELS))
        lo, hi = wilson(d.to_numpy(), np.full(len(d), d.sum()))
        for j, ch in enumerate(FIT_CHANNELS):
            rows.append({"klass": klass, "channel": ch, "cases": int(d[ch]),
                         "share": d[ch] / d.sum() if d.sum() else math.nan, "ci_low": lo[j], "ci_high": hi[j],
                         "reference_cases": int(r[ch]),
                         "reference_share": r[ch] / r.sum() if r.sum() else math.nan})
    return pd.DataFrame(rows)


def _multipliers(s: np.ndarray, s0: np.ndarray, anchor: str) -> np.ndarray:
    """Passive-rate multipliers (grid, complaint) from shares ``s`` and reference shares ``s0``
    (last axis in FIT_CHANNELS order), anchored on the ``active`` or the ``passive`` total."""
    g, c = FIT_CHANNELS.index("grid"), FIT_CHANNELS.index("complaint")
    idx = [FIT_CHANNELS.index(a) for a in ACTIVE] if anchor == "active" else [g, c]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = s0[..., idx].sum(-1) / s[..., idx].sum(-1)
        return np.stack([s[..., g] / s0[..., g] * ratio, s[..., c] / s0[..., c] * ratio], -1)


def fit_discovery(data: pd.DataFrame, reference: pd.DataFrame, sc: Scenario, seed: int) -> pd.DataFrame:
    """klass, parameter, old, new, ci_low, ci_high, anchor, note — one row per passive parameter."""
    rng = np.random.default_rng(seed)
    rows = []
    for klass in sc.settings.classes:
        cls = sc.settings.classes[klass]
        d = data.loc[klass].to_numpy(float) if klass in data.index else np.zeros(len(FIT_CHANNELS))
        r = reference.loc[klass].to_numpy(float) if klass in reference.index else np.zeros(len(FIT_CHANNELS))
        for ch, param in PASSIVE_PARAMETER.items():
            old = getattr(cls, param)
            row = {"klass": klass, "parameter": param, "channel": ch, "old": old, "new": old,
                   "ci_low": math.nan, "ci_high": math.nan, "anchor": "", "fitted": False, "note": ""}
            j = FIT_CHANNELS.index(ch)
            if d.sum() < MIN_CLASS_CASES:
                row["note"] = f"not fitted: {int(d.sum())} cases of known channel (fewer than {MIN_CLASS_CASES})"
            elif r.sum() < MIN_CLASS_CASES:
                row["note"] = f"not fitted: the reference run has only {int(r.sum())} cases of this class"
            elif r[j] == 0:
                row["note"] = (f"not fitted: the scenario finds none of this class by {ch} "
                               f"({param} = {old:g}); set it above 0 to fit it")
            else:
                active = [FIT_CHANNELS.index(a) for a in ACTIVE]
                anchor = "active" if d[active].sum() > 0 and r[active].sum() > 0 else "passive"
                m = _multipliers(d / d.sum(), r / r.sum(), anchor)
                bs = _multipliers(rng.multinomial(int(d.sum()), d / d.sum(), BOOTSTRAP) / d.sum(),
                                  rng.multinomial(int(r.sum()), r / r.sum(), BOOTSTRAP) / r.sum(), anchor)
                k = list(PASSIVE_PARAMETER).index(ch)
                a = (1 - CONFIDENCE) / 2 * 100
                lo, hi = np.nanpercentile(bs[:, k], [a, 100 - a])
                row.update(new=old * m[k], ci_low=old * lo, ci_high=old * hi, anchor=anchor, fitted=True)
            rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- times


def same_visit_minutes(cases: CaseTable) -> pd.Series:
    """Minutes from first action to closure of cases closed at the visit (≤ SAME_VISIT_MAX_MIN), by row."""
    m = cases.mapped
    d = minutes_between(m["on_site_at"], m["closed_at"])
    return d[(d > 0) & (d <= SAME_VISIT_MAX_MIN)]


def fit_on_site(cases: CaseTable, reference: CaseTable) -> pd.DataFrame:
    """klass, cases, mean_min, cv, reference_cases, reference_mean_min, factor, factor_low, factor_high, fitted."""
    rows = []
    d_all, r_all = same_visit_minutes(cases), same_visit_minutes(reference)
    dk, rk = cases.mapped.loc[d_all.index, "klass"], reference.mapped.loc[r_all.index, "klass"]
    for klass in sorted(set(dk) | set(rk)):
        d, r = d_all[dk == klass], r_all[rk == klass]
        row = {"klass": klass, "cases": len(d), "mean_min": d.mean() if len(d) else math.nan,
               "cv": d.std(ddof=1) / d.mean() if len(d) > 1 else math.nan, "reference_cases": len(r),
               "reference_mean_min": r.mean() if len(r) else math.nan, "factor": 1.0,
               "factor_low": math.nan, "factor_high": math.nan, "fitted": False}
        if len(d) >= MIN_CLASS_CASES and len(r) >= MIN_CLASS_CASES:
            f = d.mean() / r.mean()
            se = math.sqrt(d.var(ddof=1) / len(d) / d.mean() ** 2 + r.var(ddof=1) / len(r) / r.mean() ** 2)
            row.update(factor=f, factor_low=f * math.exp(-Z * se), factor_high=f * math.exp(Z * se), fitted=True)
        rows.append(row)
    return pd.DataFrame(rows, columns=["klass", "cases", "mean_min", "cv", "reference_cases", "reference_mean_min",
                                       "factor", "factor_low", "factor_high", "fitted"])


def closure_hours(cases: CaseTable) -> pd.DataFrame:
    """klass, row, hours from report to closure of closed cases."""
    m = cases.mapped
    h = minutes_between(m["reported_at"], m["closed_at"]) / 60.0
    ok = h.notna()
    return pd.DataFrame({"klass": m.loc[ok, "klass"], "hours": h[ok]})


def closure_table(cases: CaseTable) -> pd.DataFrame:
    """klass, cases, closed, median_hours (with CI), p90_hours, mean_hours."""
    h = closure_hours(cases)
    rows = []
    for klass, g in cases.mapped.groupby("klass"):
        x = np.sort(h.loc[h["klass"] == klass, "hours"].to_numpy())
        n = len(x)
        row = {"klass": klass, "cases": len(g), "closed": n, "median_hours": math.nan, "median_low": math.nan,
               "median_high": math.nan, "p90_hours": math.nan, "mean_hours": math.nan}
        if n:
            # distribution-free interval of the median from binomial order statistics
            lo_i = int(stats.binom.ppf((1 - CONFIDENCE) / 2, n, 0.5))
            hi_i = min(n - 1, int(stats.binom.ppf(1 - (1 - CONFIDENCE) / 2, n, 0.5)))
            row.update(median_hours=float(np.median(x)), median_low=float(x[max(lo_i - 1, 0)]),
                       median_high=float(x[hi_i]), p90_hours=float(np.quantile(x, 0.9)), mean_hours=float(x.mean()))
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- everything


@dataclass
class Fit:
    """Everything fitted from one export against one scenario."""

    cases: CaseTable
    reference: CaseTable
    rates: pd.DataFrame
    profiles: dict[str, dict]
    shares: pd.DataFrame
    discovery: pd.DataFrame
    on_site: pd.DataFrame
    closure: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def reference_cases(sc: Scenario, mapping: Mapping, replications: int, workers: int | None = 1) -> CaseTable:
    """The original scenario's own cases, counted as an export would count them."""
    runset = run(sc, replications, workers=workers, keep_records=True)
    return cases_of_run(runset.records, sc, mapping, REFERENCE_START)


def with_discovery(sc: Scenario, discovery: pd.DataFrame) -> Scenario:
    """The scenario with the fitted passive discovery rates in its classes."""
    classes = dict(sc.settings.classes)
    for klass, g in discovery[discovery["fitted"]].groupby("klass"):
        classes[klass] = classes[klass].model_copy(update=dict(zip(g["parameter"], g["new"].astype(float))))
    return dataclasses.replace(sc, settings=sc.settings.model_copy(update={"classes": classes}))


def fit_all(cases: CaseTable, sc: Scenario, mapping: Mapping, replications: int = 2,
            workers: int | None = 1, reference: CaseTable | None = None, refine: int = 1) -> Fit:
    """Fit rates, profiles, discovery parameters and times (see the module docstring)."""
    if reference is None:
        reference = reference_cases(sc, mapping, replications, workers)
    data_ch, ref_ch = channel_counts(cases), channel_counts(reference)
    seed = sc.settings.scenario.seed
    discovery = fit_discovery(data_ch, ref_ch, sc, seed)
    current = sc
    for _ in range(refine):  # the competing-hazards step again, against the scenario with the values found
        if not discovery["fitted"].any():
            break
        current = with_discovery(current, discovery)
        again = channel_counts(reference_cases(current, mapping, replications, workers))
        discovery = fit_discovery(data_ch, again, current, seed)
    discovery["old"] = [getattr(sc.settings.classes[k], p) for k, p in zip(discovery["klass"], discovery["parameter"])]
    fit = Fit(
        cases=cases, reference=reference, rates=fit_rates(cases, sc), profiles=fit_profiles(cases),
        shares=shares_table(data_ch, ref_ch), discovery=discovery,
        on_site=fit_on_site(cases, reference), closure=closure_table(cases),
    )
    n_unmapped = int(cases.unmapped["cases"].sum()) if len(cases.unmapped) else 0
    if n_unmapped:
        fit.notes.append(f"{n_unmapped:,} cases in {len(cases.unmapped)} categories are not mapped to an item "
                         f"and left out of every fit; they are listed in unmapped.csv — add them to the mapping table")
    n_other = int(cases.other_sources["cases"].sum()) if len(cases.other_sources) else 0
    if n_other:
        fit.notes.append(f"{n_other:,} cases from other sources ({', '.join(cases.other_sources['source'][:5])}) "
                         f"count in the rates but not in the channel shares")
    if len(cases.unknown_villages):
        fit.notes.append(f"{int(cases.unknown_villages['cases'].sum()):,} cases name a village that is not in the "
                         f"scenario's villages of their town; rates are fitted by town, so they still count")
    for klass in sc.settings.classes:
        if not fit.rates.loc[fit.rates["klass"] == klass, "fitted"].any():
            n = int(fit.rates.loc[fit.rates["klass"] == klass, "cases"].sum())
            fit.notes.append(f"class {klass}: {n} cases — fewer than {MIN_CLASS_CASES}, its rates are not fitted")
    return fit

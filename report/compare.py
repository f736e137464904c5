"""Compare plans on paired replications (common random numbers).

Two runs made with the same seed see the same violations in replication ``r``
(one random stream per activity, spawned from ``(seed, r)``), so the difference
of a measure between the plans is best estimated replication by replication:
``d_r = value_b(r) − value_a(r)``, with a t interval on the mean of ``d_r``.  That
interval is much narrower than one built from the two plans' separate intervals,
because the violation noise they share cancels.

If the runs have different seeds (no common random numbers), the pairing means
nothing and the difference gets Welch's unpaired interval instead; the
``method`` column says which was used.

:func:`compare_runs` returns one tidy table; :func:`format_comparison` renders it
as text for the command line (``egrid compare RUN_DIR RUN_DIR …``).  Plans are
compared each against the first (``pairs="first"``) or every pair ``i < j``
(``pairs="all"``), each pair on its own paired replications.

**Plan names** have one home, :func:`plan_labels`: with a language, a plan is
named by its scenario title in that language (``[scenario] title_zh`` /
``title_en``); a plan without a title in that language, or whose title another
plan shares, keeps the name it has without a language — its scenario name, or
its run folder's name when two plans share a scenario name, or that with
``#position`` when those clash too.  The reports (:mod:`report.html`) name plans
by the same rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from enforcement_grid.sim.measures import is_share, mean_interval, t_quantile

from . import labels as L
from .rundir import RunDir, load_run

COLUMNS = [
    "plan_a", "plan_b", "scope", "metric",
    "mean_a", "ci_low_a", "ci_high_a", "mean_b", "ci_low_b", "ci_high_b",
    "diff", "diff_ci_low", "diff_ci_high", "n_pairs", "method", "significant",
]


PAIRS = ("first", "all")


class _Plan:
    """What a comparison needs of a run: its name, titles, seed and per-replication measures."""

    def __init__(self, run):
        if isinstance(run, RunDir) or not hasattr(run, "metrics"):
            r = load_run(run)
            self.name, self.seed, self.metrics = r.name, r.seed, r.replications
            self.folder = r.path.name
            s = r.settings.get("scenario", {})
            self.titles = {lang: s.get(f"title_{lang}") or "" for lang in L.LANGS}
        else:  # a sim.runner.RunSet in memory
            sc = run.scenario
            self.name, self.seed, self.metrics = sc.name, sc.settings.scenario.seed, run.metrics
            self.folder = sc.name
            s = sc.settings.scenario
            self.titles = {lang: getattr(s, f"title_{lang}", "") or "" for lang in L.LANGS}
        self.label = self.name


def plan_labels(runs: Sequence, lang: str | None = None) -> list[str]:
    """The names of plans (run folders, :class:`RunDir` or in-memory RunSets), distinct, in their order.

    The rule is the module docstring's: the scenario title in ``lang`` if the plan has one
    and no other plan shares it, else the scenario name, else the folder name, else
    ``<name>#<position>``.
    """
    plans = [p if isinstance(p, _Plan) else _Plan(p) for p in runs]
    return _name_plans(plans, lang)


def _name_plans(plans: list[_Plan], lang: str | None) -> list[str]:
    names = [p.name for p in plans]
    for p in plans:  # plans of the same scenario: name them by their folders
        p.label = p.folder if names.count(p.name) > 1 else p.name
    labels = [p.label for p in plans]
    for i, p in enumerate(plans):  # and if those clash too, by their position
        if labels.count(p.label) > 1:
            p.label = f"{p.label}#{i + 1}"
    if lang is not None:
        L.t("report.title", lang)  # checks lang
        titles = [p.titles.get(lang, "") for p in plans]
        for p, title in zip(plans, titles):
            if title and titles.count(title) == 1 and title not in [q.label for q in plans if q is not p]:
                p.label = title
    return [p.label for p in plans]


def _mean_ci(values: np.ndarray, confidence: float, share: bool = False,
             positive: bool = False) -> tuple[float, float, float, int]:
    """Mean and interval over replications, by the summary's own rule (sim.measures.mean_interval);
    ``positive``: a plan's own measure (never negative), not a difference."""
    v = values[~np.isnan(values)]
    n = len(v)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    m = float(v.mean())
    if n < 2:
        return m, math.nan, math.nan, n
    lo, hi = mean_interval(m, v.std(ddof=1), n, share, confidence, positive)
    return m, float(lo), float(hi), n


def _welch(a: np.ndarray, b: np.ndarray, confidence: float) -> tuple[float, float, float]:
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if len(a) == 0 or len(b) == 0:
        return math.nan, math.nan, math.nan
    d = float(b.mean() - a.mean())
    if len(a) < 2 or len(b) < 2:
        return d, math.nan, math.nan
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return d, d, d
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = t_quantile(confidence, df) * se
    return d, d - half, d + half


def _wide(metrics: pd.DataFrame) -> pd.DataFrame:
    """(scope, metric) rows in their order of first appearance, one column per replication."""
    m = metrics.drop_duplicates(["scope", "metric", "rep"])
    order = list(dict.fromkeys(zip(m["scope"], m["metric"])))
    wide = m.set_index(["scope", "metric", "rep"])["value"].astype(float).unstack("rep")
    return wide.reindex(pd.MultiIndex.from_tuples(order, names=["scope", "metric"]))


def _compare_two(a: _Plan, b: _Plan, confidence: float) -> pd.DataFrame:
    paired = a.seed is not None and a.seed == b.seed
    ma = _wide(a.metrics)
    mb = _wide(b.metrics)
    keys = list(dict.fromkeys(list(ma.index) + list(mb.index)))  # the runs' own order
    common = sorted(set(ma.columns) & set(mb.columns))
    if not common:
        paired = False
    rows = []
    for key in keys:
        va = ma.loc[key].to_numpy(float) if key in ma.index else np.array([])
        vb = mb.loc[key].to_numpy(float) if key in mb.index else np.array([])
        mean_a, lo_a, hi_a, _ = _mean_ci(va, confidence, is_share(key[1]), positive=True)
        mean_b, lo_b, hi_b, _ = _mean_ci(vb, confidence, is_share(key[1]), positive=True)
        if paired and key in ma.index and key in mb.index:
            d = mb.loc[key, common].to_numpy(float) - ma.loc[key, common].to_numpy(float)
            diff, lo, hi, n = _mean_ci(d, confidence)
            method = "paired"
        else:
            diff, lo, hi = _welch(va, vb, confidence)
            n = 0
            method = "welch"
        significant = bool(not math.isnan(lo) and not math.isnan(hi) and (lo > 0 or hi < 0))
        rows.append((a.label, b.label, key[0], key[1], mean_a, lo_a, hi_a, mean_b, lo_b, hi_b, diff, lo, hi, n, method, significant))
    return pd.DataFrame(rows, columns=COLUMNS)


def compare_runs(run_a, run_b, *more, confidence: float = 0.95, pairs: str = "first",
                 lang: str | None = None) -> pd.DataFrame:
    """Every measure per scope in two or more plans, compared pair by pair on paired replications.

    Runs are run folders (paths), loaded :class:`~report.rundir.RunDir` objects or
    in-memory :class:`sim.runner.RunSet` objects.  ``pairs="first"`` (default)
    compares each plan after the first to the first; ``pairs="all"`` every pair
    ``i < j`` (n(n−1)/2 blocks, plan ``i`` as ``plan_a``).  Returns one row per
    (pair, scope, metric) with columns :data:`COLUMNS`:

    * ``mean_*``, ``ci_low_*``, ``ci_high_*`` — each plan's mean and t interval over
      its replications (as in summary.csv);
    * ``diff`` = b − a with ``diff_ci_low``/``diff_ci_high`` from the paired
      per-replication differences (``n_pairs`` replications seen by both, NaN pairs
      dropped), or Welch's interval if the seeds differ (``method``);
    * ``significant`` — the interval excludes 0.

    Plans are named by :func:`plan_labels` (``plan_a``, ``plan_b``): by scenario name,
    or with ``lang`` by the scenario title in that language.  Scopes or measures
    present in only one run keep NaN on the other side.
    """
    if pairs not in PAIRS:
        raise ValueError(f"pairs must be one of {', '.join(PAIRS)}, got {pairs!r}")
    plans = [_Plan(r) for r in (run_a, run_b, *more)]
    _name_plans(plans, lang)
    if pairs == "first":
        couples = [(0, j) for j in range(1, len(plans))]
    else:
        couples = [(i, j) for i in range(len(plans)) for j in range(i + 1, len(plans))]
    return pd.concat([_compare_two(plans[i], plans[j], confidence) for i, j in couples], ignore_index=True)


def _fmt(metric: str, v: float, signed: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    factor, kind = L.metric_scale(metric)
    x = v * factor
    sign = "+" if signed else ""
    if kind == "pct":
        return f"{x:{sign}.1f}%" if not signed else f"{x:{sign}.1f} pp"
    if kind == "hours":
        return f"{x:{sign},.2f} h"
    return f"{x:{sign},.1f}"


def format_value(metric: str, mean: float, low: float, high: float, signed: bool = False) -> str:
    """``mean [low, high]`` in the measure's display unit (per cent, hours or count)."""
    if low is None or (isinstance(low, float) and math.isnan(low)):
        return _fmt(metric, mean, signed)
    return f"{_fmt(metric, mean, signed)} [{_fmt(metric, low, signed)}, {_fmt(metric, high, signed)}]"


def format_comparison(
    table: pd.DataFrame,
    lang: str = "en",
    scopes: Sequence[str] | None = ("county",),
    metrics: Sequence[str] | None = None,
    class_labels=None,
) -> str:
    """The comparison as aligned text, one block per compared plan (for the command line).

    ``scopes``: which scopes to show (``None``: all); ``metrics``: which measures
    (``None``: all); ``class_labels``: the run's classes (:attr:`report.rundir.RunDir.class_labels`).  Significant differences are marked ``*``.
    """
    out = []
    for (a, b), part in table.groupby(["plan_a", "plan_b"], sort=False):
        if scopes is not None:
            part = part[part["scope"].isin(scopes)]
        if metrics is not None:
            part = part[part["metric"].isin(metrics)]
        method = ", ".join(L.t(f"method.{m}", lang) for m in sorted(part["method"].unique()))
        out.append(L.t("compare.block", lang, a=a, b=b, method=method))
        rows = []
        for _, r in part.iterrows():
            rows.append((
                L.town_label(r["scope"], lang) if r["scope"] == "county" else r["scope"],
                L.metric_label(r["metric"], lang, class_labels),
                format_value(r["metric"], r["mean_a"], r["ci_low_a"], r["ci_high_a"]),
                format_value(r["metric"], r["mean_b"], r["ci_low_b"], r["ci_high_b"]),
                format_value(r["metric"], r["diff"], r["diff_ci_low"], r["diff_ci_high"], signed=True),
                "*" if r["significant"] else "",
            ))
        header = (L.t("col.scope", lang), L.t("col.metric", lang), str(a), str(b), L.t("col.diff", lang), "")
        widths = [max(_width(x) for x in col) for col in zip(header, *rows)]
        for row in [header, *rows]:
            out.append("  ".join(_pad(x, w) for x, w in zip(row, widths)).rstrip())
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def _pad(text: str, width: int) -> str:
    return str(text) + " " * (width - _width(text))

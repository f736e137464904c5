"""The headlines of a study, per draw and replication, and their two kinds of interval.

Headlines (all county, share of violations acted on within target, from arising):

* ``coverage``, ``coverage_weighted`` and ``coverage_<class>`` of the current scenario;
* ``effect:coverage`` — current − before (the reform's effect), if the study has a before variant;
* ``gain:<A>-vs-<B>`` — coverage of alternative A − alternative B, for every pair of the
  alternatives (the current scenario and each plan).

Differences are taken replication by replication (common random numbers) and then
averaged over the draw's replications.

Two intervals, side by side (:func:`intervals`):

* ``noise`` — **simulation noise only**: the 95 % t interval of the mean over the
  nominal draw's replications (every input at the scenario's value);
* ``noise+input`` — **simulation noise plus input uncertainty**: the central 95 % of
  the outer draws (each the mean of its inner replications), over the design's draws
  (and, with observed figures, over the draws kept by history matching).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from enforcement_grid.sim.measures import summarise

LABELS = {
    "noise": ("simulation noise only (95 % CI of the mean, nominal inputs)",
              "仅模拟噪声（名义输入下均值的 95% 置信区间）"),
    "noise+input": ("simulation noise + input uncertainty (central 95 % of parameter draws)",
                    "模拟噪声 + 输入不确定性（参数抽样的中间 95%）"),
    "noise+input, matched": ("simulation noise + input uncertainty, draws consistent with observed figures",
                             "模拟噪声 + 输入不确定性，仅与观测数据一致的抽样"),
}


def alternatives(study) -> list[str]:
    return [v.label for v in study.variants if v.role in ("current", "plan")]


def headline_reps(results: pd.DataFrame, study) -> pd.DataFrame:
    """draw, rep, headline, value from the stored results (draw, variant, rep, metric, value)."""
    wide = results.pivot_table(index=["draw", "rep", "metric"], columns="variant", values="value",
                               aggfunc="first", dropna=False)
    parts = []
    cur = wide["current"] if "current" in wide else None
    if cur is None:
        return pd.DataFrame(columns=["draw", "rep", "headline", "value"])
    classes = [f"coverage_{k}" for k in study.variants[0].scenario.settings.classes]
    for m in ["coverage", "coverage_weighted", *classes]:
        s = cur.xs(m, level="metric")
        parts.append(s.rename("value").reset_index().assign(headline=m))
    cov = wide.xs("coverage", level="metric")
    if "before" in cov:
        d = cov["current"] - cov["before"]
        parts.append(d.rename("value").reset_index().assign(headline="effect:coverage"))
    alts = alternatives(study)
    for i, a in enumerate(alts):
        for b in alts[i + 1:]:
            d = cov[a] - cov[b]
            parts.append(d.rename("value").reset_index().assign(headline=f"gain:{a}-vs-{b}"))
    out = pd.concat(parts, ignore_index=True)[["draw", "rep", "headline", "value"]]
    return out.sort_values(["draw", "rep"], kind="stable", ignore_index=True)


def headline_draws(reps: pd.DataFrame) -> pd.DataFrame:
    """draw × headline table of means over each draw's replications."""
    table = reps.groupby(["draw", "headline"], sort=False)["value"].mean().unstack("headline")
    return table.reindex(columns=pd.unique(reps["headline"]))


def intervals(reps: pd.DataFrame, draws: pd.DataFrame, kept: list[int] | None = None) -> pd.DataFrame:
    """headline, kind, label_en, label_zh, mean, low, high, n — the two kinds of interval, labelled."""
    rows = []
    nominal = reps[reps["draw"] == 0]
    if not nominal.empty:
        s = summarise(nominal.assign(scope="county").rename(columns={"headline": "metric"})
                      [["scope", "metric", "rep", "value"]])
        for r in s.itertuples():
            rows.append((r.metric, "noise", r.mean, r.ci_low, r.ci_high, int(r.n)))
    outer = draws[draws.index > 0]
    sets = [("noise+input", outer)]
    if kept is not None:
        sets.append(("noise+input, matched", outer[outer.index.isin(kept)]))
    for kind, table in sets:
        for h in draws.columns:
            x = table[h].dropna().to_numpy(float) if h in table else np.array([])
            if len(x):
                rows.append((h, kind, float(x.mean()), float(np.percentile(x, 2.5)), float(np.percentile(x, 97.5)),
                             len(x)))
            else:
                rows.append((h, kind, np.nan, np.nan, np.nan, 0))
    df = pd.DataFrame(rows, columns=["headline", "kind", "mean", "low", "high", "n"])
    df.insert(2, "label_en", df["kind"].map(lambda k: LABELS[k][0]))
    df.insert(3, "label_zh", df["kind"].map(lambda k: LABELS[k][1]))
    order = {h: i for i, h in enumerate(draws.columns)}
    return df.sort_values("headline", key=lambda s: s.map(order), kind="stable", ignore_index=True)


__all__ = ["headline_reps", "headline_draws", "intervals", "alternatives", "LABELS"]

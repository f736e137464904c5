"""Held-out months: fit on the first part of an export, simulate the rest, compare.

The export's period is split: the last ``months`` months are held out.  The scenario is
fitted on the months before (:func:`.fit.fit_all`), written (``fitted/``), and simulated
over the held-out months (after its warm-up, starting on a Monday so weekdays line up) for
a few replications; the model's cases are counted by the same rule as the export's
(:func:`.export.cases_of_run`).  Compared, at :data:`~.fit.CONFIDENCE`:

* **monthly cases by town**: the export's count against the model's 95 % prediction
  interval over replications (mean ± t₀.₉₇₅,ₙ₋₁ · sd · √(1 + 1/n)); outside it is a miss;
* **channel shares by class**: a miss when the export's and the model's shares differ by
  more than Z · √(se²_export + se²_model) (se of the export binomial, of the model from the
  replications);
* **median report → closure hours by class**: a miss when the export's median interval
  (order statistics) and the model's interval (t over replications) do not overlap.

The report says plainly, line by line, where the model misses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from enforcement_grid.sim.config import Scenario
from enforcement_grid.sim.errors import ScenarioError
from enforcement_grid.sim.load import load_scenario
from enforcement_grid.sim.staging import check_target, staged_folder
from enforcement_grid.experiments.runner import run

from .cases import CaseTable, Mapping
from .export import cases_of_run
from .fit import CONFIDENCE, FIT_CHANNELS, Z, channel_counts, closure_table, fit_all
from .write import _md, write_fit


def subset(cases: CaseTable, start: pd.Timestamp, end: pd.Timestamp) -> CaseTable:
    """The cases reported in [start, end), as a table of that period."""
    f = cases.frame
    keep = (f["reported_at"] >= start) & (f["reported_at"] < end)
    return CaseTable(cases.file, f[keep].reset_index(drop=True), (start, end),
                     cases.unmapped, cases.other_sources, cases.unknown_villages)


@dataclass
class Holdout:
    split: pd.Timestamp
    fit_cases: CaseTable
    test_cases: CaseTable
    monthly: pd.DataFrame  # month, town, cases, model_mean, pi_low, pi_high, miss
    shares: pd.DataFrame  # klass, channel, share, model_share, model_low, model_high, miss
    closure: pd.DataFrame  # klass, median_hours, median_low, median_high, model_median, model_low, model_high, miss
    replications: int

    def misses(self) -> list[str]:
        out = []
        for r in self.monthly[self.monthly["miss"]].itertuples():
            side = "more" if r.cases > r.pi_high else "fewer"
            out.append(f"{r.town}, {r.month}: {r.cases:,} cases, {side} than the model's "
                       f"{r.model_mean:,.0f} [{r.pi_low:,.0f}, {r.pi_high:,.0f}]")
        for r in self.shares[self.shares["miss"]].itertuples():
            out.append(f"{r.klass} found by {r.channel}: {r.share:.1%} in the export, the model {r.model_share:.1%} "
                       f"[{r.model_low:.1%}, {r.model_high:.1%}]")
        for r in self.closure[self.closure["miss"]].itertuples():
            out.append(f"{r.klass} median report → closure: {r.median_hours:,.1f} h [{r.median_low:,.1f}, "
                       f"{r.median_high:,.1f}] in the export, the model {r.model_median:,.1f} h "
                       f"[{r.model_low:,.1f}, {r.model_high:,.1f}]")
        return out

    def summary_text(self) -> str:
        m = self.monthly
        inside = int((~m["miss"]).sum())
        lines = [f"Fitted on {self.fit_cases.provenance()}; held out {self.test_cases.provenance()}; "
                 f"{self.replications} replications.",
                 f"Monthly cases by town: {inside} of {len(m)} inside the model's {CONFIDENCE:.0%} prediction interval."]
        misses = self.misses()
        lines.append("Where the model misses:" if misses else "The model misses nowhere at this confidence.")
        lines += [f"  - {x}" for x in misses]
        return "\n".join(lines)


def _monthly(cases: CaseTable) -> pd.Series:
    f = cases.frame
    return f.groupby([f["reported_at"].dt.strftime("%Y-%m"), "town"]).size()


def holdout(cases: CaseTable, sc: Scenario, mapping: Mapping, months: int, folder: Path,
            replications: int = 5, workers: int | None = 1) -> Holdout:
    """Fit on the period less its last ``months`` months, write the fit to ``folder/fitted``,
    simulate the held-out months and compare (see the module docstring)."""
    start, end = cases.period
    split = (end - pd.DateOffset(months=months)).normalize()
    if split <= start:
        raise ScenarioError(f"--holdout-months {months}: the export's period ({start:%Y-%m-%d} to "
                            f"{end - pd.Timedelta(days=1):%Y-%m-%d}) is not longer than that")
    fit_cases, test_cases = subset(cases, start, split), subset(cases, split, end)
    if len(fit_cases.mapped) == 0 or len(test_cases.frame) == 0:
        raise ScenarioError(f"{cases.file}: no cases before or after {split:%Y-%m-%d}; expected both parts to have cases")
    fit = fit_all(fit_cases, sc, mapping, replications=2, workers=workers)
    write_fit(fit, sc, folder / "fitted", force=True)
    warmup = pd.Timedelta(days=sc.settings.scenario.warmup_days)
    sim0 = (split - warmup).normalize()
    sim0 = sim0 - pd.Timedelta(days=sim0.weekday())  # the model's day 0 is a Monday
    horizon_days = (end - sim0) / pd.Timedelta(days=1)
    warm_days = (split - sim0) / pd.Timedelta(days=1)
    fitted = load_scenario(folder / "fitted" / "scenario.toml",
                           [f"scenario.horizon_days={horizon_days}", f"scenario.warmup_days={warm_days}"])
    runset = run(fitted, replications, workers=workers, keep_records=True)
    per_rep = []
    for res in runset.results:
        per_rep.append(cases_of_run(res.records, fitted, mapping, sim0))

    # monthly counts by town
    data = _monthly(test_cases)
    model = pd.concat([_monthly(c).rename(i) for i, c in enumerate(per_rep)], axis=1)
    idx = data.index.union(model.index)
    model = model.reindex(idx).fillna(0.0)
    n = len(per_rep)
    t = float(stats.t.ppf(0.5 + CONFIDENCE / 2, max(n - 1, 1)))
    mean, sd = model.mean(axis=1), model.std(axis=1, ddof=1).fillna(0.0)
    half = t * sd * math.sqrt(1 + 1 / n)
    monthly = pd.DataFrame({"cases": data.reindex(idx).fillna(0).astype(int), "model_mean": mean,
                            "pi_low": (mean - half).clip(lower=0), "pi_high": mean + half}).reset_index()
    monthly.columns = ["month", "town", *monthly.columns[2:]]
    monthly["miss"] = (monthly["cases"] < monthly["pi_low"]) | (monthly["cases"] > monthly["pi_high"])

    # channel shares
    d_ch = channel_counts(test_cases)
    m_sh = []
    for c in per_rep:
        ch = channel_counts(c)
        m_sh.append(ch.div(ch.sum(axis=1), axis=0))
    rows = []
    for klass in d_ch.index:
        nd = d_ch.loc[klass].sum()
        for ch in FIT_CHANNELS:
            p = d_ch.loc[klass, ch] / nd if nd else math.nan
            ms = np.array([s.loc[klass, ch] if klass in s.index else math.nan for s in m_sh], float)
            mm = float(np.nanmean(ms)) if np.isfinite(ms).any() else math.nan
            se_m = float(np.nanstd(ms, ddof=1) / math.sqrt(np.isfinite(ms).sum())) if np.isfinite(ms).sum() > 1 else 0.0
            se_d = math.sqrt(p * (1 - p) / nd) if nd else math.nan
            gap = Z * math.sqrt(se_d ** 2 + se_m ** 2) if nd else math.nan
            rows.append({"klass": klass, "channel": ch, "cases": int(d_ch.loc[klass, ch]), "share": p,
                         "model_share": mm, "model_low": mm - t * se_m, "model_high": mm + t * se_m,
                         "miss": bool(nd and abs(p - mm) > max(gap, 1e-12))})
    shares = pd.DataFrame(rows)

    # closure times
    dc = closure_table(test_cases).set_index("klass")
    mc = [closure_table(c).set_index("klass")["median_hours"] for c in per_rep]
    rows = []
    for klass in dc.index:
        vals = np.array([m.get(klass, math.nan) for m in mc], float)
        vals = vals[np.isfinite(vals)]
        mm = float(vals.mean()) if len(vals) else math.nan
        hw = t * float(vals.std(ddof=1)) / math.sqrt(len(vals)) if len(vals) > 1 else 0.0
        r = dc.loc[klass]
        miss = bool(len(vals) and not math.isnan(r["median_hours"])
                    and (r["median_high"] < mm - hw or r["median_low"] > mm + hw))
        rows.append({"klass": klass, "closed": int(r["closed"]), "median_hours": r["median_hours"],
                     "median_low": r["median_low"], "median_high": r["median_high"], "model_median": mm,
                     "model_low": mm - hw, "model_high": mm + hw, "miss": miss})
    closure = pd.DataFrame(rows)
    return Holdout(split, fit_cases, test_cases, monthly, shares, closure, n)


def holdout_chart(h: Holdout, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from enforcement_grid.report.fonts import use_cjk_font

    use_cjk_font()
    towns = list(dict.fromkeys(h.monthly["town"]))
    cols = 4
    rows = math.ceil(len(towns) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.3 * rows), squeeze=False)
    for ax, town in zip(axes.ravel(), towns):
        g = h.monthly[h.monthly["town"] == town]
        x = range(len(g))
        ax.errorbar(list(x), g["model_mean"], yerr=[(g["model_mean"] - g["pi_low"]).clip(lower=0),
                    (g["pi_high"] - g["model_mean"]).clip(lower=0)], fmt="s", ms=4, color="#3b6ea5",
                    ecolor="#8fb0d6", elinewidth=6, label="model, 95 % PI")
        colors = ["#c0392b" if m else "black" for m in g["miss"]]
        ax.scatter(x, g["cases"], c=colors, s=14, zorder=3, label="export")
        ax.set_xticks(list(x), g["month"], fontsize=7)
        ax.set_title(town, fontsize=9)
    for ax in axes.ravel()[len(towns):]:
        ax.axis("off")
    axes[0][0].legend(fontsize=6)
    fig.suptitle("held-out months: cases by town (red: outside the model's interval)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_holdout(cases: CaseTable, sc: Scenario, mapping: Mapping, months: int, out: Path,
                replications: int = 5, workers: int | None = 1, force: bool = False) -> Holdout:
    """:func:`holdout`, with the fitted scenario, report, chart and tables written to ``out`` whole."""
    out = Path(out)
    check_target(out, force, what="holdout folder")  # before any work: refuse early
    out.parent.mkdir(parents=True, exist_ok=True)
    with staged_folder(out, writer="egrid holdout", force=force, what="holdout folder") as tmp:
        h = holdout(cases, sc, mapping, months, tmp, replications, workers)
        (tmp / "charts").mkdir()
        holdout_chart(h, tmp / "charts" / "monthly.png")
        h.monthly.to_csv(tmp / "monthly.csv", index=False)
        h.shares.to_csv(tmp / "shares.csv", index=False)
        h.closure.to_csv(tmp / "closure.csv", index=False)
        text = "\n".join([
            f"# Held-out check of {sc.name} on {Path(cases.file).name}\n",
            h.summary_text().replace("\n  - ", "\n- "), "",
            "How each comparison is made is in the docstring of `enforcement_grid.county.validate`; "
            "the scenario fitted on the first months is in `fitted/`.\n",
            "![monthly](charts/monthly.png)\n", "## Monthly cases by town\n", _md(h.monthly),
            "## Channel shares\n", _md(h.shares), "## Report to closure (median hours)\n", _md(h.closure)])
        (tmp / "holdout-report.md").write_text(text, encoding="utf-8")
    return h

"""The tables, charts and conclusion of a finished study, from its draw files only.

Written into the study folder (each file whole, charts as one folder swapped into place)::

    results.csv         draw, variant, rep, metric, value
    headlines.csv       draw, headline, value (mean over the draw's replications)
    indices.csv         headline, input, method, index, value, ci_low, ci_high (ranked per headline)
    intervals.csv       headline, kind, label_en, label_zh, mean, low, high, n — the two kinds of interval
    decisions.csv       plan against alternative: share of draws better, mean / worst / best gain
    regret.csv          per alternative: share of draws best, mean and worst regret, worst coverage
    history.csv         per draw and observed figure: simulated mean, distance, consistent (with [observed])
    narrowing.csv       per input: range before and after history matching, draws kept
    conclusion_en.md, conclusion_zh.md
    charts/tornado-<headline>.png and .svg
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from enforcement_grid.experiments.output import write_frame_atomic
from enforcement_grid.sim.staging import staged_folder

from . import design as design_mod
from .decisions import alternative_coverage, conclusions, pairs, regret
from .headlines import alternatives, headline_draws, headline_reps, intervals
from .history import match, narrowing
from .runner import Study, StudyFolder


def _slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text).strip("_")


def analyse(study: Study, out: str | Path, charts: bool = True) -> dict[str, pd.DataFrame | str]:
    """Compute and write every table of the study folder; returns them by name."""
    folder = StudyFolder(out)
    results = folder.results(study)
    written: dict = {"results": results}
    have = set(results["draw"].unique())
    design_draws = list(range(1, study.draws))
    complete = all(d in have for d in design_draws)
    reps = headline_reps(results, study)
    draws = headline_draws(reps)
    written["headlines"] = draws.reset_index().melt(id_vars="draw", var_name="headline", value_name="value")

    kept = None
    hist = narrow = None
    if study.observed:
        cur = results[(results["variant"] == "current") & results["metric"].str.startswith("observed:")
                      & (results["draw"] > 0)]
        per_rep = cur.assign(figure=cur["metric"].str.removeprefix("observed:"))[["draw", "rep", "figure", "value"]]
        hist = match(per_rep, list(study.observed))
        allrow = hist[hist["figure"] == "all"]
        kept = [int(d) for d in allrow.loc[allrow["consistent"].astype(bool), "draw"]]
        values = study.design_table().set_index("draw")
        values = values[values.index > 0]
        ranges = {i.name: (i.first.low, i.first.high) for i in study.inputs}
        narrow = narrowing(values, kept, ranges)
        written["history"], written["narrowing"] = hist, narrow

    rows = []
    if complete and design_draws:
        X = study.design
        for h in draws.columns:
            y = draws.loc[design_draws, h].to_numpy(float)
            if np.isnan(y).any():
                continue  # a headline undefined in some draw (e.g. no building case in a short run)
            df = design_mod.indices(study.method, study.names, X, y, study.seed)
            rows.append(df.assign(headline=h, method=study.method))
    cols = ["headline", "input", "method", "index", "value", "ci_low", "ci_high"]
    indices = pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)
    written["indices"] = indices
    iv = intervals(reps, draws, kept)
    written["intervals"] = iv

    alts = alternatives(study)
    cov = alternative_coverage(results, alts)
    dec = [pairs(cov, "all")]
    reg = [regret(cov, "all")]
    if kept is not None:
        dec.append(pairs(cov[cov.index.isin(kept)], "matched"))
        reg.append(regret(cov[cov.index.isin(kept)], "matched"))
    written["decisions"] = pd.concat(dec, ignore_index=True)
    written["regret"] = pd.concat(reg, ignore_index=True)

    en, zh = conclusions(study, draws, indices, iv, kept, narrow, hist)
    written["conclusion_en"], written["conclusion_zh"] = en, zh

    out = Path(out)
    for name in ("results", "headlines", "indices", "intervals", "decisions", "regret", "history", "narrowing"):
        if name in written and written[name] is not None:
            write_frame_atomic(written[name], out / f"{name}.csv")
    for lang, text in (("en", en), ("zh", zh)):
        _write_text(out / f"conclusion_{lang}.md", text)
    if charts and not indices.empty:
        _charts(study, draws, indices, out)
    return written


def _charts(study: Study, draws: pd.DataFrame, indices: pd.DataFrame, out: Path) -> None:
    import matplotlib.pyplot as plt

    from .charts import tornado, tornado_table
    from .decisions import _titles

    classes = study.variants[0].scenario.settings.classes
    with staged_folder(out / "charts", writer="egrid uncertainty", force=True, what="chart folder") as tmp:
        for h in indices["headline"].unique():
            table = tornado_table(h, draws, study.design, study.names, indices, study.method)
            centre = float(draws.loc[draws.index > 0, h].mean())
            en, zh = _titles(h, classes)
            fig = tornado(h, f"{en}\n{zh}", table, centre, {"morris": "μ*", "sobol": "ST"}[study.method])
            for ext in ("png", "svg"):
                fig.savefig(tmp / f"tornado-{_slug(h)}.{ext}", dpi=120)
            plt.close(fig)


def _write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with open(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = ["analyse"]

"""Decisions that hold up: plan against plan across the parameter draws, regret, and the conclusion text.

For each pair of alternatives (the current scenario and each plan) over the
design's draws: the share of draws in which a plan beats the other (county
coverage, common random numbers), the mean, worst and best gain.  Per
alternative: the share of draws in which it is the best, its regret (best
coverage of the draw minus its own; mean and worst) and its worst coverage.

A conclusion **holds across the ranges** when its sign is the same in at least
:data:`HOLDS` of the draws; otherwise it **hinges** on the inputs that move it
most — one estimate, named, when that input carries at least half of the
headline's main sensitivity index, else the two leading ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .design import MAIN_INDEX

HOLDS = 0.95  # share of draws that must agree for a conclusion to hold
ONE_ESTIMATE = 0.5  # share of the main index that makes one input "the" estimate a conclusion rests on


def alternative_coverage(results: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """draw × alternative: county coverage, mean over the draw's replications (design draws only)."""
    r = results[(results["metric"] == "coverage") & (results["variant"].isin(labels)) & (results["draw"] > 0)]
    return r.groupby(["draw", "variant"])["value"].mean().unstack("variant").reindex(columns=labels)


def pairs(cov: pd.DataFrame, which: str = "all") -> pd.DataFrame:
    """plan, alternative, share_better, share_worse, gain_mean, gain_worst, gain_best, draws."""
    rows = []
    labels = list(cov.columns)
    for a in labels:
        for b in labels:
            if a == b:
                continue
            g = (cov[a] - cov[b]).dropna().to_numpy(float)
            if not len(g):
                continue
            rows.append((which, a, b, float((g > 0).mean()), float((g < 0).mean()), float(g.mean()),
                         float(g.min()), float(g.max()), len(g)))
    return pd.DataFrame(rows, columns=["draws_used", "plan", "alternative", "share_better", "share_worse",
                                       "gain_mean", "gain_worst", "gain_best", "draws"])


def regret(cov: pd.DataFrame, which: str = "all") -> pd.DataFrame:
    """alternative, share_best, regret_mean, regret_worst, coverage_mean, coverage_worst, draws."""
    c = cov.dropna()
    if c.empty:
        return pd.DataFrame(columns=["draws_used", "alternative", "share_best", "regret_mean", "regret_worst",
                                     "coverage_mean", "coverage_worst", "draws"])
    best = c.max(axis=1)
    rows = []
    for a in c.columns:
        r = best - c[a]
        rows.append((which, a, float((c[a] == best).mean()), float(r.mean()), float(r.max()), float(c[a].mean()),
                     float(c[a].min()), len(c)))
    return pd.DataFrame(rows, columns=["draws_used", "alternative", "share_best", "regret_mean", "regret_worst",
                                       "coverage_mean", "coverage_worst", "draws"])


# --------------------------------------------------------------------------- the conclusion text


def _titles(headline: str, classes: dict) -> tuple[str, str]:
    if headline == "coverage":
        return "County coverage", "县域覆盖率"
    if headline == "coverage_weighted":
        return "County coverage, classes weighted", "县域加权覆盖率"
    if headline.startswith("coverage_"):
        k = headline.removeprefix("coverage_")
        c = classes.get(k)
        return (f"Coverage of {c.label_en if c else k} cases", f"{c.label_zh if c else k}覆盖率")
    if headline == "effect:coverage":
        return "The before → after effect on county coverage", "改革前后县域覆盖率的变化"
    if headline.startswith("gain:"):
        a, _, b = headline.removeprefix("gain:").partition("-vs-")
        return f"The gain of {a} over {b} (county coverage)", f"{a} 相对 {b} 的县域覆盖率提升"
    return headline, headline


def _drivers(indices: pd.DataFrame, headline: str, method: str) -> tuple[list[str], list[float]]:
    main = indices[(indices["headline"] == headline) & (indices["index"] == MAIN_INDEX[method])]
    vals = main["value"].clip(lower=0).to_numpy(float)
    total = vals.sum()
    shares = list(vals / total) if total > 0 else [0.0] * len(vals)
    return list(main["input"]), shares


def conclusions(study, draws: pd.DataFrame, indices: pd.DataFrame, intervals: pd.DataFrame,
                kept: list[int] | None, narrowing: pd.DataFrame | None,
                history: pd.DataFrame | None = None) -> tuple[str, str]:
    """The conclusion in English and Chinese (Markdown): what holds across the ranges, what hinges on what."""
    classes = study.variants[0].scenario.settings.classes
    why = {i.name: i.first.why for i in study.inputs}
    idx_name = {"morris": "μ*", "sobol": "ST"}[study.method]
    outer = draws[draws.index > 0]
    en = [f"# What holds across the ranges ({study.method}, {len(outer)} parameter draws × "
          f"{study.replications} replication(s))", ""]
    zh = [f"# 在参数范围内成立的结论（{study.method}，{len(outer)} 组参数抽样 × 每组 {study.replications} 次重复）", ""]
    iv = intervals.set_index(["headline", "kind"])

    def named(inp: str) -> tuple[str, str]:
        return f"`{inp}` ({why.get(inp, '')})", f"`{inp}`（{why.get(inp, '')}）"

    for h in draws.columns:
        t_en, t_zh = _titles(h, classes)
        inputs, shares = _drivers(indices, h, study.method)
        x = outer[h].dropna().to_numpy(float)
        if not len(x) or not inputs:
            continue
        nominal = iv.loc[(h, "noise"), "mean"] if (h, "noise") in iv.index else float("nan")
        top_en, top_zh = named(inputs[0])
        if len(inputs) > 1 and shares[0] < ONE_ESTIMATE:
            second_en, second_zh = named(inputs[1])
            rest_en = f"{top_en} and {second_en} ({shares[0]:.0%} and {shares[1]:.0%} of the total {idx_name})"
            rest_zh = f"{top_zh}和{second_zh}（分别占 {idx_name} 总和的 {shares[0]:.0%} 和 {shares[1]:.0%}）"
        else:
            rest_en = f"one estimate, {top_en} ({shares[0]:.0%} of the total {idx_name})"
            rest_zh = f"一个估计值 {top_zh}（占 {idx_name} 总和的 {shares[0]:.0%}）"
        pts = lambda v: f"{v * 100:+.1f}"  # noqa: E731 - points of coverage
        if h.startswith(("effect:", "gain:")):
            sign = np.sign(nominal) if np.isfinite(nominal) and nominal != 0 else np.sign(np.median(x))
            agree = float((np.sign(x) == sign).mean())
            extra_en = extra_zh = ""
            if kept is not None:
                k = outer.loc[outer.index.isin(kept), h].dropna().to_numpy(float)
                if len(k):
                    a2 = float((np.sign(k) == sign).mean())
                    extra_en = f" Among the {len(k)} draws consistent with the county's figures: {a2:.0%}."
                    extra_zh = f"在与县里观测数据一致的 {len(k)} 组抽样中：{a2:.0%}。"
            if agree >= HOLDS:
                en.append(f"- **{t_en}**: {pts(nominal)} points at the scenario's values; it **holds across the "
                          f"ranges** ({agree:.0%} of {len(x)} draws agree in sign, from {pts(x.min())} to "
                          f"{pts(x.max())}). Its size rests mostly on {rest_en}.{extra_en}")
                zh.append(f"- **{t_zh}**：按情景取值为 {pts(nominal)} 个百分点；在参数范围内**结论成立**"
                          f"（{len(x)} 组抽样中 {agree:.0%} 方向一致，范围 {pts(x.min())} 至 {pts(x.max())}）。"
                          f"其大小主要取决于{rest_zh}。{extra_zh}")
            else:
                en.append(f"- **{t_en}**: {pts(nominal)} points at the scenario's values, but it **does not hold "
                          f"across the ranges**: only {agree:.0%} of {len(x)} draws agree in sign (from "
                          f"{pts(x.min())} to {pts(x.max())}). It hinges on {rest_en}.{extra_en}")
                zh.append(f"- **{t_zh}**：按情景取值为 {pts(nominal)} 个百分点，但在参数范围内**结论不稳**："
                          f"{len(x)} 组抽样中只有 {agree:.0%} 方向一致（{pts(x.min())} 至 {pts(x.max())}）。"
                          f"它取决于{rest_zh}。{extra_zh}")
        else:
            noise = iv.loc[(h, "noise")] if (h, "noise") in iv.index else None
            wide = iv.loc[(h, "noise+input")]
            nz = f" (simulation noise only: {noise['low']:.1%}–{noise['high']:.1%})" if noise is not None else ""
            nz_zh = f"（仅模拟噪声：{noise['low']:.1%}–{noise['high']:.1%}）" if noise is not None else ""
            en.append(f"- **{t_en}**: {nominal:.1%} at the scenario's values{nz}; with the input ranges "
                      f"{wide['low']:.1%}–{wide['high']:.1%}. It rests mostly on {rest_en}.")
            zh.append(f"- **{t_zh}**：按情景取值为 {nominal:.1%}{nz_zh}；计入输入范围后为 "
                      f"{wide['low']:.1%}–{wide['high']:.1%}。主要取决于{rest_zh}。")
    if kept is not None and narrowing is not None and len(narrowing):
        n_all = int(narrowing["draws"].iloc[0])
        en += ["", f"History matching kept {len(kept)} of {n_all} draws consistent with the county's observed figures."]
        zh += ["", f"历史匹配：{n_all} 组抽样中有 {len(kept)} 组与县里的观测数据一致。"]
        if history is not None:
            for fig, g in history[history["figure"] != "all"].groupby("figure", sort=False):
                ob = g.iloc[0]
                share = float(g["consistent"].astype(bool).mean())
                en.append(f"- `{fig}` observed {ob['observed']:g} ± {ob['tolerance']:g}: simulated "
                          f"{g['mean'].min():.4g}–{g['mean'].max():.4g} across the draws; consistent in {share:.0%}")
                zh.append(f"- `{fig}` 观测值 {ob['observed']:g} ± {ob['tolerance']:g}：各抽样的模拟值 "
                          f"{g['mean'].min():.4g}–{g['mean'].max():.4g}；一致的占 {share:.0%}")
        if not kept:
            en.append("- No draw is consistent with every observed figure: the ranges, the model or the figures "
                      "(what they count) need another look before the ranges can be narrowed.")
            zh.append("- 没有一组抽样与全部观测数据一致：需要重新审视参数范围、模型或观测数据的口径，才能收窄范围。")
        else:
            if study.method == "morris":
                k = len(study.inputs) + 1
                traj = len({(d - 1) // k for d in kept})
                en.append(f"- The kept draws come from {traj} of {study.samples} Morris trajectories; draws of one "
                          f"trajectory share most values, so the narrowing below is indicative only "
                          f"(use --method sobol for it).")
                zh.append(f"- 保留的抽样来自 {study.samples} 条 Morris 轨迹中的 {traj} 条；同一轨迹内的抽样多数取值相同，"
                          f"下列收窄仅供参考（收窄请用 --method sobol）。")
            narrowed = narrowing[narrowing["share_of_range_left"] < 1.0].sort_values("share_of_range_left")
            for r in narrowed.head(5).itertuples():
                en.append(f"- `{r.input}`: {r.low:g}–{r.high:g} narrowed to {r.kept_low:.4g}–{r.kept_high:.4g} "
                          f"({r.share_of_range_left:.0%} of the range left)")
                zh.append(f"- `{r.input}`：{r.low:g}–{r.high:g} 收窄为 {r.kept_low:.4g}–{r.kept_high:.4g}"
                          f"（剩余 {r.share_of_range_left:.0%}）")
            if narrowed.empty:
                en.append("- No range narrowed: the observed figures rule out no end of any range.")
                zh.append("- 没有参数范围收窄：观测数据未排除任何范围的端点。")
    return "\n".join(en) + "\n", "\n".join(zh) + "\n"


__all__ = ["alternative_coverage", "pairs", "regret", "conclusions", "HOLDS"]

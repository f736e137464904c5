"""Charts: tidy DataFrames in, a matplotlib :class:`~matplotlib.figure.Figure` out.

Every function here is pure: it reads only its arguments, never runs a
simulation, never touches pyplot's global figure state (figures are built with
``Figure()`` and ``fig.subplots()``), and returns the figure for the caller to
show or save (:func:`save`, :func:`png_bytes`).  Each chart has a title, axis
labels with units, a legend where there is more than one series, and a footnote
``scenario <name> · seed <seed>``; all words come from :mod:`report.labels` in
``lang`` ("zh" or "en").

Charts must read in black and white: series differ by line style, marker or
hatch, never by colour alone, and the colours used (cividis) fall monotonically in
lightness so they stay distinct in greyscale.

Conventions for inputs: coverage and other shares are fractions (0–1) and are
shown in per cent; times are minutes in records and are shown in hours.
Common keyword arguments: ``scenario`` and ``seed`` (the footnote), ``note`` (an
extra footnote line), ``town_en`` (Chinese town name → pinyin, used when
``lang="en"``).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MultipleLocator

from enforcement_grid.sim.config import WEEKDAYS

from . import labels as L
from .fonts import use_cjk_font
from .rundir import delays

LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
HATCHES = ("", "///", "...", "xxx", "\\\\\\", "ooo", "---", "+++")
CMAP = "cividis"  # monotone in lightness: greyscale-safe


# ---------------------------------------------------------------------------- helpers


def _shades(n: int, lo: float = 0.15, hi: float = 0.95) -> list:
    """``n`` cividis colours from dark to light (distinct in greyscale)."""
    cmap = colormaps[CMAP]
    if n == 1:
        return [cmap(0.5)]
    return [cmap(lo + (hi - lo) * i / (n - 1)) for i in range(n)]


def _figure(width: float, height: float) -> Figure:
    use_cjk_font()
    return Figure(figsize=(width, height), layout="constrained")


def _finish(fig: Figure, lang: str, title: str, scenario, seed, notes: Sequence[str | None] = ()) -> Figure:
    """Title on top, footnote (scenario · seed, then notes) at the bottom left."""
    fig.suptitle(title, fontsize=14)  # the CJK font ships one weight: no bold
    lines = [L.footnote(lang, scenario, seed)] + [part for n in notes if n for part in str(n).split("\n")]
    text = "\n".join(lines)
    height_in = fig.get_figheight()
    room = min(0.3, (0.16 * len(lines) + 0.06) / height_in)
    fig.get_layout_engine().set(rect=(0.0, room, 1.0, 1.0 - room))
    fig.text(0.01, 0.01, text, ha="left", va="bottom", fontsize=8, color="0.25", gid="footnote")
    return fig


def _pct_axis(ax, axis: str = "y") -> None:
    fmt = FuncFormatter(lambda v, _pos: f"{v:.0f}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _as_float(s) -> np.ndarray:
    return pd.to_numeric(pd.Series(s), errors="coerce").to_numpy(float)


def _require(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {', '.join(missing)}; expected {', '.join(columns)}")


def _errbars(mean: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Asymmetric error bar lengths; NaN (no interval) becomes zero length."""
    below = np.nan_to_num(mean - low, nan=0.0).clip(min=0)
    above = np.nan_to_num(high - mean, nan=0.0).clip(min=0)
    return np.vstack([below, above])


# ---------------------------------------------------------------------------- coverage by town


def class_keys_in(summary: pd.DataFrame) -> list[str]:
    """Class keys with a ``coverage_<class>`` measure in a summary (not ``coverage_weighted`` nor
    the coverage by weekday of arising, ``coverage_weekday_<day>``)."""
    metrics = dict.fromkeys(summary["metric"])
    return [m[len("coverage_"):] for m in metrics
            if m.startswith("coverage_") and m != "coverage_weighted" and not m.startswith("coverage_weekday_")]


def coverage_by_town(
    summary: pd.DataFrame,
    lang: str = "zh",
    *,
    classes: Sequence[str] | None = None,
    class_labels: Mapping[str, Mapping[str, str]] | None = None,
    include_county: bool = True,
    town_en: Mapping[str, str] | None = None,
    scenario: str | None = None,
    seed=None,
    note: str | None = None,
) -> Figure:
    """Grouped bars: coverage of each class of violation per town, with 95 % CI error bars.

    ``summary``: rows ``scope, metric, mean, ci_low, ci_high`` (a run's summary.csv);
    the metrics used are ``coverage_<class>`` for each of ``classes`` (the run's classes,
    :attr:`report.rundir.RunDir.class_keys`; default: the keys of ``class_labels``, else
    every ``coverage_<class>`` of the summary).  Scopes keep their order in the
    table; ``county`` comes first when ``include_county``.
    """
    _require(summary, ["scope", "metric", "mean", "ci_low", "ci_high"], "coverage_by_town")
    if classes is None:
        classes = list(class_labels) if class_labels else class_keys_in(summary)
    present = [k for k in classes if (summary["metric"] == f"coverage_{k}").any()]
    if not present:
        raise ValueError("coverage_by_town: the summary has none of the metrics " + ", ".join(f"coverage_{k}" for k in classes))
    scopes = list(dict.fromkeys(summary["scope"]))
    if not include_county:
        scopes = [s for s in scopes if s != "county"]
    elif "county" in scopes:
        scopes = ["county"] + [s for s in scopes if s != "county"]
    fig = _figure(max(7.0, 0.75 * len(scopes) + 2.5), 5.0)
    ax = fig.subplots()
    x = np.arange(len(scopes))
    width = 0.8 / len(present)
    colours = _shades(len(present))
    for i, k in enumerate(present):
        rows = summary[summary["metric"] == f"coverage_{k}"].set_index("scope").reindex(scopes)
        mean, lo, hi = (_as_float(rows[c]) * 100 for c in ("mean", "ci_low", "ci_high"))
        ax.bar(
            x + (i - (len(present) - 1) / 2) * width, np.nan_to_num(mean), width,
            yerr=_errbars(mean, np.clip(lo, 0, 100), np.clip(hi, 0, 100)), capsize=2, error_kw={"elinewidth": 0.8, "ecolor": "black"},
            color=colours[i], edgecolor="black", linewidth=0.6, hatch=HATCHES[i],
            label=L.class_label(k, lang, class_labels),
        )
    ax.set_xticks(x, [L.town_label(s, lang, town_en) for s in scopes], rotation=45 if len(scopes) > 6 else 0, ha="right" if len(scopes) > 6 else "center")
    if "county" in scopes:
        ax.axvline(0.5, color="0.5", linewidth=0.8, linestyle=":")
    ax.set_ylim(0, 105)
    ax.yaxis.set_major_locator(MultipleLocator(20))
    ax.grid(axis="y", color="0.85", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel(L.t("coverage_by_town.x", lang))
    ax.set_ylabel(L.t("coverage_by_town.y", lang))
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=len(present), fontsize=9, frameon=False)
    return _finish(fig, lang, L.t("coverage_by_town.title", lang), scenario, seed, [L.t("coverage_by_town.note", lang), note])


# ---------------------------------------------------------------------------- coverage vs staff


def _interp(x: np.ndarray, y: np.ndarray, at: float) -> float:
    ok = ~np.isnan(x) & ~np.isnan(y)
    if not ok.any():
        return float("nan")
    order = np.argsort(x[ok])
    return float(np.interp(at, x[ok][order], y[ok][order]))


def coverage_vs_staff(
    curves: pd.DataFrame,
    chosen: pd.DataFrame | None,
    lang: str = "zh",
    *,
    town_en: Mapping[str, str] | None = None,
    ncols: int = 4,
    scenario: str | None = None,
    seed=None,
    note: str | None = None,
) -> Figure:
    """Small multiples, one per town: coverage against the staff level, the chosen allocation marked.

    The staff level (column ``posts``) is the brigade's certified officers, the
    optimiser's level (only certified officers make up teams).
    ``curves``: ``town, posts, coverage, ci_low, ci_high, kind`` with ``kind`` "approx"
    (dashed line) or "simulated" (solid line with markers and a CI band where
    ``ci_low``/``ci_high`` are not NaN).  ``chosen``: ``town, posts`` (a vertical
    dotted line and a star on the curve).  Towns keep their order in ``curves``.
    """
    _require(curves, ["town", "posts", "coverage", "kind"], "coverage_vs_staff curves")
    towns = list(dict.fromkeys(curves["town"]))
    n = len(towns)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = _figure(2.6 * ncols + 0.8, 2.1 * nrows + 1.6)
    # a thin top row holds the legend (figure legends and the title collide in constrained layout)
    grid = fig.add_gridspec(nrows + 1, ncols, height_ratios=[0.16] + [1.0] * nrows)
    legend_ax = fig.add_subplot(grid[0, :])
    legend_ax.set_axis_off()
    legend_ax.set_gid("legend")
    axes = []
    for k in range(nrows * ncols):
        i, j = divmod(k, ncols)
        axes.append(fig.add_subplot(grid[i + 1, j], sharey=axes[0] if axes else None))
    axes = np.array(axes)
    chosen_posts = {} if chosen is None else dict(zip(chosen["town"], chosen["posts"]))
    style = {"approx": dict(linestyle="--", marker=None, color="0.35"), "simulated": dict(linestyle="-", marker="o", markersize=3.5, color=_shades(1)[0])}
    for ax, town in zip(axes, towns):
        sub = curves[curves["town"] == town]
        last = None
        for kind in ("approx", "simulated"):
            part = sub[sub["kind"] == kind].sort_values("posts")
            if part.empty:
                continue
            x = _as_float(part["posts"])
            y = _as_float(part["coverage"]) * 100
            ax.plot(x, y, label=L.t(f"kind_{kind}", lang), gid=f"curve-{kind}", **style[kind])
            if {"ci_low", "ci_high"} <= set(part.columns):
                lo, hi = _as_float(part["ci_low"]) * 100, _as_float(part["ci_high"]) * 100
                ok = ~np.isnan(lo) & ~np.isnan(hi)
                if ok.any():
                    ax.fill_between(x[ok], lo[ok], hi[ok], color="0.6", alpha=0.35, linewidth=0, label=L.t("ci95", lang))
            last = (x, y)
        if town in chosen_posts and last is not None:
            p = float(chosen_posts[town])
            ax.axvline(p, color="black", linestyle=":", linewidth=1.0)
            ax.plot([p], [_interp(*last, p)], marker="*", markersize=11, color="black", linestyle="none",
                    label=L.t("chosen", lang), gid="chosen")
        ax.set_title(L.town_label(town, lang, town_en), fontsize=10)
        ax.set_ylim(0, 102)
        ax.yaxis.set_major_locator(MultipleLocator(25))
        ax.grid(color="0.9", linewidth=0.5)
    for ax in axes[n:]:
        ax.set_visible(False)
    for k, ax in enumerate(axes[:n]):
        if k + ncols >= n:  # nothing drawn below it: the bottom of its column
            ax.set_xlabel(L.t("coverage_vs_staff.x", lang), fontsize=9)
        if k % ncols == 0:
            ax.set_ylabel(L.t("coverage_vs_staff.y", lang), fontsize=9)
        else:
            ax.tick_params(labelleft=False)
    handles, seen = [], set()
    for ax in axes[:n]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in seen:
                seen.add(lab)
                handles.append((h, lab))
    legend_ax.legend([h for h, _ in handles], [lab for _, lab in handles], loc="center", ncols=len(handles), fontsize=9, frameon=False)
    return _finish(fig, lang, L.t("coverage_vs_staff.title", lang), scenario, seed, [note])


# ---------------------------------------------------------------------------- trade-off


def tradeoff(
    curve: pd.DataFrame,
    lang: str = "zh",
    marked_posts: float | None = None,
    *,
    scenario: str | None = None,
    seed=None,
    note: str | None = None,
) -> Figure:
    """County coverage against total posts, ``marked_posts`` (the scenario's own total) marked if given.

    ``curve``: ``total_posts, coverage`` and optionally ``ci_low, ci_high`` (a band).
    """
    _require(curve, ["total_posts", "coverage"], "tradeoff")
    c = curve.sort_values("total_posts")
    x = _as_float(c["total_posts"])
    y = _as_float(c["coverage"]) * 100
    fig = _figure(7.5, 4.8)
    ax = fig.subplots()
    ax.plot(x, y, linestyle="-", marker="o", markersize=4, color=_shades(1, 0.2)[0], label=L.t("tradeoff.curve", lang), gid="curve")
    if {"ci_low", "ci_high"} <= set(c.columns):
        lo, hi = _as_float(c["ci_low"]) * 100, _as_float(c["ci_high"]) * 100
        ok = ~np.isnan(lo) & ~np.isnan(hi)
        if ok.any():
            ax.fill_between(x[ok], lo[ok], hi[ok], color="0.6", alpha=0.35, linewidth=0, label=L.t("ci95", lang))
    if marked_posts is not None:
        at = _interp(x, y, float(marked_posts))
        label = L.t("tradeoff.marked", lang, posts=f"{marked_posts:g}")
        ax.axvline(marked_posts, color="black", linestyle="--", linewidth=1.0)
        ax.plot([marked_posts], [at], marker="D", markersize=8, markerfacecolor="white", markeredgecolor="black",
                linestyle="none", label=label, gid="marked")
        if not math.isnan(at):
            ax.annotate(f"{at:.1f}%", (marked_posts, at), xytext=(8, -14), textcoords="offset points", fontsize=9)
    ax.set_xlabel(L.t("tradeoff.x", lang))
    ax.set_ylabel(L.t("tradeoff.y", lang))
    ax.grid(color="0.9", linewidth=0.6)
    ax.legend(loc="lower right", fontsize=9)
    return _finish(fig, lang, L.t("tradeoff.title", lang), scenario, seed, [note])


# ---------------------------------------------------------------------------- allocation


def allocation_by_source(
    allocation: pd.DataFrame,
    lang: str = "zh",
    *,
    town_en: Mapping[str, str] | None = None,
    source_labels: Mapping[str, Mapping[str, str]] | None = None,
    scenario: str | None = None,
    seed=None,
    note: str | None = None,
) -> Figure:
    """Stacked bars of posts per town, one hatch per source (F3; Hui'an: 140 / 120 / 60 / 37).

    ``allocation``: ``town, source, posts``.  Towns keep their order; sources follow
    ``source_labels`` (``{key: {"zh": …, "en": …}}``, the scenario's ``[sources]`` in
    its order), then any others in the order found.  The legend gives each source's
    total and each bar its town total.
    """
    _require(allocation, ["town", "source", "posts"], "allocation_by_source")
    towns = list(dict.fromkeys(allocation["town"]))
    found = list(dict.fromkeys(allocation["source"]))
    known = list(source_labels or ())
    sources = [s for s in known if s in found] + [s for s in found if s not in known]
    table = allocation.pivot_table(index="town", columns="source", values="posts", aggfunc="sum", fill_value=0)
    table = table.reindex(index=towns, columns=sources, fill_value=0)
    fig = _figure(max(7.0, 0.7 * len(towns) + 2.5), 5.0)
    ax = fig.subplots()
    x = np.arange(len(towns))
    bottom = np.zeros(len(towns))
    colours = _shades(len(sources), 0.1, 1.0)
    for i, s in enumerate(sources):
        v = table[s].to_numpy(float)
        ax.bar(x, v, 0.7, bottom=bottom, color=colours[i], edgecolor="black", linewidth=0.6, hatch=HATCHES[i % len(HATCHES)],
               label=L.t("allocation.legend", lang, label=L.source_label(s, lang, source_labels), total=f"{v.sum():g}"))
        bottom += v
    for xi, total in zip(x, bottom):
        ax.text(xi, total + bottom.max() * 0.01, f"{total:g}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [L.town_label(tn, lang, town_en) for tn in towns], rotation=45 if len(towns) > 6 else 0, ha="right" if len(towns) > 6 else "center")
    ax.set_ylim(0, bottom.max() * 1.12 if bottom.max() > 0 else 1)
    ax.set_xlabel(L.t("allocation.x", lang))
    ax.set_ylabel(L.t("allocation.y", lang))
    ax.grid(axis="y", color="0.88", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(loc="upper right", fontsize=9, framealpha=0.95)
    return _finish(fig, lang, L.t("allocation.title", lang), scenario, seed, [note])


# ---------------------------------------------------------------------------- delays


def delay_cdf(
    records_by_plan: Mapping[str, pd.DataFrame],
    column: str,
    lang: str = "zh",
    *,
    log_x: bool = True,
    warmup_min: float = 0.0,
    scenario: str | None = None,
    seed=None,
    note: str | None = None,
) -> Figure:
    """Empirical CDFs of a delay in hours, one line style per plan.

    ``records_by_plan``: plan label → records (the columns of :mod:`sim.records`,
    several replications pooled).  ``column``: ``"response"`` (``on_site_min −
    reported_min``, over reports dispatched by the command centre) or ``"discovery"``
    (``discovered_min − occurred_min``, over all violations).  Records that already
    carry ``response_min``/``discovery_min`` (from :func:`report.rundir.delays`) are
    used as they are; otherwise those columns are computed here with ``warmup_min``.
    Violations not reached by the end stay in the denominator, so a curve ends
    below 100 %.
    """
    if column not in ("response", "discovery"):
        raise ValueError(f"delay_cdf: column must be 'response' or 'discovery', got {column!r}")
    col = f"{column}_min"
    fig = _figure(7.5, 4.8)
    ax = fig.subplots()
    lo_all, hi_all = [], []
    for i, (plan, rec) in enumerate(records_by_plan.items()):
        d = rec if col in rec.columns else delays(rec, warmup_min)
        v = d[col].to_numpy(float)
        v = v[~np.isnan(v)] / 60.0
        n = len(v)
        finite = np.sort(v[np.isfinite(v)])
        if log_x:
            finite = np.maximum(finite, 1.0 / 60.0)  # one minute: the log axis has no zero
        y = np.arange(1, len(finite) + 1) / max(n, 1) * 100
        xs = np.concatenate([[finite[0] if len(finite) else 0.0], finite])
        ys = np.concatenate([[0.0], y])
        ax.step(xs, ys, where="post", linestyle=LINESTYLES[i % len(LINESTYLES)], color=_shades(max(2, len(records_by_plan)), 0.1, 0.7)[i],
                linewidth=1.6, marker=MARKERS[i % len(MARKERS)], markevery=max(1, len(xs) // 8), markersize=5,
                label=L.t("delay.plan_n", lang, plan=plan, n=f"{n:,}"), gid=f"cdf-{i}")
        if len(finite):
            lo_all.append(finite[0])
            hi_all.append(finite[-1])
    if log_x:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
        if lo_all:
            ax.set_xlim(max(min(lo_all), 1.0 / 60.0), max(hi_all) * 1.2)
    elif lo_all:
        ax.set_xlim(0, max(hi_all))
    ax.set_ylim(0, 101)
    ax.yaxis.set_major_locator(MultipleLocator(20))
    ax.grid(color="0.88", linewidth=0.6, which="major")
    ax.set_xlabel(L.t("delay.x" if log_x else "delay.x_linear", lang))
    ax.set_ylabel(L.t("delay.y", lang))
    ax.legend(loc="upper left", fontsize=9)
    return _finish(fig, lang, L.t(f"delay.{column}.title", lang), scenario, seed, [L.t(f"delay.{column}.note", lang), note])


# ---------------------------------------------------------------------------- patrol grid


def patrol_grid(
    plan: pd.DataFrame,
    town: str,
    lang: str = "zh",
    *,
    villages: Sequence[str] | None = None,
    town_en: Mapping[str, str] | None = None,
    scenario: str | None = None,
    seed=None,
    note: str | None = None,
) -> Figure:
    """Village × weekday grid of one town's weekly patrol plan; a cell shows the team number(s).

    ``plan``: ``town, team, day, village, order`` (day Mon … Sun).  ``villages``: the
    rows in order (e.g. the town's villages from villages.csv, so villages never
    visited show as empty rows); default: the villages of the plan, sorted.
    """
    _require(plan, ["town", "team", "day", "village"], "patrol_grid")
    p = plan[plan["town"] == town]
    rows = list(villages) if villages is not None else sorted(p["village"].unique())
    if not rows:
        raise ValueError(f"patrol_grid: no villages of {town!r} in the plan")
    index = {v: i for i, v in enumerate(rows)}
    count = np.zeros((len(rows), 7))
    cells: dict[tuple[int, int], list[str]] = {}
    sort_cols = [c for c in ("day", "order", "team") if c in p.columns]
    for _, r in p.sort_values(sort_cols).iterrows():
        if r["village"] not in index or r["day"] not in WEEKDAYS:
            continue
        i, j = index[r["village"]], WEEKDAYS.index(r["day"])
        count[i, j] += 1
        cells.setdefault((i, j), []).append(str(r["team"]))
    fig = _figure(6.8, 1.6 + 0.27 * len(rows))
    ax = fig.subplots()
    ax.imshow(count, cmap="Greys", vmin=0, vmax=max(3.0, count.max() * 1.6), aspect="auto", interpolation="nearest")
    for (i, j), teams in cells.items():
        ax.text(j, i, ",".join(dict.fromkeys(teams)), ha="center", va="center", fontsize=8, gid="cell")
    ax.set_xticks(range(7), [L.t(d, lang) for d in WEEKDAYS])
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_xticks(np.arange(-0.5, 7), minor=True)
    ax.set_yticks(np.arange(-0.5, len(rows)), minor=True)
    ax.grid(which="minor", color="0.6", linewidth=0.5)
    ax.tick_params(which="minor", length=0)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xlabel(L.t("patrol_grid.x", lang))
    ax.set_ylabel(L.t("patrol_grid.y", lang))
    title = L.t("patrol_grid.title", lang, town=L.town_label(town, lang, town_en))
    return _finish(fig, lang, title, scenario, seed, [L.t("patrol_grid.note", lang), note])


# ---------------------------------------------------------------------------- certified teams


def _ci_band(ax, x, d: pd.DataFrame, label: str | None, alpha: float) -> None:
    """The 95 % CI band of ``d``'s ``ci_low``/``ci_high`` over ``x`` (where both are known; none without them)."""
    if not {"ci_low", "ci_high"} <= set(d.columns):
        return
    lo, hi = _as_float(d["ci_low"]), _as_float(d["ci_high"])
    ok = ~np.isnan(lo) & ~np.isnan(hi)
    if ok.any():
        ax.fill_between(x[ok], lo[ok], hi[ok], color="0.6", alpha=alpha, linewidth=0, label=label)


def certified_teams_over_time(
    df: pd.DataFrame,
    lang: str = "zh",
    *,
    scenario: str | None = None,
    seed=None,
    note: str | None = None,
) -> Figure:
    """Certified two-officer teams by month over the transition, with a 95 % CI band.

    ``df``: ``month, mean, ci_low, ci_high`` (months since the reform, 0 … 36), as
    :func:`report.rundir.certified_by_month` gives.  An optional ``series`` column
    (e.g. a plan or an exam pass rate) draws one line per series, each with its own
    line style, marker and band, in the order of first appearance.
    """
    _require(df, ["month", "mean"], "certified_teams_over_time")
    series = list(dict.fromkeys(df["series"])) if "series" in df.columns else [None]
    fig = _figure(7.5, 4.6)
    ax = fig.subplots()
    colours = _shades(1, 0.2) if series == [None] else _shades(max(2, len(series)), 0.1, 0.75)
    x_all = []
    for i, name in enumerate(series):
        d = (df if name is None else df[df["series"] == name]).sort_values("month")
        x, y = _as_float(d["month"]), _as_float(d["mean"])
        x_all.append(x)
        _ci_band(ax, x, d, L.t("certified.band", lang) if i == 0 else None, 0.35 if name is None else 0.2)
        ax.plot(x, y, linestyle=LINESTYLES[i % len(LINESTYLES)], marker=MARKERS[i % len(MARKERS)],
                markevery=max(1, len(x) // 12), markersize=4, color=colours[i],
                label=L.t("mean", lang) if name is None else str(name), gid="mean" if name is None else f"series-{i}")
    x = np.concatenate(x_all) if x_all else np.array([0.0])
    ax.set_xlim(min(0.0, np.nanmin(x)), max(1.0, np.nanmax(x)))
    ax.xaxis.set_major_locator(MultipleLocator(6 if np.nanmax(x) > 12 else 1))
    ax.set_xlabel(L.t("certified.x", lang))
    ax.set_ylabel(L.t("certified.y", lang))
    ax.grid(color="0.9", linewidth=0.6)
    ax.legend(loc="lower right", fontsize=9)
    return _finish(fig, lang, L.t("certified.title", lang), scenario, seed, [note])


def stock_over_time(
    df: pd.DataFrame,
    lang: str = "zh",
    *,
    scenario: str | None = None,
    seed=None,
    note: str | None = None,
) -> Figure:
    """Old violations of the stock still unseen at the end of each month, with a 95 % CI band.

    ``df``: ``month, mean, ci_low, ci_high``, as :func:`report.rundir.certified_by_month`
    gives for the timeline's ``stock_latent`` column.
    """
    _require(df, ["month", "mean"], "stock_over_time")
    d = df.sort_values("month")
    x, y = _as_float(d["month"]) + 1.0, _as_float(d["mean"])  # counted at the end of each month
    fig = _figure(7.5, 4.6)
    ax = fig.subplots()
    _ci_band(ax, x, d, L.t("certified.band", lang), 0.35)
    ax.plot(x, y, marker="o", markersize=4, color=_shades(1, 0.2)[0], label=L.t("mean", lang), gid="mean")
    ax.set_xlim(0.0, max(1.0, float(np.nanmax(x)) if x.size else 1.0))
    ax.set_ylim(bottom=0.0)
    ax.xaxis.set_major_locator(MultipleLocator(1 if (x.size == 0 or np.nanmax(x) <= 12) else 6))
    ax.set_xlabel(L.t("certified.x", lang))
    ax.set_ylabel(L.t("stock.y", lang))
    ax.grid(color="0.9", linewidth=0.6)
    ax.legend(loc="upper right", fontsize=9)
    return _finish(fig, lang, L.t("stock.title", lang), scenario, seed, [note])


# ---------------------------------------------------------------------------- backlog


def backlog_over_time(
    df: pd.DataFrame,
    lang: str = "zh",
    *,
    scenario: str | None = None,
    seed=None,
    note: str | None = None,
) -> Figure:
    """Two panels over days: backlog (reported, not closed) and the on-time closure rate.

    ``df``: ``day, backlog, on_time_closure_rate`` (a rate in 0–1), optionally a ``plan``
    column (one line style per plan) and ``backlog_ci_low``/``backlog_ci_high``
    (a band), as :func:`report.rundir.backlog_by_day` gives.
    """
    _require(df, ["day", "backlog", "on_time_closure_rate"], "backlog_over_time")
    fig = _figure(8.0, 6.0)
    top, bottom = fig.subplots(2, 1, sharex=True)
    plans = list(dict.fromkeys(df["plan"])) if "plan" in df.columns else [None]
    colours = _shades(max(2, len(plans)), 0.1, 0.7)
    for i, plan in enumerate(plans):
        d = (df if plan is None else df[df["plan"] == plan]).sort_values("day")
        x = _as_float(d["day"])
        style = dict(linestyle=LINESTYLES[i % len(LINESTYLES)], color=colours[i], marker=MARKERS[i % len(MARKERS)],
                     markevery=max(1, len(x) // 10), markersize=4, linewidth=1.4)
        label = str(plan) if plan is not None else None
        top.plot(x, _as_float(d["backlog"]), label=label, gid=f"backlog-{i}", **style)
        if {"backlog_ci_low", "backlog_ci_high"} <= set(d.columns):
            lo, hi = _as_float(d["backlog_ci_low"]), _as_float(d["backlog_ci_high"])
            ok = ~np.isnan(lo) & ~np.isnan(hi)
            if ok.any():
                top.fill_between(x[ok], lo[ok], hi[ok], color="0.6", alpha=0.25, linewidth=0)
        bottom.plot(x, _as_float(d["on_time_closure_rate"]) * 100, label=label, gid=f"rate-{i}", **style)
    top.set_ylabel(L.t("backlog.y_backlog", lang))
    bottom.set_ylabel(L.t("backlog.y_rate", lang))
    bottom.set_xlabel(L.t("backlog.x", lang))
    bottom.set_ylim(0, 102)
    top.set_ylim(bottom=0)
    for ax in (top, bottom):
        ax.grid(color="0.9", linewidth=0.6)
    if plans != [None]:
        top.legend(loc="upper left", fontsize=9)
    return _finish(fig, lang, L.t("backlog.title", lang), scenario, seed, [L.t("backlog.note", lang), note])


# ---------------------------------------------------------------------------- campaign


def campaign_effect(
    df: pd.DataFrame,
    lang: str = "zh",
    *,
    start_day: float,
    end_day: float,
    percent: bool = True,
    ylabel: str | None = None,
    scenario: str | None = None,
    seed=None,
    note: str | None = None,
) -> Figure:
    """One line per group over days, the campaign span (``start_day`` … ``end_day``) shaded.

    ``df``: ``day, group, value``; groups such as "campaign villages" and "rest of
    town" (or "with campaign" and "without campaign") are translated, other names
    shown as given.  ``percent``: values are shares (0–1) shown in per cent;
    otherwise give ``ylabel``.

    With a ``measure`` column (as :func:`report.rundir.campaign_series` gives:
    ``latent``, ``response_h``), each measure gets its own panel, one above the
    other on a shared day axis, labelled from :mod:`report.labels`
    (``campaign.y.<measure>``); values are then shown as they are.
    """
    _require(df, ["day", "group", "value"], "campaign_effect")
    measures = list(dict.fromkeys(df["measure"])) if "measure" in df.columns else [None]
    fig = _figure(8.0, 4.6 if measures == [None] else 2.0 + 2.6 * len(measures))
    axes = fig.subplots(len(measures), 1, sharex=True, squeeze=False)[:, 0]
    groups = list(dict.fromkeys(df["group"]))
    colours = _shades(max(2, len(groups)), 0.1, 0.7)
    for k, (ax, measure) in enumerate(zip(axes, measures)):
        part = df if measure is None else df[df["measure"] == measure]
        ax.axvspan(start_day, end_day, facecolor="0.92", edgecolor="0.6", hatch="//", linewidth=0.0,
                   label=L.t("campaign.span", lang), zorder=0)
        scale = 100 if (percent and measure is None) else 1
        for i, g in enumerate(groups):
            d = part[part["group"] == g].sort_values("day")
            if d.empty:
                continue
            x = _as_float(d["day"])
            y = _as_float(d["value"]) * scale
            ax.plot(x, y, linestyle=LINESTYLES[i % len(LINESTYLES)], marker=MARKERS[i % len(MARKERS)],
                    markevery=max(1, len(x) // 10), markersize=4, color=colours[i], linewidth=1.5,
                    label=L.group_label(g, lang), gid=f"group-{i}" if measure is None else f"group-{i}-{measure}")
        if measure is None:
            ax.set_ylabel(ylabel or L.t("campaign.y", lang))
            if percent:
                ax.set_ylim(0, 102)
        else:
            key = f"campaign.y.{measure}"
            ax.set_ylabel(L.t(key, lang) if L.has(key) else str(measure))
            ax.set_ylim(bottom=0)
        ax.grid(color="0.9", linewidth=0.6)
        if k == 0:
            ax.legend(loc="best", fontsize=9)
    axes[-1].set_xlabel(L.t("campaign.x", lang))
    return _finish(fig, lang, L.t("campaign.title", lang), scenario, seed, [note])


# ---------------------------------------------------------------------------- map


def _values_by_town(values, metric: str) -> pd.Series:
    if isinstance(values, pd.Series):
        return values.astype(float)
    v = values
    if {"scope", "metric", "mean"} <= set(v.columns):
        v = v[v["metric"] == metric]
        return pd.Series(v["mean"].to_numpy(float), index=v["scope"].to_numpy())
    key = "town" if "town" in v.columns else "scope"
    for col in (metric, "mean", "value"):
        if col in v.columns:
            return pd.Series(v[col].to_numpy(float), index=v[key].to_numpy())
    raise ValueError(f"town_map: values need a '{metric}', 'mean' or 'value' column")


def town_map(
    towns: pd.DataFrame,
    values,
    lang: str = "zh",
    *,
    metric: str = "coverage",
    scenario: str | None = None,
    seed=None,
    note: str | None = None,
) -> Figure:
    """Towns at their seats, coloured by coverage (greyscale-safe colormap), the value printed.

    ``towns``: ``town, town_en, lat, lon``.  ``values``: coverage per town (0–1): a
    Series indexed by town, a DataFrame ``town, coverage`` (or ``mean``/``value``),
    or summary rows ``scope, metric, mean`` (``metric`` picks the measure).
    """
    _require(towns, ["town", "lat", "lon"], "town_map towns")
    v = _values_by_town(values, metric) * 100
    t = towns.copy()
    t["value"] = t["town"].map(v)
    town_en = dict(zip(t["town"], t["town_en"])) if "town_en" in t.columns else None
    fig = _figure(7.0, 6.4)
    ax = fig.subplots()
    ok = t["value"].notna()
    lat0 = float(t["lat"].mean())
    if (~ok).any():
        ax.scatter(t.loc[~ok, "lon"], t.loc[~ok, "lat"], s=120, marker="x", color="0.4", zorder=3)
    sc = ax.scatter(t.loc[ok, "lon"], t.loc[ok, "lat"], c=t.loc[ok, "value"], cmap=CMAP, vmin=max(0.0, math.floor(t["value"].min() / 10) * 10) if ok.any() else 0,
                    vmax=100, s=260, edgecolors="black", linewidths=0.8, zorder=3, gid="towns")
    for _, r in t.iterrows():
        val = "–" if pd.isna(r["value"]) else f"{r['value']:.0f}%"
        ax.annotate(f"{L.town_label(r['town'], lang, town_en)}\n{val}", (r["lon"], r["lat"]), xytext=(9, 0),
                    textcoords="offset points", va="center", fontsize=8.5, gid="town-label")
    ax.set_aspect(1.0 / math.cos(math.radians(lat0)))
    pad_x = (t["lon"].max() - t["lon"].min()) * 0.18 + 0.01
    pad_y = (t["lat"].max() - t["lat"].min()) * 0.1 + 0.01
    ax.set_xlim(t["lon"].min() - pad_x * 0.5, t["lon"].max() + pad_x * 1.5)
    ax.set_ylim(t["lat"].min() - pad_y, t["lat"].max() + pad_y)
    ax.set_xlabel(L.t("map.x", lang))
    ax.set_ylabel(L.t("map.y", lang))
    ax.grid(color="0.92", linewidth=0.5)
    cb = fig.colorbar(sc, ax=ax, shrink=0.7)
    cb.set_label(L.t("map.colorbar", lang))
    return _finish(fig, lang, L.t("map.title", lang), scenario, seed, [L.t("map.note", lang), note])


# ---------------------------------------------------------------------------- output


def png_bytes(fig: Figure, dpi: int = 120) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def save(fig: Figure, stem: str | Path, formats: Sequence[str] = ("png", "svg"), dpi: int = 150) -> list[Path]:
    """Save ``fig`` as ``stem.png``, ``stem.svg`` (…); returns the paths written."""
    stem = Path(stem)
    out = []
    for fmt in formats:
        p = stem.with_suffix(f".{fmt}")
        fig.savefig(p, format=fmt, dpi=dpi)
        out.append(p)
    return out


def legend_entries(fig: Figure) -> list[str]:
    """Every legend label on a figure (axes legends and figure legends), for tests and checks."""
    out = []
    legends = [ax.get_legend() for ax in fig.axes] + list(fig.legends)
    for lg in legends:
        if lg is not None:
            out += [tx.get_text() for tx in lg.get_texts()]
    return out


__all__ = [
    "coverage_by_town", "coverage_vs_staff", "tradeoff", "allocation_by_source", "delay_cdf", "patrol_grid",
    "certified_teams_over_time", "stock_over_time", "backlog_over_time", "campaign_effect", "town_map", "png_bytes", "save",
    "legend_entries",
]

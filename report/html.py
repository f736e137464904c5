"""The report of a run folder: one self-contained HTML file, an Excel workbook and chart files.

``write_report(run_dir, out_dir, lang)`` writes::

    out_dir/report.html    charts embedded as base64 PNG, summary tables, assumptions with sources
    out_dir/report.xlsx    summary, towns, (comparison,) assumptions sheets
    out_dir/charts/*.png   every chart as PNG …
    out_dir/charts/*.svg   … and SVG (text as outlines: no font needed to view it)

With ``baseline=other_run_dir`` it is a before/after report: the comparison of
every measure on paired replications (:func:`report.compare.compare_runs`,
difference = run − baseline), the towns plan by plan, and the delay
distributions and backlog of both plans.  ``baseline`` may be a list of run
folders: the report then has one comparison section per baseline (run − that
baseline, each paired by replication; tables ``id="comparison"``,
``"comparison-2"``, …; workbook sheets "comparison 1", "comparison 2", … and a
"towns by plan" sheet — with one baseline the sheet "comparison" sets the two
plans side by side as before), and the towns table, the delay and backlog
charts show every plan.  Plans are named as :func:`report.compare.plan_labels`
names them in the report's language: by their scenario titles (``title_zh`` /
``title_en``), else by scenario or folder name.

A lever table (:mod:`report.levers`: ``levers=FILE``, or the run folder's own
``levers.csv``, which scenarios/before_after.py writes into the after run) adds
the section "which settings carry the effect": per lever, its effect alone, the
effect lost without it and its Shapley share on county coverage and the
coverage of each class, each with its paired 95 % CI, and a sentence naming the
lever with the largest share; the workbook gets a "levers" sheet.

A run longer than a few months (its ``timeline.csv`` spans more than
:data:`TIMELINE_MIN_MONTHS` months) gets the chart of certified teams over
time; a run whose scenario has ``[[campaigns]]``, reported against a baseline
without them (the first such baseline), gets the campaign-effect chart of each
campaign.  Everything is
written into a temporary folder next to ``out_dir`` and renamed into place
(:class:`~sim.staging.staged_folder`), so an interrupted write leaves no
half-written report; an existing ``out_dir`` is replaced only with
``force=True``, only if egrid wrote it, and never if it holds the run reported on.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from enforcement_grid.sim.measures import brigade_visits, validation_table
from enforcement_grid.sim.staging import check_target, staged_folder

from . import charts as C
from . import labels as L
from . import levers as LV
from .compare import compare_runs, format_value, plan_labels
from .excel import write_workbook
from .rundir import (
    RunDir,
    allocation,
    assumptions,
    backlog_by_day,
    campaign_series,
    certified_by_month,
    delays,
    load_run,
)



def town_columns(classes) -> list[str]:
    """Measures of the towns table: coverage, coverage of each of the run's classes, delays, utilisation."""
    return ["coverage", *town_comparison(classes)[1:], "discovery_delay_min", "response_time_min", "utilisation"]


def town_comparison(classes) -> list[str]:
    """Measures compared town by town (the county row shows every measure)."""
    return ["coverage", *(f"coverage_{k}" for k in classes)]

TIMELINE_MIN_MONTHS = 3  # a timeline of more months than this gets the certified-teams chart
CAMPAIGN_SMOOTH_DAYS = 7  # moving average of the campaign chart's response time


@dataclass
class Chart:
    """A chart of the report: file stem, caption and the figure."""

    name: str
    caption: str
    figure: Figure


def baselines_of(baseline) -> list:
    """``baseline`` as a list: None → [], one run folder (path or RunDir) → [it], a list → the list."""
    if baseline is None:
        return []
    if isinstance(baseline, (str, Path, RunDir)):
        return [baseline]
    return list(baseline)


def _plan_labels(run: RunDir, baselines: Sequence[RunDir], lang: str | None = None) -> tuple[str, list[str]]:
    """Names of the run and of each baseline (:func:`report.compare.plan_labels`)."""
    labels = plan_labels([*baselines, run], lang)
    return labels[-1], labels[:-1]


def build_charts(
    run: RunDir,
    lang: str,
    baseline: RunDir | None = None,
    patrol_towns: Sequence[str] | str | None = None,
) -> list[Chart]:
    """The report's charts from what the run folder(s) hold (charts whose data is missing are left out).

    ``patrol_towns``: towns whose patrol plan is drawn: a list, ``"all"``, or
    ``None`` for the county seat (or the first town of the plan).
    """
    te = run.town_en
    bases = [load_run(b) for b in baselines_of(baseline)]
    name, base_names = _plan_labels(run, bases, lang)
    kw = dict(scenario=run.name, seed=run.seed)
    both = dict(kw)
    if bases:
        every = [*bases, run]
        seeds = list(dict.fromkeys(r.seed for r in every))
        both = dict(scenario=" / ".join(r.name for r in every),
                    seed=seeds[0] if len(seeds) == 1 else " / ".join(str(r.seed) for r in every))
    out: list[Chart] = []

    def add(stem: str, fig: Figure) -> None:
        out.append(Chart(stem, fig.get_suptitle() or stem, fig))

    add("coverage_by_town", C.coverage_by_town(run.summary, lang, classes=run.class_keys, town_en=te,
                                               class_labels=run.class_labels, **kw))
    if run.towns is not None and {"lat", "lon"} <= set(run.towns.columns):
        add("town_map", C.town_map(run.towns, run.summary, lang, **kw))
    alloc = allocation(run)
    if alloc is not None and not alloc.empty:
        add("allocation_by_source", C.allocation_by_source(alloc, lang, town_en=te, source_labels=run.source_labels, **kw))

    plans = [*zip(base_names, bases), (name, run)]
    plans = [(label, r) for label, r in plans if r.records is not None]
    if plans:
        recs = {label: delays(r.records, r.warmup_min) for label, r in plans}
        add("delay_response", C.delay_cdf(recs, "response", lang, **both))
        add("delay_discovery", C.delay_cdf(recs, "discovery", lang, **both))
        frames = [
            backlog_by_day(r.records, r.item_targets_min(), r.warmup_min, r.horizon_min).assign(plan=label)
            for label, r in plans
        ]
        add("backlog", C.backlog_over_time(pd.concat(frames, ignore_index=True), lang, **both))

    certified = _certified_frame(run, name, bases, base_names)
    if certified is not None:
        reps = len(run.reps)
        add("certified_teams", C.certified_teams_over_time(certified, lang, note=L.t("certified.note", lang, reps=reps),
                                                           **(both if "series" in certified.columns else kw)))
    tl = run.timeline
    if tl is not None and "stock_latent" in tl.columns and tl["stock_latent"].sum() > 0:
        stock = certified_by_month(tl, "stock_latent", horizon_days=run.horizon_min / 1440.0)
        add("stock_latent", C.stock_over_time(stock, lang, **kw))
    for i, (campaign, frame) in enumerate(_campaign_frames(run, bases)):
        towns = "、".join(campaign["towns"]) if lang == "zh" else ", ".join(te.get(t, t) for t in campaign["towns"])
        note = L.t("campaign.note", lang, name=campaign["name"], towns=towns,
                   category=L.category_label(campaign["category"], lang, run.category_labels),
                   villages=len(run.campaign_villages(campaign["name"])), smooth=CAMPAIGN_SMOOTH_DAYS)
        start = float(campaign["start_day"])
        end = min(start + float(campaign["days"]), run.horizon_min / 1440.0)
        add("campaign" if i == 0 else f"campaign_{i + 1}",
            C.campaign_effect(frame, lang, start_day=start, end_day=end, note=note, **both))

    if run.plan is not None and not run.plan.empty:
        in_plan = list(dict.fromkeys(run.plan["town"]))
        if patrol_towns == "all":
            towns = in_plan
        elif patrol_towns is None:
            seat = run.settings.get("reform", {}).get("county_seat")
            towns = [seat] if seat in in_plan else in_plan[:1]
        else:
            towns = [t for t in patrol_towns if t in in_plan]
        villages = run.table("villages")
        for i, town in enumerate(towns):
            rows = list(villages.loc[villages["town"] == town, "village"]) if villages is not None else None
            stem = "patrol_grid_" + "".join(ch for ch in te.get(town, str(i)) if ch.isascii() and ch.isalnum())
            add(stem, C.patrol_grid(run.plan, town, lang, villages=rows or None, town_en=te, **kw))
    return out


def _months(run: RunDir) -> pd.DataFrame | None:
    """The run's certified teams by month, if its timeline spans more than a few months."""
    tl = run.timeline
    if tl is None or tl.empty:
        return None
    days = run.horizon_min / 1440.0
    df = certified_by_month(tl, "teams", horizon_days=days)
    return df if len(df) > TIMELINE_MIN_MONTHS else None


def _certified_frame(run: RunDir, name: str, baselines: Sequence[RunDir], base_names: Sequence[str]) -> pd.DataFrame | None:
    """Certified teams by month of the run (and of each baseline as long, as more series)."""
    mine = _months(run)
    if mine is None:
        return None
    theirs = [(label, m) for label, m in ((label, _months(b)) for label, b in zip(base_names, baselines)) if m is not None]
    if not theirs:
        return mine
    return pd.concat([*(m.assign(series=label) for label, m in theirs), mine.assign(series=name)], ignore_index=True)


def _campaign_frames(run: RunDir, baselines: Sequence[RunDir]) -> list[tuple[dict, pd.DataFrame]]:
    """For each campaign of the run that a baseline lacks: its campaign-effect table, with and without it
    (against the first baseline without that campaign)."""
    if not baselines or not run.campaigns or run.records is None:
        return []
    out = []
    for c in run.campaigns:
        if float(c["start_day"]) * 1440.0 >= run.horizon_min:
            continue  # it starts after the run
        without = [b for b in baselines if c.get("name") not in {x.get("name") for x in b.campaigns}]
        if not without or without[0].records is None:
            continue  # every baseline ran it (no contrast to draw)
        names = run.campaign_villages(c["name"])
        args = (names, c["category"], c["towns"], run.horizon_min, CAMPAIGN_SMOOTH_DAYS)
        frame = pd.concat([
            campaign_series(without[0].records, *args).assign(group="without campaign"),
            campaign_series(run.records, *args).assign(group="with campaign"),
        ], ignore_index=True)
        out.append((c, frame))
    return out


# ---------------------------------------------------------------------------- HTML pieces

FONT_FAMILY = "Report Sans"

CSS = """
body { font-family: "Report Sans", "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif;
       margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #111; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #999; padding-bottom: 0.2em; margin-top: 2em; }
p.meta, p.note { color: #444; font-size: 0.92em; }
p.conclusion { font-weight: bold; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.88em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; }
td:first-child { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.sig td { font-weight: bold; }
td.src { color: #333; max-width: 32em; }
figure { margin: 1.5em 0; page-break-inside: avoid; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #333; }
footer { margin-top: 3em; font-size: 0.8em; color: #666; }
"""

SCRIPT = """
<script>
(function () {
  function count() {
    var imgs = Array.prototype.slice.call(document.images);
    var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
    document.getElementById("images-loaded").textContent = ok + "/" + imgs.length;
  }
  function fonts() {
    var el = document.getElementById("font-status");
    if (!el || !document.fonts) { return; }
    document.fonts.ready.then(function () {
      var state = "none";
      document.fonts.forEach(function (f) { if (f.family.replace(/"/g, "") === "Report Sans") { state = f.status; } });
      el.textContent = state;
    });
  }
  if (document.readyState === "complete") { count(); fonts(); }
  else { window.addEventListener("load", function () { count(); fonts(); }); }
})();
</script>
"""


def font_face(text: str) -> str:
    """A CSS ``@font-face`` embedding Noto Sans CJK SC cut down to the characters of ``text``.

    The page then shows its Chinese text on machines without a CJK font (a CI
    browser, a bare Linux); the subset is tens of kilobytes (WOFF, zlib).
    """
    import io

    from fontTools import subset

    from .fonts import cjk_font_path

    opts = subset.Options()
    opts.flavor = "woff"
    opts.layout_features = []
    opts.notdef_outline = True
    font = subset.load_font(str(cjk_font_path()), opts)
    sub = subset.Subsetter(opts)
    sub.populate(text="".join(sorted(set(text) | set(" 0123456789%.,:;()[]+-−–·→/"))))
    sub.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'@font-face {{ font-family: "{FONT_FAMILY}"; src: url(data:font/woff;base64,{data}) format("woff"); }}'


def _e(x) -> str:
    return html.escape("" if x is None or (isinstance(x, float) and math.isnan(x)) else str(x))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], classes: Sequence[str] | None = None,
           row_classes: Sequence[str] | None = None, table_id: str | None = None) -> str:
    """HTML table; cells are escaped here."""
    classes = classes or [""] * len(header)
    tid = f' id="{table_id}"' if table_id else ""
    out = [f"<table{tid}>", "<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr></thead>", "<tbody>"]
    for i, row in enumerate(rows):
        rc = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        cells = "".join(f'<td class="{c}">{_e(v)}</td>' if c else f"<td>{_e(v)}</td>" for v, c in zip(row, classes))
        out.append(f"<tr{rc}>{cells}</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def county_table(summary: pd.DataFrame, lang: str, class_labels=None) -> str:
    s = summary[summary["scope"] == "county"]
    rows = [(L.metric_label(r.metric, lang, class_labels), format_value(r.metric, r.mean, r.ci_low, r.ci_high)) for r in s.itertuples()]
    return _table([L.t("col.metric", lang), L.t("col.ci", lang)], rows, ["", "num"], table_id="county")


def towns_table(summary: pd.DataFrame, lang: str, town_en, classes, class_labels=None) -> str:
    """Town by town: the measures of :func:`town_columns` for the run's ``classes``."""
    scopes = [s for s in dict.fromkeys(summary["scope"]) if s != "county"]
    metrics = [m for m in town_columns(classes) if (summary["metric"] == m).any()]
    means = summary.set_index(["scope", "metric"])["mean"]
    rows = []
    for sc in scopes:
        rows.append([L.town_label(sc, lang, town_en)] + [format_value(m, means.get((sc, m), math.nan), math.nan, math.nan) for m in metrics])
    header = [L.t("town", lang)] + [L.metric_label(m, lang, class_labels) for m in metrics]
    return _table(header, rows, [""] + ["num"] * len(metrics), table_id="towns")


def validation_frame(run: RunDir) -> pd.DataFrame | None:
    """The run's platform-style measures against the scenario's published ranges (none: no ranges)."""
    ranges = run.settings.get("published_ranges") or []
    return validation_table(run.summary, ranges) if ranges else None


def validation_html(table: pd.DataFrame, lang: str, town_en, class_labels=None) -> str:
    rows = [(
        L.town_label(r.scope, lang, town_en), L.metric_label(r.metric, lang, class_labels),
        format_value(r.metric, r.mean, r.ci_low, r.ci_high),
        f"{format_value(r.metric, r.published_low, math.nan, math.nan)}–{format_value(r.metric, r.published_high, math.nan, math.nan)}",
        L.verdict_label(r.verdict, lang), f"{r.what}; {r.source}",
    ) for r in table.itertuples()]
    header = [L.t("col.scope", lang), L.t("col.metric", lang), L.t("col.ci", lang), L.t("col.published", lang),
              L.t("col.verdict", lang), L.t("col.source", lang)]
    return _table(header, rows, ["", "", "num", "num", "", "src"], table_id="validation")


def patrol_frame(run: RunDir) -> pd.DataFrame | None:
    """Per brigade: weekly patrol visits required and planned (from the run's patrol_visits.csv)."""
    path = run.path / "patrol_visits.csv"
    if not path.is_file():
        return None
    return brigade_visits(pd.read_csv(path, keep_default_na=False, na_values=[""]))


def patrol_html(table: pd.DataFrame, lang: str, town_en) -> str:
    rows = [(
        L.town_label(r.brigade, lang, town_en), f"{r.villages:,}", f"{r.visits_required:,}", f"{r.visits_planned:,}",
        format_value("patrol_visits_planned_share", r.planned_share, math.nan, math.nan), f"{r.villages_not_weekly:,}",
    ) for r in table.itertuples()]
    header = [L.t(f"col.{c}", lang) for c in
              ("brigade", "villages", "visits_required", "visits_planned", "planned_share", "villages_not_weekly")]
    rc = ["sig" if r.visits_planned < r.visits_required else "" for r in table.itertuples()]
    return _table(header, rows, ["", "num", "num", "num", "num", "num"], rc, table_id="patrol-plan")


def comparison_blocks(table: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """The pairs of a :func:`report.compare.compare_runs` table, in its order: (plan_a, plan_b, rows)."""
    return [(a, b, part) for (a, b), part in table.groupby(["plan_a", "plan_b"], sort=False)]


def towns_plans_table(plans: Sequence[tuple[str, RunDir]], lang: str, town_en, classes, class_labels=None) -> str:
    """Town by town and measure by measure (coverage, each class's): each plan's mean [95 % CI], a column per plan
    (the rows of :func:`towns_plans_frame`, which the workbook shows)."""
    frame = towns_plans_frame(plans, classes)
    value = {(r.plan, r.scope, r.metric): format_value(r.metric, r.mean, r.ci_low, r.ci_high)
             for r in frame.itertuples()}
    scopes = list(dict.fromkeys(frame["scope"]))
    scopes = ["county", *(sc for sc in scopes if sc != "county")] if "county" in scopes else scopes
    rows = []
    for sc in scopes:
        for m in town_comparison(classes):
            cells = [value.get((label, sc, m), "–") for label, _ in plans]
            if any(c != "–" for c in cells):
                rows.append([L.town_label(sc, lang, town_en), L.metric_label(m, lang, class_labels), *cells])
    header = [L.t("town", lang), L.t("col.metric", lang), *(label for label, _ in plans)]
    return _table(header, rows, ["", ""] + ["num"] * len(plans), table_id="towns-plans")


def towns_plans_frame(plans: Sequence[tuple[str, RunDir]], classes) -> pd.DataFrame:
    """``plan, scope, metric, mean, ci_low, ci_high`` of every plan, for the measures compared town by town."""
    metrics = town_comparison(classes)
    frames = [r.summary[r.summary["metric"].isin(metrics)][["scope", "metric", "mean", "ci_low", "ci_high"]].assign(plan=label)
              for label, r in plans]
    return pd.concat(frames, ignore_index=True)[["plan", "scope", "metric", "mean", "ci_low", "ci_high"]]


def levers_html(table: pd.DataFrame, lang: str, classes, class_labels=None) -> str:
    """Per measure (county coverage, each class's) and lever: Shapley share, effect alone, effect lost without it."""
    rows, rc = [], []
    for m in LV.lever_metrics(table, classes):
        for r in LV.lever_rows(table, m):
            is_total = r["lever"] == LV.TOTAL
            # the total: in the Shapley column, which sums to it (alone and without it have no meaning there)
            cells = [format_value(m, *r[LV.TOTAL], signed=True), "", ""] if is_total else \
                [format_value(m, *r[method], signed=True) for method in LV.SHOWN]
            rows.append([L.metric_label(m, lang, class_labels), L.lever_label(r["lever"], lang), *cells])
            rc.append("sig" if is_total else "")
    header = [L.t("col.metric", lang), L.t("col.lever", lang), *(L.t(f"col.{m}", lang) for m in LV.SHOWN)]
    return _table(header, rows, ["", "", "num", "num", "num"], rc, table_id="levers")


def levers_sentence(table: pd.DataFrame, lang: str) -> str | None:
    """The sentence naming the lever with the largest Shapley share on county coverage (None: not in the table)."""
    top = LV.top_lever(table, "coverage")
    if top is None:
        return None
    lever, total = top
    return L.t("report.levers_top", lang, lever=L.lever_label(lever["lever"], lang),
               total=format_value("coverage", *total[LV.TOTAL], signed=True),
               share=format_value("coverage", *lever["shapley"], signed=True))


def comparison_table(table: pd.DataFrame, lang: str, town_en, classes, class_labels=None, table_id: str = "comparison") -> str:
    keep = (table["scope"] == "county") | table["metric"].isin(town_comparison(classes))
    t = table[keep]
    a, b = t["plan_a"].iloc[0], t["plan_b"].iloc[0]
    rows, rc = [], []
    for r in t.itertuples():
        rows.append((
            L.town_label(r.scope, lang, town_en), L.metric_label(r.metric, lang, class_labels),
            format_value(r.metric, r.mean_a, r.ci_low_a, r.ci_high_a),
            format_value(r.metric, r.mean_b, r.ci_low_b, r.ci_high_b),
            format_value(r.metric, r.diff, r.diff_ci_low, r.diff_ci_high, signed=True),
            L.t("yes" if r.significant else "no", lang),
        ))
        rc.append("sig" if r.significant else "")
    header = [L.t("col.scope", lang), L.t("col.metric", lang), str(a), str(b), L.t("col.diff", lang), L.t("col.significant", lang)]
    return _table(header, rows, ["", "", "num", "num", "num", ""], rc, table_id=table_id)


def assumptions_table(rows: pd.DataFrame, lang: str) -> str:
    body = [
        (r.section, r.key, r.value if not r.value_in_run else f"{r.value} → {r.value_in_run}", r.source)
        for r in rows.itertuples()
    ]
    header = [L.t("col.section", lang), L.t("col.key", lang), L.t("col.value", lang), L.t("col.source", lang)]
    return _table(header, body, ["", "", "", "src"], table_id="assumptions")


def render_html(
    run: RunDir,
    lang: str,
    charts: Sequence[tuple[Chart, bytes]],
    assumption_rows: pd.DataFrame,
    comparison: pd.DataFrame | None = None,
    baseline: RunDir | Sequence[RunDir] | None = None,
    embed_font: bool = True,
    levers: pd.DataFrame | None = None,
    levers_file: str = LV.FILE,
) -> str:
    """The report page; ``charts`` pairs each chart with its PNG bytes (embedded as a data: URI).

    ``comparison``: the pairs (baseline, run) of :func:`report.compare.compare_runs`, one
    section each; ``baseline``: the baseline run(s); ``levers``: a lever table
    (:func:`report.levers.read_levers`) for the levers section, named ``levers_file`` in its note.
    ``embed_font``: embed the subset of the CJK font the page's text needs (:func:`font_face`).
    """
    bases = [load_run(b) for b in baselines_of(baseline)]
    s = run.settings.get("scenario", {})
    title = f"{run.title(lang)} — {L.t('report.title', lang)}"
    meta = L.t("report.meta", lang, scenario=run.name, seed=run.seed, days=float(s.get("horizon_days", float("nan"))),
               warmup=float(s.get("warmup_days", float("nan"))), reps=len(run.reps))
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        "<head>", '<meta charset="utf-8">', f"<title>{_e(title)}</title>", f"<style>/*FONT*/{CSS}</style>", "</head>", "<body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">{_e(L.t("report.run", lang))}: {_e(run.path.name)} · {_e(meta)}</p>',
    ]
    if s.get("description"):
        parts.append(f'<p class="meta">{_e(s["description"])}</p>')
    name, base_names = _plan_labels(run, bases, lang)
    for label, base in zip(base_names, bases):
        bs = base.settings.get("scenario", {})
        bmeta = L.t("report.meta", lang, scenario=base.name, seed=base.seed, days=float(bs.get("horizon_days", float("nan"))),
                    warmup=float(bs.get("warmup_days", float("nan"))), reps=len(base.reps))
        parts.append(f'<p class="meta">{_e(L.t("report.baseline", lang))}: {_e(base.path.name)} — {_e(label)} · {_e(bmeta)}</p>')
    cl = run.class_labels
    parts += [f'<h2>{_e(L.t("report.county", lang))}</h2>', county_table(run.summary, lang, cl)]
    parts += [f'<h2>{_e(L.t("report.towns", lang))}</h2>', towns_table(run.summary, lang, run.town_en, run.class_keys, cl)]
    if bases:
        parts += [
            f'<h2>{_e(L.t("report.towns_plans", lang))}</h2>',
            f'<p class="note">{_e(L.t("report.towns_plans_note", lang))}</p>',
            towns_plans_table([*zip(base_names, bases), (name, run)], lang, run.town_en, run.class_keys, cl),
        ]
    validation = validation_frame(run)
    if validation is not None:
        parts += [
            f'<h2>{_e(L.t("report.validation", lang))}</h2>',
            f'<p class="note">{_e(L.t("report.validation_note", lang))}</p>',
            validation_html(validation, lang, run.town_en, cl),
        ]
    patrol = patrol_frame(run)
    if patrol is not None:
        parts += [
            f'<h2>{_e(L.t("report.patrol_plan", lang))}</h2>',
            f'<p class="note">{_e(L.t("report.patrol_plan_note", lang))}</p>',
            patrol_html(patrol, lang, run.town_en),
        ]
    blocks = comparison_blocks(comparison) if comparison is not None and not comparison.empty else []
    for i, (a, b, part) in enumerate(blocks):
        heading = L.t("report.comparison", lang) if len(blocks) == 1 else L.t("report.comparison_pair", lang, a=a, b=b)
        parts += [
            f'<h2>{_e(heading)}</h2>',
            f'<p class="note">{_e(L.t("report.comparison_note", lang, a=a, b=b))}</p>',
            comparison_table(part, lang, run.town_en, run.class_keys, cl,
                             table_id="comparison" if i == 0 else f"comparison-{i + 1}"),
        ]
    if levers is not None:
        sentence = levers_sentence(levers, lang)
        parts += [
            f'<h2>{_e(L.t("report.levers", lang))}</h2>',
            *([f'<p class="conclusion">{_e(sentence)}</p>'] if sentence else []),
            f'<p class="note">{_e(L.t("report.levers_note", lang, file=levers_file))}</p>',
            levers_html(levers, lang, run.class_keys, cl),
        ]
    parts.append(f'<h2>{_e(L.t("report.charts", lang))}</h2>')
    for chart, png in charts:
        uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        parts.append(
            f'<figure id="chart-{_e(chart.name)}"><img src="{uri}" alt="{_e(chart.caption)}">'
            f"<figcaption>{_e(chart.caption)} (charts/{_e(chart.name)}.png, .svg)</figcaption></figure>"
        )
    parts += [
        f'<h2>{_e(L.t("report.assumptions", lang))}</h2>',
        f'<p class="note">{_e(L.t("report.assumptions_note", lang))}</p>',
        assumptions_table(assumption_rows, lang),
        f'<footer>{_e(L.footnote(lang, run.name, run.seed))} · {_e(L.t("report.images_loaded", lang))}: '
        f'<span id="images-loaded">0/{len(charts)}</span> · font: <span id="font-status">{"pending" if embed_font else "none"}</span></footer>',
        SCRIPT,
        "</body>", "</html>",
    ]
    page = "\n".join(parts) + "\n"
    return page.replace("/*FONT*/", font_face(page) if embed_font else "", 1)


# ---------------------------------------------------------------------------- the report


def write_report(
    run_dir,
    out_dir,
    lang: str = "zh",
    baseline=None,
    *,
    force: bool = False,
    patrol_towns: Sequence[str] | str | None = None,
    dpi: int = 150,
    embed_font: bool = True,
    levers=None,
) -> dict[str, Path | list[Path]]:
    """Write the report of ``run_dir`` (optionally against ``baseline``) to ``out_dir``.

    ``baseline``: a run folder, or a list of them (one comparison section each).
    ``levers``: a lever table file for the levers section (default: ``run_dir``'s own
    ``levers.csv`` if it has one; see :mod:`report.levers`).
    Returns the paths written: ``{"html": …, "excel": …, "charts": [...]}`` (inside
    ``out_dir``).  See the module docstring for the layout.  ``patrol_towns``: see
    :func:`build_charts`; ``embed_font``: embed the CJK glyphs the page uses, so it
    reads right without a CJK font installed (about 2 s and 50–100 kB).
    """
    L.t("report.title", lang)  # checks lang before any work
    run = load_run(run_dir)
    given = baselines_of(baseline)
    bases = [load_run(b) for b in given]
    lever_file = LV.find_levers(run.path, levers)
    lever_table = LV.read_levers(lever_file) if lever_file is not None else None
    out = Path(out_dir)
    inputs = [run_dir, *given]
    state = check_target(out, force, inputs=inputs, what="report folder")

    charts = build_charts(run, lang, bases, patrol_towns)
    comparison = None
    if bases:
        name, base_names = _plan_labels(run, bases, lang)
        comparison = pd.concat([compare_runs(b, run).assign(plan_a=label, plan_b=name)
                                for label, b in zip(base_names, bases)], ignore_index=True)
    rows = assumptions(run, inherited_label=L.t("report.inherited", lang, file="{file}"))

    with staged_folder(out, writer="egrid report", force=force, inputs=inputs, what="report folder",
                       state=state) as tmp:
        (tmp / "charts").mkdir()
        rendered, files = [], []
        for chart in charts:
            png = C.png_bytes(chart.figure, dpi=dpi)
            (tmp / "charts" / f"{chart.name}.png").write_bytes(png)
            chart.figure.savefig(tmp / "charts" / f"{chart.name}.svg", format="svg")
            files += [out / "charts" / f"{chart.name}.png", out / "charts" / f"{chart.name}.svg"]
            rendered.append((chart, png))
        page = render_html(run, lang, rendered, rows, comparison, bases, embed_font=embed_font,
                           levers=lever_table, levers_file=lever_file.name if lever_file is not None else LV.FILE)
        (tmp / "report.html").write_text(page, encoding="utf-8")
        towns_by_plan = None
        if len(bases) > 1:
            towns_by_plan = towns_plans_frame([*zip(base_names, bases), (name, run)], run.class_keys)
        write_workbook(tmp / "report.xlsx", lang, run.summary, rows, comparison, run.town_en, run.class_labels,
                       validation=validation_frame(run), patrol=patrol_frame(run),
                       towns_by_plan=towns_by_plan, levers=lever_table)
    return {"html": out / "report.html", "excel": out / "report.xlsx", "charts": files}

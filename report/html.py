"""The report of a run folder: one self-contained HTML file, an Excel workbook and chart files.

``write_report(run_dir, out_dir, lang)`` writes::

    out_dir/report.html    charts embedded as base64 PNG, summary tables, assumptions with sources
    out_dir/report.xlsx    summary, towns, (comparison,) assumptions sheets
    out_dir/charts/*.png   every chart as PNG …
    out_dir/charts/*.svg   … and SVG (text as outlines: no font needed to view it)

With ``baseline=other_run_dir`` it is a before/after report: the comparison of
every measure on paired replications (:func:`report.compare.compare_runs`,
difference = run − baseline) and the delay distributions and backlog of both
plans.  A run longer than a few months (its ``timeline.csv`` spans more than
:data:`TIMELINE_MIN_MONTHS` months) gets the chart of certified teams over
time; a run whose scenario has ``[[campaigns]]``, reported against a baseline
without them, gets the campaign-effect chart of each campaign.  Everything is
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
from .compare import compare_runs, format_value
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


def _plan_labels(run: RunDir, baseline: RunDir | None) -> tuple[str, str | None]:
    """Short names of the plans: scenario names, or folder names when the scenarios share a name."""
    if baseline is None:
        return run.name, None
    if run.name != baseline.name:
        return run.name, baseline.name
    if run.path.name != baseline.path.name:
        return run.path.name, baseline.path.name
    return f"{run.name} (b)", f"{baseline.name} (a)"


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
    name, base_name = _plan_labels(run, baseline)
    kw = dict(scenario=run.name, seed=run.seed)
    both = dict(kw)
    if baseline is not None:
        both = dict(scenario=f"{baseline.name} / {run.name}",
                    seed=run.seed if run.seed == baseline.seed else f"{baseline.seed} / {run.seed}")
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

    plans = [(base_name, baseline), (name, run)] if baseline is not None else [(name, run)]
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

    certified = _certified_frame(run, name, baseline, base_name)
    if certified is not None:
        reps = len(run.reps)
        add("certified_teams", C.certified_teams_over_time(certified, lang, note=L.t("certified.note", lang, reps=reps),
                                                           **(both if "series" in certified.columns else kw)))
    tl = run.timeline
    if tl is not None and "stock_latent" in tl.columns and tl["stock_latent"].sum() > 0:
        stock = certified_by_month(tl, "stock_latent", horizon_days=run.horizon_min / 1440.0)
        add("stock_latent", C.stock_over_time(stock, lang, **kw))
    for i, (campaign, frame) in enumerate(_campaign_frames(run, baseline)):
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


def _certified_frame(run: RunDir, name: str, baseline: RunDir | None, base_name: str | None) -> pd.DataFrame | None:
    """Certified teams by month of the run (and of the baseline, as a second series, if it is as long)."""
    mine = _months(run)
    if mine is None:
        return None
    theirs = _months(baseline) if baseline is not None else None
    if theirs is None:
        return mine
    return pd.concat([theirs.assign(series=base_name), mine.assign(series=name)], ignore_index=True)


def _campaign_frames(run: RunDir, baseline: RunDir | None) -> list[tuple[dict, pd.DataFrame]]:
    """For each campaign of the run absent from the baseline: its campaign-effect table, with and without it."""
    if baseline is None or not run.campaigns or run.records is None or baseline.records is None:
        return []
    theirs = {c.get("name") for c in baseline.campaigns}
    out = []
    for c in run.campaigns:
        if c.get("name") in theirs or float(c["start_day"]) * 1440.0 >= run.horizon_min:
            continue  # both plans ran it (no contrast to draw), or it starts after the run
        names = run.campaign_villages(c["name"])
        args = (names, c["category"], c["towns"], run.horizon_min, CAMPAIGN_SMOOTH_DAYS)
        frame = pd.concat([
            campaign_series(baseline.records, *args).assign(group="without campaign"),
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


def comparison_table(table: pd.DataFrame, lang: str, town_en, classes, class_labels=None) -> str:
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
    return _table(header, rows, ["", "", "num", "num", "num", ""], rc, table_id="comparison")


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
    baseline: RunDir | None = None,
    embed_font: bool = True,
) -> str:
    """The report page; ``charts`` pairs each chart with its PNG bytes (embedded as a data: URI).

    ``embed_font``: embed the subset of the CJK font the page's text needs (:func:`font_face`).
    """
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
    if baseline is not None:
        bs = baseline.settings.get("scenario", {})
        bmeta = L.t("report.meta", lang, scenario=baseline.name, seed=baseline.seed, days=float(bs.get("horizon_days", float("nan"))),
                    warmup=float(bs.get("warmup_days", float("nan"))), reps=len(baseline.reps))
        parts.append(f'<p class="meta">{_e(L.t("report.baseline", lang))}: {_e(baseline.path.name)} — {_e(baseline.title(lang))} · {_e(bmeta)}</p>')
    cl = run.class_labels
    parts += [f'<h2>{_e(L.t("report.county", lang))}</h2>', county_table(run.summary, lang, cl)]
    parts += [f'<h2>{_e(L.t("report.towns", lang))}</h2>', towns_table(run.summary, lang, run.town_en, run.class_keys, cl)]
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
    if comparison is not None and not comparison.empty:
        a, b = comparison["plan_a"].iloc[0], comparison["plan_b"].iloc[0]
        parts += [
            f'<h2>{_e(L.t("report.comparison", lang))}</h2>',
            f'<p class="note">{_e(L.t("report.comparison_note", lang, a=a, b=b))}</p>',
            comparison_table(comparison, lang, run.town_en, run.class_keys, cl),
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
) -> dict[str, Path | list[Path]]:
    """Write the report of ``run_dir`` (optionally against ``baseline``) to ``out_dir``.

    Returns the paths written: ``{"html": …, "excel": …, "charts": [...]}`` (inside
    ``out_dir``).  See the module docstring for the layout.  ``patrol_towns``: see
    :func:`build_charts`; ``embed_font``: embed the CJK glyphs the page uses, so it
    reads right without a CJK font installed (about 2 s and 50–100 kB).
    """
    L.t("report.title", lang)  # checks lang before any work
    run = load_run(run_dir)
    base = load_run(baseline) if baseline is not None else None
    out = Path(out_dir)
    inputs = [run_dir] + ([baseline] if baseline is not None else [])
    state = check_target(out, force, inputs=inputs, what="report folder")

    charts = build_charts(run, lang, base, patrol_towns)
    comparison = None
    if base is not None:
        name, base_name = _plan_labels(run, base)
        comparison = compare_runs(base, run).assign(plan_a=base_name, plan_b=name)
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
        page = render_html(run, lang, rendered, rows, comparison, base, embed_font=embed_font)
        (tmp / "report.html").write_text(page, encoding="utf-8")
        write_workbook(tmp / "report.xlsx", lang, run.summary, rows, comparison, run.town_en, run.class_labels,
                       validation=validation_frame(run), patrol=patrol_frame(run))
    return {"html": out / "report.html", "excel": out / "report.xlsx", "charts": files}

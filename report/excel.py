"""The Excel workbook of a report (openpyxl): summary, towns, comparison, levers and assumptions sheets.

Values stay in their stored units (shares as fractions, times in minutes) so the
workbook can be computed on; the label column says what each measure is, with
its display unit.  Sheet names and column headers are in the report's language
(:func:`sheet_names`).

Every text cell is written as text (:func:`text_as_text`): scenario files pass
between planners and consultants, and a town name or a comment starting with
``=`` must never become a live formula (``=HYPERLINK(…)`` leaking a cell).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl.utils import get_column_letter

from . import labels as L


def sheet_names(lang: str, comparison: bool | int = False, validation: bool = False, patrol: bool = False,
                towns_by_plan: bool = False, levers: bool = False) -> list[str]:
    """The sheets :func:`write_workbook` writes, in order (``comparison``: whether, or how many, pairs)."""
    n = int(comparison)
    names = [L.t(f"sheet.{k}", lang) for k in
             ["summary", "towns"] + (["towns_plans"] if towns_by_plan else []) + (["validation"] if validation else [])
             + (["patrol_plan"] if patrol else [])]
    if n == 1:
        names.append(L.t("sheet.comparison", lang))
    else:
        names += [L.t("sheet.comparison_n", lang, n=i + 1) for i in range(n)]
    if levers:
        names.append(L.t("sheet.levers", lang))
    return names + [L.t("sheet.assumptions", lang)]


def summary_sheet(summary: pd.DataFrame, lang: str, town_en=None, class_labels=None) -> pd.DataFrame:
    s = summary.copy()
    out = pd.DataFrame({
        L.t("col.scope", lang): [L.town_label(x, lang, town_en) for x in s["scope"]],
        L.t("col.metric", lang): [L.metric_label(m, lang, class_labels) for m in s["metric"]],
        L.t("col.metric_key", lang): s["metric"],
        L.t("col.mean", lang): s["mean"],
        L.t("col.ci_low", lang): s["ci_low"],
        L.t("col.ci_high", lang): s["ci_high"],
    })
    return out


def towns_sheet(summary: pd.DataFrame, lang: str, town_en=None) -> pd.DataFrame:
    """Scopes as rows, measures as columns (means)."""
    wide = summary.pivot_table(index="scope", columns="metric", values="mean", aggfunc="first", sort=False)
    wide = wide.reindex(index=list(dict.fromkeys(summary["scope"])), columns=list(dict.fromkeys(summary["metric"])))
    wide.index = [L.town_label(x, lang, town_en) for x in wide.index]
    wide.index.name = L.t("col.scope", lang)
    return wide.reset_index()


def validation_sheet(table: pd.DataFrame, lang: str, town_en=None, class_labels=None) -> pd.DataFrame:
    """sim.measures.validation_table in the report's language: the summary sheet's columns, then the
    published range, the verdict and its source; values as fractions."""
    out = summary_sheet(table, lang, town_en, class_labels)
    out[L.t("col.published_low", lang)] = table["published_low"].to_numpy()
    out[L.t("col.published_high", lang)] = table["published_high"].to_numpy()
    out[L.t("col.verdict", lang)] = [L.verdict_label(v, lang) for v in table["verdict"]]
    out[L.t("col.what", lang)] = table["what"].to_numpy()
    out[L.t("col.source", lang)] = table["source"].to_numpy()
    return out


def patrol_sheet(table: pd.DataFrame, lang: str, town_en=None) -> pd.DataFrame:
    """sim.measures.brigade_visits in the report's language."""
    out = table.copy()
    out["brigade"] = [L.town_label(x, lang, town_en) for x in out["brigade"]]
    return out.rename(columns={c: L.t(f"col.{c}", lang) for c in out.columns})


def comparison_sheet(table: pd.DataFrame, lang: str, town_en=None, class_labels=None) -> pd.DataFrame:
    out = table.copy()
    out.insert(3, "label", [L.metric_label(m, lang, class_labels) for m in out["metric"]])
    out["scope"] = [L.town_label(x, lang, town_en) for x in out["scope"]]
    out["significant"] = [L.t("yes" if v else "no", lang) for v in out["significant"]]
    return out.rename(columns={
        "scope": L.t("col.scope", lang), "label": L.t("col.metric", lang), "metric": L.t("col.metric_key", lang),
        "significant": L.t("col.significant", lang), "n_pairs": L.t("col.n_pairs", lang),
    })


def towns_plans_sheet(table: pd.DataFrame, lang: str, town_en=None, class_labels=None) -> pd.DataFrame:
    """``plan, scope, metric, mean, ci_low, ci_high`` rows as one row per (scope, measure) and three columns per plan."""
    plans = list(dict.fromkeys(table["plan"]))
    keys = list(dict.fromkeys(zip(table["scope"], table["metric"])))
    t = table.set_index(["plan", "scope", "metric"])
    out = pd.DataFrame({
        L.t("col.scope", lang): [L.town_label(sc, lang, town_en) for sc, _ in keys],
        L.t("col.metric", lang): [L.metric_label(m, lang, class_labels) for _, m in keys],
        L.t("col.metric_key", lang): [m for _, m in keys],
    })
    for plan in plans:
        for col in ("mean", "ci_low", "ci_high"):
            out[f"{plan} · {L.t(f'col.{col}', lang)}"] = [
                t[col].get((plan, sc, m), float("nan")) for sc, m in keys]
    return out


def levers_sheet(table: pd.DataFrame, lang: str, town_en=None, class_labels=None) -> pd.DataFrame:
    """The lever table (report.levers.read_levers) with its labels in the report's language; values as stored."""
    out = table.copy()
    out.insert(1, "label", [L.lever_label(x, lang) for x in out["lever"]])
    out.insert(4, "metric_label", [L.metric_label(m, lang, class_labels) for m in out["metric"]])
    out["scope"] = [L.town_label(x, lang, town_en) for x in out["scope"]]
    return out.rename(columns={
        "label": L.t("col.lever", lang), "scope": L.t("col.scope", lang), "metric_label": L.t("col.metric", lang),
        "metric": L.t("col.metric_key", lang),
    })


def assumptions_sheet(rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    return rows.rename(columns={
        "section": L.t("col.section", lang), "key": L.t("col.key", lang), "value": L.t("col.value", lang),
        "source": L.t("col.source", lang), "line": L.t("col.line", lang),
    })


def _fit_columns(ws, frame: pd.DataFrame, max_width: int = 70) -> None:
    for i, col in enumerate(frame.columns, start=1):
        cells = [str(col)] + [str(v) for v in frame.iloc[:200, i - 1].tolist()]
        width = max(len(c) + sum(1 for ch in c if ord(ch) > 0x2E80) for c in cells)
        ws.column_dimensions[get_column_letter(i)].width = min(max_width, max(8, width + 2))
    ws.freeze_panes = "B2"


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def text_as_text(ws) -> int:
    """Make every text cell of a worksheet plain text: never a formula; text starting with a formula
    character (``= + - @``, tab, carriage return) is marked as quoted text (Excel's ``'`` prefix), so that
    editing the cell does not bring a formula to life either.  Returns the number of cells neutralised."""
    neutralised = 0
    for row in ws.iter_rows():
        for cell in row:
            value = cell.value
            if not isinstance(value, str):
                continue
            cell.data_type = "s"  # openpyxl makes any string starting with "=" a formula
            if value.startswith(FORMULA_TRIGGERS):
                cell.quotePrefix = True
                neutralised += 1
    return neutralised


def write_frames(path: Path, sheets: list[tuple[str, pd.DataFrame]], fit: bool = True) -> Path:
    """Write DataFrames as the sheets of one workbook, every text cell as text: the one way the toolkit writes xlsx."""
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        for name, frame in sheets:
            frame.to_excel(xl, sheet_name=name, index=False)
            ws = xl.sheets[name]
            text_as_text(ws)
            if fit:
                _fit_columns(ws, frame)
    return Path(path)


def write_workbook(
    path: Path,
    lang: str,
    summary: pd.DataFrame,
    assumptions: pd.DataFrame,
    comparison: pd.DataFrame | None = None,
    town_en=None,
    class_labels=None,
    validation: pd.DataFrame | None = None,
    patrol: pd.DataFrame | None = None,
    towns_by_plan: pd.DataFrame | None = None,
    levers: pd.DataFrame | None = None,
) -> Path:
    """Write the workbook to ``path`` (the caller writes into a temporary folder first).

    ``comparison``: a :func:`report.compare.compare_runs` table, one sheet per pair of
    plans ("comparison" if there is one pair, "comparison 1", "comparison 2", … if more);
    ``validation``: the validation table (sim.measures.validation_table); ``patrol``:
    weekly patrol visits per brigade (sim.measures.brigade_visits); ``towns_by_plan``:
    ``plan, scope, metric, mean, ci_low, ci_high`` (:func:`report.html.towns_plans_frame`);
    ``levers``: a lever table (:func:`report.levers.read_levers`); each a sheet if given.
    """
    pairs = [] if comparison is None else [
        part for _, part in comparison.groupby(["plan_a", "plan_b"], sort=False)]
    names = sheet_names(lang, len(pairs), validation is not None, patrol is not None,
                        towns_by_plan is not None, levers is not None)
    frames = [summary_sheet(summary, lang, town_en, class_labels), towns_sheet(summary, lang, town_en)]
    if towns_by_plan is not None:
        frames.append(towns_plans_sheet(towns_by_plan, lang, town_en, class_labels))
    if validation is not None:
        frames.append(validation_sheet(validation, lang, town_en, class_labels))
    if patrol is not None:
        frames.append(patrol_sheet(patrol, lang, town_en))
    frames += [comparison_sheet(part, lang, town_en, class_labels) for part in pairs]
    if levers is not None:
        frames.append(levers_sheet(levers, lang, town_en, class_labels))
    frames.append(assumptions_sheet(assumptions, lang))
    return write_frames(path, list(zip(names, frames)))

"""The plan's Excel workbook: allocation, timetable, visits, rotas, comparison, levers, posts — numbers, not text.

Percentages are stored as fractions with a per-cent number format, hours as
numbers with a one-decimal format, counts as integers; headers are in the
report's language (Chinese by default), so the tables paste into a document as
they are.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from . import labels as L

PCT = "0.0%"
HOURS = "#,##0"
SHEETS = {
    "allocation": {"zh": "编制分配", "en": "allocation"},
    "timetable": {"zh": "巡查周计划", "en": "timetable"},
    "visits": {"zh": "各村巡查次数", "en": "visits"},
    "rotas": {"zh": "排班", "en": "rotas"},
    "comparison": {"zh": "方案比较", "en": "comparison"},
    "levers": {"zh": "措施贡献", "en": "levers"},
    "enough": {"zh": "编制是否够用", "en": "posts"},
    "budget": {"zh": "工时预算", "en": "budget"},
}


def _sheet(wb, title: str, header: list[str], rows: list[list], formats: dict[int, str] | None = None) -> None:
    ws = wb.create_sheet(title)
    ws.append(header)
    for r in rows:
        ws.append([None if (isinstance(v, float) and pd.isna(v)) else v for v in r])
    for col, fmt in (formats or {}).items():
        for cell in ws.iter_rows(min_row=2, min_col=col + 1, max_col=col + 1):
            cell[0].number_format = fmt
    for i, h in enumerate(header, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(10, min(40, 2 * len(str(h)) + 2))
    ws.freeze_panes = "A2"


def _clip(x):
    return None if pd.isna(x) else min(1.0, max(0.0, float(x)))


def write_plan_workbook(p, path: Path, lang: str = "zh") -> Path:
    """Write the workbook of a :class:`report.plan_report.PlanFolder`."""
    from .plan_report import METRIC, ROLE_ORDER, plan_label, w

    wb = Workbook()
    wb.remove(wb.active)
    town = lambda t: L.town_label(t, lang, p.town_en)  # noqa: E731
    s = lambda k: SHEETS[k][lang]  # noqa: E731
    _sheet(wb, s("allocation"), [w("col.town", lang), L.t("col.source", lang) if lang == "en" else "编制来源",
                                 w("col.officers", lang), w("col.certified", lang)],
           [[town(r.town), L.source_label(r.source, lang, p.source_labels), int(r.posts), int(r.certified)] for r in p.allocation.itertuples()])
    _sheet(wb, s("timetable"), [w("col.town", lang), w("col.day", lang), w("col.team", lang), "顺序" if lang == "zh" else "order",
                                w("col.village", lang)],
           [[town(r.town), L.t(r.day, lang), int(r.team) + 1, int(r.order) + 1, r.village] for r in p.timetable.itertuples()])
    _sheet(wb, s("visits"), [w("col.town", lang), w("col.village", lang), w("col.visits_today", lang), w("col.visits_plan", lang)],
           [[town(r.town), r.village, int(r.visits_today), int(r.visits_per_week)] for r in p.visits.itertuples()])
    pats = [c.removeprefix("predicted_") for c in p.rotas.columns if c.startswith("predicted_")]
    from .plan_report import _pattern

    _sheet(wb, s("rotas"), [w("col.town", lang), w("col.rota_today", lang), w("col.rota_plan", lang), w("col.certified", lang),
                            *[w("col.predicted", lang, pattern=_pattern(x, lang)) for x in pats]],
           [[town(r["town"]), _pattern(r["today"], lang), _pattern(r["planned"], lang), int(r["certified"]),
             *[_clip(r[f"predicted_{x}"]) for x in pats]] for _, r in p.rotas.iterrows()],
           {4 + i: PCT for i in range(len(pats))})
    roles = [r for r in ROLE_ORDER if r in p.summaries]
    header = [w("col.town", lang)]
    for r in roles:
        lab = plan_label(r, lang, short=True)
        header += [lab, f"{lab} {L.t('col.ci_low', lang)}", f"{lab} {L.t('col.ci_high', lang)}"]
    rows = []
    for scope in [*p.towns, "county"]:
        row = [town(scope) if scope != "county" else L.t("county", lang)]
        for r in roles:
            x = p.summaries[r]
            x = x[(x["scope"] == scope) & (x["metric"] == METRIC)]
            row += [_clip(x[c].iloc[0]) if not x.empty else None for c in ("mean", "ci_low", "ci_high")]
        rows.append(row)
    _sheet(wb, s("comparison"), header, rows, {i: PCT for i in range(1, len(header))})
    _sheet(wb, s("levers"), [w("col.lever", lang), w("col.metric", lang), w("col.effect", lang).split("[")[0].strip(),
                             L.t("col.ci_low", lang), L.t("col.ci_high", lang)],
           [[w(f"lever.{r.lever}", lang), L.metric_label(r.metric, lang, p.class_labels), r.effect, r.ci_low, r.ci_high]
            for r in p.levers.itertuples()], {2: PCT, 3: PCT, 4: PCT})
    if p.enough is not None:
        _sheet(wb, s("enough"), [w("col.posts", lang), w("col.share", lang), w("col.certified", lang), w("col.approx", lang),
                                 L.t("col.mean", lang), L.t("col.ci_low", lang), L.t("col.ci_high", lang)],
               [[int(r.total_posts), r.share_of_today, None if pd.isna(r.certified) else int(r.certified), _clip(r.predicted),
                 _clip(r.mean), _clip(r.ci_low), _clip(r.ci_high)] for r in p.enough.itertuples()],
               {1: "0%", 3: PCT, 4: PCT, 5: PCT, 6: PCT})
    _sheet(wb, s("budget"), [w("col.plan", lang), w("col.brigade", lang), w("col.officers", lang), w("col.certified", lang),
                             w("col.team_hours", lang), w("col.needed_hours", lang), w("col.needed_share", lang)],
           [[plan_label(r.plan, lang, short=True), L.t("county", lang) if r.brigade == "county" else town(r.brigade),
             int(r.officers), int(r.certified), float(r.team_field_hours), float(r.needed_hours), float(r.needed_share)]
            for r in p.budget.itertuples()], {4: HOURS, 5: HOURS, 6: PCT})
    wb.save(str(path))
    return path


__all__ = ["write_plan_workbook", "SHEETS"]

"""The decision report of a plan folder (``egrid plan``): conclusions first, then every table a county office needs.

One document is built from the plan folder's tables (:func:`build_document`: a
list of blocks — headings, paragraphs, tables, charts) and rendered three ways:
HTML (:func:`render_html`, images and the CJK font embedded, so the page is one
file), Word (:mod:`report.docx`: real headings, Word tables, charts as images)
and Excel (:mod:`report.plan_excel`: numbers with number formats).  Every
sentence of 结论与建议 is made from the numbers (:func:`conclusions`); each names
the lever that carries the gain.  Shares are shown in per cent with intervals
clipped to [0, 100 %] (a t interval of a share can cross the bounds); counts are
per year, hours per year.  In Chinese, codes and the scenario file's English
comments appear only in the appendix.
"""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from enforcement_grid.sim.staging import staged_folder

from . import labels as L
from .rundir import load_run, parse_toml_assumptions

METRIC = "coverage_weighted"
ROLE_ORDER = ("before", "proportional", "today", "plan")

W: dict[str, dict[str, str]] = {
    "title": {"zh": "{county}执法力量配置方案：编制、排班与巡查", "en": "{county}: posts, rotas and patrols — the plan"},
    "meta": {"zh": "情景 {scenario}，随机种子 {seed}，每个方案仿真 {days:g} 天（预热 {warmup:g} 天），{reps} 次重复运行，"
                   "各方案使用相同随机数（配对比较）。",
             "en": "scenario {scenario}, seed {seed}; every plan simulated for {days:g} days (warm-up {warmup:g}), "
                   "{reps} replications, on common random numbers (paired comparisons)."},
    "h.conclusions": {"zh": "结论与建议", "en": "Conclusions and recommendations"},
    "h.allocation": {"zh": "编制分配（按镇、来源与持证人数）", "en": "Allocation of posts (town × source × certified)"},
    "h.timetable": {"zh": "各执法队每周巡查计划", "en": "Weekly patrol timetable of every brigade"},
    "h.visits": {"zh": "各村（社区）每周巡查次数", "en": "Patrol visits a week per village"},
    "h.rotas": {"zh": "排班", "en": "Duty rotas"},
    "h.towns": {"zh": "各镇方案比较", "en": "Plans compared town by town"},
    "h.levers": {"zh": "各项措施的贡献", "en": "What each lever contributes"},
    "h.enough": {"zh": "编制是否够用", "en": "Are the posts enough?"},
    "h.budget": {"zh": "工时预算（人·小时/年）", "en": "Officer-hours budget (a year)"},
    "h.assumptions": {"zh": "假设与来源", "en": "Assumptions and sources"},
    "h.appendix": {"zh": "附录：代码与原文注释", "en": "Appendix: codes and the scenario file's comments"},
    "plan.before": {"zh": "改革前", "en": "before the reform"},
    "plan.today": {"zh": "现状（现行编制与默认巡查规则）", "en": "today (current posts, default patrol rule)"},
    "plan.proportional": {"zh": "按人口比例分配编制", "en": "population-proportional posts"},
    "plan.plan": {"zh": "优化方案", "en": "the plan"},
    "plan.short.before": {"zh": "改革前", "en": "before"},
    "plan.short.today": {"zh": "现状", "en": "today"},
    "plan.short.proportional": {"zh": "按人口比例", "en": "proportional"},
    "plan.short.plan": {"zh": "优化方案", "en": "plan"},
    "lever.allocation": {"zh": "编制分配", "en": "allocation of posts"},
    "lever.rotas": {"zh": "排班", "en": "duty rotas"},
    "lever.patrol": {"zh": "巡查频次与周计划", "en": "patrol frequency and timetable"},
    "lever.total": {"zh": "合计", "en": "total"},
    "pattern.day": {"zh": "日班（工作日白班）", "en": "day shift (weekdays)"},
    "pattern.staggered": {"zh": "错时两班（每日 07:00–21:00）", "en": "staggered two shifts (07:00–21:00 daily)"},
    "s.change": {"zh": "建议：{parts}。", "en": "Recommendation: {parts}."},
    "s.change.posts": {"zh": "在各镇之间调整 {moved} 个编制（{towns_up} 增加，{towns_down} 减少；见编制分配表）",
                       "en": "move {moved} posts between towns ({towns_up} gain, {towns_down} lose; see the allocation table)"},
    "s.change.no_posts": {"zh": "编制分配维持现状", "en": "keep today's allocation of posts"},
    "s.change.rotas": {"zh": "{n} 个镇执法队改为{pattern}排班（{towns}）", "en": "{n} brigades change to {pattern} ({towns})"},
    "s.change.visits": {"zh": "各村每周巡查合计 {plan} 次（现行规则 {today} 次），按周计划表执行",
                        "en": "{plan} patrol visits a week in all (today's rule: {today}), as the weekly timetable sets out"},
    "s.buys": {"zh": "按类别加权的全县按时处置率由现状的 {today} 提高到 {plan}，变化 {diff} 个百分点（95% 置信区间 {lo}～{hi}）。",
               "en": "Class-weighted county coverage rises from {today} today to {plan}: {diff} percentage points (95 % CI {lo} to {hi})."},
    "s.lever": {"zh": "增益主要来自{lever}：{effect} 个百分点（{lo}～{hi}），占 {share}。",
                "en": "The gain comes mostly from {lever}: {effect} points ({lo} to {hi}), {share} of it."},
    "s.others": {"zh": "其余：{parts}（Shapley 分解，逐次重复运行配对；区间含 0 即不显著）。",
                 "en": "The rest: {parts} (Shapley shares, paired by replication; an interval containing 0 is not significant)."},
    "s.other_part": {"zh": "{lever} {effect}（{lo}～{hi}）", "en": "{lever} {effect} ({lo} to {hi})"},
    "s.unchanged": {"zh": "{lever}未改变", "en": "{lever} unchanged"},
    "s.proportional": {"zh": "与按人口比例分配编制（同样排班、默认巡查规则）相比，方案高 {diff} 个百分点（{lo}～{hi}）；"
                             "其中现行编制与按人口比例编制之差（只涉及编制分配）为 {alloc} 个百分点（{alo}～{ahi}），其余来自方案的{levers}。",
                       "en": "Against population-proportional posts (same rotas, default patrol rule) the plan is {diff} points higher "
                             "({lo} to {hi}); of this, today's posts against proportional posts (the allocation alone) "
                             "account for {alloc} ({alo} to {ahi}), the rest for the plan's {levers}."},
    "s.before": {"zh": "与改革前相比，方案高 {diff} 个百分点（{lo}～{hi}），现状已高 {today} 个百分点（{tlo}～{thi}）{most}。",
                 "en": "Against before the reform the plan is {diff} points higher ({lo} to {hi}); today is already {today} "
                       "higher ({tlo} to {thi}){most}."},
    "s.before.most": {"zh": "：大部分增益来自改革本身（一镇一队、网格合并、事项下放），而非本方案", "en": ": most of the gain is the reform's own (a brigade per town, merged grids, delegated items), not this plan's"},
    "s.enough": {"zh": "编制是否够用：{verdict}现有 {have} 个编制时为 {full}；{rows}。",
                 "en": "Are the posts enough? {verdict}With today's {have} posts: {full}; {rows}."},
    "s.enough.spare": {"zh": "现有编制够用，{fewest} 个编制（现有的 {share}）即可使按时处置率与现有编制相差不到 1 个百分点（{fm}，{flo}～{fhi}）。",
                       "en": "The posts are enough: {fewest} posts ({share} of today's) come within one point ({fm}, {flo} to {fhi}). "},
    "s.enough.tight": {"zh": "现有编制不宽裕：少于现有编制即使按时处置率下降超过 1 个百分点。",
                       "en": "The posts are not more than enough: with fewer, coverage falls by more than one point. "},
    "s.enough.row": {"zh": "{share} 编制（{posts} 个）时为 {m}（{lo}～{hi}）", "en": "{share} of the posts ({posts}): {m} ({lo} to {hi})"},
    "s.enough.note": {"zh": "（各编制总数下重新选择分配与排班，巡查按默认规则排入路线，与现有编制同法比较）",
                      "en": " (allocation and rotas re-chosen at each total; visits packed into routes by the default rule, "
                            "the 100 % point made the same way)"},
    "s.assume": {"zh": "结论依赖以下估计（无直接来源）的假设：{keys}；见“假设与来源”。",
                 "en": "It rests on these estimated assumptions (no direct source): {keys}; see Assumptions and sources."},
    "s.problems": {"zh": "注意：{n} 个巡查安排未能全部排入（见附录）。", "en": "Note: {n} patrol requirements did not fit (see the appendix)."},
    "col.town": {"zh": "镇", "en": "town"},
    "col.total": {"zh": "合计", "en": "total"},
    "col.today_posts": {"zh": "现有编制", "en": "posts today"},
    "col.change": {"zh": "增减", "en": "change"},
    "col.certified": {"zh": "持证", "en": "certified"},
    "col.day": {"zh": "星期", "en": "day"},
    "col.team": {"zh": "巡查小组", "en": "team"},
    "col.route": {"zh": "巡查路线（按顺序）", "en": "route (in order)"},
    "col.village": {"zh": "村（社区）", "en": "village"},
    "col.visits_today": {"zh": "现行规则（次/周）", "en": "today's rule (a week)"},
    "col.visits_plan": {"zh": "方案（次/周）", "en": "plan (a week)"},
    "col.rota_today": {"zh": "现行排班", "en": "rota today"},
    "col.rota_plan": {"zh": "方案排班", "en": "planned rota"},
    "col.predicted": {"zh": "近似按时处置率·{pattern}", "en": "approx. coverage, {pattern}"},
    "col.lever": {"zh": "措施", "en": "lever"},
    "col.metric": {"zh": "指标", "en": "measure"},
    "col.effect": {"zh": "贡献（百分点）[95% 置信区间]", "en": "effect (points) [95 % CI]"},
    "col.posts": {"zh": "编制总数", "en": "total posts"},
    "col.share": {"zh": "占现有", "en": "of today's"},
    "col.coverage": {"zh": "加权按时处置率 [95% 置信区间]", "en": "class-weighted coverage [95 % CI]"},
    "col.approx": {"zh": "近似模型", "en": "approximation"},
    "col.brigade": {"zh": "执法队", "en": "brigade"},
    "col.officers": {"zh": "编制", "en": "officers"},
    "col.team_hours": {"zh": "持证小组外勤工时", "en": "team field hours"},
    "col.needed_hours": {"zh": "所需工时", "en": "hours needed"},
    "col.needed_share": {"zh": "所需占比", "en": "needed share"},
    "col.plan": {"zh": "方案", "en": "plan"},
    "col.setting": {"zh": "设置项", "en": "setting"},
    "col.value": {"zh": "取值", "en": "value"},
    "col.basis": {"zh": "依据", "en": "basis"},
    "col.code": {"zh": "代码", "en": "code"},
    "col.comment": {"zh": "原文注释", "en": "comment"},
    "basis.estimate": {"zh": "估计（理由见附录原文注释）", "en": "estimate (reason in the appendix)"},
    "basis.source": {"zh": "有来源：{refs}", "en": "sourced: {refs}"},
    "basis.none": {"zh": "未注明", "en": "not stated"},
    "chart.towns.title": {"zh": "各镇加权按时处置率：改革前、按人口比例与优化方案", "en": "Class-weighted coverage by town: before, proportional, plan"},
    "chart.towns.y": {"zh": "加权按时处置率（%）", "en": "class-weighted coverage (%)"},
    "chart.towns.note": {"zh": "误差线：重复运行的 95% 置信区间", "en": "error bars: 95 % CI over replications"},
    "chart.levers.title": {"zh": "方案增益的来源（全县，Shapley 分解）", "en": "Where the plan's gain comes from (county, Shapley shares)"},
    "chart.levers.y": {"zh": "贡献（百分点）", "en": "effect (percentage points)"},
    "chart.enough.title": {"zh": "编制总数与加权按时处置率（仿真）", "en": "Total posts and class-weighted coverage (simulated)"},
    "chart.enough.x": {"zh": "编制总数（个）", "en": "total posts"},
    "chart.enough.y": {"zh": "加权按时处置率（%）", "en": "class-weighted coverage (%)"},
    "chart.enough.today": {"zh": "现有编制", "en": "today's posts"},
    "chart.enough.band": {"zh": "现有编制下 −1 个百分点", "en": "today's coverage − 1 point"},
    "images": {"zh": "", "en": ""},
}

# Chinese names of the settings most plans rest on (others show their section's name and the code in the appendix).
SETTING_ZH = {
    "officer_time.duty_days_per_year": "年工作日", "officer_time.annual_leave_days": "年休假天数",
    "officer_time.training_days": "培训天数", "officer_time.desk_share": "内勤时间占比",
    "officer_time.other_town_work_share": "被抽调从事镇其他工作的时间占比",
    "patrol.min_visits_per_week": "每村每周最少巡查次数", "patrol.hot_spot_visits_per_week": "重点村每周巡查次数",
    "patrol.max_visits_per_week": "每村每周最多巡查次数", "patrol.visit_base_min": "每次巡查基本时长（分钟）",
    "patrol.visit_min_per_1k_residents": "每千人增加巡查时长（分钟）", "patrol.response_teams_reserved": "保留应急小组数",
    "grid.report_delay_mean_min": "网格上报平均延时（分钟）", "grid.residents_per_grid": "每网格居民数",
    "command_centre.triage_mean_min": "指挥中心受理平均时长（分钟）", "transfer.delay_mean_hours": "移送平均时长（小时）",
    "transfer.returned_share": "移送退回联合处置比例", "travel.speed_kmh": "行车速度（公里/小时）",
    "travel.urban_speed_kmh": "城区行车速度（公里/小时）", "travel.circuity": "道路绕行系数",
    "travel.overhead_min": "出车准备时长（分钟）", "travel.noise_cv": "行车时间波动系数",
    "certification.pass_prob": "执法资格考试每次通过率", "certification.first_sitting_day": "首次考试日",
    "certification.sitting_interval_days": "考试间隔（天）", "certification.deadline_years": "取得资格期限（年）",
    "transition.share_of_posts": "过渡期“定岗到镇”编制比例", "transition.available_share": "过渡期人员在镇可用时间比例",
    "inspection.visit_min": "每户检查时长（分钟）", "inspection.joint_share": "联合检查可合并的比例",
    "complaint.relay_delay_mean_min": "投诉转办平均延时（分钟）",
    "scenario.replications": "重复运行次数", "scenario.warmup_days": "预热天数", "scenario.horizon_days": "仿真天数",
    "optimize.max_posts_per_brigade": "每队编制上限", "optimize.min_law_posts_per_brigade": "每队法律岗位下限",
    "optimize.max_uncertified_per_certified": "每名持证人员可带未持证人员数", "optimize.coverage_target": "按时处置率目标",
    "optimize.approx_samples": "近似模型抽样数", "optimize.patrol_travel_value": "巡查一小时可发现违法数",
}
SECTION_ZH = {
    "scenario": "情景", "reform": "改革模式", "staffing": "编制", "officer_time": "人员时间", "shift_patterns": "排班",
    "profiles": "违法发生的时间分布", "classes": "违法类别", "grid": "网格", "complaint": "投诉", "command_centre": "指挥中心",
    "transfer": "移送", "travel": "出行", "patrol": "巡查", "inspection": "检查", "records": "记录", "optimize": "优化",
    "certification": "执法资格", "transition": "过渡期", "building_growth": "违建扩大", "stock": "存量违建",
    "lifecycle": "案件办理流程", "campaigns": "专项整治", "staffing.sources": "编制来源",
}
# The estimated assumptions a plan's conclusions lean on most (named in the conclusions when estimated).
KEY_ASSUMPTIONS = ("officer_time.other_town_work_share", "officer_time.desk_share", "patrol.response_teams_reserved",
                   "patrol.max_visits_per_week", "transition.available_share", "certification.pass_prob",
                   "travel.noise_cv", "patrol.visit_base_min")


def w(key: str, lang: str, **fields) -> str:
    text = W[key][lang]
    return text.format(**fields) if fields else text


def plan_label(role: str, lang: str, short: bool = False) -> str:
    """A plan's name in the report's language (before, today, proportional, plan; others by their levers)."""
    key = f"plan.short.{role}" if short else f"plan.{role}"
    if key in W:
        return w(key, lang)
    if role.startswith(("posts-", "fewest-")):
        n = role.split("-")[1]
        return f"{n}% 编制" if lang == "zh" and role.startswith("posts-") else (
            f"{n} 个编制" if lang == "zh" else (f"{n} % of the posts" if role.startswith("posts-") else f"{n} posts"))
    parts = [w(f"lever.{p}", lang) for p in role.split("+") if f"lever.{p}" in W]
    return ("现状＋" if lang == "zh" else "today + ") + ("、" if lang == "zh" else ", ").join(parts)


# --------------------------------------------------------------------------- number formats


def pct(x: float, digits: int = 1) -> str:
    """A share in per cent, clipped to [0, 100 %]."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{min(1.0, max(0.0, float(x))) * 100:.{digits}f}%"


def pct_ci(m, lo, hi) -> str:
    return f"{pct(m)} [{pct(lo)}, {pct(hi)}]" if not pd.isna(lo) else pct(m)


def pp(x: float, signed: bool = True) -> str:
    """Percentage points (a difference of shares: within ±100)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    v = max(-100.0, min(100.0, float(x) * 100))
    return f"{v:+.1f}" if signed else f"{v:.1f}"


def num(x: float, digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:,.{digits}f}"


# --------------------------------------------------------------------------- the plan folder


@dataclass
class PlanFolder:
    path: Path
    plans: pd.DataFrame
    allocation: pd.DataFrame
    timetable: pd.DataFrame
    visits: pd.DataFrame
    rotas: pd.DataFrame
    levers: pd.DataFrame
    comparison: pd.DataFrame
    enough: pd.DataFrame | None
    budget: pd.DataFrame
    today_staffing: pd.DataFrame
    summaries: dict[str, pd.DataFrame]
    meta: dict
    towns: list[str]
    town_en: dict[str, str]
    assumptions: pd.DataFrame
    problems: list[str] = field(default_factory=list)
    source_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # the scenario's [sources] labels
    class_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # and its classes'
    pattern_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # and its shift patterns'


def read_plan_folder(folder: str | Path) -> PlanFolder:
    folder = Path(folder)
    plans = pd.read_csv(folder / "plans.csv")
    summaries = {k: pd.read_csv(folder / f / "summary.csv") for k, f in zip(plans["key"], plans["folder"])}
    today = load_run(folder / "runs" / "today")
    towns_table = pd.read_csv(folder / "tables" / "towns.csv")
    enough = pd.read_csv(folder / "enough.csv") if (folder / "enough.csv").exists() else None
    s = today.settings["scenario"]
    text = (folder / "tables" / "source-scenario.toml").read_text(encoding="utf-8")
    return PlanFolder(
        path=folder, plans=plans, allocation=pd.read_csv(folder / "allocation.csv"),
        timetable=pd.read_csv(folder / "patrol.csv"), visits=pd.read_csv(folder / "visits.csv"),
        rotas=pd.read_csv(folder / "rotas.csv"), levers=pd.read_csv(folder / "levers.csv"),
        comparison=pd.read_csv(folder / "comparison.csv"), enough=enough, budget=pd.read_csv(folder / "budget.csv"),
        today_staffing=pd.read_csv(folder / "runs" / "today" / "tables" / "staffing.csv"),
        summaries=summaries,
        meta={"scenario": today.name, "seed": today.seed, "days": s["horizon_days"], "warmup": s["warmup_days"],
              "reps": len(today.replications["rep"].unique()), "title_zh": s.get("title_zh", ""),
              "title_en": s.get("title_en", "")},
        towns=list(towns_table["town"]), town_en=dict(zip(towns_table["town"], towns_table["town_en"])),
        source_labels=today.source_labels, class_labels=today.class_labels, pattern_labels=today.pattern_labels,
        assumptions=parse_toml_assumptions(text),
    )


def _county(summary: pd.DataFrame, metric: str = METRIC) -> tuple[float, float, float]:
    r = summary[(summary["scope"] == "county") & (summary["metric"] == metric)]
    if r.empty:
        return (math.nan,) * 3
    r = r.iloc[0]
    return float(r["mean"]), float(r["ci_low"]), float(r["ci_high"])


def _pair(p: PlanFolder, a: str, b: str, metric: str = METRIC, scope: str = "county"):
    c = p.comparison
    r = c[(c["plan_a"] == a) & (c["plan_b"] == b) & (c["scope"] == scope) & (c["metric"] == metric)]
    if r.empty:
        return None
    r = r.iloc[0]
    return float(r["diff"]), float(r["diff_ci_low"]), float(r["diff_ci_high"])


def _county_name(p: PlanFolder, lang: str) -> str:
    title = p.meta["title_zh"] if lang == "zh" else p.meta["title_en"]
    return (title.split(" ")[0] if lang == "zh" else title.split(",")[0]) or p.meta["scenario"]


def _pattern(name: str, lang: str, p: PlanFolder | None = None) -> str:
    """A shift pattern by the scenario's label for it, else the built-in words, else its key (quoted)."""
    own = (p.pattern_labels if p is not None else {}).get(name, {}).get(lang)
    if own:
        return own
    return w(f"pattern.{name}", lang) if f"pattern.{name}" in W else (f"“{name}”" if lang == "zh" else name)


def _town(t: str, p: PlanFolder, lang: str) -> str:
    return L.town_label(t, lang, p.town_en)


def _estimated(p: PlanFolder) -> list[str]:
    a = p.assumptions
    keys = [f"{r.section}.{r.key}" for r in a.itertuples() if "estimate" in str(r.source).lower()]
    return [k for k in KEY_ASSUMPTIONS if k in keys]


def _setting_name(key: str, lang: str) -> str:
    if lang == "en":
        return key
    if key in SETTING_ZH:
        return SETTING_ZH[key]
    section = key.rsplit(".", 1)[0]
    head = SECTION_ZH.get(section) or SECTION_ZH.get(section.split(".")[0], "其他")
    return f"{head}（附录代码 {_code_no(key)}）"


_CODES: dict[str, int] = {}  # setting key → its number in the appendix (the scenario file's order; set per folder)


def _code_no(key: str) -> int:
    return _CODES.setdefault(key, len(_CODES) + 1)


def _number_codes(p: "PlanFolder") -> None:
    _CODES.clear()
    for r in p.assumptions.itertuples():
        _code_no(f"{r.section}.{r.key}")


def conclusions(folder: str | Path | PlanFolder, lang: str = "zh") -> list[str]:
    """The sentences of 结论与建议, made from the plan folder's numbers."""
    p = folder if isinstance(folder, PlanFolder) else read_plan_folder(folder)
    _number_codes(p)
    out = []
    join = "；" if lang == "zh" else "; "
    # what to change
    parts = []
    a = p.allocation.groupby("town")["posts"].sum()
    t0 = p.today_staffing.groupby("brigade")["officers"].sum()
    change = (a - t0.reindex(a.index).fillna(0)).astype(int)
    moved = int(change.clip(lower=0).sum())
    if moved:
        up = ("、" if lang == "zh" else ", ").join(_town(t, p, lang) for t in change[change > 0].sort_values(ascending=False).index[:3])
        down = ("、" if lang == "zh" else ", ").join(_town(t, p, lang) for t in change[change < 0].sort_values().index[:3])
        parts.append(w("s.change.posts", lang, moved=moved, towns_up=up or "—", towns_down=down or "—"))
    else:
        parts.append(w("s.change.no_posts", lang))
    changed = p.rotas[p.rotas["today"] != p.rotas["planned"]]
    for pattern, g in changed.groupby("planned"):
        names = ("、" if lang == "zh" else ", ").join(_town(t, p, lang) for t in g["town"])
        parts.append(w("s.change.rotas", lang, n=len(g), pattern=_pattern(pattern, lang, p), towns=names))
    parts.append(w("s.change.visits", lang, plan=int(p.visits["visits_per_week"].sum()),
                   today=int(p.visits["visits_today"].sum())))
    out.append(w("s.change", lang, parts=join.join(parts)))
    # what it buys
    today, plan = _county(p.summaries["today"]), _county(p.summaries["plan"])
    d = _pair(p, "today", "plan")
    if d is not None:
        out.append(w("s.buys", lang, today=pct(today[0]), plan=pct(plan[0]), diff=pp(d[0]), lo=pp(d[1]), hi=pp(d[2])))
    # which lever
    lv = p.levers[(p.levers["metric"] == METRIC) & (p.levers["lever"] != "total")].copy()
    total = p.levers[(p.levers["metric"] == METRIC) & (p.levers["lever"] == "total")]
    if not lv.empty and not total.empty:
        tot = float(total["effect"].iloc[0])
        top = lv.loc[lv["effect"].idxmax()]
        share = f"{top['effect'] / tot:.0%}" if tot > 0 else "—"
        out.append(w("s.lever", lang, lever=w(f"lever.{top['lever']}", lang), effect=pp(top["effect"]),
                     lo=pp(top["ci_low"]), hi=pp(top["ci_high"]), share=share))
        rest = []
        for r in lv[lv["lever"] != top["lever"]].itertuples():
            if r.effect == 0 and r.ci_low == 0 and r.ci_high == 0:
                rest.append(w("s.unchanged", lang, lever=w(f"lever.{r.lever}", lang)))
            else:
                rest.append(w("s.other_part", lang, lever=w(f"lever.{r.lever}", lang), effect=pp(r.effect),
                              lo=pp(r.ci_low), hi=pp(r.ci_high)))
        if rest:
            out.append(w("s.others", lang, parts=join.join(rest)))
    # against proportional and before
    dp, dtp = _pair(p, "proportional", "plan"), _pair(p, "today", "proportional")
    if dp is not None and dtp is not None:
        moved_levers = [w(f"lever.{r.lever}", lang) for r in lv.itertuples() if not (r.effect == 0 and r.ci_high == 0)]
        out.append(w("s.proportional", lang, diff=pp(dp[0]), lo=pp(dp[1]), hi=pp(dp[2]), alloc=pp(-dtp[0]),
                     alo=pp(-dtp[2]), ahi=pp(-dtp[1]),
                     levers=("、" if lang == "zh" else ", ").join(moved_levers)))
    db, dbt = _pair(p, "before", "plan"), _pair(p, "before", "today")
    if db is not None and dbt is not None:
        most = w("s.before.most", lang) if dbt[0] > db[0] - dbt[0] else ""
        out.append(w("s.before", lang, diff=pp(db[0]), lo=pp(db[1]), hi=pp(db[2]), today=pp(dbt[0]),
                     tlo=pp(dbt[1]), thi=pp(dbt[2]), most=most))
    # enough?
    if p.enough is not None and not p.enough.empty:
        e = p.enough
        full = e[e["key"] == "posts-100"]
        have = int(full["total_posts"].iloc[0]) if not full.empty else int(a.sum())
        fewest = e[e["fewest"]]
        if not fewest.empty and int(fewest["total_posts"].iloc[0]) < have:
            f = fewest.iloc[0]
            verdict = w("s.enough.spare", lang, fewest=int(f["total_posts"]), share=f"{f['total_posts'] / have:.0%}",
                        fm=pct(f["mean"]), flo=pct(f["ci_low"]), fhi=pct(f["ci_high"]))
        else:
            verdict = w("s.enough.tight", lang)
        rows = [w("s.enough.row", lang, share=f"{r.share_of_today:.0%}", posts=int(r.total_posts), m=pct(r.mean),
                  lo=pct(r.ci_low), hi=pct(r.ci_high))
                for r in e.itertuples() if r.key.startswith("posts-") and r.key != "posts-100" and not pd.isna(r.mean)]
        fm = pct_ci(*full[["mean", "ci_low", "ci_high"]].iloc[0]) if not full.empty else "—"
        out.append(w("s.enough", lang, verdict=verdict, have=have, full=fm, rows=join.join(rows))
                   + w("s.enough.note", lang))
    est = _estimated(p)
    if est:
        out.append(w("s.assume", lang, keys=("、" if lang == "zh" else ", ").join(_setting_name(k, lang) for k in est)))
    return out


# --------------------------------------------------------------------------- the document


@dataclass
class Block:
    kind: str  # "h1", "h2", "h3", "p", "table", "chart"
    text: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    chart: str = ""  # stem of charts/<stem>.png
    table_id: str = ""


def build_document(p: PlanFolder, lang: str) -> list[Block]:
    _number_codes(p)
    b: list[Block] = [Block("h1", w("title", lang, county=_county_name(p, lang))),
                      Block("p", w("meta", lang, **{k: p.meta[k] for k in ("scenario", "seed", "days", "warmup", "reps")}))]
    b.append(Block("h2", w("h.conclusions", lang)))
    b += [Block("p", s) for s in conclusions(p, lang)]
    # allocation
    b.append(Block("h2", w("h.allocation", lang)))
    sources = list(dict.fromkeys(p.allocation["source"]))
    src = {s: L.source_label(s, lang, p.source_labels) for s in sources}
    header = [w("col.town", lang)] + [f"{src[s]}（{w('col.certified', lang)}）" if lang == "zh"
                                      else f"{src[s]} ({w('col.certified', lang)})" for s in sources]
    header += [w("col.total", lang), w("col.today_posts", lang), w("col.change", lang)]
    t0 = p.today_staffing.groupby("brigade")["officers"].sum()
    rows = []
    for t in p.towns:
        g = p.allocation[p.allocation["town"] == t].set_index("source")
        cells = [f"{int(g.loc[s, 'posts'])}（{int(g.loc[s, 'certified'])}）" if lang == "zh" else
                 f"{int(g.loc[s, 'posts'])} ({int(g.loc[s, 'certified'])})" for s in sources]
        tot = int(g["posts"].sum())
        rows.append([_town(t, p, lang), *cells, f"{tot}（{int(g['certified'].sum())}）" if lang == "zh" else
                     f"{tot} ({int(g['certified'].sum())})", str(int(t0.get(t, 0))), f"{tot - int(t0.get(t, 0)):+d}"])
    b.append(Block("table", header=header, rows=rows, table_id="allocation"))
    # timetable
    b.append(Block("h2", w("h.timetable", lang)))
    vis = {r.village: r.village for r in p.visits.itertuples()}
    for t in p.towns:
        g = p.timetable[p.timetable["town"] == t]
        b.append(Block("h3", _town(t, p, lang)))
        rows = []
        for (day, team), r in g.sort_values(["day", "team", "order"], key=lambda c: c.map(_DAY) if c.name == "day"
                                             else c).groupby(["day", "team"], sort=False):
            rows.append([L.t(day, lang), str(int(team) + 1), " → ".join(vis.get(v, v) for v in r["village"])])
        b.append(Block("table", header=[w("col.day", lang), w("col.team", lang), w("col.route", lang)], rows=rows,
                       table_id=f"timetable-{t}"))
    # visits
    b.append(Block("h2", w("h.visits", lang)))
    rows = [[_town(r.town, p, lang), r.village, str(int(r.visits_today)), str(int(r.visits_per_week))]
            for r in p.visits.itertuples()]
    b.append(Block("table", header=[w("col.town", lang), w("col.village", lang), w("col.visits_today", lang),
                                    w("col.visits_plan", lang)], rows=rows, table_id="visits"))
    # rotas
    b.append(Block("h2", w("h.rotas", lang)))
    pats = [c.removeprefix("predicted_") for c in p.rotas.columns if c.startswith("predicted_")]
    header = [w("col.town", lang), w("col.rota_today", lang), w("col.rota_plan", lang), w("col.certified", lang)]
    header += [w("col.predicted", lang, pattern=_pattern(x, lang, p)) for x in pats]
    rows = [[_town(r["town"], p, lang), _pattern(r["today"], lang, p), _pattern(r["planned"], lang, p), str(int(r["certified"])),
             *[pct(r[f"predicted_{x}"]) for x in pats]] for _, r in p.rotas.iterrows()]
    b.append(Block("table", header=header, rows=rows, table_id="rotas"))
    # towns: before / proportional / plan
    b.append(Block("h2", w("h.towns", lang)))
    roles = [r for r in ROLE_ORDER if r in p.summaries]
    header = [w("col.town", lang)] + [plan_label(r, lang, short=True) for r in roles]
    rows = []
    for scope in [*p.towns, "county"]:
        cells = []
        for r in roles:
            s = p.summaries[r]
            x = s[(s["scope"] == scope) & (s["metric"] == METRIC)]
            cells.append(pct_ci(*x[["mean", "ci_low", "ci_high"]].iloc[0]) if not x.empty else "—")
        rows.append([_town(scope, p, lang) if scope != "county" else L.t("county", lang), *cells])
    b.append(Block("table", header=header, rows=rows, table_id="towns"))
    b.append(Block("chart", w("chart.towns.title", lang), chart="towns"))
    # levers
    b.append(Block("h2", w("h.levers", lang)))
    rows = []
    for r in p.levers.itertuples():
        rows.append([w(f"lever.{r.lever}", lang), L.metric_label(r.metric, lang, p.class_labels),
                     f"{pp(r.effect)} [{pp(r.ci_low)}, {pp(r.ci_high)}]"])
    b.append(Block("table", header=[w("col.lever", lang), w("col.metric", lang), w("col.effect", lang)], rows=rows,
                   table_id="levers"))
    b.append(Block("chart", w("chart.levers.title", lang), chart="levers"))
    # enough
    if p.enough is not None and not p.enough.empty:
        b.append(Block("h2", w("h.enough", lang)))
        rows = [[str(int(r.total_posts)), f"{r.share_of_today:.0%}", pct_ci(r.mean, r.ci_low, r.ci_high),
                 pct(r.predicted)] for r in p.enough.itertuples() if not pd.isna(r.mean)]
        b.append(Block("table", header=[w("col.posts", lang), w("col.share", lang), w("col.coverage", lang),
                                        w("col.approx", lang)], rows=rows, table_id="enough"))
        b.append(Block("chart", w("chart.enough.title", lang), chart="enough"))
    # budget
    b.append(Block("h2", w("h.budget", lang)))
    rows = []
    for r in p.budget.itertuples():
        rows.append([plan_label(r.plan, lang, short=True),
                     L.t("county", lang) if r.brigade == "county" else _town(r.brigade, p, lang),
                     num(r.officers), num(r.certified), num(r.team_field_hours), num(r.needed_hours), pct(r.needed_share, 0)])
    b.append(Block("table", header=[w("col.plan", lang), w("col.brigade", lang), w("col.officers", lang),
                                    w("col.certified", lang), w("col.team_hours", lang), w("col.needed_hours", lang),
                                    w("col.needed_share", lang)], rows=rows, table_id="budget"))
    # assumptions
    b.append(Block("h2", w("h.assumptions", lang)))
    rows, codes = [], []
    for r in p.assumptions.itertuples():
        key = f"{r.section}.{r.key}"
        comment = str(r.source or "")
        refs = _refs(comment)
        basis = (w("basis.estimate", lang) if "estimate" in comment.lower()
                 else w("basis.source", lang, refs=refs) if refs else w("basis.none", lang) if not comment
                 else w("basis.source", lang, refs=_code_ref(key, lang)))
        rows.append([_setting_name(key, lang), _value(r.value, lang), basis])
        codes.append([str(_code_no(key)), key, str(r.value), comment])
    b.append(Block("table", header=[w("col.setting", lang), w("col.value", lang), w("col.basis", lang)], rows=rows,
                   table_id="assumptions"))
    b.append(Block("h2", w("h.appendix", lang)))
    b.append(Block("table", header=["#", w("col.code", lang), w("col.value", lang), w("col.comment", lang)],
                   rows=codes, table_id="codes"))
    return b


_DAY = {d: i for i, d in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))}


def _refs(comment: str) -> str:
    """The source codes a comment cites (F1–F16, HI §n, GPI §n), as codes, not sentences."""
    import re

    found = re.findall(r"\bF\d{1,2}\b|\bHI §\d+\b|\bGPI §\d+\b|\bCJ/T \d+\b", comment)
    return "、".join(dict.fromkeys(found))


def _code_ref(key: str, lang: str) -> str:
    return f"附录代码 {_code_no(key)}" if lang == "zh" else f"appendix code {_code_no(key)}"


def _value(v, lang: str) -> str:
    s = str(v)
    if lang == "zh" and any(c.isalpha() and c.isascii() for c in s) and s not in ("true", "false"):
        return "（见附录）"
    return {"true": "是", "false": "否"}.get(s, s) if lang == "zh" else s


# --------------------------------------------------------------------------- charts


def make_charts(p: PlanFolder, lang: str) -> dict:
    from . import charts as C

    foot = {"scenario": p.meta["scenario"], "seed": p.meta["seed"]}
    out = {}
    # towns: before / proportional / plan with CIs
    roles = [r for r in ("before", "proportional", "plan") if r in p.summaries]
    fig = C._figure(11, 5.2)
    ax = fig.subplots()
    x = np.arange(len(p.towns) + 1)
    width = 0.8 / max(1, len(roles))
    shades = C._shades(len(roles))
    for i, r in enumerate(roles):
        s = p.summaries[r]
        s = s[s["metric"] == METRIC].set_index("scope")
        scopes = [*p.towns, "county"]
        m = np.array([s["mean"].get(t, np.nan) for t in scopes], float)
        lo = np.array([s["ci_low"].get(t, np.nan) for t in scopes], float)
        hi = np.array([s["ci_high"].get(t, np.nan) for t in scopes], float)
        m, lo, hi = (np.clip(v, 0, 1) * 100 for v in (m, lo, hi))
        ax.bar(x + (i - (len(roles) - 1) / 2) * width, m, width, yerr=C._errbars(m, lo, hi), capsize=2,
               color=shades[i], hatch=C.HATCHES[i], edgecolor="0.2", label=plan_label(r, lang, short=True))
    ax.set_xticks(x, [_town(t, p, lang) for t in p.towns] + [L.t("county", lang)], rotation=45, ha="right")
    ax.set_ylabel(w("chart.towns.y", lang))
    ax.set_ylim(0, 100)
    ax.legend(loc="lower left", ncols=len(roles))
    out["towns"] = C._finish(fig, lang, w("chart.towns.title", lang), notes=[w("chart.towns.note", lang)], **foot)
    # levers: county Shapley shares
    lv = p.levers[p.levers["metric"] == METRIC]
    fig = C._figure(7, 4.2)
    ax = fig.subplots()
    m = lv["effect"].to_numpy(float) * 100
    ax.bar(np.arange(len(lv)), m, yerr=C._errbars(m, lv["ci_low"].to_numpy(float) * 100, lv["ci_high"].to_numpy(float) * 100),
           capsize=4, color=C._shades(len(lv)), hatch="//", edgecolor="0.2")
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xticks(np.arange(len(lv)), [w(f"lever.{r}", lang) for r in lv["lever"]])
    ax.set_ylabel(w("chart.levers.y", lang))
    out["levers"] = C._finish(fig, lang, w("chart.levers.title", lang), notes=[w("chart.towns.note", lang)], **foot)
    if p.enough is not None and not p.enough.dropna(subset=["mean"]).empty:
        e = p.enough.dropna(subset=["mean"]).sort_values("total_posts")
        fig = C._figure(7, 4.5)
        ax = fig.subplots()
        m = np.clip(e["mean"].to_numpy(float), 0, 1) * 100
        lo = np.clip(e["ci_low"].to_numpy(float), 0, 1) * 100
        hi = np.clip(e["ci_high"].to_numpy(float), 0, 1) * 100
        ax.errorbar(e["total_posts"], m, yerr=C._errbars(m, lo, hi), marker="o", capsize=4, color="0.15",
                    label=w("chart.enough.y", lang))
        full = e[e["key"] == "posts-100"]
        if not full.empty:
            have = float(full["total_posts"].iloc[0])
            ax.axvline(have, ls="--", color="0.4", label=w("chart.enough.today", lang))
            ax.axhline(float(full["mean"].iloc[0]) * 100 - 1, ls=":", color="0.4", label=w("chart.enough.band", lang))
        ax.set_xlabel(w("chart.enough.x", lang))
        ax.set_ylabel(w("chart.enough.y", lang))
        ax.legend(loc="lower right")
        out["enough"] = C._finish(fig, lang, w("chart.enough.title", lang), notes=[w("chart.towns.note", lang)], **foot)
    return out


# --------------------------------------------------------------------------- HTML


CSS = """body{font-family:"Report Sans","Noto Sans CJK SC",sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:0.6em 0 1.2em;font-size:0.9em}th,td{border:1px solid #bbb;padding:3px 7px;text-align:left}
th{background:#eee}img{max-width:100%}h1{font-size:1.6em}h2{border-bottom:1px solid #999;margin-top:1.6em}"""

SCRIPT = """<script>
window.addEventListener('load', function () {
  var imgs = document.images, n = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) n++; }
  document.getElementById('images-loaded').textContent = n + '/' + imgs.length;
  if (document.fonts && document.fonts.check('12px "Report Sans"')) document.getElementById('font-status').textContent = 'loaded';
});
</script>"""


def render_html(blocks: list[Block], charts_png: dict[str, bytes], lang: str) -> str:
    from .html import font_face

    body = []
    for blk in blocks:
        if blk.kind in ("h1", "h2", "h3"):
            body.append(f"<{blk.kind}>{html.escape(blk.text)}</{blk.kind}>")
        elif blk.kind == "p":
            body.append(f"<p>{html.escape(blk.text)}</p>")
        elif blk.kind == "table":
            head = "".join(f"<th>{html.escape(h)}</th>" for h in blk.header)
            rows = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in blk.rows)
            tid = f' id="{blk.table_id}"' if blk.table_id else ""
            body.append(f"<table{tid}><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif blk.kind == "chart" and blk.chart in charts_png:
            data = base64.b64encode(charts_png[blk.chart]).decode("ascii")
            body.append(f'<figure><img alt="{html.escape(blk.text)}" src="data:image/png;base64,{data}"></figure>')
    text = "".join(blk.text + "".join(blk.header) + "".join("".join(map(str, r)) for r in blk.rows) for blk in blocks)
    status = '<div hidden><span id="images-loaded">0/0</span><span id="font-status"></span></div>'
    title = html.escape(blocks[0].text)
    return (f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f"<title>{title}</title><style>{font_face(text)}\n{CSS}</style></head><body>"
            + "\n".join(body) + status + SCRIPT + "</body></html>")


def write_plan_report(folder: str | Path, out: str | Path, lang: str = "zh", force: bool = True) -> dict[str, Path]:
    """Write ``plan.html``, ``plan.docx``, ``plan.xlsx`` and ``charts/`` under ``out``, whole or not at all."""
    from . import charts as C
    from .docx import write_docx
    from .plan_excel import write_plan_workbook

    L._check_lang(lang)
    p = read_plan_folder(folder)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with staged_folder(out, writer="egrid plan", force=force, what="plan report folder") as tmp:
        blocks = build_document(p, lang)
        figs = make_charts(p, lang)
        (tmp / "charts").mkdir()
        png = {}
        for stem, fig in figs.items():
            C.save(fig, tmp / "charts" / stem)
            png[stem] = C.png_bytes(fig)
        (tmp / "plan.html").write_text(render_html(blocks, png, lang), encoding="utf-8")
        write_docx(blocks, {k: tmp / "charts" / f"{k}.png" for k in figs}, tmp / "plan.docx", lang)
        write_plan_workbook(p, tmp / "plan.xlsx", lang)
    return {"html": out / "plan.html", "docx": out / "plan.docx", "excel": out / "plan.xlsx", "charts": out / "charts"}


__all__ = ["conclusions", "build_document", "read_plan_folder", "write_plan_report", "plan_label", "Block"]

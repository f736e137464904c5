"""Every word on a chart or in a report, in Chinese and English.

``t(key, lang, **fields)`` looks a label up and fills ``{fields}``; an unknown key
or language is an error (a typo must not print a key name on a chart).  Town
names are Chinese as in the scenario for ``zh`` and the ``town_en`` pinyin of
``towns.csv`` for ``en``: pass that mapping to :func:`town_label`.

Measures (the ``metric`` column of summaries) have a label and a display unit:
shares are shown in per cent, ``*_min`` times in hours, counts as they are
(:func:`metric_label`, :func:`metric_scale`).

**Why coverage is 发生起算按时处置率.**  ``coverage`` counts the target time from when a
violation *arises*, so the time nobody knew of it counts against the brigade.  Officials
read the bare 按时处置率 as their digital platform's on-time disposal rate, whose clock
starts at the report (dispatch) and which is usually above 90 %; shown 63 % under that
name, they would read failure.  起算 is the word rules use for when a time limit starts
(“时限自……起算”), so 发生起算按时处置率 says at a glance “on time, counted from the
violation's arising” and cannot be taken for the platform figure.  It is preferred to
全口径按时处置率, where 全口径 (“all-inclusive”) does not say where the clock starts.
The platform's own figures are shown next to it under 平台口径 names (平台口径按时处置率,
平台口径结案率, 平台口径按时结案率: counted from the report), so both can be read
side by side; no label uses the bare 按时处置率.
"""

from __future__ import annotations

from collections.abc import Mapping

LANGS = ("zh", "en")

LABELS: dict[str, dict[str, str]] = {
    # ---------------------------------------------------------------- common
    "footnote": {"zh": "情景 {scenario} · 随机种子 {seed}", "en": "scenario {scenario} · seed {seed}"},
    "county": {"zh": "全县", "en": "County"},
    "town": {"zh": "镇", "en": "town"},
    "ci95": {"zh": "95% 置信区间", "en": "95 % confidence interval"},
    "mean": {"zh": "均值", "en": "mean"},
    # classes of violation: the scenario's [classes] labels (class_label), none built in
    # staffing sources (F3): the scenario's [sources] labels (source_label), none built in
    # ---------------------------------------------------------------- weekdays
    "Mon": {"zh": "周一", "en": "Mon"},
    "Tue": {"zh": "周二", "en": "Tue"},
    "Wed": {"zh": "周三", "en": "Wed"},
    "Thu": {"zh": "周四", "en": "Thu"},
    "Fri": {"zh": "周五", "en": "Fri"},
    "Sat": {"zh": "周六", "en": "Sat"},
    "Sun": {"zh": "周日", "en": "Sun"},
    # ---------------------------------------------------------------- coverage by town
    "coverage_by_town.title": {"zh": "各镇发生起算按时处置率（按违法类别）", "en": "Coverage by town and class of violation"},
    "coverage_by_town.x": {"zh": "镇", "en": "town"},
    "coverage_by_town.y": {"zh": "发生起算按时处置率（%，自违法发生起在时限内到场处置）", "en": "coverage (% acted on within target time)"},
    "coverage_by_town.note": {
        "zh": "误差线：重复运行的 95% 置信区间；时限自违法发生起算",
        "en": "error bars: 95 % CI over replications; target time counted from when the violation arose",
    },
    # ---------------------------------------------------------------- coverage vs staff
    "coverage_vs_staff.title": {"zh": "各镇发生起算按时处置率与持证执法人员数", "en": "Coverage against certified officers, by town"},
    "coverage_vs_staff.x": {"zh": "持证执法人员（人）", "en": "certified officers"},
    "coverage_vs_staff.y": {"zh": "发生起算按时处置率（%）", "en": "coverage (%)"},
    "kind_approx": {"zh": "近似模型", "en": "approximation"},
    "kind_simulated": {"zh": "仿真（含 95% 置信区间）", "en": "simulated (with 95 % CI)"},
    "chosen": {"zh": "选定方案", "en": "chosen allocation"},
    # ---------------------------------------------------------------- trade-off
    "tradeoff.title": {"zh": "全县编制总数与发生起算按时处置率", "en": "County posts and coverage: the trade-off"},
    "tradeoff.x": {"zh": "编制总数（人）", "en": "total posts (officers)"},
    "tradeoff.y": {"zh": "全县发生起算按时处置率（%）", "en": "county coverage (%)"},
    "tradeoff.curve": {"zh": "最优分配下的发生起算按时处置率", "en": "coverage of the best allocation"},
    "tradeoff.marked": {"zh": "{posts} 个编制（现状）", "en": "{posts} posts (as moved down)"},
    # ---------------------------------------------------------------- allocation by source
    "allocation.title": {"zh": "各镇编制来源", "en": "Posts by town and source"},
    "allocation.x": {"zh": "镇（执法队）", "en": "town (brigade)"},
    "allocation.y": {"zh": "编制（人）", "en": "posts (officers)"},
    "allocation.legend": {"zh": "{label}（共 {total}）", "en": "{label} ({total} in all)"},
    # ---------------------------------------------------------------- delays
    "delay.response.title": {"zh": "响应时长分布：上报至到场", "en": "Response time: report to team on site"},
    "delay.discovery.title": {"zh": "发现时长分布：发生至发现", "en": "Discovery delay: arising to discovery"},
    "delay.x": {"zh": "时长（小时，对数刻度）", "en": "delay (hours, log scale)"},
    "delay.x_linear": {"zh": "时长（小时）", "en": "delay (hours)"},
    "delay.y": {"zh": "累计占比（%）", "en": "cumulative share (%)"},
    "delay.response.note": {
        "zh": "经指挥中心派遣的事件；期末仍未到场的计入分母，曲线因此低于 100%",
        "en": "reports dispatched by the command centre; those with no team on site by the end count, so curves stay below 100 %",
    },
    "delay.discovery.note": {
        "zh": "观察期内发生的全部事件；期末仍未发现的计入分母，曲线因此低于 100%",
        "en": "all violations arising in the window; those still unseen at the end count, so curves stay below 100 %",
    },
    "delay.plan_n": {"zh": "{plan}（n={n}）", "en": "{plan} (n={n})"},
    # ---------------------------------------------------------------- patrol grid
    "patrol_grid.title": {"zh": "{town} 周巡查计划", "en": "Weekly patrol plan, {town}"},
    "patrol_grid.x": {"zh": "星期", "en": "weekday"},
    "patrol_grid.y": {"zh": "村（社区）", "en": "village / community"},
    "patrol_grid.note": {"zh": "格内数字：巡查小组编号（patrol_plan.csv）", "en": "cell: patrol team number (patrol_plan.csv)"},
    # ---------------------------------------------------------------- certified teams
    "certified.title": {"zh": "过渡期持证执法小组数", "en": "Certified two-officer teams over the transition"},
    "certified.x": {"zh": "改革后月份", "en": "months after the reform"},
    "certified.y": {"zh": "持证双人小组（个）", "en": "certified two-officer teams"},
    "certified.band": {"zh": "95% 置信区间", "en": "95 % CI"},
    "stock.title": {"zh": "存量违建：每月末尚未发现", "en": "Old illegal buildings still unseen at the end of each month"},
    "stock.y": {"zh": "未发现的存量违建（件）", "en": "old illegal buildings unseen"},
    "certified.note": {
        "zh": "全县各执法队每班在岗持证双人小组之和，按月平均；{reps} 次重复运行",
        "en": "certified two-officer teams on a running shift, summed over the brigades, monthly mean; {reps} replications",
    },
    "certified.pass_rate": {"zh": "每次考试通过率 {rate:.0%}", "en": "exam pass rate {rate:.0%}"},
    # ---------------------------------------------------------------- backlog
    "backlog.title": {"zh": "积压与按时办结率（逐日）", "en": "Backlog and on-time closure, day by day"},
    "backlog.y_backlog": {"zh": "积压（件，已上报未办结）", "en": "backlog (reported, not closed)"},
    "backlog.y_rate": {"zh": "按时办结率（%，按到期日）", "en": "closed on time (%, by due day)"},
    "backlog.x": {"zh": "天", "en": "day"},
    "backlog.note": {
        "zh": "积压：当日末已上报未办结，重复运行均值；按时办结：当日到期事件中在时限内办结的占比",
        "en": "backlog at the end of each day, mean over replications; on time: share of violations due that day closed within target",
    },
    # ---------------------------------------------------------------- campaign
    "campaign.title": {"zh": "专项整治的效果", "en": "Effect of the campaign"},
    "campaign.x": {"zh": "天", "en": "day"},
    "campaign.y": {"zh": "发生起算按时处置率（%）", "en": "coverage (%)"},
    "campaign.span": {"zh": "专项整治期", "en": "campaign"},
    "group_campaign_villages": {"zh": "整治村", "en": "campaign villages"},
    "group_rest_of_town": {"zh": "镇内其他村", "en": "rest of town"},
    "group_with_campaign": {"zh": "开展专项整治", "en": "with the campaign"},
    "group_without_campaign": {"zh": "未开展专项整治", "en": "without the campaign"},
    "campaign.y.latent": {"zh": "整治村未发现的违法（件）", "en": "unseen violations in campaign villages"},
    "campaign.y.response_h": {"zh": "镇内其他村响应时长（小时）", "en": "response time, rest of towns (h)"},
    "campaign.note": {
        "zh": "专项整治“{name}”：{towns}，{category}，{villages} 个整治村\n"
              "上图：整治村中该类违法已发生但未发现的件数，重复运行均值\n"
              "下图：这些镇其他村的上报至到场时长，按上报日 {smooth} 天滑动平均，期末未到场的计至期末",
        "en": "campaign '{name}': {towns}; {category}; {villages} campaign villages\n"
              "top: violations of the category arisen but unseen in those villages, mean over replications\n"
              "bottom: report → team on site in the towns' other villages, {smooth}-day moving average; "
              "reports not reached count to the end",
    },
    # ---------------------------------------------------------------- map
    "map.title": {"zh": "各镇发生起算按时处置率分布", "en": "Coverage across the county"},
    "map.x": {"zh": "经度（°E）", "en": "longitude (°E)"},
    "map.y": {"zh": "纬度（°N）", "en": "latitude (°N)"},
    "map.colorbar": {"zh": "发生起算按时处置率（%）", "en": "coverage (%)"},
    "map.note": {"zh": "点位为镇政府驻地（近似）", "en": "points at the town seats (approximate)"},
    # ---------------------------------------------------------------- report
    "report.title": {"zh": "仿真报告", "en": "Simulation report"},
    "report.run": {"zh": "运行", "en": "Run"},
    "report.baseline": {"zh": "对照方案", "en": "Baseline"},
    "report.meta": {
        "zh": "情景 {scenario}，随机种子 {seed}，{days:g} 天（预热 {warmup:g} 天），{reps} 次重复运行",
        "en": "scenario {scenario}, seed {seed}, {days:g} days (warm-up {warmup:g}), {reps} replications",
    },
    "report.county": {"zh": "全县主要指标", "en": "County measures"},
    "report.towns": {"zh": "各镇主要指标", "en": "Measures by town"},
    "report.charts": {"zh": "图表", "en": "Charts"},
    "report.validation": {"zh": "与公开数据对照（平台口径）", "en": "Against published figures (platform measures)"},
    "report.validation_note": {
        "zh": "公开范围来自情景的 published_ranges（其他地区、年份的数字化城管平台数据，见来源）；对照用，不是目标",
        "en": "published ranges from the scenario's published_ranges (other places' and years' platforms, see each source); "
              "for comparison, not targets",
    },
    "report.patrol_plan": {"zh": "巡查计划与每周应巡次数", "en": "Patrol plan against the weekly visits required"},
    "report.patrol_plan_note": {
        "zh": "应巡：每村（社区）每周至少一次，热点村按规则加密（F12）；已排：计划中的巡查，每村计至应巡次数为止",
        "en": "required: every village at least weekly, hot spots more by the rule (F12); planned: visits in the plan, "
              "each village counted up to what it requires",
    },
    "report.comparison": {"zh": "方案比较（配对重复运行）", "en": "Comparison of plans (paired replications)"},
    "report.comparison_note": {
        "zh": "差值 = {b} − {a}；置信区间由逐次重复运行的配对差值（公共随机数）按 t 分布计算；显著：区间不含 0",
        "en": "difference = {b} − {a}; CI from the paired per-replication differences (common random numbers), t interval; significant: CI excludes 0",
    },
    "report.comparison_pair": {"zh": "方案比较：{b} 对比 {a}（配对重复运行）", "en": "Comparison of plans: {b} against {a} (paired replications)"},
    "report.towns_plans": {"zh": "各镇各方案对比", "en": "Towns, plan by plan"},
    "report.towns_plans_note": {
        "zh": "各方案的均值 [95% 置信区间]（重复运行）；逐对差值见方案比较",
        "en": "each plan's mean [95 % CI] over replications; the paired differences are in the comparisons",
    },
    "report.levers": {"zh": "改革效果来自哪些设置", "en": "Which settings carry the effect"},
    "report.levers_note": {
        "zh": "效果 = 目标方案 − 基准方案，按措施分组（{file}）。单独调整：基准方案只调整这一项；去掉它：目标方案只撤回这一项；"
              "Shapley 份额：这一项在所有调整顺序下的平均边际效果，各项份额之和等于总效果。区间均为逐次重复运行配对差值的 95% 置信区间（t 分布）",
        "en": "effect = target − base, by lever group ({file}). Alone: the base with only this lever moved; lost without it: "
              "the target with only this lever reverted; Shapley share: the lever's marginal effect averaged over every order "
              "of moving the levers, the shares summing to the total. Every interval is the paired 95 % CI (t) of the "
              "per-replication differences",
    },
    "report.levers_top": {
        "zh": "效果主要来自{lever}：全县发生起算按时处置率共变化 {total}，其中 {share} 归于这一项（Shapley 份额，配对 95% 置信区间）。",
        "en": "The lever with the largest share is {lever}: of the change in county coverage of {total}, {share} is its "
              "Shapley share (paired 95 % CI).",
    },
    "col.lever": {"zh": "措施", "en": "lever"},
    "col.shapley": {"zh": "Shapley 份额 [95% 置信区间]", "en": "Shapley share [95 % CI]"},
    "col.add_to_base": {"zh": "单独调整 [95% 置信区间]", "en": "alone [95 % CI]"},
    "col.drop_from_target": {"zh": "去掉它损失 [95% 置信区间]", "en": "lost without it [95 % CI]"},
    "col.plan": {"zh": "方案", "en": "plan"},
    "compare.block": {"zh": "{b} − {a}（{method}；* = 95% 置信区间不含 0）", "en": "{b} − {a} ({method}; * = 95 % CI excludes 0)"},
    "method.paired": {"zh": "配对", "en": "paired"},
    "method.welch": {"zh": "Welch 非配对", "en": "welch"},
    "report.assumptions": {"zh": "假设与来源", "en": "Assumptions and sources"},
    "report.assumptions_note": {
        "zh": "来自 tables/scenario.toml 的每一项设置及其注释（来源或“estimate”估计理由）",
        "en": "every setting of tables/scenario.toml with its comment (source, or 'estimate' and why)",
    },
    "report.inherited": {"zh": "继承自 {file}", "en": "inherited from {file}"},
    "report.images_loaded": {"zh": "已加载图片", "en": "images loaded"},
    # column headers
    "col.scope": {"zh": "范围", "en": "scope"},
    "col.metric": {"zh": "指标", "en": "measure"},
    "col.metric_key": {"zh": "指标代码", "en": "measure key"},
    "col.mean": {"zh": "均值", "en": "mean"},
    "col.ci_low": {"zh": "95% 下限", "en": "95 % CI low"},
    "col.ci_high": {"zh": "95% 上限", "en": "95 % CI high"},
    "col.value": {"zh": "值", "en": "value"},
    "col.ci": {"zh": "均值 [95% 置信区间]", "en": "mean [95 % CI]"},
    "col.diff": {"zh": "差值 [95% 置信区间]", "en": "difference [95 % CI]"},
    "col.significant": {"zh": "显著", "en": "significant"},
    "col.n_pairs": {"zh": "配对数", "en": "pairs"},
    "col.section": {"zh": "节", "en": "section"},
    "col.key": {"zh": "设置项", "en": "setting"},
    "col.source": {"zh": "来源 / 说明", "en": "source / comment"},
    "col.line": {"zh": "行号", "en": "line"},
    "col.published": {"zh": "公开范围", "en": "published range"},
    "col.published_low": {"zh": "公开范围下限", "en": "published low"},
    "col.published_high": {"zh": "公开范围上限", "en": "published high"},
    "col.verdict": {"zh": "对照", "en": "verdict"},
    "col.what": {"zh": "公开数据口径", "en": "what was published"},
    "col.brigade": {"zh": "执法队", "en": "brigade"},
    "col.villages": {"zh": "村（社区）", "en": "villages"},
    "col.visits_required": {"zh": "每周应巡（次）", "en": "visits a week required"},
    "col.visits_planned": {"zh": "每周已排（次）", "en": "visits a week planned"},
    "col.planned_share": {"zh": "已排占应巡（%）", "en": "planned (%)"},
    "col.villages_not_weekly": {"zh": "每周未巡村（个）", "en": "villages not visited weekly"},
    "verdict.within": {"zh": "在范围内", "en": "within"},
    "verdict.below": {"zh": "低于范围", "en": "below"},
    "verdict.above": {"zh": "高于范围", "en": "above"},
    "verdict.—": {"zh": "—", "en": "—"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
    "sheet.summary": {"zh": "汇总", "en": "summary"},
    "sheet.comparison": {"zh": "方案比较", "en": "comparison"},
    "sheet.assumptions": {"zh": "假设与来源", "en": "assumptions"},
    "sheet.towns": {"zh": "各镇", "en": "towns"},
    "sheet.validation": {"zh": "公开数据对照", "en": "validation"},
    "sheet.patrol_plan": {"zh": "巡查计划", "en": "patrol plan"},
    "sheet.comparison_n": {"zh": "方案比较{n}", "en": "comparison {n}"},
    "sheet.towns_plans": {"zh": "各镇各方案", "en": "towns by plan"},
    "sheet.levers": {"zh": "措施贡献", "en": "levers"},
}

# Lever groups of a decomposition (experiments.levers; the lever column of levers.csv).
LEVERS: dict[str, dict[str, str]] = {
    "reporting_chain": {"zh": "上报链条（网格上报时延与指挥中心分拨，F8）",
                        "en": "reporting chain: grid report delay and triage (F8)"},
    "merged_grid": {"zh": "三网合一（F10）", "en": "three grid networks merged (F10)"},
    "town_brigades": {"zh": "执法队下沉到镇：距离与执法权限（F1–F5）",
                      "en": "brigades in the towns: distance and who may act (F1–F5)"},
    "weekly_patrols": {"zh": "每村每周巡查与联合检查（F12）",
                       "en": "weekly patrols of every village and joint inspections (F12)"},
    "total": {"zh": "合计（总效果）", "en": "total effect"},
}

# Item categories (items.csv ``category``), for notes and legends.
CATEGORIES: dict[str, dict[str, str]] = {
    "urban management": {"zh": "城市管理", "en": "urban management"},
    "rural land & housing": {"zh": "农村土地和住房（两违）", "en": "rural land & housing"},
    "environment & sanitation": {"zh": "环境卫生", "en": "environment & sanitation"},
    "emergency & fire safety": {"zh": "应急和消防安全", "en": "emergency & fire safety"},
    "market & food": {"zh": "市场和食品", "en": "market & food"},
    "health & birth": {"zh": "卫生健康", "en": "health & birth"},
    "water": {"zh": "水利", "en": "water"},
    "agriculture & forestry": {"zh": "农业和林业", "en": "agriculture & forestry"},
    "culture & tourism": {"zh": "文化和旅游", "en": "culture & tourism"},
    "other": {"zh": "其他", "en": "other"},
}

# Measures: label (with the display unit) per language.
METRICS: dict[str, dict[str, str]] = {
    "violations_per_year": {"zh": "违法事件（件/年）", "en": "violations a year"},
    "coverage": {"zh": "发生起算按时处置率（%）", "en": "coverage (%)"},
    "on_time_disposal_rate": {"zh": "平台口径按时处置率（%，上报起算）", "en": "on-time disposal, from the report (%)"},
    "report_closure_rate": {"zh": "平台口径结案率（%）", "en": "reports closed (%)"},
    "report_on_time_closure_rate": {"zh": "平台口径按时结案率（%，上报起算）", "en": "reports closed on time, from the report (%)"},
    "patrol_visits_planned_share": {"zh": "巡查计划已排占每周应巡（%）", "en": "weekly patrol visits planned of those required (%)"},
    "discovery_delay_min": {"zh": "发现时长（小时）", "en": "discovery delay (h)"},
    "response_time_min": {"zh": "响应时长（小时）", "en": "response time (h)"},
    "closure_time_min": {"zh": "办结时长（小时）", "en": "closure time (h)"},
    "backlog_end": {"zh": "期末积压（件）", "en": "backlog at end"},
    "latent_end": {"zh": "期末未发现（件）", "en": "unseen at end"},
    "transfer_share": {"zh": "移送县直部门占比（%）", "en": "transferred to county departments (%)"},
    "found_by_grid_share": {"zh": "网格员发现占比（%）", "en": "found by grid workers (%)"},
    "found_by_patrol_share": {"zh": "巡查发现占比（%）", "en": "found by patrols (%)"},
    "found_by_complaint_share": {"zh": "群众投诉发现占比（%）", "en": "found by complaints (%)"},
    "found_by_inspection_share": {"zh": "检查发现占比（%）", "en": "found by inspections (%)"},
    "utilisation": {"zh": "执法小组利用率（%）", "en": "team utilisation (%)"},
    "response_share": {"zh": "出警处置时间占比（%）", "en": "team time on response (%)"},
    "case_work_share": {"zh": "案件办理时间占比（%）", "en": "team time on case work (%)"},
    "patrol_share": {"zh": "巡查时间占比（%）", "en": "team time on patrols (%)"},
    "inspection_share": {"zh": "检查时间占比（%）", "en": "team time on inspections (%)"},
    "reinspection_share": {"zh": "复查回访时间占比（%）", "en": "team time on re-inspections and follow-up visits (%)"},
    "unlisted_time_share": {"zh": "所列工作以外的时间占比（%）", "en": "time not used by the listed work (%)"},
    "unlisted_share": {"zh": "所列工作以外的时间占比（%）", "en": "time not used by the listed work (%)"},
    "teams_on_duty": {"zh": "平均在岗小组（个）", "en": "teams on duty (mean)"},
    "patrol_visits_done_share": {"zh": "计划巡查完成率（%）", "en": "planned patrol visits done (%)"},
    "inspections_done_share": {"zh": "计划检查完成率（%）", "en": "planned inspections done (%)"},
    "department_utilisation": {"zh": "县直部门利用率（%）", "en": "county department utilisation (%)"},
    "coverage_weighted": {"zh": "发生起算按时处置率·按类别加权（%）", "en": "coverage, class-weighted (%)"},
    "found_by_campaign_share": {"zh": "专项整治发现占比（%）", "en": "found by campaigns (%)"},
    "campaign_share": {"zh": "专项整治时间占比（%）", "en": "team time on campaigns (%)"},
    "certified_teams": {"zh": "每班持证双人小组（个）", "en": "certified teams on a shift"},
    "uncertified_past_deadline": {"zh": "逾期未取得执法资格（人）", "en": "uncertified past the deadline"},
    "closure_rate": {"zh": "立案办结率（%）", "en": "filed cases closed (%)"},
    "on_time_closure_rate": {"zh": "立案按期办结率（%）", "en": "filed cases closed in time (%)"},
    "past_limit_cases_per_year": {"zh": "超期案件（件/年）", "en": "cases past the time limit a year"},
    "legal_review_wait_min": {"zh": "法制审核等待（小时）", "en": "legal review wait (h)"},
    "officer_hours_per_building_case": {"zh": "每宗违建处置工时（人·小时）", "en": "officer-hours per illegal building"},
    "transfer_time_min": {"zh": "移送至部门到场时长（小时）", "en": "transfer → department on site (h)"},
    "returned_share": {"zh": "移送退回联合处置占比（%）", "en": "transfers returned for joint action (%)"},
    "stock_latent_end": {"zh": "存量违建期末未发现（件）", "en": "old illegal buildings unseen at end"},
    "inspections_per_business": {"zh": "每户年检查次数", "en": "inspections a year per business"},
    **{f"coverage_weekday_{d}": {"zh": f"发生起算按时处置率·{zh}发生（%）", "en": f"coverage, arising on {en} (%)"}
       for d, zh, en in (("Mon", "周一", "Monday"), ("Tue", "周二", "Tuesday"), ("Wed", "周三", "Wednesday"),
                         ("Thu", "周四", "Thursday"), ("Fri", "周五", "Friday"), ("Sat", "周六", "Saturday"),
                         ("Sun", "周日", "Sunday"))},
    "call_outs_per_year": {"zh": "值班紧急出动（次/年）", "en": "on-call call-outs a year"},
    "on_call_hours_per_year": {"zh": "值班出动工时（小组·小时/年）", "en": "on-call team-hours a year"},
    "aided_others_per_year": {"zh": "支援邻镇（件/年）", "en": "reports taken for neighbouring towns a year"},
    "aided_by_others_per_year": {"zh": "邻镇支援（件/年）", "en": "reports taken by neighbouring brigades a year"},
    "aided_others_share": {"zh": "支援邻镇占所办（%）", "en": "share of reports taken that were a neighbour's (%)"},
    "aided_by_others_share": {"zh": "由邻镇处置占比（%）", "en": "share of own reports taken by a neighbour (%)"},
}

# Measures of one violation class (``<prefix><class>``): the class's label fills ``{name}``.
CLASS_METRICS: dict[str, dict[str, str]] = {
    "coverage_": {"zh": "发生起算按时处置率·{name}（%）", "en": "coverage, {name} (%)"},
    "found_by_grid_or_patrol_share_": {"zh": "网格员和巡查发现占比·{name}（%）",
                                       "en": "found by grid workers or patrols, {name} (%)"},
}


def lever_label(lever: str, lang: str) -> str:
    """A lever group of a decomposition: its label in :data:`LEVERS`, else its name as given."""
    _check_lang(lang)
    return LEVERS.get(lever, {}).get(lang, lever)


def verdict_label(verdict: str, lang: str) -> str:
    """``within`` / ``below`` / ``above`` a published range (sim.measures.validation_table)."""
    return t(f"verdict.{verdict}", lang)


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")


def t(key: str, lang: str, **fields) -> str:
    """The label ``key`` in ``lang`` ("zh" or "en"), with ``{fields}`` filled in."""
    _check_lang(lang)
    try:
        text = LABELS[key][lang]
    except KeyError:
        raise KeyError(f"no label {key!r}") from None
    return text.format(**fields) if fields else text


def has(key: str) -> bool:
    return key in LABELS


def footnote(lang: str, scenario: str | None, seed: int | str | None, extra: str | None = None) -> str:
    """``scenario <name> · seed <seed>`` (and an optional note after it, on its own line)."""
    text = t("footnote", lang, scenario=scenario if scenario is not None else "?", seed=seed if seed is not None else "?")
    return f"{text}\n{extra}" if extra else text


def town_label(town: str, lang: str, town_en: Mapping[str, str] | None = None) -> str:
    """A town's name: as in the scenario for ``zh``, its ``town_en`` pinyin for ``en``.

    ``county`` (the scope of county-wide measures) becomes 全县 / County.  A town
    missing from ``town_en`` keeps its Chinese name (the font renders it).
    """
    _check_lang(lang)
    if town == "county":
        return t("county", lang)
    if lang == "en" and town_en:
        return town_en.get(town, town)
    return town


def class_label(klass: str, lang: str, class_labels: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """A class of violation: its label in ``class_labels`` (``{key: {"zh": …, "en": …}}``, the
    scenario's ``label_zh``/``label_en``), else the key as given."""
    _check_lang(lang)
    if class_labels and klass in class_labels and class_labels[klass].get(lang):
        return class_labels[klass][lang]
    return klass


def source_label(source: str, lang: str, source_labels: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """A source of posts: its label in ``source_labels`` (the scenario's ``[sources]``
    ``label_zh``/``label_en``), else the key as given."""
    _check_lang(lang)
    if source_labels and source in source_labels and source_labels[source].get(lang):
        return source_labels[source][lang]
    return source


def category_label(category: str, lang: str, category_labels: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """An item category (``category`` of items.csv): its label in ``category_labels`` (the
    scenario's ``[categories]``), else a common one of :data:`CATEGORIES`, else as given."""
    _check_lang(lang)
    if category_labels and category in category_labels and category_labels[category].get(lang):
        return category_labels[category][lang]
    return CATEGORIES.get(category, {}).get(lang, category)


def group_label(group: str, lang: str) -> str:
    """A group of a campaign chart: a known key ("campaign villages", "rest_of_town") or the text given."""
    key = "group_" + str(group).strip().replace(" ", "_")
    return t(key, lang) if key in LABELS else str(group)


def metric_label(metric: str, lang: str, class_labels: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """A measure's label with its display unit (shares in %, ``*_min`` in hours).

    A measure of one class (``coverage_<class>`` …, :data:`CLASS_METRICS`) is named with the
    class's label from ``class_labels`` (the run's classes:
    :attr:`report.rundir.RunDir.class_labels`), else with its key."""
    _check_lang(lang)
    if metric in METRICS:
        return METRICS[metric][lang]
    for prefix, template in CLASS_METRICS.items():
        if metric.startswith(prefix) and len(metric) > len(prefix):
            return template[lang].format(name=class_label(metric[len(prefix):], lang, class_labels))
    return metric


def metric_scale(metric: str) -> tuple[float, str]:
    """(factor, kind) to turn a stored value into its display unit: ``pct``, ``hours`` or ``count``."""
    from enforcement_grid.sim.measures import in_percent

    if in_percent(metric):
        return 100.0, "pct"
    if metric.endswith("_min"):
        return 1.0 / 60.0, "hours"
    return 1.0, "count"

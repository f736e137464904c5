"""egrid plan: the plan reproduces under egrid run, each lever is credited rightly, the report says it all.

Statistical checks use fixed seeds and the paired 95 % t interval of
experiments.levers (the same one levers.csv reports).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from enforcement_grid.cli.cli import main
from enforcement_grid.planning.experiment import credit, lever_table
from enforcement_grid.planning.optimise import planned_scenario
from enforcement_grid.planning.plan import today_scenario
from enforcement_grid.planning.scenario_file import write_scenario
from enforcement_grid.sim import load_scenario
from enforcement_grid.sim.patrol_plan import default_plan

import factory


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plan")
    sc = factory.scenario(tmp / "county", lambda s, t: s["shift_patterns"]["day"].update(
        label_zh="测试白班", label_en="test day shift"))
    out = tmp / "plan"
    assert main(["plan", str(sc), "--days", "21", "-n", "2", "--workers", "1", "--out", str(out), "-q"]) == 0
    return out


def test_the_plan_folder_holds_every_table(plan_dir):
    for name in ("scenario.toml", "allocation.csv", "patrol.csv", "visits.csv", "rotas.csv", "levers.csv",
                 "comparison.csv", "enough.csv", "plans.csv", "budget.csv", "report/plan.html", "report/plan.docx",
                 "report/plan.xlsx"):
        assert (plan_dir / name).exists(), name
    a = pd.read_csv(plan_dir / "allocation.csv")
    assert list(a.columns) == ["town", "source", "posts", "certified"]
    lv = pd.read_csv(plan_dir / "levers.csv")
    assert list(lv.columns) == ["lever", "metric", "effect", "ci_low", "ci_high"]
    assert {"allocation", "rotas", "patrol", "total"} <= set(lv["lever"])
    county = lv[lv["metric"] == "coverage_weighted"].set_index("lever")["effect"]
    assert county[["allocation", "rotas", "patrol"]].sum() == pytest.approx(county["total"], abs=1e-12)
    plans = pd.read_csv(plan_dir / "plans.csv")
    assert {"today", "proportional", "plan"} <= set(plans["key"])
    for f in plans["folder"]:
        assert (plan_dir / f / "summary.csv").exists()
    # the timetable simulated is the one written
    used = pd.read_csv(plan_dir / "runs" / "plan" / "patrol_plan.csv")
    written = pd.read_csv(plan_dir / "patrol.csv")
    pd.testing.assert_frame_equal(used.reset_index(drop=True), written.reset_index(drop=True))


def test_egrid_run_reproduces_the_plan_exactly(plan_dir, tmp_path):
    out = tmp_path / "again"
    assert main(["run", str(plan_dir / "scenario.toml"), "--workers", "1", "--out", str(out)]) == 0
    mine = pd.read_csv(plan_dir / "runs" / "plan" / "summary.csv")
    again = pd.read_csv(out / "summary.csv")
    pd.testing.assert_frame_equal(mine, again)


def test_an_existing_plan_folder_is_refused(plan_dir, capsys):
    sc = plan_dir.parent / "county" / "scenario.toml"
    assert main(["plan", str(sc), "--days", "21", "-n", "2", "--out", str(plan_dir)]) == 2
    assert "--force" in capsys.readouterr().err


# ---------------------------------------------------------------------------- the right lever is credited


def _county(tmp_path, edit):
    return today_scenario(load_scenario(factory.scenario(tmp_path / "county", edit)))


def _plan(tmp_path, today, allocation, timetable):
    planned = planned_scenario(today, allocation, {t.town: t.shift_pattern for t in today.towns}, timetable)
    return load_scenario(write_scenario(tmp_path / "plan", planned, "constructed-plan"))


def _alloc(today, moves: dict[str, tuple[int, int]], source: str = "urban_management") -> pd.DataFrame:
    """Today's staffing as an allocation, with (posts, certified) changes of one source per town."""
    rows = []
    for r in today.staffing:
        dp, dc = moves.get(r.brigade, (0, 0)) if r.source == source else (0, 0)
        rows.append((r.brigade, r.source, r.officers + dp, r.certified + dc))
    return pd.DataFrame(rows, columns=["town", "source", "posts", "certified"])


def _effects(dec, unchanged):
    t = lever_table(dec, unchanged, ["coverage"])
    return t.set_index("lever")


def test_only_the_allocation_matters(tmp_path):
    """Certified officers move to the busy town; patrols keep today's visits: allocation credited, patrol 0."""
    def edit(s, t):
        s["scenario"].update(horizon_days=30.0, replications=6)
        for r in t["staffing"]:  # the busy town 甲 has no team; 乙 has officers to spare
            if r["brigade"] == "甲镇":
                r["certified"] = 1 if r["source"] == "law" else 0
            elif r["source"] == "urban_management":
                r["officers"] = r["certified"] = 16
        totals = {}
        for r in t["staffing"]:
            totals[r["source"]] = totals.get(r["source"], 0) + r["officers"]
        s["staffing"]["sources"] = totals
    today = _county(tmp_path, edit)
    alloc = _alloc(today, {"甲镇": (8, 8), "乙镇": (-8, -8)})
    staffed = planned_scenario(today, alloc, {}, None)
    plan = _plan(tmp_path, today, alloc, default_plan(staffed))  # the rule's own timetable: same visits
    dec, unchanged = credit(today, plan, 6, workers=1)
    e = _effects(dec, unchanged)
    assert e.loc["allocation", "ci_low"] > 0 or e.loc["allocation", "ci_high"] < 0
    assert e.loc["patrol", "ci_low"] <= 0 <= e.loc["patrol", "ci_high"]
    assert e.loc["rotas", "effect"] == 0


def test_only_patrol_frequency_matters(tmp_path):
    """Every village patrolled three times a week where patrols find most violations; only uncertified posts
    move (no exams: they form no teams): patrol credited, allocation 0."""
    def edit(s, t):
        s["scenario"].update(horizon_days=30.0, replications=6)
        for c in s["classes"].values():
            c.update(grid_notice_per_day=0.02, complaint_per_day=0.01, patrol_detect_prob=0.95)
        s["patrol"].update(min_visits_per_week=1, hot_spot_visits_per_week=1, max_visits_per_week=3)
    today = _county(tmp_path, edit)
    alloc = _alloc(today, {"甲镇": (1, 0), "乙镇": (-1, 0)}, "reallocated")
    staffed = planned_scenario(today, alloc, {}, None)
    plan = _plan(tmp_path, today, alloc, default_plan(staffed, {v.village: 3 for v in today.villages}))
    dec, unchanged = credit(today, plan, 6, workers=1)
    e = _effects(dec, unchanged)
    assert e.loc["patrol", "ci_low"] > 0
    assert e.loc["allocation", "ci_low"] <= 0 <= e.loc["allocation", "ci_high"]


# ---------------------------------------------------------------------------- the report


SECTIONS_ZH = ["结论与建议", "编制分配", "各执法队每周巡查计划", "各村（社区）每周巡查次数", "排班", "各镇方案比较",
               "各项措施的贡献", "编制是否够用", "工时预算", "假设与来源", "附录"]


def _visible_text(page: str) -> str:
    body = page.split("<body>", 1)[1]
    body = re.sub(r"<script.*?</script>", "", body, flags=re.S)
    body = re.sub(r"<div hidden>.*?</div>", "", body, flags=re.S)
    return re.sub(r"<[^>]+>", "\n", body)


def test_html_report_sections_language_and_bounds(plan_dir):
    page = (plan_dir / "report" / "plan.html").read_text(encoding="utf-8")
    heads = re.findall(r"<h2>(.*?)</h2>", page)
    assert heads[0] == "结论与建议"
    for s in SECTIONS_ZH:
        assert any(h.startswith(s) for h in heads), s
    text = _visible_text(page)
    main_part = text.split("附录：代码与原文注释")[0]
    assert not re.search(r"[A-Za-z]{3,}\s+[A-Za-z]{3,}\s+[A-Za-z]{3,}", main_part), "an English sentence outside the appendix"
    assert not re.search(r"[A-Za-z]+_[A-Za-z_]+", main_part), "a code (e.g. a source key) outside the appendix"
    assert "测试白班" in main_part and "“day”" not in main_part  # rotas by the scenario's own label
    assert not re.search(r"·(street|building|hidden)", main_part)  # classes by their labels, not their keys
    assert "font" not in text.lower() and "loaded" not in text.lower()
    intervals = re.findall(r"\[(-?[\d.]+)%, (-?[\d.]+)%\]", main_part) + re.findall(r"（(-?[\d.]+)%～(-?[\d.]+)%）", main_part)
    assert intervals
    for lo, hi in intervals:  # no interval of a share outside [0, 100 %]
        assert 0.0 <= float(lo) <= float(hi) <= 100.0
    assert 'id="allocation"' in page and 'id="levers"' in page
    assert len(re.findall(r'<table id="timetable-', page)) == 2  # every brigade's timetable
    assert len(re.findall(r"<img ", page)) == 3


def test_docx_has_real_headings_and_word_tables(plan_dir):
    from docx import Document

    doc = Document(str(plan_dir / "report" / "plan.docx"))
    heads = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert heads[1] == "结论与建议" and any(h.startswith("编制分配") for h in heads)
    assert len(doc.tables) >= 8
    assert doc.tables[0].rows[0].cells[0].text == "镇"
    with zipfile.ZipFile(plan_dir / "report" / "plan.docx") as z:
        assert len([n for n in z.namelist() if n.startswith("word/media/")]) == 3


def test_xlsx_sheets_number_formats_and_chinese_headers(plan_dir):
    from openpyxl import load_workbook

    wb = load_workbook(plan_dir / "report" / "plan.xlsx")
    assert {"编制分配", "巡查周计划", "方案比较"} <= set(wb.sheetnames)
    comp = wb["方案比较"]
    assert comp["A1"].value == "镇"
    assert comp["B2"].number_format == "0.0%" and 0 <= comp["B2"].value <= 1
    assert wb["编制分配"]["C1"].value == "编制"
    assert wb["工时预算"]["E2"].number_format == "#,##0"


def test_english_report_and_plan_names(plan_dir, tmp_path):
    from enforcement_grid.report.plan_report import conclusions, plan_label, write_plan_report

    files = write_plan_report(plan_dir, tmp_path / "en", "en")
    page = files["html"].read_text(encoding="utf-8")
    assert "<h2>Conclusions and recommendations</h2>" in page
    assert plan_label("proportional", "zh", short=True) == "按人口比例"
    lines = conclusions(plan_dir, "en")
    assert any("comes mostly from" in s for s in lines)


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="headless Chromium not installed (/usr/bin/chromium)")
def test_plan_report_images_and_font_load_in_a_browser(plan_dir, tmp_path):
    from test_report import _dump_dom

    dom = _dump_dom(plan_dir / "report" / "plan.html", tmp_path / "profile")
    n, total = map(int, re.search(r'id="images-loaded">(\d+)/(\d+)<', dom).groups())
    assert total == 3 and n == total
    assert re.search(r'id="font-status">loaded<', dom)


def test_visits_asked_and_not_planned_are_summed_per_town_on_the_command_line(tmp_path):
    from enforcement_grid.cli.plan_cmd import problem_lines
    from enforcement_grid.sim import load_scenario

    sc = load_scenario(factory.scenario(tmp_path))
    lines = problem_lines(sc, ["visits_min_乙村1: 1 visits a week < 3", "visits_min_乙村2: 0 visits a week < 2",
                               "visits_min_甲村1: 2 visits a week < 3", "weekly patrol of 丙镇: infeasible"])
    assert lines == [
        "乙镇: 2 village(s) get fewer patrol visits a week than the allocation asked (1 planned of 5; 1 village(s) "
        "not visited weekly): the brigade's patrol teams cannot fit more; see visits.csv",
        "甲镇: 1 village(s) get fewer patrol visits a week than the allocation asked (2 planned of 3; each still "
        "visited weekly): the brigade's patrol teams cannot fit more; see visits.csv",
        "weekly patrol of 丙镇: infeasible",
    ]

"""Reports and comparisons of several plans: several baselines, every pair, plan names from titles, the levers section.

The session's small runs (after and before the reform, 20 days, 2 replications,
same seed) and one more run of the same length and seed (the reform with the
three grid networks kept separate) are the three plans.  Comparisons are checked
against :func:`report.compare.compare_runs` exactly (the same paired
differences), names against the scenarios' ``title_zh`` / ``title_en``.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from enforcement_grid.cli.cli import main
from enforcement_grid.experiments import run
from enforcement_grid.experiments.levers import Lever, effect_table, lever_effects
from enforcement_grid.experiments.output import write_run
from enforcement_grid.report import charts as C
from enforcement_grid.report import compare_runs, write_report
from enforcement_grid.report import html as H
from enforcement_grid.report import labels as L
from enforcement_grid.report.compare import format_value, plan_labels
from enforcement_grid.report.rundir import load_run
from enforcement_grid.sim import load_scenario
from enforcement_grid.sim.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SHORT = ["scenario.horizon_days=20", "scenario.warmup_days=2"]
TITLE_ZH = {"before": "惠安县 综合执法改革前", "after": "惠安县 综合执法改革后", "separate": "惠安县 改革后（三网未合一）"}
ASCII_NAMES = {"huian", "huian-before", "huian-separate-grids", "after", "before", "separate"}


@pytest.fixture(scope="module")
def runs(small_runs, tmp_path_factory):
    """``before``, ``after``, ``separate`` run folders (and ``*_runset``), the same seed and replications."""
    sc = load_scenario(ROOT / "scenarios" / "huian-separate-grids.toml", SHORT)
    runset = run(sc, replications=2, workers=1)
    folder = write_run(tmp_path_factory.mktemp("separate") / "separate", sc, runset)
    return {**small_runs, "separate": folder, "separate_runset": runset}


@pytest.fixture(scope="module")
def two_baselines(runs, tmp_path_factory):
    """The Chinese report of the after run against before and against the separate grids."""
    out = tmp_path_factory.mktemp("two") / "report"
    files = write_report(runs["after"], out, "zh", baseline=[runs["before"], runs["separate"]], embed_font=False)
    return files, files["html"].read_text(encoding="utf-8")


def _table_html(page: str, table_id: str) -> str:
    start = page.index(f'<table id="{table_id}">')
    return page[start:page.index("</table>", start)]


def _text(fragment: str) -> str:
    return re.sub(r"<[^>]+>", " ", fragment)


def _county_coverage(table: pd.DataFrame) -> pd.Series:
    return table[(table["scope"] == "county") & (table["metric"] == "coverage")].iloc[0]


# ---------------------------------------------------------------------------- several baselines


def test_two_baselines_give_one_comparison_section_each(two_baselines, runs):
    files, page = two_baselines
    assert page.count('<table id="comparison') == 2 and 'id="comparison-2"' in page
    a1, a2, b = TITLE_ZH["before"], TITLE_ZH["separate"], TITLE_ZH["after"]
    assert L.t("report.comparison_pair", "zh", a=a1, b=b) in page
    assert L.t("report.comparison_pair", "zh", a=a2, b=b) in page
    # the paired differences are compare_runs' own, run − each baseline
    for table_id, base in (("comparison", "before"), ("comparison-2", "separate")):
        r = _county_coverage(compare_runs(runs[base], runs["after"]))
        cell = format_value("coverage", r["diff"], r["diff_ci_low"], r["diff_ci_high"], signed=True)
        assert cell in _table_html(page, table_id)
    # the towns table has a column per plan, baselines first
    towns = _table_html(page, "towns-plans")
    header = re.findall(r"<th>([^<]*)</th>", towns)
    assert header[2:] == [a1, a2, b]
    summ = pd.read_csv(runs["separate"] / "summary.csv").set_index(["scope", "metric"])
    s = summ.loc[("county", "coverage")]
    assert format_value("coverage", s["mean"], s["ci_low"], s["ci_high"]) in towns


def test_two_baselines_in_the_workbook(two_baselines, runs):
    files, _ = two_baselines
    wb = openpyxl.load_workbook(files["excel"], read_only=True)
    assert wb.sheetnames == ["汇总", "各镇", "各镇各方案", "公开数据对照", "巡查计划", "方案比较1", "方案比较2", "假设与来源"]
    for sheet, base in (("方案比较1", "before"), ("方案比较2", "separate")):
        rows = list(wb[sheet].iter_rows(values_only=True))
        got = pd.DataFrame(rows[1:], columns=rows[0])
        want = compare_runs(runs[base], runs["after"])
        assert set(got["plan_a"]) == {TITLE_ZH[base]} and set(got["plan_b"]) == {TITLE_ZH["after"]}
        np.testing.assert_allclose(got["diff"].astype(float), want["diff"].astype(float), rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(got["diff_ci_low"].astype(float), want["diff_ci_low"].astype(float),
                                   rtol=1e-12, equal_nan=True)
    rows = list(wb["各镇各方案"].iter_rows(values_only=True))
    assert sum(1 for c in rows[0] if c.endswith("· 均值")) == 3
    wb.close()


def test_charts_draw_every_plan(runs):
    bases = [load_run(runs["before"]), load_run(runs["separate"])]
    charts = {c.name: c.figure for c in H.build_charts(load_run(runs["after"]), "zh", bases)}
    for name in ("delay_response", "delay_discovery", "backlog"):
        entries = C.legend_entries(charts[name])
        for title in TITLE_ZH.values():
            assert sum(title in e for e in entries) == 1, (name, entries)
        assert not ASCII_NAMES & set(re.findall(r"[A-Za-z][A-Za-z-]*", " ".join(entries)))


def test_one_baseline_as_a_path_or_a_list_is_the_same_report(runs, tmp_path, monkeypatch):
    monkeypatch.setattr(H, "build_charts", lambda *a, **k: [])  # the charts are checked above
    one = write_report(runs["after"], tmp_path / "one", "en", baseline=runs["before"], embed_font=False)
    listed = write_report(runs["after"], tmp_path / "list", "en", baseline=[runs["before"]], embed_font=False)
    page = one["html"].read_text(encoding="utf-8")
    assert page == listed["html"].read_text(encoding="utf-8")
    assert page.count('<table id="comparison') == 1 and L.t("report.comparison", "en") in page
    wb = openpyxl.load_workbook(one["excel"], read_only=True)
    assert wb.sheetnames == ["summary", "towns", "validation", "patrol plan", "comparison", "assumptions"]
    wb.close()


def test_no_ascii_plan_name_in_the_zh_report_where_titles_exist(two_baselines):
    _, page = two_baselines
    # from the plans' towns table to the charts: every place the report names a plan
    part = _text(page[page.index(L.t("report.towns_plans", "zh")):page.index(L.t("report.charts", "zh"))])
    assert all(t in part for t in TITLE_ZH.values())
    assert not ASCII_NAMES & set(re.findall(r"[A-Za-z][A-Za-z-]*", part))
    # and in the baseline lines of the header, the plan is named by its title
    metas = re.findall(r'<p class="meta">([^<]*)</p>', page)
    baseline = [m for m in metas if m.startswith(L.t("report.baseline", "zh"))]
    assert [TITLE_ZH["before"] in baseline[0], TITLE_ZH["separate"] in baseline[1]] == [True, True]


# ---------------------------------------------------------------------------- names and pairs


def test_plan_names_come_from_titles_in_the_chosen_language(runs, tmp_path):
    table = compare_runs(runs["before"], runs["after"], lang="zh")
    assert set(table["plan_a"]) == {TITLE_ZH["before"]} and set(table["plan_b"]) == {TITLE_ZH["after"]}
    en = compare_runs(runs["before"], runs["after"], lang="en")
    assert set(en["plan_a"]) == {"Hui'an County, before the enforcement reform"}
    assert set(compare_runs(runs["before"], runs["after"])["plan_a"]) == {"huian-before"}  # no language: as before
    pd.testing.assert_frame_equal(table.drop(columns=["plan_a", "plan_b"]), en.drop(columns=["plan_a", "plan_b"]))
    # titles that clash fall back to the names; a plan without a title in the language keeps its name
    twin = tmp_path / "twin"
    shutil.copytree(runs["after"], twin)
    untitled = tmp_path / "untitled"
    shutil.copytree(runs["separate"], untitled)
    meta = json.loads((untitled / "scenario.json").read_text(encoding="utf-8"))
    meta["settings"]["scenario"]["title_zh"] = ""
    (untitled / "scenario.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    assert plan_labels([runs["before"], runs["after"], twin, untitled], "zh") == [
        TITLE_ZH["before"], "after", "twin", "huian-separate-grids"]
    assert plan_labels([runs["before"], runs["after"]], None) == ["huian-before", "huian"]
    assert plan_labels([runs["before_runset"], runs["after_runset"]], "zh") == [TITLE_ZH["before"], TITLE_ZH["after"]]


def test_pairs_all_compares_every_pair(runs):
    table = compare_runs(runs["before"], runs["after"], runs["separate"], pairs="all")
    pairs = list(table.groupby(["plan_a", "plan_b"], sort=False).groups)
    assert pairs == [("huian-before", "huian"), ("huian-before", "huian-separate-grids"), ("huian", "huian-separate-grids")]
    # each pair on its own paired replications: the block is the two-plan comparison
    block = table[(table["plan_a"] == "huian") & (table["plan_b"] == "huian-separate-grids")].reset_index(drop=True)
    pd.testing.assert_frame_equal(block, compare_runs(runs["after"], runs["separate"]))
    assert (block["method"] == "paired").all()
    assert len(pairs) == 3 * 2 // 2  # n plans, n(n−1)/2 blocks
    with pytest.raises(ValueError, match="pairs"):
        compare_runs(runs["before"], runs["after"], pairs="some")


def test_compare_command_pairs_and_titles(runs, tmp_path, capsys):
    out = tmp_path / "comparison.csv"
    dirs = [str(runs[k]) for k in ("before", "after", "separate")]
    assert main(["compare", *dirs, "--pairs", "all", "--lang", "zh", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    blocks = [line for line in text.splitlines() if "置信区间不含 0" in line]
    assert blocks == [L.t("compare.block", "zh", a=a, b=b, method=L.t("method.paired", "zh")) for a, b in (
        (TITLE_ZH["before"], TITLE_ZH["after"]), (TITLE_ZH["before"], TITLE_ZH["separate"]),
        (TITLE_ZH["after"], TITLE_ZH["separate"]))]
    csv = pd.read_csv(out)
    assert set(csv["plan_a"]) | set(csv["plan_b"]) == set(TITLE_ZH.values())
    # the default: each against the first, named by scenario
    assert main(["compare", *dirs, "--out", str(out), "--force"]) == 0
    text = capsys.readouterr().out
    assert "huian − huian-before (paired" in text and "huian-separate-grids − huian-before (paired" in text
    assert "huian-separate-grids − huian " not in text
    assert main(["compare", dirs[0]]) == 2
    assert "expected two or more" in capsys.readouterr().err


# ---------------------------------------------------------------------------- the levers section


@pytest.fixture(scope="module")
def lever_file(runs, tmp_path_factory):
    """A two-lever table made from the three runs (the numbers matter less than their shape)."""
    levers = [Lever("reporting_chain", settings={"grid.report_delay_mean_min": 60.0}),
              Lever("merged_grid", settings={"grid.networks": "merged"})]
    rs = {0: runs["before_runset"], 1: runs["before_runset"], 2: runs["separate_runset"], 3: runs["after_runset"]}
    table = effect_table(lever_effects(rs, levers))
    path = tmp_path_factory.mktemp("levers") / "levers.csv"
    table.to_csv(path, index=False)
    return path, table


def test_levers_section_shows_each_lever_with_its_paired_intervals(runs, lever_file, tmp_path, monkeypatch):
    monkeypatch.setattr(H, "build_charts", lambda *a, **k: [])
    path, table = lever_file
    files = write_report(runs["after"], tmp_path / "r", "zh", baseline=runs["before"], levers=path, embed_font=False)
    page = files["html"].read_text(encoding="utf-8")
    assert f"<h2>{L.t('report.levers', 'zh')}</h2>" in page
    section = _table_html(page, "levers")
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", section, flags=re.S)[1:]
    cells = [re.findall(r"<td[^>]*>([^<]*)</td>", r) for r in rows]
    metrics = ["coverage", "coverage_street", "coverage_building", "coverage_hidden"]
    shown = [m for m in metrics if (table["metric"] == m).any()]
    assert len(cells) == 3 * len(shown)  # the total and two levers per measure
    pick = lambda lever, method, m="coverage": table[(table["scope"] == "county") & (table["metric"] == m)  # noqa: E731
                                                   & (table["lever"] == lever) & (table["method"] == method)].iloc[0]
    by_lever = {c[1]: c for c in cells if c[0] == L.metric_label("coverage", "zh")}
    merged = by_lever[L.lever_label("merged_grid", "zh")]
    for col, method in zip(merged[2:], ("shapley", "add_to_base", "drop_from_target")):
        r = pick("merged_grid", method)
        assert col == format_value("coverage", r["effect"], r["ci_low"], r["ci_high"], signed=True)
    assert "[" in merged[2]  # with its interval
    # one sentence names the lever with the largest share of the county coverage change
    total = pick("total", "total")
    shares = {lv: pick(lv, "shapley")["effect"] for lv in ("reporting_chain", "merged_grid")}
    top = max(shares, key=lambda lv: shares[lv] * np.sign(total["effect"] or 1.0))
    sentence = re.search(r'<p class="conclusion">([^<]*)</p>', page).group(1)
    assert L.lever_label(top, "zh") in sentence
    assert format_value("coverage", total["effect"], total["ci_low"], total["ci_high"], signed=True) in sentence
    wb = openpyxl.load_workbook(files["excel"], read_only=True)
    assert "措施贡献" in wb.sheetnames
    wb.close()


def test_levers_section_from_the_run_folder_and_absent_without_a_table(runs, lever_file, tmp_path, monkeypatch):
    monkeypatch.setattr(H, "build_charts", lambda *a, **k: [])
    plain = write_report(runs["after"], tmp_path / "plain", "en", baseline=runs["before"], embed_font=False)
    page = plain["html"].read_text(encoding="utf-8")
    assert 'id="levers"' not in page and L.t("report.levers", "en") not in page
    folder = tmp_path / "after"
    shutil.copytree(runs["after"], folder)
    shutil.copy(lever_file[0], folder / "levers.csv")
    found = write_report(folder, tmp_path / "found", "en", embed_font=False)
    page = found["html"].read_text(encoding="utf-8")
    assert 'id="levers"' in page and L.lever_label("reporting_chain", "en") in page


def test_a_bad_lever_table_is_one_clear_message(runs, lever_file, tmp_path, capsys):
    bad = tmp_path / "levers.csv"
    pd.read_csv(lever_file[0]).drop(columns=["method"]).to_csv(bad, index=False)
    with pytest.raises(ScenarioError, match=r"levers\.csv: missing column\(s\) method"):
        write_report(runs["after"], tmp_path / "r", "en", levers=bad)
    t = pd.read_csv(lever_file[0]).astype({"effect": object})
    t.loc[3, "effect"] = "lots"
    t.to_csv(bad, index=False)
    assert main(["report", str(runs["after"]), "--levers", str(bad), "--out", str(tmp_path / "r2")]) == 2
    err = capsys.readouterr().err
    assert "levers.csv: row 5, column effect: expected a number, got 'lots'" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists() and not (tmp_path / "r2").exists()


def test_report_command_takes_several_baselines(runs, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(H, "build_charts", lambda *a, **k: [])
    out = tmp_path / "r"
    assert main(["report", str(runs["after"]), "--baseline", str(runs["before"]), "--baseline", str(runs["separate"]),
                 "--lang", "en", "--out", str(out)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count('<table id="comparison') == 2
    assert "Hui&#x27;an after the reform — three separate grid networks" in page

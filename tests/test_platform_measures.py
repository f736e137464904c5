"""Figures an official recognises, intervals that respect their bounds, counts per year,
patrol plans that say what they leave out, and a package that imports quickly."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from enforcement_grid.report import labels as L
from enforcement_grid.sim import ScenarioError, load_scenario
from enforcement_grid.experiments import run
from enforcement_grid.sim.measures import (
    brigade_visits,
    check_published_ranges,
    is_share,
    mean_interval,
    metric_names,
    plan_visits,
    summarise,
    validation_table,
)
from enforcement_grid.sim.patrol_plan import plan_table

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("matplotlib", "dask", "distributed", "scipy", "highspy")


# ---------------------------------------------------------------------------- start-up


@pytest.mark.parametrize("module, also", [
    ("enforcement_grid.cli.cli", ("pandas", "pulp", "enforcement_grid.sim")),  # `egrid --help` needs none of them
    ("enforcement_grid.sim", ("pandas.plotting._matplotlib",)),
])
def test_importing_leaves_heavy_modules_out(module, also):
    code = f"import sys, {module}; print(' '.join(m for m in {HEAVY + also!r} if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == []


def test_help_answers_without_loading_the_model():
    code = ("import sys\nfrom enforcement_grid.cli.cli import main\n"
            "try:\n    main(['run', '--help'])\nexcept SystemExit:\n    pass\n"
            "print('LOADED', ' '.join(m for m in ('pandas', 'scipy', 'enforcement_grid.sim') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "--replications" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "LOADED"


# ---------------------------------------------------------------------------- intervals


def test_plain_measures_keep_the_t_interval_exactly():
    v = np.array([10.0, 12.0, 9.0, 15.0])
    lo, hi = mean_interval(v.mean(), v.std(ddof=1), len(v), False)
    half = stats.t.ppf(0.975, 3) * v.std(ddof=1) / 2.0
    assert (float(lo), float(hi)) == pytest.approx((v.mean() - half, v.mean() + half), rel=1e-12)


def test_count_intervals_do_not_go_below_zero():
    """A rare count (calls for help in a small town: 0, 0, 3, 0 a year): the t interval would reach below 0;
    the log-scale interval stays above 0 around the same mean, and a count well away from 0 keeps the
    t interval exactly."""
    v = np.array([0.0, 0.0, 3.0, 0.0])
    t = stats.t.ppf(0.975, 3)
    se = v.std(ddof=1) / 2.0
    assert v.mean() - t * se < 0
    lo, hi = mean_interval(v.mean(), v.std(ddof=1), len(v), False, positive=True)
    assert 0.0 < lo < v.mean() < hi
    assert (float(lo), float(hi)) == pytest.approx((v.mean() / np.exp(t * se / v.mean()),
                                                    v.mean() * np.exp(t * se / v.mean())), rel=1e-12)
    w = np.array([10.0, 12.0, 9.0, 15.0])
    assert [float(x) for x in mean_interval(w.mean(), w.std(ddof=1), 4, False, positive=True)] == \
        [float(x) for x in mean_interval(w.mean(), w.std(ddof=1), 4, False)]
    assert float(mean_interval(v.mean(), v.std(ddof=1), 4, False)[0]) < 0  # a difference may be negative


@pytest.mark.parametrize("values", [
    [0.0, 0.0, 0.0, 0.02],            # near 0: the t interval would go below 0
    [0.0, 0.0, 0.13],                 # found_by_complaint_share-like, few replications
    [1.0, 1.0, 0.97, 1.0],            # near 1
    [0.937, 0.84, 0.99, 1.0, 0.98],   # closure_rate-like
])
def test_share_intervals_stay_inside_the_bounds_near_0_and_1(values):
    v = np.array(values)
    t_half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    assert v.mean() - t_half < 0 or v.mean() + t_half > 1  # the plain t interval leaves [0, 1]
    lo, hi = mean_interval(v.mean(), v.std(ddof=1), len(v), True)
    assert 0.0 <= lo <= v.mean() <= hi <= 1.0


def test_share_interval_matches_t_interval_away_from_the_bounds():
    """Delta method: to first order the logit interval is the t interval (here within 1 % of its width)."""
    rng = np.random.default_rng(5)
    v = 0.5 + rng.normal(0, 0.004, 10)
    lo, hi = mean_interval(v.mean(), v.std(ddof=1), len(v), True)
    half = stats.t.ppf(0.975, 9) * v.std(ddof=1) / np.sqrt(10)
    assert float(lo) == pytest.approx(v.mean() - half, abs=0.01 * half)
    assert float(hi) == pytest.approx(v.mean() + half, abs=0.01 * half)


def test_share_at_a_bound_in_every_replication_has_a_point_interval():
    lo, hi = mean_interval(np.array([0.0, 1.0]), np.array([0.0, 0.0]), np.array([5, 5]), True)
    assert list(lo) == [0.0, 1.0] and list(hi) == [0.0, 1.0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=12))
def test_summarised_shares_never_leave_0_1(values):
    m = pd.DataFrame({"scope": "county", "metric": "closure_rate", "rep": range(len(values)), "value": values})
    row = summarise(m).iloc[0]
    assert 0.0 <= row["ci_low"] <= row["mean"] + 1e-12 and row["mean"] - 1e-12 <= row["ci_high"] <= 1.0


def test_which_measures_are_shares():
    for m in ("coverage", "coverage_street", "closure_rate", "on_time_disposal_rate", "found_by_complaint_share",
              "found_by_grid_or_patrol_share_street", "patrol_visits_planned_share", "report_on_time_closure_rate"):
        assert is_share(m), m
    # ratios of time or visits that can pass 1 (work past the shift end; extra inspections) keep the t interval
    for m in ("utilisation", "case_work_share", "inspections_done_share", "response_time_min", "violations_per_year"):
        assert not is_share(m), m


# ---------------------------------------------------------------------------- per year, platform measures


def test_counts_are_per_year_exactly(small_runs):
    runset = small_runs["after_runset"]
    s = runset.scenario.settings.scenario
    window_days = s.horizon_days - s.warmup_days
    for r in runset.results:
        n = int((r.records["occurred_min"] >= s.warmup_min).sum())
        got = r.metrics.set_index(["scope", "metric"]).loc[("county", "violations_per_year"), "value"]
        assert got == pytest.approx(n * 365.0 / window_days, rel=1e-12)
    names = set(runset.metrics["metric"])
    assert "violations" not in names and "past_limit_cases" not in names
    assert {"violations_per_year", "past_limit_cases_per_year"} <= names


def test_platform_measures_count_from_the_report(small_runs):
    runset = small_runs["after_runset"]
    sc = runset.scenario
    from enforcement_grid.experiments.runner import item_targets

    targets = item_targets(sc)
    s = sc.settings.scenario
    r = runset.results[0]
    rec = r.records
    tgt = rec["item"].map(targets)
    due = (rec["occurred_min"] >= s.warmup_min) & rec["reported_min"].notna() & (rec["reported_min"] + tgt <= s.horizon_min)
    on_time = due & (rec["on_site_min"] - rec["reported_min"] <= tgt)
    closed = due & rec["closed_min"].notna()
    closed_on_time = closed & (rec["closed_min"] - rec["reported_min"] <= tgt)
    m = r.metrics.set_index(["scope", "metric"])["value"]
    assert m[("county", "on_time_disposal_rate")] == pytest.approx(on_time.sum() / due.sum())
    assert m[("county", "report_closure_rate")] == pytest.approx(closed.sum() / due.sum())
    assert m[("county", "report_on_time_closure_rate")] == pytest.approx(closed_on_time.sum() / due.sum())
    street = (rec["occurred_min"] >= s.warmup_min) & rec["discovered_min"].notna() & (rec["klass"] == "street")
    found = street & rec["channel"].isin(["grid", "patrol"])
    assert m[("county", "found_by_grid_or_patrol_share_street")] == pytest.approx(found.sum() / street.sum())
    # from the report, the platform's figure is above coverage counted from arising
    assert m[("county", "on_time_disposal_rate")] > m[("county", "coverage")]


def test_validation_table_sets_measures_against_published_ranges(small_runs):
    sc = small_runs["after_runset"].scenario
    ranges = sc.settings.published_ranges
    assert {r.metric for r in ranges} >= {"report_on_time_closure_rate", "found_by_grid_or_patrol_share_street"}
    otc = next(r for r in ranges if r.metric == "report_on_time_closure_rate")
    assert (otc.low, otc.high) == (0.76, 0.999) and otc.source
    summary = pd.DataFrame({"scope": ["county"] * 2, "metric": ["report_on_time_closure_rate", "on_time_disposal_rate"],
                            "mean": [0.70, 0.90], "ci_low": [0.6, 0.88], "ci_high": [0.8, 0.92]})
    t = validation_table(summary, ranges).set_index("metric")
    assert t.loc["report_on_time_closure_rate", "verdict"] == "below"
    assert t.loc["on_time_disposal_rate", "verdict"] == "within"
    assert t.loc["found_by_grid_or_patrol_share_street", "verdict"] == "—"  # not in this summary


def test_a_published_range_for_an_unknown_measure_is_refused(tmp_path):
    toml = tmp_path / "bad.toml"
    toml.write_text(f'extends = "{(ROOT / "scenarios" / "huian.toml").as_posix()}"\n'
                    '[[published_ranges]]\nmetric = "on_time_rate"\nlow = 0.5\nhigh = 0.9\n'
                    'what = "x"\nsource = "y"\n', encoding="utf-8")
    sc = load_scenario(toml)
    with pytest.raises(ScenarioError, match=r"published_ranges\[0\]\.metric: 'on_time_rate'"):
        check_published_ranges(sc)
    check_published_ranges(load_scenario(ROOT / "scenarios" / "huian.toml"))  # the default's are all known


# ---------------------------------------------------------------------------- patrol plan shortfall


def test_huian_stress_plan_shortfall_is_reported():
    sc = load_scenario(ROOT / "scenarios" / "huian-stress.toml", ["scenario.horizon_days=3", "scenario.warmup_days=0"])
    visits = plan_visits(sc, plan_table(sc))
    assert visits["visits_required"].sum() == 257 and visits["visits_planned_needed"].sum() == 195  # the packer counts the teams the simulator fields, weekend duty included
    assert (visits["visits_planned"] == 0).sum() == 40  # hot spots give up their second visit before others their first
    per_brigade = brigade_visits(visits).set_index("brigade")
    assert per_brigade["visits_required"].sum() == 257
    assert (per_brigade["visits_planned"] <= per_brigade["visits_required"]).all()
    assert per_brigade.loc["崇武镇", "visits_planned"] < per_brigade.loc["崇武镇", "visits_required"]

    log = io.StringIO()
    handler = logging.StreamHandler(log)
    logging.getLogger("enforcement_grid.experiments.runner").addHandler(handler)
    try:
        runset = run(sc, replications=1, workers=1, keep_records=False)
    finally:
        logging.getLogger("enforcement_grid.experiments.runner").removeHandler(handler)
    assert "does not visit 40 village(s) in a week" in log.getvalue()
    s = runset.summary.set_index(["scope", "metric"])["mean"]
    assert s[("county", "patrol_visits_planned_share")] == pytest.approx(195 / 257, rel=1e-12)
    for town, row in per_brigade.iterrows():  # after the reform each brigade serves its own town
        assert s[(town, "patrol_visits_planned_share")] == pytest.approx(row["visits_planned"] / row["visits_required"])

    from enforcement_grid.cli.cli import print_patrol_plan

    out = io.StringIO()
    print_patrol_plan(sc, runset.results[0].plan, out)
    assert "195 of the 257 weekly visits required" in out.getvalue() and "崇武镇" in out.getvalue()


def test_the_default_plan_meets_the_rule():
    sc = load_scenario(ROOT / "scenarios" / "huian.toml")
    visits = plan_visits(sc, plan_table(sc))
    assert (visits["visits_planned_needed"] == visits["visits_required"]).all()


# ---------------------------------------------------------------------------- labels


def test_coverage_has_an_unambiguous_chinese_name():
    zh = {m: L.metric_label(m, "zh") for m in L.METRICS}
    assert zh["coverage"].startswith("发生起算按时处置率")
    assert zh["on_time_disposal_rate"].startswith("平台口径按时处置率")
    # no label, chart or table, uses the bare platform name 按时处置率
    for text in [*zh.values(), *(v["zh"] for v in L.LABELS.values())]:
        i = text.find("按时处置率")
        assert i < 0 or text[max(0, i - 4):i] in ("发生起算", "平台口径"), text


def test_every_measure_has_labels_and_a_unit():
    sc = load_scenario(ROOT / "scenarios" / "huian.toml")
    class_labels = {k: {"zh": c.label_zh, "en": c.label_en} for k, c in sc.settings.classes.items()}
    for m in metric_names(sc):
        per_class = any(m.startswith(p) and m[len(p):] in class_labels for p in L.CLASS_METRICS)
        assert m in L.METRICS or per_class, m
        assert L.metric_label(m, "en", class_labels) != m
    assert L.metric_label("coverage_street", "en", class_labels) == "coverage, street-visible (%)"
    assert L.metric_scale("on_time_disposal_rate") == (100.0, "pct")
    assert L.metric_scale("violations_per_year") == (1.0, "count")
    assert L.metric_label("violations_per_year", "zh") == "违法事件（件/年）"


def test_report_shows_the_validation_and_patrol_tables(small_runs, tmp_path):
    from enforcement_grid.report import write_report

    written = write_report(small_runs["after"], tmp_path / "rep", "en", embed_font=False)
    page = written["html"].read_text(encoding="utf-8")
    assert 'id="validation"' in page and "reports closed on time, from the report (%)" in page
    assert 'id="patrol-plan"' in page
    from openpyxl import load_workbook

    wb = load_workbook(written["excel"], read_only=True)
    assert {"validation", "patrol plan"} <= set(wb.sheetnames)

"""Each reform mechanism shows its effect in the direction theory or the article says (issue 4),
measured over replications on common random numbers, and exact where a formula exists."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import factory
from intervals import paired_t_interval, t_interval
from enforcement_grid.sim import ScenarioError, load_scenario
from enforcement_grid.experiments import run, run_replication

CERT = {"enabled": True, "first_sitting_day": 30.0, "sitting_interval_days": 60.0, "pass_prob": 0.5,
        "deadline_years": 3.0}
LIFECYCLE = {"enabled": True, "working_days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "day_start": "08:00",
             "day_end": "17:00", "filing_hours": 1.0, "investigation_hours": 8.0, "review_hours": 6.0,
             "decision_hours": 2.0, "review_min_severity": 1, "reviewers_per_law_post": 1.0,
             "default_decision_working_days": 5.0, "decision_working_days": {"rural land": 3.0}}


def county(runset, metric) -> pd.Series:
    m = runset.metrics
    return m[(m["scope"] == "county") & (m["metric"] == metric)].set_index("rep")["value"]


def paired_ci(a: pd.Series, b: pd.Series, level=0.99):
    """Paired t interval (default 99 %) of b − a over replications."""
    return paired_t_interval(a, b.reindex(a.index), level)


def scenario(tmp_path, name, edit):
    return load_scenario(factory.scenario(tmp_path / name, edit))


# ------------------------------------------------------------------ 1. certification (F4)

def test_exam_passes_follow_the_binomial_formula_and_teams_grow(tmp_path):
    """E[certified on day d] = C0 + U·(1 − (1 − p)^n(d)), n(d) sittings by day d; teams grow with it."""

    def edit(s, t):
        s["certification"] = dict(CERT)
        s["scenario"].update(horizon_days=200.0, warmup_days=0.0)
        for r in t["staffing"]:
            r["certified"] = r["officers"] // 4

    sc = scenario(tmp_path, "c", edit)
    runset = run(sc, 12, workers=2, keep_records=False)
    tl = runset.timeline
    c0 = sum(r.certified for r in sc.staffing)
    u = sum(r.officers - r.certified for r in sc.staffing)
    p = CERT["pass_prob"]
    for month in (0, 3, 6):
        day_mid = tl[(tl["month"] == month)]
        got = day_mid.groupby("rep")["certified"].sum()
        # average of the formula over the days of the month (day d is in month ⌊d / (365/12)⌋)
        days = np.arange(0, 400)
        days = days[(days / (365.0 / 12.0)).astype(int) == month]
        n = np.floor((days - CERT["first_sitting_day"]) / CERT["sitting_interval_days"]) + 1
        n = np.where(days >= CERT["first_sitting_day"], n, 0)
        expected = (c0 + u * (1 - (1 - p) ** n)).mean()
        if (n == 0).all():  # before the first sitting nothing is random: exact
            assert got.to_numpy() == pytest.approx(expected, abs=1e-9), (month, expected)
            continue
        lo, hi = t_interval(got, 0.999)  # 99.9 % t interval over the replications
        assert lo <= expected <= hi, (month, expected, lo, hi)
    teams = tl.groupby(["rep", "month"])["teams"].sum().unstack()
    assert (teams[6] > teams[0]).all()


def test_more_exam_sittings_give_more_certified_teams_sooner(tmp_path):
    def base(s, t, interval):
        s["certification"] = dict(CERT, sitting_interval_days=interval, pass_prob=0.7)
        s["scenario"].update(horizon_days=180.0, warmup_days=0.0)
        for r in t["staffing"]:
            r["certified"] = r["officers"] // 4

    often = run(scenario(tmp_path, "often", lambda s, t: base(s, t, 30.0)), 6, workers=2, keep_records=False)
    rare = run(scenario(tmp_path, "rare", lambda s, t: base(s, t, 120.0)), 6, workers=2, keep_records=False)
    lo, _ = paired_ci(county(rare, "certified_teams"), county(often, "certified_teams"))
    assert lo > 0


# ------------------------------------------------------------------ 2. transition posts and secondment (F3, F5)

def test_secondment_costs_teams_and_coverage(tmp_path):
    def share(x):
        def edit(s, t):
            s["officer_time"]["other_town_work_share"] = x
            s["scenario"].update(horizon_days=60.0)
        return edit

    kept = run(scenario(tmp_path, "rule", share(0.0)), 6, workers=2, keep_records=False)
    lost = run(scenario(tmp_path, "lost", share(0.5)), 6, workers=2, keep_records=False)
    _, hi = paired_ci(county(kept, "teams_on_duty"), county(lost, "teams_on_duty"))
    assert hi < 0
    _, hi = paired_ci(county(kept, "coverage"), county(lost, "coverage"))
    assert hi < 0


def test_transition_posts_give_the_town_less_time(tmp_path):
    def edit(x):
        def e(s, t):
            s["transition"] = {"sources": ["urban_management", "county_department"], "share_of_posts": x,
                               "available_share": 0.2}
            s["scenario"].update(horizon_days=30.0)
        return e

    full = run_replication(scenario(tmp_path, "a", edit(0.0)), 0, keep_records=False)
    part = run_replication(scenario(tmp_path, "b", edit(1.0)), 0, keep_records=False)
    assert part.units["on_duty_min"].sum() < full.units["on_duty_min"].sum()


# ------------------------------------------------------------------ 3. stock and growth of illegal building

GROWTH = {"enabled": True, "classes": ["building"], "area_per_day_m2": 10.0, "max_area_m2": 300.0,
          "stop_officer_hours": 3.0, "officer_hours_per_m2": 2.7, "max_team_hours_per_case": 16.0,
          "correctable_area_share": 0.25}


def test_late_found_buildings_cost_more_officer_hours(tmp_path):
    def edit(s, t):
        s["building_growth"] = dict(GROWTH)
        s["stock"] = {"violations": 40, "klass": "building", "max_age_days": 365.0}
        s["classes"]["building"].update(grid_notice_per_day=0.05, complaint_per_day=0.0)
        t["items"][1]["annual_rate"] = 150.0
        s["scenario"].update(horizon_days=120.0, warmup_days=0.0)

    rec = run_replication(scenario(tmp_path, "g", edit), 0).records
    b = rec[rec["klass"] == "building"].dropna(subset=["officer_hours"])
    age_days = (b["on_site_min"] - b["occurred_min"]) / 1440
    # exact: hours = stop (+ per m² × area unless put right on the spot), area = min(max, rate × age)
    area = np.minimum(300.0, 10.0 * age_days)
    assert np.allclose(b["area_m2"], area)
    filed = b["outcome"] != "corrected"
    assert np.allclose(b.loc[filed, "officer_hours"], 3.0 + 2.7 * area[filed])
    assert (b.loc[~filed, "officer_hours"] == 3.0).all()
    assert (b.loc[~filed, "area_m2"] <= 75.0 + 1e-9).all()  # past a quarter built it cannot be corrected
    late, early = b[age_days > 20]["officer_hours"], b[age_days < 3]["officer_hours"]
    assert len(late) > 5 and len(early) > 5 and late.mean() > 10 * early.mean()
    # the stock arose before the start and is counted, never lost
    stock = rec[rec["stock"]]
    assert len(stock) == 40 and (stock["occurred_min"] < 0).all()


# ------------------------------------------------------------------ 4. case lifecycle (F15)

def test_halving_legal_review_capacity_lengthens_closure(tmp_path):
    def edit(reviewers):
        def e(s, t):
            s["lifecycle"] = dict(LIFECYCLE, reviewers_per_law_post=reviewers)
            for c in s["classes"].values():
                c.update(corrected_share=0.2, case_share=0.8, escalated_share=0.0)
            t["items"][0]["annual_rate"] = 800.0
            s["scenario"].update(horizon_days=60.0)
            for r in t["staffing"]:
                if r["source"] == "law":
                    r["officers"] = r["certified"] = 4
            s["staffing"]["sources"]["law"] = 8
        return e

    full = run(scenario(tmp_path, "full", edit(1.0)), 6, workers=2)
    half = run(scenario(tmp_path, "half", edit(0.5)), 6, workers=2)
    lo, _ = paired_ci(county(full, "closure_time_min"), county(half, "closure_time_min"))
    assert lo > 0
    lo, _ = paired_ci(county(full, "legal_review_wait_min"), county(half, "legal_review_wait_min"))
    assert lo > 0
    rec = half.records
    cases = rec[rec["filed_min"].notna()]
    assert len(cases) > 50
    # the lifecycle is in the records, in order
    done = cases.dropna(subset=["review_start_min", "closed_min"])
    assert (done["review_start_min"] >= done["review_requested_min"]).all()
    assert (done["closed_min"] >= done["review_start_min"]).all()
    assert (cases["deadline_min"] > cases["filed_min"]).all()
    s = half.summary
    for m in ("closure_rate", "on_time_closure_rate", "past_limit_cases_per_year", "legal_review_wait_min"):
        assert m in set(s["metric"])


def test_working_calendar_stops_the_clock_outside_working_hours():
    from enforcement_grid.sim.calendar import WorkCalendar

    cal = WorkCalendar((0, 1, 2, 3, 4), 8 * 60, 17 * 60, holidays=(2,))
    friday_4pm = 4 * 1440 + 16 * 60
    assert cal.add(friday_4pm, 120) == 7 * 1440 + 9 * 60  # Friday 16:00 + 2 h = Monday 09:00
    tuesday_5pm = 1 * 1440 + 17 * 60
    assert cal.add(tuesday_5pm, 30) == 3 * 1440 + 8 * 60 + 30  # Wednesday is a holiday
    assert cal.add(0.0, 0) == 8 * 60


# ------------------------------------------------------------------ 5. transfer and notification

def test_transferred_cases_come_back_at_the_given_share(tmp_path):
    def edit(s, t):
        s["transfer"]["returned_share"] = 0.3
        t["items"][2]["annual_rate"] = 400.0
        s["classes"]["hidden"].update(grid_notice_per_day=1.0)
        s["scenario"].update(horizon_days=90.0)

    rec = run(scenario(tmp_path, "t", edit), 3, workers=2).records
    moved = rec[rec["transferred_min"].notna() & rec["closed_min"].notna()]
    n, k = len(moved), int(moved["returned"].sum())
    assert n > 100
    lo, hi = stats.binomtest(k, n).proportion_ci(0.999)
    assert lo <= 0.3 <= hi
    back = moved[moved["returned"]]
    assert (back["closed_min"] >= back["on_site_min"]).all()


# ------------------------------------------------------------------ 6. three networks in one (F10)

def test_merged_grid_finds_violations_sooner_than_separate_networks(tmp_path):
    def nets(kind):
        def e(s, t):
            s["grid"]["networks"] = kind
            s["grid"]["separate"] = {
                "urban": {"share": 0.4, "categories": ["urban management"]},
                "governance": {"share": 0.6, "categories": ["rural land", "fire"]},
            }
            s["scenario"].update(horizon_days=60.0)
        return e

    merged = run(scenario(tmp_path, "m", nets("merged")), 6, workers=2, keep_records=False)
    separate = run(scenario(tmp_path, "s", nets("separate")), 6, workers=2, keep_records=False)
    lo, _ = paired_ci(county(merged, "discovery_delay_min"), county(separate, "discovery_delay_min"))
    assert lo > 0
    _, hi = paired_ci(county(merged, "found_by_grid_share"), county(separate, "found_by_grid_share"))
    assert hi < 0
    lo, _ = paired_ci(county(merged, "found_by_complaint_share"), county(separate, "found_by_complaint_share"))
    assert lo > 0


# ------------------------------------------------------------------ 7. campaigns (F11)

def test_a_campaign_clears_its_category_and_slows_response_elsewhere(tmp_path):
    def base(s, t):
        s["scenario"].update(horizon_days=60.0, warmup_days=0.0)
        s["classes"]["building"].update(grid_notice_per_day=0.01, complaint_per_day=0.0, patrol_detect_prob=0.1)
        t["items"][1]["annual_rate"] = 400.0
        t["items"][0]["annual_rate"] = 1500.0
        for r in t["staffing"]:  # 甲镇: about four teams on a day shift, so two away on campaign are felt
            r["certified"] = r["officers"] if r["brigade"] == "乙镇" else min(r["officers"], 4)

    def with_campaign(s, t):
        base(s, t)
        s["campaigns"] = [{"name": "c", "towns": ["甲镇"], "category": "rural land", "start_day": 28.0,
                           "days": 10.0, "teams_per_town": 2, "villages": ["甲村1"], "detect_prob": 0.95}]

    plain = run(scenario(tmp_path, "p", base), 6, workers=2)
    camp = run(scenario(tmp_path, "c", with_campaign), 6, workers=2)
    end = (28 + 10) * 1440

    def latent(runset):
        r = runset.records
        m = (r["village"] == "甲村1") & (r["category"] == "rural land") & (r["occurred_min"] <= end) \
            & ~(r["discovered_min"] <= end)
        return m.groupby(r["rep"]).sum().reindex(range(6), fill_value=0)

    lo, hi = paired_ci(latent(plain), latent(camp))
    assert hi < 0, (lo, hi)
    assert (camp.records["channel"] == "campaign").sum() > 0

    def response_elsewhere(runset):
        r = runset.records
        m = (r["town"] == "甲镇") & (r["village"] != "甲村1") & (r["reported_min"] >= 28 * 1440) \
            & (r["reported_min"] < end) & r["on_site_min"].notna()
        d = (r["on_site_min"] - r["reported_min"])[m]
        return d.groupby(r["rep"][m]).mean()

    lo, _ = paired_ci(response_elsewhere(plain), response_elsewhere(camp), level=0.95)
    assert lo > 0


# ------------------------------------------------------------------ 8. joint inspections (F12)

def test_joint_inspections_cut_visits_but_meet_the_obligations(tmp_path):
    def edit(joint):
        def e(s, t):
            s["inspection"].update(joint=joint, joint_share=0.6,
                                   obligations={"fire": 0.1, "land": 0.06, "urban": 0.04})
            s["scenario"].update(horizon_days=120.0, warmup_days=0.0)
        return e

    sep = run_replication(scenario(tmp_path, "s", edit(False)), 0, keep_records=False)
    joint = run_replication(scenario(tmp_path, "j", edit(True)), 0, keep_records=False)

    def v(r, metric):
        m = r.metrics
        return m[(m.scope == "county") & (m.metric == metric)]["value"].iloc[0]

    # separate 0.2 visits per business a year; joint 0.2 − 0.6 × (0.2 − 0.1) = 0.14
    assert v(sep, "inspections_per_business") == pytest.approx(0.2, rel=0.05)
    assert v(joint, "inspections_per_business") == pytest.approx(0.14, rel=0.05)
    assert v(sep, "inspections_done_share") == v(joint, "inspections_done_share") == 1.0


# ------------------------------------------------------------------ 9. before and after, phased

def test_phased_scenarios_run_on_the_same_violations():
    opts = ["scenario.horizon_days=30", "scenario.warmup_days=3"]
    results = {}
    for name in ("huian-before", "huian-phase1", "huian", "huian-full"):
        results[name] = run_replication(load_scenario(f"scenarios/{name}.toml", opts), 0)
    base = results["huian"].records[["violation", "item", "occurred_min"]]
    for name, r in results.items():
        pd.testing.assert_frame_equal(r.records[["violation", "item", "occurred_min"]], base)

    def v(name, metric):
        m = results[name].metrics
        return m[(m.scope == "county") & (m.metric == metric)]["value"].iloc[0]

    # fewer items delegated → more transfers to county departments
    assert v("huian-phase1", "transfer_share") > v("huian", "transfer_share")
    assert v("huian-before", "transfer_share") > v("huian-phase1", "transfer_share")


# ------------------------------------------------------------------ bad input in the new sections

@pytest.mark.parametrize("edit, phrase", [
    (lambda s, t: s.update(campaigns=[{"name": "c", "towns": ["无镇"], "category": "rural land", "start_day": 1.0,
                                        "days": 2.0, "teams_per_town": 1, "villages": "all", "detect_prob": 0.9}]),
     "campaigns[0] (c).towns: '无镇' is not a town"),
    (lambda s, t: s.update(campaigns=[{"name": "c", "towns": ["甲镇"], "category": "rural land", "start_day": 1.0,
                                        "days": 2.0, "teams_per_town": 1, "villages": "some", "detect_prob": 0.9}]),
     "villages: expected \"hot_spots\", \"all\""),
    (lambda s, t: s.update(lifecycle=dict(LIFECYCLE, day_start="18:00")), "day_end must be after day_start"),
    (lambda s, t: s["grid"].update(networks="separate", separate={"a": {"share": 0.5, "categories": []}}),
     "shares of grid workers must sum to 1"),
    (lambda s, t: s.update(stock={"violations": 5, "klass": "castle", "max_age_days": 10.0}),
     "stock.klass: 'castle' is not a class"),
    (lambda s, t: s["reform"].update(delegated_categories=["astrology"]),
     "reform.delegated_categories: 'astrology' is not a category"),
    (lambda s, t: s.update(certification=dict(CERT, pass_prob=1.5)), "certification.pass_prob"),
    (lambda s, t: s.update(transition={"sources": ["army"], "share_of_posts": 0.5, "available_share": 0.5}),
     "transition.sources"),
])
def test_bad_input_in_new_sections(tmp_path, edit, phrase):
    with pytest.raises(ScenarioError) as err:
        load_scenario(factory.scenario(tmp_path, edit))
    assert phrase in str(err.value) and "scenario.toml" in str(err.value)

"""Lever decomposition (experiments.levers): Shapley shares add up exactly, and the lever that matters is credited."""

from __future__ import annotations

import itertools
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enforcement_grid.experiments import Lever, decompose, lever_from_target, with_settings
from enforcement_grid.experiments.levers import TABLE_COLUMNS, combinations, differences, shapley
from enforcement_grid.sim import ScenarioError, load_scenario

import factory

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


# ---------------------------------------------------------------------------- Shapley arithmetic


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4).flatmap(lambda k: st.tuples(
    st.just(k), st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1 << k, max_size=1 << k))))
def test_shapley_shares_sum_exactly_to_the_total(game):
    """Exact (rational) arithmetic on the float values: Σ shares == v(all) − v(none), to the last bit."""
    k, floats = game
    values = [Fraction(x) for x in floats]
    shares = shapley(values, k, exact=True)
    assert sum(shares) == values[-1] - values[0]
    approx = shapley(floats, k)  # the float version used for the tables: equal to rounding
    assert sum(approx) == pytest.approx(floats[-1] - floats[0], rel=1e-12, abs=1e-6)


def test_shapley_of_an_additive_game_is_each_players_own_effect():
    own = [Fraction(3), Fraction(-5), Fraction(7, 2)]
    values = [sum(own[i] for i in range(3) if m >> i & 1) for m in range(8)]
    assert shapley(values, 3, exact=True) == own


def test_shapley_splits_a_pure_interaction_equally():
    """v = 1 only when both levers move: each gets a half, although each alone does nothing."""
    assert shapley([Fraction(0), Fraction(0), Fraction(0), Fraction(1)], 2, exact=True) == [Fraction(1, 2)] * 2


def test_shapley_works_per_replication_on_arrays():
    rng = np.random.default_rng(3)
    cols = [rng.normal(size=5) for _ in range(8)]
    shares = shapley(cols, 3)
    assert np.allclose(sum(shares), cols[7] - cols[0], rtol=0, atol=1e-12)
    for r in range(5):  # the same as the scalar game of each replication, exactly
        exact = shapley([Fraction(float(c[r])) for c in cols], 3, exact=True)
        assert [float(x) for x in exact] == pytest.approx([float(s[r]) for s in shares], rel=1e-12)


# ---------------------------------------------------------------------------- a tiny county: one lever matters


def _tiny(tmp_path, delay_min: float):
    def edit(s, t):
        s["scenario"].update(horizon_days=30.0, warmup_days=2.0, replications=4)
        s["grid"]["report_delay_mean_min"] = delay_min

    return load_scenario(factory.scenario(tmp_path / f"d{delay_min:g}", edit))


@pytest.fixture(scope="module")
def tiny_decomposition(tmp_path_factory):
    """Base: grid reports take two days on average; target: one hour, and another optimiser coverage target.

    Lever ``report_delay`` moves the delay (street cases have a 24-hour target:
    it must matter); lever ``planning_target`` moves ``optimize.coverage_target``,
    which only the optimiser reads, so the runs are identical with or without it.
    """
    tmp = tmp_path_factory.mktemp("levers")
    base = _tiny(tmp, 2880.0)
    target = with_settings(_tiny(tmp, 60.0), {"optimize.coverage_target": 0.9})
    levers = [
        Lever("report_delay", {"grid.report_delay_mean_min": 60.0}, label="grid report delay"),
        Lever("planning_target", {"optimize.coverage_target": 0.9}),
    ]
    return decompose(base, target, levers, workers=1, keep_records=False)


def test_table_is_tidy_and_complete(tiny_decomposition):
    t = tiny_decomposition.table
    assert list(t.columns) == TABLE_COLUMNS
    county = t[(t["scope"] == "county") & (t["metric"] == "coverage")]
    got = set(zip(county["lever"], county["method"]))
    assert got == {("total", "total")} | {(lv, m) for lv in ("report_delay", "planning_target")
                                          for m in ("shapley", "add_to_base", "drop_from_target")}
    assert set(t["scope"]) == {"county", "甲镇", "乙镇"}
    assert (county["n"] == 4).all()
    assert set(tiny_decomposition.runs) == {0, 1, 2, 3}


def test_the_lever_that_matters_is_credited_and_the_other_gets_exactly_nothing(tiny_decomposition):
    t = tiny_decomposition.table
    cov = t[(t["scope"] == "county") & (t["metric"] == "coverage")].set_index(["lever", "method"])
    for method in ("shapley", "add_to_base", "drop_from_target"):
        a = cov.loc[("report_delay", method)]
        assert a["ci_low"] > 0, (method, a.to_dict())  # faster reports: more acted on in time, CI excludes 0
        b = cov.loc[("planning_target", method)]
        assert b["effect"] == 0.0 and b["ci_low"] == 0.0 and b["ci_high"] == 0.0
    # the optimiser's target leaves every replication of every measure unchanged
    per = tiny_decomposition.per_rep
    inert = per[per["lever"] == "planning_target"]["effect"].dropna()
    assert len(inert) > 0 and (inert == 0.0).all()
    # with one inert lever the Shapley share of the other is the whole total, exactly
    assert cov.loc[("report_delay", "shapley"), "effect"] == cov.loc[("total", "total"), "effect"]


def test_shares_sum_to_the_total_in_every_replication(tiny_decomposition):
    per = tiny_decomposition.per_rep
    shares = per[per["method"] == "shapley"].groupby(["scope", "metric", "rep"])["effect"].sum(min_count=1)
    total = per[per["method"] == "total"].set_index(["scope", "metric", "rep"])["effect"]
    both = total.notna()
    assert both.sum() > 100
    np.testing.assert_allclose(shares[both.index[both]], total[both], rtol=0, atol=1e-9)


def test_total_is_target_minus_base_of_the_runs(tiny_decomposition):
    d = tiny_decomposition
    m = lambda rs: rs.summary.set_index(["scope", "metric"]).loc[("county", "coverage"), "mean"]  # noqa: E731
    total = d.effects("coverage", method="total").iloc[0]["effect"]
    assert total == pytest.approx(m(d.target) - m(d.base), abs=1e-12)
    levels = d.levels()
    assert set(levels["moved"]) == {"none", "report_delay", "planning_target", "report_delay+planning_target"}


def test_csv_written_whole(tiny_decomposition, tmp_path):
    import pandas as pd

    path = tiny_decomposition.write(tmp_path / "levers.csv")
    back = pd.read_csv(path)
    assert list(back.columns) == TABLE_COLUMNS and len(back) == len(tiny_decomposition.table)


# ---------------------------------------------------------------------------- refusals


def test_a_difference_no_lever_moves_is_refused(tmp_path):
    base = _tiny(tmp_path, 2880.0)
    target = with_settings(_tiny(tmp_path, 60.0), {"command_centre.triage_mean_min": 5.0})
    with pytest.raises(ScenarioError, match="command_centre.triage_mean_min: differs"):
        decompose(base, target, [Lever("report_delay", {"grid.report_delay_mean_min": 60.0})], workers=1)


def test_bad_levers_are_refused(tmp_path):
    sc = _tiny(tmp_path, 60.0)
    with pytest.raises(ValueError, match="1 to 4 levers"):
        decompose(sc, sc, [Lever(f"l{i}", {"grid.report_delay_mean_min": 60.0}) for i in range(5)])
    with pytest.raises(ValueError, match="letters, digits"):
        Lever("report delay", {"grid.report_delay_mean_min": 60.0})
    with pytest.raises(ScenarioError, match="lever bad: grid.report_delay_mean_min"):
        Lever("bad", {"grid.report_delay_mean_min": -1.0}).move(sc)


# ---------------------------------------------------------------------------- the reform's four lever groups


def test_reform_levers_reach_after_from_before():
    """huian-before and huian differ only in the four lever groups of the story, and every combination validates."""
    sys.path.insert(0, str(SCENARIOS))
    try:
        import story
    finally:
        sys.path.remove(str(SCENARIOS))
    before = load_scenario(SCENARIOS / "huian-before.toml")
    after = load_scenario(SCENARIOS / "huian.toml")
    levers = story.reform_levers(after)
    assert [lv.name for lv in levers] == ["reporting_chain", "merged_grid", "town_brigades", "weekly_patrols"]
    combos = combinations(before, levers)
    assert len(combos) == 16
    assert differences(combos[15], after) == []
    # each lever alone changes only its own settings
    owned = {
        0: {"grid.report_delay_mean_min", "grid.report_delay_by_town_min", "command_centre.triage_mean_min"},
        1: {"grid.networks"},
        3: {"patrol", "inspection"},
    }
    for i, keys in owned.items():
        for d in differences(before, combos[1 << i]):
            assert any(d == k or d.startswith(k + ".") for k in keys), (levers[i].name, d)
    assert "reform.mode" in differences(before, combos[4])
    assert list(itertools.chain(*[differences(combos[1 << i], combos[1 << i]) for i in range(4)])) == []


def test_lever_from_target_copies_tables(tmp_path):
    before = load_scenario(SCENARIOS / "huian-before.toml")
    after = load_scenario(SCENARIOS / "huian.toml")
    lever = lever_from_target("brigades", after, ["reform", "staffing", "certification", "transition"], ["staffing"])
    moved = lever.move(before)
    assert moved.settings.reform.mode == "after" and moved.staffing == after.staffing
    assert len(moved.brigades) == 12
    with pytest.raises(ValueError, match="unknown table"):
        lever_from_target("x", after, tables=["nope"])


# ---------------------------------------------------------------------------- a town's own report delay (before mode)


def test_a_towns_own_report_delay_applies_in_that_town_only(tmp_path):
    from enforcement_grid.experiments import run

    sc = _tiny(tmp_path, 60.0)
    slow = with_settings(sc, {"grid.report_delay_by_town_min": {"甲镇": 2880.0}})
    a = run(sc, replications=2, workers=1, keep_records=False).summary.set_index(["scope", "metric"])["mean"]
    b = run(slow, replications=2, workers=1, keep_records=False).summary.set_index(["scope", "metric"])["mean"]
    assert b[("甲镇", "coverage_street")] < a[("甲镇", "coverage_street")] - 0.1  # fixed seed; drop measured 0.15
    assert b[("乙镇", "coverage_street")] == a[("乙镇", "coverage_street")]  # its own brigade, its own reports


def test_a_report_delay_for_an_unknown_town_is_refused(tmp_path):
    sc = _tiny(tmp_path, 60.0)
    with pytest.raises(ScenarioError, match="grid.report_delay_by_town_min: '丙镇' is not a town"):
        with_settings(sc, {"grid.report_delay_by_town_min": {"丙镇": 60.0}})

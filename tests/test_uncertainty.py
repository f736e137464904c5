"""egrid uncertainty: ranges validated, designs mapped exactly, indices and history matching on known answers.

The known case is the M/M/c reduction (tests/factory.py ``mmc``): the mean wait
depends on the arrival rate (``items.annual_rate``, scaled as a whole) and not at
all on the grid's ``residents_per_grid`` (discovery is practically immediate
whatever the grid coverage) nor on the complaint relay delay (there are no
complaints).  Every study here is seeded, so the numbers are fixed; the
tolerances that remain are stated where they are used.
"""

from __future__ import annotations

import math
import shutil
import tomllib

import numpy as np
import pandas as pd
import pytest
import tomli_w

import factory
from enforcement_grid.cli.cli import main
from enforcement_grid.sim import load_scenario
from enforcement_grid.sim.errors import ScenarioError
from enforcement_grid.experiments.executors import ProcessExecutor, SerialExecutor
from enforcement_grid.uncertainty import design
from enforcement_grid.uncertainty.decisions import pairs, regret
from enforcement_grid.uncertainty.history import read_observed
from enforcement_grid.uncertainty.ranges import Range, apply, read_ranges
from enforcement_grid.uncertainty.report import analyse
from enforcement_grid.uncertainty.runner import StudyFolder, build_study, run_study

DRIVER = {"scale_low": 0.5, "scale_high": 1.4, "dist": "uniform", "why": "test: the arrival rate drives the wait"}
IRRELEVANT = {"low": 500.0, "high": 2000.0, "dist": "uniform", "why": "test: discovery is immediate anyway"}
NO_COMPLAINTS = {"low": 10.0, "high": 500.0, "dist": "triangular", "why": "test: there are no complaints"}


def _with(path, uncertainty=None, observed=None):
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    if uncertainty is not None:
        raw["uncertainty"] = uncertainty
    if observed is not None:
        raw["observed"] = observed
    path.write_text(tomli_w.dumps(raw), encoding="utf-8")
    return path


def _mmc(tmp_path, **kw):
    path = factory.mmc(tmp_path / "mmc", 4.0, 30.0, 3, days=12.0, replications=2)
    return _with(path, {"items.annual_rate": DRIVER, "grid.residents_per_grid": IRRELEVANT,
                        "complaint.relay_delay_mean_min": NO_COMPLAINTS}, **kw)


def _problems(path) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        read_ranges(load_scenario(path))
    return err.value.problems


# --------------------------------------------------------------------------- ranges


@pytest.mark.parametrize("entry, expected", [
    ({"grid.report_delay_minutes": {"low": 1.0, "high": 2.0, "dist": "uniform", "why": "x"}}, "unknown path"),
    ({"grid.report_delay_mean_min": {"low": 90.0, "high": 30.0, "dist": "uniform", "why": "x"}},
     "low (90) must be below high (30)"),
    ({"grid.report_delay_mean_min": {"low": 90.0, "high": 120.0, "dist": "uniform", "why": "x"}},
     "value 60 is outside the range 90–120"),
    ({"grid.report_delay_mean_min": {"low": 30.0, "high": 120.0, "dist": "uniform"}}, "missing why"),
    ({"grid.report_delay_mean_min": {"low": 30.0, "high": 120.0, "dist": "normal", "why": "x"}},
     "dist: expected one of uniform, triangular, loguniform"),
    ({"grid.report_delay_mean_min": {"low": 0.0, "high": 120.0, "dist": "loguniform", "why": "x"}},
     "loguniform range needs low > 0"),
    ({"grid.networks": {"low": 0.0, "high": 1.0, "dist": "uniform", "why": "x"}}, "not a number"),
    ({"officer_time.desk_share": {"low": 0.2, "high": 1.2, "dist": "uniform", "why": "x"}},
     "uncertainty.\"officer_time.desk_share\".high: the scenario refuses this end"),
    ({"items.name_en": {"scale_low": 0.5, "scale_high": 2.0, "dist": "uniform", "why": "x"}},
     "'name_en' is not a numeric column of the items table"),
    ({"items[class=garden].annual_rate": {"scale_low": 0.5, "scale_high": 2.0, "dist": "uniform", "why": "x"}},
     "no row of the items table has class = 'garden'"),
    ({"items.annual_rate": {"scale_low": 1.2, "scale_high": 2.0, "dist": "uniform", "why": "x"}}, "must include 1"),
    ({"items.annual_rate": {"scale_low": 0.5, "high": 2.0, "dist": "uniform", "why": "x"}}, "unknown field(s) high"),
    ({"shift_patterns.day.shifts[name=night].staff_share": {"low": 0.5, "high": 1.0, "dist": "uniform", "why": "x"}},
     "no element of 'shifts' has name = 'night'"),
    ({"shift_patterns.day[name=day].staff_share": {"low": 0.5, "high": 1.0, "dist": "uniform", "why": "x"}},
     "'day' is not a list"),
    ({"shift_patterns.day.shifts[name=day.staff_share": {"low": 0.5, "high": 1.0, "dist": "uniform", "why": "x"}},
     "is not a settings path"),
    ({"shift_patterns.day.shifts[name=day]": {"low": 0.5, "high": 1.0, "dist": "uniform", "why": "x"}},
     "not a number"),
    ({"shift_patterns.day.shifts[name=day].staff_share": {"low": 0.5, "high": 1.0, "dist": "uniform", "why": "x"}},
     "uncertainty.\"shift_patterns.day.shifts[name=day].staff_share\".low: the scenario refuses this end"),
])
def test_bad_ranges_name_the_file_and_field(tmp_path, entry, expected):
    path = _with(factory.scenario(tmp_path), entry)
    problems = _problems(path)
    assert len(problems) == 1 and problems[0].startswith(f"{path}: uncertainty."), problems
    assert expected in problems[0], problems


def test_bad_observed_figures_are_named(tmp_path):
    path = _with(factory.scenario(tmp_path), observed={
        "cases_a_year": {"value": 1.0, "tolerance": 1.0, "why": "x"},
        "on_time_closure_rate": {"value": 1.5, "tolerance": 0.1, "why": "x"},
        "cases_per_year": {"value": 100.0, "tolerance": 0.0, "why": "x"},
    })
    with pytest.raises(ScenarioError) as err:
        read_observed(load_scenario(path))
    text = "\n".join(err.value.problems)
    assert f"{path}: observed.cases_a_year: unknown figure" in text
    assert "observed.on_time_closure_rate.value: expected a share between 0 and 1" in text
    assert "observed.cases_per_year.tolerance: expected a number > 0" in text


def test_a_bad_range_is_exit_status_2_without_traceback(tmp_path, capsys):
    path = _with(factory.scenario(tmp_path / "sc"),
                 {"grid.report_delay_mean_min": {"low": 90.0, "high": 30.0, "dist": "uniform", "why": "x"}})
    assert main(["uncertainty", str(path), "--out", str(tmp_path / "u"), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err and "uncertainty.\"grid.report_delay_mean_min\"" in err
    assert not (tmp_path / "u").exists()


def test_quantiles_map_to_values_exactly():
    u = Range("x", "setting", 10.0, 40.0, "uniform", "w", 20.0)
    assert [u.at(q) for q in (0, 0.5, 1)] == [10.0, 25.0, 40.0]
    t = Range("x", "setting", 10.0, 40.0, "triangular", "w", 20.0)
    assert t.at(0) == 10.0 and t.at(1) == 40.0
    assert t.at(1 / 3) == pytest.approx(20.0)  # the mode is at the CDF value (mode − low) / (high − low)
    g = Range("x", "setting", 0.5, 2.0, "loguniform", "w", 1.0)
    assert g.at(0.5) == pytest.approx(1.0) and g.at(0) == 0.5 and g.at(1) == 2.0
    n = Range("x", "setting", 2.0, 5.0, "uniform", "w", 3.0, integer=True)
    assert [n.at(q) for q in (0, 1 / 3, 0.5, 2 / 3, 1)] == [2, 3, 4, 4, 5]  # 3.5 rounds half up


def test_a_draw_sets_settings_and_scales_rows(tmp_path):
    path = _with(factory.scenario(tmp_path), {
        "patrol.max_visits_per_week": {"low": 2.0, "high": 5.0, "dist": "uniform", "why": "x"},
        "items[class=street].annual_rate": {"scale_low": 0.5, "scale_high": 2.0, "dist": "uniform", "why": "x"},
    })
    sc = load_scenario(path)
    ranges = read_ranges(sc)
    out = apply(sc, {"patrol.max_visits_per_week": ranges[0].at(1.0), "items[class=street].annual_rate": 2.0},
                ranges)
    assert out.settings.patrol.max_visits_per_week == 5 and isinstance(out.settings.patrol.max_visits_per_week, int)
    before = {i.code: i.annual_rate for i in sc.items}
    for i in out.items:
        assert i.annual_rate == (2.0 * before[i.code] if i.klass == "street" else before[i.code])
    assert sc.settings.patrol.max_visits_per_week == 3  # the scenario itself is unchanged


def test_a_draw_reaches_one_shift_of_a_shift_pattern(tmp_path):
    duty = {"shifts": [factory.DAY, {"name": "weekend_duty", "start": "09:00", "end": "17:00", "days": ["Sat", "Sun"],
                                     "staff_share": 0.3}]}
    key = "shift_patterns.duty.shifts[name=weekend_duty].staff_share"
    path = _with(factory.scenario(tmp_path, lambda s, t: s["shift_patterns"].update(duty=duty)),
                 {key: {"low": 0.2, "high": 0.5, "dist": "uniform", "why": "x"}})
    sc = load_scenario(path)
    (r,) = read_ranges(sc)
    assert r.value == 0.3 and not r.integer
    out = apply(sc, {key: r.at(1.0)}, [r])
    assert [x.staff_share for x in out.settings.shift_patterns["duty"].shifts] == [1.0, 0.5]
    assert [x.staff_share for x in sc.settings.shift_patterns["duty"].shifts] == [1.0, 0.3]  # unchanged
    assert out.settings.shift_patterns["day"] == sc.settings.shift_patterns["day"]


def _leaves(node, prefix=()):
    """Every leaf of a settings dump, keyed by its path (list elements by index)."""
    if isinstance(node, dict):
        return {k: v for key, child in node.items() for k, v in _leaves(child, (*prefix, key)).items()}
    if isinstance(node, list) and any(isinstance(x, (dict, list)) for x in node):
        return {k: v for i, child in enumerate(node) for k, v in _leaves(child, (*prefix, i)).items()}
    return {prefix: node}


SCENARIOS = ["huian.toml", "hexi.toml", "huian-before.toml", "huian-stress.toml", "huian-full.toml",
             "huian-no-secondment.toml"]


@pytest.mark.parametrize("file", SCENARIOS)
def test_every_range_of_the_scenario_moves_one_setting_from_its_own_value(file):
    """Each setting range resolves to exactly one setting, which holds the scenario's value, inside
    [low, high]; moving it to either end changes that setting only (checked on the settings dump,
    not through the range's own resolver)."""
    from conftest import ROOT

    sc = load_scenario(ROOT / "scenarios" / file)
    ranges = read_ranges(sc)
    if file == "hexi.toml":
        assert ranges == []  # no [uncertainty] table (and none of the duty, stock-rate or targeting settings)
        return
    leaves = _leaves(sc.settings.model_dump())
    for r in ranges:
        if r.kind != "setting":
            assert r.low <= 1.0 <= r.high, r.key
            continue
        assert r.low <= r.value <= r.high, r.key
        for end in (r.low, r.high):
            moved = _leaves(apply(sc, {r.key: r.at(0.0 if end == r.low else 1.0)}, [r]).settings.model_dump())
            changed = {k: (leaves[k], moved[k]) for k in leaves if moved[k] != leaves[k]}
            if end == r.value:  # a range that ends at the scenario's value (e.g. every case re-inspected)
                assert changed == {}, r.key
                continue
            assert len(changed) == 1, (r.key, changed)
            ((old, new),) = changed.values()
            assert old == r.value and new == pytest.approx(end), r.key


def test_the_realism_estimates_have_ranges():
    from conftest import ROOT

    keys = {r.key for r in read_ranges(load_scenario(ROOT / "scenarios" / "huian.toml"))}
    for needed in ("on_call.callout_delay_min", "on_call.min_severity",
                   "shift_patterns.day_duty.shifts[name=weekend_duty].staff_share",
                   "stock.grid_notice_factor", "stock.complaint_factor", "stock.patrol_detection_factor",
                   "inspection.targeted_share", "inspection.high_risk_business_share", "inspection.high_risk_rate_factor",
                   "reinspection.corrected_share", "reinspection.case_share", "reinspection.delay_days",
                   "reinspection.visit_min"):
        assert needed in keys, needed


# --------------------------------------------------------------------------- a known answer


@pytest.fixture(scope="module")
def mmc_study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mmc")
    study = build_study(_mmc(tmp), samples=6, replications=1, nominal_replications=2)
    report = run_study(study, tmp / "out", SerialExecutor())
    return study, tmp / "out", report


def test_indices_rank_the_arrival_rate_first_and_the_grid_at_zero(mmc_study):
    """Mean wait of the M/M/c queue against its inputs: the arrival rate first; the irrelevant inputs'
    mean effect μ has a 95 % t interval over the 6 trajectories that includes 0."""
    study, out, _ = mmc_study
    res = StudyFolder(out).results(study)
    y = res[(res["metric"] == "response_time_min") & (res["draw"] > 0)].groupby("draw")["value"].mean()
    idx = design.indices("morris", study.names, study.design, y.to_numpy(), study.seed)
    main_idx = idx[idx["index"] == "mu_star"]
    assert main_idx["input"].iloc[0] == "items.annual_rate"
    assert main_idx["ci_low"].iloc[0] > 0  # the driver's effect is clearly there
    for name in ("grid.residents_per_grid", "complaint.relay_delay_mean_min"):
        for index in ("mu", "mu_star"):
            r = idx[(idx["input"] == name) & (idx["index"] == index)].iloc[0]
            assert r["ci_low"] <= 0.0 <= r["ci_high"], (name, index, r.to_dict())


def test_the_study_folder_resumes_a_lost_draw_only(mmc_study, tmp_path):
    study, out, first = mmc_study
    assert first.ran == study.draws and not first.failures
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    before = StudyFolder(copy).results(study)
    StudyFolder(copy).draw_file(3).unlink()
    again = run_study(study, copy, SerialExecutor())
    assert (again.action, again.reused, again.ran) == ("resume", study.draws - 1, 1)
    pd.testing.assert_frame_equal(StudyFolder(copy).results(study), before)  # common random numbers: identical


def test_a_folder_of_another_study_is_refused(mmc_study, tmp_path):
    study, out, _ = mmc_study
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    other = build_study(_mmc(tmp_path / "sc"), samples=4, replications=1, nominal_replications=2)
    with pytest.raises(ScenarioError, match="holds a different study .*samples"):
        run_study(other, copy, SerialExecutor())


def test_the_same_numbers_on_two_processes(mmc_study, tmp_path):
    study, out, _ = mmc_study
    small = build_study(_mmc(tmp_path / "sc"), samples=1, replications=1, nominal_replications=1)
    with ProcessExecutor(2) as ex:
        run_study(small, tmp_path / "par", ex)
    run_study(small, tmp_path / "ser", SerialExecutor())
    pd.testing.assert_frame_equal(StudyFolder(tmp_path / "par").results(small),
                                  StudyFolder(tmp_path / "ser").results(small))


def test_history_matching_keeps_the_true_arrival_rate(tmp_path):
    """Observed cases a year = the true rate (scale 1); tolerance ±30 %.  The design's scale levels are
    0.5, 0.8, 1.1 and 1.4 (uniform 0.5–1.4 at quantiles 0, ⅓, ⅔, 1); a 12-day window holds about
    960 × scale arrivals, so the count's noise is about 3 % (one sd): 0.8 and 1.1 are kept, 0.5 and 1.4
    (50 % and 40 % away, more than 3 sd beyond the tolerance) are ruled out."""
    per_year = 4.0 * 24 * 365
    path = _mmc(tmp_path, observed={"cases_per_year": {"value": per_year, "tolerance": 0.3 * per_year,
                                                        "why": "test: the true rate"}})
    study = build_study(path, samples=6, replications=1, nominal_replications=2)
    run_study(study, tmp_path / "out", SerialExecutor())
    tables = analyse(study, tmp_path / "out", charts=False)
    n = tables["narrowing"].set_index("input").loc["items.annual_rate"]
    assert n["kept_low"] <= 1.0 <= n["kept_high"]
    assert n["kept_low"] == pytest.approx(0.8) and n["kept_high"] == pytest.approx(1.1)
    assert n["share_of_range_left"] < 1.0 and 0 < n["draws_kept"] < n["draws"]
    # the irrelevant input keeps its whole range
    assert tables["narrowing"].set_index("input").loc["grid.residents_per_grid", "share_of_range_left"] == 1.0


@pytest.mark.parametrize("method, main, samples", [("morris", "mu_star", 10), ("sobol", "ST", 256)])
def test_indices_of_a_known_function(method, main, samples):
    """y = 3 u₀ + u₁² with u₂ unused: u₀ first, u₂ exactly 0 (no noise: the intervals are SALib's bootstrap)."""
    names = ["a", "b", "unused"]
    X = design.sample(method, names, samples, seed=3)
    y = 3 * X[:, 0] + X[:, 1] ** 2
    idx = design.indices(method, names, X, y, seed=3)
    ranked = idx[idx["index"] == main]["input"].tolist()
    assert ranked[:2] == ["a", "b"]
    unused = idx[idx["input"] == "unused"]
    assert (unused["ci_low"].fillna(0) <= 1e-12).all() and (unused["ci_high"].fillna(0) >= -1e-12).all()
    if method == "sobol":  # additive, so ST = S1 = each term's share of the variance: inside the 95 % CI
        var_a, var_b = 9 / 12, 4 / 45  # Var(3u) and Var(u²) for u ~ U(0, 1)
        st = idx[idx["index"] == "ST"].set_index("input")
        for name, v in (("a", var_a), ("b", var_b)):
            assert st.loc[name, "ci_low"] <= v / (var_a + var_b) <= st.loc[name, "ci_high"], name


# --------------------------------------------------------------------------- decisions


def test_pairs_and_regret_on_a_known_table():
    cov = pd.DataFrame({"current": [0.5, 0.6, 0.7, 0.4], "plan": [0.55, 0.58, 0.75, 0.5]}, index=[1, 2, 3, 4])
    p = pairs(cov).set_index(["plan", "alternative"])
    assert p.loc[("plan", "current"), "share_better"] == 0.75
    assert p.loc[("plan", "current"), "gain_worst"] == pytest.approx(-0.02)
    assert p.loc[("current", "plan"), "share_better"] == 0.25
    r = regret(cov).set_index("alternative")
    assert r.loc["plan", "regret_worst"] == pytest.approx(0.02) and r.loc["current", "regret_worst"] == pytest.approx(0.1)
    assert r.loc["plan", "share_best"] == 0.75


# --------------------------------------------------------------------------- the command


def test_the_command_writes_indices_intervals_decisions_and_charts(tmp_path, capsys):
    ranges = {
        "officer_time.other_town_work_share": {"low": 0.0, "high": 0.4, "dist": "uniform", "why": "test"},
        "items.on_site_mean_min": {"scale_low": 0.7, "scale_high": 1.5, "dist": "uniform", "why": "test"},
        "classes.street.grid_notice_per_day": {"low": 0.5, "high": 2.0, "dist": "loguniform", "why": "test"},
    }
    path = _with(factory.scenario(tmp_path / "sc"), ranges)
    before = tmp_path / "sc" / "slow.toml"
    before.write_text('extends = "scenario.toml"\n[scenario]\nname = "slow"\n[grid]\nreport_delay_mean_min = 600.0\n'
                      '[uncertainty]\n"grid.report_delay_mean_min" = { low = 120.0, high = 1200.0, '
                      'dist = "uniform", why = "test" }\n', encoding="utf-8")
    plan = tmp_path / "plan-a"
    plan.mkdir()
    (plan / "scenario.toml").write_text('extends = "../sc/scenario.toml"\n[scenario]\nname = "plan-a"\n'
                                        '[officer_time]\ndesk_share = 0.2\n', encoding="utf-8")
    out = tmp_path / "u"
    argv = ["uncertainty", str(path), "--before", str(before), "--plan", str(plan), "--samples", "2",
            "--days", "10", "-n", "1", "--out", str(out), "--workers", "1"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "What holds across the ranges" in printed
    idx = pd.read_csv(out / "indices.csv")
    assert list(idx.columns) == ["headline", "input", "method", "index", "value", "ci_low", "ci_high"]
    assert {"coverage", "effect:coverage", "gain:current-vs-plan-a"} <= set(idx["headline"])
    # the before variant's own range is an input of its own, used by the effect only
    assert "before:grid.report_delay_mean_min" in set(idx["input"])
    iv = pd.read_csv(out / "intervals.csv")
    assert {"noise", "noise+input"} <= set(iv["kind"]) and iv["label_en"].str.contains("noise").all()
    dec = pd.read_csv(out / "decisions.csv")
    assert {("plan-a", "current"), ("current", "plan-a")} <= set(zip(dec["plan"], dec["alternative"]))
    assert (out / "charts" / "tornado-coverage.png").exists()
    zh = (out / "conclusion_zh.md").read_text(encoding="utf-8")
    assert "在参数范围内" in zh
    # run again: everything is resumed, nothing rerun, the same tables
    assert main(argv) == 0
    assert "Ran 0 draw(s)" in capsys.readouterr().out
    assert pd.read_csv(out / "indices.csv").equals(idx)


def test_the_huian_ranges_are_valid_and_cover_the_named_estimates():
    from conftest import ROOT

    sc = load_scenario(ROOT / "scenarios" / "huian.toml")
    keys = {r.key for r in read_ranges(sc)}
    for needed in ("grid.report_delay_mean_min", "command_centre.triage_mean_min", "officer_time.desk_share",
                   "officer_time.other_town_work_share", "patrol.max_visits_per_week", "patrol.visit_base_min",
                   "items.on_site_mean_min", "stock.violations", "classes.street.grid_notice_per_day",
                   "classes.building.complaint_per_day", "classes.building.patrol_detect_prob",
                   "items[class=building].annual_rate", "classes.hidden.inspection_detect_prob"):
        assert needed in keys, needed
    assert all(r.why.strip() for r in read_ranges(sc))
    assert read_observed(sc)
    before = load_scenario(ROOT / "scenarios" / "huian-before.toml")
    assert read_ranges(before)  # the before mode's own values lie inside its own ranges
    assert math.isfinite(sum(r.high for r in read_ranges(before)))
    assert np.all(design.sample("morris", sorted(keys), 2, 1) <= 1.0)

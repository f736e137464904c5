"""Duty out of hours and mutual aid: weekend duty rotas, on-call call-outs, neighbouring brigades.

An exact event log of an on-call call-out (the paths scenario of ``factory.paths``
with the brigade on a weekday day shift), and the direction of each change by the
paired 95 % t interval of per-replication differences (same seed: common random
numbers) on a four-week horizon.
"""

from __future__ import annotations


import csv
import tomllib

import pytest

import factory
from enforcement_grid.sim import load_scenario
from enforcement_grid.sim.errors import ScenarioError
from enforcement_grid.sim.model import Model
from enforcement_grid.sim.processes.violations import InjectedViolation
from enforcement_grid.sim.roster import expected_teams, presence_factor
from enforcement_grid.experiments.runner import run
from intervals import paired_t_interval

LEVEL = 0.95
VILLAGE, TOWN, CC = "甲村1", "甲镇", "command centre"
WEEKEND = {"name": "weekend_duty", "start": "09:00", "end": "17:00", "days": ["Sat", "Sun"], "staff_share": 0.5}
ON_CALL = {"enabled": True, "callout_delay_min": 30.0, "min_severity": 3, "classes": [], "teams": 1}


def _on_call_paths(tmp_path):
    """The paths scenario with the brigade on the weekday day shift, on call out of hours."""
    path = factory.paths(tmp_path, lifecycle=False)
    settings = tomllib.loads(path.read_text(encoding="utf-8"))
    settings["shift_patterns"]["day"] = {"shifts": [factory.DAY], "on_call": True}
    settings["on_call"] = dict(ON_CALL)
    towns = list(csv.DictReader(open(tmp_path / "towns.csv", encoding="utf-8")))
    towns[0]["shift_pattern"] = "day"
    tables = {k: list(csv.DictReader(open(tmp_path / f"{k}.csv", encoding="utf-8")))
              for k in ("villages", "items", "departments", "staffing")}
    tables["towns"] = towns
    return load_scenario(factory.write(tmp_path, settings, tables))


def _log(sc, *arrivals):
    trace: list[tuple] = []
    model = Model(sc, 0, arrivals=list(arrivals), trace=trace)
    model.run()
    return [(round(t, 6), who, what) for t, who, what in trace], model


def test_on_call_call_out_event_log(tmp_path):
    """A severity-3 building item arising Monday 20:00 (minute 1200) is reported at 21:40 (1300):
    no team on duty, so the on-call team is called out, leaves 30 minutes later, drives 10
    minutes and works 90 on site.  A street item (severity 1) at the same time waits for
    Tuesday 08:00 (minute 1920)."""
    sc = _on_call_paths(tmp_path)
    log, model = _log(sc, InjectedViolation(1200.0, VILLAGE, "B-1"))
    oc = f"{TOWN}/on-call/0"
    assert log == [
        (1200.0, VILLAGE, "v0 arises: B-1"),
        (1300.0, CC, "v0 reported by grid"),
        (1300.0, CC, f"v0 to {TOWN}"),
        (1300.0, TOWN, "v0 on-call team called out"),
        (1330.0, oc, "v0 dispatched (first)"),
        (1340.0, oc, "v0 on site (first)"),
        (1430.0, oc, "v0 corrected (first)"),
        (1430.0, TOWN, "v0 closed: corrected"),
    ]
    c = model.units[TOWN].counters
    assert c.call_outs == 1
    assert c.on_call_min == pytest.approx(10 + 90 + 10)  # out, on site, back: overtime, not on-duty time
    log, _ = _log(sc, InjectedViolation(1200.0, VILLAGE, "S-1"))
    assert (1300.0, CC, f"v0 to {TOWN}") in log
    assert (1920.0, f"{TOWN}/day/0", "v0 dispatched (first)") in log
    assert not any("on-call" in what for _, _, what in log)


def test_weekend_duty_spreads_the_same_officer_days(tmp_path):
    """Weekend duty at half a weekday's staff: presence = 230 duty days / (6 slot-days a week × 365/7)."""
    def edit(s, t):
        s["shift_patterns"]["duty"] = {"shifts": [factory.DAY, WEEKEND], "on_call": True}
        for town in t["towns"]:
            town["shift_pattern"] = "duty"
    sc = load_scenario(factory.scenario(tmp_path, edit))
    net = sc.settings.officer_time.net_duty_days
    assert presence_factor(sc, "duty") == pytest.approx(net / (6 * 365 / 7))
    teams = expected_teams(sc, TOWN)
    assert set(teams) == {"day", "weekend_duty"}


def test_shares_above_one_on_a_day_are_refused(tmp_path):
    def edit(s, t):
        s["shift_patterns"]["bad"] = {"shifts": [factory.DAY, dict(WEEKEND, days=["Fri", "Sat"])]}
    with pytest.raises(ScenarioError, match="staff_share"):
        load_scenario(factory.scenario(tmp_path, edit))


def _paired(tmp_path, edit_a, edit_b, scope, metric, days=28.0, reps=5):
    out = []
    for name, edit in (("a", edit_a), ("b", edit_b)):
        def full(s, t, edit=edit):
            s["scenario"].update(horizon_days=days, warmup_days=2.0, replications=reps, seed=17)
            edit(s, t)
        sc = load_scenario(factory.scenario(tmp_path / name, full))
        m = run(sc, workers=1, keep_records=False).metrics
        sel = m[(m.scope == scope) & (m.metric == metric)].sort_values("rep")
        out.append(sel["value"].to_numpy())
    return paired_t_interval(out[0], out[1], LEVEL)


def _duty(s, t):
    s["shift_patterns"]["duty"] = {"shifts": [factory.DAY, WEEKEND], "on_call": True}
    for town in t["towns"]:
        town["shift_pattern"] = "duty"


def test_weekend_duty_raises_saturday_coverage(tmp_path):
    lo, hi = _paired(tmp_path, lambda s, t: None, _duty, "county", "coverage_weekday_Sat")
    assert lo > 0, (lo, hi)


def test_on_call_raises_urgent_coverage(tmp_path):
    """On call for severity 3 (the building item, here with a 12-hour target and five times
    the rate, seen within the hour): items reported out of hours are met that night, so building coverage rises."""
    def urgent(s, t):
        _duty(s, t)
        s["classes"]["building"].update(target_hours=12.0, grid_notice_per_day=24.0)
        t["items"][1]["annual_rate"] *= 5

    def on(s, t):
        urgent(s, t)
        s["on_call"] = dict(ON_CALL)
    lo, hi = _paired(tmp_path, urgent, on, "county", "coverage_building")
    assert lo > 0, (lo, hi)


def test_mutual_aid_helps_a_brigade_off_duty(tmp_path):
    """乙镇 on a weekday day shift, 甲镇 around the clock: with mutual aid 甲镇 takes 乙镇's
    reports out of hours, so 乙镇's coverage rises."""
    def base(s, t):
        t["towns"][0]["shift_pattern"] = "all"

    def aid(s, t):
        base(s, t)
        s["mutual_aid"] = {"enabled": True, "queue_threshold": 2, "max_travel_min": 60.0}
    lo, hi = _paired(tmp_path, base, aid, "乙镇", "coverage")
    assert lo > 0, (lo, hi)
    lo, hi = _paired(tmp_path, base, aid, "乙镇", "aided_by_others_share")
    assert lo > 0, (lo, hi)


def test_a_planner_switches_one_towns_rota(tmp_path):
    """``--set rotas.TOWN=PATTERN`` replaces the towns table's column for that town only, and
    the one rule for teams (expected_teams) follows it."""
    path = factory.scenario(tmp_path)
    sc = load_scenario(path, ["rotas.乙镇=all"])
    patterns = {b.name: b.shift_pattern for b in sc.brigades}
    assert patterns == {"甲镇": "day", "乙镇": "all"}
    assert set(expected_teams(sc, "乙镇")) == {"all"}
    with pytest.raises(ScenarioError, match=r"rotas\.丁镇: '丁镇' is not a town"):
        load_scenario(path, ["rotas.丁镇=all"])
    with pytest.raises(ScenarioError, match=r"rotas\.乙镇: 'nights' is not defined"):
        load_scenario(path, ["rotas.乙镇=nights"])


def test_a_public_holiday_runs_the_sunday_rota(tmp_path):
    """Day 2 (a Wednesday) a holiday of the working calendar: no weekday shift, the weekend duty runs."""
    def edit(s, t):
        _duty(s, t)
        s["lifecycle"] = dict(factory.PATHS_LIFECYCLE, holidays=[2])
    sc = load_scenario(factory.scenario(tmp_path, edit))
    unit = Model(sc, 0).units[TOWN]
    day, duty = (unit.shift_names.index(n) for n in ("day", "weekend_duty"))
    assert unit.daily.teams_on(1)[duty] == 0 and unit.daily.teams_on(1)[day] > 0
    row = unit.daily.teams_on(2)
    assert row[day] == 0 and row[duty] > 0
    assert unit.team_on_duty(duty, 0, 2 * 1440 + 600)
    assert not unit.team_on_duty(day, 0, 2 * 1440 + 600)


def test_coverage_by_weekday_hour_table_adds_up_to_the_weekday_measures(tmp_path):
    import pandas as pd
    from enforcement_grid.experiments.output import write_run

    def edit(s, t):
        s["scenario"].update(horizon_days=14.0, warmup_days=1.0, replications=1)
        _duty(s, t)
    sc = load_scenario(factory.scenario(tmp_path / "s", edit))
    rs = run(sc, workers=1, keep_records=True)
    out = write_run(tmp_path / "run", sc, rs)
    table = pd.read_csv(out / "coverage_by_weekday_hour.csv")
    assert list(table.columns) == ["rep", "town", "klass", "weekday", "hour", "eligible", "covered", "coverage"]
    m = rs.metrics
    for day, g in table.groupby("weekday"):
        want = m[(m.scope == "county") & (m.metric == f"coverage_weekday_{day}")]["value"].iloc[0]
        got = g["covered"].sum() / g["eligible"].sum() if g["eligible"].sum() else float("nan")
        assert got == pytest.approx(want, nan_ok=True)

"""Field work after the first action: re-inspection (复查) of corrected violations and follow-up
visits of filed cases take team time, counted by the units, the budget and the measures."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest
import tomli_w

import factory
from intervals import paired_t_interval
from enforcement_grid.sim import load_scenario
from enforcement_grid.experiments import run
from enforcement_grid.sim.budget import NEED_COLUMNS, budget_table
from enforcement_grid.sim.model import Model
from enforcement_grid.sim.processes.violations import InjectedViolation

REINSPECTION = {"corrected_share": 1.0, "case_share": 1.0, "delay_days": 1.0, "visit_min": 30.0}
VILLAGE, TOWN = "甲村1", "甲镇"


def _with(path, **sections):
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    for key, value in sections.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    path.write_text(tomli_w.dumps(raw), encoding="utf-8")
    return load_scenario(path)


def test_a_corrected_violation_is_re_inspected_a_day_later(tmp_path):
    """Exact: corrected at minute 730, due 1440 minutes later, a free team drives the
    10-minute trip, spends 30 minutes on site and drives back; the record closed at 730."""
    sc = _with(factory.paths(tmp_path), reinspection=REINSPECTION)
    trace: list = []
    model = Model(sc, 0, arrivals=[InjectedViolation(600.0, VILLAGE, "S-1")], trace=trace)
    out = model.run()
    log = [(round(t, 6), who, what) for t, who, what in trace]
    assert (730.0, TOWN, "v0 closed: corrected") in log
    due = [e for e in log if "re-inspection due" in e[2]]
    done = [e for e in log if "re-inspected" in e[2]]
    assert due == [(2170.0, TOWN, "v0 re-inspection due")]
    assert len(done) == 1 and done[0][0] == 2210.0 and done[0][1].startswith(f"{TOWN}/all/")
    c = out.units[TOWN]
    # 10 out, 30 on site, 10 back to base (the trip back counts to the last activity, as for responses)
    assert c.reinspections_done == 1 and c.busy["reinspection"] == pytest.approx(50.0)
    (row,) = model.recorder.sink.rows
    assert row.closed_min == 730.0  # the second visit is team time, not part of the case


def test_without_reinspection_nothing_is_revisited(tmp_path):
    sc = load_scenario(factory.paths(tmp_path))
    trace: list = []
    out = Model(sc, 0, arrivals=[InjectedViolation(600.0, VILLAGE, "S-1")], trace=trace).run()
    assert not [e for e in trace if "re-insp" in e[2]]
    assert out.units[TOWN].busy["reinspection"] == 0.0


def test_budget_counts_reinspection_hours(tmp_path):
    """Zero without re-inspection; linear in the shares; part of the needed hours."""
    path = factory.scenario(tmp_path / "b")
    off = budget_table(load_scenario(path)).set_index("brigade")
    full = budget_table(_with(path, reinspection=REINSPECTION)).set_index("brigade")
    half = budget_table(_with(path, reinspection=dict(REINSPECTION, corrected_share=0.5, case_share=0.5))
                        ).set_index("brigade")
    assert "reinspection_hours" in NEED_COLUMNS
    assert (off["reinspection_hours"] == 0).all()
    assert (full["reinspection_hours"] > 0).all()
    assert np.allclose(half["reinspection_hours"], full["reinspection_hours"] / 2)
    assert np.allclose(full["needed_hours"] - off["needed_hours"], full["reinspection_hours"])


def test_reinspection_takes_team_time(tmp_path):
    """Direction (paired 99 % t interval over 4 replications): with 复查 on, teams spend a
    share of their time on it and utilisation rises; the rest is 1 − utilisation, exactly."""
    def edit(s, t):
        s["scenario"].update(horizon_days=30.0, warmup_days=2.0)

    path = factory.scenario(tmp_path / "d", edit)
    off = run(load_scenario(path), 4, workers=1, keep_records=False)
    on = run(_with(path, reinspection=dict(REINSPECTION, corrected_share=0.5)), 4, workers=1, keep_records=False)

    def county(rs, metric):
        m = rs.metrics
        return m[(m["scope"] == "county") & (m["metric"] == metric)].set_index("rep")["value"].sort_index()

    assert (county(off, "reinspection_share") == 0).all()
    assert (county(on, "reinspection_share") > 0).all()
    lo, hi = paired_t_interval(county(off, "utilisation"), county(on, "utilisation"), 0.99)
    assert lo > 0
    for rs in (off, on):
        assert np.allclose(county(rs, "unlisted_time_share"), 1.0 - county(rs, "utilisation"))

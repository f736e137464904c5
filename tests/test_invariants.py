"""Invariants that hold for every run: conservation, ordered times, one job per team at a time.

Checked on random small scenarios (hypothesis varies rates, staff, delays and
shares) and on a short run of the default Hui'an scenario.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings, strategies as st

import factory
from enforcement_grid.sim import load_scenario
from enforcement_grid.experiments import run_replication
from enforcement_grid.sim.model import Model
from enforcement_grid.sim.records import OUTCOMES, records_frame

STAGES = ["occurred_min", "discovered_min", "reported_min", "on_site_min", "closed_min"]


def run_model(sc, replication: int = 0) -> tuple[pd.DataFrame, int]:
    """Records of one replication and the model's own count of violations created."""
    model = Model(sc, replication)
    out = model.run()
    return records_frame(model.sink.rows), out.violations


def check_records(records: pd.DataFrame, n_violations: int) -> None:
    # conservation against the model's own count: every violation created exactly once, one known outcome
    assert len(records) == n_violations
    assert sorted(records["violation"]) == list(range(n_violations))
    assert records["outcome"].isin(OUTCOMES).all()

    # times are ordered along the chain wherever both stages happened
    for a, b in zip(STAGES, STAGES[1:]):
        both = records[[a, b]].dropna()
        assert (both[b] >= both[a] - 1e-9).all(), f"{b} before {a}"
    d = records[["reported_min", "dispatched_min", "on_site_min"]].dropna()
    assert (d["dispatched_min"] >= d["reported_min"] - 1e-9).all()
    assert (d["on_site_min"] >= d["dispatched_min"] - 1e-9).all()
    t = records[["reported_min", "transferred_min"]].dropna()
    assert (t["transferred_min"] >= t["reported_min"] - 1e-9).all()

    # outcomes agree with the stages reached
    closed = records["outcome"].isin(["corrected", "case_filed", "escalated", "transferred"])
    assert records.loc[closed, ["on_site_min", "closed_min"]].notna().all().all()
    assert records.loc[records["outcome"] == "open_undiscovered", "discovered_min"].isna().all()
    assert records.loc[records["outcome"] == "open_waiting", "on_site_min"].isna().all()
    assert records.loc[records["outcome"] == "transferred", "transferred_min"].notna().all()
    assert not records.loc[records["outcome"] == "transferred", "handled_by_brigade"].any()
    found = records["channel"] != ""
    assert records.loc[found, "discovered_min"].notna().all()

    # a team is never on two jobs at once: its own jobs (dispatch → close) do not overlap — for the
    # outcomes where closing is the end of the team's own work (not a desk lifecycle or a joint action)
    own = records[(records["outcome"] == "corrected")
                  | ((records["outcome"] == "transferred") & ~records["returned"])
                  | ((records["outcome"] == "case_filed") & records["filed_min"].isna())]
    for team, jobs in own.groupby("team"):
        spans = jobs.sort_values("dispatched_min")[["dispatched_min", "closed_min"]].to_numpy()
        assert (spans[1:, 0] >= spans[:-1, 1] - 1e-6).all(), f"team {team} overlaps itself"


def test_default_scenario_invariants():
    sc = load_scenario("scenarios/huian.toml", ["scenario.horizon_days=30", "scenario.warmup_days=0"])
    records, created = run_model(sc)
    check_records(records, created)
    result = run_replication(sc, 0)
    # every unit's busy time fits in its on-duty time plus overtime, and is non-negative
    u = result.units
    busy = u[[c for c in u.columns if c.endswith("_min") and c != "on_duty_min"]]
    assert (busy.to_numpy() >= 0).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rate=st.floats(50, 2000),
    certified=st.integers(0, 8),
    triage=st.floats(0, 240),
    corrected=st.floats(0, 1),
    grid=st.floats(0, 5),
    patrol_p=st.floats(0, 1),
    transfer_h=st.floats(0, 72),
    seed=st.integers(0, 10_000),
)
def test_invariants_on_random_scenarios(tmp_path_factory, rate, certified, triage, corrected, grid, patrol_p,
                                        transfer_h, seed):
    def edit(s, t):
        s["scenario"].update(seed=seed, horizon_days=10.0, warmup_days=1.0)
        s["command_centre"]["triage_mean_min"] = triage
        s["transfer"]["delay_mean_hours"] = transfer_h
        for c in s["classes"].values():
            rest = 1.0 - corrected
            c.update(corrected_share=corrected, case_share=rest * 0.8, escalated_share=rest * 0.2,
                     grid_notice_per_day=grid, patrol_detect_prob=patrol_p)
        t["items"][0]["annual_rate"] = rate
        for r in t["staffing"]:
            r["certified"] = min(r["officers"], certified)

    sc = load_scenario(factory.scenario(tmp_path_factory.mktemp("s"), edit))
    records, created = run_model(sc)
    check_records(records, created)


def test_records_and_open_violations_add_up_to_those_created_at_every_moment(tmp_path):
    """Conservation while the run goes on: records written + still open = the model's count created."""
    sc = load_scenario(factory.scenario(tmp_path, lambda s, t: s["scenario"].update(horizon_days=10.0)))
    model = Model(sc, 0)
    rec = model.recorder
    for day in range(1, 10):
        model.env.run(until=day * 1440.0)
        assert rec.created > 0
        assert rec.recorded + len(rec.open) == rec.created, day
    out = model.run()
    assert not rec.open and rec.recorded == out.violations == len(model.sink.rows)


def test_fewer_than_two_certified_officers_cannot_dispatch(tmp_path):
    """One certified officer per shift is not a team: the brigade never acts (F4)."""

    def edit(s, t):
        s["officer_time"].update(desk_share=0.0, other_town_work_share=0.0)
        for r in t["staffing"]:
            r["certified"] = 0
        t["staffing"][0]["certified"] = 1  # 甲镇 has one certified officer, among 8 others
        s["scenario"].update(horizon_days=14.0)

    sc = load_scenario(factory.scenario(tmp_path, edit))
    result = run_replication(sc, 0)
    rec = result.records
    assert (result.units.loc[result.units["kind"] == "brigade", "on_duty_min"] == 0).all()
    assert not rec["handler"].isin(["甲镇", "乙镇"]).any()
    waiting = rec[rec["handled_by_brigade"] & rec["reported_min"].notna()]
    assert len(waiting) > 10 and (waiting["outcome"] == "open_waiting").all()

    # with two certified officers the same brigade does act
    def edit2(s, t):
        edit(s, t)
        t["staffing"][0]["certified"] = 2
        s["officer_time"]["duty_days_per_year"] = 365.0 * 5 / 7  # present every working day

    sc2 = load_scenario(factory.scenario(tmp_path / "two", edit2))
    assert run_replication(sc2, 0).records["handler"].eq("甲镇").any()


def test_records_off_gives_the_same_measures(tmp_path, monkeypatch):
    """Running sums (records.keep = false) give exactly the measures of the full records,
    however many chunks the sums were built from."""
    from enforcement_grid.sim.recorder import Recorder

    sc = load_scenario(factory.scenario(tmp_path, lambda s, t: s["scenario"].update(horizon_days=30.0)))
    kept = run_replication(sc, 1, keep_records=True)
    monkeypatch.setattr(Recorder, "FLUSH_EVERY", 7)
    summed = run_replication(sc, 1, keep_records=False)
    assert summed.records is None
    pd.testing.assert_frame_equal(kept.metrics, summed.metrics, check_exact=False, rtol=1e-12)
    assert np.isfinite(kept.metrics["value"]).any()


def test_records_table_keeps_the_rows_order_and_types_each_column():
    """records_frame: one row per record in the order given, numbers, flags and ids typed, the outcome a
    category of OUTCOMES, text as pandas infers it; no records give the same columns."""
    from enforcement_grid.sim.records import FIELDS, FLOAT_FIELDS, Record

    def record(vid, town, outcome):
        values = {f: (np.nan if f in FLOAT_FIELDS else "") for f in FIELDS}
        values.update(violation=vid, town=town, severity=2, handled_by_brigade=True, returned=False, stock=vid == 0,
                      occurred_min=10.0 * vid, outcome=outcome)
        return Record(**values)

    rows = [record(2, "乙镇", "corrected"), record(0, "甲镇", "open_waiting"), record(1, "乙镇", "transferred")]
    df = records_frame(rows)
    assert list(df.columns) == list(FIELDS)
    assert df["violation"].tolist() == [2, 0, 1] and df["town"].tolist() == ["乙镇", "甲镇", "乙镇"]
    assert df["violation"].dtype == np.int64 and df["severity"].dtype == np.int64
    assert df["stock"].tolist() == [False, True, False] and df["returned"].dtype == bool
    assert df["occurred_min"].tolist() == [20.0, 0.0, 10.0] and df["area_m2"].dtype == float
    assert list(df["outcome"].cat.categories) == list(OUTCOMES)
    assert df["town"].dtype == pd.Series(["甲镇"]).dtype  # text as pandas infers it
    empty = records_frame([])
    assert list(empty.columns) == list(FIELDS) and len(empty) == 0 and empty["violation"].dtype == np.int64


@given(st.lists(st.sampled_from(["螺城镇", "崇武镇", "a", "B", "b", ""]), max_size=40))
def test_sums_group_the_names_in_numpys_sorted_order(names):
    """violation_sums codes towns and classes as np.unique(…, return_inverse=True) would."""
    from enforcement_grid.sim.measures import _sorted_codes

    values = np.array(names, object)
    got_names, got_codes = _sorted_codes(values)
    want_names, want_codes = np.unique(values, return_inverse=True)
    assert got_names.tolist() == want_names.tolist()
    assert got_codes.tolist() == want_codes.reshape(-1).tolist()

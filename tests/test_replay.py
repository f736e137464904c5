"""One town simulated when one town changes (sim/replay.py): exact equality with the whole county, and the fall-backs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pandas.testing import assert_frame_equal

from enforcement_grid.experiments import replay
from enforcement_grid.sim import load_scenario
from enforcement_grid.experiments import run_replication
from enforcement_grid.experiments.executors import SerialExecutor
from enforcement_grid.experiments.sweep import load_sweep, restaff, restricted_points, run_sweep

ROOT = Path(__file__).resolve().parents[1]
# the default scenario as it is (returned cases included): the towns meet only in the departments'
# queues, which the replay reproduces
SHORT = ["scenario.horizon_days=45", "scenario.warmup_days=5"]
FRAMES = ("records", "sums", "units", "metrics", "timeline")


@pytest.fixture(scope="module")
def huian():
    base = load_scenario(ROOT / "scenarios/huian.toml", SHORT)
    brigade = base.brigades[3].name  # a small town: the one most moved by the county's load
    return base, brigade, restaff(base, brigade, 6)


def test_restricted_run_equals_the_whole_county_on_every_record_and_measure(huian):
    base, brigade, changed = huian
    assert replay.restriction_problem(changed, base, [brigade]) is None
    for rep in (0, 1):
        baseline = replay.record_baseline(base, rep)
        whole = run_replication(changed, rep, keep_records=True)
        part = replay.run_restricted(changed, [brigade], baseline, keep_records=True)
        for name in FRAMES:
            assert_frame_equal(getattr(part, name), getattr(whole, name), check_exact=True, obj=name)
        # the department work of the other towns was replayed, and the changed town's own was not
        assert baseline.jobs and any(j[5][replay.SLOTS.index("town")] != brigade for j in baseline.jobs)


def test_with_records_off_the_restricted_sums_are_the_whole_countys(huian):
    """Records off (as in sweeps): the other towns' sums come from the baseline, the rest from the run;
    the same sums added in another order, so equal up to rounding in the last bits."""
    import numpy as np

    base, brigade, changed = huian
    baseline = replay.record_baseline(base, 1)
    whole = run_replication(changed, 1, keep_records=False)
    part = replay.run_restricted(changed, [brigade], baseline, keep_records=False)
    assert_frame_equal(part.sums, whole.sums, check_exact=False, rtol=1e-12, atol=1e-9)
    assert_frame_equal(part.metrics, whole.metrics, check_exact=False, rtol=1e-12, atol=1e-12)
    assert np.isfinite(whole.metrics["value"]).any() and whole.sums["violations"].sum() > 1000


def test_without_the_baselines_arrivals_every_violation_is_drawn_again_with_the_same_numbers(huian, monkeypatch):
    """A channel that draws from its own stream when a violation arises makes the restricted run draw
    every violation again and skip the other towns' (rather than take the baseline's arrivals): the
    same records either way."""
    from enforcement_grid.sim.processes.channels import GridWorker

    base, brigade, changed = huian
    baseline = replay.record_baseline(base, 0)
    fast = replay.run_restricted(changed, [brigade], baseline, keep_records=True)
    monkeypatch.setattr(GridWorker, "draws_in_delay", True)
    calls = []
    monkeypatch.setattr(replay._Restriction, "arrivals", lambda self: calls.append(1))
    slow = replay.run_restricted(changed, [brigade], baseline, keep_records=True)
    assert not calls  # the known arrivals were not asked for
    for name in FRAMES:
        assert_frame_equal(getattr(slow, name), getattr(fast, name), check_exact=True, obj=name)


def test_the_measures_read_only_the_measured_fields_of_a_record(huian):
    """A one-town run takes another town's measures from the baseline when its records are equal in
    MEASURED_FIELDS; so every other field must leave the sums alone (scrambled here: the same sums),
    and a measured field must move them."""
    import numpy as np

    from enforcement_grid.experiments.runner import item_targets
    from enforcement_grid.sim.measures import MEASURED_FIELDS, violation_sums

    base, _, _ = huian
    records = run_replication(base, 0, keep_records=True).records
    s = base.settings.scenario
    args = (item_targets(base), s.warmup_min, s.horizon_min)
    sums = violation_sums(records, *args)
    rng = np.random.default_rng(0)
    scrambled = records.copy()
    others = [c for c in records.columns if c not in MEASURED_FIELDS]
    assert {"team", "handler", "dispatched_min", "area_m2"} <= set(others)
    for c in others:
        scrambled[c] = scrambled[c].to_numpy()[rng.permutation(len(scrambled))]
    assert_frame_equal(violation_sums(scrambled, *args), sums, check_exact=True)
    moved = records.copy()
    moved["on_site_min"] = moved["on_site_min"] + 10_000.0
    assert not violation_sums(moved, *args).equals(sums)


def test_unchanged_staff_restricted_reproduces_the_baseline(huian):
    base, brigade, _ = huian
    baseline = replay.record_baseline(base, 0)
    whole = run_replication(base, 0, keep_records=True)
    part = replay.run_restricted(base, [brigade], baseline, keep_records=True)
    for name in FRAMES:
        assert_frame_equal(getattr(part, name), getattr(whole, name), check_exact=True, obj=name)


def test_returned_cases_do_not_couple_the_towns(huian):
    """A case a department sends back for joint action is sent back on receipt, so the other towns'
    handbacks do not wait in a queue the changed town's load moves: over 120 days with a quarter of
    the transferred cases returned, the restricted run is still the whole county's, and both runs
    returned cases (to the changed town and to others)."""
    _, brigade, _ = huian
    base = load_scenario(ROOT / "scenarios/huian.toml", ["scenario.horizon_days=120", "scenario.warmup_days=5",
                                                         "transfer.returned_share=0.25"])
    changed = restaff(base, brigade, 4)
    assert replay.restriction_problem(changed, base, [brigade]) is None
    whole = run_replication(changed, 0, keep_records=True)
    part = replay.run_restricted(changed, [brigade], replay.record_baseline(base, 0), keep_records=True)
    for name in FRAMES:
        assert_frame_equal(getattr(part, name), getattr(whole, name), check_exact=True, obj=name)
    back = whole.records[whole.records["returned"]]
    assert (back["town"] == brigade).any() and (back["town"] != brigade).sum() > 20


def test_work_reaching_a_town_not_simulated_falls_back_to_the_whole_county(huian, monkeypatch):
    """The guard behind the exactness: if a department ever handed a case to a town that is not
    simulated (here: forced, every transferred case goes back to the county seat's brigade), the
    restricted run stops (Coupled) and :func:`replay.replicate` runs the whole county instead."""
    from enforcement_grid.sim.processes import command_centre
    from enforcement_grid.sim.processes.brigade import Response

    base, brigade, changed = huian
    seat = base.brigades[0].name
    baseline = replay.record_baseline(base, 0)

    def to_the_seat(self, event):
        self.units[seat].submit(Response(event.value, "joint", 1, 1))

    monkeypatch.setattr(command_centre.CommandCentre, "_transfer_arrives", to_the_seat)
    with pytest.raises(replay.Coupled, match=seat):
        replay.run_restricted(changed, [brigade], baseline, keep_records=True)
    got = replay.replicate(changed, base, "key", [brigade], 0, keep_records=True)
    assert_frame_equal(got.metrics, run_replication(changed, 0, keep_records=True).metrics, check_exact=True)


def test_structural_couplings_are_refused(huian):
    base, brigade, changed = huian
    other = base.brigades[0].name
    assert "every town" in replay.restriction_problem(changed, base, [b.name for b in base.brigades])
    assert "other brigades" in replay.restriction_problem(restaff(changed, other, 10), base, [brigade])
    desk = load_scenario(ROOT / "scenarios/huian.toml", SHORT + ["officer_time.desk_share=0.4"])
    assert "settings" in replay.restriction_problem(restaff(desk, brigade, 6), base, [brigade])


def test_a_staff_sweep_runs_restricted_points_with_the_same_numbers(tmp_path, huian):
    base, brigade, _ = huian
    body = (f'scenario = "{(ROOT / "scenarios/huian.toml").as_posix()}"\nreplications = 1\ndays = 20\n'
            'set = ["scenario.warmup_days=2"]\nrecords = true\n'
            f'[[factor]]\nname = "staff"\nstaff = ["{brigade}"]\nvalues = [4, 8]\n')
    path = tmp_path / "sweep.toml"
    path.write_text(body, encoding="utf-8")
    sweep = load_sweep(path)
    assert restricted_points(sweep) == {p.id for p in sweep.points}
    fast = run_sweep(sweep, tmp_path / "fast", SerialExecutor())
    slow = run_sweep(sweep, tmp_path / "slow", SerialExecutor(), replay=False)
    assert_frame_equal(fast.summary, slow.summary, check_exact=True)
    assert_frame_equal(fast.results, slow.results, check_exact=True)

"""Sweeps: grids of scenario variants, resumable after any interruption, nothing lost, bad input refused.

Each test works in its own temporary folder on the two-town test scenario with
short runs.  The interruption tests stop a sweep in three ways (Ctrl-C from a
callback, SIGINT to a running ``egrid sweep``, SIGKILL of one), run it again
and compare the final tables byte for byte with an uninterrupted run.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings as hyp_settings, strategies as st
from pandas.testing import assert_frame_equal

import factory
from enforcement_grid.experiments import sweep as sim_sweep
from enforcement_grid.cli.cli import main
from enforcement_grid.sim import load_scenario
from enforcement_grid.experiments import run
from enforcement_grid.sim.errors import ScenarioError
from enforcement_grid.experiments.sweep import SweepFolder, load_sweep, point_id, restaff

SWEEP = """\
scenario = "scenario.toml"
replications = {reps}
days = {days}
[[factor]]
name = "desk"
set = "officer_time.desk_share"
values = [0.2, 0.4]
[[factor]]
name = "jia_staff"
staff = "甲镇"
values = [10, 30]
"""


@pytest.fixture(autouse=True)
def whole_county_points(monkeypatch):
    """These tests are of the sweep machinery on whole-county replications (the patched ``replicate`` and
    ``run_replication``); staff points run restricted are tested in test_replay.py."""
    monkeypatch.setattr(sim_sweep, "restricted_points", lambda sweep: set())


def make_sweep(folder: Path, reps: int = 2, days: float = 10, body: str | None = None) -> Path:
    if not (folder / "scenario.toml").exists():
        factory.scenario(folder)
    path = folder / "sweep.toml"
    path.write_text(body if body is not None else SWEEP.format(reps=reps, days=days), encoding="utf-8")
    return path


def sweep_cli(path: Path, out: Path, *extra: str) -> int:
    return main(["sweep", str(path), "--out", str(out), "--quiet", *extra])


def rep_files(out: Path) -> set[str]:
    return {str(p.relative_to(out)) for p in (out / "reps").glob("*/rep-*.csv") if not p.name.endswith("units.csv")}


# --------------------------------------------------------------------------- running a sweep


def test_a_sweep_writes_every_table_and_each_point_equals_its_scenario_run(tmp_path, capsys):
    path = make_sweep(tmp_path / "sc")
    out = tmp_path / "out"
    assert sweep_cli(path, out, "--workers", "1") == 0
    assert "Traceback" not in capsys.readouterr().err
    for name in ("sweep.toml", "sweep.json", "points.csv", "results.parquet", "summary.csv"):
        assert (out / name).exists(), name
    assert not (out / "errors.csv").exists()
    points = pd.read_csv(out / "points.csv")
    assert list(points.columns) == ["point", "desk", "jia_staff", "scenario", "seed"]
    assert len(points) == 4 and len(rep_files(out)) == 8
    results = pd.read_parquet(out / "results.parquet")
    assert list(results.columns) == ["point", "desk", "jia_staff", "scope", "metric", "rep", "value"]
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["point", "desk", "jia_staff", "scope", "metric", "mean", "ci_low", "ci_high",
                                     "sd", "n"]
    assert set(summary["n"]) <= {0, 1, 2}

    # a point is exactly its scenario, run on its own
    sc = load_scenario(path.parent / "scenario.toml", ["scenario.horizon_days=10", "officer_time.desk_share=0.4"])
    sc = restaff(sc, "甲镇", 30)
    expected = run(sc, 2, workers=1, keep_records=False).metrics
    pid = point_id({"desk": 0.4, "jia_staff": 30})
    got = sim_sweep.SweepFolder(out).tables(load_sweep(path))[0].to_pandas()  # text columns by code
    got = got.astype({"point": str, "scope": str, "metric": str})
    got = got[got["point"] == pid][["scope", "metric", "rep", "value"]].reset_index(drop=True)
    assert_frame_equal(got, expected, check_exact=True, check_dtype=False)
    from_file = results[results["point"] == pid]["value"].to_numpy()
    assert ((from_file == expected["value"].to_numpy()) | (pd.isna(from_file) & expected["value"].isna())).all()


def test_staff_factor_scales_a_brigade_and_keeps_its_mix(tmp_path):
    sc = load_scenario(factory.scenario(tmp_path))
    rows = {r.source: r for r in sc.staffing if r.brigade == "甲镇"}  # 8/8, 4/4, 8/2, 2/2: 22 officers, 16 certified
    for total in (1, 11, 22, 33, 50):
        new = restaff(sc, "甲镇", total)
        mine = {r.source: r for r in new.staffing if r.brigade == "甲镇"}
        assert sum(r.officers for r in mine.values()) == total
        assert sum(r.certified for r in mine.values()) == min(total, math.floor(total * 16 / 22 + 0.5))
        assert all(r.certified <= r.officers for r in mine.values())
        others = [r for r in new.staffing if r.brigade != "甲镇"]
        assert others == [r for r in sc.staffing if r.brigade != "甲镇"]
        for src, want in sc.settings.staffing.sources.items():
            assert new.settings.staffing.sources[src] == want - rows[src].officers + mine[src].officers
    half = {r.source: r.officers for r in restaff(sc, "甲镇", 11).staffing if r.brigade == "甲镇"}
    assert half == {"urban_management": 4, "county_department": 2, "reallocated": 4, "law": 1}


def test_a_list_of_brigades_is_taken_one_at_a_time(tmp_path):
    body = ('scenario = "scenario.toml"\nreplications = 1\ndays = 5\n'
            '[[factor]]\nname = "staff"\nstaff = ["甲镇", "乙镇"]\nvalues = [5, 9]\n')
    path = make_sweep(tmp_path / "sc", body=body)
    sweep = load_sweep(path)
    assert sweep.factors == ["staff_brigade", "staff"]
    expected = [("甲镇", 5), ("甲镇", 9), ("乙镇", 5), ("乙镇", 9)]
    assert [tuple(p.values.values()) for p in sweep.points] == expected
    base = load_scenario(path.parent / "scenario.toml")
    totals = {b: sum(r.officers for r in base.staffing if r.brigade == b) for b in ("甲镇", "乙镇")}
    for p in sweep.points:
        got = {b: sum(r.officers for r in p.scenario.staffing if r.brigade == b) for b in ("甲镇", "乙镇")}
        assert got == {**totals, p.values["staff_brigade"]: p.values["staff"]}
    out = tmp_path / "out"
    assert sweep_cli(path, out, "--workers", "1") == 0
    assert list(pd.read_csv(out / "summary.csv").columns[:3]) == ["point", "staff_brigade", "staff"]


def test_point_ids_are_stable_readable_and_safe():
    a = point_id({"desk": 0.3, "town_staff": 50})
    assert a == point_id({"desk": 0.3, "town_staff": 50}) and a.startswith("desk-0.3_town_staff-50-")
    assert a != point_id({"desk": 0.3, "town_staff": 51})
    odd = point_id({"town": "螺城镇/../x", "plan": [1, {"a": "b c*"}]})
    assert odd.startswith("town-螺城镇_.._x_plan-")
    assert all(ch.isalnum() or ch in "._-" for ch in odd) and not odd.startswith(".")


# --------------------------------------------------------------------------- nothing lost


def test_rerun_runs_only_missing_replications_and_gives_identical_tables(tmp_path, monkeypatch):
    path = make_sweep(tmp_path / "sc", reps=3)
    out = tmp_path / "out"
    assert sweep_cli(path, out, "--workers", "1") == 0
    results, summary = (out / "results.parquet").read_bytes(), (out / "summary.csv").read_bytes()
    files = sorted(f for f in (out / "reps").glob("*/rep-*.csv") if ".units." not in f.name)
    kept = {f: f.stat().st_mtime_ns for f in files}
    gone = [f for f in files if f.name in ("rep-1.csv", "rep-2.csv")][:3]
    for f in gone:
        f.unlink()
        del kept[f]

    calls = []
    real = sim_sweep.replicate

    def counting(sc, rep, keep):
        calls.append((sc.settings.officer_time.desk_share, rep))
        return real(sc, rep, keep)

    monkeypatch.setattr(sim_sweep, "replicate", counting)
    assert sweep_cli(path, out, "--workers", "1") == 0
    assert len(calls) == len(gone)
    assert all(f.stat().st_mtime_ns == t for f, t in kept.items())  # finished replications untouched
    assert (out / "results.parquet").read_bytes() == results
    assert (out / "summary.csv").read_bytes() == summary

    calls.clear()  # nothing left to do: nothing runs, same tables
    assert sweep_cli(path, out, "--workers", "1") == 0
    assert calls == [] and (out / "results.parquet").read_bytes() == results


def test_ctrl_c_saves_finished_replications_and_a_rerun_resumes(tmp_path, monkeypatch, capsys):
    path = make_sweep(tmp_path / "sc", reps=3)
    assert sweep_cli(path, tmp_path / "whole", "--workers", "1") == 0

    out = tmp_path / "out"
    real = SweepFolder.save
    saved = []

    def save_then_interrupt(self, point, rep, output):
        real(self, point, rep, output)
        saved.append((point, rep))
        if len(saved) == 5:
            raise KeyboardInterrupt

    monkeypatch.setattr(SweepFolder, "save", save_then_interrupt)
    capsys.readouterr()
    assert sweep_cli(path, out, "--workers", "1") == 130
    err = capsys.readouterr().err
    assert "5 of 12 replications are saved" in err and "again to resume" in err and "Traceback" not in err
    assert len(rep_files(out)) == 5 and not (out / "results.parquet").exists()
    assert not [p for p in out.rglob(".*") if p.name != ".egrid-output"]  # no half-written file

    monkeypatch.setattr(SweepFolder, "save", real)
    assert sweep_cli(path, out, "--workers", "1") == 0
    for name in ("results.parquet", "summary.csv", "points.csv"):
        assert (out / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name


def _start(path: Path, out: Path, workers: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "enforcement_grid.cli.cli", "sweep", str(path), "--out", str(out), "--workers", str(workers)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_for_files(proc: subprocess.Popen, out: Path, n: int, timeout_s: float = 60.0) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end and proc.poll() is None:
        if (out / "reps").is_dir() and len(rep_files(out)) >= n:
            return
        time.sleep(0.02)
    pytest.fail(f"the sweep ended or stalled before {n} replications were saved: {proc.communicate()}")


@pytest.mark.parametrize("how", ["SIGINT", "SIGKILL"])
def test_a_sweep_process_stopped_midway_resumes_to_the_uninterrupted_tables(tmp_path, how):
    body = SWEEP.format(reps=30, days=30).split("[[factor]]\nname = \"jia_staff\"")[0]  # 2 points × 30
    path = make_sweep(tmp_path / "sc", body=body)
    out = tmp_path / "out"
    proc = _start(path, out, workers=2)
    _wait_for_files(proc, out, 4)
    if how == "SIGINT":  # Ctrl-C at a terminal: the whole process group gets it
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "replications are saved" in err and "again to resume" in err and "Traceback" not in err
    else:  # the main process killed outright; its worker processes go with it
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
    partial = len(rep_files(out))
    assert 4 <= partial < 60

    assert sweep_cli(path, out, "--workers", "2") == 0
    assert not [p for p in out.rglob(".*") if p.name != ".egrid-output"]
    assert len(rep_files(out)) == 60
    whole = tmp_path / "whole"
    assert sweep_cli(path, whole, "--workers", "2") == 0
    for name in ("results.parquet", "summary.csv"):
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_crashed_replication_is_reported_and_the_others_complete(tmp_path, monkeypatch, capsys, workers):
    if workers != "1" and multiprocessing.get_start_method() != "fork":
        pytest.skip("the injected failure reaches worker processes only when they are forked")
    path = make_sweep(tmp_path / "sc", reps=3)
    out = tmp_path / "out"
    real = sim_sweep.run_replication

    def crash_one(sc, rep, keep=None):
        if sc.settings.officer_time.desk_share == 0.4 and rep == 1:
            raise RuntimeError("injected failure")
        return real(sc, rep, keep)

    monkeypatch.setattr(sim_sweep, "run_replication", crash_one)  # forked workers inherit the patch
    capsys.readouterr()
    assert sweep_cli(path, out, "--workers", workers) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "2 replication(s) failed" in err and "RuntimeError: injected failure" in err and "seed 7" in err
    errors = pd.read_csv(out / "errors.csv")
    assert list(errors.columns) == ["point", "seed", "replication", "error", "where"]
    assert set(errors["replication"]) == {1} and set(errors["seed"]) == {7}
    assert all(p.startswith("desk-0.4_") for p in errors["point"])
    assert (errors["error"] == "RuntimeError: injected failure").all()
    assert errors["where"].str.contains("crash_one").all()
    assert len(rep_files(out)) == 10
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary[summary["desk"] == 0.4]["n"]) <= {0, 1, 2} and summary[summary["desk"] == 0.2]["n"].max() == 3

    monkeypatch.setattr(sim_sweep, "run_replication", real)  # fixed: the rerun runs the two and clears errors.csv
    assert sweep_cli(path, out, "--workers", "1") == 0
    assert not (out / "errors.csv").exists() and len(rep_files(out)) == 12


# --------------------------------------------------------------------------- the folder


def test_a_folder_holding_another_sweep_is_refused_unless_forced(tmp_path, capsys):
    path = make_sweep(tmp_path / "sc")
    out = tmp_path / "out"
    assert sweep_cli(path, out, "--workers", "1") == 0
    results = (out / "results.parquet").read_bytes()
    path.write_text(SWEEP.format(reps=2, days=10).replace("[10, 30]", "[10, 31]"), encoding="utf-8")
    capsys.readouterr()
    assert sweep_cli(path, out, "--workers", "1") == 2
    err = capsys.readouterr().err
    assert f"error: {out}: holds a different sweep (it differs in: factor)" in err and "--force" in err
    assert (out / "results.parquet").read_bytes() == results
    assert sweep_cli(path, out, "--workers", "1", "--force") == 0
    assert "jia_staff-31" in (out / "points.csv").read_text()


def test_edited_scenario_inputs_are_detected(tmp_path, capsys):
    path = make_sweep(tmp_path / "sc")
    out = tmp_path / "out"
    assert sweep_cli(path, out, "--workers", "1") == 0
    towns = path.parent / "towns.csv"
    towns.write_text(towns.read_text(encoding="utf-8").replace("20000", "21000"), encoding="utf-8")
    capsys.readouterr()
    assert sweep_cli(path, out, "--workers", "1") == 2
    assert "4 point(s) changed since it started" in capsys.readouterr().err


def test_more_replications_extend_a_finished_sweep(tmp_path):
    path = make_sweep(tmp_path / "sc", reps=2)
    out = tmp_path / "out"
    assert sweep_cli(path, out, "--workers", "1") == 0
    make_sweep(tmp_path / "sc", reps=3)
    assert sweep_cli(path, out, "--workers", "1") == 0
    assert len(rep_files(out)) == 12
    fresh = tmp_path / "fresh"
    assert sweep_cli(path, fresh, "--workers", "1") == 0
    assert (out / "results.parquet").read_bytes() == (fresh / "results.parquet").read_bytes()


def test_a_folder_that_is_not_a_sweep_is_left_alone(tmp_path, capsys):
    path = make_sweep(tmp_path / "sc")
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert sweep_cli(path, out, "--workers", "1") == 2
    assert "is not a sweep folder" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "mine"


# --------------------------------------------------------------------------- bad input


BAD = {
    "unknown key": ('scenario = "scenario.toml"\nreplicatons = 3\n', "replicatons: unknown key"),
    "unknown settings key": (
        'scenario = "scenario.toml"\n[[factor]]\nname = "d"\nset = "officer_time.desk_shar"\nvalues = [0.2]\n',
        "factor[0].set: 'officer_time.desk_shar' is not a setting",
    ),
    "unknown town": (
        'scenario = "scenario.toml"\n[[factor]]\nname = "s"\nstaff = "丙镇"\nvalues = [5]\n',
        "factor[0].staff: '丙镇' is not a brigade",
    ),
    "empty values": (
        'scenario = "scenario.toml"\n[[factor]]\nname = "s"\nstaff = "甲镇"\nvalues = []\n',
        "factor[0].values: ",
    ),
    "negative staff": (
        'scenario = "scenario.toml"\n[[factor]]\nname = "s"\nstaff = "甲镇"\nvalues = [5, -2]\n',
        "factor[0].values: values[1]: expected a whole number of officers, at least 1; got -2",
    ),
    "duplicate factor names": (
        'scenario = "scenario.toml"\n[[factor]]\nname = "s"\nstaff = "甲镇"\nvalues = [5]\n'
        '[[factor]]\nname = "s"\nset = "officer_time.desk_share"\nvalues = [0.2]\n',
        "factor: column 's' appears in two factors",
    ),
    "missing scenario file": ('scenario = "nowhere.toml"\n', "scenario: scenario file"),
    "brigade in two staff factors": (
        'scenario = "scenario.toml"\n[[factor]]\nname = "s"\nstaff = "甲镇"\nvalues = [5]\n'
        '[[factor]]\nname = "t"\nstaff = ["乙镇", "甲镇"]\nvalues = [6]\n',
        "factor: staff '甲镇' appears in two factors",
    ),
    "unknown town in a list": (
        'scenario = "scenario.toml"\n[[factor]]\nname = "s"\nstaff = ["甲镇", "丁镇"]\nvalues = [5]\n',
        "factor[0].staff: '丁镇' is not a brigade",
    ),
    "value the scenario refuses": (
        'scenario = "scenario.toml"\n[[factor]]\nname = "d"\nset = "officer_time.desk_share"\nvalues = [0.2, 1.5]\n',
        "factor[0].values[1] (d = 1.5): ",
    ),
    "both set and staff": (
        'scenario = "scenario.toml"\n[[factor]]\nname = "d"\nset = "officer_time.desk_share"\nstaff = "甲镇"\n'
        'values = [2]\n',
        "factor[0]: expected exactly one of `set`",
    ),
    "not TOML": ('scenario = "scenario.toml\n', "not valid TOML"),
    "days inside the warm-up": ('scenario = "scenario.toml"\ndays = 1\n', "days: "),
    "combination the scenario refuses": (
        'scenario = "scenario.toml"\n[[factor]]\nname = "w"\nset = "scenario.warmup_days"\nvalues = [1, 5]\n'
        '[[factor]]\nname = "h"\nset = "scenario.horizon_days"\nvalues = [4, 10]\n',
        "point w-5_h-4-",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_sweep_files_are_refused_with_file_field_and_expectation(tmp_path, capsys, case):
    body, expected = BAD[case]
    path = make_sweep(tmp_path / "sc", body=body)
    out = tmp_path / "out"
    capsys.readouterr()
    assert sweep_cli(path, out, "--workers", "1") == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines and all(line.startswith(f"error: {path}: ") for line in lines), err
    assert expected in err, err
    assert not out.exists()
    with pytest.raises(ScenarioError):
        load_sweep(path)


_scalar = st.one_of(
    st.integers(-5, 40), st.floats(-2, 40, allow_nan=False), st.booleans(), st.text(max_size=4),
    st.just(float("nan")), st.just(float("inf")),
)
_value = st.one_of(_scalar, st.lists(_scalar, max_size=2), st.dictionaries(st.text(max_size=3), _scalar, max_size=2))
_names = st.one_of(st.sampled_from(["a", "b", "desk", "point", "1x", ""]), st.text(max_size=5))
_keys = st.sampled_from([
    "officer_time.desk_share", "scenario.horizon_days", "scenario.warmup_days", "scenario.seed",
    "patrol.min_visits_per_week", "patrol.visit_base_min", "classes.street.target_hours", "records.keep",
    "grid.report_delay_mean_min", "officer_time", "no.such.key", "scenario.name", "scenario.replications",
    "", "a b", "x=y",
])
_set_factor = st.fixed_dictionaries({"name": _names, "set": _keys, "values": st.lists(_value, max_size=3)})
_staff_factor = st.fixed_dictionaries({
    "name": _names, "staff": st.sampled_from(["甲镇", "乙镇", "丙镇", ""]),
    "values": st.lists(st.one_of(st.integers(-3, 40), _scalar), max_size=3),
})
_junk_factor = st.dictionaries(st.sampled_from(["name", "set", "staff", "values", "extra"]), _value, max_size=4)
_sweeps = st.fixed_dictionaries(
    {"scenario": st.sampled_from(["scenario.toml", "scenario.toml", "missing.toml", "", "towns.csv"])},
    optional={
        "replications": st.one_of(st.integers(-1, 2), _scalar),
        "days": st.one_of(st.floats(0.5, 12), _scalar),
        "seed": st.one_of(st.integers(-2, 5), _scalar),
        "records": st.one_of(st.booleans(), _scalar),
        "set": st.lists(st.one_of(st.text(max_size=8), st.sampled_from(
            ["officer_time.desk_share=0.3", "patrol.visit_base_min=-1", "scenario.horizon_days=8", "=", "x"])),
            max_size=2),
        "factor": st.lists(st.one_of(_set_factor, _staff_factor, _junk_factor), max_size=2),
        "title": _value,
        "bogus": _value,
    },
)


# Mostly valid sweeps, each value drawn from around its valid range, so most examples reach the scenario
# checks or run; then one mutation (a junk key, a field replaced by a junk value) for some of them.
_SETTINGS = [
    ("officer_time.desk_share", st.floats(-0.2, 1.2)),
    ("scenario.horizon_days", st.floats(0.5, 15)),
    ("scenario.warmup_days", st.floats(-1, 5)),
    ("scenario.seed", st.integers(-1, 10**6)),
    ("patrol.min_visits_per_week", st.integers(-1, 4)),
    ("patrol.visit_base_min", st.floats(-5, 120)),
    ("classes.street.target_hours", st.floats(-1, 100)),
    ("records.keep", st.booleans()),
    ("travel.speed_kmh", st.floats(-1, 80)),
    ("command_centre.triage_mean_min", st.one_of(st.floats(-1, 60), st.text(max_size=3))),
]
_good_set = st.sampled_from(_SETTINGS).flatmap(lambda kv: st.fixed_dictionaries({
    "name": st.sampled_from(["a", "b", "desk"]), "set": st.just(kv[0]),
    "values": st.lists(kv[1], min_size=1, max_size=2),
}))
_good_staff = st.fixed_dictionaries({
    "name": st.sampled_from(["a", "b", "jia"]),
    "staff": st.one_of(st.sampled_from(["甲镇", "乙镇"]),
                       st.lists(st.sampled_from(["甲镇", "乙镇", "丙镇"]), max_size=2)),
    "values": st.lists(st.integers(-1, 40), min_size=1, max_size=2),
})
_plausible = st.fixed_dictionaries(
    {"scenario": st.just("scenario.toml"), "replications": st.integers(1, 2), "days": st.floats(3, 12)},
    optional={"records": st.booleans(), "seed": st.integers(0, 99),
              "factor": st.lists(st.one_of(_good_set, _good_staff), max_size=2)},
)


@st.composite
def _mutated(draw):
    spec = draw(_plausible)
    how = draw(st.sampled_from(["none", "none", "junk key", "junk value", "junk factor"]))
    if how == "junk key":
        spec[draw(st.sampled_from(["replicatons", "factors", "x"]))] = draw(_value)
    elif how == "junk value":
        spec[draw(st.sampled_from(["replications", "days", "records", "seed", "set"]))] = draw(_value)
    elif how == "junk factor":
        spec.setdefault("factor", []).append(draw(st.one_of(_set_factor, _staff_factor, _junk_factor)))
    return spec


def _check_outcome(path: Path, out: Path, rc: int, err: str) -> None:
    assert "Traceback" not in err
    assert rc in (0, 2), err
    if rc == 2:
        lines = err.strip().splitlines()
        assert lines and all(line.startswith("error: ") for line in lines), err
        assert all(str(path) in line for line in lines), err
        assert not out.exists(), "a refused sweep must write nothing"
    else:
        assert (out / "results.parquet").exists() and (out / "summary.csv").exists()


@hyp_settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=st.one_of(_mutated(), _mutated(), _sweeps),
       raw=st.one_of(st.none(), st.none(), st.none(), st.text(max_size=40)))
def test_random_and_malformed_sweep_files_run_or_fail_cleanly(tmp_path_factory, capsys, spec, raw):
    folder = tmp_path_factory.mktemp("prop")
    path = make_sweep(folder, body="")
    path.write_text(raw if raw is not None else tomli_w.dumps(spec), encoding="utf-8")
    out = folder / "out"
    capsys.readouterr()
    rc = sweep_cli(path, out, "--workers", "1")
    _check_outcome(path, out, rc, capsys.readouterr().err)


def test_the_documented_example_sweep_is_valid():
    sweep = load_sweep(Path(__file__).absolute().parents[1] / "docs" / "sweep-example.toml")
    assert len(sweep.points) == 9 and sweep.replications == 10 and sweep.factors == ["secondment", "luocheng_staff"]

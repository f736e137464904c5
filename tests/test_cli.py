"""The command line: run folders written whole, never silently overwritten; the budget view."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import factory
from enforcement_grid.cli.cli import main
from enforcement_grid.sim import load_scenario
from enforcement_grid.sim.budget import budget_table, verdict


def test_run_writes_a_complete_run_folder(tmp_path, capsys):
    path = factory.scenario(tmp_path / "sc")
    out = tmp_path / "run"
    assert main(["run", str(path), "--replications", "2", "--days", "10", "--out", str(out), "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert "coverage" in printed and "甲镇" in printed
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["scope", "metric", "mean", "ci_low", "ci_high"]
    assert set(summary["scope"]) == {"county", "甲镇", "乙镇"}
    assert {"coverage", "coverage_street", "response_time_min", "utilisation"} <= set(summary["metric"])
    reps = pd.read_csv(out / "replications.csv")
    assert sorted(reps["rep"].unique()) == [0, 1]
    records = pd.read_csv(out / "records.csv.gz")
    assert {"violation", "town", "outcome", "occurred_min", "on_site_min", "rep"} <= set(records.columns)
    for name in ("scenario.json", "units.csv", "patrol_plan.csv", "tables/towns.csv", "tables/scenario.toml"):
        assert (out / name).exists(), name
    # the summary mean is the mean of the replications
    cov = reps[(reps["scope"] == "county") & (reps["metric"] == "coverage")]["value"].mean()
    assert summary.set_index(["scope", "metric"]).loc[("county", "coverage"), "mean"] == pytest.approx(cov)


def test_run_refuses_to_overwrite_unless_forced(tmp_path, capsys):
    path = factory.scenario(tmp_path / "sc")
    out = tmp_path / "run"
    assert main(["run", str(path), "--days", "5", "--out", str(out), "--workers", "1", "--seed", "1"]) == 0
    first = (out / "replications.csv").read_bytes()
    capsys.readouterr()
    assert main(["run", str(path), "--days", "5", "--out", str(out), "--seed", "2"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (out / "replications.csv").read_bytes() == first
    assert main(["run", str(path), "--days", "5", "--out", str(out), "--force", "--workers", "1", "--seed", "2"]) == 0
    assert (out / "replications.csv").read_bytes() != first and (out / ".egrid-output").exists()


def test_force_never_replaces_a_folder_egrid_did_not_write(tmp_path, capsys):
    path = factory.scenario(tmp_path / "sc")
    out = tmp_path / "mine"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["run", str(path), "--days", "5", "--out", str(out), "--force", "--workers", "1"]) == 2
    assert "was not written by egrid" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "mine"


def test_an_interrupted_write_leaves_no_run_folder(tmp_path, monkeypatch):
    path = factory.scenario(tmp_path / "sc")
    out = tmp_path / "run"

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    assert main(["run", str(path), "--days", "5", "--out", str(out), "--workers", "1"]) == 130
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_no_records_option_keeps_sums_only(tmp_path):
    path = factory.scenario(tmp_path / "sc")
    out = tmp_path / "run"
    assert main(["run", str(path), "--days", "5", "--out", str(out), "--no-records", "--workers", "1"]) == 0
    assert (out / "summary.csv").exists() and not (out / "records.csv.gz").exists()


def test_budget_says_plainly_when_staff_exceed_the_listed_work(capsys):
    assert main(["budget", "scenarios/huian.toml"]) == 0
    out = capsys.readouterr().out
    assert "far more than the listed work needs" in out
    table = budget_table(load_scenario("scenarios/huian.toml"))
    brigades = table[table["brigade"] != "county"]
    county = table[table["brigade"] == "county"].iloc[0]
    assert brigades["needed_hours"].sum() == pytest.approx(county["needed_hours"])
    assert len(brigades) == 12


def test_budget_reports_a_shortfall_when_staff_are_taken_away():
    sc = load_scenario("scenarios/huian.toml", ["officer_time.other_town_work_share=0.9",
                                               "officer_time.desk_share=0.6"])
    text = verdict(budget_table(sc))
    assert "short" in text


def test_budget_measure_runs_a_replication(capsys):
    assert main(["budget", "scenarios/huian.toml", "--measure", "--days", "20"]) == 0
    out = capsys.readouterr().out
    assert "Measured in one simulated run" in out and "patrol_share" in out


def test_console_script_entry_point(tmp_path):
    path = factory.scenario(tmp_path / "sc")
    proc = subprocess.run([sys.executable, "-m", "enforcement_grid.cli.cli", "run", str(path), "--days", "3",
                           "--out", str(tmp_path / "r"), "--workers", "1"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr

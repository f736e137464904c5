"""Fixtures shared by several test files."""

from __future__ import annotations

from pathlib import Path

import pytest

from enforcement_grid.sim import load_scenario
from enforcement_grid.experiments import run
from enforcement_grid.experiments.output import write_run

ROOT = Path(__file__).resolve().parents[1]
SHORT = ["scenario.horizon_days=20", "scenario.warmup_days=2"]


@pytest.fixture(scope="session")
def small_runs(tmp_path_factory):
    """Two small runs of the default scenario, after and before the reform (same seed, 2 replications):
    ``{"after": run folder, "before": run folder, "after_runset": RunSet, "before_runset": RunSet}``."""
    base = tmp_path_factory.mktemp("small_runs")
    out = {}
    for name, file in (("after", "huian.toml"), ("before", "huian-before.toml")):
        sc = load_scenario(ROOT / "scenarios" / file, SHORT)
        runset = run(sc, replications=2, workers=1)
        out[name] = write_run(base / name, sc, runset)
        out[f"{name}_runset"] = runset
    return out

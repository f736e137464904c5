"""Simulation of town-level administrative enforcement (Hui'an county reform).

The public API, in the order data flows::

    sc = load_scenario("scenarios/huian.toml")        # scenario file → validated configuration
    result = run_replication(sc, replication=0)       # configuration → records and measures
    runset = run(sc, replications=10, workers=2)      # many replications, in parallel
    runset.summary                                    # scope, metric, mean, ci_low, ci_high
"""

from .config import Scenario
from .errors import ScenarioError
from .load import load_scenario
from .measures import summarise
from .runner import RunResult, RunSet, run, run_replication

__all__ = ["Scenario", "ScenarioError", "load_scenario", "run", "run_replication", "RunResult", "RunSet", "summarise"]

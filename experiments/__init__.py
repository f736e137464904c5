"""Experiment infrastructure: replications, run folders, sweeps, and runs of several scenarios on
common random numbers.

Every scenario of an experiment runs with the same seed and replications, so replication *k* of
each sees the same violations and the differences between them are the scenarios', paired
replication by replication::

    from enforcement_grid.sim import load_scenario
    from enforcement_grid.experiments import run, run_replication

    sc = load_scenario("scenarios/huian.toml")
    result = run_replication(sc, replication=0)       # configuration → records and measures
    runset = run(sc, replications=10, workers=2)      # many replications, in parallel
    runset.summary                                    # scope, metric, mean, ci_low, ci_high

* :mod:`.runner` — one replication and many (``run_replication``, ``run``);
* :mod:`.executors` — local processes or a Dask cluster, the same numbers either way;
* :mod:`.output` — the run folder, written whole or not at all;
* :mod:`.sweep` — grids of settings and staffing × replications, resumable;
* :mod:`.replay` — one town simulated with the other towns' department work replayed;
* :mod:`.levers` — which settings carry a difference between two scenarios: one-at-a-time
  effects and Shapley shares of named levers, each with a paired 95 % CI.
"""

from .levers import Decomposition, Lever, decompose, lever_from_target, with_settings
from .runner import RunResult, RunSet, run, run_replication

__all__ = ["Decomposition", "Lever", "decompose", "lever_from_target", "with_settings",
           "RunResult", "RunSet", "run", "run_replication"]

"""The simulation of town-level administrative enforcement (Hui'an county reform).

scenario file → validated configuration → SimPy model → records → measures::

    sc = load_scenario("scenarios/huian.toml")        # scenario file → validated configuration
    model = Model(sc, replication=0)                  # one replication (sim.model)
    summarise(metrics)                                # replications → mean and CI (sim.measures)

Running replications — one or many, in parallel, with run folders and sweeps — is
experiment infrastructure: :mod:`enforcement_grid.experiments` (``run``,
``run_replication``).  Nothing here imports it.
"""

from .config import Scenario
from .errors import ScenarioError
from .load import load_scenario
from .measures import summarise

__all__ = ["Scenario", "ScenarioError", "load_scenario", "summarise"]

"""Experiment infrastructure: runs of several scenarios on common random numbers.

Every scenario of an experiment runs with the same seed and replications, so
replication *k* of each sees the same violations and the differences between
them are the scenarios', paired replication by replication.

* :mod:`.levers` — which settings carry a difference between two scenarios: the
  one-at-a-time effects and the Shapley shares of named levers, each with a
  paired 95 % CI.

(The runner and sweep machinery of :mod:`enforcement_grid.sim` is to move here
too.)
"""

from .levers import Decomposition, Lever, decompose, lever_from_target, with_settings

__all__ = ["Decomposition", "Lever", "decompose", "lever_from_target", "with_settings"]

"""enforcement_grid — plan town-level administrative enforcement (the Hui'an county reform).

One import package, installed from the repository's folders:

* :mod:`enforcement_grid.sim` (``sim/``) — scenario file → validated configuration → SimPy model
  → records → measures;
* :mod:`enforcement_grid.optimize` (``optimize/``) — post allocation, patrol plans, the
  simulation–optimisation loop;
* :mod:`enforcement_grid.report` (``report/``) — charts, comparisons, HTML and Excel reports;
* :mod:`enforcement_grid.cli` (``cli/``) — the ``egrid`` command line.

Importing this package imports none of them: each is loaded when first used, so that
``egrid --help`` stays quick.
"""

__version__ = "0.1.0"

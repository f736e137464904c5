"""What the results rest on: ranges of the estimates, global sensitivity, decisions that hold up.

``egrid uncertainty`` (cli/uncertainty_cmd.py) runs a study: the scenario's
``[uncertainty]`` ranges (:mod:`.ranges`) drawn by a Morris or Sobol' design
(:mod:`.design`), every draw run for the current scenario, its before-the-reform
counterpart and each plan with common random numbers (:mod:`.runner`), then the
headlines and their two kinds of interval (:mod:`.headlines`), sensitivity
indices, plan-against-plan decisions and regret (:mod:`.decisions`), history
matching against the county's ``[observed]`` figures (:mod:`.history`) and the
tables, tornado charts and conclusion (:mod:`.report`, :mod:`.charts`).
"""

from .ranges import Range, apply, read_ranges
from .runner import Study, build_study, run_study

__all__ = ["Range", "apply", "read_ranges", "Study", "build_study", "run_study"]

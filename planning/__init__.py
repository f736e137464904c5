"""One plan for a county: posts, rotas and patrols chosen together, credited lever by lever (``egrid plan``).

:mod:`.optimise` chooses the plan (posts per brigade and source with certified
officers, each brigade's duty rota among the scenario's shift patterns, patrol
visits per village and the weekly timetable); :mod:`.scenario_file` writes it as
a self-contained scenario that ``egrid run`` reproduces; :mod:`.experiment`
simulates the plan against today, a population-proportional plan and before the
reform on common random numbers and credits each lever (Shapley shares with
paired CIs); :mod:`.enough` asks whether the posts are enough; :mod:`.plan`
writes the plan folder whole or not at all.  Stage: after the optimiser and the
simulator, before the report (nothing here imports from ``report``).
"""

from .optimise import Optimised, optimise
from .plan import PlanOptions, make_plan

__all__ = ["Optimised", "optimise", "PlanOptions", "make_plan"]

"""The one place a solver is built and a solve is judged.

The solver is HiGHS through ``highspy`` (installed with the project), driven by
PuLP 3.3's ``HiGHS`` interface.  PuLP 3.3 is the last line that still bundles CBC;
we do not rely on it.  Every solve has a relative gap and a time limit, and the
result says whether optimality was *proven*: after a time limit PuLP reports
``Optimal`` as its status while the solution status is only "integer feasible",
so both are read, and the gap actually reached is taken from HiGHS itself.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from dataclasses import dataclass

import pulp

DEFAULT_GAP = 1e-4
DEFAULT_TIME_LIMIT_S = 30.0


@dataclass(frozen=True)
class SolveReport:
    """How a solve ended: status words, whether optimality is proven, the gap reached, timings."""

    status: str  # "optimal", "feasible" (stopped early with a solution), "infeasible", "unbounded", "not solved"
    proven_optimal: bool
    gap: float  # relative gap reached (0 when proven optimal; NaN when unknown)
    objective: float
    build_s: float
    solve_s: float

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")


@contextlib.contextmanager
def _quiet_stdout():
    """HiGHS prints its banner from C++ when it starts, before ``output_flag`` can be set:
    send file descriptor 1 to /dev/null for the solve, so command-line output stays ours."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # no real stdout (e.g. captured): nothing to silence
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def make_solver(time_limit_s: float = DEFAULT_TIME_LIMIT_S, gap: float = DEFAULT_GAP, threads: int | None = None):
    """HiGHS with a relative gap and a time limit, quiet."""
    return pulp.HiGHS(msg=False, gapRel=gap, timeLimit=time_limit_s, threads=threads)


def solve(problem: pulp.LpProblem, time_limit_s: float = DEFAULT_TIME_LIMIT_S, gap: float = DEFAULT_GAP,
          build_s: float = 0.0) -> SolveReport:
    """Solve and report; never read variable values without checking ``has_solution`` first."""
    solver = make_solver(time_limit_s, gap)
    t0 = time.perf_counter()
    with _quiet_stdout():
        problem.solve(solver)
    solve_s = time.perf_counter() - t0
    status = pulp.LpStatus[problem.status]
    sol = problem.sol_status
    if status == "Infeasible":
        word = "infeasible"
    elif status == "Unbounded":
        word = "unbounded"
    elif sol == pulp.LpSolutionOptimal:
        word = "optimal"
    elif sol == pulp.LpSolutionIntegerFeasible:
        word = "feasible"
    else:
        word = "not solved"
    reached = math.nan
    highs = getattr(problem, "solverModel", None)
    if highs is not None and word in ("optimal", "feasible"):
        try:
            info = highs.getInfo()
            reached = float(info.mip_gap) if math.isfinite(info.mip_gap) else 0.0
            if not any(v.cat == pulp.LpInteger for v in problem.variables()):
                reached = 0.0
        except Exception:  # an LP has no MIP info
            reached = 0.0
    proven = word == "optimal" and (math.isnan(reached) or reached <= gap + 1e-12)
    objective = float(pulp.value(problem.objective)) if word in ("optimal", "feasible") else math.nan
    return SolveReport(word, proven, reached, objective, build_s, solve_s)

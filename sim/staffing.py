"""A scenario with other staff: the one home of "this scenario, restaffed" and of splitting whole posts.

Sweeps scale one brigade's officers (:func:`sim.sweep.restaff`) and the optimiser
hands the simulator a new allocation (:func:`optimize.export.with_plan`); both
build the new scenario here, so the county's ``staffing.sources`` totals (F3)
always follow the staffing table and the result is checked like a loaded scenario.
Whole posts are shared in proportion to weights by :func:`largest_remainder`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

from .config import Scenario, StaffingRow
from .load import check_references


def largest_remainder(total: int, weights):
    """Split a whole number ``total`` in proportion to ``weights`` (negative weights count as 0).

    Each share is rounded down, and the units left over go to the largest
    remainders (ties: the first).  ``weights`` a mapping → a dict of the same keys;
    a sequence → a list in the same order.  All zeros when ``total`` ≤ 0 or no weight is positive.
    """
    if isinstance(weights, Mapping):
        keys = list(weights)
        return dict(zip(keys, largest_remainder(total, [weights[k] for k in keys]), strict=True))
    w = [max(0.0, float(x)) for x in weights]
    s = sum(w)
    if total <= 0 or s <= 0:
        return [0] * len(w)
    exact = [total * x / s for x in w]
    base = [math.floor(x) for x in exact]
    order = sorted(range(len(w)), key=lambda i: -(exact[i] - base[i]))
    for i in order[: total - sum(base)]:
        base[i] += 1
    return base


def with_staffing(sc: Scenario, staffing: Sequence[StaffingRow], patrol_plan=None) -> Scenario:
    """The scenario with another staffing table (and, if given, patrol plan), validated.

    ``staffing.sources`` becomes the new table's officers by source: the sources
    the scenario lists keep their order, a source new to it is added when it has
    officers.  ``patrol_plan`` (rows of :class:`sim.config.PatrolVisit`): None keeps the scenario's.
    """
    totals: dict[str, int] = {}
    for r in staffing:
        totals[r.source] = totals.get(r.source, 0) + r.officers
    sources = {k: totals.get(k, 0) for k in sc.settings.staffing.sources}
    sources.update({k: n for k, n in totals.items() if k not in sources and n})
    settings = sc.settings.model_copy(
        update={"staffing": sc.settings.staffing.model_copy(update={"sources": sources})}
    )
    plan = sc.patrol_plan if patrol_plan is None else tuple(patrol_plan)
    out = dataclasses.replace(sc, settings=settings, staffing=tuple(staffing), patrol_plan=plan)
    check_references(out)
    return out

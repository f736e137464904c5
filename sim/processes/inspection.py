"""Business inspections (F8): how many a brigade makes, which business each visits, what it checks.

A brigade's towns owe ``visits_per_business`` inspections a year per business,
spread over its working days.  Each visit goes to a village of its towns in
proportion to businesses, then to a business there uniformly, and meets one
department's obligation (drawn in proportion to the obligations) or, as a joint
visit, every department's.  The visit checks the latent violations of that
business (of that department's items, unless joint).  Whether the team sees
one is the inspection channel's rule (:mod:`sim.processes.channels`).
"""

from __future__ import annotations

import numpy as np


class Inspection:
    """Inspection planning and the violations a visit checks (the inspection channel's first half)."""

    def __init__(self, sc, env, streams, watch):
        s = sc.settings
        self.env = env
        self.streams = streams
        self.watch = watch
        self.items = sc.items
        self.joint = s.inspection.joint
        self.visit_min = s.inspection.visit_min
        self.priority = s.command_centre.inspection_priority  # in a brigade's queue (lower first)
        self.visits_per_business = s.inspection.visits_per_business()
        rates = s.inspection.obligations
        self.departments = [d for d, r in rates.items() if r > 0]
        weights = np.array([rates[d] for d in self.departments], float)
        self.cum = np.cumsum(weights) / weights.sum() if weights.size else np.zeros(0)
        self.village_businesses = np.array([v.businesses for v in sc.villages], np.int64)

    def per_day(self, businesses: int, pattern) -> float:
        """Inspections a brigade makes each working day, for ``businesses`` in its towns."""
        per_year = businesses * self.visits_per_business
        return per_year / (len(pattern.working_days) * 365.0 / 7.0) if pattern.working_days else 0.0

    def pick_business(self, unit) -> tuple[int, int, str | None]:
        """A business of the unit's towns for an inspection (village ∝ businesses, then uniform),
        and the department whose obligation the visit meets (None for a joint visit)."""
        rng = self.streams.for_unit("inspection", unit.name)
        u_village, u_business, u_dept = rng.random(3)
        department = None
        if not self.joint and self.departments:
            j = int(np.searchsorted(self.cum, u_dept, side="right"))
            department = self.departments[min(j, len(self.departments) - 1)]
        if unit.business_cum is None:
            return int(unit.served_villages[0]), -1, department
        i = int(np.searchsorted(unit.business_cum, u_village, side="right"))
        village = int(unit.served_villages[min(i, len(unit.served_villages) - 1)])
        n = int(self.village_businesses[village])
        return village, (int(u_business * n) if n > 0 else -1), department

    def checked(self, village: int, business: int, department: str | None) -> list:
        """Latent violations at the business that this visit checks (all items on a joint visit)."""
        found = self.watch.visible_at_business(village, business, self.env.now)
        if department is None:
            return found
        return [v for v in found if self.items[v.item].department == department]

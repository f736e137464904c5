"""Business inspections (F8): how many a brigade makes, which business each visits, what it checks.

A brigade's towns owe ``visits_per_business`` inspections a year per business,
spread over its working days.  Each visit goes to a village of its towns in
proportion to businesses, then to a business there uniformly, and meets one
department's obligation (drawn in proportion to the obligations) or, as a joint
visit, every department's.  The visit checks the latent violations of that
business (of that department's items, unless joint).  Whether the team sees
one is the inspection channel's rule (:mod:`sim.processes.channels`).

**Targeting** (``inspection.targeted_share`` etc.): the first
``high_risk_business_share`` of each village's businesses form its high-risk group
(:func:`high_risk_count`, the one rule both sides use); business items arise there
``high_risk_rate_factor`` times as often per business (:meth:`BusinessRisk.arising`,
used by the model when a violation arises), and a share ``targeted_share`` of the
visits goes to a business of the group (village ∝ its high-risk businesses).
"""

from __future__ import annotations

import bisect

import numpy as np


def high_risk_count(businesses: int, share: float) -> int:
    """How many of a village's businesses are high risk: the first ``round(share × businesses)``."""
    return int(round(share * businesses)) if businesses > 0 else 0


class BusinessRisk:
    """Which business of a village a business item arises at: the high-risk group weighted."""

    def __init__(self, settings):
        self.share = settings.high_risk_business_share
        self.factor = settings.high_risk_rate_factor

    def arising(self, u: float, businesses: int) -> int:
        """Business index for a uniform ``u`` (the violation's pre-drawn one): high-risk
        businesses (the first k) are ``factor`` times as likely each as the others."""
        n = businesses
        k = high_risk_count(n, self.share)
        if k == 0 or k == n or self.factor == 1.0:
            return min(int(u * n), n - 1)
        p = k * self.factor / (k * self.factor + (n - k))  # chance the violation is in the group
        if u < p:
            return min(int(u / p * k), k - 1)
        return k + min(int((u - p) / (1.0 - p) * (n - k)), n - k - 1)


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
        self.targeted_share = s.inspection.targeted_share
        self.high_risk = np.array([high_risk_count(int(n), s.inspection.high_risk_business_share)
                                   for n in self.village_businesses], np.int64)
        # plain-Python copies of what each visit reads (a numpy scalar call costs more than the lookup)
        self._cum_list = self.cum.tolist()
        self._businesses_list = self.village_businesses.tolist()
        self._high_risk_list = self.high_risk.tolist()
        self._unit_lists: dict[str, tuple] = {}  # unit → (served villages, business shares, high-risk shares)

    def per_day(self, businesses: int, pattern) -> float:
        """Inspections a brigade makes each working day, for ``businesses`` in its towns."""
        per_year = businesses * self.visits_per_business
        return per_year / (len(pattern.working_days) * 365.0 / 7.0) if pattern.working_days else 0.0

    def pick_business(self, unit) -> tuple[int, int, str | None]:
        """A business of the unit's towns for an inspection (village ∝ businesses, then uniform),
        and the department whose obligation the visit meets (None for a joint visit)."""
        rng = self.streams.uniforms_for_unit("inspection", unit.name)
        if self.targeted_share > 0.0:  # one more draw only when targeting is on (old runs unchanged)
            u_village, u_business, u_dept, u_target = rng.random(4)
        else:
            (u_village, u_business, u_dept), u_target = rng.random(3), 1.0
        department = None
        if not self.joint and self.departments:
            j = bisect.bisect_right(self._cum_list, u_dept)  # = searchsorted(side="right")
            department = self.departments[min(j, len(self.departments) - 1)]
        served, business_cum, high_cum = self._lists(unit)
        if business_cum is None:
            return served[0], -1, department
        high = high_cum if u_target < self.targeted_share else None
        cum = business_cum if high is None else high
        i = bisect.bisect_right(cum, u_village)
        village = served[min(i, len(served) - 1)]
        n = self._businesses_list[village] if high is None else self._high_risk_list[village]
        return village, (min(int(u_business * n), n - 1) if n > 0 else -1), department

    def _lists(self, unit) -> tuple:
        """The unit's served villages and cumulative shares as lists (made at its first visit)."""
        lists = self._unit_lists.get(unit.name)
        if lists is None:
            cum = unit.business_cum
            high = self._high_risk_shares(unit) if cum is not None and self.targeted_share > 0.0 else None
            lists = self._unit_lists[unit.name] = (
                unit.served_villages.tolist(), cum.tolist() if cum is not None else None,
                high.tolist() if high is not None else None)
        return lists

    def _high_risk_shares(self, unit) -> np.ndarray | None:
        """Cumulative shares of the unit's villages in its high-risk businesses (None: there are none);
        worked out once per unit, by :meth:`_lists`."""
        w = self.high_risk[unit.served_villages].astype(float)
        return np.cumsum(w) / w.sum() if w.sum() > 0 else None

    def checked(self, village: int, business: int, department: str | None) -> list:
        """Latent violations at the business that this visit checks (all items on a joint visit)."""
        found = self.watch.visible_at_business(village, business, self.env.now)
        if department is None:
            return found
        return [v for v in found if self.items[v.item].department == department]

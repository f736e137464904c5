"""How a violation stops being unseen (F7, F8, F10, F12).

Three passive channels and two active ones compete; the first discovery counts.

* **Grid worker**: noticed at rate ``grid_notice_per_day`` (of the class) × the
  grid coverage of the village (grid workers ÷ grids, at most one); the report
  reaches the command centre after an exponential delay (``grid.report_delay_mean_min``).
* **Citizen complaint**: at rate ``complaint_per_day`` while the violation is
  noticeable (exponential, mean ``noticeable_days``); relayed after
  ``complaint.relay_delay_mean_min``.
* **Patrol** and **inspection** visits (see :mod:`sim.processes.brigade`) look at
  the latent violations of the village or business they visit.

The passive times do not depend on anything else in the model, so they are drawn
when the violation arises and the report is scheduled as one event; a patrol that
comes first marks the violation found and the scheduled report is ignored.  Each
channel's rule is a policy object in :mod:`sim.processes.channels`; this module
holds the violation itself, the grid-coverage rule and the watch of latent ones.
"""

from __future__ import annotations

import math

NAN = math.nan


class Violation:
    """A violation during the run: what it is, its pre-drawn randomness, and its stage times."""

    __slots__ = (
        "id", "t", "village", "item", "klass", "town", "brigade", "handled", "severity",
        "business", "t_passive", "passive_channel", "report_delay", "triage_delay",
        "transfer_delay", "on_site_dur", "outcome_u", "travel_z", "county_travel_z",
        "channel", "t_disc", "t_report", "t_transfer", "t_dispatch", "t_onsite", "t_closed",
        "outcome", "handler", "team", "found", "stock", "return_u", "returned", "area", "cost_h",
        "t_filed", "t_review_req", "t_review", "deadline",
    )

    def __init__(self, vid, t, village, item, klass):
        self.id = vid
        self.t = t
        self.village = village
        self.item = item
        self.klass = klass
        self.channel = ""
        self.t_disc = NAN
        self.t_report = NAN
        self.t_transfer = NAN
        self.t_dispatch = NAN
        self.t_onsite = NAN
        self.t_closed = NAN
        self.outcome = ""
        self.handler = ""
        self.team = ""
        self.found = False
        self.stock = False
        self.returned = False
        self.area = NAN
        self.cost_h = NAN
        self.t_filed = NAN
        self.t_review_req = NAN
        self.t_review = NAN
        self.deadline = NAN


def grid_coverage(grid_workers: float, population: int, residents_per_grid: float) -> float:
    """Share of a village's grids watched by a full-time grid worker (at most one)."""
    grids = max(1.0, population / residents_per_grid)
    return min(1.0, grid_workers / grids)


class Watch:
    """The latent (unseen) violations of each village and each business.

    Patrols look at a village's list, inspections at one business's.  A violation
    whose passive discovery time has passed is already on its way to the command
    centre: visits skip it.
    """

    def __init__(self, n_villages: int):
        self.by_village: list[dict[int, Violation]] = [dict() for _ in range(n_villages)]
        self.by_business: dict[tuple[int, int], list[Violation]] = {}

    def add(self, v: Violation) -> None:
        self.by_village[v.village][v.id] = v
        if v.business >= 0:
            self.by_business.setdefault((v.village, v.business), []).append(v)

    def remove(self, v: Violation) -> None:
        self.by_village[v.village].pop(v.id, None)
        if v.business >= 0:
            lst = self.by_business.get((v.village, v.business))
            if lst is not None:
                try:
                    lst.remove(v)
                except ValueError:
                    pass
                if not lst:
                    del self.by_business[(v.village, v.business)]

    def visible_in_village(self, village: int, now: float) -> list[Violation]:
        """Latent violations in the village that nobody has noticed yet at ``now``."""
        return [v for v in self.by_village[village].values() if v.t_passive > now]

    def visible_at_business(self, village: int, business: int, now: float) -> list[Violation]:
        return [v for v in self.by_business.get((village, business), ()) if v.t_passive > now]

    def latent_count(self) -> int:
        return sum(len(d) for d in self.by_village)


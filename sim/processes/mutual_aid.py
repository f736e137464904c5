"""Neighbouring brigades help (左右协同): who the command centre asks when a brigade cannot act.

Each brigade has a **preference list** of the other brigades, nearest first by
mean travel time base to base (the one travel table, :mod:`sim.travel`), only
those within ``mutual_aid.max_travel_min``.  When the home brigade of a report
has no free team on duty and either no team on duty at all or ``queue_threshold``
jobs or more waiting, the report goes to the first brigade of the list with a free
team on duty (a fixed-preference dispatch, as in Larson's hypercube model); if
none has one, it waits in the home brigade's queue as before.  The home brigade
keeps the case (filing, lifecycle); the helper's team acts on site.
"""

from __future__ import annotations


def preference_lists(bases: dict[str, int], mean_min, max_travel_min: float) -> dict[str, list[str]]:
    """Brigade → the other brigades within ``max_travel_min`` of its base, nearest first (ties by name)."""
    out: dict[str, list[str]] = {}
    for home, a in bases.items():
        others = [(mean_min[a][b], name) for name, b in bases.items() if name != home]
        out[home] = [name for minutes, name in sorted(others) if minutes <= max_travel_min]
    return out


class MutualAid:
    """The command centre's rule for asking a neighbour (``settings``: the scenario's ``[mutual_aid]``)."""

    def __init__(self, settings, units: dict, preferences: dict[str, list[str]]):
        self.threshold = settings.queue_threshold
        self.units = units
        self.preferences = preferences

    def helper(self, home, now: float):
        """The brigade to send instead of ``home`` (a unit), or None to leave the report with it."""
        if home.has_free_team():
            return None
        if home.any_on_duty(now) and len(home.dispatcher) < self.threshold:
            return None
        for name in self.preferences.get(home.name, ()):
            unit = self.units[name]
            if unit.has_free_team():
                return unit
        return None

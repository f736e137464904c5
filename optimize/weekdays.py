"""Patrol days in a week: which days a village can be visited on, and how full each day is.

Shared by the coverage approximation (which chooses visits a week per village)
and the patrol model (which chooses the days), so both see the same limits:
a village is never patrolled on two consecutive calendar days (F12: visits
spread over the week), and a day holds at most its patrol teams' route time.
"""

from __future__ import annotations

from itertools import combinations


def day_patterns(days: list[int], visits: int) -> list[tuple[int, ...]]:
    """Sets of ``visits`` working days with no two consecutive calendar days (Sunday → Monday counts)."""
    if visits <= 0:
        return [()]
    out = []
    for combo in combinations(sorted(days), visits):
        if all((b - a) % 7 != 1 and (a - b) % 7 != 1 for a, b in combinations(combo, 2)):
            out.append(combo)
    return out


def most_visits(days: list[int], cap: int) -> int:
    """The most visits a week that can be spread without consecutive days, at most ``cap``."""
    f = 0
    while f < cap and day_patterns(days, f + 1):
        f += 1
    return f


class DayLoad:
    """Minutes of patrol booked on each working day against a daily capacity."""

    def __init__(self, days: list[int], capacity_min: float):
        self.days = sorted(days)
        self.capacity = capacity_min
        self.load = {d: 0.0 for d in self.days}
        self.booked: dict[object, tuple[tuple[int, ...], float]] = {}

    def place(self, key, cost_min: float, visits: int) -> bool:
        """Book ``visits`` days for ``key`` (replacing its booking) on the pattern that keeps days emptiest."""
        old = self.booked.pop(key, None)
        if old is not None:
            for d in old[0]:
                self.load[d] -= old[1]
        best = None
        for pattern in day_patterns(self.days, visits):
            if all(self.load[d] + cost_min <= self.capacity + 1e-9 for d in pattern):
                peak = max((self.load[d] + cost_min for d in pattern), default=0.0)
                if best is None or peak < best[0]:
                    best = (peak, pattern)
        if best is None:
            if old is not None:  # put the old booking back
                self.booked[key] = old
                for d in old[0]:
                    self.load[d] += old[1]
            return False
        for d in best[1]:
            self.load[d] += cost_min
        self.booked[key] = (best[1], cost_min)
        return True

    @property
    def total(self) -> float:
        return sum(self.load.values())

"""Simulation clock ↔ calendar: minute 0 is Monday 00:00 of the first week.

All model times are minutes since the start of the run.
"""

from __future__ import annotations

import math

from .config import MIN_PER_DAY, MIN_PER_WEEK, ShiftPattern


def exact_delay(now: float, at: float) -> float:
    """A delay that brings a SimPy clock at ``now`` to exactly ``at`` (``now + delay == at`` in floating point)."""
    d = at - now
    while now + d < at:
        d = math.nextafter(d, math.inf)
    while now + d > at:
        d = math.nextafter(d, -math.inf)
    return d


def day_index(t_min: float) -> int:
    """Whole days since the start (day 0 is a Monday)."""
    return int(t_min // MIN_PER_DAY)


def weekday(t_min: float) -> int:
    """0 = Monday … 6 = Sunday."""
    return int(t_min // MIN_PER_DAY) % 7


def rota_weekday(day: int, holidays=frozenset()) -> int:
    """The weekday whose rota runs on ``day``: a public holiday runs the Sunday rota (holiday duty,
    节假日值班), any other day its own weekday (0 = Monday).  ``holidays``: day numbers of the working
    calendar (``lifecycle.holidays``)."""
    return 6 if day in holidays else day % 7


def shift_windows(pattern: ShiftPattern, day: int, holidays=frozenset()) -> list[tuple[str, float, float]]:
    """The shifts running on ``day`` as ``(shift name, start, end)`` in model minutes."""
    wd = rota_weekday(day, holidays)
    base = day * MIN_PER_DAY
    return [
        (s.name, base + s.start_min, base + s.end_min)
        for s in pattern.shifts
        if wd in s.weekday_numbers
    ]


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    """Length of the overlap of [a0, a1) and [b0, b1), 0 if none."""
    return max(0.0, min(a1, b1) - max(a0, b0))


def days_in(horizon_min: float) -> int:
    """Number of (possibly partial) days a run of ``horizon_min`` touches."""
    return int(-(-horizon_min // MIN_PER_DAY))


__all__ = ["MIN_PER_DAY", "MIN_PER_WEEK", "day_index", "weekday", "rota_weekday", "shift_windows", "overlap",
           "days_in"]


class WorkCalendar:
    """Working time: working weekdays, a daily window and holidays (for case time limits, F15).

    ``add(t, minutes)`` is the model time after ``minutes`` of working time from
    ``t``; outside working time the clock of a case stands still.
    """

    def __init__(self, weekdays: tuple[int, ...], start_min: int, end_min: int, holidays: tuple[int, ...] = ()):
        self.weekdays = frozenset(weekdays)
        self.start = start_min
        self.end = end_min
        self.holidays = frozenset(holidays)
        self.day_min = end_min - start_min

    def is_working_day(self, day: int) -> bool:
        return day % 7 in self.weekdays and day not in self.holidays

    def add(self, t: float, minutes: float) -> float:
        day = int(t // MIN_PER_DAY)
        clock = t - day * MIN_PER_DAY
        left = minutes
        for _ in range(100_000):  # at most ~270 years of working days
            if self.is_working_day(day):
                begin = max(clock, self.start)
                if begin < self.end:
                    room = self.end - begin
                    if left <= room:
                        return day * MIN_PER_DAY + begin + left
                    left -= room
            day += 1
            clock = 0.0
        if not self.weekdays or self.day_min <= 0:
            raise ValueError("the working calendar has no working time (lifecycle.working_days, day_start, day_end)")
        raise ValueError(
            f"{minutes / self.day_min:,.0f} working days from day {int(t // MIN_PER_DAY)} do not end within "
            f"100,000 days (about 270 years): a case time limit (lifecycle.decision_working_days) or case work "
            f"that long cannot be simulated; expected a time limit of working days that ends within the calendar"
        )

    def working_days_to_minutes(self, days: float) -> float:
        return days * self.day_min

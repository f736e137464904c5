"""Simulation clock ↔ calendar: minute 0 is Monday 00:00 of the first week.

All model times are minutes since the start of the run.
"""

from __future__ import annotations

from .config import MIN_PER_DAY, MIN_PER_WEEK, ShiftPattern


def day_index(t_min: float) -> int:
    """Whole days since the start (day 0 is a Monday)."""
    return int(t_min // MIN_PER_DAY)


def weekday(t_min: float) -> int:
    """0 = Monday … 6 = Sunday."""
    return int(t_min // MIN_PER_DAY) % 7


def shift_windows(pattern: ShiftPattern, day: int) -> list[tuple[str, float, float]]:
    """The shifts running on ``day`` as ``(shift name, start, end)`` in model minutes."""
    wd = day % 7
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


__all__ = ["MIN_PER_DAY", "MIN_PER_WEEK", "day_index", "weekday", "shift_windows", "overlap", "days_in"]

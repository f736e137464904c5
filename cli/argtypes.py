"""Command-line value types: a wrong value is an argparse error (one line, exit status 2)."""

from __future__ import annotations

import argparse
import math


def _number(cast, what: str, lowest: float, strictly_above: bool):
    """A parser for ``cast`` values of at least (or above) ``lowest``, finite."""
    bound = f"above {lowest:g}" if strictly_above else f"of at least {lowest:g}"

    def parse(text: str):
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not math.isfinite(value) or (value <= lowest if strictly_above else value < lowest):
            raise argparse.ArgumentTypeError(f"expected {what} {bound}, got {text!r}")
        return value

    parse.__name__ = f"{cast.__name__}_{'above' if strictly_above else 'from'}_{lowest:g}"
    return parse


positive_int = _number(int, "a whole number", 1, strictly_above=False)
nonnegative_int = _number(int, "a whole number", 0, strictly_above=False)
positive_float = _number(float, "a number", 0, strictly_above=True)
nonnegative_float = _number(float, "a number", 0, strictly_above=False)


def share(text: str) -> float:
    """A share between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share between 0 and 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a share between 0 and 1, got {text!r}")
    return value


def run_days(text: str) -> float:
    """A run length in days: above 0, at most 36,500 (100 years; sim.size.MAX_HORIZON_DAYS)."""
    from enforcement_grid.sim.size import MAX_HORIZON_DAYS

    value = positive_float(text)
    if value > MAX_HORIZON_DAYS:
        raise argparse.ArgumentTypeError(
            f"expected a number of days above 0 and at most {MAX_HORIZON_DAYS:,.0f} (100 years), got {text!r}")
    return value

"""How big a run will be, estimated before it starts: refuse one that would not finish or not fit.

A run's cost grows with the violations it creates (each is a SimPy process, a
record and a row of every table), and with its length in days (rosters, shift
clocks and the timeline are built day by day).  Both are known before anything
runs: the violations from the rate table (:func:`sim.processes.violations.rate_table`,
the same expected rates the arrivals are drawn from) times the run length, plus
the stock of old violations at the start.  A run above the limits is refused
with a message naming the setting that causes it and how to go past the limit.
"""

from __future__ import annotations

import numpy as np

from .config import DAYS_PER_YEAR, Scenario
from .errors import ScenarioError

MAX_HORIZON_DAYS = 36_500.0  # 100 years: longer runs are a unit slip (minutes or hours typed as days)
# Violations in one replication.  The default Hui'an scenario creates about 18,000 a year, so the
# limit allows about 110 simulated Hui'an years per replication (about 2 minutes and, with records
# kept, roughly a gigabyte); one item with annual_rate = 1e9 would otherwise fill the memory in a minute.
DEFAULT_MAX_VIOLATIONS = 2_000_000


def expected_violations(sc: Scenario) -> tuple[float, dict[str, float]]:
    """Expected violations of one replication: the total, and each item's share of it (item code → count)."""
    from .processes.violations import rate_table

    s = sc.settings.scenario
    rates = rate_table(sc)
    years = s.horizon_days / DAYS_PER_YEAR
    by_item = np.bincount(rates.item, weights=rates.per_year, minlength=len(sc.items)) * years
    items = {it.code: float(n) for it, n in zip(sc.items, by_item, strict=True)}
    stock = sc.settings.stock.violations if sc.settings.stock is not None else 0
    return float(by_item.sum()) + stock, items


def check_size(sc: Scenario, max_violations: int | None = DEFAULT_MAX_VIOLATIONS,
               option: str = "--max-violations") -> float:
    """Refuse a run longer than :data:`MAX_HORIZON_DAYS` or expected to create more than ``max_violations``
    violations in one replication (None: no limit on violations).  Returns the expected count."""
    s = sc.settings.scenario
    settings_file = sc.files.get("settings", "the scenario")
    if not np.isfinite(s.horizon_days) or s.horizon_days > MAX_HORIZON_DAYS:
        raise ScenarioError(
            f"{settings_file}: scenario.horizon_days: expected at most {MAX_HORIZON_DAYS:,.0f} days (100 years); "
            f"got {s.horizon_days:g}"
        )
    total, items = expected_violations(sc)
    if max_violations is None or total <= max_violations:
        return total
    code, most = max(items.items(), key=lambda kv: kv[1]) if items else ("", 0.0)
    length = f"{s.horizon_days:g} days (scenario.horizon_days)"
    if most >= total / 2:
        item = next(i for i in sc.items if i.code == code)
        cause = (f"{sc.files.get('items', 'items')}: item {code}: annual_rate = {item.annual_rate:g} "
                 f"makes about {most:,.0f} of them")
    else:
        cause = f"the rates in {sc.files.get('items', 'items')} over {length} make them"
    raise ScenarioError(
        f"{cause}: one replication of {length} would create about {total:,.0f} violations; expected at most "
        f"{max_violations:,} ({option}). Lower the rate, shorten the run, or give {option} N to allow more "
        f"if the machine has the time and memory"
    )


__all__ = ["MAX_HORIZON_DAYS", "DEFAULT_MAX_VIOLATIONS", "expected_violations", "check_size"]

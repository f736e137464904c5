"""Statistics against exact theory: the M/M/c reduction of the model against Erlang C.

One town, one village at the base, one item, constant-rate Poisson arrivals,
exponential on-site time, no travel, no triage, immediate discovery and c teams
around the clock: the model is an M/M/c queue, so the probability of waiting and
the mean wait must match the Erlang C formula within the replications' 95 %
confidence interval (widened to 99.9 % so a correct model fails about once in a
thousand runs, not once in twenty).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import factory
from enforcement_grid.sim import load_scenario
from enforcement_grid.experiments import run


def erlang_c(c: int, lam: float, mu: float) -> tuple[float, float]:
    """(P(wait > 0), mean wait) of an M/M/c queue; rates per minute."""
    a = lam / mu
    below = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) * c / (c - a)
    p_wait = top / (below + top)
    return p_wait, p_wait / (c * mu - lam)


def _per_rep(runset):
    rows = []
    warmup = runset.scenario.settings.scenario.warmup_min
    for r in runset.results:
        rec = r.records[r.records["occurred_min"] >= warmup]
        wait = (rec["on_site_min"] - rec["reported_min"]).dropna()
        rows.append(((wait > 1e-9).mean(), wait.mean()))
    return np.array(rows)


def _ci(x: np.ndarray, level: float = 0.999) -> tuple[float, float]:
    m, se = x.mean(), x.std(ddof=1) / math.sqrt(len(x))
    h = stats.t.ppf(0.5 + level / 2, len(x) - 1) * se
    return m - h, m + h


@pytest.mark.parametrize("c, per_hour, service_min", [(1, 1.2, 30.0), (3, 4.0, 30.0), (5, 6.0, 40.0)])
def test_mmc_matches_erlang_c(tmp_path, c, per_hour, service_min):
    sc = load_scenario(factory.mmc(tmp_path, per_hour, service_min, c, days=60.0, replications=8))
    runset = run(sc, workers=1)
    per_rep = _per_rep(runset)
    p_wait, wq = erlang_c(c, per_hour / 60.0, 1.0 / service_min)
    lo, hi = _ci(per_rep[:, 0])
    assert lo <= p_wait <= hi, f"P(wait) CI [{lo:.3f}, {hi:.3f}] misses Erlang C {p_wait:.3f}"
    lo, hi = _ci(per_rep[:, 1])
    assert lo <= wq <= hi, f"mean wait CI [{lo:.2f}, {hi:.2f}] min misses Erlang C {wq:.2f}"


def test_utilisation_is_offered_load_per_team(tmp_path):
    """Time-weighted utilisation of c teams equals λ/(cμ) (area accumulation, not sampling)."""
    c, per_hour, service = 3, 4.0, 30.0
    sc = load_scenario(factory.mmc(tmp_path, per_hour, service, c, days=60.0, replications=6))
    runset = run(sc, workers=1)
    util = runset.metrics.query("scope == 'county' and metric == 'utilisation'")["value"].to_numpy()
    lo, hi = _ci(util)
    assert lo <= (per_hour / 60.0) * service / c <= hi


def test_arrivals_follow_the_hour_of_day_profile(tmp_path):
    """Counts by hour of day are proportional to the profile (chi-square, 24 cells)."""
    hod = [0.2] * 6 + [1.0] * 6 + [2.0] * 6 + [0.5] * 6

    def edit(s, t):
        s["profiles"]["flat"]["hour_of_day"] = hod
        s["scenario"].update(horizon_days=28.0, warmup_days=0.0)

    sc = load_scenario(factory.scenario(tmp_path, edit))
    rec = run(sc, 1, workers=1).records
    hours = ((rec["occurred_min"] // 60) % 24).astype(int)
    counts = np.bincount(hours, minlength=24)
    expected = np.array(hod) / sum(hod) * counts.sum()
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < stats.chi2.ppf(0.999, 23), f"chi2 = {chi2:.1f}"
    # and the annual rate is kept: the total count is Poisson around its mean
    from enforcement_grid.sim.processes.violations import rate_table

    mean = rate_table(sc).per_year.sum() * 28.0 / 365.0
    assert abs(counts.sum() - mean) < 4 * math.sqrt(mean)

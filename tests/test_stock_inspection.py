"""Old illegal buildings (the stock) have their own reporting and detection rates; inspections
can be targeted at a high-risk group of businesses, where business items arise more often."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import factory
from intervals import paired_t_interval
from enforcement_grid.sim import ScenarioError, load_scenario
from enforcement_grid.experiments import run, run_replication
from enforcement_grid.sim.processes.inspection import BusinessRisk, high_risk_count


def scenario(tmp_path, name, edit):
    return load_scenario(factory.scenario(tmp_path / name, edit))


def county(runset, metric) -> pd.Series:
    m = runset.metrics
    return m[(m["scope"] == "county") & (m["metric"] == metric)].set_index("rep")["value"]


# ------------------------------------------------------------------ the high-risk rule (exact)


class _Targeting:
    def __init__(self, share, factor):
        self.high_risk_business_share = share
        self.high_risk_rate_factor = factor


def test_high_risk_businesses_draw_arrivals_with_the_factor():
    """The first round(share × n) businesses are high risk; each is ``factor`` times as likely."""
    n, share, factor = 10, 0.2, 5.0
    assert high_risk_count(n, share) == 2 and high_risk_count(0, share) == 0
    risk = BusinessRisk(_Targeting(share, factor))
    u = (np.arange(200_000) + 0.5) / 200_000  # a fine grid of uniforms: shares exact to 1e-5
    picked = np.array([risk.arising(x, n) for x in u])
    assert picked.min() == 0 and picked.max() == n - 1
    per_business = np.bincount(picked, minlength=n) / u.size
    weight = np.array([factor] * 2 + [1.0] * 8)
    assert np.allclose(per_business, weight / weight.sum(), atol=1e-4)
    # without a factor the draw is the old uniform one, business for business
    flat = BusinessRisk(_Targeting(share, 1.0))
    assert all(flat.arising(x, 7) == int(x * 7) for x in u[::997])


# ------------------------------------------------------------------ the stock of old buildings

STOCK = {"violations": 60, "klass": "building", "max_age_days": 700.0}


def _stock_edit(**factors):
    def edit(s, t):
        s["stock"] = dict(STOCK, **factors)
        s["scenario"].update(horizon_days=60.0, warmup_days=0.0)
    return edit


def test_a_stock_nobody_reports_stays_unseen_month_by_month(tmp_path):
    """Exact: with the stock's grid, complaint and patrol factors 0 (and no campaign), no old
    building is found, and the timeline's stock_latent is the whole stock every month."""
    sc = scenario(tmp_path, "none", _stock_edit(grid_notice_factor=0.0, complaint_factor=0.0,
                                                patrol_detection_factor=0.0))
    res = run_replication(sc, 0)
    stock = res.records[res.records["stock"]]
    assert len(stock) == 60 and (stock["outcome"] == "open_undiscovered").all()
    per_month = res.timeline.groupby("month")["stock_latent"].sum()
    assert (per_month == 60).all() and len(per_month) >= 2


def test_stock_factors_slow_the_drawdown(tmp_path):
    """Direction (paired 99 % t interval over 6 replications): old buildings reported and seen
    at a tenth of a new build's rates are still unseen more often at the end."""
    like_new = run(scenario(tmp_path, "new", _stock_edit()), 6, workers=1, keep_records=False)
    tolerated = run(scenario(tmp_path, "old", _stock_edit(grid_notice_factor=0.1, complaint_factor=0.0,
                                                          patrol_detection_factor=0.1)),
                    6, workers=1, keep_records=False)
    a, b = county(like_new, "stock_latent_end"), county(tolerated, "stock_latent_end")
    lo, hi = paired_t_interval(a, b.reindex(a.index), 0.99)
    assert lo > 0, (a.tolist(), b.tolist())
    # the timeline's last month is the end-of-run count
    tl = tolerated.timeline
    last = tl[tl["month"] == tl["month"].max()].groupby("rep")["stock_latent"].sum()
    assert np.allclose(last.sort_index().to_numpy(), b.sort_index().to_numpy())


# ------------------------------------------------------------------ targeted inspections

def _targeting_edit(targeted_share):
    def edit(s, t):
        s["inspection"].update(obligations={"fire": 1.0}, targeted_share=targeted_share,
                               high_risk_business_share=0.2, high_risk_rate_factor=5.0)
        s["classes"]["hidden"].update(grid_notice_per_day=0.005, complaint_per_day=0.0)
        t["items"][2]["annual_rate"] = 400.0
        s["scenario"].update(horizon_days=60.0, warmup_days=5.0)
    return edit


def test_targeted_inspections_find_more_than_random_ones(tmp_path):
    """Direction (paired 99 % t interval over 8 replications, same arrivals): sending 80 % of
    visits to the high-risk group finds more hidden hazards by inspection than random visits."""
    rand = run(scenario(tmp_path, "rand", _targeting_edit(0.0)), 8, workers=1, keep_records=False)
    aimed = run(scenario(tmp_path, "aimed", _targeting_edit(0.8)), 8, workers=1, keep_records=False)
    assert county(rand, "inspections_done_share").min() > 0.9  # visits are made, not queued
    a, b = county(rand, "found_by_inspection_share"), county(aimed, "found_by_inspection_share")
    lo, hi = paired_t_interval(a, b.reindex(a.index), 0.99)
    assert lo > 0, (a.tolist(), b.tolist())
    # the same violations arose in both (targeting moves visits, not arrivals)
    assert county(rand, "violations_per_year").equals(county(aimed, "violations_per_year"))


def test_targeting_without_a_high_risk_group_is_a_clear_error(tmp_path):
    def edit(s, t):
        s["inspection"].update(targeted_share=0.5, high_risk_business_share=0.0)

    with pytest.raises(ScenarioError, match="high_risk_business_share"):
        scenario(tmp_path, "bad", edit)

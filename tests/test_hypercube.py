"""Mutual aid against Larson's hypercube queueing model, solved exactly for a small case.

The reduction: three towns, one village each at its brigade's base, one single-team
brigade each on a 24-hour shift, Poisson reports per town (discovery, report and triage
immediate), exponential on-site times (mean 60 minutes), every case put right on the
spot, no patrols or inspections, no on-call.  The seats lie on a line 10 m and 15 m apart,
so the preference lists come from the travel table (A: B, C; B: A, C; C: B, A) while every
trip takes under 0.05 minutes — travel folds into the exponential busy time.  With
``mutual_aid.queue_threshold = 0`` a report goes to its home brigade if its team is free,
else to the first free brigade of its list, else waits in the home queue, which only the
home team serves.  That is the hypercube model with fixed preferences and a queue per
atom: the state is (busy flag, home queue) per unit.  We build its Markov chain (queues
truncated at ``Q``; the truncated mass is below 1e-6), solve for the stationary
distribution and derive each unit's workload (share of time busy) and the share of each
town's reports served across a border (arrivals see time averages, PASTA).  The
simulation's replication means must lie within the 99 % t interval (n − 1 degrees of
freedom) of the exact values.
"""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np
import pytest
from scipy import sparse, stats
from scipy.sparse.linalg import spsolve

import factory
from enforcement_grid.sim import load_scenario
from enforcement_grid.sim.model import Model
from enforcement_grid.experiments.runner import run

TOWNS = ("甲镇", "乙镇", "丙镇")
PER_HOUR = (0.55, 0.45, 0.35)  # reports an hour per town
SERVICE_MIN = 60.0
Q = 14
LEVEL = 0.99
PREFS = ((1, 2), (0, 2), (1, 0))


def exact(lam, mu, prefs, q_max):
    """Stationary hypercube chain with a queue per atom: workloads and cross-border shares."""
    n = len(lam)
    unit_states = [(0, 0)] + [(1, q) for q in range(q_max + 1)]  # (busy, home queue)
    states = list(itertools.product(unit_states, repeat=n))
    index = {s: k for k, s in enumerate(states)}
    rows, cols, vals = [], [], []
    cross = np.zeros(n)  # rate of atom i's reports served by another unit, per unit time
    for s, k in index.items():
        busy = [b for b, _ in s]
        for i in range(n):  # a report at atom i
            t = list(s)
            if not busy[i]:
                t[i] = (1, 0)
            else:
                free = [j for j in prefs[i] if not busy[j]]
                if free:
                    t[free[0]] = (1, 0)
                elif s[i][1] < q_max:
                    t[i] = (1, s[i][1] + 1)
                else:
                    continue  # truncation: lost (negligible mass)
            rows.append(k); cols.append(index[tuple(t)]); vals.append(lam[i])
        for j in range(n):  # unit j finishes
            if busy[j]:
                t = list(s)
                t[j] = (1, s[j][1] - 1) if s[j][1] > 0 else (0, 0)
                rows.append(k); cols.append(index[tuple(t)]); vals.append(mu)
    m = len(states)
    g = sparse.coo_matrix((vals, (rows, cols)), shape=(m, m)).tocsr()
    g = g - sparse.diags(np.asarray(g.sum(axis=1)).ravel())
    a = g.T.tolil()
    a[0, :] = 1.0  # replace one balance equation by the normalisation
    rhs = np.zeros(m)
    rhs[0] = 1.0
    pi = spsolve(a.tocsr(), rhs)
    busy = np.array([[b for b, _ in s] for s in states], float)
    workload = pi @ busy
    served_across = np.zeros(n)
    for i in range(n):
        elsewhere = np.array([bool(s[i][0]) and any(not s[j][0] for j in prefs[i]) for s in states], float)
        served_across[i] = pi @ elsewhere
    tail = sum(p for s, p in zip(states, pi) if any(q == q_max for _, q in s))
    return workload, served_across, float(tail)


def test_exact_chain_is_the_hypercube_without_queues_at_light_load():
    """Sanity: at light load queues vanish and a lone unit is M/M/1 busy λ/μ."""
    w, x, tail = exact([0.01, 0.01, 0.01], 1.0, PREFS, 3)
    assert w == pytest.approx([0.01] * 3, rel=0.05)
    w1, _, _ = exact([0.5], 1.0, ((),), 40)
    assert w1[0] == pytest.approx(0.5, abs=1e-9)


def _scenario(folder):
    settings, tables = factory.base()
    s = copy.deepcopy(settings)
    s["scenario"].update(horizon_days=40.0, warmup_days=2.0, replications=8, seed=23)
    s["officer_time"] = {"duty_days_per_year": 365.0, "annual_leave_days": 0.0, "training_days": 0.0,
                         "desk_share": 0.0, "other_town_work_share": 0.0}
    s["classes"] = {"street": factory._class(grid_notice_per_day=1e7, complaint_per_day=0.0, corrected_share=1.0,
                                             case_share=0.0, escalated_share=0.0, case_followup_min=0.0)}
    s["grid"]["report_delay_mean_min"] = 0.0
    s["command_centre"]["triage_mean_min"] = 0.0
    s["travel"].update(overhead_min=0.0, noise_cv=0.0, urban_towns=[])
    s["patrol"].update(min_visits_per_week=0, hot_spot_visits_per_week=0, max_visits_per_week=0)
    s["inspection"]["obligations"] = {}
    s["reform"]["county_brigade_shift_pattern"] = "all"
    s["mutual_aid"] = {"enabled": True, "queue_threshold": 0, "max_travel_min": 60.0}
    s["staffing"]["sources"] = {"urban_management": 2 * len(TOWNS)}
    lon = (118.8, 118.8 + 0.0001, 118.8 + 0.00025)  # ≈ 10 m and 15 m apart on a parallel
    towns, villages, staffing = [], [], []
    for name, x in zip(TOWNS, lon):
        towns.append(dict(tables["towns"][0], town=name, town_en=name, villages=1, communities=0,
                          shift_pattern="all", urban_weight=1.0, lat=25.0, lon=x, population=10000))
        villages.append(dict(tables["villages"][1], village=f"{name}村", town=name, lat=25.0, lon=x,
                             population=10000, grid_workers=10, hot_spot="no"))
        staffing.append({"brigade": name, "source": "urban_management", "officers": 2, "certified": 2,
                         "source_note": "test"})
    # one item at one report an hour per 10,000 residents (each town has 10,000); the towns'
    # rates are set by their rate factors (the calibration multipliers of the item rates)
    base_rate = 1.0 * 24 * 365
    s["rate_factors"] = {"street": {name: r for name, r in zip(TOWNS, PER_HOUR)}}
    items = [dict(tables["items"][0], on_site_distribution="exponential", on_site_mean_min=SERVICE_MIN,
                      urban_weighted="no", annual_rate=base_rate, rate_unit="per_10k_residents")]
    tables = {"towns": towns, "villages": villages, "items": items,
              "departments": [dict(tables["departments"][0], teams_after=0, teams_before=0, shift_pattern="all")],
              "staffing": staffing}
    return load_scenario(factory.write(folder, s, tables))


def test_mutual_aid_matches_the_hypercube(tmp_path):
    sc = _scenario(tmp_path)
    workload, across, tail = exact(PER_HOUR, 60.0 / SERVICE_MIN, PREFS, Q)
    assert tail < 1e-6
    prefs = Model(sc, 0).command_centre.mutual_aid.preferences  # from the travel table
    assert prefs == {TOWNS[i]: [TOWNS[j] for j in p] for i, p in enumerate(PREFS)}
    m = run(sc, workers=1, keep_records=False).metrics
    n = sc.settings.scenario.replications
    t = stats.t.ppf(0.5 + LEVEL / 2, n - 1)
    for k, town in enumerate(TOWNS):
        for metric, want in (("utilisation", workload[k]), ("aided_by_others_share", across[k])):
            x = m[(m.scope == town) & (m.metric == metric)]["value"].to_numpy()
            half = t * x.std(ddof=1) / math.sqrt(n)
            assert abs(x.mean() - want) <= half, (town, metric, x.mean(), want, half)
    # the county share served across a border: reports-weighted mean of the towns'
    lam = np.array(PER_HOUR)
    x = m[(m.scope == "county") & (m.metric == "aided_by_others_share")]["value"].to_numpy()
    want = float(lam @ across / lam.sum())
    assert abs(x.mean() - want) <= t * x.std(ddof=1) / math.sqrt(n), (x.mean(), want)

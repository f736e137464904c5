"""Records → measures per town and for the county; replications → mean and 95 % CI.

Every measure is a ratio of sums, so it can be computed from the full records or
from running sums kept while the model runs (``records.keep = false``): both go
through :func:`violation_sums`, one implementation.

Definitions (window = violations arising after the warm-up):

* ``coverage``: share of violations acted on (a team on site) within their class's
  target time, **counted from when the violation arose**, so discovery counts.
  Only violations whose target falls inside the run are counted (no censoring).
  Also per class: ``coverage_<class>``, and ``coverage_weighted``, the classes
  weighted by their ``weight`` (so street volume does not decide alone).
* ``discovery_delay_min``: arising → discovery, over discovered violations.
* ``response_time_min``: report at the command centre → first team on site, over
  violations that went through the command centre (not those acted on the spot by
  the patrol or inspection team that found them).
* ``closure_time_min``: report → closed, over closed violations.
* ``backlog_end``: reported but not closed at the end; ``latent_end``: never seen.
* ``transfer_share``: share of reported violations transferred to a county department.
* ``found_by_<channel>_share``: share of discovered violations found by the grid,
  patrols, complaints, inspections.
* ``utilisation``: busy team time ÷ on-duty team time of the brigade(s) serving the
  scope (time-weighted); ``<activity>_share``: the split of on-duty team time
  between response, case work, patrol and inspection.
* ``teams_on_duty``: mean teams on duty over the window; ``certified_teams``: mean
  two-certified-officer teams on a shift while it runs (grows as officers pass
  the exam, F4); ``uncertified_past_deadline``: officers still uncertified after
  the three-year deadline at the end.
* Case lifecycle (F15): ``closure_rate`` (filed town cases closed),
  ``on_time_closure_rate`` (closed within the time limit), ``past_limit_cases``
  (closed late, or open past the limit at the end), ``legal_review_wait_min``.
* ``officer_hours_per_building_case``: officer-hours of dealing with an illegal
  building, which grow the later it is found; ``stock_latent_end``: old
  violations present at the start still unfound at the end.
* ``transfer_time_min``: transfer → the county department on site;
  ``returned_share``: transferred cases sent back for joint action.
* ``campaign_share``: share of team time spent on campaigns (F11).
* ``inspections_per_business``: inspection visits a year per business of the
  brigades serving the scope (joint visits make fewer, F12); with
  ``inspections_done_share`` the share of scheduled visits (obligations) done.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .processes.brigade import ACTIVITIES
from .processes.channels import CHANNELS
from .records import records_frame

SUM_COLUMNS = [
    "violations", "eligible", "covered", "discovered", "discovery_sum_min", "responded",
    "response_sum_min", "closed", "closure_sum_min", "reported", "transferred",
    *[f"found_{c}" for c in CHANNELS], "backlog_end", "latent_end",
    "filed", "filed_closed", "filed_on_time", "past_limit", "reviewed", "review_wait_sum_min",
    "costed", "officer_hours_sum", "transfer_acted", "transfer_time_sum_min", "returned", "stock_latent_end",
]


def violation_sums(records: pd.DataFrame, targets_min: dict[str, float], warmup_min: float, horizon_min: float) -> pd.DataFrame:
    """Per (town, class) sums from which every violation measure is a ratio.

    ``targets_min`` maps each item code to its target time in minutes.
    """
    r = records
    occurred = r["occurred_min"].to_numpy()
    target = r["item"].map(targets_min).to_numpy(float)
    window = occurred >= warmup_min
    acted_in = r["on_site_min"].to_numpy() - occurred
    eligible = window & (occurred + target <= horizon_min)
    covered = eligible & (acted_in <= target)  # NaN compares False: not acted is not covered
    disc = r["discovered_min"].to_numpy() - occurred
    discovered = window & ~np.isnan(disc)
    reported_at = r["reported_min"].to_numpy()
    reported = window & ~np.isnan(reported_at)
    on_spot = r["channel"].isin(["patrol", "inspection"]).to_numpy() & (r["on_site_min"].to_numpy() == reported_at)
    resp = r["on_site_min"].to_numpy() - reported_at
    responded = reported & ~np.isnan(resp) & ~on_spot
    clos = r["closed_min"].to_numpy() - reported_at
    closed = reported & ~np.isnan(clos)
    outcome = r["outcome"].astype(str).to_numpy()
    channel = r["channel"].to_numpy()
    cols = {
        "violations": window,
        "eligible": eligible,
        "covered": covered,
        "discovered": discovered,
        "discovery_sum_min": np.where(discovered, disc, 0.0),
        "responded": responded,
        "response_sum_min": np.where(responded, resp, 0.0),
        "closed": closed,
        "closure_sum_min": np.where(closed, clos, 0.0),
        "reported": reported,
        "transferred": reported & ~np.isnan(r["transferred_min"].to_numpy()),
        **{f"found_{c}": discovered & (channel == c) for c in CHANNELS},
        "backlog_end": np.isin(outcome, ["open_waiting", "open_in_progress"]) & ~np.isnan(reported_at),
        "latent_end": outcome == "open_undiscovered",
    }
    filed_at = r["filed_min"].to_numpy()
    deadline = r["deadline_min"].to_numpy()
    closed_at = r["closed_min"].to_numpy()
    filed = window & ~np.isnan(filed_at)
    filed_closed = filed & ~np.isnan(closed_at)
    wait = r["review_start_min"].to_numpy() - r["review_requested_min"].to_numpy()
    reviewed = window & ~np.isnan(wait)
    cost = r["officer_hours"].to_numpy()
    costed = window & ~np.isnan(cost)
    moved = r["on_site_min"].to_numpy() - r["transferred_min"].to_numpy()
    transfer_acted = window & ~np.isnan(moved) & (outcome == "transferred")
    transferred = reported & ~np.isnan(r["transferred_min"].to_numpy())
    cols.update({
        "filed": filed,
        "filed_closed": filed_closed,
        "filed_on_time": filed_closed & (closed_at <= deadline),
        "past_limit": filed & ((closed_at > deadline) | (np.isnan(closed_at) & (deadline < horizon_min))),
        "reviewed": reviewed,
        "review_wait_sum_min": np.where(reviewed, wait, 0.0),
        "costed": costed,
        "officer_hours_sum": np.where(costed, cost, 0.0),
        "transfer_acted": transfer_acted,
        "transfer_time_sum_min": np.where(transfer_acted, moved, 0.0),
        "returned": transferred & r["returned"].to_numpy(bool),
        "stock_latent_end": (outcome == "open_undiscovered") & r["stock"].to_numpy(bool),
    })
    frame = pd.DataFrame({k: np.asarray(v, float) for k, v in cols.items()})
    frame["town"] = r["town"].to_numpy()
    frame["klass"] = r["klass"].to_numpy()
    return frame.groupby(["town", "klass"], sort=True)[SUM_COLUMNS].sum()


def add_sums(a: pd.DataFrame | None, b: pd.DataFrame) -> pd.DataFrame:
    return b if a is None else a.add(b, fill_value=0.0)


class SumSink:
    """A record sink that keeps only running sums: memory does not grow with run length."""

    def __init__(self, targets_min: dict[str, float], warmup_min: float, horizon_min: float):
        self.args = (targets_min, warmup_min, horizon_min)
        self.sums: pd.DataFrame | None = None

    def add(self, rows: list[tuple]) -> None:
        if rows:
            self.sums = add_sums(self.sums, violation_sums(records_frame(rows), *self.args))


def unit_table(units, unit_kind, unit_towns, past_deadline=None) -> pd.DataFrame:
    """Team time per unit: on-duty team-minutes and busy minutes by activity, plus visit counts."""
    rows = []
    past_deadline = past_deadline or {}
    for name, c in units.items():
        rows.append({
            "unit": name,
            "kind": unit_kind[name],
            "towns": "|".join(unit_towns[name]),
            "on_duty_min": c.team_shift_min,
            "shift_min": c.shift_min,
            "campaign_min": c.campaign_min,
            "past_deadline_officers": float(past_deadline.get(name, 0.0)),
            **{f"{a}_min": c.busy[a] for a in ACTIVITIES},
            "patrol_visits_planned": c.patrol_visits_planned,
            "patrol_visits_done": c.patrol_visits_done,
            "inspections_planned": c.inspections_planned,
            "inspections_done": c.inspections_done,
            "businesses": c.businesses,
        })
    return pd.DataFrame(rows)


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den > 0 else float("nan")


def scope_metrics(sums: pd.DataFrame, units: pd.DataFrame, class_weights: dict[str, float], window_min: float) -> dict[str, float]:
    """Measures of one scope from its violation sums and the team time of the brigades serving it."""
    class_keys = tuple(class_weights)
    tot = sums.sum()
    m: dict[str, float] = {
        "violations": float(tot["violations"]),
        "coverage": _ratio(tot["covered"], tot["eligible"]),
    }
    by_class = sums.groupby(level="klass").sum()
    w = by_class.index.map(lambda k: class_weights.get(k, 0.0)).to_numpy(float)
    m["coverage_weighted"] = _ratio((w * by_class["covered"]).sum(), (w * by_class["eligible"]).sum())
    for k in class_keys:
        if k in by_class.index:
            m[f"coverage_{k}"] = _ratio(by_class.at[k, "covered"], by_class.at[k, "eligible"])
        else:
            m[f"coverage_{k}"] = float("nan")
    m["discovery_delay_min"] = _ratio(tot["discovery_sum_min"], tot["discovered"])
    m["response_time_min"] = _ratio(tot["response_sum_min"], tot["responded"])
    m["closure_time_min"] = _ratio(tot["closure_sum_min"], tot["closed"])
    m["backlog_end"] = float(tot["backlog_end"])
    m["latent_end"] = float(tot["latent_end"])
    m["transfer_share"] = _ratio(tot["transferred"], tot["reported"])
    for c in CHANNELS:
        m[f"found_by_{c}_share"] = _ratio(tot[f"found_{c}"], tot["discovered"])
    on_duty = units["on_duty_min"].sum()
    busy = sum(units[f"{a}_min"].sum() for a in ACTIVITIES)
    m["utilisation"] = _ratio(busy, on_duty)
    for a in ACTIVITIES:
        m[f"{a}_share"] = _ratio(units[f"{a}_min"].sum(), on_duty)
    m["teams_on_duty"] = _ratio(on_duty, window_min)
    m["certified_teams"] = _ratio(on_duty, units["shift_min"].sum())
    m["closure_rate"] = _ratio(tot["filed_closed"], tot["filed"])
    m["on_time_closure_rate"] = _ratio(tot["filed_on_time"], tot["filed_closed"])
    m["past_limit_cases"] = float(tot["past_limit"])
    m["legal_review_wait_min"] = _ratio(tot["review_wait_sum_min"], tot["reviewed"])
    m["officer_hours_per_building_case"] = _ratio(tot["officer_hours_sum"], tot["costed"])
    m["transfer_time_min"] = _ratio(tot["transfer_time_sum_min"], tot["transfer_acted"])
    m["returned_share"] = _ratio(tot["returned"], tot["transferred"])
    m["stock_latent_end"] = float(tot["stock_latent_end"])
    m["uncertified_past_deadline"] = float(units["past_deadline_officers"].sum())
    m["campaign_share"] = _ratio(units["campaign_min"].sum(), on_duty + units["campaign_min"].sum())
    m["patrol_visits_done_share"] = _ratio(units["patrol_visits_done"].sum(), units["patrol_visits_planned"].sum())
    m["inspections_done_share"] = _ratio(units["inspections_done"].sum(), units["inspections_planned"].sum())
    years = window_min / (365.0 * 1440.0)
    m["inspections_per_business"] = _ratio(units["inspections_done"].sum(), units["businesses"].sum() * years)
    return m


def run_metrics(sums: pd.DataFrame, units: pd.DataFrame, towns: list[str], class_weights: dict[str, float], window_min: float) -> pd.DataFrame:
    """Tidy measures (scope, metric, value) for the county and every town.

    A town's team measures are those of the brigade serving it (its own brigade
    after the reform; the county brigade before it).  County team measures sum all
    brigades; county departments are reported as ``department_utilisation``.
    """
    brigades = units[units["kind"] == "brigade"]
    departments = units[units["kind"] == "department"]
    rows = []
    county = scope_metrics(sums, brigades, class_weights, window_min)
    county["department_utilisation"] = _ratio(
        sum(departments[f"{a}_min"].sum() for a in ACTIVITIES), departments["on_duty_min"].sum()
    )
    rows += [("county", k, v) for k, v in county.items()]
    empty = sums.iloc[0:0]
    for town in towns:
        town_sums = sums.xs(town, level="town", drop_level=False) if town in sums.index.get_level_values("town") else empty
        serving = brigades[brigades["towns"].str.split("|").apply(lambda ts: town in ts)]
        rows += [(town, k, v) for k, v in scope_metrics(town_sums, serving, class_weights, window_min).items()]
    return pd.DataFrame(rows, columns=["scope", "metric", "value"])


def summarise(metrics: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Replications (scope, metric, rep, value) → mean, sd, n and the t confidence interval.

    NaN values (a measure undefined in a replication, e.g. no building case in a
    small town) are left out of that measure's n.  With n < 2 the interval is NaN.
    """
    g = metrics.groupby(["scope", "metric"], sort=False)["value"]
    out = g.agg(mean="mean", sd="std", n="count").reset_index()
    n = out["n"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(n >= 2, stats.t.ppf(0.5 + confidence / 2.0, np.maximum(n - 1, 1)), np.nan)
        half = t * out["sd"].to_numpy() / np.sqrt(n)
    out["ci_low"] = out["mean"] - half
    out["ci_high"] = out["mean"] + half
    order = {s: i for i, s in enumerate(metrics["scope"].drop_duplicates())}
    out = out.sort_values("scope", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    return out[["scope", "metric", "mean", "ci_low", "ci_high", "sd", "n"]]


"""Records → measures per town and for the county; replications → mean and 95 % CI.

Every measure is a ratio of sums, so it can be computed from the full records or
from running sums kept while the model runs (``records.keep = false``): both go
through :func:`violation_sums`, one implementation.

Definitions (window = violations arising after the warm-up):

* ``violations_per_year``: violations arising in the window, scaled to 365 days.
  Every count of events over the window is scaled to a year and named
  ``_per_year`` (:data:`PER_YEAR`), so runs of different lengths compare; counts
  of what is left at the end (``backlog_end``, ``latent_end``, …) are not.
* ``coverage``: share of violations acted on (a team on site) within their class's
  target time, **counted from when the violation arose**, so discovery counts.
  Only violations whose target falls inside the run are counted (no censoring).
  Also per class: ``coverage_<class>``, and ``coverage_weighted``, the classes
  weighted by their ``weight`` (so street volume does not decide alone).
  ``coverage_weekday_<Mon…Sun>``: coverage of the violations arising on that weekday
  (day 0 of a run is a Monday), so the effect of a duty rota shows; by weekday and
  hour in the run folder's ``coverage_by_weekday_hour.csv`` (:func:`coverage_by_weekday_hour`).
* ``call_outs_per_year``, ``on_call_hours_per_year``: urgent items out of hours that
  called out the on-call team, and that team's (overtime) hours.
* ``aided_others_per_year`` / ``aided_by_others_per_year``: reports a scope's brigade(s)
  took for another brigade's towns / gave to another brigade (mutual aid);
  ``aided_by_others_share``: share of the scope's reports routed to a brigade that a
  neighbour took; ``aided_others_share``: share of the reports the brigade(s) took
  that were a neighbour's.
* ``discovery_delay_min``: arising → discovery, over discovered violations.
* ``response_time_min``: report at the command centre → first team on site, over
  violations that went through the command centre (not those acted on the spot by
  the patrol or inspection team that found them).
* ``closure_time_min``: report → closed, over closed violations.
* Platform-style measures, as a city's digital platform counts them, **from the
  report** (so a violation nobody saw does not count): over violations reported in
  the window whose target time ends inside the run, ``on_time_disposal_rate``
  (a team on site within the target time from the report), ``report_closure_rate``
  (closed by the end) and ``report_on_time_closure_rate`` (closed within the target
  time from the report).  ``found_by_grid_or_patrol_share_<class>``: share of the
  class's discovered violations found by grid workers or brigade patrols (the
  platforms' collectors and supervisors, against public reports and inspections).
  :func:`validation_table` sets these against the published ranges of the
  scenario's ``[[published_ranges]]``.
* ``patrol_visits_planned_share``: weekly patrol visits the plan gives the scope's
  villages against those the patrol rule asks (F12: every village at least weekly;
  hot spots more), each village counted up to what it needs; see :func:`plan_visits`.
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
  (closed late, or open past the limit at the end, a year: ``past_limit_cases_per_year``),
  ``legal_review_wait_min``.
* ``officer_hours_per_building_case``: officer-hours of dealing with an illegal
  building, which grow the later it is found; ``stock_latent_end``: old
  violations present at the start still unfound at the end.
* ``transfer_time_min``: transfer → the first action on site (the county
  department's, or the town's joint action on a case the department sent back);
  ``returned_share``: transferred cases sent back for joint action.
* ``campaign_share``: share of team time spent on campaigns (F11).
* ``reinspection_share``: share of on-duty team time on second visits (复查 after a
  correction, follow-up visits of filed cases); ``unlisted_time_share``: on-duty team
  time not used by the listed work (1 − utilisation; not "idle": the model lists no
  other work for it).
* ``inspections_per_business``: inspection visits a year per business of the
  brigades serving the scope (joint visits make fewer, F12); with
  ``inspections_done_share`` the share of scheduled visits (obligations) done.

Shares (:func:`is_share`) get a confidence interval that stays inside [0, 1]
(:func:`mean_interval`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .config import DAYS_PER_YEAR, MIN_PER_DAY, WEEKDAYS, Scenario
from .errors import ScenarioError
from .patrol_plan import plan_shortfall, visits_required
from .processes.brigade import ACTIVITIES
from .processes.channels import CHANNELS
from .records import record_columns

SUM_COLUMNS = [
    "violations", "eligible", "covered", "discovered", "discovery_sum_min", "responded",
    "response_sum_min", "closed", "closure_sum_min", "reported", "transferred",
    *[f"found_{c}" for c in CHANNELS], "backlog_end", "latent_end",
    "filed", "filed_closed", "filed_on_time", "past_limit", "reviewed", "review_wait_sum_min",
    "costed", "officer_hours_sum", "transfer_acted", "transfer_time_sum_min", "returned", "stock_latent_end",
    "report_eligible", "report_on_time", "report_closed", "report_closed_on_time",
    *[f"eligible_{d}" for d in WEEKDAYS], *[f"covered_{d}" for d in WEEKDAYS],
]

# Unit counters of duty out of hours and mutual aid (sim.processes.on_call, .mutual_aid).
DUTY_COUNTERS = ("call_outs", "on_call_min", "aided_others", "aided_by_others", "routed")

# The unit-table columns a scope's team measures add up over the brigades serving it.
UNIT_SUMS = ("on_duty_min", "shift_min", "campaign_min", "past_deadline_officers", *(f"{a}_min" for a in ACTIVITIES),
             "patrol_visits_planned", "patrol_visits_done", "inspections_planned", "inspections_done", "businesses",
             *DUTY_COUNTERS)

# Counts of events over the run window, scaled to a year: ``<name>_per_year``.
PER_YEAR = ("violations", "past_limit_cases")


# Ratios shown in per cent that can pass 1: work running past the end of shifts makes busy
# time exceed on-duty time, and brigades may do more inspections than were scheduled.
OPEN_RATIOS = ("utilisation", "department_utilisation", "inspections_done_share", "unlisted_time_share",
               *(f"{a}_share" for a in ACTIVITIES))


def is_share(metric: str) -> bool:
    """A measure bounded by 0 and 1 (a share of violations, of cases or of visits).

    The one rule for it: its interval stays inside [0, 1] (:func:`mean_interval`).
    Shares and :data:`OPEN_RATIOS` are shown in per cent (:func:`in_percent`).
    """
    if metric in OPEN_RATIOS:
        return False
    return metric.startswith("coverage") or metric.endswith(("_share", "_rate")) or "_share_" in metric


def in_percent(metric: str) -> bool:
    """Shown in per cent: the shares and the ratios of time or visits that may pass 100 %."""
    return is_share(metric) or metric in OPEN_RATIOS


# The record fields violation_sums reads: records equal in these give the same sums (a one-town
# run reuses another town's measures when its records are equal in them, experiments.replay).
MEASURED_FIELDS = ("town", "klass", "item", "occurred_min", "channel", "discovered_min", "reported_min",
                   "transferred_min", "on_site_min", "closed_min", "outcome", "returned", "stock", "filed_min",
                   "deadline_min", "review_requested_min", "review_start_min", "officer_hours")


def violation_sums(records, targets_min: dict[str, float], warmup_min: float, horizon_min: float) -> pd.DataFrame:
    """Per (town, class) sums from which every violation measure is a ratio.

    ``records``: the records as a DataFrame (:func:`~sim.records.records_frame`) or as columns
    (:func:`~sim.records.record_columns`, what the running sums pass).  ``targets_min`` maps each
    item code to its target time in minutes.  Reads only :data:`MEASURED_FIELDS` of the records.
    """
    r = {f: np.asarray(records[f]) for f in MEASURED_FIELDS}
    occurred = r["occurred_min"]
    target = np.array([targets_min[i] for i in r["item"].tolist()], float)
    window = occurred >= warmup_min
    acted_in = r["on_site_min"] - occurred
    eligible = window & (occurred + target <= horizon_min)
    covered = eligible & (acted_in <= target)  # NaN compares False: not acted is not covered
    disc = r["discovered_min"] - occurred
    discovered = window & ~np.isnan(disc)
    reported_at = r["reported_min"]
    reported = window & ~np.isnan(reported_at)
    channel = r["channel"]
    on_spot = ((channel == "patrol") | (channel == "inspection")) & (r["on_site_min"] == reported_at)
    resp = r["on_site_min"] - reported_at
    responded = reported & ~np.isnan(resp) & ~on_spot
    clos = r["closed_min"] - reported_at
    closed = reported & ~np.isnan(clos)
    outcome = r["outcome"]
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
        "transferred": reported & ~np.isnan(r["transferred_min"]),
        **{f"found_{c}": discovered & (channel == c) for c in CHANNELS},
        "backlog_end": ((outcome == "open_waiting") | (outcome == "open_in_progress")) & ~np.isnan(reported_at),
        "latent_end": outcome == "open_undiscovered",
    }
    # from the report, as a platform counts: only reports whose target time ends inside the run
    report_eligible = reported & (reported_at + target <= horizon_min)
    arising_day = np.floor(occurred / MIN_PER_DAY) % 7  # day 0 is a Monday
    for n, d in enumerate(WEEKDAYS):
        cols[f"eligible_{d}"] = eligible & (arising_day == n)
        cols[f"covered_{d}"] = covered & (arising_day == n)
    cols.update({
        "report_eligible": report_eligible,
        "report_on_time": report_eligible & (resp <= target),
        "report_closed": report_eligible & closed,
        "report_closed_on_time": report_eligible & closed & (clos <= target),
    })
    filed_at = r["filed_min"]
    deadline = r["deadline_min"]
    closed_at = r["closed_min"]
    filed = window & ~np.isnan(filed_at)
    filed_closed = filed & ~np.isnan(closed_at)
    wait = r["review_start_min"] - r["review_requested_min"]
    reviewed = window & ~np.isnan(wait)
    cost = r["officer_hours"]
    costed = window & ~np.isnan(cost)
    moved = r["on_site_min"] - r["transferred_min"]
    transfer_acted = window & ~np.isnan(moved) & (outcome == "transferred")
    transferred = reported & ~np.isnan(r["transferred_min"])
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
        "returned": transferred & r["returned"].astype(bool),
        "stock_latent_end": (outcome == "open_undiscovered") & r["stock"].astype(bool),
    })
    # grouped by codes in the sorted order of the names: the same groups, rows and sums as by the names
    towns, town_code = _sorted_codes(r["town"])
    klasses, klass_code = _sorted_codes(r["klass"])
    n_klass = max(len(klasses), 1)
    frame = pd.DataFrame({k: np.asarray(cols[k], float) for k in SUM_COLUMNS})
    frame["_group"] = town_code * n_klass + klass_code
    sums = frame.groupby("_group", sort=True)[SUM_COLUMNS].sum()
    group = sums.index.to_numpy()
    sums.index = pd.MultiIndex.from_arrays([towns[group // n_klass], klasses[group % n_klass]], names=["town", "klass"])
    return sums


def _sorted_codes(values) -> tuple[np.ndarray, np.ndarray]:
    """The distinct names in sorted order and each value's position among them: ``np.unique(values,
    return_inverse=True)`` for a column of few distinct names, without sorting every value."""
    first: dict[str, int] = {}
    seen = np.fromiter((first.setdefault(x, len(first)) for x in values), np.intp, len(values))
    names = sorted(first)
    rank = np.empty(len(names), np.intp)
    rank[[first[x] for x in names]] = np.arange(len(names))
    return np.array(names, object), rank[seen]


def add_sums(a: pd.DataFrame | None, b: pd.DataFrame) -> pd.DataFrame:
    return b if a is None else a.add(b, fill_value=0.0)


class SumSink:
    """A record sink that keeps only running sums: memory does not grow with run length."""

    def __init__(self, targets_min: dict[str, float], warmup_min: float, horizon_min: float):
        self.args = (targets_min, warmup_min, horizon_min)
        self.sums: pd.DataFrame | None = None

    def add(self, rows: list[tuple]) -> None:
        if rows:
            self.sums = add_sums(self.sums, violation_sums(record_columns(rows, MEASURED_FIELDS), *self.args))


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
            **{k: getattr(c, k) for k in DUTY_COUNTERS},
        })
    return pd.DataFrame(rows)


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den > 0 else float("nan")


def scope_metrics(tot: dict[str, float], by_class: dict[str, dict[str, float]], u: dict[str, float],
                  class_weights: dict[str, float], window_min: float,
                  visits: tuple[float, float] | None = None) -> dict[str, float]:
    """Measures of one scope from its sums: ``tot`` the violation sums (:data:`SUM_COLUMNS`) over the
    scope, ``by_class`` the same by class (in class order), ``u`` the team time of the brigades serving
    it (:data:`UNIT_SUMS`), ``visits`` its weekly patrol visits (planned up to the need, required) of
    :func:`plan_visits` (none: no ``patrol_visits_planned_share``).  :func:`run_metrics` makes the sums.
    """
    class_keys = tuple(class_weights)
    per_year = DAYS_PER_YEAR * MIN_PER_DAY / window_min
    m: dict[str, float] = {
        "violations_per_year": float(tot["violations"]) * per_year,
        "coverage": _ratio(tot["covered"], tot["eligible"]),
    }
    w = np.array([class_weights.get(k, 0.0) for k in by_class], float)
    covered = np.array([row["covered"] for row in by_class.values()], float)
    eligible = np.array([row["eligible"] for row in by_class.values()], float)
    m["coverage_weighted"] = _ratio((w * covered).sum(), (w * eligible).sum())
    for k in class_keys:
        row = by_class.get(k)
        m[f"coverage_{k}"] = _ratio(row["covered"], row["eligible"]) if row is not None else float("nan")
    for d in WEEKDAYS:
        m[f"coverage_weekday_{d}"] = _ratio(tot[f"covered_{d}"], tot[f"eligible_{d}"])
    m["discovery_delay_min"] = _ratio(tot["discovery_sum_min"], tot["discovered"])
    m["response_time_min"] = _ratio(tot["response_sum_min"], tot["responded"])
    m["closure_time_min"] = _ratio(tot["closure_sum_min"], tot["closed"])
    m["on_time_disposal_rate"] = _ratio(tot["report_on_time"], tot["report_eligible"])
    m["report_closure_rate"] = _ratio(tot["report_closed"], tot["report_eligible"])
    m["report_on_time_closure_rate"] = _ratio(tot["report_closed_on_time"], tot["report_eligible"])
    m["backlog_end"] = float(tot["backlog_end"])
    m["latent_end"] = float(tot["latent_end"])
    m["transfer_share"] = _ratio(tot["transferred"], tot["reported"])
    for c in CHANNELS:
        m[f"found_by_{c}_share"] = _ratio(tot[f"found_{c}"], tot["discovered"])
    for k in class_keys:
        row = by_class.get(k)
        m[f"found_by_grid_or_patrol_share_{k}"] = (_ratio(row["found_grid"] + row["found_patrol"], row["discovered"])
                                                   if row is not None else float("nan"))
    on_duty = u["on_duty_min"]
    busy = sum(u[f"{a}_min"] for a in ACTIVITIES)
    m["utilisation"] = _ratio(busy, on_duty)
    m["unlisted_time_share"] = _ratio(on_duty - busy, on_duty)
    for a in ACTIVITIES:
        m[f"{a}_share"] = _ratio(u[f"{a}_min"], on_duty)
    m["teams_on_duty"] = _ratio(on_duty, window_min)
    m["certified_teams"] = _ratio(on_duty, u["shift_min"])
    m["closure_rate"] = _ratio(tot["filed_closed"], tot["filed"])
    m["on_time_closure_rate"] = _ratio(tot["filed_on_time"], tot["filed_closed"])
    m["past_limit_cases_per_year"] = float(tot["past_limit"]) * per_year
    m["legal_review_wait_min"] = _ratio(tot["review_wait_sum_min"], tot["reviewed"])
    m["officer_hours_per_building_case"] = _ratio(tot["officer_hours_sum"], tot["costed"])
    m["transfer_time_min"] = _ratio(tot["transfer_time_sum_min"], tot["transfer_acted"])
    m["returned_share"] = _ratio(tot["returned"], tot["transferred"])
    m["stock_latent_end"] = float(tot["stock_latent_end"])
    m["uncertified_past_deadline"] = float(u["past_deadline_officers"])
    m["campaign_share"] = _ratio(u["campaign_min"], on_duty + u["campaign_min"])
    m["patrol_visits_done_share"] = _ratio(u["patrol_visits_done"], u["patrol_visits_planned"])
    if visits is not None:
        m["patrol_visits_planned_share"] = _ratio(*visits)
    m["inspections_done_share"] = _ratio(u["inspections_done"], u["inspections_planned"])
    years = window_min / (DAYS_PER_YEAR * MIN_PER_DAY)
    m["inspections_per_business"] = _ratio(u["inspections_done"], u["businesses"] * years)
    m["call_outs_per_year"] = float(u["call_outs"]) * per_year
    m["on_call_hours_per_year"] = float(u["on_call_min"]) / 60.0 * per_year
    aided, aided_by, routed = (float(u[k]) for k in ("aided_others", "aided_by_others", "routed"))
    m["aided_others_per_year"] = aided * per_year
    m["aided_by_others_per_year"] = aided_by * per_year
    m["aided_by_others_share"] = _ratio(aided_by, routed)
    m["aided_others_share"] = _ratio(aided, routed - aided_by + aided)
    return m


def _column_sums(values: np.ndarray, rows: list[int], columns) -> dict[str, float]:
    """Sums over ``rows`` of each column of ``values`` (rows × columns), each a sum over a contiguous
    column: the numbers ``DataFrame.sum()`` gives for those rows."""
    return dict(zip(columns, np.ascontiguousarray(values[rows].T).sum(axis=1).tolist()))


def run_metrics(sums: pd.DataFrame, units: pd.DataFrame, towns: list[str], class_weights: dict[str, float], window_min: float,
                visits: pd.DataFrame | None = None, known: dict[str, list[tuple[str, float]]] | None = None) -> pd.DataFrame:
    """Tidy measures (scope, metric, value) for the county and every town.

    A town's team measures are those of the brigade serving it (its own brigade
    after the reform; the county brigade before it).  County team measures sum all
    brigades; county departments are reported as ``department_utilisation``.
    ``visits`` (:func:`plan_visits` of the run's patrol plan) adds
    ``patrol_visits_planned_share``.  ``known``: towns whose measures are already known
    (``(metric, value)`` rows, as this function made them from the same records and team
    time: a one-town run's other towns, :mod:`experiments.replay`), taken as they are.
    """
    brigades = units[units["kind"] == "brigade"]
    departments = units[units["kind"] == "department"]
    visit_columns = ["visits_planned_needed", "visits_required"]
    rows = []
    county = scope_metrics(
        sums.sum().to_dict(),
        {k: row.to_dict() for k, row in sums.groupby(level="klass").sum().iterrows()},
        brigades[list(UNIT_SUMS)].sum().to_dict(), class_weights, window_min,
        None if visits is None else tuple(visits[c].sum() for c in visit_columns),
    )
    county["department_utilisation"] = _ratio(
        sum(departments[f"{a}_min"].sum() for a in ACTIVITIES), departments["on_duty_min"].sum()
    )
    rows += [("county", k, v) for k, v in county.items()]
    # each town from plain arrays: its (town, class) rows of the sums, its serving brigades' rows
    values = sums[SUM_COLUMNS].to_numpy(float)
    rows_of: dict[str, list[int]] = {}
    for i, town in enumerate(sums.index.get_level_values("town").tolist()):
        rows_of.setdefault(town, []).append(i)
    klass_of = sums.index.get_level_values("klass").tolist()
    unit_values = brigades[list(UNIT_SUMS)]
    served = [set(ts.split("|")) for ts in brigades["towns"]]
    town_visits = ({} if visits is None else
                   {t: tuple(g[c].sum() for c in visit_columns) for t, g in visits.groupby("town", sort=False)})
    for town in towns:
        if known is not None and town in known:
            rows += [(town, k, v) for k, v in known[town]]
            continue
        mine = rows_of.get(town, [])
        tot = _column_sums(values, mine, SUM_COLUMNS)
        by_class = {klass_of[i]: dict(zip(SUM_COLUMNS, values[i].tolist())) for i in mine}
        serving = [i for i, ts in enumerate(served) if town in ts]
        u = unit_values.iloc[serving].sum().to_dict()
        town_visit = None if visits is None else town_visits.get(town, (0, 0))
        rows += [(town, k, v) for k, v in scope_metrics(tot, by_class, u, class_weights, window_min, town_visit).items()]
    return pd.DataFrame(rows, columns=["scope", "metric", "value"])


def t_quantile(confidence: float, df):
    """The Student's t quantile of a two-sided ``confidence`` interval with ``df`` degrees of freedom
    (NaN for ``df`` ≤ 0): the one rule every interval here and in the reports uses.  SciPy's
    ``stdtrit``, which is what ``scipy.stats.t.ppf`` computes, without importing ``scipy.stats``
    (a second per process)."""
    from scipy.special import stdtrit

    return stdtrit(df, 0.5 + confidence / 2.0)


def mean_interval(mean, sd, n, share, confidence: float = 0.95, positive=False) -> tuple[np.ndarray, np.ndarray]:
    """Confidence interval of a mean over ``n`` replications, from its mean and standard deviation.

    The replication is the independent unit: violations within one run share the same
    teams, queues and days, so a measure is one value per replication and its interval
    is that of the replications' mean (central limit over replications, Student's t
    with ``n − 1`` degrees of freedom for the estimated spread).  A pooled-proportion
    interval (Wilson over every violation of every run) would treat thousands of
    correlated violations as independent and come out far too narrow; it also does not
    apply to shares of time.

    For plain measures the interval is ``mean ± t·sd/√n``.  For shares (``share``
    true, :func:`is_share`) that symmetric interval can leave [0, 1] near the bounds, where the
    distribution of a mean share is skewed; the interval is then built on the logit
    scale by the delta method and mapped back:
    ``expit(logit(m) ± t·se / (m(1 − m)))`` with ``se = sd/√n``.  It keeps the same
    centre (the mean over replications), agrees with the t interval to first order
    away from the bounds, and always lies inside (0, 1).  A share at exactly 0 or 1
    in every replication has sd 0 and the interval [m, m].  Likewise a measure that
    cannot be negative (``positive`` true: counts, times, ratios of time — every
    measure of a run summary) whose t interval would reach below 0 — a rare count in a
    small town, say — gets the interval on the log scale, ``m·exp(±t·se/m)``, which
    stays above 0.  With ``n < 2`` the interval is NaN.  Arrays in, ``(low, high)``
    arrays out.
    """
    mean = np.asarray(mean, float)
    sd = np.asarray(sd, float)
    n = np.asarray(n, float)
    share = np.broadcast_to(np.asarray(share, bool), mean.shape)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        t = np.where(n >= 2, t_quantile(confidence, np.maximum(n - 1, 1)), np.nan)
        se = sd / np.sqrt(n)
        low, high = mean - t * se, mean + t * se
        inside = share & (mean > 0) & (mean < 1)
        m = np.where(inside, mean, 0.5)
        centre = np.log(m / (1 - m))
        half = t * se / (m * (1 - m))
        low = np.where(inside, 1.0 / (1.0 + np.exp(-(centre - half))), low)
        high = np.where(inside, 1.0 / (1.0 + np.exp(-(centre + half))), high)
        above = np.broadcast_to(np.asarray(positive, bool), mean.shape) & ~share & (mean > 0) & (low < 0)
        spread = np.exp(t * se / np.where(above, mean, 1.0))
        low = np.where(above, mean / spread, low)
        high = np.where(above, mean * spread, high)
    return low, high


def summarise(metrics: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Replications (scope, metric, rep, value) → mean, sd, n and the confidence interval.

    The interval is :func:`mean_interval`'s: Student's t over replications, on the
    logit scale for shares (:func:`is_share`) so that it stays inside [0, 1], on the
    log scale for a count or time whose t interval would reach below 0.  NaN
    values (a measure undefined in a replication, e.g. no building case in a small
    town) are left out of that measure's n.  With n < 2 the interval is NaN.
    """
    g = metrics.groupby(["scope", "metric"], sort=False, observed=True)["value"]
    out = g.agg(mean="mean", sd="std", n="count").reset_index()
    metric = out["metric"].astype(str)
    share = metric.map({m: is_share(m) for m in metric.unique()}).to_numpy(bool)  # the rule once per measure
    out["ci_low"], out["ci_high"] = mean_interval(out["mean"], out["sd"], out["n"], share, confidence,
                                                  positive=True)  # no measure of a run is negative
    order = {s: i for i, s in enumerate(metrics["scope"].drop_duplicates())}
    out = out.sort_values("scope", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    return out[["scope", "metric", "mean", "ci_low", "ci_high", "sd", "n"]]


# ----------------------------------------------------------------------- patrol plan against the rule


def plan_visits(sc: Scenario, plan: pd.DataFrame) -> pd.DataFrame:
    """Weekly visits per village: what the patrol rule asks and what the plan gives.

    One row per village the rule asks visits of (``sim.patrol_plan.visits_required``):
    ``town, brigade, village, visits_required, visits_planned`` and
    ``visits_planned_needed`` (planned, counted up to what is required, so extra
    visits to one village do not hide missing ones elsewhere).  The shortfall is
    :func:`sim.patrol_plan.plan_shortfall`'s.
    """
    need = visits_required(sc)
    short = plan_shortfall(sc, plan).set_index("village")["visits_planned"]
    planned = need["visits_wanted"].where(~need["village"].isin(short.index), need["village"].map(short))
    brigade = {t: b.name for b in sc.brigades for t in b.towns}
    return pd.DataFrame({
        "town": need["town"],
        "brigade": need["town"].map(brigade),
        "village": need["village"],
        "visits_required": need["visits_wanted"].astype(int),
        "visits_planned": plan.groupby("village").size().reindex(need["village"]).fillna(0).astype(int).to_numpy(),
        "visits_planned_needed": planned.astype(int),
    }).reset_index(drop=True)


def brigade_visits(visits: pd.DataFrame) -> pd.DataFrame:
    """Per brigade: villages, weekly visits required and planned (up to the requirement),
    the planned share and the villages the plan does not visit at all in a week."""
    g = visits.groupby("brigade", sort=False)
    out = pd.DataFrame({
        "villages": g.size(),
        "visits_required": g["visits_required"].sum(),
        "visits_planned": g["visits_planned_needed"].sum(),
        "villages_not_weekly": g["visits_planned"].agg(lambda v: int((v == 0).sum())),
    })
    out["planned_share"] = out["visits_planned"] / out["visits_required"]
    return out.reset_index()


def unvisited_villages(visits: pd.DataFrame) -> list[str]:
    """Villages the plan does not visit in a week (F12 asks at least one visit each)."""
    return visits.loc[visits["visits_planned"] == 0, "village"].tolist()


# ----------------------------------------------------------------------- validation against published ranges


VALIDATION_COLUMNS = ["metric", "scope", "mean", "ci_low", "ci_high", "published_low", "published_high",
                      "verdict", "what", "source"]


def check_published_ranges(sc: Scenario) -> None:
    """Refuse ``[[published_ranges]]`` that name a measure or scope the run will not have."""
    ranges = sc.settings.published_ranges
    if not ranges:
        return
    known = set(metric_names(sc))
    scopes = {"county", *(t.town for t in sc.towns)}
    problems = []
    for i, r in enumerate(ranges):
        where = f"{sc.files.get('settings', sc.name)}: published_ranges[{i}]"
        if r.metric not in known:
            problems.append(f"{where}.metric: {r.metric!r} is not a measure of this scenario "
                            f"(e.g. on_time_disposal_rate, report_on_time_closure_rate)")
        if r.scope not in scopes:
            problems.append(f"{where}.scope: {r.scope!r} is not 'county' or a town of the scenario")
    if problems:
        raise ScenarioError(problems)


def metric_names(sc: Scenario) -> list[str]:
    """The measures a run of this scenario reports, in their order."""
    empty = pd.DataFrame(columns=SUM_COLUMNS, index=pd.MultiIndex.from_arrays([[], []], names=["town", "klass"]),
                         dtype=float)
    units = pd.DataFrame(columns=["kind", "towns", "on_duty_min", "shift_min", "campaign_min", "past_deadline_officers",
                                  *[f"{a}_min" for a in ACTIVITIES], "patrol_visits_planned", "patrol_visits_done",
                                  "inspections_planned", "inspections_done", "businesses", *DUTY_COUNTERS],
                         dtype=float)
    units["kind"] = units["kind"].astype(object)
    visits = pd.DataFrame(columns=["town", "visits_required", "visits_planned_needed"])
    m = run_metrics(empty, units, [], {k: c.weight for k, c in sc.settings.classes.items()}, 1.0, visits)
    return m["metric"].tolist()


def coverage_by_weekday_hour(records: pd.DataFrame, targets_min: dict[str, float], warmup_min: float,
                             horizon_min: float) -> pd.DataFrame:
    """Tidy coverage by town, class, weekday and hour a violation arose: rep (if given), town, klass,
    weekday, hour, eligible, covered, coverage — the same eligibility and coverage as
    :func:`violation_sums`, so a rota's effect on nights and weekends can be seen."""
    r = records
    occurred = r["occurred_min"].to_numpy()
    target = r["item"].map(targets_min).to_numpy(float)
    eligible = (occurred >= warmup_min) & (occurred + target <= horizon_min)
    covered = eligible & (r["on_site_min"].to_numpy() - occurred <= target)
    keys = ["rep"] if "rep" in r.columns else []
    frame = r[keys + ["town", "klass"]].copy()
    frame["weekday"] = [WEEKDAYS[int(d)] for d in np.floor(occurred / MIN_PER_DAY) % 7]
    frame["hour"] = (np.floor(occurred / 60.0) % 24).astype(int)
    frame["eligible"] = eligible.astype(int)
    frame["covered"] = covered.astype(int)
    out = frame.groupby(keys + ["town", "klass", "weekday", "hour"], sort=False)[["eligible", "covered"]].sum()
    out = out.reset_index()
    out["weekday"] = pd.Categorical(out["weekday"], categories=list(WEEKDAYS), ordered=True)
    out = out.sort_values(keys + ["town", "klass", "weekday", "hour"], ignore_index=True)
    out["weekday"] = out["weekday"].astype(str)
    out["coverage"] = np.where(out["eligible"] > 0, out["covered"] / out["eligible"].where(out["eligible"] > 0, 1), np.nan)
    return out


def validation_table(summary: pd.DataFrame, ranges) -> pd.DataFrame:
    """The run's platform-style measures against the published ranges of the scenario's sources.

    ``summary``: scope, metric, mean, ci_low, ci_high (a run's summary);
    ``ranges``: the scenario's ``published_ranges`` (objects or dicts with metric,
    scope, low, high, what, source).  ``verdict`` is ``within`` when the mean lies in
    the published range, ``below``/``above`` otherwise, and ``—`` when the run has no
    value: a comparison to read, not a test (the published figures come from other
    places and years, see each source).
    """
    s = summary.set_index(["scope", "metric"])
    rows = []
    for r in ranges:
        r = r if isinstance(r, dict) else r.model_dump()
        key = (r["scope"], r["metric"])
        mean, lo, hi = (s.loc[key, c] if key in s.index else math.nan for c in ("mean", "ci_low", "ci_high"))
        if pd.isna(mean):
            verdict = "—"
        else:
            verdict = "below" if mean < r["low"] else "above" if mean > r["high"] else "within"
        rows.append((r["metric"], r["scope"], mean, lo, hi, r["low"], r["high"], verdict, r["what"], r["source"]))
    return pd.DataFrame(rows, columns=VALIDATION_COLUMNS)

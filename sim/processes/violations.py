"""Where and when violations arise: a non-homogeneous Poisson process per village and item.

The annual rate of item *i* in village *v* comes from the item's driver:

    rate[v, i] = annual_rate[i] × driver[v] / unit × (urban_weight[town(v)] if urban_weighted[i])
                 × rate_factors[class(i)][town(v)]   (fitted to case data; absent: 1)

with driver = residents / 10,000, businesses / 1,000 or km².  Within a class the
rate is shaped over the week by the class's profile (hour of day × day of week,
each rescaled to mean one, so the annual total is kept).  Because the intensity is
constant within each hour, the process is generated exactly: the count in each
hour is Poisson with the hour's mean, and the times are uniform within the hour.
A week is generated at a time, so memory does not grow with the run length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..config import DAYS_PER_YEAR, MIN_PER_DAY, MIN_PER_HOUR, Scenario

DRIVER_UNIT = {"population": 10_000.0, "businesses": 1_000.0, "area": 1.0}


@dataclass(frozen=True)
class RateTable:
    """Annual violation rates for every (village, item) pair with a positive rate."""

    village: np.ndarray  # village index of each pair
    item: np.ndarray  # item index of each pair
    per_year: np.ndarray  # expected new violations a year
    class_keys: tuple[str, ...]
    pair_class: np.ndarray  # class index of each pair

    def class_total(self, c: int) -> float:
        return float(self.per_year[self.pair_class == c].sum())


def rate_table(sc: Scenario) -> RateTable:
    """Expected violations per year for each village and item, from the drivers."""
    towns = sc.town_by_name
    villages = sc.villages
    driver = {
        "population": np.array([v.population for v in villages], float),
        "businesses": np.array([v.businesses for v in villages], float),
        "area": np.array([v.area_km2 for v in villages], float),
    }
    urban = np.array([towns[v.town].urban_weight for v in villages], float)
    class_keys = tuple(sc.settings.classes)
    rows_v, rows_i, rows_r, rows_c = [], [], [], []
    for i, item in enumerate(sc.items):
        rate = item.annual_rate * driver[item.driver] / DRIVER_UNIT[item.driver]
        if item.urban_weighted:
            rate = rate * urban
        factors = sc.settings.rate_factors.get(item.klass)
        if factors:
            rate = rate * np.array([factors.get(v.town, 1.0) for v in villages], float)
        nz = np.nonzero(rate > 0)[0]
        rows_v.append(nz)
        rows_i.append(np.full(nz.size, i))
        rows_r.append(rate[nz])
        rows_c.append(np.full(nz.size, class_keys.index(item.klass)))
    return RateTable(
        village=np.concatenate(rows_v).astype(np.int64),
        item=np.concatenate(rows_i).astype(np.int64),
        per_year=np.concatenate(rows_r),
        class_keys=class_keys,
        pair_class=np.concatenate(rows_c).astype(np.int64),
    )


@dataclass(frozen=True)
class ArrivalBatch:
    """The violations arising in one window, sorted by time, with their pre-drawn randomness.

    Every random number a violation will need is drawn here, in arrival order, from
    its activity's stream, so that two plans see the same draws for the same
    violation (common random numbers).
    """

    time: np.ndarray  # minutes since start
    village: np.ndarray
    item: np.ndarray
    klass: np.ndarray
    business_u: np.ndarray  # uniform: which business of the village (business-driven items)
    grid_e: np.ndarray  # standard exponentials for grid noticing
    complaint_e: np.ndarray  # … for complaint time
    noticeable_e: np.ndarray  # … for how long the violation stays noticeable
    report_e: np.ndarray  # … for report or relay delay
    triage_e: np.ndarray  # … for command-centre triage
    transfer_e: np.ndarray  # … for transfer delay
    return_u: np.ndarray  # uniforms: is a transferred case returned for joint action
    on_site_u: np.ndarray  # uniforms for on-site time (inverse transform of its distribution)
    outcome_u: np.ndarray  # uniforms for the outcome
    travel_z: np.ndarray  # standard normals for the response trip's travel noise
    county_travel_z: np.ndarray  # … for a county department's trip (transfer, escalation)

    def __len__(self) -> int:
        return int(self.time.size)

    def as_lists(self, on_site_z: bool = False) -> "ArrivalBatch":
        """The same batch with plain Python lists (indexing them one violation at a time is much faster).

        ``on_site_z``: add ``on_site_z``, the standard normal quantile of each ``on_site_u``, for lognormal
        on-site times (:class:`OnSiteTime`): one array call for the batch instead of one per violation."""
        from types import SimpleNamespace

        out = SimpleNamespace(**{k: getattr(self, k).tolist() for k in self.__dataclass_fields__})
        if on_site_z:
            out.on_site_z = _ndtri(self.on_site_u).tolist()
        return out


class ArrivalGenerator:
    """Generates :class:`ArrivalBatch` es window by window from the rate table and profiles."""

    def __init__(self, sc: Scenario, rates: RateTable, streams):
        self.rates = rates
        self.streams = streams
        settings = sc.settings
        self.n_classes = len(rates.class_keys)
        # per class: rate per minute, cumulative placement probabilities, weekly shape (168 hours)
        self.per_min = np.zeros(self.n_classes)
        self.cum = []
        self.pairs = []
        self.week_shape = np.zeros((self.n_classes, 168))
        for c, key in enumerate(rates.class_keys):
            sel = np.nonzero(rates.pair_class == c)[0]
            total = rates.per_year[sel].sum()
            self.pairs.append(sel)
            self.cum.append(np.cumsum(rates.per_year[sel]) / total if total > 0 else np.zeros(0))
            self.per_min[c] = total / (DAYS_PER_YEAR * MIN_PER_DAY)
            prof = settings.profiles[settings.classes[key].profile]
            hod = np.asarray(prof.hour_of_day, float)
            dow = np.asarray(prof.day_of_week, float)
            hod = hod / hod.mean()
            dow = dow / dow.mean()
            self.week_shape[c] = (dow[:, None] * hod[None, :]).ravel()

    def stock(self, n: int, klass: int, max_age_min: float, rng: np.random.Generator) -> ArrivalBatch:
        """``n`` old violations of class ``klass`` present at the start, aged uniformly up to
        ``max_age_min`` (times are negative: minutes before the start), placed like new ones."""
        age = rng.random(n) * max_age_min
        order = np.argsort(-age, kind="stable")
        age = age[order]
        u = rng.random(n)
        idx = np.searchsorted(self.cum[klass], u, side="right")
        pair = self.pairs[klass][np.minimum(idx, len(self.pairs[klass]) - 1)]
        return ArrivalBatch(
            time=-age, village=self.rates.village[pair], item=self.rates.item[pair],
            klass=np.full(n, klass), **_draws(rng, n),
        )

    def batch(self, t0: float, t1: float) -> ArrivalBatch:
        """Violations arising in [t0, t1); t0 and t1 on whole hours."""
        s = self.streams
        h0 = int(round(t0 / MIN_PER_HOUR))
        h1 = int(round(t1 / MIN_PER_HOUR))
        hours = np.arange(h0, h1)
        shape = self.week_shape[:, hours % 168]  # (classes, hours)
        means = self.per_min[:, None] * MIN_PER_HOUR * shape
        counts = s.arrivals.poisson(means)  # (classes, hours)
        klass = np.repeat(np.repeat(np.arange(self.n_classes), len(hours)), counts.ravel())
        start = np.repeat(np.tile(hours * MIN_PER_HOUR, self.n_classes), counts.ravel())
        time = start + s.arrivals.random(start.size) * MIN_PER_HOUR
        order = np.argsort(time, kind="stable")
        time, klass = time[order], klass[order]
        n = time.size

        u = s.placement.random(n)
        pair = np.empty(n, np.int64)
        for c in range(self.n_classes):
            m = klass == c
            if m.any():
                idx = np.searchsorted(self.cum[c], u[m], side="right")
                pair[m] = self.pairs[c][np.minimum(idx, len(self.pairs[c]) - 1)]
        disc = s.discovery.standard_exponential((3, n))
        rep = s.reporting.standard_exponential((2, n))
        return ArrivalBatch(
            time=time,
            village=self.rates.village[pair],
            item=self.rates.item[pair],
            klass=klass,
            business_u=s.placement.random(n),
            grid_e=disc[0],
            complaint_e=disc[1],
            noticeable_e=disc[2],
            report_e=rep[0],
            triage_e=rep[1],
            transfer_e=s.transfer.standard_exponential(n),
            return_u=s.transfer.random(n),
            on_site_u=s.on_site.random(n),
            outcome_u=s.outcome.random(n),
            travel_z=s.travel.standard_normal(n),
            county_travel_z=s.county_travel.standard_normal(n),
        )


@dataclass(frozen=True)
class InjectedViolation:
    """A violation placed by hand, with its draws fixed: injected arrivals replace the Poisson ones.

    For exact tests of the paths a violation can take.  The defaults make every
    delay equal to its mean (unit exponentials), the on-site time its median,
    the outcome ``corrected`` (``outcome_u`` 0), no complaint (``complaint_e``
    infinite) and no return from a transfer (``return_u`` 1).
    """

    time_min: float
    village: str
    item: str  # item code
    business_u: float = 0.0
    grid_e: float = 1.0
    complaint_e: float = math.inf
    noticeable_e: float = 1.0
    report_e: float = 1.0
    triage_e: float = 1.0
    transfer_e: float = 1.0
    return_u: float = 1.0
    on_site_u: float = 0.5
    outcome_u: float = 0.0
    travel_z: float = 0.0
    county_travel_z: float = 0.0


def injected_batch(sc: Scenario, injected: list[InjectedViolation]) -> ArrivalBatch:
    """The injected violations as one :class:`ArrivalBatch`, sorted by time (ties keep their order)."""
    rows = sorted(injected, key=lambda x: x.time_min)
    villages = {v.village: i for i, v in enumerate(sc.villages)}
    codes = {it.code: i for i, it in enumerate(sc.items)}
    class_keys = tuple(sc.settings.classes)
    for x in rows:
        if x.village not in villages or x.item not in codes:
            raise ValueError(f"injected violation: unknown village {x.village!r} or item {x.item!r}")
    col = lambda name, dtype=float: np.array([getattr(x, name) for x in rows], dtype)  # noqa: E731
    return ArrivalBatch(
        time=col("time_min"),
        village=np.array([villages[x.village] for x in rows], np.int64),
        item=np.array([codes[x.item] for x in rows], np.int64),
        klass=np.array([class_keys.index(sc.items[codes[x.item]].klass) for x in rows], np.int64),
        **{f: col(f) for f in ("business_u", "grid_e", "complaint_e", "noticeable_e", "report_e", "triage_e",
                               "transfer_e", "return_u", "on_site_u", "outcome_u", "travel_z",
                               "county_travel_z")},
    )


def _draws(rng: np.random.Generator, n: int) -> dict:
    """Every per-violation draw of a batch, all from one generator (for the stock of old violations)."""
    e = rng.standard_exponential((6, n))
    u = rng.random((4, n))
    return dict(business_u=u[0], grid_e=e[0], complaint_e=e[1], noticeable_e=e[2], report_e=e[3], triage_e=e[4],
                transfer_e=e[5], return_u=u[1], on_site_u=u[2], outcome_u=u[3],
                travel_z=rng.standard_normal(n), county_travel_z=rng.standard_normal(n))  # (drawn last)


def _ndtri(u):
    """The standard normal quantile, SciPy's ``ndtri`` (elementwise on an array, the same numbers as one
    call per value): imported at the first lognormal batch, not with the package (importing SciPy
    costs a quarter of a second), then bound in its place."""
    global _ndtri
    from scipy.special import ndtri

    _ndtri = ndtri
    return ndtri(u)


class OnSiteTime:
    """On-site minutes of one item by inverse transform of the violation's uniform ``on_site_u``: the
    same uniform gives a longer time for a longer mean, so plans compare on the same draws.

    ``lognormal`` with the given mean and coefficient of variation (through ``on_site_z``, the normal
    quantile of the uniform, :meth:`ArrivalBatch.as_lists`); ``exponential`` with the given mean (cv
    ignored); ``fixed`` always the mean.  Made once per item, read once per violation.
    """

    __slots__ = ("distribution", "mean", "mu", "sigma", "needs_z")

    def __init__(self, distribution: str, mean: float, cv: float):
        self.distribution = distribution
        self.mean = mean
        self.needs_z = distribution == "lognormal" and cv != 0
        self.sigma = math.sqrt(math.log1p(cv * cv))
        self.mu = math.log(mean) - self.sigma * self.sigma / 2.0

    def minutes(self, b, j: int) -> float:
        """The on-site minutes of row ``j`` of the batch ``b`` (a batch :meth:`ArrivalBatch.as_lists` made,
        with ``on_site_z`` where this item needs it)."""
        if self.needs_z:
            return math.exp(self.mu + self.sigma * b.on_site_z[j])
        if self.distribution == "exponential":
            return -self.mean * math.log1p(-b.on_site_u[j])
        return self.mean  # fixed, or a lognormal without spread

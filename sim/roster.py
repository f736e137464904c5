"""Who is on duty: certified officers per brigade and day, from staffing, certification and transition posts.

Only certified officers make up two-officer teams (F4).  With certification on,
officers not certified at the start sit every exam (``first_sitting_day``, then
every ``sitting_interval_days``) until they pass (probability ``pass_prob`` a
sitting); an officer who has not passed within ``deadline_years`` stays an
assistant.  Transition posts (F5) give the town only part of their time.  The
draws come from one ``certification`` stream per brigade, officer by officer and
sitting by sitting, so two plans with the same staff see the same exam results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import Scenario


@dataclass
class BrigadeRoster:
    """Effective certified officers per day, and the exam record."""

    certified_by_day: np.ndarray  # effective certified officers (transition time discounted), per day
    headcount_certified_by_day: np.ndarray  # certified people, per day
    past_deadline_by_day: np.ndarray  # officers still uncertified after the deadline, per day
    officers: int


def brigade_roster(sc: Scenario, brigade: str, days: int, rng: np.random.Generator) -> BrigadeRoster:
    s = sc.settings
    rows = [r for r in sc.staffing if r.brigade == brigade]
    officers = sum(r.officers for r in rows)
    certified0 = sum(r.certified for r in rows)
    uncertified = officers - certified0
    headcount = np.full(days, float(certified0))
    past_deadline = np.zeros(days)
    cert = s.certification
    passed_on = np.full(uncertified, np.inf)
    if cert is not None and cert.enabled and uncertified > 0:
        sittings = np.arange(cert.first_sitting_day, days, cert.sitting_interval_days)
        deadline = cert.deadline_years * 365.0
        sittings = sittings[sittings <= deadline]
        if sittings.size:
            passes = rng.random((uncertified, sittings.size)) < cert.pass_prob
            first = np.where(passes.any(axis=1), passes.argmax(axis=1), -1)
            passed_on = np.where(first >= 0, sittings[np.maximum(first, 0)], np.inf)
        day = np.arange(days)
        headcount = headcount + (passed_on[None, :] <= day[:, None]).sum(axis=1)
        past_deadline = np.where(day >= deadline, (passed_on > deadline).sum(), 0).astype(float)
    # transition posts: a share of the posts of some sources gives only part of its time (F5)
    effective = headcount.copy()
    t = s.transition
    if t is not None and t.share_of_posts > 0 and officers > 0:
        in_sources = sum(r.officers for r in rows if r.source in t.sources)
        lost = in_sources / officers * t.share_of_posts * (1.0 - t.available_share)
        effective = headcount * (1.0 - lost)
    return BrigadeRoster(effective, headcount, past_deadline, officers)

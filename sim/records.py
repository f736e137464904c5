"""One record per violation, written when its story ends (or at the end of the run).

A record holds where and what the violation was, how it was found, who acted, the
time of every stage (minutes since the start; NaN when a stage was not reached)
and an ``outcome``: one :class:`Record` (its fields are the columns; written by
:mod:`sim.recorder`).  Violations still open when the run ends are recorded with an
``open_*`` outcome, so unserved work is counted, never dropped.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

OUTCOMES = (
    "corrected",          # put right on the spot at the first visit
    "case_filed",         # a case was filed; follow-up work done by the team
    "escalated",          # acted on by the town, then handed to a county department, which closed it
    "transferred",        # not the town's item: transferred to the county department, which acted
    "open_undiscovered",  # still unseen at the end
    "open_waiting",       # reported, nobody on site yet at the end
    "open_in_progress",   # someone was on site, but the case was not closed at the end
)
OPEN_OUTCOMES = ("open_undiscovered", "open_waiting", "open_in_progress")


class Record(NamedTuple):
    """One violation's record: the fields are the record columns, in order."""

    violation: int            # id, in order of arising (the stock of old violations first)
    town: str
    village: str
    item: str
    category: str             # item category (urban management, rural land & housing, …)
    klass: str                # violation class key (street, building, hidden, …)
    severity: int
    handled_by_brigade: bool
    channel: str              # grid, patrol, complaint, inspection, campaign ('' if undiscovered)
    handler: str              # brigade or county department that acted
    team: str                 # team id that acted first ('' if none)
    occurred_min: float
    discovered_min: float
    reported_min: float       # the report reached the command centre (= discovered for on-the-spot finds)
    transferred_min: float
    dispatched_min: float
    on_site_min: float        # first enforcement team on site: the violation is acted on
    filed_min: float          # a town case opened (lifecycle on)
    review_requested_min: float  # legal review asked for (major cases)
    review_start_min: float   # a law post took it up
    deadline_min: float       # the case's time limit (working calendar)
    closed_min: float
    outcome: str              # one of OUTCOMES
    area_m2: float            # floor area of an illegal building when acted on (growth on)
    officer_hours: float      # officer-hours of dealing with it (growth on)
    returned: bool            # a transferred case sent back to the town for joint action
    stock: bool               # an old violation present at the start (arose before minute 0)


FIELDS = Record._fields
TIME_FIELDS = tuple(f for f in FIELDS if f.endswith("_min"))
FLOAT_FIELDS = (*TIME_FIELDS, "area_m2", "officer_hours")
BOOL_FIELDS = ("handled_by_brigade", "returned", "stock")
INT_FIELDS = ("violation", "severity")
_POSITION = {f: i for i, f in enumerate(FIELDS)}


def record_columns(rows: list[Record], fields=FIELDS) -> dict[str, np.ndarray]:
    """Records → one numpy array per field (text as objects): what the running sums read while the
    model runs, without building a DataFrame (:func:`records_frame` is the typed table people see)."""
    columns = list(zip(*rows)) if rows else [()] * len(FIELDS)
    out = {}
    for f in fields:
        values = columns[_POSITION[f]]
        if f in FLOAT_FIELDS:
            out[f] = np.array(values, float)
        elif f in BOOL_FIELDS:
            out[f] = np.array(values, bool)
        elif f in INT_FIELDS:
            out[f] = np.array(values, np.int64)
        else:
            out[f] = np.array(values, object)
    return out


def records_frame(rows: list[Record]) -> pd.DataFrame:
    """Records (:class:`Record` s) → a DataFrame with typed columns, in the order of ``rows`` (text
    as pandas infers it from the arrays of :func:`record_columns`)."""
    return columns_frame(record_columns(rows))


def columns_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """The records table of :func:`record_columns`' arrays (of every field; not changed)."""
    return pd.DataFrame({**columns, "outcome": pd.Categorical(columns["outcome"], categories=OUTCOMES)})

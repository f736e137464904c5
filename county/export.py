"""The model's own records → a platform case export, the format :mod:`.cases` reads.

A case is on the platform once its report reached the command centre: a record with a
``reported_min`` inside the measured window [warm-up, horizon).  Its columns:

* 案件编号 ``SIM-<replication>-<violation>``; 上报时间 = start + ``reported_min``;
* 所属镇街 / 村居 the town and village;
* 案件大类 / 小类 the first row of the mapping table that names the item (else the item's
  category and Chinese name, which the reader then lists as unmapped);
* 案件来源 the channel's word (:data:`~.cases.CHANNEL_SOURCE`);
* 处置时间 = start + ``on_site_min`` and 结案时间 = start + ``closed_min`` when they happened
  before the end of the run (blank otherwise: the case was still open).

``start`` is the calendar date of the model's minute 0 and must be a Monday (the model's
day 0 is a Monday), so weekday profiles keep their meaning.  The same function gives the
reference and validation runs of :mod:`.fit` and :mod:`.validate` their cases, so model
and data are always counted by one rule.
"""

from __future__ import annotations

import pandas as pd

from enforcement_grid.sim.config import Scenario
from enforcement_grid.sim.errors import ScenarioError

from .cases import CHANNEL_SOURCE, EXPORT_HEADER, COLUMNS, CaseTable, Mapping, cases_from_frame

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
SYNTHETIC_NOTE = """SYNTHETIC DATA - not real cases. Made by the model itself, for trying egrid calibrate:
egrid export-cases {scenario} --synthetic (seed {seed}, one replication, settings: {overrides}).
Columns and category labels follow a platform case export; see cases-mapping.csv."""


def check_start(start: pd.Timestamp) -> pd.Timestamp:
    start = pd.Timestamp(start).normalize()
    if start.weekday() != 0:
        raise ScenarioError(f"--start {start:%Y-%m-%d}: the model's day 0 is a Monday; expected a Monday")
    return start


def export_frame(records: pd.DataFrame, sc: Scenario, mapping: Mapping, start: pd.Timestamp,
                 window: tuple[float, float] | None = None) -> pd.DataFrame:
    """Records (one replication or several, with a ``rep`` column) → the export's rows, Chinese
    column names, times as text; only cases reported inside ``window`` (minutes; default the
    scenario's [warm-up, horizon))."""
    start = check_start(start)
    s = sc.settings.scenario
    lo, hi = window if window is not None else (s.warmup_min, s.horizon_min)
    rep = records["rep"] if "rep" in records else pd.Series(0, index=records.index)
    reported = records["reported_min"]
    keep = reported.notna() & (reported >= lo) & (reported < hi) & (records["channel"] != "")
    r = records[keep]
    rep = rep[keep]
    items = sc.item_by_code

    def when(minutes: pd.Series) -> pd.Series:
        ok = minutes.notna() & (minutes < hi)
        text = (start + pd.to_timedelta(minutes.where(ok, 0.0), unit="min")).dt.strftime(TIME_FORMAT)
        return text.where(ok, "")

    labels = [mapping.labels.get(code, (items[code].category, items[code].name_zh)) for code in r["item"]]
    out = pd.DataFrame({
        "case_id": [f"SIM-{int(a)}-{int(b):07d}" for a, b in zip(rep, r["violation"])],
        "reported_at": when(reported[keep]),
        "town": r["town"].to_numpy(),
        "village": r["village"].to_numpy(),
        "category": [c for c, _ in labels],
        "subcategory": [sub for _, sub in labels],
        "source": r["channel"].map(CHANNEL_SOURCE).to_numpy(),
        "on_site_at": when(r["on_site_min"]),
        "closed_at": when(r["closed_min"]),
    })
    out = out.sort_values(["reported_at", "case_id"], ignore_index=True)
    return out.rename(columns=EXPORT_HEADER)


def cases_of_run(records: pd.DataFrame, sc: Scenario, mapping: Mapping, start: pd.Timestamp,
                 window: tuple[float, float] | None = None) -> CaseTable:
    """The cases of a run as the fit sees a platform export (same rows, same checks)."""
    s = sc.settings.scenario
    lo, hi = window if window is not None else (s.warmup_min, s.horizon_min)
    frame = export_frame(records, sc, mapping, start, (lo, hi))
    raw = frame.rename(columns={v: k for k, v in EXPORT_HEADER.items()})
    raw.insert(0, "row", range(2, len(raw) + 2))
    period = (check_start(start) + pd.Timedelta(minutes=lo), check_start(start) + pd.Timedelta(minutes=hi))
    return cases_from_frame(raw, sc, mapping, "(model run)", period, {k: k for k in COLUMNS})


def write_export(frame: pd.DataFrame, path, header_comment: str = "") -> None:
    """Write an export CSV (UTF-8), with ``# `` comment lines first if given; whole or not at all."""
    import os
    import tempfile
    from pathlib import Path

    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            for line in header_comment.splitlines():
                handle.write(f"# {line}\n" if line else "#\n")
            frame.to_csv(handle, index=False, lineterminator="\n")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # an ordinary file, not mkstemp's owner-only one
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def minutes_between(a: pd.Series, b: pd.Series) -> pd.Series:
    """Minutes from ``a`` to ``b`` (NaN where either is missing)."""
    return (b - a) / pd.Timedelta(minutes=1)


"""The lever table of a report: which settings carry the effect, read from a ``levers.csv``.

A before/after study (scenarios/before_after.py) credits the difference between
two scenarios to named lever groups (:func:`experiments.levers.decompose`) and
writes the table (lever, scope, metric, method, effect, ci_low, ci_high, n) as
``levers.csv`` — into the target run's folder and into the study's ``--out``.
The report (:func:`report.html.write_report`) shows its section "which settings
carry the effect" when it is given such a table (``levers=FILE``, ``egrid report
--levers FILE``) or, without one, when the run folder reported on holds a
``levers.csv``; a run folder without one gets no such section.

This module reads and checks the table (:func:`read_levers`: a bad file is one
:class:`~sim.errors.ScenarioError` naming the file and the row or column) and
picks what the section shows (:func:`lever_rows`, :func:`top_lever`); the HTML
and the workbook render it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from enforcement_grid.experiments.levers import METHODS, TABLE_COLUMNS, TOTAL
from enforcement_grid.sim.errors import ScenarioError
from enforcement_grid.sim.textfiles import read_frame

FILE = "levers.csv"  # the table's name in a run folder
SHOWN = ("shapley", "add_to_base", "drop_from_target")  # the section's columns, in order
NUMBERS = ("effect", "ci_low", "ci_high")


def find_levers(run_path: Path, given=None) -> Path | None:
    """The lever table to show: ``given`` (must exist), else the run folder's ``levers.csv``, else None."""
    if given is not None:
        path = Path(given)
        if not path.is_file():
            raise ScenarioError(f"{path}: no such file; expected a lever table (levers.csv of a before/after study)")
        return path
    path = Path(run_path) / FILE
    return path if path.is_file() else None


def read_levers(path: Path) -> pd.DataFrame:
    """The lever table, checked: its columns, its methods and its numbers (empty cells are NaN)."""
    path = Path(path)
    table = read_frame(path, kind="lever table")  # the project's reader: Excel's and Notepad's encodings too
    need = [c for c in TABLE_COLUMNS if c != "n"]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise ScenarioError(f"{path}: missing column(s) {', '.join(missing)}; expected the columns "
                            f"{', '.join(need)} of a lever decomposition (experiments.levers)")
    for i, method in enumerate(table["method"].astype(str)):
        if method not in METHODS:
            raise ScenarioError(f"{path}: row {i + 2}, column method: expected one of {', '.join(METHODS)}, got {method!r}")
    for col in NUMBERS:
        values = pd.to_numeric(table[col], errors="coerce")
        bad = values.isna() & table[col].notna()
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise ScenarioError(f"{path}: row {i + 2}, column {col}: expected a number, got {table[col].iloc[i]!r}")
        table[col] = values.astype(float)
    table["lever"] = table["lever"].astype(str)
    table["scope"] = table["scope"].astype(str)
    return table


def lever_metrics(table: pd.DataFrame, classes: Sequence[str], scope: str = "county") -> list[str]:
    """The measures the section shows: coverage and coverage of each class, those the table holds for ``scope``."""
    have = set(table.loc[table["scope"] == scope, "metric"])
    return [m for m in ["coverage", *(f"coverage_{k}" for k in classes)] if m in have]


def lever_rows(table: pd.DataFrame, metric: str, scope: str = "county") -> list[dict]:
    """Per lever (the total first): ``lever`` and, per method of :data:`SHOWN` (and ``total``), (effect, low, high)."""
    t = table[(table["scope"] == scope) & (table["metric"] == metric)]
    out = []
    for lever in dict.fromkeys(t["lever"]):
        rows = t[t["lever"] == lever]
        cells = {}
        for method in (TOTAL, *SHOWN):
            r = rows[rows["method"] == method]
            cells[method] = tuple(float(r.iloc[0][c]) for c in NUMBERS) if not r.empty else (math.nan,) * 3
        out.append({"lever": lever, **cells})
    out.sort(key=lambda r: r["lever"] != TOTAL)  # the total first, the levers in the table's order
    return out


def top_lever(table: pd.DataFrame, metric: str = "coverage", scope: str = "county") -> tuple[dict, dict] | None:
    """(the lever with the largest Shapley share in the direction of the total effect, the total row), or None."""
    rows = lever_rows(table, metric, scope)
    total = next((r for r in rows if r["lever"] == TOTAL), None)
    levers = [r for r in rows if r["lever"] != TOTAL and not math.isnan(r["shapley"][0])]
    if total is None or not levers or math.isnan(total[TOTAL][0]):
        return None
    sign = -1.0 if total[TOTAL][0] < 0 else 1.0
    return max(levers, key=lambda r: sign * r["shapley"][0]), total

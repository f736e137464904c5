"""Ranges of a scenario's estimates: the ``[uncertainty]`` table, validated, and how a draw is applied.

An entry is keyed by a dotted settings path — the same path ``egrid run --set
KEY=VALUE`` accepts — and gives the plausible range of that setting with its reason::

    [uncertainty]
    "grid.report_delay_mean_min" = { low = 20, high = 240, dist = "triangular", why = "estimate: …" }

A setting inside a list of tables (a shift of a shift pattern) is reached with
``NAME[FIELD=VALUE]``, the element whose ``FIELD`` is ``VALUE``::

    "shift_patterns.day_duty.shifts[name=weekend_duty].staff_share" = { low = 0.2, high = 0.5, … }

or scales a numeric column of a table as a whole (every row, or the rows whose
column ``C`` equals ``V`` with ``TABLE[C=V].COLUMN``), the factor 1 being the
table as written::

    "items.on_site_mean_min" = { scale_low = 0.7, scale_high = 1.4, dist = "uniform", why = "estimate: …" }
    "items[class=street].annual_rate" = { scale_low = 0.6, scale_high = 1.5, dist = "loguniform", why = "…" }

``dist`` is ``uniform``, ``triangular`` (its mode is the scenario's value) or
``loguniform`` (low > 0).  A draw is a point ``u`` of the unit cube, one
coordinate per range, mapped to a value by the range's inverse distribution
function, so one design serves every variant (before, after, plans) of a study.
Settings that are whole numbers in the scenario stay whole numbers (rounded
half up).  Every mistake names the file and field: an unknown path, a range
with low ≥ high, a scenario value outside its range, a missing reason, an end
of the range the scenario itself refuses.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from enforcement_grid.sim.config import Scenario
from enforcement_grid.sim.errors import ScenarioError
from enforcement_grid.sim.load import ROW_KEYS, TABLE_MODELS, _validate_settings, check_references

DISTS = ("uniform", "triangular", "loguniform")
SETTING_KEYS = {"low", "high", "dist", "why"}
SCALE_KEYS = {"scale_low", "scale_high", "dist", "why"}
_SCALE_PATH = re.compile(r"^(?P<table>[a-z_]+)(?:\[(?P<col>[A-Za-z_]+)=(?P<val>[^\]]+)\])?\.(?P<column>[A-Za-z_]+)$")


@dataclass(frozen=True)
class Range:
    """One uncertain input: a setting (``kind = "setting"``) or a table column scaled as a whole (``"scale"``)."""

    key: str
    kind: str  # "setting" | "scale"
    low: float
    high: float
    dist: str
    why: str
    value: float  # the scenario's value (1.0 for a scale)
    integer: bool = False
    table: str = ""
    column: str = ""
    where: tuple[str, str] | None = None  # (column, value) selecting rows of the table

    def at(self, u: float) -> float:
        """The value at quantile ``u`` in [0, 1] of the range's distribution."""
        u = min(1.0, max(0.0, float(u)))
        lo, hi = self.low, self.high
        if self.dist == "uniform":
            x = lo + u * (hi - lo)
        elif self.dist == "loguniform":
            x = math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
        else:  # triangular, mode at the scenario's value
            mode = self.value
            c = (mode - lo) / (hi - lo)
            if u < c:
                x = lo + math.sqrt(u * (hi - lo) * (mode - lo))
            else:
                x = hi - math.sqrt((1.0 - u) * (hi - lo) * (hi - mode))
        if self.integer:
            x = math.floor(x + 0.5)
            return int(min(max(x, math.ceil(lo)), math.floor(hi)))
        return min(max(x, lo), hi)

    def definition(self) -> dict:
        """What makes two ranges the same input (for sharing one input across variants, and resume)."""
        return {"key": self.key, "low": self.low, "high": self.high, "dist": self.dist, "value": self.value}


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


_PART = re.compile(r"(?P<name>[A-Za-z0-9_]+)(?:\[(?P<col>[A-Za-z_]+)=(?P<val>[^\]]+)\])?")


def _locate(tree: Any, key: str) -> tuple[Any, Any] | str:
    """(container, field) holding the setting ``key`` names in the settings tree, or why there is none.

    A part ``NAME[FIELD=VALUE]`` steps into the element of the list ``NAME`` whose
    ``FIELD`` is ``VALUE`` (``shift_patterns.day_duty.shifts[name=weekend_duty].staff_share``):
    the settings' lists of tables, shift patterns' shifts, have no path of their own.
    """
    not_a_path = f"{key!r} is not a settings path (NAME.NAME… or NAME[FIELD=VALUE] for an element of a list)"
    parts, pos = [], 0
    while True:
        m = _PART.match(key, pos)
        if not m:
            return not_a_path
        parts.append(m)
        pos = m.end()
        if pos == len(key):
            break
        if key[pos] != ".":
            return not_a_path
        pos += 1
    container, field = None, None
    node = tree
    for i, m in enumerate(parts):
        name = m["name"]
        if not isinstance(node, dict) or name not in node:
            return f"{key!r} is not a setting of the scenario (unknown path; is it misspelt?)"
        container, field = node, name
        node = node[name]
        if m["col"]:
            if not isinstance(node, list):
                return f"{key!r}: {name!r} is not a list, so [{m['col']}={m['val']}] selects nothing"
            hits = [j for j, el in enumerate(node) if isinstance(el, dict) and str(el.get(m["col"])) == m["val"]]
            if len(hits) != 1:
                return (f"{key!r}: {'no' if not hits else 'more than one'} element of {name!r} has "
                        f"{m['col']} = {m['val']!r}")
            container, field = node, hits[0]
            node = node[hits[0]]
    return container, field


def _numeric_column(model: type[BaseModel], column: str) -> tuple[str | None, bool]:
    """(field name, is whole number) of a numeric column of a table model, or (None, False)."""
    for name, f in model.model_fields.items():
        if (f.alias or name) == column:
            ann = f.annotation
            if ann is bool:
                return None, False
            if ann in (int, float):
                return name, ann is int
            return None, False
    return None, False


def _column_field(model: type[BaseModel], column: str) -> str | None:
    for name, f in model.model_fields.items():
        if (f.alias or name) == column:
            return name
    return None


def read_ranges(sc: Scenario) -> list[Range]:
    """The scenario's ``[uncertainty]`` entries, checked; raise ScenarioError listing every problem."""
    file = sc.files.get("settings", "scenario")
    raw_settings = sc.settings.model_dump()
    problems: list[str] = []
    out: list[Range] = []
    for key, entry in sc.settings.uncertainty.items():
        where = f"{file}: uncertainty.\"{key}\""
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected a table {{ low = …, high = …, dist = …, why = … }}; got {entry!r}")
            continue
        scale = "scale_low" in entry or "scale_high" in entry
        allowed = SCALE_KEYS if scale else SETTING_KEYS
        lo_key, hi_key = ("scale_low", "scale_high") if scale else ("low", "high")
        unknown = sorted(set(entry) - allowed)
        if unknown:
            problems.append(f"{where}: unknown field(s) {', '.join(unknown)}; expected only {', '.join(sorted(allowed))}")
            continue
        missing = [k for k in (lo_key, hi_key, "dist", "why") if k not in entry]
        if missing:
            problems.append(f"{where}: missing {', '.join(missing)}; every range needs {lo_key}, {hi_key}, dist and why")
            continue
        lo, hi, dist, why = entry[lo_key], entry[hi_key], entry["dist"], entry["why"]
        bad = False
        for name, v in ((lo_key, lo), (hi_key, hi)):
            if not _number(v):
                problems.append(f"{where}.{name}: expected a finite number; got {v!r}")
                bad = True
        if dist not in DISTS:
            problems.append(f"{where}.dist: expected one of {', '.join(DISTS)}; got {dist!r}")
            bad = True
        if not isinstance(why, str) or not why.strip():
            problems.append(f"{where}.why: expected the reason or source of the range (\"estimate: …\"); got {why!r}")
            bad = True
        if bad:
            continue
        if lo >= hi:
            problems.append(f"{where}: {lo_key} ({lo:g}) must be below {hi_key} ({hi:g})")
            continue
        if dist == "loguniform" and lo <= 0:
            problems.append(f"{where}.{lo_key}: a loguniform range needs {lo_key} > 0; got {lo:g}")
            continue
        if scale:
            m = _SCALE_PATH.match(key)
            if not m or m["table"] not in TABLE_MODELS:
                problems.append(f"{where}: expected TABLE.COLUMN or TABLE[COLUMN=VALUE].COLUMN with a table of "
                                f"{', '.join(TABLE_MODELS)} (e.g. items.annual_rate)")
                continue
            model = TABLE_MODELS[m["table"]]
            field, integer = _numeric_column(model, m["column"])
            if field is None:
                problems.append(f"{where}: {m['column']!r} is not a numeric column of the {m['table']} table")
                continue
            rows = getattr(sc, m["table"])
            sel = None
            if m["col"]:
                f2 = _column_field(model, m["col"])
                if f2 is None:
                    problems.append(f"{where}: {m['col']!r} is not a column of the {m['table']} table")
                    continue
                sel = (f2, m["val"])
                if not any(str(getattr(r, f2)) == m["val"] for r in rows):
                    problems.append(f"{where}: no row of the {m['table']} table has {m['col']} = {m['val']!r}")
                    continue
            if not lo <= 1.0 <= hi:
                problems.append(f"{where}: the range {lo:g}–{hi:g} must include 1 (the table as written)")
                continue
            out.append(Range(key, "scale", float(lo), float(hi), dist, why, 1.0, integer, m["table"], field, sel))
            continue
        spot = _locate(raw_settings, key)
        if isinstance(spot, str):
            problems.append(f"{where}: {spot}")
            continue
        value = spot[0][spot[1]]
        if not _number(value):
            problems.append(f"{where}: {key!r} is {value!r}, not a number; only numeric settings can have a range")
            continue
        if not lo <= value <= hi:
            problems.append(f"{where}: the scenario's value {value:g} is outside the range {lo:g}–{hi:g}")
            continue
        integer = isinstance(value, int)
        out.append(Range(key, "setting", float(lo), float(hi), dist, why, float(value), integer))
    if problems:
        raise ScenarioError(problems)
    # The ends of each range must be values the scenario accepts (e.g. a share below 1).
    for r in out:
        for end, label in ((0.0, "scale_low" if r.kind == "scale" else "low"),
                           (1.0, "scale_high" if r.kind == "scale" else "high")):
            try:
                apply(sc, {r.key: r.at(end)}, [r])
            except ScenarioError as err:
                problems.extend(f"{file}: uncertainty.\"{r.key}\".{label}: the scenario refuses this end of the "
                                f"range: {p}" for p in err.problems)
    if problems:
        raise ScenarioError(problems)
    return out


def _scaled(x: float, factor: float, integer: bool) -> float:
    y = x * factor
    return int(math.floor(y + 0.5)) if integer else y


def apply(sc: Scenario, values: dict[str, float], ranges: list[Range]) -> Scenario:
    """The scenario with each range's key set to ``values[key]`` (settings) or its column scaled; validated."""
    by_key = {r.key: r for r in ranges}
    settings = sc.settings
    changed = [by_key[k] for k in values if by_key[k].kind == "setting"]
    if changed:
        raw = settings.model_dump()
        for r in changed:
            container, field = _locate(raw, r.key)  # read_ranges checked that the path resolves
            container[field] = values[r.key]
        settings = _validate_settings(raw, sc.files.get("settings", "scenario") + f" (uncertainty draw)")
    tables: dict[str, tuple] = {}
    for k, v in values.items():
        r = by_key[k]
        if r.kind != "scale":
            continue
        rows = tables.get(r.table, getattr(sc, r.table))
        model = TABLE_MODELS[r.table]
        new = []
        for row in rows:
            if r.where is None or str(getattr(row, r.where[0])) == r.where[1]:
                data = row.model_dump(by_alias=True)
                alias = model.model_fields[r.column].alias or r.column
                data[alias] = _scaled(getattr(row, r.column), v, r.integer)
                try:
                    row = model.model_validate(data)
                except Exception as err:  # a pydantic ValidationError: name the row, column and draw
                    label = getattr(row, ROW_KEYS[r.table], "?")
                    raise ScenarioError(f"{sc.files.get(r.table, r.table)}: {r.key} scaled by {v:g}: "
                                        f"row {label!r} is refused ({str(err).splitlines()[-1].strip()})") from None
            new.append(row)
        tables[r.table] = tuple(new)
    out = dataclasses.replace(sc, settings=settings, **tables)
    check_references(out)
    return out


__all__ = ["Range", "DISTS", "read_ranges", "apply"]

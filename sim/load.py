"""Scenario files → validated :class:`~sim.config.Scenario`.

A scenario is a TOML file; its ``[tables]`` section names CSV tables relative to
the TOML file.  A scenario may start from another with ``extends = "other.toml"``:
tables are merged key by key, lists and values replaced.  Command-line overrides
(``--set officer_time.desk_share=0.4``) are applied last, before validation.

Every mistake is collected into a :class:`~sim.errors.ScenarioError` naming the
file, the field (``classes.street.target_hours`` or ``row 12 (code UM-05), column
on_site_mean_min``) and what was expected.
"""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path
from typing import Any, Iterable

from pydantic import BaseModel, ValidationError

from .config import (
    SOURCES,
    Department,
    Item,
    PatrolVisit,
    Scenario,
    Settings,
    StaffingRow,
    Town,
    Village,
)
from .errors import ScenarioError

TABLE_MODELS: dict[str, type[BaseModel]] = {
    "towns": Town,
    "villages": Village,
    "items": Item,
    "departments": Department,
    "staffing": StaffingRow,
    "patrol_plan": PatrolVisit,
}
# The column that names a row in messages ("row 12 (code UM-05)").
ROW_KEYS = {
    "towns": "town",
    "villages": "village",
    "items": "code",
    "departments": "department",
    "staffing": "brigade",
    "patrol_plan": "village",
}


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read, merge, override and validate a scenario; raise ScenarioError on any problem."""
    path = Path(path)
    raw = _read_toml_with_extends(path, seen=())
    for override in overrides:
        _apply_override(raw, override)
    settings = _validate_settings(raw, str(path))
    table_files = {key: getattr(settings.tables, key) for key in TABLE_MODELS}
    tables: dict[str, tuple] = {}
    problems: list[str] = []
    for key, model in TABLE_MODELS.items():
        file = table_files[key]
        if not file:
            tables[key] = ()
            continue
        try:
            tables[key] = _read_table(file, model, ROW_KEYS[key], field=f"tables.{key}", toml=str(path))
        except ScenarioError as err:
            problems.extend(err.problems)
    if problems:
        raise ScenarioError(problems)
    scenario = Scenario(
        settings=settings,
        towns=tables["towns"],
        villages=tables["villages"],
        items=tables["items"],
        departments=tables["departments"],
        staffing=tables["staffing"],
        patrol_plan=tables["patrol_plan"],
        files={"settings": str(path), **{k: v for k, v in table_files.items() if v}},
    )
    check_references(scenario)
    return scenario


# --------------------------------------------------------------------------- TOML


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError(f"{path}: cannot read the file as UTF-8 text ({err})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path}: not valid TOML: {err}") from None


def _read_toml_with_extends(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    resolved = path.resolve()
    if resolved in seen:
        chain = " -> ".join(str(p) for p in (*seen, resolved))
        raise ScenarioError(f"{path}: extends: a scenario cannot extend itself ({chain})")
    raw = _read_toml(path)
    # Table paths are relative to the file that names them: make them absolute-ish now.
    tables = raw.get("tables")
    if isinstance(tables, dict):
        for key, value in tables.items():
            if isinstance(value, str) and value:
                tables[key] = str(path.parent / value)
    base_name = raw.pop("extends", None)
    if base_name is None:
        return raw
    if not isinstance(base_name, str):
        raise ScenarioError.at(str(path), "extends", "the path of another scenario file (a string)", base_name)
    base_path = path.parent / base_name
    if not base_path.exists():
        raise ScenarioError(f"{path}: extends: scenario file {base_path} not found")
    base = _read_toml_with_extends(base_path, (*seen, resolved))
    return _merge(base, raw)


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _apply_override(raw: dict[str, Any], override: str) -> None:
    """Apply ``dotted.key=value``; the value is read as TOML (``0.4``, ``true``, ``"x"``, ``[1, 2]``)."""
    key, sep, text = override.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError(f"--set {override!r}: expected KEY=VALUE, e.g. officer_time.desk_share=0.4")
    try:
        value = tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = text.strip()  # a bare word is a string
    node = raw
    parts = key.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ScenarioError(f"--set {override!r}: {part!r} is a value, not a section")
        node = child
    node[parts[-1]] = value


def _validate_settings(raw: dict[str, Any], file: str) -> Settings:
    try:
        return Settings.model_validate(raw)
    except ValidationError as err:
        raise ScenarioError([_toml_problem(file, e) for e in err.errors()]) from None


def _field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _toml_problem(file: str, error: dict) -> str:
    field = _field_path(error["loc"]) or "(top level)"
    kind = error["type"]
    if kind == "missing":
        return f"{file}: {field}: missing; this setting is required"
    if kind == "extra_forbidden":
        return f"{file}: {field}: unknown setting (is it misspelt?)"
    msg = error["msg"].removeprefix("Value error, ")
    got = error.get("input")
    if isinstance(got, dict):
        return f"{file}: {field}: {msg}"
    return f"{file}: {field}: {msg}; got {got!r}"


# --------------------------------------------------------------------------- CSV


def _read_table(file: str, model: type[BaseModel], row_key: str, field: str, toml: str) -> tuple:
    path = Path(file)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            rows = list(reader)
    except FileNotFoundError:
        raise ScenarioError(f"{toml}: {field}: table file {file} not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise ScenarioError(f"{file}: cannot read the table as UTF-8 CSV ({err})") from None

    fields = model.model_fields
    columns = {f.alias or name: f for name, f in fields.items()}
    required = [c for c, f in columns.items() if f.is_required()]
    missing = [c for c in required if c not in header]
    unknown = [c or "(a column with no name)" for c in header if c not in columns]
    twice = _duplicates(header)
    problems = []
    if missing:
        problems.append(f"{file}: header: missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(
            f"{file}: header: unknown column(s) {', '.join(unknown)}; expected only {', '.join(columns)}"
        )
    if twice:
        problems.append(f"{file}: header: column(s) {', '.join(twice)} appear twice; expected each column once")
    if not rows:
        problems.append(f"{file}: the table has no rows")
    if problems:
        raise ScenarioError(problems)

    out = []
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        if None in row:
            problems.append(f"{file}: row {number}: more cells than columns in the header")
            continue
        if None in row.values():
            n = sum(v is not None for v in row.values())
            problems.append(
                f"{file}: row {number}: expected {len(header)} cells, one per column of the header; got {n}"
            )
            continue
        cells = {k: v for k, v in row.items() if v.strip()}  # an empty cell: the default, or "missing value"
        try:
            out.append(model.model_validate(cells))
        except ValidationError as err:
            label = f"row {number} ({row_key} {row.get(row_key) or '?'})"
            for e in err.errors():
                column = e["loc"][0] if e["loc"] else "?"
                got = e.get("input")
                if e["type"] == "missing" or got == "":
                    problems.append(f"{file}: {label}, column {column}: missing value")
                else:
                    msg = e["msg"].removeprefix("Value error, ")
                    where = f"column {column}" if e["loc"] else "row"
                    tail = "" if isinstance(got, dict) else f"; got {got!r}"  # a whole-row check: the message says it
                    problems.append(f"{file}: {label}, {where}: {msg}{tail}")
    if problems:
        raise ScenarioError(problems)
    return tuple(out)


# --------------------------------------------------------------------------- references


def _duplicates(values: Iterable[str]) -> list[str]:
    seen, dup = set(), []
    for v in values:
        if v in seen and v not in dup:
            dup.append(v)
        seen.add(v)
    return dup


def check_references(sc: Scenario) -> None:
    """Cross-table checks: every name referenced is defined, totals add up."""
    s = sc.settings
    f = sc.files
    p: list[str] = []

    towns = {t.town for t in sc.towns}
    for name in _duplicates(t.town for t in sc.towns):
        p.append(f"{f['towns']}: town {name!r} is listed twice")
    for name in _duplicates(v.village for v in sc.villages):
        p.append(f"{f['villages']}: village {name!r} is listed twice")
    for name in _duplicates(i.code for i in sc.items):
        p.append(f"{f['items']}: item code {name!r} is listed twice")
    for name in _duplicates(d.department for d in sc.departments):
        p.append(f"{f['departments']}: department {name!r} is listed twice")

    patterns = set(s.shift_patterns)
    for t in sc.towns:
        if t.shift_pattern not in patterns:
            p.append(
                f"{f['towns']}: town {t.town}, column shift_pattern: {t.shift_pattern!r} is not defined; "
                f"expected one of [shift_patterns] in {f['settings']}: {', '.join(sorted(patterns))}"
            )
    for key, cls in s.classes.items():
        if cls.profile not in s.profiles:
            p.append(
                f"{f['settings']}: classes.{key}.profile: {cls.profile!r} is not defined; "
                f"expected one of [profiles]: {', '.join(sorted(s.profiles))}"
            )
    if s.reform.county_seat not in towns:
        p.append(f"{f['settings']}: reform.county_seat: {s.reform.county_seat!r} is not a town of {f['towns']}")
    if s.reform.county_brigade_shift_pattern not in patterns:
        p.append(
            f"{f['settings']}: reform.county_brigade_shift_pattern: "
            f"{s.reform.county_brigade_shift_pattern!r} is not defined in [shift_patterns]"
        )
    for town in s.grid.report_delay_by_town_min:
        if town not in towns:
            p.append(f"{f['settings']}: grid.report_delay_by_town_min: {town!r} is not a town of {f['towns']}")
    for town in s.travel.urban_towns:
        if town not in towns:
            p.append(f"{f['settings']}: travel.urban_towns: {town!r} is not a town of {f['towns']}")

    # villages belong to towns, and match each town's counts
    per_town: dict[str, dict[str, int]] = {t: {"village": 0, "community": 0} for t in towns}
    for v in sc.villages:
        if v.town not in towns:
            p.append(f"{f['villages']}: village {v.village}, column town: {v.town!r} is not a town of {f['towns']}")
        else:
            per_town[v.town][v.kind] += 1
    for t in sc.towns:
        got = per_town[t.town]
        if (got["village"], got["community"]) != (t.villages, t.communities):
            p.append(
                f"{f['villages']}: town {t.town}: has {got['village']} villages and {got['community']} communities; "
                f"expected {t.villages} and {t.communities} as {f['towns']} says"
            )

    # items refer to classes and departments
    categories = {i.category for i in sc.items}
    depts = sc.department_by_key
    for i in sc.items:
        if i.klass not in s.classes:
            p.append(
                f"{f['items']}: item {i.code}, column class: {i.klass!r} is not defined; "
                f"expected one of [classes] in {f['settings']}: {', '.join(s.classes)}"
            )
        if i.department not in depts:
            p.append(
                f"{f['items']}: item {i.code}, column department: {i.department!r} is not in {f['departments']}"
            )
        elif sc.department_teams(depts[i.department]) == 0:
            column = "teams_before" if s.reform.mode == "before" else "teams_after"
            cls = s.classes.get(i.klass)
            if not sc.handled_by_brigade(i):
                why = "is transferred to it"
            elif cls is not None and cls.escalated_share > 0:
                why = f"can be escalated to it (classes.{i.klass}.escalated_share = {cls.escalated_share:g})"
            else:
                why = ""
            if why:
                p.append(
                    f"{f['departments']}: department {i.department}, column {column}: is 0, but item {i.code} "
                    f"{why}; expected at least one team"
                )
    for cat in s.reform.before_brigade_categories:
        if cat not in categories:
            p.append(
                f"{f['settings']}: reform.before_brigade_categories: {cat!r} is not a category of {f['items']}"
            )
    def _categories(values, field):
        for cat in values:
            if cat not in categories:
                p.append(f"{f['settings']}: {field}: {cat!r} is not a category of {f['items']}")

    if s.reform.delegated_categories is not None:
        _categories(s.reform.delegated_categories, "reform.delegated_categories")
    for name, net in s.grid.separate.items():
        _categories(net.categories, f"grid.separate.{name}.categories")
    if s.lifecycle is not None:
        _categories(s.lifecycle.decision_working_days, "lifecycle.decision_working_days")
    for klass, by_town in s.rate_factors.items():
        if klass not in s.classes:
            p.append(f"{f['settings']}: rate_factors.{klass}: {klass!r} is not a class in [classes]")
        for town in by_town:
            if town not in towns:
                p.append(f"{f['settings']}: rate_factors.{klass}.{town}: {town!r} is not a town of {f['towns']}")
    if s.stock is not None and s.stock.klass not in s.classes:
        p.append(f"{f['settings']}: stock.klass: {s.stock.klass!r} is not a class in [classes]")
    if s.building_growth is not None:
        for k in s.building_growth.classes:
            if k not in s.classes:
                p.append(f"{f['settings']}: building_growth.classes: {k!r} is not a class in [classes]")
    village_town = {v.village: v.town for v in sc.villages}
    for i, c in enumerate(s.campaigns):
        where = f"campaigns[{i}] ({c.name})"
        for town in c.towns:
            if town not in towns:
                p.append(f"{f['settings']}: {where}.towns: {town!r} is not a town of {f['towns']}")
        _categories([c.category], f"{where}.category")
        if isinstance(c.villages, str):
            if c.villages not in ("hot_spots", "all"):
                p.append(f"{f['settings']}: {where}.villages: expected \"hot_spots\", \"all\" or a list of "
                         f"village names; got {c.villages!r}")
        else:
            for v in c.villages:
                if village_town.get(v) not in c.towns:
                    p.append(f"{f['settings']}: {where}.villages: {v!r} is not a village of the campaign's towns")
    for key in s.inspection.obligations:
        if key not in depts:
            p.append(
                f"{f['settings']}: inspection.obligations.{key}: {key!r} is not a department of {f['departments']}"
            )
    for d in sc.departments:
        if d.base_town not in towns:
            p.append(f"{f['departments']}: department {d.department}, column base_town: {d.base_town!r} is not a town")
        if d.shift_pattern not in patterns:
            p.append(
                f"{f['departments']}: department {d.department}, column shift_pattern: "
                f"{d.shift_pattern!r} is not defined in [shift_patterns]"
            )

    # staffing: brigades exist, every brigade staffed, totals by source match
    brigades = {b.name for b in sc.brigades}
    staffed: dict[str, int] = {}
    totals = {src: 0 for src in SOURCES}
    for r in sc.staffing:
        if r.brigade not in brigades:
            expected = ", ".join(sorted(brigades)) if len(brigades) < 20 else "a brigade of this scenario"
            p.append(
                f"{f['staffing']}: brigade {r.brigade!r}: not a brigade in {s.reform.mode} mode; expected {expected}"
            )
        staffed[r.brigade] = staffed.get(r.brigade, 0) + r.officers
        totals[r.source] += r.officers
    for b in sorted(brigades):
        if staffed.get(b, 0) == 0:
            p.append(f"{f['staffing']}: brigade {b}: has no officers; every brigade needs staff")
    for src in SOURCES:
        want = s.staffing.sources.get(src)
        if want is None and totals[src]:
            p.append(
                f"{f['settings']}: staffing.sources.{src}: missing, but {f['staffing']} lists {totals[src]} "
                f"officers from this source"
            )
        elif want is not None and totals[src] != want:
            p.append(
                f"{f['staffing']}: source {src}: officers add up to {totals[src]}; expected {want} "
                f"(staffing.sources.{src} in {f['settings']})"
            )

    # patrol plan refers to brigades, teams and villages they serve
    if sc.patrol_plan:
        serves = {b.name: set(b.towns) for b in sc.brigades}
        villages = sc.village_by_name
        for r in sc.patrol_plan:
            if r.town not in serves:
                p.append(f"{f['patrol_plan']}: town {r.town!r}: not a brigade of this scenario")
            elif r.village not in villages:
                p.append(f"{f['patrol_plan']}: village {r.village!r}: not in {f['villages']}")
            elif villages[r.village].town not in serves[r.town]:
                p.append(f"{f['patrol_plan']}: village {r.village!r}: not served by brigade {r.town!r}")
    if p:
        raise ScenarioError(p)

"""Scenario files → validated :class:`~sim.config.Scenario`.

A scenario is a TOML file; its ``[tables]`` section names CSV tables relative to
the TOML file.  A scenario may start from another with ``extends = "other.toml"``:
tables are merged key by key, lists and values replaced.  Command-line overrides
(``--set officer_time.desk_share=0.4``) are applied last, before validation.

Every mistake is collected into a :class:`~sim.errors.ScenarioError` naming the
file that holds the value (the base scenario for an inherited value, the
command-line option for an override), the field (``classes.street.target_hours``
or ``row 12 (code UM-05), column on_site_mean_min``) and what was expected.
Files are read through :mod:`sim.textfiles`, so what Excel and Notepad save
(GBK, UTF-16 with TABs, a byte-order mark) is read like UTF-8.  Table cells may
be written as a spreadsheet writes them: ``110,000``, ``是``/``否``, a notes
column (``备注``) that is ignored.  Likely unit slips that are not errors
(a holiday after the end of the run) are logged as warnings that say what will
happen.
"""

from __future__ import annotations

import logging
import math
import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Callable, Iterable, Union

from pydantic import BaseModel, ValidationError

from .config import (
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
from .textfiles import read_rows, read_text

log = logging.getLogger(__name__)

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
# Columns a planner adds for their own notes: read past, whatever they hold.
NOTE_COLUMNS = frozenset({"备注", "说明", "注释", "注", "notes", "note", "remarks", "remark", "comment", "comments"})
# Yes and no as Chinese spreadsheets write them (yes/no, true/false, 1/0, Y/N are read as they are).
YES_NO = {"是": "yes", "否": "no"}
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")
_WHOLE = re.compile(r"[+-]?\d+\.0*")

# An override: "KEY=VALUE" (named "--set KEY=VALUE" in messages) or (name, "KEY=VALUE"),
# e.g. ("--days 10", "scenario.horizon_days=10") so that a message names the option the user typed.
Override = Union[str, tuple[str, str]]


def load_scenario(path: str | Path, overrides: Iterable[Override] = ()) -> Scenario:
    """Read, merge, override and validate a scenario; raise ScenarioError on any problem."""
    path = Path(path)
    origins = Origins(str(path))
    raw = _read_toml_with_extends(path, seen=(), origins=origins)
    for rank, override in enumerate(overrides, start=1):
        _apply_override(raw, override, origins, rank)
    settings = _validate_settings(raw, origins)
    table_files = {key: getattr(settings.tables, key) for key in TABLE_MODELS}
    tables: dict[str, tuple] = {}
    problems: list[str] = []
    for key, model in TABLE_MODELS.items():
        file = table_files[key]
        if not file:
            tables[key] = ()
            continue
        field = f"tables.{key}"
        try:
            tables[key] = _read_table(file, model, key, named_by=f"{origins.file_of(field)}: {field}")
        except ScenarioError as err:
            problems.extend(err.problems)
    if problems:
        raise ScenarioError(problems)
    towns = tables["towns"]
    if settings.rotas:  # a planner's choice of rota per town (--set rotas.TOWN=PATTERN) over the table's column
        towns = tuple(t.model_copy(update={"shift_pattern": settings.rotas[t.town]}) if t.town in settings.rotas
                      else t for t in towns)
    scenario = Scenario(
        settings=settings,
        towns=towns,
        villages=tables["villages"],
        items=tables["items"],
        departments=tables["departments"],
        staffing=tables["staffing"],
        patrol_plan=tables["patrol_plan"],
        files={"settings": str(path), **{k: v for k, v in table_files.items() if v}},
    )
    check_references(scenario, origins.file_of)
    for line in plausibility_warnings(scenario, origins.file_of):
        log.warning("warning: %s", line)
    return scenario


# --------------------------------------------------------------------------- where a value came from


class Origins:
    """Which file (or command-line option) set each setting, so that a message names the right one.

    ``leaves`` maps a setting's path (``("scenario", "horizon_days")``; a list or
    a scalar is one leaf) to (rank, name): a base scenario ranks below the file
    that extends it, overrides above every file, later ones above earlier ones.
    """

    def __init__(self, top: str):
        self.top = top
        self.leaves: dict[tuple[str, ...], tuple[int, str]] = {}

    def set(self, key: tuple[str, ...], rank: int, name: str) -> None:
        """``key`` (and everything under it) now comes from ``name``."""
        n = len(key)
        for old in [k for k in self.leaves if k[:n] == key or key[: len(k)] == k]:
            del self.leaves[old]
        self.leaves[key] = (rank, name)

    def set_all(self, node: dict[str, Any], rank: int, name: str, prefix: tuple[str, ...] = ()) -> None:
        for k, v in node.items():
            key = (*prefix, str(k))
            if isinstance(v, dict) and v:
                self.set_all(v, rank, name, key)
            else:
                self.set(key, rank, name)

    def blame(self, loc: Iterable) -> tuple[str, str]:
        """(the file or option to name, a note naming other sources) for an error at ``loc``."""
        key: tuple[str, ...] = ()
        for part in loc:
            if isinstance(part, int):
                break  # inside a list: the list is one value
            key = (*key, str(part))
        for n in range(len(key), 0, -1):
            if key[:n] in self.leaves:
                return self.leaves[key[:n]][1], ""
        for n in range(len(key), 0, -1):  # a check over a section, or a missing setting: its section's files
            under = [v for k, v in self.leaves.items() if k[:n] == key[:n]]
            if under:
                best = max(under)[1]
                others = sorted({name for _, name in under if name != best})
                note = f" (other values of {'.'.join(key[:n])} from {', '.join(others)})" if others else ""
                return best, note
        return self.top, ""

    def file_of(self, field: str) -> str:
        """The file or option that set a dotted setting (``reform.county_seat``)."""
        return self.blame(field.split("."))[0]


# --------------------------------------------------------------------------- TOML


def _toml_hint(text: str, err: tomllib.TOMLDecodeError) -> str:
    """A likely cause of a TOML syntax error, from the line it points at (never quoted back)."""
    found = re.search(r"line (\d+)", str(err))
    lines = text.splitlines()
    line = lines[int(found.group(1)) - 1] if found and 0 < int(found.group(1)) <= len(lines) else ""
    if "\\" in line and ('"' in line):
        return ("; a \\ in a double-quoted string starts an escape: write a Windows path with forward "
                "slashes (\"data/towns.csv\") or in single quotes ('data\\towns.csv')")
    if re.search(r"=\s*[+-]?\d{1,3}(,\d{3})+", line):
        return "; write numbers without a thousands separator: 110000 or 110_000, not 110,000"
    if "，" in line or "“" in line or "”" in line or "＝" in line:
        return "; a full-width comma, quote or equals sign (，“”＝) is not TOML: type it in half-width (, \" =)"
    return ""


def _read_toml(path: Path, named_by: str | None = None) -> dict[str, Any]:
    text = read_text(path, named_by, "scenario file")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path}: not valid TOML: {err}{_toml_hint(text, err)}") from None


_ESCAPED = {"\t": "\\t (a TAB)", "\n": "\\n (a new line)", "\r": "\\r", "\b": "\\b", "\f": "\\f"}


def _file_path(value: str, file: Path, field: str) -> str:
    """A path named in a scenario file: Windows backslashes become slashes; an escape read from one is refused."""
    bad = [shown for ch, shown in _ESCAPED.items() if ch in value]
    if bad:
        raise ScenarioError(
            f"{file}: {field}: the path holds {', '.join(bad)}: a \\ in a double-quoted TOML string starts an "
            f"escape; write the path with forward slashes (\"data/towns.csv\") or in single quotes "
            f"('data\\towns.csv')"
        )
    return value.replace("\\", "/")


def _read_toml_with_extends(path: Path, seen: tuple[Path, ...], origins: Origins,
                            named_by: str | None = None) -> dict[str, Any]:
    resolved = path.resolve()
    if resolved in seen:
        chain = " -> ".join(str(p) for p in (*seen, resolved))
        raise ScenarioError(f"{path}: extends: a scenario cannot extend itself ({chain})")
    raw = _read_toml(path, named_by)
    # Table paths are relative to the file that names them: make them absolute-ish now.
    tables = raw.get("tables")
    if isinstance(tables, dict):
        for key, value in tables.items():
            if isinstance(value, str) and value.strip():
                tables[key] = str(path.parent / _file_path(value.strip(), path, f"tables.{key}"))
    base_name = raw.pop("extends", None)
    if base_name is None:
        origins.set_all(raw, -len(seen), str(path))
        return raw
    if not isinstance(base_name, str):
        raise ScenarioError.at(str(path), "extends", "the path of another scenario file (a string)", base_name)
    base_path = path.parent / _file_path(base_name.strip(), path, "extends")
    if not base_path.exists():
        raise ScenarioError(f"{path}: extends: scenario file {base_path} not found")
    base = _read_toml_with_extends(base_path, (*seen, resolved), origins, named_by=f"{path}: extends")
    origins.set_all(raw, -len(seen), str(path))
    return _merge(base, raw)


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _apply_override(raw: dict[str, Any], override: Override, origins: Origins | None = None, rank: int = 1) -> None:
    """Apply ``dotted.key=value``; the value is read as TOML (``0.4``, ``true``, ``"x"``, ``[1, 2]``)."""
    name, override = override if isinstance(override, tuple) else (f"--set {override}", override)
    key, sep, text = override.partition("=")
    key = key.strip()
    where = name if isinstance(name, str) and not name.startswith("--set ") else f"--set {override!r}"
    if not sep or not key:
        raise ScenarioError(f"{where}: expected KEY=VALUE, e.g. officer_time.desk_share=0.4")
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
            raise ScenarioError(f"{where}: {part!r} is a value, not a section")
        node = child
    node[parts[-1]] = value
    if origins is not None:
        origins.set(tuple(parts), rank, name)


def _validate_settings(raw: dict[str, Any], origins: Origins | str) -> Settings:
    if isinstance(origins, str):
        origins = Origins(origins)
    try:
        return Settings.model_validate(raw)
    except ValidationError as err:
        raise ScenarioError([_toml_problem(origins, e) for e in err.errors()]) from None


def _field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _number_text(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        float(value.replace(",", "").replace("_", ""))
    except ValueError:
        return False
    return True


def settings_problems(err, where: str) -> list[str]:
    """The messages of a pydantic ``ValidationError`` of settings that ``where`` (a file or a name) set."""
    return [_toml_problem(Origins(where), e) for e in err.errors()]


def _toml_problem(origins: Origins, error: dict) -> str:
    field = _field_path(error["loc"]) or "(top level)"
    file, note = origins.blame(error["loc"])
    kind = error["type"]
    if kind == "missing":
        return f"{file}: {field}: missing; this setting is required"
    if kind == "extra_forbidden":
        return f"{file}: {field}: unknown setting (is it misspelt?)"
    msg = error["msg"].removeprefix("Value error, ")
    got = error.get("input")
    hint = ""
    limit = (error.get("ctx") or {}).get("le", (error.get("ctx") or {}).get("lt"))
    if kind in ("less_than_equal", "less_than") and limit == 1 and isinstance(got, (int, float)) and 1 < got <= 100:
        hint = f"; a share is a fraction of one: for {got:g} % write {got / 100:g}"
    elif kind == "bool_type":
        hint = "; write true or false, without quotes"
    elif kind in ("float_type", "int_type") and _number_text(got):
        hint = "; write the number without quotes" + (" and without a thousands separator" if "," in got else "")
    if isinstance(got, dict):
        return f"{file}: {field}: {msg}{note}"
    return f"{file}: {field}: {msg}; got {got!r}{hint}{note}"


# --------------------------------------------------------------------------- CSV


def _kinds(annotation: Any) -> set[type]:
    """The plain types a field accepts (``float | None`` → {float, NoneType})."""
    if typing.get_origin(annotation) in (Union, types.UnionType):
        return {k for a in typing.get_args(annotation) for k in _kinds(a)}
    return {annotation} if isinstance(annotation, type) else set()


def _cell(text: str, field) -> str:
    """A cell as a spreadsheet writes it → as the row model reads it (``110,000`` → ``110000``, ``是`` → ``yes``)."""
    kinds = _kinds(field.annotation)
    if bool in kinds:
        return YES_NO.get(text, text)
    if (int in kinds or float in kinds) and _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    if int in kinds and float not in kinds and _WHOLE.fullmatch(text):
        text = text.partition(".")[0]
    return text


def _read_table(file: str, model: type[BaseModel], key: str, named_by: str) -> tuple:
    header, rows = read_rows(file, named_by, "table file")
    row_key = ROW_KEYS[key]
    fields = model.model_fields
    columns = {f.alias or name: f for name, f in fields.items()}
    if not header:
        raise ScenarioError(f"{file}: the table is empty; expected a header row: {', '.join(columns)}")
    if not any(h in columns for h in header):
        # not a table of this kind: say so without quoting the file (it may be anybody's file)
        raise ScenarioError(
            f"{named_by}: {file} is not a {key} table: no cell of its first row is a column name of one; "
            f"expected the columns {', '.join(columns)}"
        )
    filled = {i for _, cells in rows for i, c in enumerate(cells) if c.strip()}
    used = [i for i, h in enumerate(header) if h.casefold() not in NOTE_COLUMNS and (h or i in filled)]
    names = [header[i] for i in used]
    required = [c for c, f in columns.items() if f.is_required()]
    missing = [c for c in required if c not in names]
    unknown = [c or "(a column with no name)" for c in names if c not in columns]
    twice = _duplicates(names)
    problems = []
    if missing:
        problems.append(f"{file}: header: missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(
            f"{file}: header: unknown column(s) {', '.join(unknown)}; expected only {', '.join(columns)} "
            f"(and a notes column named 备注 or notes, which is not read)"
        )
    if twice:
        problems.append(f"{file}: header: column(s) {', '.join(twice)} appear twice; expected each column once")
    if not rows:
        problems.append(f"{file}: the table has no rows")
    if problems:
        raise ScenarioError(problems)

    out = []
    width = len(header)
    for number, cells in rows:
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            problems.append(f"{file}: row {number}: more cells than columns in the header")
            continue
        if len(cells) < width:
            problems.append(
                f"{file}: row {number}: expected {width} cells, one per column of the header; got {len(cells)}"
            )
            continue
        row = {header[i]: cells[i].strip() for i in used}
        # an empty cell: the default, or "missing value"
        values = {k: _cell(v, columns[k]) for k, v in row.items() if v}
        try:
            out.append(model.model_validate(values))
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
                    if isinstance(got, dict):  # a whole-row check: the message says it
                        tail = ""
                    elif isinstance(column, str) and row.get(column, got) != got:
                        tail = f"; got {row[column]!r}"  # the cell as written, not as converted
                    else:
                        tail = f"; got {got!r}"
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


def check_references(sc: Scenario, origin: Callable[[str], str] | None = None) -> None:
    """Cross-table checks: every name referenced is defined, totals add up.

    ``origin(field)`` names the file that set a setting (default: the scenario file).
    """
    s = sc.settings
    f = sc.files
    o = origin or (lambda field: f["settings"])
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
                f"expected one of [shift_patterns] in {o('shift_patterns')}: {', '.join(sorted(patterns))}"
            )
    for key, cls in s.classes.items():
        if cls.profile not in s.profiles:
            p.append(
                f"{o(f'classes.{key}.profile')}: classes.{key}.profile: {cls.profile!r} is not defined; "
                f"expected one of [profiles]: {', '.join(sorted(s.profiles))}"
            )
    if s.reform.county_seat not in towns:
        p.append(f"{o('reform.county_seat')}: reform.county_seat: {s.reform.county_seat!r} is not a town of {f['towns']}")
    if s.reform.county_brigade_shift_pattern not in patterns:
        p.append(
            f"{o('reform.county_brigade_shift_pattern')}: reform.county_brigade_shift_pattern: "
            f"{s.reform.county_brigade_shift_pattern!r} is not defined in [shift_patterns]"
        )
    for town in s.grid.report_delay_by_town_min:
        if town not in towns:
            p.append(f"{f['settings']}: grid.report_delay_by_town_min: {town!r} is not a town of {f['towns']}")
    for town in s.travel.urban_towns:
        if town not in towns:
            p.append(f"{o('travel.urban_towns')}: travel.urban_towns: {town!r} is not a town of {f['towns']}")

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
                f"expected one of [classes] in {o('classes')}: {', '.join(s.classes)}"
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
                f"{o('reform.before_brigade_categories')}: reform.before_brigade_categories: {cat!r} is not a category of {f['items']}"
            )
    def _categories(values, field):
        for cat in values:
            if cat not in categories:
                p.append(f"{o(field)}: {field}: {cat!r} is not a category of {f['items']}")

    _categories(s.categories, "categories")
    if s.reform.delegated_categories is not None:
        _categories(s.reform.delegated_categories, "reform.delegated_categories")
    for name, net in s.grid.separate.items():
        _categories(net.categories, f"grid.separate.{name}.categories")
    if s.lifecycle is not None:
        _categories(s.lifecycle.decision_working_days, "lifecycle.decision_working_days")
    for town, pattern in s.rotas.items():
        if town not in towns:
            p.append(f"{f['settings']}: rotas.{town}: {town!r} is not a town of {f['towns']}")
        elif pattern not in s.shift_patterns:
            p.append(f"{f['settings']}: rotas.{town}: {pattern!r} is not defined; expected one of "
                     f"[shift_patterns]: {', '.join(sorted(s.shift_patterns))}")
    if s.on_call is not None:
        for klass in s.on_call.classes:
            if klass not in s.classes:
                p.append(f"{f['settings']}: on_call.classes: {klass!r} is not a class in [classes]")
    for klass, by_town in s.rate_factors.items():
        if klass not in s.classes:
            p.append(f"{f['settings']}: rate_factors.{klass}: {klass!r} is not a class in [classes]")
        for town in by_town:
            if town not in towns:
                p.append(f"{f['settings']}: rate_factors.{klass}.{town}: {town!r} is not a town of {f['towns']}")
    if s.stock is not None and s.stock.klass not in s.classes:
        p.append(f"{o('stock.klass')}: stock.klass: {s.stock.klass!r} is not a class in [classes]")
    if s.building_growth is not None:
        for k in s.building_growth.classes:
            if k not in s.classes:
                p.append(f"{o('building_growth.classes')}: building_growth.classes: {k!r} is not a class in [classes]")
    village_town = {v.village: v.town for v in sc.villages}
    for i, c in enumerate(s.campaigns):
        where = f"campaigns[{i}] ({c.name})"
        for town in c.towns:
            if town not in towns:
                p.append(f"{o('campaigns')}: {where}.towns: {town!r} is not a town of {f['towns']}")
        _categories([c.category], f"{where}.category")
        if isinstance(c.villages, str):
            if c.villages not in ("hot_spots", "all"):
                p.append(f"{o('campaigns')}: {where}.villages: expected \"hot_spots\", \"all\" or a list of "
                         f"village names; got {c.villages!r}")
        else:
            for v in c.villages:
                if village_town.get(v) not in c.towns:
                    p.append(f"{o('campaigns')}: {where}.villages: {v!r} is not a village of the campaign's towns")
    for key in s.inspection.obligations:
        if key not in depts:
            p.append(
                f"{o(f'inspection.obligations.{key}')}: inspection.obligations.{key}: {key!r} is not a department of {f['departments']}"
            )
    for d in sc.departments:
        if d.base_town not in towns:
            p.append(f"{f['departments']}: department {d.department}, column base_town: {d.base_town!r} is not a town")
        if d.shift_pattern not in patterns:
            p.append(
                f"{f['departments']}: department {d.department}, column shift_pattern: "
                f"{d.shift_pattern!r} is not defined in [shift_patterns]"
            )

    # sources of posts: the staffing totals, the staffing table and the transition name only listed ones
    sources = s.sources
    expected_sources = f"expected one of [sources] in {f['settings']}: {', '.join(sources)}"
    for key in s.staffing.sources:
        if key not in sources:
            p.append(f"{f['settings']}: staffing.sources.{key}: unknown source {key!r}; {expected_sources}")
    if s.transition is not None:
        for key in s.transition.sources:
            if key not in sources:
                p.append(f"{f['settings']}: transition.sources: unknown source {key!r}; {expected_sources}")
    for n, r in enumerate(sc.staffing, start=2):
        if r.source not in sources:
            p.append(f"{f['staffing']}: row {n} (brigade {r.brigade}), column source: unknown source "
                     f"{r.source!r}; {expected_sources}")

    # staffing: brigades exist, every brigade staffed, totals by source match
    brigades = {b.name for b in sc.brigades}
    staffed: dict[str, int] = {}
    totals = {src: 0 for src in sources}
    for r in sc.staffing:
        if r.brigade not in brigades:
            expected = ", ".join(sorted(brigades)) if len(brigades) < 20 else "a brigade of this scenario"
            p.append(
                f"{f['staffing']}: brigade {r.brigade!r}: not a brigade in {s.reform.mode} mode; expected {expected}"
            )
        staffed[r.brigade] = staffed.get(r.brigade, 0) + r.officers
        if r.source in totals:
            totals[r.source] += r.officers
    for b in sorted(brigades):
        if staffed.get(b, 0) == 0:
            p.append(f"{f['staffing']}: brigade {b}: has no officers; every brigade needs staff")
    for src in sources:
        want = s.staffing.sources.get(src)
        if want is None and totals[src]:
            p.append(
                f"{o('staffing.sources')}: staffing.sources.{src}: missing, but {f['staffing']} lists {totals[src]} "
                f"officers from this source"
            )
        elif want is not None and totals[src] != want:
            p.append(
                f"{f['staffing']}: source {src}: officers add up to {totals[src]}; expected {want} "
                f"(staffing.sources.{src} in {o(f'staffing.sources.{src}')})"
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
        # a team the brigade can never field: its visits would silently never happen
        most = {b.name: most_first_shift_teams(sc, b) for b in sc.brigades}
        for r in sc.patrol_plan:
            if r.town in most and r.team >= most[r.town]:
                n = most[r.town]
                p.append(
                    f"{f.get('patrol_plan', 'patrol plan')}: town {r.town!r}, village {r.village!r}, column team: "
                    f"team {r.team} is never on duty; the brigade fields at most {n} first-shift "
                    f"team{'s' if n != 1 else ''} (teams are numbered from 0), so these visits would never happen"
                )
    if p:
        raise ScenarioError(p)


def most_first_shift_teams(sc: Scenario, brigade) -> int:
    """The most two-officer teams a brigade can ever put on its first shift (the one that patrols).

    Every officer certified and on duty: officers × the shift's staff share,
    rounded up to whole people, in pairs.  The roster fields fewer; never more.
    """
    from .patrol_plan import first_shift

    officers = sum(r.officers for r in sc.staffing if r.brigade == brigade.name)
    share = first_shift(sc, brigade.shift_pattern).staff_share
    return math.ceil(officers * share - 1e-9) // 2


def plausibility_warnings(sc: Scenario, origin: Callable[[str], str] | None = None) -> list[str]:
    """Settings that are valid but probably not meant: each line says what will happen."""
    s = sc.settings
    o = origin or (lambda field: sc.files["settings"])
    horizon = s.scenario.horizon_days
    out = []
    lc = s.lifecycle
    if lc is not None and lc.enabled:
        late = sorted(d for d in set(lc.holidays) if d >= horizon)
        if late:
            shown = ", ".join(map(str, late[:5])) + (", …" if len(late) > 5 else "")
            out.append(
                f"{o('lifecycle.holidays')}: lifecycle.holidays: day(s) {shown} fall after the end of the run "
                f"(day {horizon:g}, scenario.horizon_days from {o('scenario.horizon_days')}) and have no effect; "
                f"holidays are day numbers from the start of the run (day 0 is a Monday)"
            )
    for i, c in enumerate(s.campaigns):
        if c.start_day >= horizon:
            out.append(
                f"{o('campaigns')}: campaigns[{i}] ({c.name}).start_day: day {c.start_day:g} is after the end of "
                f"the run (day {horizon:g}); the campaign will not happen"
            )
    return out

"""``egrid new``: a complete scenario for any county from a table of its towns.

The planner gives the towns (name, population, area, villages, location); every other value
is copied from a template scenario (Hui'an by default) and marked ``estimate: copied from
Hui'an — replace``, so the scenario runs at once and says, value by value, what is still
borrowed.  What the planner must supply is printed at the end (:func:`still_to_supply`).

* **Towns**: columns (or their Chinese aliases) ``town`` (镇街), ``population`` (人口),
  ``area_km2`` (面积), ``villages`` (村), optional ``communities`` (社区, default 0), and a
  location as ``lat`` + ``lon`` or one ``location`` cell ``"25.04,118.80"``; optional
  ``town_en``, ``businesses`` (else Hui'an's businesses per resident), ``urban_weight``
  (else 1.0) and ``shift_pattern`` (else the template's rural pattern: Hui'an's ``day_duty``).
* **Villages**: from a village table (``village, town, kind``; figures optional) when
  given, else derived from the towns by :func:`.villages.derive` (placeholder names).  No
  well-kept Python package ships China's divisions down to villages and communities (the
  packages on PyPI stop at counties or carry no licence or upkeep), so names come from a CSV.
* **Posts**: the template's posts per resident × the county's residents, split among the
  towns by population × urban weight and among sources by the template's shares (largest
  remainder; at least one two-officer team per town); certified shares as the template's.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from enforcement_grid.sim.config import Scenario, Town
from enforcement_grid.sim.errors import ScenarioError
from enforcement_grid.sim.load import load_scenario
from enforcement_grid.sim.staging import check_target, staged_folder

from .cases import read_text
from .villages import derive, largest_remainder

COPIED = "estimate: copied from Hui'an — replace"
DEFAULT_TEMPLATE = Path(__file__).resolve().parents[1] / "scenarios" / "huian.toml"
TOWN_ALIASES = {
    "town": ("镇街", "镇", "乡镇", "名称", "name"),
    "population": ("人口", "常住人口"),
    "area_km2": ("面积", "area"),
    "villages": ("村", "行政村", "村数"),
    "communities": ("社区", "社区数"),
    "lat": ("纬度", "latitude"),
    "lon": ("经度", "longitude"),
    "location": ("位置", "坐标"),
}
VILLAGE_ALIASES = {"village": ("村居", "名称", "name"), "town": ("镇街", "镇", "乡镇"), "kind": ("类型",)}
KIND_WORDS = {"village": "village", "村": "village", "community": "community", "社区": "community"}


def _table(path: Path, aliases: dict[str, tuple[str, ...]]) -> tuple[list[dict], list[int]]:
    reader = csv.DictReader(io.StringIO(read_text(path)))
    header = [h.strip() for h in (reader.fieldnames or [])]
    rename = {}
    for h in header:
        for key, names in aliases.items():
            if h == key or h in names:
                rename[h] = key
    rows, numbers = [], []
    for row in reader:
        rows.append({rename.get(k.strip(), k.strip()): (v or "").strip() for k, v in row.items() if k is not None})
        numbers.append(reader.line_num)
    if not rows:
        raise ScenarioError(f"{path}: the table has no rows")
    return rows, numbers


def read_towns(path: Path, template: Scenario) -> pd.DataFrame:
    """The towns table → towns.csv rows (every column of :class:`~sim.config.Town`)."""
    rows, numbers = _table(path, TOWN_ALIASES)
    t_pop = sum(t.population for t in template.towns)
    bus_per_resident = sum(t.businesses for t in template.towns) / t_pop
    least_urban = min(t.urban_weight for t in template.towns)  # the template's rural rota: its most rural towns' pattern
    rural = [t.shift_pattern for t in template.towns if t.urban_weight == least_urban]
    rural_pattern = max(sorted(set(rural)), key=rural.count)
    need = ["town", "population", "area_km2", "villages"]
    missing = [c for c in need if c not in rows[0]]
    if "location" not in rows[0] and not {"lat", "lon"} <= set(rows[0]):
        missing.append("lat and lon (or location)")
    if missing:
        raise ScenarioError(f"{path}: header: missing column(s) {', '.join(missing)}; expected town, population, "
                            f"area_km2, villages, [communities], lat, lon (or location)")
    out, problems = [], []
    for number, r in zip(numbers, rows):
        if "location" in r and r["location"]:
            lat, _, lon = r["location"].replace("，", ",").partition(",")
            r.setdefault("lat", lat.strip())
            r.setdefault("lon", lon.strip())
            r["lat"], r["lon"] = r["lat"] or lat.strip(), r["lon"] or lon.strip()
        pop = r.get("population", "")
        notes = [f"from {path.name}: population, area, villages, location"]
        if not r.get("businesses"):
            try:
                r["businesses"] = str(round(float(pop) * bus_per_resident))
            except ValueError:
                r["businesses"] = ""
            notes.append(f"businesses: {COPIED} ({bus_per_resident:.3f} per resident)")
        if not r.get("urban_weight"):
            r["urban_weight"] = "1.0"
            notes.append(f"urban_weight 1.0: {COPIED} (rural towns there)")
        if not r.get("shift_pattern"):
            r["shift_pattern"] = rural_pattern
            notes.append(f"shift_pattern {rural_pattern}: {COPIED} (rural brigades there)")
        cells = {"town": r.get("town", ""), "town_en": r.get("town_en") or r.get("town", ""), "population": pop,
                 "area_km2": r.get("area_km2", ""), "villages": r.get("villages", ""),
                 "communities": r.get("communities") or "0", "businesses": r["businesses"],
                 "lat": r.get("lat", ""), "lon": r.get("lon", ""), "urban_weight": r["urban_weight"],
                 "shift_pattern": r["shift_pattern"], "source": " | ".join(notes)}
        try:
            Town.model_validate({k: v for k, v in cells.items() if v != "" or k == "town_en"})
        except Exception as err:  # pydantic ValidationError: name the row and column
            for e in getattr(err, "errors", lambda: [])():
                col = e["loc"][0] if e["loc"] else "?"
                problems.append(f"{path}: row {number} ({cells['town'] or '?'}), column {col}: "
                                f"{e['msg'].removeprefix('Value error, ')}; got {cells.get(col, '')!r}")
            continue
        out.append(cells)
    if problems:
        raise ScenarioError(problems)
    df = pd.DataFrame(out)
    twice = df["town"][df["town"].duplicated()]
    if len(twice):
        raise ScenarioError(f"{path}: town {twice.iloc[0]!r} is listed twice")
    for c in ("population", "villages", "communities", "businesses"):
        df[c] = df[c].astype(int)
    for c in ("area_km2", "lat", "lon", "urban_weight"):
        df[c] = df[c].astype(float)
    return df


def read_village_names(path: Path, towns: pd.DataFrame) -> dict[str, list[tuple[str, str]]]:
    """village, town, kind (村 / 社区) → names by town; the town table's counts follow the names."""
    rows, numbers = _table(path, VILLAGE_ALIASES)
    known = set(towns["town"])
    names: dict[str, list[tuple[str, str]]] = {}
    problems = []
    for number, r in zip(numbers, rows):
        kind = KIND_WORDS.get(r.get("kind", ""))
        if not r.get("village"):
            problems.append(f"{path}: row {number}, column village: missing value")
        elif r.get("town") not in known:
            problems.append(f"{path}: row {number}, column town: {r.get('town')!r} is not a town of the towns table")
        elif kind is None:
            problems.append(f"{path}: row {number}, column kind: expected village or community (村 / 社区); "
                            f"got {r.get('kind')!r}")
        else:
            names.setdefault(r["town"], []).append((r["village"], kind))
    if problems:
        raise ScenarioError(problems)
    return names


def staffing_rows(towns: pd.DataFrame, template: Scenario) -> tuple[list[dict], dict[str, int]]:
    t_pop = sum(t.population for t in template.towns)
    t_sources = template.settings.staffing.sources
    total_template = sum(t_sources.values())
    total = max(2 * len(towns), round(total_template * towns["population"].sum() / t_pop))
    weight = (towns["population"] * towns["urban_weight"]).to_numpy(float)
    per_town = 2 + largest_remainder(weight, total - 2 * len(towns))  # at least one two-officer team each
    source_keys = [k for k, v in t_sources.items() if v > 0]
    share = np.array([t_sources[k] for k in source_keys], float)
    certified_share = {}
    for k in source_keys:
        rows = [r for r in template.staffing if r.source == k]
        off = sum(r.officers for r in rows)
        certified_share[k] = sum(r.certified for r in rows) / off if off else 1.0
    out, sums = [], {k: 0 for k in source_keys}
    for town, n in zip(towns["town"], per_town):
        split = largest_remainder(share, int(n))
        for k, m in zip(source_keys, split):
            cert = int(round(m * certified_share[k]))
            out.append({"brigade": town, "source": k, "officers": int(m), "certified": cert,
                        "source_note": f"{COPIED}: {total_template} posts for {t_pop:,} residents there, scaled to "
                                       f"this county's residents, split by population x urban_weight and by the "
                                       f"sources' shares there; certified share {certified_share[k]:.2f} as there"})
            sums[k] += int(m)
    return out, sums


# --------------------------------------------------------------------------- TOML


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return str(v)


def _key(k: str) -> str:
    plain = k.replace("_", "").replace("-", "")
    return k if plain.isascii() and plain.isalnum() else json.dumps(k, ensure_ascii=False)


def toml_lines(d: dict, notes: dict[str, str], prefix: str = "") -> list[str]:
    """Settings (a dict as pydantic dumps it) → TOML lines, each value with its note (default COPIED)."""
    lines, tables = [], []
    for k, v in d.items():
        if v is None or (isinstance(v, (dict, list)) and not v):
            continue
        if isinstance(v, dict):
            tables.append((k, v))
        else:
            lines.append(f"{_key(k)} = {_value(v)}   # {notes.get(prefix + k, COPIED)}")
    for k, v in tables:
        sub = f"{prefix}{k}"
        header = ".".join(_key(p) for p in sub.split("."))
        lines += ["", f"[{header}]", *toml_lines(v, notes, sub + ".")]
    return lines


def write_new(out: Path, county: str, towns_csv: Path, villages_csv: Path | None = None,
              template_path: Path = DEFAULT_TEMPLATE, seat: str | None = None, seed: int = 1,
              name: str | None = None, force: bool = False) -> tuple[Path, list[str]]:
    """Write the scenario folder; return it and what the planner must still supply."""
    out = Path(out)
    check_target(out, force, what="scenario folder")  # before any work: refuse early
    template = load_scenario(template_path)
    towns = read_towns(Path(towns_csv), template)
    names = read_village_names(Path(villages_csv), towns) if villages_csv else None
    if names:
        for i, t in towns.iterrows():
            given = names.get(t["town"])
            if given:
                towns.at[i, "villages"] = sum(k == "village" for _, k in given)
                towns.at[i, "communities"] = sum(k == "community" for _, k in given)
    seat = seat or towns.loc[towns["population"].idxmax(), "town"]
    if seat not in set(towns["town"]):
        raise ScenarioError(f"--seat {seat!r}: not a town of {towns_csv}")
    villages = derive(towns, seed=seed, made_by="egrid new", names=names)
    staffing, sums = staffing_rows(towns, template)

    s = template.settings.model_dump(mode="json", by_alias=True)
    name = name or "".join(ch if ch.isascii() and (ch.isalnum() or ch in "_.-") else "-" for ch in county).strip("-") or "county"
    scale = towns["population"].sum() / sum(t.population for t in template.towns)
    total_posts = sum(sums.values())
    s["scenario"].update(name=name, title_zh=county, title_en=county,
                         description=f"{county}: written by egrid new from {Path(towns_csv).name}; "
                                     f"everything but the towns copied from {template.name}", seed=seed)
    s["tables"] = {"towns": "towns.csv", "villages": "villages.csv", "items": "items.csv",
                   "staffing": "staffing.csv", "departments": "departments.csv"}
    s["reform"]["county_seat"] = seat
    s["travel"]["urban_towns"] = [seat]
    s["staffing"]["sources"] = sums
    s["campaigns"] = []
    if s.get("stock"):
        s["stock"]["violations"] = int(round(s["stock"]["violations"] * scale))
    if s.get("optimize"):
        s["optimize"]["max_posts_per_brigade"] = max(2, int(round(s["optimize"]["max_posts_per_brigade"] * scale)))
        s["optimize"]["tradeoff_posts"] = sorted({max(2 * len(towns), int(round(x * scale)))
                                                  for x in s["optimize"]["tradeoff_posts"]} | {total_posts})
    here = f"from {Path(towns_csv).name}"
    notes = {
        "scenario.name": "from --county", "scenario.title_zh": "from --county", "scenario.title_en": "from --county",
        "scenario.description": "written by egrid new", "scenario.seed": "any integer",
        **{f"tables.{k}": "written by egrid new" for k in s["tables"]},
        "reform.county_seat": "--seat, else the most populous town — check",
        "travel.urban_towns": "estimate: the county seat only — add the built-up towns",
        "stock.violations": f"{COPIED} (scaled by residents)",
        "optimize.max_posts_per_brigade": f"{COPIED} (scaled by residents)",
        "optimize.tradeoff_posts": f"{COPIED} (scaled by residents, with this scenario's total)",
        **{f"staffing.sources.{k}": f"{COPIED} (posts per resident there × residents here); must match staffing.csv"
           for k in sums},
        **{f"sources.{k}.{f}": f"{COPIED}: the county's own sources of posts and which are law posts"
           for k in s.get("sources", {}) for f in ("label_zh", "label_en", "law")},
    }
    text = "\n".join([
        f"# {county}: a scenario written by egrid new from {Path(towns_csv).name}.",
        f"# Towns{' and village names' if names else ''} are the planner's; every value marked",
        f"# \"{COPIED}\" is Hui'an's default ({template_path.name}) and should be replaced.",
        "", *toml_lines(s, notes)]) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    with staged_folder(out, writer="egrid new", force=force, what="scenario folder") as tmp:
        (tmp / "scenario.toml").write_text(text, encoding="utf-8")
        towns.to_csv(tmp / "towns.csv", index=False, lineterminator="\n")
        villages.to_csv(tmp / "villages.csv", index=False, lineterminator="\n")
        pd.DataFrame(staffing).to_csv(tmp / "staffing.csv", index=False, lineterminator="\n")
        for key in ("items", "departments"):
            df = pd.read_csv(io.StringIO(read_text(Path(template.files[key]))), dtype=str, keep_default_na=False)
            df["source"] = f"{COPIED} | " + df["source"]
            if key == "departments":
                df["base_town"] = seat
                df["source"] = df["source"] + " | base_town: the county seat (estimate)"
            df.to_csv(tmp / f"{key}.csv", index=False, lineterminator="\n")
        load_scenario(tmp / "scenario.toml")  # what we wrote must load
    return out, still_to_supply(out, towns, bool(names))


def still_to_supply(out: Path, towns: pd.DataFrame, named: bool) -> list[str]:
    """What the planner must still replace, file by file."""
    todo = [
        f"{out}/staffing.csv: posts by brigade and source, and how many are certified (F3, F4)",
        f"{out}/scenario.toml [sources]: the county's sources of posts, their labels and which are law posts",
        f"{out}/scenario.toml [staffing.sources]: the county's posts by source (they must add up with staffing.csv)",
        f"{out}/items.csv: the county's catalogue of delegated items and their annual rates "
        f"(egrid calibrate fits rates from platform case data)",
        f"{out}/departments.csv: the county departments and their teams",
        f"{out}/scenario.toml [travel] urban_towns, [classes] and [profiles]: or fit them with egrid calibrate",
    ]
    if not named:
        todo.insert(0, f"{out}/villages.csv: real village and community names and figures "
                       f"(placeholders derived from the towns; give --villages NAMES.csv)")
    if towns["source"].str.contains("businesses:").any():
        todo.append(f"{out}/towns.csv: businesses per town (copied from Hui'an's per resident)")
    todo.append(f"{out}/towns.csv: urban_weight and shift_pattern per town")
    return todo


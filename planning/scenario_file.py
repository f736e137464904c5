"""A scenario in memory → a self-contained scenario folder that ``egrid run`` reads back unchanged.

``scenario.toml`` holds every resolved setting (no ``extends``: the plan does not
change when the original file is edited later) and names tables beside it:
``tables/towns.csv`` (with the plan's rotas in ``shift_pattern``),
``tables/staffing.csv`` (the plan's posts), the villages, items and departments
copied byte for byte, and the weekly timetable (``patrol.csv``).  The original
scenario file is copied as ``tables/source-scenario.toml``: its comments are the
sources of the assumptions.  :func:`write_scenario` loads what it wrote and
checks that it is the same scenario, so a plan that would not reproduce is never
written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import tomli_w

from enforcement_grid.sim.config import Scenario
from enforcement_grid.sim.errors import ScenarioError
from enforcement_grid.sim.load import load_scenario
from enforcement_grid.sim.patrol_plan import PLAN_COLUMNS

COPIED = ("villages", "items", "departments")


def _without_none(x):
    if isinstance(x, dict):
        return {k: _without_none(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_without_none(v) for v in x]
    return x


def settings_dict(sc: Scenario, name: str | None = None, **labels) -> dict:
    """The resolved settings as TOML-ready data (None left out: the default), with a new name and labels."""
    d = _without_none(sc.settings.model_dump(mode="json", by_alias=True))
    if name is not None:
        d["scenario"]["name"] = name
    for key, value in labels.items():
        if value is not None:
            d["scenario"][key] = value
    return d


def write_scenario(folder: Path, sc: Scenario, name: str, timetable: str = "patrol.csv", header: str = "",
                   **labels) -> Path:
    """Write ``folder/scenario.toml`` and its tables (see module docstring); returns the TOML's path."""
    folder = Path(folder)
    tables = folder / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    for key in COPIED:
        shutil.copyfile(sc.files[key], tables / f"{key}.csv")
    towns = pd.read_csv(sc.files["towns"], dtype=str, keep_default_na=False, encoding="utf-8-sig")
    rota = {t.town: t.shift_pattern for t in sc.towns}
    towns["shift_pattern"] = towns["town"].map(rota)
    towns.to_csv(tables / "towns.csv", index=False)
    pd.DataFrame([r.model_dump() for r in sc.staffing],
                 columns=["brigade", "source", "officers", "certified", "source_note"]).to_csv(
        tables / "staffing.csv", index=False)
    d = settings_dict(sc, name, **labels)
    d["tables"] = {"towns": "tables/towns.csv", "villages": "tables/villages.csv", "items": "tables/items.csv",
                   "staffing": "tables/staffing.csv", "departments": "tables/departments.csv"}
    if sc.patrol_plan:
        pd.DataFrame([r.model_dump() for r in sc.patrol_plan], columns=PLAN_COLUMNS).to_csv(
            folder / timetable, index=False)
        d["tables"]["patrol_plan"] = timetable
    shutil.copyfile(sc.files["settings"], tables / "source-scenario.toml")
    path = folder / "scenario.toml"
    text = tomli_w.dumps(d)
    path.write_text((header + "\n" if header else "") + text, encoding="utf-8")
    back = load_scenario(path)
    same_as(back, sc, path)
    return path


def same_as(back: Scenario, sc: Scenario, path: Path) -> None:
    """Refuse a written scenario that is not the one in memory (labels and file paths aside)."""
    from enforcement_grid.experiments.levers import differences

    diff = differences(back, sc)
    if diff:
        raise ScenarioError(f"{path}: the written plan does not read back as the planned scenario "
                            f"({', '.join(diff[:5])}); nothing was written")


__all__ = ["write_scenario", "settings_dict", "same_as"]

"""Plans → what the simulator reads: a staffing table, a patrol plan, a scenario that uses them.

The optimiser never changes the simulator; it hands it tables in the scenario's
own formats, so every plan can be simulated, compared and reported like any
scenario (``egrid run DIR/scenario.toml``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from enforcement_grid.sim.config import PatrolVisit, Scenario, StaffingRow
from enforcement_grid.sim.errors import ScenarioError
from enforcement_grid.experiments.output import run_inputs
from enforcement_grid.sim.staging import TargetState, staged_folder
from enforcement_grid.sim.textfiles import read_frame
from enforcement_grid.sim.patrol_plan import PLAN_COLUMNS, default_plan
from enforcement_grid.sim.staffing import largest_remainder, with_staffing



def visits_by_village(sc: Scenario, visits: dict[str, np.ndarray]) -> dict[str, int]:
    """Per-town visit vectors (in villages-table order) → village name → visits a week."""
    out = {}
    for town, vec in visits.items():
        names = [v.village for v in sc.villages if v.town == town]
        out.update({n: int(f) for n, f in zip(names, vec)})
    return out


def staffing_rows(table: pd.DataFrame, note: str) -> tuple[StaffingRow, ...]:
    return tuple(
        StaffingRow(brigade=r.town, source=r.source, officers=int(r.posts), certified=int(r.certified),
                    source_note=note)
        for r in table.itertuples()
    )


def with_plan(sc: Scenario, table: pd.DataFrame, visits: dict[str, int] | None = None,
              plan: pd.DataFrame | None = None, note: str = "optimised allocation") -> Scenario:
    """The scenario with another staffing table and patrol plan (in memory, validated).

    Without ``plan``, the rule plan of the new staffing (with ``visits``, if given).
    """
    rows = staffing_rows(table, note)
    if plan is None:
        staffed = with_staffing(sc, rows, patrol_plan=())
        plan = default_plan(staffed, visits) if visits is not None else default_plan(staffed)
    visits_rows = tuple(PatrolVisit(**r) for r in plan[PLAN_COLUMNS].to_dict("records"))
    return with_staffing(sc, rows, patrol_plan=visits_rows)


def proportional_allocation(sc: Scenario) -> pd.DataFrame:
    """Posts and certified officers of each source shared by population (largest remainder),
    with at least one post of each law source (``law = true`` in ``[sources]``) per brigade
    taken from the best-endowed town."""
    from .data import source_totals

    posts, cert = source_totals(sc)
    pop = {t.town: float(t.population) for t in sc.towns}
    rows = []
    for s in posts:
        split = largest_remainder(posts[s], pop)
        if s in sc.law_sources and posts[s] >= len(pop):
            for t in pop:
                while split[t] < 1:
                    donor = max(split, key=split.get)
                    split[donor] -= 1
                    split[t] += 1
        cert_split = largest_remainder(cert[s], {t: float(split[t]) for t in pop})
        for t in pop:
            rows.append((t, s, split[t], min(cert_split[t], split[t])))
    return pd.DataFrame(rows, columns=["town", "source", "posts", "certified"])


def write_plan_folder(out: Path, sc: Scenario, tables: dict[str, pd.DataFrame], force: bool = False,
                      charts: dict | None = None, *, state: TargetState | None = None, inputs=(),
                      writer: str = "egrid optimize") -> Path:
    """Write result tables (and charts, as PNG and SVG) and a scenario that uses the plan, whole or not at all.

    ``tables`` maps file names (``allocation.csv`` …) to DataFrames; if it holds
    ``staffing.csv`` and/or ``patrol.csv``, a ``scenario.toml`` extending the
    original scenario with them is written too.  ``state``: the check made
    before the work (:func:`sim.staging.check_target`); ``inputs``: files read
    besides the scenario's, which the folder must not hold.
    """
    out = Path(out)
    with staged_folder(out, writer=writer, force=force, inputs=[*run_inputs(sc), *inputs], what="output folder",
                       state=state) as tmp:
        for name, df in tables.items():
            df.to_csv(tmp / name, index=False)
        if charts:
            (tmp / "charts").mkdir()
            for stem, fig in charts.items():
                for ext in ("png", "svg"):
                    fig.savefig(tmp / "charts" / f"{stem}.{ext}", dpi=150)
        lines = []
        if "staffing.csv" in tables or "patrol.csv" in tables:
            base = os.path.relpath(Path(sc.files["settings"]).resolve(), out.resolve()).replace(os.sep, "/")
            # a TOML string, escaped as JSON escapes it (a Windows \\ would otherwise start an escape)
            lines = [f"extends = {json.dumps(base, ensure_ascii=False)}", "", "[scenario]", f'name = "{sc.name}-plan"', "", "[tables]"]
            if "staffing.csv" in tables:
                lines.append('staffing = "staffing.csv"')
            if "patrol.csv" in tables:
                lines.append('patrol_plan = "patrol.csv"')
            if "staffing.csv" in tables:
                totals = tables["staffing.csv"].groupby("source")["officers"].sum().astype(int).to_dict()
                inner = ", ".join(f"{k} = {int(totals.get(k, 0))}" for k in sc.settings.staffing.sources)
                lines += ["", "[staffing]", f"sources = {{ {inner} }}"]
            (tmp / "scenario.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def staffing_table(table: pd.DataFrame, note: str) -> pd.DataFrame:
    """An allocation in the scenario's staffing.csv format."""
    return pd.DataFrame({
        "brigade": table["town"], "source": table["source"], "officers": table["posts"],
        "certified": table["certified"], "source_note": note,
    })


def read_allocation(path: str | Path, sc: Scenario) -> pd.DataFrame:
    """An allocation table (``town, source, posts, certified``) from a CSV or a plan folder, checked."""
    path = Path(path)
    if path.is_dir():
        path = path / "allocation.csv"
    if not path.exists():
        raise ScenarioError(f"{path}: allocation file not found")
    df = read_frame(path, kind="allocation file")
    need = ["town", "source", "posts", "certified"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ScenarioError(f"{path}: header: missing column(s) {', '.join(missing)}; expected {', '.join(need)}")
    problems = []
    towns = set(sc.town_by_name)
    for i, r in enumerate(df.itertuples(), start=2):
        if r.town not in towns:
            problems.append(f"{path}: row {i}, column town: {r.town!r} is not a town of the scenario")
        if r.source not in sc.settings.sources:
            problems.append(f"{path}: row {i}, column source: expected one of {', '.join(sc.settings.sources)}; "
                            f"got {r.source!r}")
        for col in ("posts", "certified"):
            val = getattr(r, col)
            if not (isinstance(val, (int, np.integer)) or (isinstance(val, float) and val.is_integer())) or val < 0:
                problems.append(f"{path}: row {i}, column {col}: expected a whole number >= 0; got {val!r}")
        if not problems and r.certified > r.posts:
            problems.append(f"{path}: row {i}: certified ({r.certified}) cannot exceed posts ({r.posts})")
    if problems:
        raise ScenarioError(problems)
    return df[need].astype({"posts": int, "certified": int})

"""Small scenarios written to a temporary folder, for tests.

``base()`` returns (settings, tables) for a valid two-town scenario with three
items (a street item and a building item the towns handle, a hidden-hazard item
transferred to a county department).  Tests change the dicts and call
``write(tmp_path, settings, tables)``; ``mmc()`` builds the M/M/c reduction.
"""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import tomli_w

DAY = {"name": "day", "start": "08:00", "end": "17:00", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "staff_share": 1.0}
ALL_DAY = {"name": "all", "start": "00:00", "end": "24:00",
           "days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], "staff_share": 1.0}
FLAT = {"hour_of_day": [1.0] * 24, "day_of_week": [1.0] * 7}


def _class(**kw) -> dict:
    c = {
        "label_zh": "类", "label_en": "class", "target_hours": 24.0, "profile": "flat",
        "grid_notice_per_day": 1.0, "complaint_per_day": 0.1, "noticeable_days": 3.0,
        "patrol_detect_prob": 0.9, "inspection_detect_prob": 0.5,
        "corrected_share": 0.9, "case_share": 0.08, "escalated_share": 0.02,
        "case_followup_min": 60.0, "weight": 1.0,
    }
    c.update(kw)
    return c


def base() -> tuple[dict, dict[str, list[dict]]]:
    settings = {
        "scenario": {"name": "tiny", "title_en": "tiny test scenario", "seed": 7, "horizon_days": 21.0,
                     "warmup_days": 2.0, "replications": 2},
        "tables": {"towns": "towns.csv", "villages": "villages.csv", "items": "items.csv",
                   "staffing": "staffing.csv", "departments": "departments.csv"},
        "reform": {"mode": "after", "county_seat": "甲镇", "county_brigade": "县大队",
                   "county_brigade_shift_pattern": "day", "before_brigade_categories": ["urban management"]},
        "sources": {"urban_management": {"label_zh": "城管", "label_en": "urban management"},
                    "county_department": {"label_zh": "部门", "label_en": "county departments"},
                    "reallocated": {"label_zh": "调剂", "label_en": "re-allocated"},
                    "law": {"label_zh": "法律", "label_en": "law posts", "law": True}},
        "staffing": {"sources": {"urban_management": 12, "county_department": 6, "reallocated": 4, "law": 2}},
        "officer_time": {"duty_days_per_year": 250.0, "annual_leave_days": 10.0, "training_days": 10.0,
                         "desk_share": 0.3, "other_town_work_share": 0.1},
        "shift_patterns": {"day": {"shifts": [DAY]}, "all": {"shifts": [ALL_DAY]}},
        "profiles": {"flat": FLAT},
        "classes": {
            "street": _class(),
            "building": _class(target_hours=168.0, grid_notice_per_day=0.2, patrol_detect_prob=0.75,
                               inspection_detect_prob=0.0, corrected_share=0.5, case_share=0.45,
                               escalated_share=0.05, case_followup_min=240.0, weight=3.0),
            "hidden": _class(target_hours=720.0, grid_notice_per_day=0.01, complaint_per_day=0.005,
                             noticeable_days=60.0, patrol_detect_prob=0.05, inspection_detect_prob=0.8,
                             corrected_share=0.6, case_share=0.35, escalated_share=0.05, weight=2.0),
        },
        "grid": {"residents_per_grid": 1000.0, "report_delay_mean_min": 60.0},
        "complaint": {"relay_delay_mean_min": 120.0},
        "command_centre": {"triage_mean_min": 20.0, "inspection_priority": 0},
        "transfer": {"delay_mean_hours": 24.0},
        "travel": {"circuity": 1.25, "speed_kmh": 35.0, "urban_speed_kmh": 20.0, "urban_towns": ["甲镇"],
                   "overhead_min": 5.0, "noise_cv": 0.25},
        "patrol": {"min_visits_per_week": 1, "hot_spot_visits_per_week": 2, "max_visits_per_week": 3,
                   "visit_base_min": 30.0, "visit_min_per_1k_residents": 10.0, "response_teams_reserved": 1},
        "inspection": {"obligations": {"fire": 0.2}, "joint": False, "joint_share": 0.0, "visit_min": 45.0},
        "optimize": {"max_posts_per_brigade": 30, "min_law_posts_per_brigade": 1,
                     "max_uncertified_per_certified": 1.0, "coverage_target": 0.3, "approx_samples": 300,
                     "loop_replications": 2, "loop_days": 20.0, "loop_max_iterations": 3, "time_limit_s": 10.0,
                     "gap": 0.0001, "patrol_gap": 0.01, "patrol_travel_value": 0.1,
                     "tradeoff_posts": [20, 30, 40]},
    }
    towns = [
        {"town": "甲镇", "town_en": "Jia", "population": 20000, "area_km2": 20.0, "villages": 1,
         "communities": 1, "businesses": 2000, "lat": 25.0, "lon": 118.8, "urban_weight": 1.5,
         "shift_pattern": "day", "source": "test"},
        {"town": "乙镇", "town_en": "Yi", "population": 10000, "area_km2": 30.0, "villages": 2,
         "communities": 0, "businesses": 800, "lat": 25.05, "lon": 118.9, "urban_weight": 1.0,
         "shift_pattern": "day", "source": "test"},
    ]
    villages = [
        {"village": "甲社区1", "town": "甲镇", "kind": "community", "population": 12000, "area_km2": 5.0,
         "businesses": 1400, "lat": 25.002, "lon": 118.801, "grid_workers": 12, "hot_spot": "no", "source": "test"},
        {"village": "甲村1", "town": "甲镇", "kind": "village", "population": 8000, "area_km2": 15.0,
         "businesses": 600, "lat": 25.02, "lon": 118.82, "grid_workers": 8, "hot_spot": "yes", "source": "test"},
        {"village": "乙村1", "town": "乙镇", "kind": "village", "population": 6000, "area_km2": 18.0,
         "businesses": 500, "lat": 25.06, "lon": 118.91, "grid_workers": 6, "hot_spot": "no", "source": "test"},
        {"village": "乙村2", "town": "乙镇", "kind": "village", "population": 4000, "area_km2": 12.0,
         "businesses": 300, "lat": 25.04, "lon": 118.93, "grid_workers": 2, "hot_spot": "yes", "source": "test"},
    ]
    item = {"legal_basis": "test", "simple_procedure": "yes", "on_site_cv": 0.5, "officers_needed": 2,
            "on_site_distribution": "lognormal", "urban_weighted": "no", "source": "test"}
    items = [
        {**item, "code": "S-1", "name_zh": "占道", "name_en": "street vending", "category": "urban management",
         "class": "street", "delegated": "yes", "department": "urban", "severity": 1, "on_site_mean_min": 20.0,
         "driver": "population", "annual_rate": 200.0, "rate_unit": "per_10k_residents", "urban_weighted": "yes"},
        {**item, "code": "B-1", "name_zh": "违建", "name_en": "illegal building", "category": "rural land",
         "class": "building", "delegated": "yes", "department": "land", "severity": 3, "on_site_mean_min": 90.0,
         "driver": "population", "annual_rate": 20.0, "rate_unit": "per_10k_residents"},
        {**item, "code": "H-1", "name_zh": "隐患", "name_en": "venue hazard", "category": "fire",
         "class": "hidden", "delegated": "no", "department": "fire", "severity": 2, "on_site_mean_min": 60.0,
         "driver": "businesses", "annual_rate": 30.0, "rate_unit": "per_1k_businesses"},
    ]
    departments = [
        {"department": d, "name_zh": d, "name_en": d, "teams_after": n, "teams_before": n + 1,
         "base_town": "甲镇", "shift_pattern": "day", "source": "test"}
        for d, n in (("urban", 1), ("land", 1), ("fire", 1))
    ]
    staffing = []
    for town, share in (("甲镇", 2), ("乙镇", 1)):
        for src, n, c in (("urban_management", 4, 4), ("county_department", 2, 2), ("reallocated", 4, 1), ("law", 1, 1)):
            staffing.append({"brigade": town, "source": src, "officers": n * share, "certified": c * share,
                             "source_note": "test"})
    totals: dict[str, int] = {}
    for r in staffing:
        totals[r["source"]] = totals.get(r["source"], 0) + r["officers"]
    settings["staffing"]["sources"] = totals
    tables = {"towns": towns, "villages": villages, "items": items, "departments": departments, "staffing": staffing}
    return settings, tables


def write(folder: Path, settings: dict, tables: dict[str, list[dict]], name: str = "scenario.toml") -> Path:
    """Write the settings as TOML and each table as CSV into ``folder``; return the TOML path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for key, rows in tables.items():
        file = settings["tables"].get(key, f"{key}.csv")
        columns: list[str] = []
        for r in rows:
            for c in r:
                if c not in columns:
                    columns.append(c)
        with open(folder / file, "w", newline="", encoding="utf-8") as handle:
            w = csv.DictWriter(handle, fieldnames=columns)
            w.writeheader()
            w.writerows(rows)
    path = folder / name
    path.write_text(tomli_w.dumps(settings), encoding="utf-8")
    return path


def scenario(folder: Path, edit=None) -> Path:
    """The base scenario, optionally changed by ``edit(settings, tables)``, written to ``folder``."""
    settings, tables = base()
    settings, tables = copy.deepcopy(settings), copy.deepcopy(tables)
    if edit is not None:
        edit(settings, tables)
    return write(folder, settings, tables)


def mmc(folder: Path, arrivals_per_hour: float, service_mean_min: float, teams: int,
        days: float = 60.0, replications: int = 6, seed: int = 11) -> Path:
    """One town, one village at the brigade's base, one item: an M/M/c queue with c = ``teams``.

    Constant-rate Poisson arrivals, exponential on-site time, no travel, no triage
    or report delay, practically immediate discovery, teams on duty around the
    clock, every case corrected on the spot.
    """
    settings, tables = base()
    s = settings
    s["scenario"].update(horizon_days=days, warmup_days=2.0, replications=replications, seed=seed)
    s["officer_time"] = {"duty_days_per_year": 365.0, "annual_leave_days": 0.0, "training_days": 0.0,
                         "desk_share": 0.0, "other_town_work_share": 0.0}
    s["classes"] = {"street": _class(grid_notice_per_day=1e7, complaint_per_day=0.0, corrected_share=1.0,
                                     case_share=0.0, escalated_share=0.0, case_followup_min=0.0)}
    s["grid"]["report_delay_mean_min"] = 0.0
    s["command_centre"]["triage_mean_min"] = 0.0
    s["travel"].update(overhead_min=0.0, noise_cv=0.0)
    s["patrol"].update(min_visits_per_week=0, hot_spot_visits_per_week=0, max_visits_per_week=0)
    s["inspection"]["obligations"] = {}
    s["reform"]["county_brigade_shift_pattern"] = "all"
    s["staffing"]["sources"] = {"urban_management": 2 * teams}
    town = dict(tables["towns"][0], villages=0, communities=1, shift_pattern="all", urban_weight=1.0)
    village = dict(tables["villages"][0], lat=town["lat"], lon=town["lon"], population=10000, grid_workers=10)
    item = dict(tables["items"][0], on_site_distribution="exponential", on_site_mean_min=service_mean_min,
                urban_weighted="no", annual_rate=arrivals_per_hour * 24 * 365, rate_unit="per_10k_residents")
    tables = {
        "towns": [town],
        "villages": [village],
        "items": [item],
        "departments": [dict(tables["departments"][0], teams_after=0, teams_before=0)],
        "staffing": [{"brigade": town["town"], "source": "urban_management", "officers": 2 * teams,
                      "certified": 2 * teams, "source_note": "test"}],
    }
    return write(folder, settings, tables)


PATHS_LIFECYCLE = {"enabled": True, "working_days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "day_start": "08:00",
                   "day_end": "17:00", "filing_hours": 1.0, "investigation_hours": 2.0, "review_hours": 1.0,
                   "decision_hours": 1.0, "review_min_severity": 1, "reviewers_per_law_post": 1.0,
                   "default_decision_working_days": 5.0}


def paths(folder: Path, lifecycle: bool = True, department_pattern: str = "all") -> Path:
    """One town, one village at the town seat, fixed times: for exact event logs of a violation's paths.

    Arrivals are injected (``Model(..., arrivals=[InjectedViolation(...)])``), so the
    annual rates do not matter.  Every officer is present every day around the clock
    (no rounding draws), the brigade fields two teams, each county department one;
    travel seat ↔ village is the 10-minute overhead (no distance, no noise); on-site
    times are fixed; no patrols or inspections.  A class's outcome is chosen by the
    injected ``outcome_u``: below 0.5 corrected, below 0.8 case filed, else escalated.
    Items: ``S-1`` (street, the town's), ``B-1`` (building, the town's), ``H-1``
    (hidden hazard, transferred to the fire department) and ``Q-4`` (the town's,
    needs four officers: two teams).  ``department_pattern="day"``: the county departments
    work 08:00–17:00 on weekdays instead.
    """
    settings, tables = base()
    s = settings
    s["scenario"].update(horizon_days=14.0, warmup_days=0.0, replications=1, seed=3)
    s["officer_time"] = {"duty_days_per_year": 365.0, "annual_leave_days": 0.0, "training_days": 0.0,
                         "desk_share": 0.0, "other_town_work_share": 0.0}
    shares = dict(corrected_share=0.5, case_share=0.3, escalated_share=0.2, case_followup_min=60.0,
                  grid_notice_per_day=24.0, complaint_per_day=0.0)
    s["classes"] = {k: _class(**shares) for k in ("street", "building", "hidden")}
    s["grid"].update(report_delay_mean_min=30.0)
    s["command_centre"]["triage_mean_min"] = 10.0
    s["transfer"] = {"delay_mean_hours": 2.0, "returned_share": 0.5}
    s["travel"].update(overhead_min=10.0, noise_cv=0.0, urban_towns=[])
    s["patrol"].update(min_visits_per_week=0, hot_spot_visits_per_week=0, max_visits_per_week=0)
    s["inspection"]["obligations"] = {}
    s["reform"]["county_brigade_shift_pattern"] = "all"
    if lifecycle:
        s["lifecycle"] = dict(PATHS_LIFECYCLE)
    town = dict(tables["towns"][0], villages=1, communities=0, shift_pattern="all", urban_weight=1.0)
    village = dict(tables["villages"][1], lat=town["lat"], lon=town["lon"], population=1000, grid_workers=1,
                   hot_spot="no")
    fixed = {"on_site_distribution": "fixed", "on_site_cv": 0.0}
    s1, b1, h1 = (dict(i, **fixed) for i in tables["items"])
    q4 = dict(s1, code="Q-4", name_zh="群体", name_en="crowd control", officers_needed=4, severity=2,
              on_site_mean_min=40.0)
    staffing = [{"brigade": town["town"], "source": src, "officers": n, "certified": c, "source_note": "test"}
                for src, n, c in (("urban_management", 4, 4), ("law", 1, 1))]
    s["staffing"]["sources"] = {"urban_management": 4, "law": 1}
    departments = [dict(d, shift_pattern=department_pattern) for d in tables["departments"]]
    tables = {"towns": [town], "villages": [village], "items": [s1, b1, h1, q4], "departments": departments,
              "staffing": staffing}
    return write(folder, settings, tables)

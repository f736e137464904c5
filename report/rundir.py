"""Read a run folder (see :mod:`sim.output`) and derive the tables the charts need.

:func:`load_run` reads a run folder into a :class:`RunDir`: the summary,
replications, units, patrol plan, the resolved settings of ``scenario.json`` and
the tables copied into ``tables/``.  Records (``records.csv.gz``, the largest
file) are read on first use.

Derived tables, all plain functions of DataFrames:

* :func:`delays` — per violation, ``response_min`` (report → team on site) and
  ``discovery_min`` (arising → discovery);
* :func:`backlog_by_day` — backlog (reported, not yet closed) at the end of each
  day and the share of violations due that day that were closed on time;
* :func:`allocation` — posts by town and source, from the staffing table;
* :func:`certified_by_month` — certified teams (or officers) per month over the
  transition, county total, mean and 95 % CI over replications (from ``timeline.csv``);
* :meth:`RunDir.campaign_villages` and :func:`campaign_series` — which villages a campaign
  sweeps, and by day: latent violations of its category there and response time in
  the rest of its towns (the campaign-effect chart).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from enforcement_grid.sim.errors import ScenarioError
from enforcement_grid.sim.measures import t_quantile
from enforcement_grid.sim.textfiles import read_frame, read_text

MIN_PER_DAY = 1440.0
DAYS_PER_MONTH = 365.0 / 12.0  # the months of the run's timeline (sim.roster.DailyTeams)
REQUIRED = ("summary.csv", "replications.csv", "scenario.json")


@dataclass(eq=False)
class RunDir:
    """A run folder, loaded.  ``records`` is read lazily (``None`` if the run kept no records)."""

    path: Path
    meta: dict
    summary: pd.DataFrame
    replications: pd.DataFrame
    units: pd.DataFrame | None
    plan: pd.DataFrame | None
    towns: pd.DataFrame | None
    tables: dict[str, Path] = field(default_factory=dict)

    # ------------------------------------------------------------ identity
    @property
    def name(self) -> str:
        return str(self.meta.get("scenario", self.path.name))

    @property
    def seed(self):
        return self.meta.get("seed")

    @property
    def settings(self) -> dict:
        return self.meta.get("settings", {})

    def title(self, lang: str) -> str:
        s = self.settings.get("scenario", {})
        return s.get(f"title_{lang}") or s.get("title_en") or self.name

    @property
    def reps(self) -> list[int]:
        return list(self.meta.get("replications") or sorted(self.replications["rep"].unique()))

    @property
    def warmup_min(self) -> float:
        return float(self.settings.get("scenario", {}).get("warmup_days", 0.0)) * MIN_PER_DAY

    @property
    def horizon_min(self) -> float:
        s = self.settings.get("scenario", {})
        if "horizon_days" in s:
            return float(s["horizon_days"]) * MIN_PER_DAY
        return float("nan")

    @property
    def town_en(self) -> dict[str, str]:
        """Chinese town name → pinyin (``town_en`` of towns.csv); empty if the table is missing."""
        if self.towns is None or "town_en" not in self.towns:
            return {}
        return dict(zip(self.towns["town"], self.towns["town_en"]))

    @property
    def class_keys(self) -> tuple[str, ...]:
        """The run's violation classes, in the scenario's order (the reports' tables and charts use these)."""
        return tuple(self.settings.get("classes", {}))

    @property
    def class_labels(self) -> dict[str, dict[str, str]]:
        """Class key → {"zh": label_zh, "en": label_en} from the settings."""
        return {
            k: {"zh": c.get("label_zh", k), "en": c.get("label_en", k)}
            for k, c in self.settings.get("classes", {}).items()
        }

    @property
    def source_labels(self) -> dict[str, dict[str, str]]:
        """Source of posts → {"zh": label_zh, "en": label_en} from the settings' ``[sources]``."""
        return {
            k: {"zh": c.get("label_zh", k), "en": c.get("label_en", k)}
            for k, c in self.settings.get("sources", {}).items()
        }

    @property
    def pattern_labels(self) -> dict[str, dict[str, str]]:
        """Shift pattern → {"zh": label_zh, "en": label_en} from the settings (empty where none is given)."""
        return {k: {"zh": c.get("label_zh", ""), "en": c.get("label_en", "")}
                for k, c in self.settings.get("shift_patterns", {}).items()}

    @property
    def category_labels(self) -> dict[str, dict[str, str]]:
        """Item category → {"zh": label_zh, "en": label_en} from the settings' ``[categories]``."""
        return {
            k: {"zh": c.get("label_zh", k), "en": c.get("label_en", k)}
            for k, c in self.settings.get("categories", {}).items()
        }

    # ------------------------------------------------------------ tables
    def table(self, key: str) -> pd.DataFrame | None:
        """A copied input table (``towns``, ``villages``, ``items``, ``staffing``, …) or None."""
        path = self.tables.get(key)
        return read_frame(path) if path is not None else None  # the user's table, as the run read it

    @property
    def scenario_toml(self) -> Path | None:
        p = self.path / "tables" / "scenario.toml"
        return p if p.is_file() else None

    @cached_property
    def records(self) -> pd.DataFrame | None:
        p = self.path / "records.csv.gz"
        if not p.is_file():
            return None
        df = pd.read_csv(p, keep_default_na=False, na_values=[""], low_memory=False)
        for c in df.columns:
            if c.endswith("_min"):
                df[c] = df[c].astype(float)
        return df

    @cached_property
    def timeline(self) -> pd.DataFrame | None:
        """``timeline.csv`` (``month, unit, certified, teams, past_deadline, rep``) or None if absent."""
        p = self.path / "timeline.csv"
        if not p.is_file():
            return None
        return pd.read_csv(p, keep_default_na=False, na_values=[""])

    @property
    def campaigns(self) -> list[dict]:
        """The scenario's ``[[campaigns]]`` (resolved settings), as dicts; empty if none."""
        return list(self.settings.get("campaigns") or [])

    def campaign_villages(self, name: str) -> list[str]:
        """The villages campaign ``name`` swept, as the model chose them (``campaign_villages.csv``)."""
        p = self.path / "campaign_villages.csv"
        if not p.is_file():
            raise ScenarioError(f"{p}: missing; this run folder predates campaign village records — run it again")
        df = pd.read_csv(p, keep_default_na=False, na_values=[""], dtype=str)
        return list(df.loc[df["campaign"] == name, "village"])

    def item_targets_min(self) -> dict[str, float]:
        """Target time (minutes) per item: the item's ``target_hours`` if given, else its class's."""
        items = self.table("items")
        classes = self.settings.get("classes", {})
        if items is None:
            return {}
        out = {}
        for _, row in items.iterrows():
            own = row.get("target_hours") if "target_hours" in items else None
            if own is not None and not pd.isna(own) and str(own).strip() != "":
                out[row["code"]] = float(own) * 60.0
            else:
                out[row["code"]] = float(classes[row["class"]]["target_hours"]) * 60.0
        return out


def load_run(run: "str | Path | RunDir") -> RunDir:
    """Read a run folder (a :class:`RunDir` is returned as it is)."""
    if isinstance(run, RunDir):
        return run
    path = Path(run)
    if not path.is_dir():
        raise ScenarioError(f"{path}: not a run folder (no such directory)")
    missing = [f for f in REQUIRED if not (path / f).is_file()]
    if missing:
        raise ScenarioError(f"{path}: not a run folder; missing {', '.join(missing)} (written by `egrid run`)")
    meta = json.loads((path / "scenario.json").read_text(encoding="utf-8"))
    summary = pd.read_csv(path / "summary.csv", keep_default_na=False, na_values=[""])
    replications = pd.read_csv(path / "replications.csv", keep_default_na=False, na_values=[""])

    def opt(name: str) -> pd.DataFrame | None:
        p = path / name
        return pd.read_csv(p, keep_default_na=False, na_values=[""]) if p.is_file() else None

    tables = {p.stem: p for p in sorted((path / "tables").glob("*.csv"))} if (path / "tables").is_dir() else {}
    towns = read_frame(tables["towns"]) if "towns" in tables else None
    return RunDir(
        path=path, meta=meta, summary=summary, replications=replications,
        units=opt("units.csv"), plan=opt("patrol_plan.csv"), towns=towns, tables=tables,
    )


# ---------------------------------------------------------------------------- derived tables


def delays(records: pd.DataFrame, warmup_min: float = 0.0) -> pd.DataFrame:
    """Records of violations arising after the warm-up, with two delay columns (minutes).

    * ``discovery_min`` = ``discovered_min − occurred_min``; ``inf`` if never discovered.
    * ``response_min`` = ``on_site_min − reported_min`` for violations reported to the
      command centre and dispatched from there; ``inf`` if no team was on site by the
      end; ``NaN`` if not reported, or acted on the spot by the patrol or inspection
      team that found it (as ``response_time_min`` in :mod:`sim.measures`).

    ``inf`` marks work not reached by the end, so a distribution over these columns
    counts it (a CDF stays below one) instead of silently dropping it.
    """
    r = records[records["occurred_min"].to_numpy(float) >= warmup_min].copy()
    occurred = r["occurred_min"].to_numpy(float)
    discovered = r["discovered_min"].to_numpy(float)
    reported = r["reported_min"].to_numpy(float)
    on_site = r["on_site_min"].to_numpy(float)
    disc = discovered - occurred
    r["discovery_min"] = np.where(np.isnan(disc), np.inf, disc)
    on_spot = r["channel"].isin(["patrol", "inspection"]).to_numpy() & (on_site == reported)
    resp = on_site - reported
    resp = np.where(np.isnan(on_site), np.inf, resp)
    r["response_min"] = np.where(np.isnan(reported) | on_spot, np.nan, resp)
    return r


def backlog_by_day(
    records: pd.DataFrame,
    targets_min: dict[str, float],
    warmup_min: float,
    horizon_min: float,
    town: str | None = None,
    confidence: float = 0.95,
    since: str = "reported",
) -> pd.DataFrame:
    """Backlog and on-time closure per day, from records with a ``rep`` column.

    Day ``d`` (1, 2, …) is the interval ``((d−1)·1440, d·1440]`` minutes.  Columns:

    * ``backlog`` — violations reported but not closed at the end of the day, mean
      over replications, with ``backlog_ci_low``/``backlog_ci_high`` (t interval);
    * ``due`` — violations (arising after the warm-up) whose target deadline
      (arising + the item's target time) falls in the day, summed over replications;
    * ``on_time_closure_rate`` — share of those closed by their deadline (NaN if none due).

    ``town`` limits everything to one town.  ``since="discovered"`` counts a violation
    in the backlog from its discovery rather than from its report at the command
    centre; that is how ``backlog_end`` of :mod:`sim.measures` counts (its
    ``open_waiting`` outcome includes reports still on their way), so the last day
    then equals ``backlog_end``.
    """
    if since not in ("reported", "discovered"):
        raise ValueError(f"since must be 'reported' or 'discovered', got {since!r}")
    r = records if town is None else records[records["town"] == town]
    n_days = int(np.floor(horizon_min / MIN_PER_DAY + 1e-9))
    days = np.arange(1, n_days + 1)
    ends = days * MIN_PER_DAY
    reps = sorted(records["rep"].unique()) if "rep" in records else [0]
    per_rep = []
    for rep in reps:
        rr = r[r["rep"] == rep] if "rep" in r else r
        rep_at = np.sort(rr[f"{since}_min"].dropna().to_numpy(float))
        closed_at = np.sort(rr["closed_min"].dropna().to_numpy(float))
        per_rep.append(np.searchsorted(rep_at, ends, side="right") - np.searchsorted(closed_at, ends, side="right"))
    backlog = np.asarray(per_rep, float)
    mean = backlog.mean(axis=0)
    half = _t_half(backlog, confidence)

    occurred = r["occurred_min"].to_numpy(float)
    target = r["item"].map(targets_min).to_numpy(float)
    deadline = occurred + target
    ok = (occurred >= warmup_min) & ~np.isnan(deadline) & (deadline <= n_days * MIN_PER_DAY)
    due_day = np.ceil(deadline[ok] / MIN_PER_DAY).astype(int)
    due_day = np.clip(due_day, 1, n_days)
    closed = r["closed_min"].to_numpy(float)[ok]
    on_time = ~np.isnan(closed) & (closed <= deadline[ok])
    due = np.bincount(due_day, minlength=n_days + 1)[1:]
    done = np.bincount(due_day, weights=on_time.astype(float), minlength=n_days + 1)[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(due > 0, done / np.maximum(due, 1), np.nan)
    return pd.DataFrame({
        "day": days,
        "backlog": mean,
        "backlog_ci_low": mean - half,
        "backlog_ci_high": mean + half,
        "due": due.astype(int),
        "on_time_closure_rate": rate,
    })


def allocation(run: RunDir) -> pd.DataFrame | None:
    """Posts by brigade (town) and source, from the run's staffing table: ``town, source, posts``."""
    staffing = run.table("staffing")
    if staffing is None:
        return None
    out = (
        staffing.groupby(["brigade", "source"], sort=False)["officers"].sum().reset_index()
        .rename(columns={"brigade": "town", "officers": "posts"})
    )
    return out[["town", "source", "posts"]]


def _t_half(values: np.ndarray, confidence: float, axis: int = 0) -> np.ndarray:
    """Half-width of the t interval of the mean along ``axis`` (NaN with fewer than two values)."""
    n = values.shape[axis]
    if n < 2:
        return np.full(np.delete(values.shape, axis), np.nan)
    return t_quantile(confidence, n - 1) * values.std(axis=axis, ddof=1) / np.sqrt(n)


def certified_by_month(
    timeline: pd.DataFrame,
    column: str = "teams",
    horizon_days: float | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """County totals per month of a run's timeline, with the mean and t interval over replications.

    ``timeline``: ``month, unit, certified, teams, past_deadline`` and ``rep`` (a run
    folder's ``timeline.csv`` or :attr:`sim.RunSet.timeline`).  ``column``:
    ``teams`` (certified two-officer teams on a running shift), ``certified``
    (certified officers) or ``past_deadline`` (officers not certified by the
    deadline).  Each replication's brigades are summed per month, then the
    replications averaged.  ``horizon_days`` drops a month that starts at or after
    the end of the run (the timeline's last day is the horizon itself).

    Returns ``month, mean, ci_low, ci_high, n`` (n = replications).
    """
    need = ["month", "unit", column]
    missing = [c for c in need if c not in timeline.columns]
    if missing:
        raise ValueError(f"certified_by_month: missing column(s) {', '.join(missing)}; expected month, unit, {column}, rep")
    tl = timeline if "rep" in timeline.columns else timeline.assign(rep=0)
    if horizon_days is not None and not math.isnan(horizon_days):
        tl = tl[tl["month"].to_numpy(float) * DAYS_PER_MONTH < horizon_days - 1e-9]
    wide = tl.groupby(["month", "rep"])[column].sum().unstack("rep").sort_index()
    values = wide.to_numpy(float)  # month × rep
    mean = values.mean(axis=1) if values.size else np.array([])
    half = _t_half(values.T, confidence) if values.size else np.array([])
    return pd.DataFrame({
        "month": wide.index.to_numpy(int), "mean": mean, "ci_low": mean - half, "ci_high": mean + half,
        "n": values.shape[1] if values.size else 0,
    })


def campaign_series(
    records: pd.DataFrame,
    villages,
    category: str,
    towns,
    horizon_min: float,
    smooth_days: int = 7,
) -> pd.DataFrame:
    """Day by day, what a campaign changes: ``day, measure, value``, two measures.

    * ``latent`` — violations of ``category`` in the campaign ``villages`` that have
      arisen (old stock included) but are not yet discovered at the end of the day,
      mean over replications: what a campaign sweep is meant to bring down;
    * ``response_h`` — response time (report at the command centre → team on site,
      hours) of reports in the other villages of the campaign's ``towns``, by the
      day of the report, pooled over replications and averaged over a trailing
      window of ``smooth_days``: what pulling teams away costs.  Reports no team
      reached by the end count with the time up to the end (censored, not dropped);
      finds acted on the spot by the finding team are not responses.

    ``records``: the run's records with a ``rep`` column.  Day ``d`` is the interval
    ``((d−1)·1440, d·1440]`` minutes, as in :func:`backlog_by_day`.  Run it on the
    records of the run with the campaign and of the same scenario without it (same
    seed), and label the two with a ``group`` column for
    :func:`report.charts.campaign_effect`.
    """
    villages = set(villages)
    towns = set(towns)
    n_days = int(np.floor(horizon_min / MIN_PER_DAY + 1e-9))
    days = np.arange(1, n_days + 1)
    ends = days * MIN_PER_DAY
    reps = sorted(records["rep"].unique()) if "rep" in records.columns else [0]
    rec = records if "rep" in records.columns else records.assign(rep=0)

    in_villages = rec["village"].isin(villages).to_numpy()
    target = rec[in_villages & (rec["category"] == category).to_numpy()]
    latent = np.zeros((len(reps), n_days))
    for i, rep in enumerate(reps):
        r = target[target["rep"] == rep]
        occurred = np.sort(r["occurred_min"].to_numpy(float))
        found = np.sort(r["discovered_min"].dropna().to_numpy(float))
        latent[i] = np.searchsorted(occurred, ends, side="right") - np.searchsorted(found, ends, side="right")

    rest = rec[rec["town"].isin(towns).to_numpy() & ~in_villages]
    d = delays(rest, warmup_min=-np.inf)
    d = d[d["response_min"].notna()]
    reported = d["reported_min"].to_numpy(float)
    response = d["response_min"].to_numpy(float)
    response = np.where(np.isinf(response), horizon_min - reported, response)
    day_of = np.clip(np.ceil(reported / MIN_PER_DAY).astype(int), 1, max(n_days, 1))
    total = np.bincount(day_of, weights=response, minlength=n_days + 1)[1:n_days + 1]
    count = np.bincount(day_of, minlength=n_days + 1)[1:n_days + 1].astype(float)
    window = max(1, int(smooth_days))
    total_w = pd.Series(total).rolling(window, min_periods=1).sum().to_numpy()
    count_w = pd.Series(count).rolling(window, min_periods=1).sum().to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_h = np.where(count_w > 0, total_w / np.maximum(count_w, 1) / 60.0, np.nan)
    return pd.concat([
        pd.DataFrame({"day": days, "measure": "latent", "value": latent.mean(axis=0) if len(reps) else np.nan}),
        pd.DataFrame({"day": days, "measure": "response_h", "value": mean_h}),
    ], ignore_index=True)


def scope_values(summary: pd.DataFrame, metric: str) -> pd.Series:
    """One measure per scope from a summary: a Series of means indexed by scope."""
    s = summary[summary["metric"] == metric]
    return pd.Series(s["mean"].to_numpy(float), index=s["scope"].to_numpy(), name=metric)


# ---------------------------------------------------------------------------- assumptions


def _split_comment(line: str) -> tuple[str, str, int]:
    """(code, comment, bracket depth change) of one TOML line; ``#`` inside strings is not a comment."""
    quote = None
    depth = 0
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if quote == '"' and ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i].rstrip(), line[i + 1:].strip(), depth
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        i += 1
    return line.rstrip(), "", depth


_KEY = r'(?:[A-Za-z0-9_-]+|"[^"]*"|\'[^\']*\')'


def parse_toml_assumptions(text: str) -> pd.DataFrame:
    """Every ``key = value  # comment`` of a scenario TOML file, line by line.

    Returns ``section, key, value, source, line``: ``section`` is the dotted table
    name (``""`` at the top), ``value`` the value as written (a multi-line array
    joined on one line), ``source`` the comment after it (comments of the lines of a
    multi-line value joined with `` | ``; the table header's comment when the key
    has none, marked ``[section]``), ``line`` the 1-based line number.
    """
    import re

    key_re = re.compile(rf"^\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*=\s*(.*)$")
    header_re = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*$")
    rows = []
    section, section_note = "", ""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i]
        code, comment, depth = _split_comment(raw)
        if not code.strip():
            i += 1
            continue
        m = header_re.match(code)
        if m:
            section = re.sub(r"\s*\.\s*", ".", m.group(1)).replace('"', "")
            section_note = comment
            i += 1
            continue
        m = key_re.match(code)
        if not m:
            i += 1
            continue
        key = re.sub(r"\s*\.\s*", ".", m.group(1)).strip("\"'")
        value_parts, comments = [m.group(2).strip()], [comment] if comment else []
        start = i
        open_ml = value_parts[0].startswith(('"""', "'''")) and value_parts[0].count(value_parts[0][:3]) == 1
        while (depth > 0 or open_ml) and i + 1 < len(lines):
            i += 1
            if open_ml:
                value_parts.append(lines[i].strip())
                open_ml = value_parts[0][:3] not in lines[i]
                continue
            c, cm, d = _split_comment(lines[i])
            depth += d
            if c.strip():
                value_parts.append(c.strip())
            if cm:
                comments.append(cm)
        value = " ".join(value_parts)
        source = " | ".join(comments) if comments else (f"[{section}] {section_note}" if section_note else "")
        rows.append((section, key, value, source, start + 1))
        i += 1
    return pd.DataFrame(rows, columns=["section", "key", "value", "source", "line"])


def _leaves(d: dict, prefix: str = "") -> list[tuple[str, str, object]]:
    out = []
    for k, v in d.items():
        path = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and v:
            out += _leaves(v, path)
        else:
            section, _, key = path.rpartition(".")
            out.append((section, key, v))
    return out


def _resolved(settings: dict, section: str, key: str):
    node = settings
    for part in [*(section.split(".") if section else []), key]:
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


_MISSING = object()


def _toml_value(text: str):
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except Exception:  # noqa: BLE001 - a value we cannot parse is shown as written
        return _MISSING


def _show(v) -> str:
    """A resolved setting as TOML-like text (``60`` rather than ``60.0``)."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return json.dumps(v, ensure_ascii=False)


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return abs(float(a) - float(b)) <= 1e-12 * max(1.0, abs(float(a)))
    return a == b


def assumptions(run: RunDir, inherited_label: str = "inherited from {file}") -> pd.DataFrame:
    """The run's assumptions: ``section, key, value, value_in_run, source, line, file``.

    Rows are parsed from ``tables/scenario.toml`` (:func:`parse_toml_assumptions`).
    ``value_in_run`` is the value the run actually used (from ``scenario.json``)
    where it differs from the file (a ``--set`` or ``--days`` override), else empty.
    A scenario that ``extends`` another sets only what differs; the settings it
    inherits are added from the resolved settings, with their comments when the
    parent file can still be found next to the original scenario file (a path
    relative to where the run was made), otherwise with ``inherited_label``.
    """
    columns = ["section", "key", "value", "value_in_run", "source", "line", "file"]
    path = run.scenario_toml
    if path is None:
        return pd.DataFrame(columns=columns)
    rows = parse_toml_assumptions(read_text(path)).assign(file="scenario.toml")
    settings = run.settings
    in_run = []
    for section, key, value in zip(rows["section"], rows["key"], rows["value"]):
        got = _resolved(settings, section, key) if section != "tables" else _MISSING
        mine = _toml_value(value)
        differs = got is not _MISSING and mine is not _MISSING and not _same(mine, got)
        in_run.append(_show(got) if differs else "")
    rows.insert(3, "value_in_run", in_run)
    extends = rows.loc[(rows["section"] == "") & (rows["key"] == "extends"), "value"]
    if extends.empty or not settings:
        return rows[columns].astype({"line": "Int64"})
    parent_name = extends.iloc[0].strip("\"'")
    parent_rows = None
    original = run.meta.get("files", {}).get("settings")
    if original:
        parent = Path(original).parent / parent_name
        if parent.is_file():
            parent_rows = parse_toml_assumptions(read_text(parent))
    covered = {f"{s}.{k}" if s else k for s, k in zip(rows["section"], rows["key"])}

    def is_covered(section: str, key: str) -> bool:
        full = f"{section}.{key}" if section else key
        return any(full == c or full.startswith(c + ".") for c in covered)

    extra = []
    label = inherited_label.format(file=parent_name)
    for section, key, value in _leaves(settings):
        if is_covered(section, key):
            continue
        source, line, shown = label, None, _show(value)
        in_run = ""
        if parent_rows is not None:
            hit = parent_rows[(parent_rows["section"] == section) & (parent_rows["key"] == key)]
            if not hit.empty:
                source = f"{label}: {hit['source'].iloc[0]}" if hit["source"].iloc[0] else label
                line = int(hit["line"].iloc[0])
                mine = _toml_value(hit["value"].iloc[0])
                if section != "tables" and mine is not _MISSING and not _same(mine, value):
                    in_run = shown
                shown = hit["value"].iloc[0]
        extra.append((section, key, shown, in_run, source, line, parent_name))
    more = pd.DataFrame(extra, columns=columns)
    out = pd.concat([rows[columns], more], ignore_index=True)
    out["line"] = out["line"].astype("Int64")
    return out

"""A platform case export (综合执法 / 数字城管 platform) → one tidy table of cases.

What a county's platform exports, and what this module reads:

* **Files**: CSV (UTF-8, UTF-8 with BOM, or GBK / GB18030 — what Excel on Chinese Windows
  saves) or Excel (``.xlsx``, the first sheet).  Lines starting with ``#`` before the header
  are comments (the synthetic export says so there).
* **Columns**, by any of the aliases in :data:`COLUMNS` (Chinese as the platforms name
  them, or the English key):

  ===============  =========================================  ========
  key              aliases                                    needed
  ===============  =========================================  ========
  case_id          案件编号, 案件编码, 案件号, 编号            yes
  reported_at      上报时间, 发现时间, 受理时间                yes
  town             所属镇街, 镇街, 所属乡镇, 乡镇, 街道         yes
  village          村居, 所属村居, 村（居）, 社区               no
  category         案件大类, 大类, 问题大类                    yes
  subcategory      案件小类, 小类, 问题小类                    no
  source           案件来源, 来源, 上报渠道                    yes
  on_site_at       处置时间, 到场时间                          no
  closed_at        结案时间, 办结时间                          no
  ===============  =========================================  ========

* **Sources** (案件来源) → the model's discovery channels by :data:`CHANNEL_ALIASES`
  (巡查 → patrol, 网格员 → grid, 投诉 / 12345 → complaint, 双随机 / 检查 → inspection,
  专项 → campaign); a source made of several words (``投诉（12345）``) is read word by
  word.  Other sources (视频监控, 部门移交 …) are kept as channel ``other``, counted in
  the rates and listed in the fit report, but not in the channel shares.
* **Categories** (大类 / 小类) → items of the scenario's catalogue through an editable
  mapping table (CSV: ``platform_category, platform_subcategory, item, note``; a blank
  subcategory maps every subcategory of the category).  Unmapped categories are listed
  with their counts, never dropped silently.

Bad input — a missing column, a date that cannot be read, a town not in the scenario, a
case outside the period, an on-site or closure time before the report — is a
:class:`~enforcement_grid.sim.errors.ScenarioError` naming the file, the row and the
column.

Text is read by the scenario files' reader (:func:`sim.textfiles.read_text`): UTF-8 with
or without BOM, GBK/GB18030, UTF-16/32 with BOM — what Excel and Notepad on Chinese Windows write.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from enforcement_grid.sim.config import Scenario
from enforcement_grid.sim.errors import ScenarioError

COLUMNS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "case_id": (True, ("案件编号", "案件编码", "案件号", "编号")),
    "reported_at": (True, ("上报时间", "发现时间", "受理时间")),
    "town": (True, ("所属镇街", "镇街", "所属乡镇", "乡镇", "街道")),
    "village": (False, ("村居", "所属村居", "村（居）", "社区")),
    "category": (True, ("案件大类", "大类", "问题大类")),
    "subcategory": (False, ("案件小类", "小类", "问题小类")),
    "source": (True, ("案件来源", "来源", "上报渠道")),
    "on_site_at": (False, ("处置时间", "到场时间")),
    "closed_at": (False, ("结案时间", "办结时间")),
}
TIME_COLUMNS = ("reported_at", "on_site_at", "closed_at")
# The header the exporter writes: the first alias of each key.
EXPORT_HEADER = {key: aliases[0] for key, (_, aliases) in COLUMNS.items()}

CHANNEL_ALIASES = {
    "巡查": "patrol", "巡查发现": "patrol", "执法巡查": "patrol", "日常巡查": "patrol", "patrol": "patrol",
    "网格员": "grid", "网格": "grid", "网格上报": "grid", "网格员上报": "grid", "grid": "grid",
    "投诉": "complaint", "12345": "complaint", "市民投诉": "complaint", "热线": "complaint",
    "12345热线": "complaint", "信访": "complaint", "举报": "complaint", "complaint": "complaint",
    "检查": "inspection", "双随机": "inspection", "执法检查": "inspection", "双随机检查": "inspection",
    "inspection": "inspection",
    "专项": "campaign", "专项行动": "campaign", "专项整治": "campaign", "campaign": "campaign",
}
# The source text the exporter writes for each channel.
CHANNEL_SOURCE = {"grid": "网格员", "patrol": "巡查", "complaint": "投诉（12345）", "inspection": "双随机检查",
                  "campaign": "专项行动"}
MAPPING_COLUMNS = ("platform_category", "platform_subcategory", "item", "note")
MAX_LISTED = 10  # problems listed one by one; the rest are counted


# --------------------------------------------------------------------------- text and tables


def read_text(path: Path) -> str:
    """A text file as written by Excel or Notepad (UTF-8 with or without BOM, GBK/GB18030, UTF-16):
    the scenario files' one reader (:func:`sim.textfiles.read_text`)."""
    from enforcement_grid.sim.textfiles import read_text as read_scenario_text

    return read_scenario_text(path, kind="text file")


def _csv_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line number, cells) of a CSV file; ``#`` lines before the header are skipped."""
    lines = read_text(path).splitlines(keepends=True)
    skip = 0
    while skip < len(lines) and (lines[skip].lstrip().startswith("#") or not lines[skip].strip()):
        skip += 1
    reader = csv.reader(io.StringIO("".join(lines[skip:])))
    try:
        header = next(reader, None)
        if header is None:
            raise ScenarioError(f"{path}: the file has no header row")
        rows = []
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((reader.line_num + skip, cells))
    except csv.Error as err:
        raise ScenarioError(f"{path}: line {reader.line_num + skip}: not valid CSV ({err})") from None
    return [h.strip() for h in header], rows


def _excel_rows(path: Path) -> tuple[list[str], list[tuple[int, list]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many kinds for a bad workbook
        raise ScenarioError(f"{path}: cannot read the Excel workbook ({err})") from None
    sheet = book.worksheets[0]
    header, rows = None, []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = ["" if v is None else v for v in values]
        if not any(str(c).strip() for c in cells):
            continue
        if header is None:
            header = [str(c).strip() for c in cells]
        else:
            rows.append((number, cells))
    book.close()
    if header is None:
        raise ScenarioError(f"{path}: the first sheet has no header row")
    return header, rows


def read_export(path: str | Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """The export's rows under the keys of :data:`COLUMNS` (cells as read), with a ``row`` column
    (the file's row or line number), and key → the column name the file used."""
    path = Path(path)
    header, rows = _excel_rows(path) if path.suffix.lower() in (".xlsx", ".xlsm") else _csv_rows(path)
    used: dict[str, str] = {}
    problems = []
    for key, (needed, aliases) in COLUMNS.items():
        names = (*aliases, key)
        found = [h for h in header if h in names]
        if len(found) > 1:
            problems.append(f"{path}: header: columns {', '.join(found)} all mean {key}; keep one")
        elif found:
            used[key] = found[0]
        elif needed:
            problems.append(f"{path}: header: missing column {aliases[0]} ({key}); "
                            f"expected one of {', '.join(names)}")
    if problems:
        raise ScenarioError(problems)
    if not rows:
        raise ScenarioError(f"{path}: the export has no cases")
    index = {key: header.index(name) for key, name in used.items()}
    records = []
    for number, cells in rows:
        rec = {"row": number}
        for key, j in index.items():
            value = cells[j] if j < len(cells) else ""
            rec[key] = value.strip() if isinstance(value, str) else value
        records.append(rec)
    frame = pd.DataFrame.from_records(records)
    for key in COLUMNS:
        if key not in frame:
            frame[key] = ""
    return frame, used


# --------------------------------------------------------------------------- values


_ZH_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?")


def _parse_times(values: pd.Series) -> pd.Series:
    """Cells → timestamps: Excel datetimes, ISO text, ``2023/1/5 8:30``, ``2023年1月5日 08:30``.
    Blank cells → NaT; cells that cannot be read → NaT too, told apart by the caller."""
    def norm(v):
        if isinstance(v, str):
            v = _ZH_DATE.sub(lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d} ", v).strip()
            return v.replace("/", "-") or None
        return v

    cleaned = values.map(norm)
    out = pd.to_datetime(cleaned, errors="coerce", format="ISO8601")
    retry = out.isna() & cleaned.notna()
    if retry.any():
        out[retry] = pd.to_datetime(cleaned[retry], errors="coerce", format="mixed")
    return out


def channel_of(source: str) -> str:
    """The discovery channel of a 案件来源 text (``other`` if none of its words is known)."""
    text = str(source).strip()
    if text in CHANNEL_ALIASES:
        return CHANNEL_ALIASES[text]
    for word in re.split(r"[（）()/、,，;；\s]+", text):
        if word in CHANNEL_ALIASES:
            return CHANNEL_ALIASES[word]
    return "other"


# --------------------------------------------------------------------------- mapping


@dataclass(frozen=True)
class Mapping:
    """大类 / 小类 → item code.  ``pairs`` hold (category, subcategory) rows, ``whole`` category-only rows."""

    file: str
    pairs: dict[tuple[str, str], str]
    whole: dict[str, str]
    labels: dict[str, tuple[str, str]]  # item → (category, subcategory) the exporter writes

    def item_of(self, category: str, subcategory: str) -> str | None:
        return self.pairs.get((category, subcategory)) or self.whole.get(category)


def load_mapping(path: str | Path, sc: Scenario) -> Mapping:
    """Read the mapping table; every item it names must be in the scenario's catalogue."""
    path = Path(path)
    header, rows = _csv_rows(path)
    missing = [c for c in MAPPING_COLUMNS[:3] if c not in header]
    if missing:
        raise ScenarioError(f"{path}: header: missing column(s) {', '.join(missing)}; "
                            f"expected {', '.join(MAPPING_COLUMNS)}")
    j = {c: header.index(c) for c in MAPPING_COLUMNS if c in header}
    items = sc.item_by_code
    pairs, whole, labels, problems = {}, {}, {}, []
    for number, cells in rows:
        cell = {c: (cells[k].strip() if k < len(cells) else "") for c, k in j.items()}
        cat, sub, item = cell["platform_category"], cell["platform_subcategory"], cell["item"]
        if not cat:
            problems.append(f"{path}: row {number}, column platform_category: missing value")
            continue
        if item not in items:
            problems.append(f"{path}: row {number}, column item: {item!r} is not an item code of "
                            f"{sc.files['items']}")
            continue
        target = pairs if sub else whole
        key = (cat, sub) if sub else cat
        if key in target and target[key] != item:
            problems.append(f"{path}: row {number}: {cat}/{sub or '*'} is mapped twice "
                            f"({target[key]} and {item}); expected one item")
            continue
        target[key] = item
        labels.setdefault(item, (cat, sub or items[item].name_zh))
    if problems:
        raise ScenarioError(problems[:MAX_LISTED] + _more(problems))
    return Mapping(str(path), pairs, whole, labels)


def _more(problems: list[str]) -> list[str]:
    n = len(problems) - MAX_LISTED
    return [f"… and {n} more problem(s) of the same kinds"] if n > 0 else []


# --------------------------------------------------------------------------- the case table


@dataclass
class CaseTable:
    """Cases as the fit uses them: one row each, with channel, item and class.

    ``frame`` columns: row, case_id, reported_at, town, village, category, subcategory,
    source, channel, item (``""`` unmapped), klass (``""`` unmapped), on_site_at, closed_at.
    ``period`` is [start, end) of the export: given (``--period``), or from the day of the first
    case to the end of the day of the last.
    """

    file: str
    frame: pd.DataFrame
    period: tuple[pd.Timestamp, pd.Timestamp]
    unmapped: pd.DataFrame = field(default_factory=pd.DataFrame)  # category, subcategory, cases
    other_sources: pd.DataFrame = field(default_factory=pd.DataFrame)  # source, cases
    unknown_villages: pd.DataFrame = field(default_factory=pd.DataFrame)  # town, village, cases

    @property
    def mapped(self) -> pd.DataFrame:
        return self.frame[self.frame["klass"] != ""]

    @property
    def days(self) -> float:
        return (self.period[1] - self.period[0]) / pd.Timedelta(days=1)

    def span(self) -> str:
        """``2023-01 to 2023-09``: the months of the period."""
        start, end = self.period
        return f"{start:%Y-%m} to {end - pd.Timedelta(seconds=1):%Y-%m}"

    def provenance(self) -> str:
        """``14,212 cases, 2023-01 to 2023-09`` — the phrase every fitted value carries."""
        return f"{len(self.frame):,} cases, {self.span()}"


def parse_period(text: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``2023-01:2023-09`` (months, inclusive) or ``2023-01-01:2023-09-30`` (days, inclusive) → [start, end)."""
    a, sep, b = text.partition(":")
    try:
        if not sep:
            raise ValueError
        start = pd.Timestamp(a.strip())
        end = pd.Timestamp(b.strip())
    except ValueError:
        raise ScenarioError(f"--period {text!r}: expected START:END as YYYY-MM:YYYY-MM or "
                            f"YYYY-MM-DD:YYYY-MM-DD") from None
    end = end + (pd.offsets.MonthBegin(1) if len(b.strip()) <= 7 else pd.Timedelta(days=1))
    if end <= start:
        raise ScenarioError(f"--period {text!r}: the end must be after the start")
    return start, end


def cases_from_frame(
    raw: pd.DataFrame,
    sc: Scenario,
    mapping: Mapping,
    file: str,
    period: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    used: dict[str, str] | None = None,
) -> CaseTable:
    """Check and type the rows of an export (as :func:`read_export` gives them) → a CaseTable."""
    used = used or EXPORT_HEADER
    problems: list[str] = []

    def bad(mask: pd.Series, key: str, what: str) -> None:
        for _, r in raw[mask].iterrows():
            problems.append(f"{file}: row {r['row']}, column {used.get(key, key)}: {what(r)}")

    frame = raw.copy()
    for key in ("case_id", "town", "category", "source"):
        blank = frame[key].astype(str).str.strip() == ""
        bad(blank, key, lambda r: "missing value")
    for key in TIME_COLUMNS:
        if key not in used and key != "reported_at":
            frame[key] = pd.NaT
            continue
        blank = frame[key].map(lambda v: v is None or (isinstance(v, str) and not v.strip()) or
                               (not isinstance(v, str) and pd.isna(v)))
        times = _parse_times(frame[key].where(~blank, None))
        if key == "reported_at":
            bad(blank & (frame["case_id"].astype(str).str.strip() != ""), key, lambda r: "missing value")
        bad(times.isna() & ~blank, key,
            lambda r, k=key: f"cannot read {r[k]!r} as a date and time; expected e.g. 2023-01-05 08:30")
        frame[key] = times
    ok_report = frame["reported_at"].notna()
    for key in ("on_site_at", "closed_at"):
        early = ok_report & frame[key].notna() & (frame[key] < frame["reported_at"])
        bad(early, key, lambda r, k=key: f"{frame.at[r.name, k]} is before the report "
                                         f"({frame.at[r.name, 'reported_at']}); expected a later time")
    towns = {t.town for t in sc.towns}
    unknown_town = ~frame["town"].isin(towns) & (frame["town"].astype(str).str.strip() != "")
    listed = ", ".join(t.town for t in sc.towns[:12]) + (" …" if len(sc.towns) > 12 else "")
    bad(unknown_town, "town", lambda r: f"{r['town']!r} is not a town of {sc.files['towns']}; expected one of {listed}")
    if period is None and ok_report.any():
        first = frame.loc[ok_report, "reported_at"].min()
        last = frame.loc[ok_report, "reported_at"].max()
        period = (first.normalize(), last.normalize() + pd.Timedelta(days=1))  # first to last day with a case
    if period is not None:
        outside = ok_report & ((frame["reported_at"] < period[0]) | (frame["reported_at"] >= period[1]))
        end = period[1] - pd.Timedelta(days=1)
        bad(outside, "reported_at",
            lambda r: f"{frame.at[r.name, 'reported_at']} is outside the period {period[0]:%Y-%m-%d} to {end:%Y-%m-%d}")
    twice = frame["case_id"].astype(str).duplicated(keep="first") & (frame["case_id"].astype(str).str.strip() != "")
    bad(twice, "case_id", lambda r: f"case {r['case_id']!r} appears twice; expected each case once")
    if problems:
        raise ScenarioError(problems[:MAX_LISTED] + _more(problems))

    for key in ("case_id", "town", "village", "category", "subcategory", "source"):
        frame[key] = frame[key].astype(str).str.strip()
    frame["channel"] = frame["source"].map(channel_of)
    frame["item"] = [mapping.item_of(c, s) or "" for c, s in zip(frame["category"], frame["subcategory"])]
    items = sc.item_by_code
    frame["klass"] = frame["item"].map(lambda code: items[code].klass if code else "")
    unmapped = (frame[frame["item"] == ""].groupby(["category", "subcategory"]).size()
                .rename("cases").reset_index().sort_values("cases", ascending=False, ignore_index=True))
    others = (frame[frame["channel"] == "other"].groupby("source").size().rename("cases").reset_index()
              .sort_values("cases", ascending=False, ignore_index=True))
    village_town = {v.village: v.town for v in sc.villages}
    named = frame["village"] != ""
    wrong = named & (frame["village"].map(village_town) != frame["town"])
    unknown_villages = (frame[wrong].groupby(["town", "village"]).size().rename("cases").reset_index()
                        .sort_values("cases", ascending=False, ignore_index=True))
    columns = ["row", "case_id", "reported_at", "town", "village", "category", "subcategory", "source",
               "channel", "item", "klass", "on_site_at", "closed_at"]
    return CaseTable(file, frame[columns].reset_index(drop=True), period, unmapped, others, unknown_villages)


def load_cases(path: str | Path, sc: Scenario, mapping: Mapping,
               period: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> CaseTable:
    """Read and check a platform export (see the module docstring)."""
    raw, used = read_export(path)
    return cases_from_frame(raw, sc, mapping, str(path), period, used)

"""Files as planners make them on Windows, likely unit slips, and messages that name the right place.

Each case writes the small valid scenario of :mod:`factory`, changes one thing
as Excel, Notepad or a hurried planner would (real GBK, UTF-16 and BOM bytes,
Excel's empty rows, ``110,000``, ``是``/``否``, a Windows path, a percentage
typed for a share …), loads it, and checks one of three outcomes:

* ``Accept``: it loads, and the value read is the one meant;
* ``Refuse``: one clear :class:`ScenarioError` line naming the file (or the
  command-line option) that holds the value, the field, and the fix;
* ``Warn``: it loads, and a warning says what will happen.

:func:`outcome` classifies a case without asserting (clean error, traceback,
accepted), so the counts can be compared before and after a change.
"""

from __future__ import annotations

import codecs
import copy
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
import tomli_w

import factory
from enforcement_grid.cli.cli import main as cli_main
from enforcement_grid.sim import ScenarioError, load_scenario

SECRET = "root:x:0:0:root:/root:/bin/bash"  # stands for a system file a wrong path may point at


# --------------------------------------------------------------------------- building blocks


def write(folder: Path, edit: Callable | None = None) -> Path:
    settings, tables = copy.deepcopy(factory.base())
    if edit is not None:
        edit(settings, tables)
    return factory.write(folder, settings, tables)


def reencode(folder: Path, name: str, encoding: str, bom: bytes = b"", tabs: bool = False) -> None:
    """Save a written file again as another program would: another encoding, a BOM, TABs for commas."""
    path = folder / name
    text = path.read_text(encoding="utf-8")
    if tabs:
        text = text.replace(",", "\t")
    path.write_bytes(bom + text.encode(encoding))


def edit_text(folder: Path, name: str, fn: Callable[[str], str]) -> None:
    path = folder / name
    path.write_text(fn(path.read_text(encoding="utf-8")), encoding="utf-8", newline="")


def lifecycle(**kw) -> dict:
    lc = {"enabled": True, "working_days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "day_start": "08:00",
          "day_end": "17:00", "holidays": [], "filing_hours": 1.0, "investigation_hours": 8.0,
          "review_hours": 2.0, "decision_hours": 2.0, "review_min_severity": 2, "reviewers_per_law_post": 0.5,
          "default_decision_working_days": 15.0}
    lc.update(kw)
    return lc


def set_(dotted: str, value: Any) -> Callable:
    def edit(s, t):
        *parents, last = dotted.split(".")
        node = s
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return edit


@dataclass(frozen=True)
class Accept:
    check: Callable[[Any], bool]  # the value read is the one meant


@dataclass(frozen=True)
class Refuse:
    file: str  # name of the file (or the option) the line must start with
    field: str  # the setting or column it must name
    phrases: tuple[str, ...] = ()
    never: tuple[str, ...] = ()  # text that must not appear (a file's content)


@dataclass(frozen=True)
class Warn:
    field: str
    phrases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Path], tuple[Path, tuple]]  # folder → (scenario file, overrides)
    expect: Accept | Refuse | Warn
    cli: tuple[str, ...] = field(default=())  # run `egrid budget` with these options instead of load_scenario


def plain(edit: Callable | None = None, post: Callable[[Path], None] | None = None, overrides: tuple = ()):
    def build(folder: Path):
        toml = write(folder, edit)
        if post is not None:
            post(folder)
        return toml, overrides
    return build


def town(sc, name="甲镇"):
    return sc.town_by_name[name]


# --------------------------------------------------------------------------- the cases


def _utf16_toml(folder):
    reencode(folder, "scenario.toml", "utf-16-le", codecs.BOM_UTF16_LE)


def _windows_path(quoted: str):
    """Move towns.csv into data/ and name it in the TOML as ``quoted`` (TOML source text)."""
    def post(folder):
        (folder / "data").mkdir()
        (folder / "towns.csv").rename(folder / "data" / "towns.csv")
        edit_text(folder, "scenario.toml", lambda t: t.replace('towns = "towns.csv"', f"towns = {quoted}"))
    return post


def _toml_line(old: str, new: str):
    return lambda folder: edit_text(folder, "scenario.toml", lambda t: t.replace(old, new))


def _extends_base(base_edit: Callable, post: Callable[[Path], None] | None = None):
    """scenario.toml extends base.toml; the mistake ``base_edit`` makes is in base.toml only."""
    def build(folder: Path):
        base = write(folder, base_edit)
        if post is not None:
            post(folder)
        base.rename(folder / "base.toml")
        (folder / "scenario.toml").write_text('extends = "base.toml"\n\n[scenario]\ntitle_en = "child"\n',
                                              encoding="utf-8")
        return folder / "scenario.toml", ()
    return build


def _plan(team: int):
    def post(folder):
        (folder / "plan.csv").write_text(f"town,team,day,village,order\n甲镇,0,Mon,甲村1,0\n甲镇,{team},Tue,甲社区1,0\n",
                                         encoding="utf-8")
        edit_text(folder, "scenario.toml", lambda t: t.replace('[tables]\n', '[tables]\npatrol_plan = "plan.csv"\n'))
    return post


def _secret_as(key: str):
    def post(folder):
        (folder / "passwd").write_text(SECRET + "\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n", encoding="utf-8")
        edit_text(folder, "scenario.toml", lambda t: t.replace(f'{key} = "{key}.csv"', f'{key} = "passwd"'))
    return post


def _binary_as_towns(folder):
    (folder / "towns.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    edit_text(folder, "scenario.toml", lambda t: t.replace('towns = "towns.csv"', 'towns = "towns.png"'))


def _extends_secret(folder):
    (folder / "passwd").write_text(SECRET + "\n", encoding="utf-8")
    edit_text(folder, "scenario.toml", lambda t: 'extends = "passwd"\n' + t)


CAMPAIGN = {"name": "sweep", "towns": ["甲镇"], "category": "urban management", "start_day": 100.0, "days": 5.0,
            "teams_per_town": 1, "villages": "all", "detect_prob": 0.5}

CASES: list[Case] = [
    # ------------------------------------------------------------ encodings Excel and Notepad save
    Case("csv-gbk", plain(post=lambda f: reencode(f, "towns.csv", "gbk")),
         Accept(lambda sc: town(sc).town_en == "Jia")),
    Case("csv-gb18030", plain(lambda s, t: t["villages"][0].update(source="𠮷 GB18030 only"),
                              post=lambda f: reencode(f, "villages.csv", "gb18030")),
         Accept(lambda sc: sc.villages[0].source == "𠮷 GB18030 only")),
    Case("toml-gbk-ansi", plain(post=lambda f: reencode(f, "scenario.toml", "gbk")),
         Accept(lambda sc: sc.settings.reform.county_seat == "甲镇")),
    Case("csv-utf16-unicode-text", plain(post=lambda f: reencode(f, "items.csv", "utf-16-le", codecs.BOM_UTF16_LE,
                                                                  tabs=True)),
         Accept(lambda sc: sc.item_by_code["S-1"].name_zh == "占道")),
    Case("toml-utf16-notepad-unicode", plain(post=_utf16_toml),
         Accept(lambda sc: sc.settings.reform.county_seat == "甲镇")),
    Case("csv-utf8-bom", plain(post=lambda f: reencode(f, "staffing.csv", "utf-8", codecs.BOM_UTF8)),
         Accept(lambda sc: sc.staffing[0].brigade == "甲镇")),
    Case("toml-utf8-bom", plain(post=lambda f: reencode(f, "scenario.toml", "utf-8", codecs.BOM_UTF8)),
         Accept(lambda sc: sc.name == "tiny")),
    Case("csv-crlf", plain(post=lambda f: edit_text(f, "villages.csv", lambda t: t.replace("\r\n", "\n")
                                                     .replace("\n", "\r\n"))),
         Accept(lambda sc: len(sc.villages) == 4)),
    Case("toml-crlf", plain(post=lambda f: edit_text(f, "scenario.toml", lambda t: t.replace("\n", "\r\n"))),
         Accept(lambda sc: sc.name == "tiny")),
    Case("csv-semicolon", plain(post=lambda f: edit_text(f, "departments.csv", lambda t: t.replace(",", ";"))),
         Accept(lambda sc: len(sc.departments) == 3)),
    Case("csv-undecodable", plain(post=lambda f: (f / "towns.csv").write_bytes(
            (f / "towns.csv").read_bytes().replace("甲镇".encode(), b"\xff\xfe\xff"))),
         Refuse("scenario.toml", "tables.towns", ("cannot read the table file", "CSV UTF-8"))),
    # ------------------------------------------------------------ what Excel writes into cells and rows
    Case("csv-excel-empty-rows", plain(post=lambda f: edit_text(f, "items.csv", lambda t: t + (
            "," * t.split("\n", 1)[0].count(",") + "\r\n") * 3)),
         Accept(lambda sc: len(sc.items) == 3)),
    Case("csv-blank-lines", plain(post=lambda f: edit_text(f, "towns.csv", lambda t: t.replace("\n", "\n\n", 1) + "\n\n")),
         Accept(lambda sc: len(sc.towns) == 2)),
    Case("csv-notes-column", plain(lambda s, t: [r.update({"备注": "据2020年人口普查, 含流动人口"}) for r in t["towns"]]),
         Accept(lambda sc: town(sc).population == 20000)),
    Case("csv-empty-unnamed-column", plain(post=lambda f: edit_text(f, "towns.csv", lambda t: t.replace("\r\n", ",\r\n"))),
         Accept(lambda sc: len(sc.towns) == 2)),
    Case("csv-thousands-separator", plain(lambda s, t: t["towns"][0].update(population="20,000", businesses="2,000")),
         Accept(lambda sc: town(sc).population == 20000 and town(sc).businesses == 2000)),
    Case("csv-decimal-thousands", plain(lambda s, t: t["items"][0].update(annual_rate="1,200.5")),
         Accept(lambda sc: sc.item_by_code["S-1"].annual_rate == 1200.5)),
    Case("csv-whole-number-as-decimal", plain(lambda s, t: t["towns"][0].update(population="20000.00")),
         Accept(lambda sc: town(sc).population == 20000)),
    Case("csv-yes-no-chinese", plain(lambda s, t: [r.update(hot_spot="是" if r["hot_spot"] == "yes" else "否")
                                                   for r in t["villages"]]),
         Accept(lambda sc: [v.hot_spot for v in sc.villages] == [False, True, False, True])),
    Case("csv-yes-no-variants", plain(lambda s, t: [r.update(delegated=v, simple_procedure=w) for r, v, w in
                                                    zip(t["items"], ("TRUE", "Y", "0"), ("1", "N", "false"))]),
         Accept(lambda sc: [(i.delegated, i.simple_procedure) for i in sc.items]
                == [(True, True), (True, False), (False, False)])),
    Case("csv-header-trailing-space", plain(post=lambda f: edit_text(f, "towns.csv", lambda t: t.replace("town_en", "town_en ", 1))),
         Accept(lambda sc: town(sc).town_en == "Jia")),
    Case("csv-bad-yes-no", plain(lambda s, t: t["villages"][2].update(hot_spot="也许")),
         Refuse("villages.csv", "column hot_spot", ("valid boolean", "got '也许'"))),
    Case("csv-thousands-bad-grouping", plain(lambda s, t: t["towns"][0].update(population="20,00")),
         Refuse("towns.csv", "column population", ("valid integer", "got '20,00'"))),
    # ------------------------------------------------------------ TOML as typed by hand
    Case("toml-time-with-seconds", plain(lambda s, t: s["shift_patterns"]["day"]["shifts"][0].update(start="08:00:00")),
         Accept(lambda sc: sc.settings.shift_patterns["day"].shifts[0].start_min == 480)),
    Case("toml-time-value", plain(post=_toml_line('start = "08:00"', "start = 08:00:00")),
         Accept(lambda sc: sc.settings.shift_patterns["day"].shifts[0].start == "08:00")),
    Case("toml-value-trailing-space", plain(set_("reform.county_seat", "甲镇 ")),
         Accept(lambda sc: sc.settings.reform.county_seat == "甲镇")),
    Case("toml-chinese-scenario-name", plain(set_("scenario.name", "惠安-试点_1")),
         Accept(lambda sc: sc.name == "惠安-试点_1")),
    Case("toml-windows-path-single-quotes", plain(post=_windows_path("'data\\towns.csv'")),
         Accept(lambda sc: town(sc).town_en == "Jia")),
    Case("toml-windows-path-doubled", plain(post=_windows_path('"data\\\\towns.csv"')),
         Accept(lambda sc: town(sc).town_en == "Jia")),
    Case("toml-windows-path-tab", plain(post=_windows_path('"data\\towns.csv"')),
         Refuse("scenario.toml", "tables.towns", ("\\t (a TAB)", "forward slashes", "single quotes"))),
    Case("toml-windows-path-invalid-escape", plain(post=_windows_path('"data\\stowns.csv"')),
         Refuse("scenario.toml", "not valid TOML", ("forward slashes",))),
    Case("toml-thousands-separator", plain(post=_toml_line("residents_per_grid = 1000.0", "residents_per_grid = 1,000")),
         Refuse("scenario.toml", "not valid TOML", ("110_000",))),
    Case("toml-number-in-quotes", plain(set_("grid.residents_per_grid", "1000")),
         Refuse("scenario.toml", "grid.residents_per_grid", ("valid number", "without quotes"))),
    Case("toml-name-with-space", plain(set_("scenario.name", "tiny run")),
         Refuse("scenario.toml", "scenario.name", ("match pattern",))),
    # ------------------------------------------------------------ likely unit slips
    Case("slip-reviewers-50", plain(set_("lifecycle", lifecycle(reviewers_per_law_post=50.0))),
         Refuse("scenario.toml", "lifecycle.reviewers_per_law_post", ("less than or equal to 1", "for 50 % write 0.5"))),
    Case("slip-obligations-5", plain(set_("inspection.obligations.fire", 5.0)),
         Refuse("scenario.toml", "inspection.obligations", ("obligations.fire", "at most 1", "write 0.05"))),
    Case("slip-holiday-negative", plain(set_("lifecycle", lifecycle(holidays=[-1]))),
         Refuse("scenario.toml", "lifecycle.holidays", ("day numbers from the start",))),
    Case("slip-holiday-as-date", plain(set_("lifecycle", lifecycle(holidays=[20250101]))),
         Refuse("scenario.toml", "lifecycle.holidays", ("not dates", "got 20250101"))),
    Case("slip-holiday-after-run", plain(set_("lifecycle", lifecycle(holidays=[5, 400]))),
         Warn("lifecycle.holidays", ("day(s) 400", "no effect"))),
    Case("slip-campaign-after-run", plain(set_("campaigns", [CAMPAIGN])),
         Warn("campaigns[0] (sweep).start_day", ("will not happen",))),
    Case("slip-patrol-team-99", plain(post=_plan(99)),
         Refuse("plan.csv", "column team", ("team 99 is never on duty", "at most 11", "never happen"))),
    Case("slip-circuity-125", plain(set_("travel.circuity", 125.0)),
         Refuse("scenario.toml", "travel.circuity", ("less than or equal to 3",))),
    Case("slip-share-as-percent", plain(set_("transfer.returned_share", 30.0)),
         Refuse("scenario.toml", "transfer.returned_share", ("for 30 % write 0.3",))),
    # ------------------------------------------------------------ messages name the right file, never a file's content
    Case("msg-extends-base-value", _extends_base(set_("officer_time.desk_share", 1.5)),
         Refuse("base.toml", "officer_time.desk_share", ("less than 1",))),
    Case("msg-extends-base-reference", _extends_base(set_("reform.county_seat", "丙镇")),
         Refuse("base.toml", "reform.county_seat", ("'丙镇' is not a town",))),
    Case("msg-extends-base-table-missing", _extends_base(set_("tables.items", "nowhere.csv"),
                                                             lambda f: (f / "nowhere.csv").unlink()),
         Refuse("base.toml", "tables.items", ("nowhere.csv not found",))),
    Case("msg-set-names-option", plain(overrides=("officer_time.desk_share=2",)),
         Refuse("--set officer_time.desk_share=2", "officer_time.desk_share", ("less than 1",))),
    Case("msg-days-names-option", plain(), Refuse("--days 1", "scenario", ("warmup_days", "shorter than horizon_days")),
         cli=("--days", "1")),
    Case("msg-table-is-folder", plain(post=_toml_line('towns = "towns.csv"', 'towns = "."')),
         Refuse("scenario.toml", "tables.towns", ("is a folder", "expected a table file"))),
    Case("msg-table-is-system-file", plain(post=_secret_as("towns")),
         Refuse("scenario.toml", "tables.towns", ("is not a towns table", "expected the columns town, town_en"),
                never=("root:x", "daemon:x", "/bin/bash"))),
    Case("msg-table-is-binary", plain(post=_binary_as_towns),
         Refuse("scenario.toml", "tables.towns", ("binary data",), never=("PNG", "IHDR"))),
    Case("msg-extends-system-file", plain(post=_extends_secret),
         Refuse("passwd", "not valid TOML", (), never=("root:x", "/bin/bash"))),
]


# --------------------------------------------------------------------------- running a case


def _cli_problems(capsys, toml: Path, options: tuple[str, ...]) -> tuple[int, list[str]]:
    try:
        code = cli_main(["budget", str(toml), *options])
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    return code, [line.removeprefix("error: ") for line in err.splitlines() if line.startswith("error: ")]


def outcome(case: Case, folder: Path, capsys=None, caplog=None) -> tuple[str, Any]:
    """("accepted", scenario) | ("error", problem lines) | ("traceback", exception), without asserting."""
    toml, overrides = case.build(folder)
    if case.cli:
        code, lines = _cli_problems(capsys, toml, case.cli)
        return ("error", lines) if code == 2 else ("accepted", None)
    try:
        return "accepted", load_scenario(toml, overrides)
    except ScenarioError as err:
        return "error", err.problems
    except Exception as err:  # noqa: BLE001 - a traceback is what the test looks for
        return "traceback", err


def _line(lines: list[str], file: str, field_: str) -> str | None:
    for line in lines:
        head, _, rest = line.partition(": ")
        if (head == file or Path(head).name == file) and field_ in rest:
            return line
    return None


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_input_file_case(tmp_path, capsys, caplog, case):
    caplog.set_level(logging.WARNING)
    kind, got = outcome(case, tmp_path / "scenario", capsys, caplog)
    expect = case.expect
    if isinstance(expect, Accept):
        assert kind == "accepted", got
        assert expect.check(got)
        return
    if isinstance(expect, Warn):
        assert kind == "accepted", got
        lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        line = next((m for m in lines if expect.field in m), None)
        assert line is not None, lines
        assert line.startswith("warning: ") and "scenario.toml" in line
        for phrase in expect.phrases:
            assert phrase in line, (phrase, line)
        return
    assert kind == "error", (kind, got)
    line = _line(got, expect.file, expect.field)
    assert line is not None, f"no problem names {expect.file!r} and {expect.field!r}:\n" + "\n".join(got)
    for phrase in expect.phrases:
        assert phrase in line, (phrase, line)
    for text in expect.never:
        assert all(text not in g for g in got), got
    assert len(got) == 1, got


def test_extends_written_by_export_is_valid_toml(tmp_path):
    """A plan folder's scenario.toml names its base with forward slashes, read back as TOML on any system."""
    import tomllib

    from enforcement_grid.optimize.export import write_plan_folder

    sc = load_scenario(write(tmp_path / "s"))
    staffing = __import__("pandas").DataFrame([r.model_dump() for r in sc.staffing])
    out = write_plan_folder(tmp_path / "plan", sc, {"staffing.csv": staffing})
    text = (out / "scenario.toml").read_text(encoding="utf-8")
    assert "\\" not in text
    assert tomllib.loads(text)["extends"] == "../s/scenario.toml"
    assert load_scenario(out / "scenario.toml").name == "tiny-plan"


def test_counts():
    """Keep the suite's promise: at least 45 kinds, every outcome class represented."""
    kinds = {type(c.expect) for c in CASES}
    assert len({c.id for c in CASES}) == len(CASES) >= 45 and kinds == {Accept, Refuse, Warn}


# --------------------------------------------------------------------------- the one reader, on its own


@pytest.mark.parametrize("encoding, bom", [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("gbk", b""),
                                           ("gb18030", b""), ("utf-16-le", codecs.BOM_UTF16_LE),
                                           ("utf-16-be", codecs.BOM_UTF16_BE), ("utf-16-le", b"")],
                         ids=["utf8", "utf8-bom", "gbk", "gb18030", "utf16le-bom", "utf16be-bom", "utf16le-no-bom"])
def test_read_frame_same_table_in_any_encoding(tmp_path, encoding, bom):
    """The report and the optimiser read the user's tables through the same reader as the loader."""
    from enforcement_grid.sim.textfiles import read_frame, read_text

    text = "town\ttown_en\tpopulation\t备注\n甲镇\tJia\t\"20,000\"\t注\n\t\t\t\n"
    path = tmp_path / "t.csv"
    path.write_bytes(bom + text.encode(encoding))
    assert read_text(path).splitlines()[1].startswith("甲镇")
    df = read_frame(path)
    assert list(df.columns) == ["town", "town_en", "population", "备注"]
    assert df.to_dict("records") == [{"town": "甲镇", "town_en": "Jia", "population": 20000, "备注": "注"}]


def test_reader_refuses_without_quoting(tmp_path):
    from enforcement_grid.sim.textfiles import read_text

    path = tmp_path / "x.bin"
    path.write_bytes(b"secret-word\x00\x01\x02\x03\x04\x05")
    with pytest.raises(ScenarioError) as caught:
        read_text(path)
    (line,) = caught.value.problems
    assert "binary data" in line and "secret-word" not in line
    with pytest.raises(ScenarioError, match="is a folder; expected a file"):
        read_text(tmp_path)
    with pytest.raises(ScenarioError, match="file not found"):
        read_text(tmp_path / "nowhere.csv")

"""Bad scenario input: every mistake is one clear message, exit status 2, no traceback.

Each case starts from the small valid scenario of :mod:`factory`, breaks one
thing, and checks that :func:`sim.load_scenario` raises a
:class:`~sim.errors.ScenarioError` whose problem line names the right file, the
field or column, and what was expected.  A subset also runs the real command
line in a subprocess: status 2, ``error: `` lines on stderr, no traceback and no
run folder.  A property test mutates random cells and settings and checks that
loading either succeeds or raises ScenarioError, never anything else.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings as hyp_settings, strategies as st

import factory
from enforcement_grid.cli.cli import main as cli_main
from enforcement_grid.sim import ScenarioError, load_scenario

# --------------------------------------------------------------------------- helpers to break a scenario


def cell(table: str, row: int, column: str, value: Any) -> Callable:
    """Edit: set one cell of a table."""

    def edit(s, t):
        t[table][row][column] = value

    return edit


def cells(*edits: Callable) -> Callable:
    """Edit: apply several edits in turn."""

    def edit(s, t):
        for e in edits:
            e(s, t)

    return edit


def setting(dotted: str, value: Any) -> Callable:
    """Edit: set a setting by its dotted path (``classes.street.case_share``)."""

    def edit(s, t):
        *parents, last = dotted.split(".")
        node = s
        for part in parents:
            node = node[part]
        node[last] = value

    return edit


def drop_setting(dotted: str) -> Callable:
    def edit(s, t):
        *parents, last = dotted.split(".")
        node = s
        for part in parents:
            node = node[part]
        del node[last]

    return edit


def drop_column(table: str, column: str) -> Callable:
    def edit(s, t):
        for r in t[table]:
            del r[column]

    return edit


def shift(**kw) -> Callable:
    """Edit: change the only shift of the ``day`` pattern the towns use."""

    def edit(s, t):
        s["shift_patterns"]["day"]["shifts"][0].update(kw)

    return edit


def rewrite_toml(fn: Callable[[dict], None]) -> Callable:
    """Post-write step: change the written TOML (for settings the factory itself uses, like table paths)."""

    def post(folder: Path, toml: Path):
        raw = tomllib.loads(toml.read_text(encoding="utf-8"))
        fn(raw)
        toml.write_text(tomli_w.dumps(raw), encoding="utf-8")

    return post


def rewrite_text(name: str, fn: Callable[[str], str]) -> Callable:
    """Post-write step: change the text of a written file (read with universal newlines: lines end in \\n)."""

    def post(folder: Path, toml: Path):
        path = folder / name
        path.write_text(fn(path.read_text(encoding="utf-8")), encoding="utf-8")

    return post


def undecodable(name: str) -> Callable:
    """Post-write step: bytes that are neither UTF-8 nor GBK/GB18030 (0xFF starts no character in either)."""

    def post(folder: Path, toml: Path):
        path = folder / name
        path.write_bytes(path.read_bytes().replace("甲镇".encode(), b"\xff\xfe\xff"))

    return post


def delete(name: str) -> Callable:
    def post(folder: Path, toml: Path):
        (folder / name).unlink()

    return post


def extends(target: str) -> Callable:
    """Post-write step: make scenario.toml extend ``target`` (relative to its folder)."""
    return rewrite_text("scenario.toml", lambda text: f'extends = "{target}"\n' + text)


def extends_cycle(folder: Path, toml: Path):
    """base.toml extends scenario.toml, which extends base.toml."""
    (folder / "base.toml").write_text('extends = "scenario.toml"\n', encoding="utf-8")
    toml.write_text('extends = "base.toml"\n' + toml.read_text(encoding="utf-8"), encoding="utf-8")


def header_line(name: str, fn: Callable[[str], str]) -> Callable:
    """Post-write step: change the header line of a CSV."""

    def change(text: str) -> str:
        head, rest = text.split("\n", 1)
        return fn(head) + "\n" + rest

    return rewrite_text(name, change)


def append_line(name: str, line: str) -> Callable:
    return rewrite_text(name, lambda text: text.rstrip("\n") + "\n" + line + "\n")


def header_only(name: str) -> Callable:
    return rewrite_text(name, lambda text: text.split("\n", 1)[0] + "\n")


# --------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Bad:
    """One kind of bad input and the problem line it must produce.

    ``file``: name of the file the line must start with; ``field``: the setting or
    column it must name; ``expected``: phrases saying what was expected (and got).
    ``problems``: how many problem lines in all (one mistake, one message).
    ``cli``: also run the real command line in a subprocess.
    """

    id: str
    file: str
    field: str
    expected: tuple[str, ...]
    edit: Callable | None = None
    post: Callable | None = None
    overrides: tuple[str, ...] = ()
    problems: int = 1
    cli: bool = False
    toml: str = "scenario.toml"  # the file to load


TOML = "scenario.toml"

BAD: list[Bad] = [
    # ------------------------------------------------------------ TOML settings
    Bad("toml-misspelt-key", TOML, "scenario.horizon_dayz", ("unknown setting", "misspelt"),
        edit=setting("scenario.horizon_dayz", 30.0), cli=True),
    Bad("toml-unknown-section", TOML, "grids", ("unknown setting",),
        edit=setting("grids", {"residents_per_grid": 1000.0})),
    Bad("toml-string-for-number", TOML, "officer_time.desk_share", ("valid number", "got '0.3'"),
        edit=setting("officer_time.desk_share", "0.3"), cli=True),
    Bad("toml-number-for-bool", TOML, "records.keep", ("valid boolean", "got 1"),
        edit=setting("records", {"keep": 1})),
    Bad("toml-number-for-string", TOML, "reform.county_seat", ("valid string", "got 5"),
        edit=setting("reform.county_seat", 5)),
    Bad("toml-list-for-number", TOML, "grid.residents_per_grid", ("valid number",),
        edit=setting("grid.residents_per_grid", [1000.0])),
    Bad("toml-missing-setting", TOML, "transfer.delay_mean_hours", ("missing", "required"),
        edit=drop_setting("transfer.delay_mean_hours")),
    Bad("toml-missing-section", TOML, "command_centre", ("missing", "required"),
        edit=drop_setting("command_centre")),
    Bad("toml-negative-delay", TOML, "transfer.delay_mean_hours", ("greater than or equal to 0", "got -1.0"),
        edit=setting("transfer.delay_mean_hours", -1.0)),
    Bad("toml-share-above-range", TOML, "officer_time.desk_share", ("less than 1", "got 1.0"),
        edit=setting("officer_time.desk_share", 1.0)),
    Bad("toml-infinite-number", TOML, "scenario.horizon_days", ("finite number", "got inf"),
        edit=setting("scenario.horizon_days", float("inf"))),
    Bad("toml-not-a-number", TOML, "profiles.flat.day_of_week[2]", ("finite number", "got nan"),
        edit=lambda s, t: s["profiles"]["flat"]["day_of_week"].__setitem__(2, float("nan"))),
    Bad("toml-outcome-shares-not-one", TOML, "classes.street",
        ("corrected_share + case_share + escalated_share must sum to 1", "got 1.42"),
        edit=setting("classes.street.case_share", 0.5), cli=True),
    Bad("toml-shift-shares-not-one", TOML, "shift_patterns.day", ("staff_share", "must sum to 1", "got 0.6"),
        edit=shift(staff_share=0.6)),
    Bad("toml-warmup-not-inside-horizon", TOML, "scenario", ("warmup_days (21.0)", "shorter than horizon_days"),
        edit=setting("scenario.warmup_days", 21.0)),
    Bad("toml-clock-time-25h", TOML, "shift_patterns.day.shifts[0].start",
        ("expected a clock time between 00:00 and 24:00", "got '25:00'"),
        edit=shift(start="25:00")),
    Bad("toml-clock-time-not-hhmm", TOML, "shift_patterns.day.shifts[0].end", ("expected a clock time HH:MM", "got '5pm'"),
        edit=shift(end="5pm")),
    Bad("toml-shift-over-midnight", TOML, "shift_patterns.day.shifts[0]", ("must end after it starts",),
        edit=shift(start="22:00", end="06:00")),
    Bad("toml-unknown-weekday", TOML, "shift_patterns.day.shifts[0].days",
        ("unknown weekday 'Tues'", "expected one of Mon, Tue"),
        edit=shift(days=["Mon", "Tues"])),
    Bad("toml-undefined-profile", TOML, "classes.street.profile", ("'nightly' is not defined", "expected one of [profiles]: flat"),
        edit=setting("classes.street.profile", "nightly")),
    Bad("toml-profile-wrong-length", TOML, "profiles.flat.hour_of_day", ("at least 24",),
        edit=setting("profiles.flat.hour_of_day", [1.0] * 23)),
    Bad("toml-unknown-reform-mode", TOML, "reform.mode", ("'after' or 'before'", "got 'during'"),
        edit=setting("reform.mode", "during")),
    Bad("toml-county-seat-not-a-town", TOML, "reform.county_seat", ("'丙镇' is not a town of", "towns.csv"),
        edit=setting("reform.county_seat", "丙镇")),
    Bad("toml-urban-town-not-a-town", TOML, "travel.urban_towns", ("'丙镇' is not a town of",),
        edit=setting("travel.urban_towns", ["甲镇", "丙镇"])),
    Bad("toml-patrol-bounds", TOML, "patrol", ("expected min_visits_per_week <= hot_spot_visits_per_week",),
        edit=setting("patrol.min_visits_per_week", 5)),
    Bad("toml-unknown-staffing-source", TOML, "staffing.sources", ("unknown source 'volunteers'", "expected one of"),
        edit=setting("staffing.sources.volunteers", 3)),
    Bad("toml-staffing-source-not-listed", TOML, "staffing.sources.law", ("missing", "lists 3 officers"),
        edit=drop_setting("staffing.sources.law")),
    Bad("toml-bad-scenario-name", TOML, "scenario.name", ("match pattern", "got 'tiny scenario'"),
        edit=setting("scenario.name", "tiny scenario")),
    Bad("toml-empty-table-path", TOML, "tables.towns", ("at least 1 character", "got ''"),
        post=rewrite_toml(lambda raw: raw["tables"].update(towns=""))),
    Bad("toml-invalid-syntax", TOML, "not valid TOML", ("line",),
        post=rewrite_text(TOML, lambda text: text.replace("seed = 7", "seed = = 7")), cli=True),
    Bad("toml-not-text", TOML, "cannot read the scenario file", ("neither UTF-8 nor GBK", "CSV UTF-8"),
        post=undecodable(TOML)),
    Bad("toml-extends-missing-file", TOML, "extends", ("scenario file", "base.toml not found"),
        post=extends("base.toml")),
    Bad("toml-extends-cycle", TOML, "extends", ("cannot extend itself", "base.toml -> "),
        post=extends_cycle, cli=True),
    Bad("toml-extends-not-a-string", TOML, "extends", ("expected the path of another scenario file", "got 3"),
        post=rewrite_text(TOML, lambda text: "extends = 3\n" + text)),
    Bad("toml-file-missing", "nowhere.toml", "file not found", (), toml="nowhere.toml"),
    # ------------------------------------------------------------ --set overrides
    Bad("set-bad-value", "--set officer_time.desk_share=abc", "officer_time.desk_share", ("valid number", "got 'abc'"),
        overrides=("officer_time.desk_share=abc",), cli=True),
    Bad("set-without-equals", "--set 'scenario.seed'", "expected KEY=VALUE", (),
        overrides=("scenario.seed",)),
    Bad("set-into-a-value", "--set 'scenario.seed.x=1'", "'seed' is a value", ("not a section",),
        overrides=("scenario.seed.x=1",)),
    Bad("set-unknown-key", "--set officer_time.desk_shar=0.4", "officer_time.desk_shar", ("unknown setting",),
        overrides=("officer_time.desk_shar=0.4",)),
    # ------------------------------------------------------------ CSV cells and rows
    Bad("csv-negative-rate", "items.csv", "column annual_rate", ("greater than or equal to 0", "got '-5'"),
        edit=cell("items", 0, "annual_rate", -5), cli=True),
    Bad("csv-rate-not-finite", "items.csv", "column annual_rate", ("finite number", "got 'nan'"),
        edit=cell("items", 1, "annual_rate", "nan")),
    Bad("csv-text-for-number", "towns.csv", "column population", ("valid integer", "got 'many'"),
        edit=cell("towns", 1, "population", "many")),
    Bad("csv-bad-boolean", "villages.csv", "column hot_spot", ("valid boolean", "got 'maybe'"),
        edit=cell("villages", 2, "hot_spot", "maybe")),
    Bad("csv-empty-required-cell", "items.csv", "row 3 (code B-1), column department", ("missing value",),
        edit=cell("items", 1, "department", "")),
    Bad("csv-unknown-choice", "villages.csv", "column kind", ("'village' or 'community'", "got 'hamlet'"),
        edit=cell("villages", 0, "kind", "hamlet")),
    Bad("csv-rate-unit-mismatch", "items.csv", "row 2 (code S-1), row", ("rate_unit for driver 'population'", "'per_10k_residents'"),
        edit=cell("items", 0, "rate_unit", "per_km2")),
    Bad("csv-odd-officers-needed", "items.csv", "row", ("officers_needed must be a multiple of 2", "got 3"),
        edit=cell("items", 0, "officers_needed", 3)),
    Bad("csv-certified-above-officers", "staffing.csv", "row 2 (brigade 甲镇)", ("certified (99) cannot exceed officers (8)",),
        edit=cell("staffing", 0, "certified", 99)),
    Bad("csv-missing-column", "items.csv", "header", ("missing column(s) annual_rate",),
        edit=drop_column("items", "annual_rate")),
    Bad("csv-unknown-column", "towns.csv", "header", ("unknown column(s) colour", "expected only town, town_en"),
        edit=lambda s, t: [r.update(colour="red") for r in t["towns"]]),
    Bad("csv-unnamed-column", "towns.csv", "header", ("unknown column(s) (a column with no name)",),
        post=cells(header_line("towns.csv", lambda h: h + ","),
                   rewrite_text("towns.csv", lambda text: text.replace("test\n", "test,x\n")))),
    Bad("csv-column-twice", "towns.csv", "header", ("column(s) town_en appear twice", "expected each column once"),
        post=header_line("towns.csv", lambda h: h.replace("source", "town_en"))),
    Bad("csv-short-row", "items.csv", "row 5", ("expected 19 cells", "got 3"),
        post=append_line("items.csv", "X-1,x,y"), cli=True),
    Bad("csv-long-row", "villages.csv", "row 6", ("more cells than columns",),
        post=append_line("villages.csv", ",".join(["x"] * 14))),
    Bad("csv-no-rows", "departments.csv", "the table has no rows", (),
        post=header_only("departments.csv")),
    Bad("csv-not-text", TOML, "tables.towns", ("cannot read the table file", "neither UTF-8 nor GBK", "CSV UTF-8"),
        post=undecodable("towns.csv"), cli=True),
    Bad("csv-table-file-missing", TOML, "tables.items", ("table file", "items.csv not found"),
        post=delete("items.csv")),
    # ------------------------------------------------------------ references between tables
    Bad("ref-village-town-undefined", "villages.csv", "village 乙村2, column town", ("'丙镇' is not a town of", "towns.csv"),
        edit=cells(cell("villages", 3, "town", "丙镇"), cell("towns", 1, "villages", 1))),
    Bad("ref-item-class-undefined", "items.csv", "item S-1, column class",
        ("'noise' is not defined", "expected one of [classes]", "street, building, hidden"),
        edit=cell("items", 0, "class", "noise")),
    Bad("ref-item-department-undefined", "items.csv", "item H-1, column department", ("'police' is not in", "departments.csv"),
        edit=cell("items", 2, "department", "police")),
    Bad("ref-town-shift-pattern-undefined", "towns.csv", "town 乙镇, column shift_pattern",
        ("'night' is not defined", "expected one of [shift_patterns]"),
        edit=cell("towns", 1, "shift_pattern", "night")),
    Bad("ref-department-base-town-undefined", "departments.csv", "department land, column base_town", ("'丙镇' is not a town",),
        edit=cell("departments", 1, "base_town", "丙镇")),
    Bad("ref-staffing-brigade-undefined", "staffing.csv", "brigade '丙镇'", ("not a brigade in after mode", "expected 乙镇, 甲镇"),
        edit=cell("staffing", 0, "brigade", "丙镇")),
    Bad("ref-duplicate-village", "villages.csv", "village '乙村1'", ("listed twice",),
        edit=cell("villages", 3, "village", "乙村1")),
    Bad("ref-duplicate-item-code", "items.csv", "item code 'S-1'", ("listed twice",),
        edit=cell("items", 1, "code", "S-1")),
    Bad("ref-village-count-mismatch", "villages.csv", "town 乙镇", ("has 2 villages and 0 communities", "expected 3 and 0"),
        edit=cell("towns", 1, "villages", 3)),
    Bad("ref-staffing-total-mismatch", "staffing.csv", "source law", ("officers add up to 3", "expected 4", "staffing.sources.law"),
        edit=setting("staffing.sources.law", 4), cli=True),
    Bad("ref-transfer-to-zero-teams", "departments.csv", "department fire, column teams_after",
        ("is 0, but item H-1 is transferred to it", "expected at least one team"),
        edit=cell("departments", 2, "teams_after", 0)),
]


def _write(tmp_path: Path, bad: Bad) -> Path:
    folder = tmp_path / "scenario"
    toml = factory.scenario(folder, bad.edit)
    if bad.post is not None:
        bad.post(folder, toml)
    return folder / bad.toml


def _problem_line(problems: list[str], bad: Bad) -> str:
    """The problem line that starts with the file and names the field; fail with all lines otherwise."""
    for line in problems:
        head, _, rest = line.partition(": ")
        if (head == bad.file or Path(head).name == bad.file) and bad.field in rest:
            return line
    pytest.fail(f"no problem names file {bad.file!r} and field {bad.field!r}:\n" + "\n".join(problems))


def test_at_least_twenty_kinds():
    assert len({b.id for b in BAD}) == len(BAD) >= 20
    assert sum(b.cli for b in BAD) >= 8


@pytest.mark.parametrize("bad", BAD, ids=[b.id for b in BAD])
def test_bad_input_is_one_clear_problem(tmp_path, bad):
    path = _write(tmp_path, bad)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, bad.overrides)
    problems = caught.value.problems
    line = _problem_line(problems, bad)
    for phrase in bad.expected:
        assert phrase in line, f"{phrase!r} not in {line!r}"
    assert "Traceback" not in line and "\n" not in line
    assert len(problems) == bad.problems, "\n".join(problems)


CLI = [b for b in BAD if b.cli]


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    """Start every command-line case at once (each is a fresh interpreter, about a second of imports).

    On a machine with several cores they overlap; each test then waits for its own.
    """
    runs = {}
    for bad in CLI:
        tmp = tmp_path_factory.mktemp(bad.id)
        path = _write(tmp, bad)
        out = tmp / "out"
        args = [sys.executable, "-m", "enforcement_grid.cli.cli", "run", str(path), "--days", "3", "--out", str(out)]
        for o in bad.overrides:
            args += ["--set", o]
        runs[bad.id] = out, subprocess.Popen(args, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    yield runs
    for _, proc in runs.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("bad", CLI, ids=[b.id for b in CLI])
def test_cli_exits_2_without_traceback(cli_runs, bad):
    out, proc = cli_runs[bad.id]
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2, stderr
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), stderr
    _problem_line([line.removeprefix("error: ") for line in lines], bad)
    assert stdout == ""
    assert not out.exists()


# --------------------------------------------------------------------------- command-line options


def _cli_in_process(capsys, args: list[str]) -> tuple[int, str]:
    """Run ``egrid`` in this process; argparse errors exit through SystemExit."""
    try:
        code = cli_main(args)
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "option, expected",
    [
        (["--replications", "0"], "--replications/-n: expected a whole number of at least 1, got '0'"),
        (["--replications", "two"], "--replications/-n: expected a whole number, got 'two'"),
        (["--days", "-1"], "--days: expected a number above 0, got '-1'"),
        (["--days", "nan"], "--days: expected a number above 0, got 'nan'"),
        (["--seed", "-3"], "--seed: expected a whole number of at least 0, got '-3'"),
        (["--workers", "0"], "--workers: expected a whole number of at least 1, got '0'"),
    ],
    ids=["replications-0", "replications-text", "days-negative", "days-nan", "seed-negative", "workers-0"],
)
def test_bad_cli_option(tmp_path, capsys, option, expected):
    path = factory.scenario(tmp_path / "scenario")
    out = tmp_path / "out"
    code, err = _cli_in_process(capsys, ["run", str(path), "--out", str(out), *option])
    assert code == 2
    assert f"error: argument {expected}" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_bad_cli_option_subprocess(tmp_path):
    path = factory.scenario(tmp_path / "scenario")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "enforcement_grid.cli.cli", "run", str(path), "--replications", "0", "--out", str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "error: argument --replications/-n: expected a whole number of at least 1" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_cli_days_infinite(tmp_path, capsys):
    """--days inf would run forever: the option refuses it (and a scenario's horizon must be finite too)."""
    path = factory.scenario(tmp_path / "scenario")
    out = tmp_path / "out"
    code, err = _cli_in_process(capsys, ["run", str(path), "--days", "inf", "--out", str(out)])
    assert code == 2
    assert "argument --days: expected a number above 0, got 'inf'" in err and "Traceback" not in err
    assert not out.exists()
    code, err = _cli_in_process(capsys, ["run", str(path), "--set", "scenario.horizon_days=inf", "--out", str(out)])
    assert code == 2
    assert err.startswith("error: ") and "--set scenario.horizon_days=inf: scenario.horizon_days: Input should be a finite number" in err
    assert not out.exists()


def test_cli_existing_out_without_force(tmp_path, capsys):
    path = factory.scenario(tmp_path / "scenario")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier run", encoding="utf-8")
    code, err = _cli_in_process(capsys, ["run", str(path), "--days", "3", "--out", str(out)])
    assert code == 2
    assert err.startswith("error: ")
    assert f"{out}: the run folder already exists" in err and "--force" in err
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_cli_budget_bad_scenario(tmp_path, capsys):
    path = factory.scenario(tmp_path / "scenario", cell("items", 0, "annual_rate", -5))
    code, err = _cli_in_process(capsys, ["budget", str(path)])
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "items.csv: row 2 (code S-1), column annual_rate" in lines[0]


def test_cli_reports_every_problem(tmp_path, capsys):
    """Several mistakes in one scenario: one ``error:`` line each, all at once."""
    edit = cells(cell("items", 0, "annual_rate", -5), cell("towns", 1, "population", "many"),
                 setting("officer_time.desk_share", "0.3"))
    path = factory.scenario(tmp_path / "scenario", edit)
    code, err = _cli_in_process(capsys, ["run", str(path), "--days", "3", "--out", str(tmp_path / "out")])
    assert code == 2
    # the TOML is validated first; its problem stops the load before the tables are read
    assert err.splitlines() == [f"error: {path}: officer_time.desk_share: Input should be a valid number; got '0.3'; "
                             f"write the number without quotes"]
    path = factory.scenario(tmp_path / "scenario2", cells(cell("items", 0, "annual_rate", -5),
                                                           cell("towns", 1, "population", "many")))
    code, err = _cli_in_process(capsys, ["run", str(path), "--days", "3", "--out", str(tmp_path / "out")])
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 2 and all(line.startswith("error: ") for line in lines)
    assert any("towns.csv" in line for line in lines) and any("items.csv" in line for line in lines)


# --------------------------------------------------------------------------- property: never a crash

BASE_SETTINGS, BASE_TABLES = factory.base()


def _leaves(node: Any, path: tuple = ()) -> list[tuple]:
    """Paths of every scalar in the settings (dict keys and list indexes)."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaves(v, (*path, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaves(v, (*path, i))]
    return [path]


SETTING_PATHS = [p for p in _leaves(BASE_SETTINGS) if p[0] != "tables"]
CELLS = [(table, row, column) for table, rows in BASE_TABLES.items()
         for row, r in enumerate(rows) for column in r]

numbers_as_text = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
cell_values = st.one_of(
    st.text(max_size=12),
    numbers_as_text,
    st.sampled_from(["", " ", "yes", "no", "true", "0", "-1", "1e400", "nan", "inf", "甲镇", "乙村1", "day",
                     "fire", "street", "population", "per_km2", "village", "law", "Mon", "24:00"]),
)
setting_values = st.one_of(
    st.text(max_size=12),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from(["甲镇", "day", "flat", "after", "before", "00:00", "24:00", "Sun", "", "..", "/"]),
    st.lists(st.integers(-3, 3), max_size=3),
)


@hyp_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cell_edits=st.lists(st.tuples(st.sampled_from(CELLS), cell_values), max_size=4),
    setting_edits=st.lists(st.tuples(st.sampled_from(SETTING_PATHS), setting_values), max_size=3),
)
def test_random_mutations_never_crash(cell_edits, setting_edits):
    settings, tables = copy.deepcopy(BASE_SETTINGS), copy.deepcopy(BASE_TABLES)
    for (table, row, column), value in cell_edits:
        tables[table][row][column] = value
    for path, value in setting_edits:
        node = settings
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    with tempfile.TemporaryDirectory() as folder:
        toml = factory.write(Path(folder), settings, tables)
        try:
            load_scenario(toml)
        except ScenarioError as err:
            assert err.problems and all(isinstance(p, str) and p for p in err.problems)

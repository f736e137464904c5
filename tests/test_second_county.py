"""A second county (scenarios/hexi.toml) runs the whole chain: run, budget, allocation, report.

Hexi is illustrative: four towns, 40 villages, three sources of posts, a seven-item catalogue in
three categories, two classes of violation and its own shift patterns — none of them Hui'an's.
Every command must exit 0 and its outputs name Hexi's own sources and classes; none of
Hui'an's names (sources, classes, towns) may leak in.  Short horizons, two replications.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from enforcement_grid.sim.errors import ScenarioError
from enforcement_grid.sim.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]
HEXI = ROOT / "scenarios" / "hexi.toml"
HUIAN = ROOT / "scenarios" / "huian.toml"


def egrid(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "enforcement_grid.cli.cli", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)


def huian_names() -> list[str]:
    """Names only Hui'an's scenario uses: its sources (keys and labels), classes and towns.

    A name that is also in the program's own words (a built-in label, e.g. "county departments"
    in "transferred to county departments") is not Hui'an's and is left out."""
    from enforcement_grid.report import labels as L

    sc = load_scenario(HUIAN)
    s = sc.settings
    names = [k for k in s.sources if len(k) > 3]
    names += [x for src in s.sources.values() for x in (src.label_zh, src.label_en)]
    names += [x for c in s.classes.values() for x in (c.label_zh, c.label_en)]
    names += [t.town for t in sc.towns] + [t.town_en for t in sc.towns]
    builtin = " ".join(v for table in (L.LABELS, L.METRICS) for entry in table.values() for v in entry.values())
    return [n for n in names if n not in builtin]


def test_hexi_is_its_own_county():
    sc = load_scenario(HEXI)
    hui = load_scenario(HUIAN)
    assert len(sc.towns) == 4 and len(sc.villages) == 40
    assert set(sc.settings.sources) == {"city_brigade", "dept_secondment", "legal_officer"}
    assert sc.law_sources == ("legal_officer",)
    assert sc.law_posts("河西镇") == 3  # the seat's legal reviewers: its legal_officer posts
    assert set(sc.settings.classes) == {"visible", "construction"}
    assert set(sc.settings.categories) == {i.category for i in sc.items}  # each category labelled
    assert not set(sc.settings.classes) & set(hui.settings.classes)
    assert not {i.category for i in sc.items} & {i.category for i in hui.items} - {"market"}
    assert not set(sc.settings.shift_patterns) & set(hui.settings.shift_patterns)
    assert not {t.town for t in sc.towns} & {t.town for t in hui.towns}
    # every number of its tables is labelled
    for part in ("towns", "villages", "items", "departments"):
        assert all(getattr(r, "source") for r in getattr(sc, part)), part
    assert all(r.source_note for r in sc.staffing)


def test_staffing_may_only_use_listed_sources(tmp_path):
    folder = tmp_path / "scenarios"
    shutil.copytree(ROOT / "scenarios" / "hexi", folder / "hexi")
    shutil.copy(HEXI, folder / "hexi.toml")
    staffing = folder / "hexi" / "staffing.csv"
    staffing.write_text(staffing.read_text(encoding="utf-8").replace("北岭镇,legal_officer", "北岭镇,law", 1),
                        encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(folder / "hexi.toml")
    text = str(err.value)
    assert "staffing.csv: row 13 (brigade 北岭镇), column source: unknown source 'law'" in text
    assert "expected one of [sources]" in text and "city_brigade, dept_secondment, legal_officer" in text
    proc = egrid("run", str(folder / "hexi.toml"), "--days", "3", "-n", "1", "--out", str(tmp_path / "never"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert not (tmp_path / "never").exists()


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    out = tmp_path_factory.mktemp("hexi")
    steps = {
        "run": egrid("run", str(HEXI), "--days", "21", "-n", "2", "--workers", "1", "--out", str(out / "run")),
        "budget": egrid("budget", str(HEXI), "--days", "21"),
        "allocation": egrid("optimize", "allocation", str(HEXI), "--no-loop", "--lang", "en",
                            "--out", str(out / "plan")),
        "tradeoff": egrid("optimize", "tradeoff", str(HEXI), "--lang", "en", "--out", str(out / "tradeoff")),
    }
    steps["report"] = egrid("report", str(out / "run"), "--lang", "en", "--out", str(out / "report"))
    return out, steps


def test_every_step_exits_0(chain):
    _, steps = chain
    for name, proc in steps.items():
        assert proc.returncode == 0, f"{name}: {proc.stderr[-2000:]}"


def test_outputs_name_its_own_sources_and_classes(chain):
    out, steps = chain
    alloc = pd.read_csv(out / "plan" / "allocation.csv")
    assert set(alloc["source"]) == {"city_brigade", "dept_secondment", "legal_officer"}
    assert (alloc[alloc["source"] == "legal_officer"]["posts"] >= 1).all()  # min_law_posts_per_brigade
    assert alloc["posts"].sum() == 50
    legend = (out / "plan" / "charts" / "allocation_by_source.svg").read_text(encoding="utf-8")
    for label in ("former county city brigade", "seconded department staff", "town legal officers"):
        assert label in legend
    summary = pd.read_csv(out / "run" / "summary.csv")
    assert {"coverage_visible", "coverage_construction"} <= set(summary["metric"])
    html = (out / "report" / "report.html").read_text(encoding="utf-8")
    for label in ("coverage, street order (%)", "coverage, unlawful construction (%)", "Hexi", "Beiling"):
        assert label in html
    texts = {
        "run": steps["run"].stdout, "budget": steps["budget"].stdout, "allocation": steps["allocation"].stdout,
        "report.html": html, "allocation chart": legend,
        **{f"report chart {p.name}": p.read_text(encoding="utf-8") for p in (out / "report" / "charts").glob("*.svg")},
    }
    names = huian_names()
    assert "urban_management" in names and "螺城镇" in names and "street-visible" in names
    for name in names:
        for where, text in texts.items():
            assert name not in text, (name, where)
    assert not {"coverage_street", "coverage_building", "coverage_hidden"} & set(summary["metric"])


def test_tradeoff_marks_its_own_total(chain):
    from enforcement_grid.report import labels as L

    out, _ = chain
    svg = (out / "tradeoff" / "charts" / "tradeoff.svg").read_text(encoding="utf-8")
    assert L.t("tradeoff.marked", "en", posts="50") in svg
    assert L.t("tradeoff.marked", "en", posts="357") not in svg

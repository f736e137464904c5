"""Reports and comparisons: HTML (images that load, assumptions with sources), Excel, paired differences.

One small pair of runs (after and before the reform, same seed, two
replications of 20 days) is made once for the module and written as run folders.
The browser test opens the HTML in headless Chromium and reads back how many
images loaded; it is skipped when /usr/bin/chromium is not installed.
"""

from __future__ import annotations

import base64
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from scipy import stats

from enforcement_grid.report import compare_runs, format_comparison, write_report
from enforcement_grid.report import html as H
from enforcement_grid.report import labels as L
from enforcement_grid.report import rundir as R
from enforcement_grid.sim.errors import ScenarioError

CHROMIUM = Path("/usr/bin/chromium")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def runs(small_runs):
    return small_runs


@pytest.fixture(scope="module")
def before_after(runs, tmp_path_factory):
    """The Chinese before/after report."""
    out = tmp_path_factory.mktemp("reports") / "before-after"
    files = write_report(runs["after"], out, "zh", baseline=runs["before"])
    return out, files


def images(page: str) -> list[str]:
    return re.findall(r'<img [^>]*src="([^"]+)"', page)


# ---------------------------------------------------------------------------- comparison


def test_compare_uses_paired_replications(runs):
    table = compare_runs(runs["before"], runs["after"])
    assert list(table.columns) == [
        "plan_a", "plan_b", "scope", "metric", "mean_a", "ci_low_a", "ci_high_a", "mean_b", "ci_low_b", "ci_high_b",
        "diff", "diff_ci_low", "diff_ci_high", "n_pairs", "method", "significant",
    ]
    assert set(table["plan_a"]) == {"huian-before"} and set(table["plan_b"]) == {"huian"}
    assert (table["method"] == "paired").all()
    # common random numbers: both plans saw exactly the same violations
    v = table[(table["scope"] == "county") & (table["metric"] == "violations_per_year")].iloc[0]
    assert v["diff"] == 0 and v["diff_ci_low"] == 0 and v["diff_ci_high"] == 0 and not v["significant"]
    # the interval is the t interval of the per-replication differences
    rep_a = pd.read_csv(runs["before"] / "replications.csv")
    rep_b = pd.read_csv(runs["after"] / "replications.csv")
    pick = lambda rep: rep[(rep["scope"] == "county") & (rep["metric"] == "coverage")].sort_values("rep")["value"].to_numpy()  # noqa: E731
    d = pick(rep_b) - pick(rep_a)
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
    row = table[(table["scope"] == "county") & (table["metric"] == "coverage")].iloc[0]
    assert row["diff"] == pytest.approx(d.mean())
    assert (row["diff_ci_low"], row["diff_ci_high"]) == pytest.approx((d.mean() - half, d.mean() + half))
    assert row["n_pairs"] == 2
    assert row["significant"] == (row["diff_ci_low"] > 0 or row["diff_ci_high"] < 0)
    # each plan's own mean and CI are those of its summary
    summ = pd.read_csv(runs["after"] / "summary.csv").set_index(["scope", "metric"])
    assert row["mean_b"] == pytest.approx(summ.loc[("county", "coverage"), "mean"])
    assert row["ci_low_b"] == pytest.approx(summ.loc[("county", "coverage"), "ci_low"])
    # every measure of every scope is there
    assert len(table) == len(summ.index.union(pd.read_csv(runs["before"] / "summary.csv").set_index(["scope", "metric"]).index))


def test_compare_more_runs_and_different_seeds(runs, tmp_path):
    other = tmp_path / "other-seed"
    shutil.copytree(runs["after"], other)
    meta = json.loads((other / "scenario.json").read_text(encoding="utf-8"))
    meta["seed"] += 1
    (other / "scenario.json").write_text(json.dumps(meta), encoding="utf-8")
    table = compare_runs(runs["before"], runs["after"], other)
    assert list(table.groupby(["plan_a", "plan_b"], sort=False).groups) == [("huian-before", "after"), ("huian-before", "other-seed")]
    methods = table.groupby("plan_b")["method"].unique()
    assert list(methods["after"]) == ["paired"] and list(methods["other-seed"]) == ["welch"]
    text = format_comparison(table, "en", metrics=["coverage"])
    assert "after − huian-before" in text and "other-seed − huian-before" in text and "coverage (%)" in text


def test_compare_runsets_in_memory_as_run_folders(runs):
    from_files = compare_runs(runs["before"], runs["after"])
    in_memory = compare_runs(runs["before_runset"], runs["after_runset"])
    cols = ["scope", "metric", "diff", "diff_ci_low", "diff_ci_high", "significant"]
    pd.testing.assert_frame_equal(from_files[cols], in_memory[cols], check_exact=False, rtol=1e-9)


def test_compare_refuses_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(ScenarioError, match="not a run folder"):
        compare_runs(tmp_path, tmp_path)


# ---------------------------------------------------------------------------- assumptions


def test_assumptions_parser():
    text = '''extends = "base.toml"   # the parent
[officer_time]
desk_share = 0.30               # HI §5: 25–37 % desk work
note = "a # inside a string"    # estimate: why
[profiles.day]  # section source
hour = [1, 2,   # first
        3]      # second
plain = 4
'''
    rows = R.parse_toml_assumptions(text)
    got = {(r.section, r.key): (r.value, r.source, r.line) for r in rows.itertuples()}
    assert got[("", "extends")] == ('"base.toml"', "the parent", 1)
    assert got[("officer_time", "desk_share")] == ("0.30", "HI §5: 25–37 % desk work", 3)
    assert got[("officer_time", "note")] == ('"a # inside a string"', "estimate: why", 4)
    assert got[("profiles.day", "hour")] == ("[1, 2, 3]", "first | second", 6)
    assert got[("profiles.day", "plain")] == ("4", "[profiles.day] section source", 8)


def test_assumptions_of_a_run(runs):
    rows = R.assumptions(R.load_run(runs["after"]))
    desk = rows[rows["key"] == "desk_share"].iloc[0]
    assert desk["section"] == "officer_time" and desk["value"] == "0.30" and desk["source"].startswith("HI §5")
    horizon = rows[rows["key"] == "horizon_days"].iloc[0]
    assert horizon["value"] == "365" and horizon["value_in_run"] == "20"  # the override is shown
    # a scenario that extends another lists the settings it inherits too, with the parent's comments
    before = R.assumptions(R.load_run(runs["before"]))
    inherited = before[before["key"] == "desk_share"].iloc[0]
    assert inherited["file"] == "huian.toml" and "HI §5" in inherited["source"]
    own = before[before["key"] == "triage_mean_min"].iloc[0]
    assert own["file"] == "scenario.toml" and own["value"] == "120"


# ---------------------------------------------------------------------------- the report


def test_html_report_is_self_contained(before_after):
    out, files = before_after
    page = files["html"].read_text(encoding="utf-8")
    assert files["html"] == out / "report.html"
    srcs = images(page)
    assert len(srcs) >= 7
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    assert "<title>惠安县 综合执法改革后 — 仿真报告</title>" in page
    assert L.t("report.comparison", "zh") in page and 'id="comparison"' in page
    assembled = page[page.index('id="assumptions"'):]
    assert "desk_share" in assembled and "HI §5" in assembled
    assert "@font-face" in page  # Chinese text shows without a CJK font installed
    # charts also as files, PNG and SVG, one pair per embedded image
    pngs = sorted(p.name for p in (out / "charts").glob("*.png"))
    svgs = sorted(p.name for p in (out / "charts").glob("*.svg"))
    assert len(pngs) == len(srcs) and [p[:-4] for p in pngs] == [s[:-4] for s in svgs]
    assert {"coverage_by_town.png", "delay_response.png", "delay_discovery.png", "backlog.png"} <= set(pngs)
    assert (out / "charts" / "coverage_by_town.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    # no temporary folders left next to the report
    assert [p.name for p in out.parent.iterdir()] == [out.name]


def test_excel_workbook(before_after, runs):
    _, files = before_after
    wb = openpyxl.load_workbook(files["excel"], read_only=True)
    assert wb.sheetnames == ["汇总", "各镇", "公开数据对照", "巡查计划", "方案比较", "假设与来源"]
    assumptions = [row for row in wb["假设与来源"].iter_rows(values_only=True)]
    assert any("desk_share" in row for row in assumptions)
    summary = list(wb["汇总"].iter_rows(values_only=True))
    assert summary[0][:3] == ("范围", "指标", "指标代码")
    assert len(summary) - 1 == len(pd.read_csv(runs["after"] / "summary.csv"))
    comparison = list(wb["方案比较"].iter_rows(values_only=True))
    assert len(comparison) > 100
    wb.close()


def test_english_report_without_baseline(runs, tmp_path):
    files = write_report(runs["after"], tmp_path / "en", "en", embed_font=False)
    page = files["html"].read_text(encoding="utf-8")
    assert "<title>Hui&#x27;an County, after the enforcement reform — Simulation report</title>" in page
    assert 'id="comparison"' not in page and "Luocheng" in page
    assert all(s.startswith("data:image/png;base64,") for s in images(page))
    wb = openpyxl.load_workbook(files["excel"], read_only=True)
    assert wb.sheetnames == ["summary", "towns", "validation", "patrol plan", "assumptions"]
    wb.close()


def test_report_is_written_whole_or_not_at_all(runs, tmp_path, monkeypatch):
    monkeypatch.setattr(H, "build_charts", lambda *a, **k: [])  # charts do not matter here: keep it fast
    out = tmp_path / "rep"
    write_report(runs["after"], out, "en", embed_font=False, patrol_towns=[])
    with pytest.raises(ScenarioError, match="already exists"):
        write_report(runs["after"], out, "en", embed_font=False)
    stamp = (out / "report.html").stat().st_mtime_ns

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(H, "write_workbook", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        write_report(runs["after"], out, "en", embed_font=False, force=True, patrol_towns=[])
    assert (out / "report.html").stat().st_mtime_ns == stamp  # the old report is untouched
    with pytest.raises(RuntimeError):
        write_report(runs["after"], tmp_path / "new", "en", embed_font=False, patrol_towns=[])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]  # nothing half-written


# ---------------------------------------------------------------------------- in a browser


def _dump_dom(html_file: Path, profile: Path) -> str:
    cmd = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom", html_file.as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium not installed (/usr/bin/chromium; Debian package `chromium`)")
def test_images_load_in_a_browser(before_after, tmp_path):
    _, files = before_after
    dom = _dump_dom(files["html"], tmp_path / "profile")
    loaded = re.search(r'id="images-loaded">(\d+)/(\d+)<', dom)
    assert loaded, "the page script did not run"
    n, total = map(int, loaded.groups())
    assert total == len(images(files["html"].read_text(encoding="utf-8"))) and n == total
    assert re.search(r'id="font-status">loaded<', dom), "the embedded CJK font did not load"
    # and the check can fail: a broken image is counted as not loaded
    broken = tmp_path / "broken.html"
    page = files["html"].read_text(encoding="utf-8")
    broken.write_text(page.replace("data:image/png;base64,iVBOR", "data:image/png;base64,AAAA", 1), encoding="utf-8")
    n2, total2 = map(int, re.search(r'id="images-loaded">(\d+)/(\d+)<', _dump_dom(broken, tmp_path / "profile")).groups())
    assert (n2, total2) == (total - 1, total)


def test_a_fourth_class_reaches_the_report_tables_and_charts(tmp_path, monkeypatch):
    """Classes come from the run folder: a fourth class is in the towns table, the Excel
    sheets and the coverage chart, with the label the scenario gives it."""
    import factory
    from enforcement_grid.report import charts as C
    from enforcement_grid.sim import load_scenario
    from enforcement_grid.experiments import run
    from enforcement_grid.experiments.output import write_run

    def edit(s, t):
        s["scenario"].update(horizon_days=6.0, warmup_days=1.0)
        s["classes"]["noise"] = dict(s["classes"]["street"], label_zh="噪声扰民", label_en="noise nuisance")
        t["items"].append(dict(t["items"][0], code="N-1", name_en="night noise", **{"class": "noise"}))

    sc = load_scenario(factory.scenario(tmp_path / "sc", edit))
    folder = write_run(tmp_path / "run", sc, run(sc, replications=2, workers=1))
    rd = R.load_run(folder)
    assert rd.class_keys == ("street", "building", "hidden", "noise")
    assert (rd.summary["metric"] == "coverage_noise").any()

    monkeypatch.setattr(H, "build_charts", lambda *a, **k: [])  # the chart is checked below
    files = write_report(folder, tmp_path / "report", "en", embed_font=False)
    page = files["html"].read_text(encoding="utf-8")
    towns = page[page.index('id="towns"'):]
    assert "coverage, noise nuisance (%)" in towns[:towns.index("</table>")]
    wb = openpyxl.load_workbook(files["excel"], read_only=True)
    labels = {cell for row in wb[wb.sheetnames[0]].iter_rows(values_only=True) for cell in row}
    wb.close()
    assert "coverage, noise nuisance (%)" in labels

    for lang in ("en", "zh"):
        fig = C.coverage_by_town(rd.summary, lang, classes=rd.class_keys, class_labels=rd.class_labels)
        legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert len(legend) == 4 and legend[3] == ("noise nuisance" if lang == "en" else "噪声扰民")
    # without an explicit list the chart takes the classes of the summary
    fig = C.coverage_by_town(rd.summary, "en")
    assert len(fig.axes[0].get_legend().get_texts()) == 4

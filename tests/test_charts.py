"""Charts: every chart in both languages, its words, its series, and real CJK glyphs.

Each figure is drawn to a PNG buffer with warnings turned into errors, so
matplotlib's "Glyph … missing from font(s)" fails the test (a chart that would
show boxes instead of Chinese).  Content is checked on the Figure objects:
title, axis labels, footnote, number of bars/lines, legend labels, and that
series differ by more than colour (line style, marker or hatch).
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from enforcement_grid.report import charts as C
from enforcement_grid.report import labels as L
from enforcement_grid.report import rundir as R
from enforcement_grid.report.fonts import FONT_NAME, cjk_font_path, use_cjk_font

LANGS = ["zh", "en"]


@pytest.fixture(scope="module")
def runs(small_runs):
    """Two small runs (after and before the reform, same seed), loaded from their run folders."""
    return {name: R.load_run(small_runs[name]) for name in ("after", "before")}


def draw(fig: Figure) -> bytes:
    """Render to PNG; any warning (a missing glyph above all) is an error."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(buf, format="png", dpi=60)
    data = buf.getvalue()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return data


def footnote(fig: Figure) -> str:
    notes = [t.get_text() for t in fig.texts if t.get_gid() == "footnote"]
    assert len(notes) == 1
    return notes[0]


def check_frame(fig: Figure, lang: str, title_key: str, scenario="s1", seed=7, **title_fields) -> None:
    assert fig.get_suptitle() == L.t(title_key, lang, **title_fields)
    assert footnote(fig).splitlines()[0] == L.t("footnote", lang, scenario=scenario, seed=seed)
    draw(fig)


def bars(ax) -> list[BarContainer]:
    return [c for c in ax.containers if isinstance(c, BarContainer)]


# ---------------------------------------------------------------------------- font


def test_font_ships_with_the_project_and_is_idempotent():
    import matplotlib

    assert cjk_font_path().is_file()
    assert use_cjk_font() == FONT_NAME
    before = list(matplotlib.rcParams["font.sans-serif"])
    use_cjk_font()
    assert matplotlib.rcParams["font.sans-serif"] == before
    assert before[0] == FONT_NAME


def test_missing_glyph_check_can_fail():
    """The check the chart tests rely on: a CJK label in a Latin-only font raises."""
    fig = Figure()
    fig.text(0.5, 0.5, "惠安县", fontfamily="DejaVu Sans")
    with pytest.raises(UserWarning, match="Glyph .* missing from font"):
        draw(fig)


def test_labels_cover_both_languages():
    for key, texts in L.LABELS.items():
        assert set(texts) == set(L.LANGS), key
        assert all(texts.values()), key
    for key, texts in L.METRICS.items():
        assert set(texts) == set(L.LANGS), key
    with pytest.raises(ValueError):
        L.t("coverage_by_town.title", "fr")
    with pytest.raises(KeyError):
        L.t("no.such.label", "zh")
    assert L.town_label("螺城镇", "en", {"螺城镇": "Luocheng"}) == "Luocheng"
    assert L.town_label("螺城镇", "zh", {"螺城镇": "Luocheng"}) == "螺城镇"


# ---------------------------------------------------------------------------- charts from a run


@pytest.mark.parametrize("lang", LANGS)
def test_coverage_by_town(runs, lang):
    r = runs["after"]
    fig = C.coverage_by_town(r.summary, lang, town_en=r.town_en, class_labels=r.class_labels, scenario="s1", seed=7)
    check_frame(fig, lang, "coverage_by_town.title")
    ax = fig.axes[0]
    assert ax.get_xlabel() == L.t("coverage_by_town.x", lang)
    assert ax.get_ylabel() == L.t("coverage_by_town.y", lang)
    groups = bars(ax)
    scopes = r.summary["scope"].unique()
    assert len(groups) == 3 and all(len(g) == len(scopes) for g in groups)
    assert len({g.patches[0].get_hatch() for g in groups}) == 3  # hatches, not colour alone
    assert C.legend_entries(fig) == [r.class_labels[k][lang] for k in ("street", "building", "hidden")]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[0] == L.t("county", lang)
    assert ("Luocheng" if lang == "en" else "螺城镇") in ticks
    # bar heights are the summary's means in per cent
    street = r.summary[(r.summary["metric"] == "coverage_street") & (r.summary["scope"] == "county")]["mean"].iloc[0]
    assert groups[0].patches[0].get_height() == pytest.approx(street * 100)


@pytest.mark.parametrize("lang", LANGS)
def test_allocation_by_source(runs, lang):
    r = runs["after"]
    alloc = R.allocation(r)
    fig = C.allocation_by_source(alloc, lang, town_en=r.town_en, source_labels=r.source_labels, scenario="s1", seed=7)
    check_frame(fig, lang, "allocation.title")
    ax = fig.axes[0]
    assert ax.get_ylabel() == L.t("allocation.y", lang)
    groups = bars(ax)
    assert len(groups) == 4 and all(len(g) == 12 for g in groups)
    assert len({g.patches[0].get_hatch() for g in groups}) == 4
    totals = {"urban_management": 140, "county_department": 120, "reallocated": 60, "law": 37}
    assert C.legend_entries(fig) == [
        L.t("allocation.legend", lang, label=r.source_labels[s][lang], total=str(n)) for s, n in totals.items()
    ]
    assert r.source_labels["law"] == {"zh": "法律专业岗位", "en": "law-graduate posts"}  # the scenario's [sources]
    stacked = sum(p.get_height() for g in groups for p in g.patches)
    assert stacked == 357


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("column", ["response", "discovery"])
def test_delay_cdf(runs, lang, column):
    recs = {name: R.delays(r.records, r.warmup_min) for name, r in (("before", runs["before"]), ("after", runs["after"]))}
    fig = C.delay_cdf(recs, column, lang, scenario="s1", seed=7)
    check_frame(fig, lang, f"delay.{column}.title")
    ax = fig.axes[0]
    assert ax.get_xlabel() == L.t("delay.x", lang) and ax.get_ylabel() == L.t("delay.y", lang)
    lines = [ln for ln in ax.get_lines() if (ln.get_gid() or "").startswith("cdf-")]
    assert len(lines) == 2
    assert lines[0].get_linestyle() != lines[1].get_linestyle()
    assert lines[0].get_marker() != lines[1].get_marker()
    entries = C.legend_entries(fig)
    assert [e.split("（")[0].split(" (")[0] for e in entries] == ["before", "after"]
    for ln in lines:
        y = ln.get_ydata()
        assert np.all(np.diff(y) >= 0) and 0 < y[-1] <= 100


def test_delays_agree_with_the_measures(runs):
    """Mean of the finite delays = the run's response_time_min and discovery_delay_min, replication by replication."""
    r = runs["after"]
    rep = r.replications.set_index(["scope", "metric", "rep"])["value"]
    for k in r.reps:
        d = R.delays(r.records[r.records["rep"] == k], r.warmup_min)
        for col, metric in (("response_min", "response_time_min"), ("discovery_min", "discovery_delay_min")):
            v = d[col].to_numpy(float)
            assert np.nanmean(v[np.isfinite(v)]) == pytest.approx(rep[("county", metric, k)], rel=1e-9)
        b = R.backlog_by_day(r.records[r.records["rep"] == k], r.item_targets_min(), r.warmup_min, r.horizon_min)
        assert b["backlog"].iloc[-1] == rep[("county", "backlog_end", k)]


@pytest.mark.parametrize("lang", LANGS)
def test_backlog_over_time(runs, lang):
    frames = []
    for name in ("before", "after"):
        r = runs[name]
        frames.append(R.backlog_by_day(r.records, r.item_targets_min(), r.warmup_min, r.horizon_min).assign(plan=name))
    df = pd.concat(frames, ignore_index=True)
    assert set(df.columns) >= {"day", "backlog", "on_time_closure_rate"} and df["day"].max() == 20
    fig = C.backlog_over_time(df, lang, scenario="s1", seed=7)
    check_frame(fig, lang, "backlog.title")
    top, bottom = fig.axes
    assert top.get_ylabel() == L.t("backlog.y_backlog", lang)
    assert bottom.get_ylabel() == L.t("backlog.y_rate", lang)
    assert bottom.get_xlabel() == L.t("backlog.x", lang)
    assert len(top.get_lines()) == 2 and len(bottom.get_lines()) == 2
    assert top.get_lines()[0].get_linestyle() != top.get_lines()[1].get_linestyle()
    assert C.legend_entries(fig) == ["before", "after"]


@pytest.mark.parametrize("lang", LANGS)
def test_patrol_grid(runs, lang):
    r = runs["after"]
    villages = r.table("villages")
    rows = list(villages.loc[villages["town"] == "崇武镇", "village"])
    fig = C.patrol_grid(r.plan, "崇武镇", lang, villages=rows, town_en=r.town_en, scenario="s1", seed=7)
    check_frame(fig, lang, "patrol_grid.title", town="Chongwu" if lang == "en" else "崇武镇")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [L.t(d, lang) for d in C.WEEKDAYS]
    assert [t.get_text() for t in ax.get_yticklabels()] == rows
    cells = {}
    for t in ax.texts:
        if t.get_gid() == "cell":
            j, i = t.get_position()
            cells[(rows[int(i)], C.WEEKDAYS[int(j)])] = set(t.get_text().split(","))
    visits = r.plan[r.plan["town"] == "崇武镇"]
    expected = {k: set(map(str, g["team"])) for k, g in visits.groupby(["village", "day"])}
    assert cells == expected and len(cells) > 0


@pytest.mark.parametrize("lang", LANGS)
def test_town_map(runs, lang):
    r = runs["after"]
    fig = C.town_map(r.towns, r.summary, lang, scenario="s1", seed=7)
    check_frame(fig, lang, "map.title")
    ax = fig.axes[0]
    assert ax.get_xlabel() == L.t("map.x", lang) and ax.get_ylabel() == L.t("map.y", lang)
    names = [t.get_text() for t in ax.texts if t.get_gid() == "town-label"]
    assert len(names) == 12
    cov = r.summary[(r.summary["metric"] == "coverage") & (r.summary["scope"] == "螺城镇")]["mean"].iloc[0]
    first = "Luocheng" if lang == "en" else "螺城镇"
    assert f"{first}\n{cov * 100:.0f}%" in names
    assert fig.axes[1].get_ylabel() == L.t("map.colorbar", lang)  # the colour bar


# ---------------------------------------------------------------------------- charts from other tables


@pytest.mark.parametrize("lang", LANGS)
def test_coverage_vs_staff(lang):
    rows = []
    for town in ("螺城镇", "崇武镇", "紫山镇"):
        for posts in range(4, 31, 2):
            cov = 1 - np.exp(-posts / 12)
            rows.append((town, posts, cov, np.nan, np.nan, "approx"))
            if posts % 6 == 0:
                rows.append((town, posts, cov - 0.02, cov - 0.05, cov + 0.01, "simulated"))
    curves = pd.DataFrame(rows, columns=["town", "posts", "coverage", "ci_low", "ci_high", "kind"])
    chosen = pd.DataFrame({"town": ["螺城镇", "崇武镇", "紫山镇"], "posts": [24, 18, 10]})
    te = {"螺城镇": "Luocheng", "崇武镇": "Chongwu", "紫山镇": "Zishan"}
    fig = C.coverage_vs_staff(curves, chosen, lang, town_en=te, scenario="s1", seed=7)
    check_frame(fig, lang, "coverage_vs_staff.title")
    visible = [ax for ax in fig.axes if ax.get_visible() and ax.get_gid() != "legend"]
    assert [ax.get_title() for ax in visible] == [L.town_label(t, lang, te) for t in te]
    assert {ax.get_xlabel() for ax in visible} == {L.t("coverage_vs_staff.x", lang)}
    assert visible[0].get_ylabel() == L.t("coverage_vs_staff.y", lang)
    for ax in visible:
        gids = [ln.get_gid() for ln in ax.get_lines()]
        assert gids.count("curve-approx") == 1 and gids.count("curve-simulated") == 1 and gids.count("chosen") == 1
        styles = {ln.get_gid(): ln.get_linestyle() for ln in ax.get_lines()}
        assert styles["curve-approx"] != styles["curve-simulated"]
    assert C.legend_entries(fig) == [L.t("kind_approx", lang), L.t("kind_simulated", lang), L.t("ci95", lang), L.t("chosen", lang)]


@pytest.mark.parametrize("lang", LANGS)
def test_tradeoff(lang):
    posts = np.arange(200, 501, 25)
    cov = 1 - np.exp(-posts / 300)
    curve = pd.DataFrame({"total_posts": posts, "coverage": cov, "ci_low": cov - 0.01, "ci_high": cov + 0.01})
    fig = C.tradeoff(curve, lang, marked_posts=357, scenario="s1", seed=7)
    check_frame(fig, lang, "tradeoff.title")
    ax = fig.axes[0]
    assert ax.get_xlabel() == L.t("tradeoff.x", lang) and ax.get_ylabel() == L.t("tradeoff.y", lang)
    marked = [ln for ln in ax.get_lines() if ln.get_gid() == "marked"]
    assert len(marked) == 1 and marked[0].get_xdata()[0] == 357
    assert marked[0].get_ydata()[0] == pytest.approx(np.interp(357, posts, cov) * 100)
    assert C.legend_entries(fig) == [L.t("tradeoff.curve", lang), L.t("ci95", lang), L.t("tradeoff.marked", lang, posts="357")]


@pytest.mark.parametrize("lang", LANGS)
def test_certified_teams_over_time(lang):
    m = np.arange(0, 37)
    mean = 60 + 60 * (1 - np.exp(-m / 12))
    df = pd.DataFrame({"month": m, "mean": mean, "ci_low": mean - 4, "ci_high": mean + 4})
    fig = C.certified_teams_over_time(df, lang, scenario="s1", seed=7)
    check_frame(fig, lang, "certified.title")
    ax = fig.axes[0]
    assert ax.get_xlabel() == L.t("certified.x", lang) and ax.get_ylabel() == L.t("certified.y", lang)
    assert ax.get_xlim() == (0.0, 36.0)
    assert len(ax.get_lines()) == 1 and len(ax.collections) == 1  # the line and its band
    assert C.legend_entries(fig) == [L.t("certified.band", lang), L.t("mean", lang)]


@pytest.mark.parametrize("lang", LANGS)
def test_campaign_effect(lang):
    days = np.arange(0, 91)
    df = pd.concat([
        pd.DataFrame({"day": days, "group": "campaign villages", "value": 0.6 + 0.2 * ((days >= 30) & (days < 60))}),
        pd.DataFrame({"day": days, "group": "rest of town", "value": np.full(len(days), 0.6)}),
    ])
    fig = C.campaign_effect(df, lang, start_day=30, end_day=60, scenario="s1", seed=7)
    check_frame(fig, lang, "campaign.title")
    ax = fig.axes[0]
    assert ax.get_xlabel() == L.t("campaign.x", lang) and ax.get_ylabel() == L.t("campaign.y", lang)
    lines = ax.get_lines()
    assert len(lines) == 2 and lines[0].get_linestyle() != lines[1].get_linestyle()
    assert C.legend_entries(fig) == [L.t("campaign.span", lang), L.t("group_campaign_villages", lang), L.t("group_rest_of_town", lang)]
    span = [p for p in ax.patches if p.get_hatch()]
    assert len(span) == 1


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="missing column"):
        C.tradeoff(pd.DataFrame({"posts": [1]}), "en")
    with pytest.raises(ValueError, match="'response' or 'discovery'"):
        C.delay_cdf({}, "closure", "en")
    with pytest.raises(ValueError, match="lang"):
        C.tradeoff(pd.DataFrame({"total_posts": [1, 2], "coverage": [0.1, 0.2]}), "de")

"""Report pieces for the transition and campaign stories: the tables, the charts, and when the HTML report shows them.

* :func:`report.rundir.certified_by_month` and :func:`report.rundir.campaign_series`
  are checked against hand-counted tiny inputs;
* the chart functions take several series (certified teams) and measure panels
  (campaign) while their earlier inputs keep working, with real CJK glyphs;
* :func:`report.html.build_charts` adds the certified-teams chart to runs longer
  than a few months and the campaign chart to a campaign run against a baseline.
"""

from __future__ import annotations

import dataclasses
import io
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from enforcement_grid.report import charts as C
from enforcement_grid.report import html as H
from enforcement_grid.report import labels as L
from enforcement_grid.report import load_run
from enforcement_grid.report import rundir as R
from enforcement_grid.sim import load_scenario
from enforcement_grid.experiments import run
from enforcement_grid.experiments.output import write_run

ROOT = Path(__file__).resolve().parents[1]
NAN = float("nan")


def draw(fig) -> None:
    """Render to PNG with warnings as errors (a missing CJK glyph fails)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(io.BytesIO(), format="png", dpi=50)


# ---------------------------------------------------------------------------- certified teams by month


def test_certified_by_month_sums_brigades_then_averages_replications():
    rows = []
    teams = {(0, "X"): [1, 2, 3, 9], (0, "Y"): [1, 1, 1, 9], (1, "X"): [1, 2, 5, 9], (1, "Y"): [1, 1, 1, 9]}
    for (rep, unit), values in teams.items():
        for month, v in enumerate(values):
            rows.append((month, unit, 10 * v, v, 0, rep))
    tl = pd.DataFrame(rows, columns=["month", "unit", "certified", "teams", "past_deadline", "rep"])
    out = R.certified_by_month(tl, horizon_days=91.25)  # month 3 starts at day 91.25: the run's end
    assert list(out.columns) == ["month", "mean", "ci_low", "ci_high", "n"]
    assert list(out["month"]) == [0, 1, 2]
    assert list(out["mean"]) == [2.0, 3.0, 5.0]
    assert out["ci_low"].iloc[0] == out["ci_high"].iloc[0] == 2.0  # both replications agree
    half = stats.t.ppf(0.975, 1) * np.std([4, 6], ddof=1) / math.sqrt(2)
    assert out["ci_high"].iloc[2] - 5.0 == pytest.approx(half)
    assert (out["n"] == 2).all()
    officers = R.certified_by_month(tl, "certified")
    assert list(officers["month"]) == [0, 1, 2, 3] and officers["mean"].iloc[2] == 50.0
    with pytest.raises(ValueError, match="missing column"):
        R.certified_by_month(tl.drop(columns=["teams"]))


# ---------------------------------------------------------------------------- campaign tables


def test_campaign_villages_as_the_model_chooses_them():
    from enforcement_grid.sim.processes.campaign import campaign_villages

    sc = load_scenario(ROOT / "scenarios" / "huian-campaign.toml")
    c = sc.settings.campaigns[0]
    hot = [v.village for v in sc.villages if v.town in c.towns and v.hot_spot]
    every = [v.village for v in sc.villages if v.town in c.towns]
    assert campaign_villages(sc, c.model_copy(update={"villages": "hot_spots"})) == hot
    assert campaign_villages(sc, c.model_copy(update={"villages": "all"})) == every
    assert campaign_villages(sc, c.model_copy(update={"villages": every[1:2]})) == every[1:2]


def campaign_records() -> pd.DataFrame:
    cols = ["rep", "town", "village", "category", "channel", "occurred_min", "discovered_min", "reported_min", "on_site_min"]
    rows = [
        (0, "T", "A", "land", "grid", -100, 2000, 2010, 2100),   # old stock, found on day 2
        (0, "T", "A", "land", "", 500, NAN, NAN, NAN),          # never found
        (0, "T", "A", "other", "", 10, NAN, NAN, NAN),          # another category: not counted
        (0, "T", "B", "other", "grid", 50, 90, 100, 220),       # rest of town: response 2 h, reported day 1
        (0, "T", "B", "other", "grid", 1400, 1450, 1500, NAN),  # never reached: counted to the end (47 h)
        (0, "T", "B", "other", "patrol", 1500, 1600, 1600, 1600),  # acted on the spot by the patrol: no response
        (0, "U", "C", "other", "grid", 100, 150, 200, 800),     # another town: not counted
        (1, "T", "A", "land", "", 3000, NAN, NAN, NAN),         # replication 1: arises on day 3
    ]
    return pd.DataFrame(rows, columns=cols)


def test_campaign_series_counts_latent_and_response():
    rec = campaign_records()
    out = R.campaign_series(rec, ["A"], "land", ["T"], horizon_min=3 * 1440, smooth_days=1)
    latent = out[out["measure"] == "latent"].set_index("day")["value"]
    assert list(latent) == [1.0, 0.5, 1.0]  # rep 0: 2, 1, 1; rep 1: 0, 0, 1
    resp = out[out["measure"] == "response_h"].set_index("day")["value"]
    assert resp[1] == pytest.approx(2.0)
    assert resp[2] == pytest.approx((3 * 1440 - 1500) / 60)
    assert math.isnan(resp[3])
    smooth = R.campaign_series(rec, ["A"], "land", ["T"], horizon_min=3 * 1440, smooth_days=2)
    sresp = smooth[smooth["measure"] == "response_h"].set_index("day")["value"]
    assert sresp[2] == pytest.approx((120 + 2820) / 2 / 60)  # a weighted moving average, not a mean of means
    assert sresp[3] == pytest.approx(2820 / 60)


# ---------------------------------------------------------------------------- charts


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_certified_teams_one_line_per_series(lang):
    m = np.arange(0, 37)
    frames = []
    for rate in (0.7, 0.95):
        mean = 30 + 14 * (1 - np.exp(-rate * m / 6))
        frames.append(pd.DataFrame({"month": m, "mean": mean, "ci_low": mean - 1, "ci_high": mean + 1,
                                    "series": L.t("certified.pass_rate", lang, rate=rate)}))
    fig = C.certified_teams_over_time(pd.concat(frames), lang, scenario="s", seed=1, note="a\nb")
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert len(lines) == 2 and lines[0].get_linestyle() != lines[1].get_linestyle()
    assert len(ax.collections) == 2  # a band each
    assert C.legend_entries(fig) == [L.t("certified.band", lang), L.t("certified.pass_rate", lang, rate=0.7),
                                     L.t("certified.pass_rate", lang, rate=0.95)]
    footnote = [t.get_text() for t in fig.texts if t.get_gid() == "footnote"][0]
    assert footnote.splitlines()[1:] == ["a", "b"]  # a note of two lines takes two lines
    draw(fig)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_campaign_effect_with_measure_panels(lang):
    rec = campaign_records()
    frame = pd.concat([
        R.campaign_series(rec, ["A"], "land", ["T"], 3 * 1440).assign(group="without campaign"),
        R.campaign_series(rec.assign(discovered_min=rec["occurred_min"] + 1), ["A"], "land", ["T"], 3 * 1440)
        .assign(group="with campaign"),
    ])
    fig = C.campaign_effect(frame, lang, start_day=1, end_day=2, scenario="s", seed=1)
    top, bottom = fig.axes
    assert top.get_ylabel() == L.t("campaign.y.latent", lang)
    assert bottom.get_ylabel() == L.t("campaign.y.response_h", lang)
    assert bottom.get_xlabel() == L.t("campaign.x", lang)
    assert C.legend_entries(fig) == [L.t("campaign.span", lang), L.t("group_without_campaign", lang),
                                     L.t("group_with_campaign", lang)]
    assert all(len([p for p in ax.patches if p.get_hatch()]) == 1 for ax in (top, bottom))
    draw(fig)


def test_category_labels():
    assert L.category_label("rural land & housing", "zh").startswith("农村土地")
    assert L.category_label("rural land & housing", "en") == "rural land & housing"
    assert L.category_label("something new", "zh") == "something new"
    for texts in L.CATEGORIES.values():
        assert set(texts) == set(L.LANGS) and all(texts.values())


# ---------------------------------------------------------------------------- when the report shows them


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    short = ["scenario.horizon_days=20"]
    plain = load_scenario(ROOT / "scenarios" / "huian.toml", short)
    camp = load_scenario(ROOT / "scenarios" / "huian-campaign.toml", short)
    first = camp.settings.campaigns[0].model_copy(update={"start_day": 5.0})  # inside the short run
    camp = dataclasses.replace(camp, settings=camp.settings.model_copy(update={"campaigns": [first]}))
    late = load_scenario(ROOT / "scenarios" / "huian-campaign.toml", short)  # starts on day 60: after the end
    long = load_scenario(ROOT / "scenarios" / "huian-transition.toml", ["scenario.horizon_days=130"])
    out = {}
    for name, sc in (("plain", plain), ("campaign", camp), ("late", late)):
        out[name] = write_run(base / name, sc, run(sc, replications=2, workers=1))
    out["long"] = write_run(base / "long", long, run(long, replications=2, workers=1, keep_records=False))
    return out


def names(charts) -> list[str]:
    return [c.name for c in charts]


def test_report_shows_certified_teams_for_long_runs_only(folders):
    long = load_run(folders["long"])
    assert long.timeline is not None and long.records is None
    charts = H.build_charts(long, "en")
    assert "certified_teams" in names(charts)
    fig = next(c.figure for c in charts if c.name == "certified_teams")
    assert len(fig.axes[0].get_lines()) == 1
    assert max(fig.axes[0].get_lines()[0].get_xdata()) == 4  # months 0 … 4 of a 130-day run
    assert "certified_teams" not in names(H.build_charts(load_run(folders["plain"]), "en"))


def test_run_folder_keeps_the_campaign_villages_the_model_chose(folders):
    from enforcement_grid.sim.model import Model

    sc = load_scenario(ROOT / "scenarios" / "huian-campaign.toml", ["scenario.horizon_days=20"])
    chosen = Model(sc, 0).campaign_villages
    camp = load_run(folders["campaign"])
    assert chosen and all(camp.campaign_villages(name) == names for name, names in chosen.items())
    assert load_run(folders["plain"]).campaign_villages("anything") == []


def test_report_shows_the_campaign_against_a_baseline(folders):
    camp, plain = load_run(folders["campaign"]), load_run(folders["plain"])
    charts = H.build_charts(camp, "zh", baseline=plain)
    assert "campaign" in names(charts)
    fig = next(c.figure for c in charts if c.name == "campaign")
    assert len(fig.axes) == 2
    assert C.legend_entries(fig)[1:] == [L.t("group_without_campaign", "zh"), L.t("group_with_campaign", "zh")]
    draw(fig)
    assert "campaign" not in names(H.build_charts(camp, "en"))  # nothing to contrast with
    assert "campaign" not in names(H.build_charts(camp, "en", baseline=camp))  # both ran it
    assert "campaign" not in names(H.build_charts(load_run(folders["late"]), "en", baseline=plain))  # after the end


def test_written_report_embeds_the_campaign_chart(folders, tmp_path):
    files = H.write_report(folders["campaign"], tmp_path / "r", "en", baseline=folders["plain"], embed_font=False)
    page = files["html"].read_text(encoding="utf-8")
    assert 'id="chart-campaign"' in page
    assert (tmp_path / "r" / "charts" / "campaign.svg").is_file()

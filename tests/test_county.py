"""Any county's scenario (egrid new), a platform case export read and fitted (egrid calibrate),
checked on held-out months (egrid holdout), and the round trip model → export → fit.

Statistical checks use fixed seeds and 95 % intervals (exact Poisson for rates, Wilson for
shares, bootstrap percentiles for the discovery parameters, normal on the log for on-site
factors); horizons are a few months.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pandas as pd
import pytest

from enforcement_grid.cli.cli import main
from enforcement_grid.county.cases import load_cases, load_mapping
from enforcement_grid.county.export import cases_of_run, export_frame, write_export
from enforcement_grid.county.fit import channel_counts, expected_rates, fit_all, wilson
from enforcement_grid.county.villages import derive
from enforcement_grid.sim import load_scenario
from enforcement_grid.experiments import run

ROOT = Path(__file__).resolve().parents[1]
HUIAN = ROOT / "scenarios" / "huian.toml"
MAPPING = ROOT / "scenarios" / "huian" / "cases-mapping.csv"
SYNTHETIC = ROOT / "scenarios" / "huian" / "cases-synthetic.csv"
SHORT = ["scenario.horizon_days=134", "scenario.warmup_days=14", "stock.violations=0"]
REF_SHORT = ["scenario.horizon_days=60", "scenario.warmup_days=14"]  # a quick reference run for CLI tests


@pytest.fixture(scope="module")
def huian():
    sc = load_scenario(HUIAN, SHORT)
    return sc, load_mapping(MAPPING, sc)


# --------------------------------------------------------------------------- egrid new


def test_derived_villages_are_huians_table_byte_for_byte():
    towns = pd.read_csv(ROOT / "scenarios" / "huian" / "towns.csv")
    text = derive(towns).to_csv(index=False)
    assert text == (ROOT / "scenarios" / "huian" / "villages.csv").read_text(encoding="utf-8")


def test_new_writes_a_scenario_that_runs(tmp_path, capsys):
    towns = tmp_path / "towns.csv"
    towns.write_text("镇街,人口,面积,村,社区,location\n甲镇,52000,40.5,12,3,\"24.90,118.60\"\n"
                     "乙镇,31000,66.0,18,0,\"24.95,118.55\"\n丙乡,12000,80.2,9,0,\"24.85,118.50\"\n",
                     encoding="gbk")
    out = tmp_path / "county"
    assert main(["new", str(out), "--county", "测试县", "--towns", str(towns), "--name", "test-county"]) == 0
    printed = capsys.readouterr().out
    assert "Still to supply" in printed and "staffing.csv" in printed and "villages.csv" in printed
    text = (out / "scenario.toml").read_text(encoding="utf-8")
    assert "estimate: copied from Hui'an — replace" in text
    items = list(csv.DictReader(io.StringIO((out / "items.csv").read_text(encoding="utf-8"))))
    assert all(r["source"].startswith("estimate: copied from Hui'an — replace") for r in items)
    sc = load_scenario(out / "scenario.toml")
    assert [t.town for t in sc.towns] == ["甲镇", "乙镇", "丙乡"]
    assert len(sc.villages) == 15 + 18 + 9
    assert main(["run", str(out / "scenario.toml"), "--days", "30", "-n", "1", "--workers", "1",
                 "--out", str(tmp_path / "run")]) == 0


def test_new_takes_village_names(tmp_path):
    towns = tmp_path / "towns.csv"
    towns.write_text("town,population,area_km2,villages,lat,lon\n甲镇,20000,30,2,24.9,118.6\n", encoding="utf-8")
    names = tmp_path / "villages.csv"
    names.write_text("village,town,kind\n东村,甲镇,村\n西村,甲镇,村\n城关社区,甲镇,社区\n", encoding="utf-8")
    out = tmp_path / "c"
    assert main(["new", str(out), "--county", "x", "--towns", str(towns), "--villages", str(names)]) == 0
    sc = load_scenario(out / "scenario.toml")
    assert sorted(v.village for v in sc.villages) == sorted(["东村", "西村", "城关社区"])
    assert sc.towns[0].communities == 1


def test_new_bad_towns_table(tmp_path, capsys):
    towns = tmp_path / "towns.csv"
    towns.write_text("town,population,area_km2,lat,lon\n甲镇,20000,30,24.9,118.6\n", encoding="utf-8")
    assert main(["new", str(tmp_path / "c"), "--county", "x", "--towns", str(towns)]) == 2
    err = capsys.readouterr().err
    assert str(towns) in err and "villages" in err
    assert not (tmp_path / "c").exists()


# --------------------------------------------------------------------------- reading exports


def _small_export(huian) -> pd.DataFrame:
    sc, mapping = huian
    runset = run(load_scenario(HUIAN, ["scenario.horizon_days=20", "scenario.warmup_days=6"]), [3], keep_records=True)
    return export_frame(runset.records, sc, mapping, pd.Timestamp("2024-01-01"), (6 * 1440.0, 20 * 1440.0))


@pytest.fixture(scope="module")
def small(huian):
    return _small_export(huian)


@pytest.mark.parametrize("kind", ["utf-8", "utf-8-sig", "gbk", "xlsx"])
def test_reads_every_encoding_and_excel(tmp_path, huian, small, kind):
    sc, mapping = huian
    if kind == "xlsx":
        path = tmp_path / "cases.xlsx"
        small.to_excel(path, index=False)
    else:
        path = tmp_path / "cases.csv"
        path.write_bytes(small.to_csv(index=False).encode(kind))
    cases = load_cases(path, sc, mapping)
    assert len(cases.frame) == len(small)
    assert cases.frame["case_id"].tolist() == small["案件编号"].tolist()
    assert (cases.frame["klass"] != "").all()
    assert set(cases.frame["channel"]) <= {"grid", "patrol", "complaint", "inspection"}


def test_column_aliases_and_unmapped_categories_listed(tmp_path, huian, small):
    sc, mapping = huian
    df = small.rename(columns={"案件编号": "编号", "上报时间": "发现时间", "所属镇街": "镇街", "案件来源": "来源"})
    df.loc[:4, "案件大类"] = "视频巡查类"
    df.loc[5, "来源"] = "视频监控"
    path = tmp_path / "cases.csv"
    df.to_csv(path, index=False)
    cases = load_cases(path, sc, mapping)
    assert len(cases.frame) == len(df)  # nothing dropped
    assert int(cases.unmapped["cases"].sum()) == 5 and cases.unmapped["category"].iloc[0] == "视频巡查类"
    assert cases.other_sources["source"].tolist() == ["视频监控"]


@pytest.mark.parametrize("change, row_col", [
    (lambda df: df.drop(columns=["所属镇街"]), ("header", "所属镇街")),
    (lambda df: df.assign(**{"上报时间": df["上报时间"].where(df.index != 3, "昨天下午")}), ("row 5", "上报时间")),
    (lambda df: df.assign(**{"所属镇街": df["所属镇街"].where(df.index != 0, "不存在镇")}), ("row 2", "所属镇街")),
    (lambda df: df.assign(**{"上报时间": df["上报时间"].where(df.index != 1, "2019-05-01 10:00:00")}),
     ("row 3", "outside the period")),
])
def test_bad_export_names_file_row_and_column_and_writes_nothing(tmp_path, capsys, small, change, row_col):
    path = tmp_path / "cases.csv"
    change(small.copy()).to_csv(path, index=False)
    out = tmp_path / "fit"
    period = ["--period", "2024-01-07:2024-01-20"]
    rc = main(["calibrate", str(path), "--scenario", str(HUIAN), "--out", str(out), *period,
               *[a for o in REF_SHORT for a in ("--set", o)]])
    assert rc == 2
    err = capsys.readouterr().err
    assert str(path) in err and all(x in err for x in row_col)
    assert "Traceback" not in err
    assert not out.exists()


# --------------------------------------------------------------------------- round trip


def test_round_trip_recovers_generating_rates_shares_and_discovery(huian):
    """Generate with changed rates and discovery, export, fit against the unchanged scenario."""
    sc, mapping = huian
    gen = load_scenario(HUIAN, SHORT + ["classes.street.grid_notice_per_day=0.75",
                                        "classes.building.complaint_per_day=0.2", "rate_factors.street.螺城镇=1.5"])
    start = pd.Timestamp("2024-01-01")
    cases = cases_of_run(run(gen, [0], keep_records=True).records, sc, mapping, start)
    fit = fit_all(cases, sc, mapping, replications=2)

    # rates (exact Poisson 95 %): street and building, the classes found within days. Hidden hazards
    # take months to find, so a four-month run started empty under-counts them (see fit's docstring).
    r = fit.rates.merge(expected_rates(gen).rename(columns={"per_year": "generating"}), on=["klass", "town"])
    r = r[r["klass"].isin(["street", "building"])]
    county = r.groupby("klass")[["cases", "generating"]].sum()
    years = cases.days / 365.0
    from enforcement_grid.county.fit import poisson_interval

    lo, hi = poisson_interval(county["cases"].to_numpy(), years)
    assert ((lo <= county["generating"]) & (county["generating"] <= hi)).all(), county
    covered = ((r["ci_low"] <= r["generating"]) & (r["generating"] <= r["ci_high"])).sum()
    assert covered >= 20, r  # of 24 town × class intervals; P(5+ misses at 95 %) ≈ 0.003
    luo = r[(r["klass"] == "street") & (r["town"] == "螺城镇")].iloc[0]
    assert luo["factor_low"] <= 1.5 <= luo["factor_high"]

    # discovery parameters: the generating values inside the bootstrap intervals
    d = fit.discovery.set_index(["klass", "parameter"])
    want = {("street", "grid_notice_per_day"): 0.75, ("street", "complaint_per_day"): 0.10,
            ("building", "grid_notice_per_day"): 0.15, ("building", "complaint_per_day"): 0.20}
    for key, value in want.items():
        assert d.loc[key, "ci_low"] <= value <= d.loc[key, "ci_high"], (key, d.loc[key].to_dict())

    # channel shares: the export's within the 95 % prediction interval of the generating model's
    # replications (cases of one patrol visit are not independent, so binomial intervals are too narrow)
    from scipy import stats

    reps = [channel_counts(cases_of_run(run(gen, [k], keep_records=True).records, sc, mapping, start))
            for k in (1, 2, 3, 4)]
    data = channel_counts(cases)
    t = stats.t.ppf(0.975, len(reps) - 1)
    for klass in ("street", "building"):
        shares = pd.DataFrame([m.loc[klass] / m.loc[klass].sum() for m in reps])
        half = t * shares.std(ddof=1) * (1 + 1 / len(reps)) ** 0.5
        p = data.loc[klass] / data.loc[klass].sum()
        assert ((p - shares.mean()).abs() <= half + 1e-9).all(), (klass, p.to_dict(), shares.mean().to_dict())

    # on-site times unchanged: factor 1 inside each interval, at a 99 % family level over the classes
    # (Bonferroni; the fit's own intervals are 95 % each, normal on the log)
    from scipy.stats import norm

    fitted = fit.on_site[fit.on_site["fitted"]]
    z = norm.ppf(1 - 0.01 / (2 * len(fitted)))
    for row in fitted.itertuples():
        se = math.log(row.factor_high / row.factor) / norm.ppf(0.975)
        assert abs(math.log(row.factor)) <= z * se, row


# --------------------------------------------------------------------------- the commands


def test_calibrate_the_shipped_synthetic_export(tmp_path, capsys):
    first = SYNTHETIC.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# SYNTHETIC DATA")
    out = tmp_path / "fit"
    rc = main(["calibrate", str(SYNTHETIC), "--scenario", str(HUIAN), "--out", str(out),
               "--reference-replications", "1", *[a for o in REF_SHORT for a in ("--set", o)]])
    assert rc == 0, capsys.readouterr().err
    text = (out / "scenario.toml").read_text(encoding="utf-8")
    assert "extends = " in text and "fitted from" in text and "[rate_factors.street]" in text
    assert (out / "fit-report.md").exists() and (out / "charts" / "rates.png").exists()
    fitted = load_scenario(out / "scenario.toml", ["scenario.horizon_days=20", "scenario.warmup_days=2"])
    assert fitted.settings.rate_factors["street"]
    assert fitted.settings.classes["street"].profile == "fitted_street"
    assert main(["run", str(out / "scenario.toml"), "--days", "20", "-n", "1", "--workers", "1",
                 "--set", "scenario.warmup_days=2", "--out", str(tmp_path / "run")]) == 0


def test_holdout_months_report_says_where_the_model_misses(tmp_path, capsys):
    out = tmp_path / "holdout"
    rc = main(["holdout", str(SYNTHETIC), "--scenario", str(HUIAN), "--out", str(out), "--holdout-months", "1",
               "--replications", "3", *[a for o in REF_SHORT for a in ("--set", o)]])
    assert rc == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "prediction interval" in printed
    monthly = pd.read_csv(out / "monthly.csv")
    assert set(monthly["month"]) == {"2023-04"} and len(monthly) == 12
    report = (out / "holdout-report.md").read_text(encoding="utf-8")
    assert "misses" in report and (out / "charts" / "monthly.png").exists()
    assert (out / "fitted" / "scenario.toml").exists()

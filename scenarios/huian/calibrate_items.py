"""Check the item rates in items.csv against the calibration targets.

Run:  /work/venv/bin/python calibrate_items.py

Expected new violations per year of item i in town t:

    annual_rate_i x driver_t / unit  x  (urban_weight_t if urban_weighted_i == 'yes' else 1)

with driver_t = population / 10,000 (per_10k_residents), businesses / 1,000
(per_1k_businesses) or area_km2 (per_km2), all from towns.csv. The script prints the
county totals per class and per item, the shares the brief asks for, each town's street
total next to the huian-inputs.md §3 suggested per-town split, and exits with status 1 if a
target is missed by more than the tolerance.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
TOLERANCE = 0.05

# (what, target, source)
TARGETS = {
    "street": (15_000, "huian-inputs.md §3 suggested Hui'an default (EST)"),
    "building": (470, "grid-patrol-inspection.md §5, ~6 per 10k residents (EST)"),
    "hidden": (2_500, "estimate: ~3 per 100 businesses per year"),
}
SHARE_RANGES = {
    "non-delegated share of all cases": (0.05, 0.08),
    "non-delegated share of building cases": (0.12, 0.18),
}
# huian-inputs.md §3: suggested digital-case split per town (EST), for comparison only
SUGGESTED_TOWN_CASES = {
    "螺城镇": 2770, "螺阳镇": 2370, "崇武镇": 2000, "东桥镇": 1210, "东岭镇": 1080, "涂寨镇": 1010,
    "黄塘镇": 990, "山霞镇": 870, "净峰镇": 830, "辋川镇": 750, "小岞镇": 580, "紫山镇": 550,
}
# huian-inputs.md §3 category mix (EST) of the street class, 违法建设 (5 %) taken out as the
# building class and the rest renormalised: 40/20/15/7 and 部件/公共设施 + other = 18 %.
# Which street item stands for which digital-city-management category is our mapping (estimate).
STREET_MIX = {
    "市容环境": (0.40, ["ES-01", "UM-05", "UM-02", "ES-05", "ES-04", "ES-02", "UM-07"]),
    "街面秩序/占道": (0.20, ["UM-01", "EF-01", "UM-11", "AF-01"]),
    "宣传广告": (0.15, ["UM-03", "UM-04"]),
    "施工/渣土": (0.07, ["ES-03", "UM-10"]),
    "部件/公共设施+other": (0.18, ["UM-06", "UM-08", "WA-01", "EF-06", "EF-02", "WA-02", "AF-03", "CT-01", "AF-02"]),
}
DRIVER_COLUMN = {"population": ("population", 1e4), "businesses": ("businesses", 1e3), "area": ("area_km2", 1.0)}
UNIT_OF = {"population": "per_10k_residents", "businesses": "per_1k_businesses", "area": "per_km2"}


def main() -> int:
    towns = pd.read_csv(HERE / "towns.csv")
    items = pd.read_csv(HERE / "items.csv")
    items = items.rename(columns={"class": "item_class"})
    long = []
    for item in items.itertuples(index=False):
        if UNIT_OF[item.driver] != item.rate_unit:
            raise ValueError(f"items.csv {item.code}: driver {item.driver} needs rate_unit {UNIT_OF[item.driver]}")
        column, unit = DRIVER_COLUMN[item.driver]
        weight = towns.urban_weight if item.urban_weighted == "yes" else 1.0
        per_town = item.annual_rate * towns[column] / unit * weight
        long.append(pd.DataFrame({"town": towns.town, "code": item.code, "item_class": item.item_class,
                                  "delegated": item.delegated, "expected_per_year": per_town}))
    long = pd.concat(long, ignore_index=True)
    total = long.expected_per_year.sum()
    ok = True

    print("Per-class expected new violations per year (county, 12 towns)")
    by_class = long.groupby("item_class").expected_per_year.sum()
    for cls, (target, src) in TARGETS.items():
        got = by_class.get(cls, 0.0)
        dev = got / target - 1
        flag = "OK" if abs(dev) <= TOLERANCE else "OFF"
        ok &= flag == "OK"
        print(f"  {cls:9s} {got:9,.0f}   target {target:7,} ({dev:+.1%}) {flag}  [{src}]")
    print(f"  {'all':9s} {total:9,.0f}")

    print("\nStreet category mix (huian-inputs.md §3, renormalised without 违法建设)")
    street_codes = set(long.loc[long.item_class == "street", "code"])
    mapped = {c for _, codes in STREET_MIX.values() for c in codes}
    if mapped != street_codes:
        print(f"  mapping mismatch: unmapped {sorted(street_codes - mapped)}, not street {sorted(mapped - street_codes)}")
        ok = False
    street_total = by_class.get("street", 0.0)
    for name, (share, codes) in STREET_MIX.items():
        got = long[long.code.isin(codes)].expected_per_year.sum() / street_total
        flag = "OK" if abs(got - share) <= 0.01 else "OFF"
        ok &= flag == "OK"
        print(f"  {name:22s} {got:6.1%}  (wanted {share:.0%}) {flag}")

    nondel = long[long.delegated == "no"]
    building = long[long.item_class == "building"]
    shares = {
        "non-delegated share of all cases": nondel.expected_per_year.sum() / total,
        "non-delegated share of building cases":
            building[building.delegated == "no"].expected_per_year.sum() / building.expected_per_year.sum(),
    }
    print("\nShares")
    for name, value in shares.items():
        lo, hi = SHARE_RANGES[name]
        flag = "OK" if lo <= value <= hi else "OFF"
        ok &= flag == "OK"
        print(f"  {name:40s} {value:6.1%}  (wanted {lo:.0%}-{hi:.0%}) {flag}")
    by_class_nd = nondel.groupby("item_class").expected_per_year.sum()
    print("  non-delegated by class: " + ", ".join(f"{k} {v:,.0f}" for k, v in by_class_nd.items()))

    by_item = (long.groupby(["code", "item_class", "delegated"]).expected_per_year.sum()
               .reset_index().sort_values("expected_per_year", ascending=False))
    by_item["share"] = by_item.expected_per_year / total
    by_item["cum_share"] = by_item.share.cumsum()
    top5 = by_item.head(5)
    top5_street = by_item[by_item.item_class == "street"].head(5).expected_per_year.sum() / street_total
    print(f"\nSkew: top 3 items {by_item.head(3).share.sum():.1%}, top 5 items {top5.share.sum():.1%} of all cases "
          f"({', '.join(top5.code)}); top 5 street items {top5_street:.1%} of street cases")

    print("\nPer item (county expected per year)")
    print(f"  {'code':6s} {'class':8s} {'del':3s} {'per_year':>9s} {'share':>6s} {'cum':>6s}")
    for r in by_item.itertuples(index=False):
        print(f"  {r.code:6s} {r.item_class:8s} {r.delegated:3s} {r.expected_per_year:9,.1f} "
              f"{r.share:6.1%} {r.cum_share:6.1%}")

    print("\nPer town: street cases vs huian-inputs.md §3 suggested split; all classes")
    pt = long.pivot_table(index="town", columns="item_class", values="expected_per_year", aggfunc="sum")
    pt = pt.reindex(towns.town)
    for town, r in pt.iterrows():
        sug = SUGGESTED_TOWN_CASES.get(town)
        print(f"  {town} street {r.street:7,.0f} (suggested {sug:5,}) building {r.building:5,.0f} "
              f"hidden {r.hidden:6,.0f} total {r.sum():7,.0f}")

    print("\nCALIBRATION " + ("OK" if ok else "OFF TARGET"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Phased delegation: hand the towns the first platform categories, then every delegated item.

The story (docs/domain.md F2, F8, F15): the reform delegates a list of 35 "territorial
management" items to the towns (F2); the county platform starts with illegal land
use and building (两违), environmental sanitation and emergency safety (F8).  A
county can move in steps: first those categories (plus the city-appearance items
that came down with the 140 urban-management staff), later the rest.  Whatever a
town does not own it transfers to a county department (移送, F15), with a delay.

What it runs, on the same violations (same seed): scenarios/huian-before.toml
(no delegation), scenarios/huian-phase1.toml (first categories only) and
scenarios/huian.toml (all delegated items).

What to look at: the share of reports transferred to county departments and
coverage by class after each step — hidden hazards (market, food, health
items) are the ones phase 1 leaves with the departments.  Two reports: the first
step against before (report-phase1-zh/, -en/) and the second step against the
first (report-zh/, report-en/).

    python scenarios/phased_delegation.py                  # 365 days, 10 replications
    python scenarios/phased_delegation.py --days 90 -n 4 --lang zh
"""

from __future__ import annotations

import sys

import story
from enforcement_grid.report import compare_runs

METRICS = ["coverage", "coverage_street", "coverage_building", "coverage_hidden",
           "transfer_share", "response_time_min", "closure_time_min", "department_utilisation"]


def main(args) -> int:
    steps = [("before", "huian-before.toml"), ("phase1", "huian-phase1.toml"), ("all_items", "huian.toml")]
    print("Phased delegation (same violations in every run):")
    dirs = {}
    scs = {}
    for folder, file in steps:
        scs[folder] = story.load(file, args)
        _, dirs[folder] = story.simulate(scs[folder], args, folder)
    html = story.reports(dirs["phase1"], args, baseline=dirs["before"], name="report-phase1")
    html += story.reports(dirs["all_items"], args, baseline=dirs["phase1"])
    first = compare_runs(dirs["before"], dirs["phase1"])
    second = compare_runs(dirs["phase1"], dirs["all_items"])
    first.to_csv(args.out / "comparison-phase1.csv", index=False)
    second.to_csv(args.out / "comparison-all-items.csv", index=False)

    story.header("before → first categories → all delegated items", scs["all_items"], args)
    story.print_differences(first, METRICS, title="step 1: huian-phase1 against huian-before")
    story.print_differences(second, METRICS, title="step 2: huian (all items) against huian-phase1")
    print("\nIn plain words:")
    t0 = story.row(first, "transfer_share")
    t2 = story.row(second, "transfer_share")
    if t0 is not None and t2 is not None:
        print(f"  - Reports transferred to county departments: {t0['mean_a']:.1%} before, {t0['mean_b']:.1%} after "
              f"step 1, {t2['mean_b']:.1%} with every item delegated.")
    story.say(story.row(first, "coverage"), "Step 1: county coverage")
    story.say(story.row(second, "coverage"), "Step 2: county coverage")
    story.say(story.row(second, "coverage_hidden"), "Step 2: coverage of hidden hazards (items phase 1 left with departments)")
    story.say(story.row(second, "response_time_min"), "Step 2: report → team on site")
    story.footer(html, [args.out / "comparison-phase1.csv", args.out / "comparison-all-items.csv"])
    return 0


if __name__ == "__main__":
    sys.exit(story.main(main, story.parser("phased_delegation", __doc__)))

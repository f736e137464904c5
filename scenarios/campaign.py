"""A campaign: pull teams together for three weeks on illegal building in two towns — what does it find, and what does it cost?

The story (docs/domain.md F11, F12): towns are "managed by grid in normal times,
concentrated for campaigns" (分格管理、集中攻坚): for a special operation the town
centre pools teams onto one kind of violation.  Meanwhile every village is
patrolled at least weekly (F12) and grid workers report in real time (F7, F8).

What it runs, on the same violations (same seed): scenarios/huian.toml and
scenarios/huian-campaign.toml — the same county with one 两违 campaign in 东岭镇 and
东桥镇 (two day-shift teams of each town sweep their hot-spot villages for 20 days
from day 60, finding a latent illegal build with probability 0.95 a visit).

What to look at: the campaign-effect chart (in the report, report-zh/ and
report-en/): top, illegal building that has arisen but is still unseen in the
campaign villages, day by day, with and without the campaign; bottom, the
response time in the other villages of the two towns, which lose those teams
for the campaign.  The summary prints how much there was to find when the
campaign started, how much it found, and what the rest of the towns paid.
--start-day moves the campaign (e.g. --start-day 0: right after the reform,
while old unfound buildings are still standing).

    python scenarios/campaign.py                           # 365 days, 10 replications
    python scenarios/campaign.py --start-day 0 --days 120
"""

from __future__ import annotations

import dataclasses
import sys

import story
from enforcement_grid.report import compare_runs, load_run
from enforcement_grid.report.rundir import campaign_series

METRICS = ["coverage", "coverage_building", "latent_end", "response_time_min", "campaign_share"]


def with_start_day(sc, start_day: float):
    """The scenario with its (first) campaign moved to ``start_day``."""
    first, *rest = sc.settings.campaigns
    moved = first.model_copy(update={"start_day": float(start_day)})
    return dataclasses.replace(sc, settings=sc.settings.model_copy(update={"campaigns": [moved, *rest]}))


def main(args) -> int:
    plain = story.load("huian.toml", args)
    campaign = story.load("huian-campaign.toml", args)
    if args.start_day is not None:
        campaign = with_start_day(campaign, args.start_day)
    c = campaign.settings.campaigns[0]
    horizon = campaign.settings.scenario.horizon_days
    print(f"A campaign against the same county without it (same violations in both runs): "
          f"'{c.name}' in {', '.join(c.towns)}, days {c.start_day:g}–{c.start_day + c.days:g}:")
    _, plain_dir = story.simulate(plain, args, "without_campaign", keep_records=True)
    _, camp_dir = story.simulate(campaign, args, "with_campaign", keep_records=True)
    html = story.reports(camp_dir, args, baseline=plain_dir)
    table = compare_runs(plain_dir, camp_dir)
    table.to_csv(args.out / "comparison.csv", index=False)

    base, camp = load_run(plain_dir), load_run(camp_dir)
    villages = camp.campaign_villages(c.name)
    span = max(1, int(round(c.days)))
    kw = dict(villages=villages, category=c.category, towns=c.towns, horizon_min=camp.horizon_min)
    without = campaign_series(base.records, **kw, smooth_days=span)
    withc = campaign_series(camp.records, **kw, smooth_days=span)
    start, end = int(c.start_day), int(min(c.start_day + c.days, horizon))

    def at(df, measure, day):
        v = df[(df["measure"] == measure) & (df["day"] == day)]["value"]
        return float(v.iloc[0]) if len(v) else float("nan")

    reps = len(camp.reps)
    finds = int((camp.records["channel"] == "campaign").sum())
    story.header(f"a campaign against none (huian → huian-campaign), {c.category} in {len(villages)} "
                 f"villages of {', '.join(c.towns)}", campaign, args)
    story.print_differences(table, METRICS)
    for town in c.towns:
        story.print_differences(table, ["coverage", "response_time_min"], scope=town, title=f"in {town}")
    print("\nIn plain words:")
    if start >= horizon:
        print(f"  - The run ends on day {horizon:g}, before the campaign starts on day {c.start_day:g}: "
              "nothing to see yet — run longer or move it with --start-day.")
    else:
        latent_start = at(without, "latent", max(start, 1))
        after = lambda df: df[(df["measure"] == "latent") & (df["day"] > start)]["value"].sum()  # noqa: E731
        avoided = after(without) - after(withc)
        print(f"  - When the campaign starts (day {start}), {latent_start:.1f} violations of its category are unseen "
              f"in its {len(villages)} villages (mean over {reps} replications).")
        print(f"  - The campaign finds {finds / reps:.1f} per replication.  Without it, patrols, grid workers and "
              f"complaints find them later: unseen violation-days in those villages from day {start} on, "
              f"{after(withc):.1f} with the campaign, {after(without):.1f} without ({avoided:+.1f} avoided).")
        r_without, r_with = at(without, "response_h", end), at(withc, "response_h", end)
        print(f"  - Response time in the other villages of its towns over the campaign days: {r_with:.1f} h with it, "
              f"{r_without:.1f} h without (its teams are away from routine work).")
        if latent_start < len(villages):
            print(f"  - On these inputs the campaign finds little: fewer than one unseen violation of its category per "
                  f"campaign village when it starts, because weekly patrols (hot spots twice a week) and the merged "
                  f"grid already keep latent {c.category} low — pulling {c.teams_per_town} teams a town for "
                  f"{c.days:g} days buys little and costs routine work elsewhere.")
        else:
            print("  - There is a backlog for the sweep to clear: compare the two lines of the campaign chart over the "
                  "shaded days, and the cost to the rest of the towns below them.")
    story.footer(html, [args.out / "comparison.csv"])
    return 0


def parser():
    p = story.parser("campaign", __doc__)
    p.add_argument("--start-day", type=story.nonnegative_float, default=None,
                   help="the day the campaign starts (default: the scenario's, day 60)")
    return p


if __name__ == "__main__":
    sys.exit(story.main(main, parser()))

"""An optimised allocation of the 357 posts against one shared out by population: what does the optimiser buy?

The story (docs/domain.md F1, F3, F12): 357 posts (140 / 120 / 60 / 37 by source) move
down to 12 town brigades.  The obvious split follows population; but towns differ
in area, villages, hot spots, businesses and the kinds of violation they see, and
officers' time goes to seeing (weekly patrols of every village, inspections) as
much as to acting.  The optimiser (optimize/) chooses the posts of each source
and the certified officers per brigade, with each village's patrol frequency,
checks the plan by simulation and corrects its approximation until the plan
repeats (the simulation–optimisation loop).

What it runs: the loop on scenarios/huian.toml (or --scenario), then writes both
plans as scenarios (plans/optimised/ and plans/proportional/ under --out:
allocation.csv, staffing.csv, patrol.csv and a scenario.toml that
`egrid run` accepts) and simulates them on the same violations.

What to look at: class-weighted county coverage of the two plans and their
paired difference, split like with like into the allocation (the optimised posts
with the proportional plan's default patrol rule, plans/optimised-posts-default-rule/) and
the patrol frequency (the same posts with the optimiser's visits), levers.csv; coverage town by town in the report (report-zh/, report-en/,
the optimised plan against the proportional one) with the posts by source of
the optimised plan.  On the default inputs 357 posts are more than the listed
work needs (`egrid budget`), so the gain comes from how often villages are
patrolled; scenarios/huian-stress.toml is a county where the sharing matters more.

    python scenarios/optimised_vs_proportional.py                      # 365 days, 10 replications
    python scenarios/optimised_vs_proportional.py --scenario huian-stress.toml --objective equity
"""

from __future__ import annotations

import sys

import pandas as pd

import story
from enforcement_grid.optimize.export import proportional_allocation, staffing_table, visits_by_village, with_plan, write_plan_folder
from enforcement_grid.optimize.loop import sim_opt_loop
from enforcement_grid.report import compare_runs

METRICS = ["coverage_weighted", "coverage", "coverage_street", "coverage_building", "coverage_hidden",
           "discovery_delay_min", "response_time_min", "utilisation"]


def loop_overrides(sc, args) -> list[str]:
    """Shorter simulated checks inside the loop when the story itself is shortened (--days, --replications)."""
    o, s = sc.settings.optimize, sc.settings.scenario
    out = []
    if args.days is not None:
        out.append(f"optimize.loop_days={min(o.loop_days, args.days - s.warmup_days)}")
    if args.replications is not None:
        out.append(f"optimize.loop_replications={min(o.loop_replications, max(2, args.replications))}")
    return out


def plan_folder(sc, name: str, table: pd.DataFrame, visits: dict[str, int] | None, args, note: str):
    """Write a plan as a scenario of its own (staffing, patrol plan, scenario.toml); returns the folder."""
    planned = with_plan(sc, table, visits, note=note)
    patrol = pd.DataFrame([v.model_dump() for v in planned.patrol_plan])
    tables = {"allocation.csv": table[["town", "source", "posts", "certified"]],
              "staffing.csv": staffing_table(table, note), "patrol.csv": patrol}
    return write_plan_folder(args.out / "plans" / name, sc, tables, force=True)


def main(args) -> int:
    first = story.load(args.scenario, args)
    sc = story.load(args.scenario, args, loop_overrides(first, args))
    o = sc.settings.optimize
    print(f"Optimised against population-proportional allocation ({sc.name}, objective {args.objective}):")
    print(f"  simulation–optimisation loop: checks of {o.loop_replications} replication(s) × {o.loop_days:g} days …",
          flush=True)
    loop = sim_opt_loop(sc, args.objective, workers=args.workers)
    optimised = loop.final.table
    proportional = loop.baseline_table if loop.baseline_table is not None else proportional_allocation(sc)
    opt_dir = plan_folder(sc, "optimised", optimised, visits_by_village(sc, loop.final.visits), args,
                          f"optimised allocation ({args.objective}), scenarios/optimised_vs_proportional.py")
    prop_dir = plan_folder(sc, "proportional", proportional, None, args,
                           "population-proportional allocation, scenarios/optimised_vs_proportional.py")
    # like with like: the optimised posts with the proportional plan's patrol rule, so the allocation is not
    # credited with what the optimiser's patrol frequencies do
    rule_dir = plan_folder(sc, "optimised-posts-default-rule", optimised, None, args,
                           "optimised allocation with the default patrol rule, scenarios/optimised_vs_proportional.py")

    dirs = {}
    for name, folder in (("proportional", prop_dir), ("optimised-posts-default-rule", rule_dir),
                         ("optimised", opt_dir)):
        plan = story.load(folder / "scenario.toml", args, [f"scenario.name={sc.name}-{name}"])
        _, dirs[name] = story.simulate(plan, args, name)
    html = story.reports(dirs["optimised"], args, baseline=dirs["proportional"])
    table = compare_runs(dirs["proportional"], dirs["optimised"])
    table.to_csv(args.out / "comparison.csv", index=False)
    alloc_only = compare_runs(dirs["proportional"], dirs["optimised-posts-default-rule"])
    patrol_only = compare_runs(dirs["optimised-posts-default-rule"], dirs["optimised"])
    pd.concat([alloc_only.assign(lever="allocation"), patrol_only.assign(lever="patrol frequency")]).to_csv(
        args.out / "levers.csv", index=False)

    story.header(f"optimised ({args.objective}) against population-proportional allocation", sc, args,
                 extra=f"; loop: {loop.iterations} solve(s), {'converged' if loop.converged else 'stopped at its limit'}")
    story.print_differences(table, METRICS)
    posts = (optimised.groupby("town")["posts"].sum().rename("optimised").to_frame()
             .join(proportional.groupby("town")["posts"].sum().rename("proportional")))
    posts["moved"] = posts["optimised"] - posts["proportional"]
    moved = posts.sort_values("moved")
    print("\nIn plain words:")
    story.say(story.row(table, "coverage_weighted"), "Class-weighted county coverage (optimised − proportional, "
              "posts and patrol frequency together)")
    story.say(story.row(alloc_only, "coverage_weighted"), "  of which the allocation of posts (same default patrol rule)")
    story.say(story.row(patrol_only, "coverage_weighted"), "  of which patrol frequency (same optimised posts)")
    story.say(story.row(table, "coverage_building"), "Coverage of illegal building")
    gainers = ", ".join(f"{t} {int(r.moved):+d}" for t, r in moved[::-1].head(3).iterrows() if r.moved > 0)
    losers = ", ".join(f"{t} {int(r.moved):+d}" for t, r in moved.head(3).iterrows() if r.moved < 0)
    print(f"  - {int(posts['moved'].clip(lower=0).sum())} of {int(posts['optimised'].sum())} posts sit elsewhere than "
          f"a population share puts them" + (f": more in {gainers}" if gainers else "")
          + (f"; fewer in {losers}" if losers else "") + ".")
    cert = (optimised.groupby("town")["certified"].sum() - proportional.groupby("town")["certified"].sum())
    visits_opt = len(pd.read_csv(opt_dir / "patrol.csv"))
    visits_prop = len(pd.read_csv(prop_dir / "patrol.csv"))
    print(f"  - Certified officers moved between towns: {int(cert.clip(lower=0).sum())}; patrol visits a week: "
          f"{visits_opt} in the optimised plan, {visits_prop} under the rule (weekly, hot spots twice) of the "
          "proportional one.")
    town = table[(table["scope"] != "county") & (table["metric"] == "coverage_weighted")]
    if not town.empty:
        print(f"  - Lowest town coverage (class-weighted): {town['mean_b'].min():.1%} optimised, "
              f"{town['mean_a'].min():.1%} proportional.")
    story.footer(html, [args.out / "comparison.csv", opt_dir / "scenario.toml"])
    return 0


def parser():
    p = story.parser("optimised_vs_proportional", __doc__)
    p.add_argument("--scenario", default="huian.toml",
                   help="scenario file of this folder (or a path) to plan for (default huian.toml)")
    p.add_argument("--objective", choices=["coverage", "equity"], default="coverage",
                   help="the optimiser's objective: class-weighted county coverage, or the lowest town's (default coverage)")
    return p


if __name__ == "__main__":
    sys.exit(story.main(main, parser()))

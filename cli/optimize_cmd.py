"""``egrid optimize allocation|patrol|tradeoff``: thin wrappers over :mod:`optimize`."""

from __future__ import annotations

from functools import partial
from pathlib import Path

# pandas, PuLP/HiGHS and the model are imported inside the commands: ``egrid --help`` stays quick


def _check(out: Path, sc, force: bool, extra=()):
    """Refuse an output folder that cannot or must not be written, before any solving (sim.staging)."""
    from enforcement_grid.experiments.output import check_target, run_inputs

    return check_target(out, force, inputs=[*run_inputs(sc), *extra], what="output folder")


def _fmt_ci(mean, lo, hi) -> str:
    return f"{mean:6.1%} [{lo:.1%}, {hi:.1%}]"


def _conflict(err):
    from enforcement_grid.sim.errors import ScenarioError

    return ScenarioError([f"requirements conflict: {line}" for line in err.lines])


def cmd_allocation(args, load) -> int:
    import pandas as pd

    from enforcement_grid.optimize.allocation import AllocationConflict, allocate
    from enforcement_grid.optimize.check import check_allocation
    from enforcement_grid.optimize.data import allocation_data
    from enforcement_grid.optimize.export import (
        read_allocation,
        staffing_table,
        visits_by_village,
        with_plan,
        write_plan_folder,
    )
    from enforcement_grid.optimize.loop import curves_table, sim_opt_loop

    sc = load(args)
    out = Path(args.out) if args.out else Path("runs") / f"{sc.name}-allocation-{args.objective}"
    extra = [args.current] if args.current else []
    state = _check(out, sc, args.force, extra)
    o = sc.settings.optimize
    target = args.target if args.target is not None else o.coverage_target
    current = read_allocation(args.current, sc) if args.current else None
    data = allocation_data(sc, current=current)
    if args.max_moves is not None:
        data.max_moves = args.max_moves
    if current is None and data.max_moves is not None:
        data.max_moves = None  # a stability limit needs a current placement
    tgt = target if args.objective == "min-posts" else None
    try:
        if args.no_loop:
            result = allocate(data, args.objective, tgt, o.time_limit_s, o.gap)
            loop = None
        else:
            loop = sim_opt_loop(sc, args.objective, tgt, workers=args.workers, data=data)
            result = loop.final
    except AllocationConflict as err:
        raise _conflict(err) from None
    problems = check_allocation(result.table, data, args.objective, tgt)
    rep = result.report
    print(f"Allocation ({args.objective}) — solve {rep.status}, optimality "
          f"{'proven' if rep.proven_optimal else 'not proven'} (gap {rep.gap:.2%}), "
          f"build {rep.build_s:.2f} s, solve {rep.solve_s:.2f} s")
    print(f"Independent check: {'all constraints hold' if not problems else '; '.join(problems)}")
    per_town = result.table.pivot(index="town", columns="source", values="posts").reindex(data.towns)
    per_town["posts"] = per_town.sum(axis=1)
    per_town["certified"] = pd.Series(result.levels)
    per_town["predicted"] = pd.Series(result.predicted).map(lambda x: f"{x:.1%}")
    visits = visits_by_village(sc, result.visits)
    per_town["patrol_visits_week"] = pd.Series({t: int(result.visits[t].sum()) for t in data.towns})
    tables = {
        "allocation.csv": result.table[["town", "source", "posts", "certified"]],
        "staffing.csv": staffing_table(result.table, f"egrid optimize allocation --objective {args.objective}"),
        "visits.csv": pd.DataFrame(
            [(v.town, v.village, visits.get(v.village, 0)) for v in sc.villages],
            columns=["town", "village", "visits_per_week"]),
    }
    # the timetable the simulated check ran: the default rule's routes with the optimiser's visits, so that
    # scenario.toml runs the plan that was printed (posts and patrols), not the posts alone
    planned = with_plan(sc, result.table, visits)
    tables["patrol.csv"] = pd.DataFrame([r.model_dump() for r in planned.patrol_plan])
    if loop is not None:
        sim = loop.plan_summary
        simulated = sim[sim.metric == "coverage_weighted"].set_index("scope")
        per_town["simulated"] = [
            _fmt_ci(*simulated.loc[t, ["mean", "ci_low", "ci_high"]]) for t in data.towns
        ]
        print(per_town.to_string())
        c = simulated.loc["county"]
        b = loop.baseline_summary
        bc = b[(b.metric == "coverage_weighted") & (b.scope == "county")].iloc[0]
        print(f"\nSimulated ({o.loop_replications} replications × {o.loop_days:g} days, "
              f"{loop.iterations} solve(s), {'converged' if loop.converged else 'stopped at the iteration limit'}):")
        print(f"  this plan              class-weighted county coverage {_fmt_ci(c['mean'], c['ci_low'], c['ci_high'])}")
        print(f"  population-proportional                                {_fmt_ci(bc['mean'], bc['ci_low'], bc['ci_high'])}")
        d = loop.comparison.set_index("metric").loc["coverage_weighted"]
        print(f"  difference (same random numbers)                      {d['difference']:+.1%} "
              f"[{d['ci_low']:+.1%}, {d['ci_high']:+.1%}]{'  significant' if d['significant'] else ''}")
        split = credit_levers(sc, loop, args.workers)
        print("  of which (like with like: the same patrol rule, then the same posts):")
        for r in split.itertuples():
            if r.metric == "coverage_weighted":
                print(f"    {r.lever:40s} {r.difference:+.1%} [{r.ci_low:+.1%}, {r.ci_high:+.1%}]"
                      f"{'  significant' if r.significant else ''}")
        tables["levers.csv"] = split
        tables.update({
            "curves.csv": curves_table(loop.data, loop.approx_curves, loop.simulated),
            "loop.csv": loop.history,
            "comparison.csv": loop.comparison,
            "plan_summary.csv": loop.plan_summary,
            "baseline_summary.csv": loop.baseline_summary,
            "baseline_allocation.csv": loop.baseline_table,
        })
    else:
        print(per_town.to_string())
        tables["curves.csv"] = curves_table(data, data.curves, {})
    total = int(result.table["posts"].sum())
    if args.objective == "min-posts":
        have = sum(data.posts.values())
        print(f"\nEvery town reaches {target:.0%} class-weighted coverage with {total} posts "
              f"({int(result.table['certified'].sum())} certified); {have} exist: "
              + (f"{have - total} to spare." if total <= have else f"short by {total - have}."))
    charts = _allocation_charts(sc, tables, result, args.lang)
    write_plan_folder(out, sc, tables, force=args.force, charts=charts, state=state, inputs=extra)
    print(f"\nWrote {out}/ (allocation.csv, staffing.csv, visits.csv, curves.csv, scenario.toml, charts/)")
    return 0 if not problems else 1


def credit_levers(sc, loop, workers) -> pd.DataFrame:
    """The loop's gain over population-proportional posts split into its two levers, like with like.

    The optimised plan differs from the proportional one in the posts and in the
    patrol visits (the proportional plan keeps the default weekly rule); crediting
    the whole difference to the allocation would credit it with the patrol
    frequency.  So the optimised posts are simulated once more with the default
    rule (same replications and days, same seeds): ``allocation`` = optimised posts
    − proportional posts, both with the default rule; ``patrol frequency`` =
    optimised posts with the optimiser's visits − with the default rule.  The two
    add up to the total in every replication (the full Shapley split over posts,
    rotas and patrols is ``egrid plan``).
    """
    import pandas as pd

    from enforcement_grid.optimize.export import visits_by_village
    from enforcement_grid.optimize.loop import paired_difference, simulate

    rule_run = simulate(sc, loop.final.table, None, workers)
    base_run = loop.extras.get("baseline_run")
    plan_run = loop.extras.get("plan_run")
    if base_run is None or plan_run is None:  # the loop keeps its last runs; simulate them again if not
        base_run = simulate(sc, loop.baseline_table, None, workers)
        plan_run = simulate(sc, loop.final.table, visits_by_village(sc, loop.final.visits), workers)
    rows = []
    for metric in ("coverage_weighted", "coverage", *[f"coverage_{k}" for k in sc.settings.classes]):
        for lever, a, b in (("allocation (same default patrol rule)", base_run, rule_run),
                            ("patrol frequency (same optimised posts)", rule_run, plan_run)):
            rows.append((lever, metric, *paired_difference(a, b, metric)))
    out = pd.DataFrame(rows, columns=["lever", "metric", "difference", "ci_low", "ci_high"])
    out["significant"] = (out["ci_low"] > 0) | (out["ci_high"] < 0)
    return out


def _footnote(sc) -> dict:
    return {"scenario": sc.name, "seed": sc.settings.scenario.seed,
            "town_en": {t.town: t.town_en for t in sc.towns}}


def _source_labels(sc) -> dict:
    return {k: {"zh": s.label_zh, "en": s.label_en} for k, s in sc.settings.sources.items()}


def _allocation_charts(sc, tables, result, lang):
    import pandas as pd

    from enforcement_grid.report import charts

    curves = tables["curves.csv"].rename(columns={"certified": "posts"})
    chosen = pd.DataFrame({"town": list(result.levels), "posts": list(result.levels.values())})
    kw = _footnote(sc)
    return {
        "coverage_vs_staff": charts.coverage_vs_staff(curves, chosen, lang, **kw),
        "allocation_by_source": charts.allocation_by_source(
            tables["allocation.csv"], lang, source_labels=_source_labels(sc), **kw),
    }


def cmd_patrol(args, load) -> int:
    import pandas as pd

    from enforcement_grid.optimize.export import read_allocation, with_plan, write_plan_folder
    from enforcement_grid.optimize.patrol import plan_patrols, repeated_inspections
    from enforcement_grid.sim.errors import ScenarioError
    from enforcement_grid.sim.textfiles import read_frame

    sc = load(args)
    out = Path(args.out) if args.out else Path("runs") / f"{sc.name}-patrol"
    extra = [args.allocation] if args.allocation else []
    state = _check(out, sc, args.force, extra)
    visits = None
    if args.allocation:
        table = read_allocation(args.allocation, sc)
        sc = with_plan(sc, table)
        vfile = Path(args.allocation).parent / "visits.csv" if Path(args.allocation).is_file() else \
            Path(args.allocation) / "visits.csv"
        if vfile.exists():
            v = read_frame(vfile)
            visits = dict(zip(v["village"], v["visits_per_week"].astype(int)))
    o = sc.settings.optimize
    result = plan_patrols(sc, visits, time_limit_s=o.time_limit_s, gap=o.patrol_gap)
    plan = result.plan
    by_town = plan.groupby("town").agg(visits=("village", "size"), villages=("village", "nunique"),
                                       teams=("team", "nunique"))
    minutes = pd.Series(result.route_minutes)
    by_town["route_hours_week"] = minutes.groupby(level=0).sum() / 60.0
    worst_gap = max((r.gap for r in result.reports.values() if r.has_solution), default=float("nan"))
    proven = all(r.proven_optimal for r in result.reports.values() if r.has_solution)
    print(f"Weekly patrol plan — {len(plan)} visits to {plan['village'].nunique()} of {len(sc.villages)} "
          f"villages; build {result.build_s:.2f} s, solve {result.solve_s:.2f} s, largest gap {worst_gap:.2%} "
          f"({'all proven within the gap' if proven else 'not all proven'})")
    print(by_town.to_string(float_format=lambda x: f"{x:.1f}"))
    shortfall = patrol_shortfall(sc, plan)
    insp = repeated_inspections(sc)
    if not insp.empty:
        print(f"\nInspections a year: {insp['separate_visits'].sum():,.0f} separate department visits, "
              f"{insp['joint_visits'].sum():,.0f} joint visits: {insp['avoided'].sum():,.0f} repeated inspections "
              f"avoided ({insp['avoided'].sum() / max(insp['separate_visits'].sum(), 1):.0%}).")
    if result.problems:
        print("Independent check found problems:")
        for p in result.problems:
            print(f"  {p}")
    else:
        print("Independent check: every village visited as required, routes fit the shift, "
              "response teams kept free.")
    write_plan_folder(out, sc, {"patrol.csv": plan, "inspections.csv": insp,
                                "routes.csv": minutes.rename("minutes").rename_axis(["town", "day", "team"]).reset_index(),
                                "patrol_shortfall.csv": shortfall},
                      force=args.force, state=state, inputs=extra)
    print(f"\nWrote {out}/ (patrol.csv, routes.csv, inspections.csv, patrol_shortfall.csv, scenario.toml)")
    unsolved = [t for t, r in result.reports.items() if not r.has_solution]
    if unsolved:
        raise ScenarioError([p for p in result.problems if p.startswith("weekly patrol")])
    return 0


def patrol_shortfall(sc, plan, out=None, err=None) -> pd.DataFrame:
    """The timetable's weekly visits against those the rule requires (F12), per brigade: printed, with one
    warning line per brigade that leaves a village unvisited in a week, and returned for patrol_shortfall.csv.

    The quantities are :func:`sim.measures.plan_visits` / :func:`sim.measures.brigade_visits`' (the rule is
    :func:`sim.patrol_plan.visits_required`, the shortfall :func:`sim.patrol_plan.plan_shortfall`), as for
    runs and plans: the same timetable reports the same figures wherever it is read.
    """
    import sys

    import pandas as pd

    from enforcement_grid.sim.measures import brigade_visits, plan_visits, unvisited_villages

    out = out or sys.stdout
    err = err or sys.stderr
    visits = plan_visits(sc, plan)
    table = brigade_visits(visits)[["brigade", "villages", "visits_required", "visits_planned",
                                    "villages_not_weekly", "planned_share"]]
    total_req, total_plan = int(table["visits_required"].sum()), int(table["visits_planned"].sum())
    print(f"\nAgainst the rule (F12): {total_plan} of the {total_req} weekly visits required planned"
          + (f" ({total_plan / total_req:.1%})" if total_req else ""), file=out)
    shown = table.set_index("brigade")
    shown["planned_share"] = shown["planned_share"].map(lambda x: "—" if pd.isna(x) else f"{x:.1%}")
    print(shown.to_string(), file=out)
    for r in table.itertuples():
        if r.villages_not_weekly > 0:
            missing = unvisited_villages(visits[visits["brigade"] == r.brigade])
            names = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
            print(f"warning: {r.brigade}: the patrol timetable does not visit {r.villages_not_weekly} of its "
                  f"{r.villages} village(s) in a week (F12 asks weekly): {names}", file=err)
    return table


def cmd_tradeoff(args, load) -> int:
    import pandas as pd

    from enforcement_grid.optimize.allocation import AllocationConflict, allocate, county_coverage
    from enforcement_grid.optimize.data import allocation_data
    from enforcement_grid.sim.staffing import largest_remainder
    from enforcement_grid.optimize.export import write_plan_folder

    sc = load(args)
    out = Path(args.out) if args.out else Path("runs") / f"{sc.name}-tradeoff"
    state = _check(out, sc, args.force)
    o = sc.settings.optimize
    base = allocation_data(sc)
    rows = []
    for total in o.tradeoff_posts:
        scale = total / sum(base.posts.values())
        posts = largest_remainder(total, {s: float(n) for s, n in base.posts.items()})
        cert = {s: min(posts[s], round(base.certified[s] * scale)) for s in base.sources}
        data = allocation_data(sc, curves=base.curves, posts=posts, certified=cert)
        try:
            r = allocate(data, "coverage", None, o.time_limit_s, o.gap)
            rows.append((total, sum(cert.values()), county_coverage(data, r.levels), r.report.status, ""))
        except AllocationConflict as err:
            rows.append((total, sum(cert.values()), float("nan"), "infeasible", err.lines[0]))
    df = pd.DataFrame(rows, columns=["total_posts", "certified", "coverage", "status", "why_not"])
    print("Total posts → best class-weighted county coverage (approximate curves):")
    print(df.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    from enforcement_grid.report import charts

    kw = _footnote(sc)
    kw.pop("town_en")
    fig = charts.tradeoff(df.dropna(subset=["coverage"]), args.lang, marked_posts=sum(base.posts.values()), **kw)
    write_plan_folder(out, sc, {"tradeoff.csv": df}, force=args.force, charts={"tradeoff": fig}, state=state)
    print(f"\nWrote {out}/tradeoff.csv")
    return 0


def add_parser(sub, scenario_args, positive_int, load) -> None:
    p = sub.add_parser("optimize", help="allocate posts to brigades, plan weekly patrols, trade-off curve")
    osub = p.add_subparsers(dest="what", required=True)

    a = osub.add_parser("allocation", help="share the posts among the town brigades and check by simulation")
    scenario_args(a)
    a.add_argument("--objective", choices=["coverage", "equity", "min-posts"], default="coverage")
    a.add_argument("--target", type=float, help="coverage target for min-posts (optimize.coverage_target)")
    a.add_argument("--current", help="current allocation (town, source, posts, certified) for the stability limit")
    a.add_argument("--max-moves", type=int, help="most posts moved away from --current")
    a.add_argument("--no-loop", action="store_true", help="solve on the approximate curves only, no simulation")
    a.add_argument("--workers", type=positive_int, default=None, help="parallel processes for the simulated checks")
    a.add_argument("--out", help="output folder")
    a.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of the charts")
    a.add_argument("--force", action="store_true", help="replace an existing output folder (only one egrid wrote)")
    a.set_defaults(func=partial(cmd_allocation, load=load))

    q = osub.add_parser("patrol", help="weekly patrol schedule per brigade")
    scenario_args(q)
    q.add_argument("--allocation", help="allocation.csv (or its folder, with visits.csv) to plan for")
    q.add_argument("--out", help="output folder")
    q.add_argument("--force", action="store_true", help="replace an existing output folder (only one egrid wrote)")
    q.set_defaults(func=partial(cmd_patrol, load=load))

    t = osub.add_parser("tradeoff", help="total posts against best county coverage")
    scenario_args(t)
    t.add_argument("--out", help="output folder")
    t.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of the chart")
    t.add_argument("--force", action="store_true", help="replace an existing output folder (only one egrid wrote)")
    t.set_defaults(func=partial(cmd_tradeoff, load=load))


__all__ = ["add_parser"]

"""``egrid``: the command line, a thin layer over the public API.

    egrid run SCENARIO [--replications N] [--days D] [--seed S] [--out DIR] [--force] [--workers W] [--set K=V]
              [--scheduler ADDRESS [--security FILE]] [--max-violations N]
    egrid budget SCENARIO [--measure] [--days D] [--set K=V]
    egrid optimize allocation SCENARIO [--objective coverage|equity|min-posts] [--out DIR]
    egrid optimize patrol SCENARIO [--allocation FILE] [--out DIR]
    egrid optimize tradeoff SCENARIO [--out DIR]
    egrid compare RUN_DIR RUN_DIR … [--pairs first|all] [--lang zh|en] [--out FILE]
    egrid report RUN_DIR [--lang zh|en] [--baseline RUN_DIR …] [--levers FILE] [--out DIR]
    egrid sweep SWEEP_FILE [--out DIR] [--workers N] [--scheduler ADDRESS [--security FILE]] [--force]
    egrid uncertainty SCENARIO [--plan DIR …] [--method morris|sobol] [--samples N] [--days D] [-n N] [--out DIR]

Every user mistake (a bad scenario, a bad option value, an existing run folder,
a place that cannot be written) prints one clear message per problem and exits
with status 2, without a traceback; a file that cannot be written midway exits
with status 1, and replications that failed are listed (exit status 1, the
others written and marked incomplete).  SIGTERM stops a command like Ctrl-C.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from pathlib import Path

from . import county_cmd, optimize_cmd, plan_cmd, sweep_cmd, uncertainty_cmd
from .argtypes import nonnegative_int, positive_float, positive_int, run_days

# pandas, the model and the optimisers are imported inside the commands that use them,
# so that ``egrid --help`` and argument errors answer at once (benchmarks/bench_startup.py)

log = logging.getLogger("egrid")

HEADLINE = [
    "violations_per_year", "coverage", "discovery_delay_min", "response_time_min", "closure_time_min",
    "on_time_disposal_rate", "report_closure_rate", "report_on_time_closure_rate",
    "backlog_end", "latent_end", "transfer_share", "found_by_grid_share", "found_by_patrol_share",
    "found_by_complaint_share", "found_by_inspection_share", "utilisation", "response_share",
    "case_work_share", "patrol_share", "inspection_share", "reinspection_share", "unlisted_time_share", "certified_teams", "closure_rate",
    "on_time_closure_rate", "past_limit_cases_per_year", "legal_review_wait_min", "officer_hours_per_building_case",
    "transfer_time_min", "returned_share", "inspections_per_business", "patrol_visits_planned_share",
]


def _scenario_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario TOML file, e.g. scenarios/huian.toml")
    p.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override a setting, e.g. --set officer_time.desk_share=0.4 (repeatable)",
    )
    p.add_argument("--days", type=run_days, help="run length in days, at most 36,500 (scenario.horizon_days)")
    p.add_argument("--seed", type=nonnegative_int, help="random seed (scenario.seed)")
    p.add_argument(
        "--max-violations", type=positive_int, default=None, metavar="N",
        help="refuse a run expected to create more than N violations per replication "
             "(estimated from the rate table before it starts; default 2,000,000)",
    )


def _load(args, simulate: bool = True) -> "object":
    from enforcement_grid.sim import load_scenario
    from enforcement_grid.sim.errors import ScenarioError

    overrides = list(args.overrides)
    # (option, override): a problem with the value is blamed on the option the user typed
    if args.days is not None:
        overrides.append((f"--days {args.days:g}", f"scenario.horizon_days={args.days}"))
    if args.seed is not None:
        overrides.append((f"--seed {args.seed}", f"scenario.seed={args.seed}"))
    if getattr(args, "replications", None) is not None:
        overrides.append((f"--replications {args.replications}", f"scenario.replications={args.replications}"))
    sc = load_scenario(args.scenario, overrides)
    if args.days is not None and sc.settings.scenario.warmup_days >= args.days:
        raise ScenarioError(
            f"--days {args.days:g}: the run must be longer than the warm-up "
            f"(scenario.warmup_days = {sc.settings.scenario.warmup_days:g} in {args.scenario}); "
            f"use a longer run or --set scenario.warmup_days=0"
        )
    if simulate:
        from enforcement_grid.sim.size import DEFAULT_MAX_VIOLATIONS, check_size

        limit = getattr(args, "max_violations", None)
        check_size(sc, limit if limit is not None else DEFAULT_MAX_VIOLATIONS)
    return sc


def _isna(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _fmt(mean: float, lo: float, hi: float, metric: str) -> str:
    if _isna(mean):
        return "—"
    from enforcement_grid.sim.measures import in_percent

    if in_percent(metric):
        body = f"{mean:6.1%}"
        ci = f"[{lo:.1%}, {hi:.1%}]" if not _isna(lo) else ""
    else:
        digits = 2 if abs(mean) < 10 else 1
        body = f"{mean:10,.{digits}f}"
        ci = f"[{lo:,.{digits}f}, {hi:,.{digits}f}]" if not _isna(lo) else ""
    return f"{body} {ci}"


def print_summary(sc, summary, out=None) -> None:
    """County headline with 95 % CIs, then coverage by town and class."""
    import pandas as pd

    out = out or sys.stdout
    s = sc.settings.scenario
    n = int(summary["n"].max()) if len(summary) else 0
    print(f"{s.title_en or sc.name} — {s.horizon_days:g} days, warm-up {s.warmup_days:g}, "
          f"{n} replication(s), seed {s.seed}", file=out)
    county = summary[summary["scope"] == "county"].set_index("metric")
    print("\nCounty (mean [95 % CI]):", file=out)
    classes = [f"coverage_{k}" for k in sc.settings.classes]
    for m in HEADLINE[:2] + ["coverage_weighted"] + classes + HEADLINE[2:]:
        if m in county.index:
            r = county.loc[m]
            print(f"  {m:32s} {_fmt(r['mean'], r['ci_low'], r['ci_high'], m)}", file=out)
    cols = ["coverage", *classes, "response_time_min", "utilisation"]
    wide = summary[summary["scope"] != "county"].pivot(index="scope", columns="metric", values="mean")
    order = [t.town for t in sc.towns]
    wide = wide.reindex(index=order, columns=cols)
    print("\nBy town (means):", file=out)
    shown = wide.copy()
    for c in cols:
        if c == "response_time_min":
            shown[c] = wide[c].map(lambda x: "—" if pd.isna(x) else f"{x:,.0f}")
        else:
            shown[c] = wide[c].map(lambda x: "—" if pd.isna(x) else f"{x:.1%}")
    print(shown.to_string(), file=out)


def print_validation(sc, summary, out=None) -> None:
    """The platform-style measures against the published ranges of the scenario's sources."""
    from enforcement_grid.sim.measures import validation_table

    out = out or sys.stdout
    if not sc.settings.published_ranges:
        return
    table = validation_table(summary, sc.settings.published_ranges)
    print("\nAgainst published figures (platform measures; for comparison, not targets):", file=out)
    for r in table.itertuples():
        scope = "" if r.scope == "county" else f" ({r.scope})"
        print(f"  {r.metric + scope:40s} {_fmt(r.mean, r.ci_low, r.ci_high, r.metric)}  "
              f"published {100 * r.published_low:.4g}–{100 * r.published_high:.4g} %: {r.verdict}", file=out)
        print(f"  {'':40s} {r.what}; {r.source}", file=out)


def print_patrol_plan(sc, plan, out=None) -> None:
    """Weekly patrol visits planned against those the rule requires, per brigade (F12)."""
    from enforcement_grid.sim.measures import brigade_visits, plan_visits

    out = out or sys.stdout
    table = brigade_visits(plan_visits(sc, plan)).set_index("brigade")
    short = table[table["visits_planned"] < table["visits_required"]]
    total_req, total_plan = int(table["visits_required"].sum()), int(table["visits_planned"].sum())
    print(f"\nPatrol plan: {total_plan} of the {total_req} weekly visits required "
          f"({total_plan / total_req:.1%})" if total_req else "\nPatrol plan: no visits required", file=out)
    if not short.empty:
        shown = short.copy()
        shown["planned_share"] = shown["planned_share"].map(lambda x: f"{x:.1%}")
        print("Brigades planning fewer visits than required:", file=out)
        print(shown.to_string(), file=out)


def print_failures(failures, out=None) -> None:
    """One line per failed replication: scenario, seed, replication, the cause (and where it was raised)."""
    out = out or sys.stderr
    for f in sorted(failures, key=lambda f: (str(f.scenario), f.replication))[:10]:
        where = f" (at {f.where})" if f.where else ""
        print(f"error: {f.scenario} replication {f.replication} (seed {f.seed}) failed: {f.error}{where}", file=out)
    if len(failures) > 10:
        print(f"error: … and {len(failures) - 10} more", file=out)


def cmd_run(args) -> int:
    from enforcement_grid.sim.measures import check_published_ranges
    from enforcement_grid.experiments.output import check_target, run_inputs, write_run
    from enforcement_grid.experiments.runner import ReplicationError, run

    from .cluster import make_cli_executor

    sc = _load(args)
    check_published_ranges(sc)
    s = sc.settings.scenario
    out = Path(args.out) if args.out else Path("runs") / f"{sc.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    state = check_target(out, args.force, inputs=run_inputs(sc))  # before any work: refuse early
    started = time.perf_counter()
    failures = []
    with make_cli_executor(args, s.replications) as executor:
        try:
            runset = run(sc, s.replications, keep_records=False if args.no_records else None, executor=executor)
        except ReplicationError as err:
            failures, runset = err.failures, err.partial
    log.info("ran %d replication(s) in %.1f s", s.replications, time.perf_counter() - started)
    if runset is None:
        print_failures(failures)
        print(f"error: all {len(failures)} replication(s) failed; nothing was written", file=sys.stderr)
        return 1
    print_summary(sc, runset.summary)
    print_patrol_plan(sc, runset.results[0].plan)
    print_validation(sc, runset.summary)
    write_run(out, sc, runset, force=args.force, state=state, failures=failures)
    if failures:
        print_failures(failures)
        print(f"error: {len(failures)} of {s.replications} replication(s) failed; wrote the other "
              f"{len(runset.results)} to {out}/, marked incomplete (errors.csv lists the failed ones, "
              f"scenario.json says \"complete\": false)", file=sys.stderr)
        return 1
    print(f"\nWrote {out}/ (summary.csv, replications.csv, records, scenario.json)")
    return 0


def cmd_budget(args) -> int:
    from enforcement_grid.sim.budget import budget_table, measured_shares, verdict
    from enforcement_grid.experiments.runner import run_replication

    sc = _load(args, simulate=args.measure)
    table = budget_table(sc)
    shown = table.copy()
    cols = ["officers", "certified", "team_field_hours", "response_hours", "case_work_hours",
            "patrol_hours", "inspection_hours", "reinspection_hours", "needed_hours", "needed_share"]
    shown = shown.set_index("brigade")[cols + ["desk_hours", "other_town_work_hours"]]
    fmt = {c: (lambda x: f"{x:.0%}") if c == "needed_share" else (lambda x: f"{x:,.0f}") for c in shown}
    print("Officer-hours a year, per brigade (needed work against certified field hours):")
    print(shown.to_string(formatters=fmt))
    print()
    print(verdict(table))
    if args.measure:
        result = run_replication(sc, 0)
        shares = measured_shares(result.units).set_index("brigade")
        print(f"\nMeasured in one simulated run of {sc.settings.scenario.horizon_days:g} days "
              f"(share of on-duty team time):")
        print(shares.to_string(float_format=lambda x: f"{x:.1%}"))
    return 0


def cmd_compare(args) -> int:
    from enforcement_grid.report import compare_runs, format_comparison, load_run
    from enforcement_grid.experiments.output import write_frame_atomic

    from enforcement_grid.sim.errors import ScenarioError

    if len(args.run_dirs) < 2:
        raise ScenarioError(f"egrid compare: got {len(args.run_dirs)} run folder; expected two or more RUN_DIRs")
    table = compare_runs(*args.run_dirs, pairs=args.pairs, lang=args.lang)
    scopes = None if args.all_scopes else ("county",)
    print(format_comparison(table, args.lang or "en", scopes=scopes,
                            class_labels=load_run(args.run_dirs[-1]).class_labels))
    out = Path(args.out) if args.out else Path(args.run_dirs[-1]) / "comparison.csv"
    _check_compare_target(out, args.run_dirs, args.force)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_frame_atomic(table, out)
    print(f"\nWrote {out} (every measure per town and county)")
    return 0


def _check_compare_target(out: Path, run_dirs, force: bool) -> None:
    """The comparison CSV: not a folder, not a file of a run folder it reads, replaced only with --force."""
    from enforcement_grid.sim.errors import ScenarioError
    from enforcement_grid.sim.staging import check_writable

    own = {"summary.csv", "replications.csv", "records.csv.gz", "units.csv", "timeline.csv", "patrol_plan.csv",
           "scenario.json", "errors.csv", ".egrid-output"}
    if out.is_dir():
        raise ScenarioError(f"{out}: is a folder; expected the name of a CSV file to write (--out)")
    where = out.resolve()
    for run_dir in run_dirs:
        folder = Path(run_dir).resolve()
        if folder in where.parents and (where.parent != folder or where.name in own):
            raise ScenarioError(f"{out}: is a file of the run folder {run_dir}, which this command reads; "
                                f"choose another --out")
    if out.is_symlink() or (out.exists() and not force):
        raise ScenarioError(f"{out}: already exists; choose another --out or add --force to replace it")
    check_writable(out)


def cmd_report(args) -> int:
    from enforcement_grid.report import write_report

    out = Path(args.out) if args.out else Path(args.run_dir) / f"report-{args.lang}"
    written = write_report(args.run_dir, out, args.lang, baseline=args.baseline or None, force=args.force,
                           levers=args.levers)
    print(f"Wrote {written['html']}, {written['excel']} and {len(written['charts'])} chart files in {out}/charts/")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .cluster import add_dask_args

    parser = argparse.ArgumentParser(
        prog="egrid",
        description="Plan town-level enforcement: simulate scenarios, budget officer time.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="simulate a scenario and write a run folder")
    _scenario_args(p)
    p.add_argument("--replications", "-n", type=positive_int, help="number of replications (scenario.replications)")
    p.add_argument("--out", help="run folder to write (default runs/<scenario>-<time>)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing run folder (only one egrid wrote; never one holding the scenario)")
    p.add_argument("--workers", type=positive_int, default=None, help="parallel processes (default: all cores)")
    p.add_argument("--no-records", action="store_true", help="keep running sums only, not one record per violation")
    add_dask_args(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("budget", help="officer-hours needed by the listed work against hours staff provide")
    _scenario_args(p)
    p.add_argument("--measure", action="store_true", help="also simulate one replication and show measured shares")
    p.set_defaults(func=cmd_budget)

    optimize_cmd.add_parser(sub, _scenario_args, positive_int, _load)
    sweep_cmd.add_parser(sub, positive_int, add_dask_args)
    county_cmd.add_parser(sub, positive_int)
    uncertainty_cmd.add_parser(sub, positive_int, positive_float)
    plan_cmd.add_parser(sub, _scenario_args, positive_int, _load)

    p = sub.add_parser("compare", help="compare run folders: each plan against the first, paired by replication")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="two or more run folders written by egrid run")
    p.add_argument("--pairs", choices=["first", "all"], default="first",
                   help="first: each plan against the first (default); all: every pair of plans")
    p.add_argument("--lang", choices=["zh", "en"], default=None,
                   help="language of the output; plans are then named by their scenario titles in it "
                        "(default: English, plans named by scenario)")
    p.add_argument("--all-scopes", action="store_true", help="print every town, not only the county")
    p.add_argument("--out", help="CSV to write (default: comparison.csv in the last run folder)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("report", help="HTML report, charts (PNG, SVG) and Excel workbook of a run folder")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument("--baseline", metavar="RUN_DIR", action="append", default=[],
                   help="a run to compare against (e.g. before the reform); repeat for several baselines")
    p.add_argument("--levers", metavar="FILE",
                   help="lever table for the section 'which settings carry the effect' "
                        "(default: RUN_DIR/levers.csv if there is one)")
    p.add_argument("--out", help="report folder (default RUN_DIR/report-<lang>)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing report folder (only one egrid wrote; never the run reported on)")
    p.set_defaults(func=cmd_report)
    return parser


def os_error_message(err: OSError) -> str:
    """An OSError in words: which file, what went wrong."""
    what = err.strerror or str(err)
    names = " → ".join(str(n) for n in (err.filename, getattr(err, "filename2", None)) if n)
    return f"{names}: {what}" if names else what


def main(argv: list[str] | None = None) -> int:
    from .stopping import Terminated, sigterm_as_interrupt

    parser = build_parser()
    args = parser.parse_args(argv)
    from enforcement_grid.sim.errors import ScenarioError  # after parsing: --help needs no model

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        with sigterm_as_interrupt():
            return args.func(args)
    except ScenarioError as err:
        for line in err.problems:
            print(f"error: {line}", file=sys.stderr)
        return 2
    except Terminated:
        print("terminated: nothing more was written (what was complete is kept)", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
    except OSError as err:
        print(f"error: {os_error_message(err)}; the output was not written (or not completely: "
              f"nothing half-written was left in place)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

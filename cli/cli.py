"""``egrid``: the command line, a thin layer over the public API.

    egrid run SCENARIO [--replications N] [--days D] [--seed S] [--out DIR] [--force] [--workers W] [--set K=V]
    egrid budget SCENARIO [--measure] [--days D] [--set K=V]
    egrid optimize allocation SCENARIO [--objective coverage|equity|min-posts] [--out DIR]
    egrid optimize patrol SCENARIO [--allocation FILE] [--out DIR]
    egrid optimize tradeoff SCENARIO [--out DIR]
    egrid compare RUN_DIR RUN_DIR … [--lang zh|en] [--out FILE]
    egrid report RUN_DIR [--lang zh|en] [--baseline RUN_DIR] [--out DIR]
    egrid sweep SWEEP_FILE [--out DIR] [--workers N] [--scheduler ADDRESS] [--force]

Every user mistake (a bad scenario, a bad option value, an existing run folder)
prints one clear message per problem and exits with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import pandas as pd

from enforcement_grid.sim import load_scenario

from . import county_cmd, optimize_cmd, plan_cmd, sweep_cmd
from .argtypes import nonnegative_int, positive_float, positive_int
from enforcement_grid.sim.budget import budget_table, measured_shares, verdict
from enforcement_grid.sim.errors import ScenarioError
from enforcement_grid.sim.output import check_target, write_run
from enforcement_grid.sim.runner import run, run_replication

log = logging.getLogger("egrid")

HEADLINE = [
    "violations", "coverage", "discovery_delay_min", "response_time_min", "closure_time_min",
    "backlog_end", "latent_end", "transfer_share", "found_by_grid_share", "found_by_patrol_share",
    "found_by_complaint_share", "found_by_inspection_share", "utilisation", "response_share",
    "case_work_share", "patrol_share", "inspection_share", "certified_teams", "closure_rate",
    "on_time_closure_rate", "past_limit_cases", "legal_review_wait_min", "officer_hours_per_building_case",
    "transfer_time_min", "returned_share", "inspections_per_business",
]


def _scenario_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario TOML file, e.g. scenarios/huian.toml")
    p.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override a setting, e.g. --set officer_time.desk_share=0.4 (repeatable)",
    )
    p.add_argument("--days", type=positive_float, help="run length in days (scenario.horizon_days)")
    p.add_argument("--seed", type=nonnegative_int, help="random seed (scenario.seed)")


def _load(args) -> "object":
    overrides = list(args.overrides)
    if args.days is not None:
        overrides.append(f"scenario.horizon_days={args.days}")
    if args.seed is not None:
        overrides.append(f"scenario.seed={args.seed}")
    if getattr(args, "replications", None) is not None:
        overrides.append(f"scenario.replications={args.replications}")
    sc = load_scenario(args.scenario, overrides)
    if args.days is not None and sc.settings.scenario.warmup_days >= args.days:
        raise ScenarioError(
            f"--days {args.days:g}: the run must be longer than the warm-up "
            f"(scenario.warmup_days = {sc.settings.scenario.warmup_days:g} in {args.scenario}); "
            f"use a longer run or --set scenario.warmup_days=0"
        )
    return sc


def _fmt(mean: float, lo: float, hi: float, metric: str) -> str:
    if pd.isna(mean):
        return "—"
    share = metric.startswith("coverage") or metric.endswith(("_share", "_rate")) or metric == "utilisation"
    if share:
        body = f"{mean:6.1%}"
        ci = f"[{lo:.1%}, {hi:.1%}]" if not pd.isna(lo) else ""
    else:
        digits = 2 if abs(mean) < 10 else 1
        body = f"{mean:10,.{digits}f}"
        ci = f"[{lo:,.{digits}f}, {hi:,.{digits}f}]" if not pd.isna(lo) else ""
    return f"{body} {ci}"


def print_summary(sc, summary: pd.DataFrame, out=None) -> None:
    """County headline with 95 % CIs, then coverage by town and class."""
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


def cmd_run(args) -> int:
    sc = _load(args)
    s = sc.settings.scenario
    out = Path(args.out) if args.out else Path("runs") / f"{sc.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    check_target(out, args.force)
    started = time.perf_counter()
    runset = run(sc, s.replications, workers=args.workers, keep_records=False if args.no_records else None,
                 scheduler=args.scheduler)
    log.info("ran %d replication(s) in %.1f s", s.replications, time.perf_counter() - started)
    print_summary(sc, runset.summary)
    write_run(out, sc, runset, force=args.force)
    print(f"\nWrote {out}/ (summary.csv, replications.csv, records, scenario.json)")
    return 0


def cmd_budget(args) -> int:
    sc = _load(args)
    table = budget_table(sc)
    shown = table.copy()
    cols = ["officers", "certified", "team_field_hours", "response_hours", "case_work_hours",
            "patrol_hours", "inspection_hours", "needed_hours", "needed_share"]
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
    from enforcement_grid.report import compare_runs, format_comparison
    from enforcement_grid.sim.output import write_frame_atomic

    table = compare_runs(*args.run_dirs)
    scopes = None if args.all_scopes else ("county",)
    print(format_comparison(table, args.lang, scopes=scopes))
    out = Path(args.out) if args.out else Path(args.run_dirs[-1]) / "comparison.csv"
    if out.exists() and not args.force:
        raise ScenarioError(f"{out}: already exists; choose another --out or add --force to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_frame_atomic(table, out)
    print(f"\nWrote {out} (every measure per town and county)")
    return 0


def cmd_report(args) -> int:
    from enforcement_grid.report import write_report

    out = Path(args.out) if args.out else Path(args.run_dir) / f"report-{args.lang}"
    written = write_report(args.run_dir, out, args.lang, baseline=args.baseline, force=args.force)
    print(f"Wrote {written['html']}, {written['excel']} and {len(written['charts'])} chart files in {out}/charts/")
    return 0


def build_parser() -> argparse.ArgumentParser:
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
    p.add_argument("--force", action="store_true", help="replace an existing run folder")
    p.add_argument("--workers", type=positive_int, default=None, help="parallel processes (default: all cores)")
    p.add_argument("--no-records", action="store_true", help="keep running sums only, not one record per violation")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run the replications on a Dask cluster (tcp://host:8786)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("budget", help="officer-hours needed by the listed work against hours staff provide")
    _scenario_args(p)
    p.add_argument("--measure", action="store_true", help="also simulate one replication and show measured shares")
    p.set_defaults(func=cmd_budget)

    optimize_cmd.add_parser(sub, _scenario_args, positive_int, _load)
    sweep_cmd.add_parser(sub, positive_int)
    county_cmd.add_parser(sub, positive_int)
    plan_cmd.add_parser(sub, _scenario_args, positive_int, _load)

    p = sub.add_parser("compare", help="compare run folders: each plan against the first, paired by replication")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="two or more run folders written by egrid run")
    p.add_argument("--lang", choices=["zh", "en"], default="en")
    p.add_argument("--all-scopes", action="store_true", help="print every town, not only the county")
    p.add_argument("--out", help="CSV to write (default: comparison.csv in the last run folder)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("report", help="HTML report, charts (PNG, SVG) and Excel workbook of a run folder")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument("--baseline", metavar="RUN_DIR", help="a second run to compare against (e.g. before the reform)")
    p.add_argument("--out", help="report folder (default RUN_DIR/report-<lang>)")
    p.add_argument("--force", action="store_true", help="replace an existing report folder")
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return args.func(args)
    except ScenarioError as err:
        for line in err.problems:
            print(f"error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""``egrid uncertainty SCENARIO``: which conclusions survive what nobody knows.

    egrid uncertainty SCENARIO [--plan DIR …] [--before FILE | --no-before] [--method morris|sobol]
                      [--samples N] [--days D] [-n N] [--out DIR] [--workers W] [--scheduler ADDRESS]
                      [--force] [--quiet]

Draws the scenario's ``[uncertainty]`` ranges by a Morris or Sobol' design, runs
every draw for the scenario, its before counterpart (``<name>-before.toml`` beside
it, or ``--before``) and each plan folder with common random numbers, and writes
sensitivity indices, tornado charts, the two kinds of interval, plan-against-plan
decisions with regret, history matching against ``[observed]`` figures and a
conclusion in Chinese and English (:mod:`enforcement_grid.uncertainty`).
Each draw is saved whole as it finishes; the same command again resumes.

Exit status: 0 done; 1 some replications raised (errors.csv; run again to retry);
2 a bad scenario, range or folder (nothing run); 130 interrupted (finished draws are saved).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

# the model, the executors and SALib are imported inside the command: ``egrid --help`` stays quick


def cmd_uncertainty(args) -> int:
    from tqdm import tqdm

    from enforcement_grid.sim.errors import ScenarioError
    from enforcement_grid.experiments.executors import Failed, make_executor

    from enforcement_grid.uncertainty.report import analyse
    from enforcement_grid.uncertainty.runner import StudyFolder, build_study, before_counterpart, run_study

    before = None if args.no_before else (args.before or before_counterpart(args.scenario))
    if args.before and not Path(args.before).exists():
        raise ScenarioError(f"--before {args.before}: file not found")
    study = build_study(args.scenario, args.plan, before, args.method, args.samples, args.replications, args.days)
    out = Path(args.out) if args.out else Path("runs") / f"uncertainty-{Path(args.scenario).stem}-{args.method}"
    folder = StudyFolder(out)
    folder.check(study, args.force)
    executor = make_executor(args.workers, args.scheduler)
    bar = None
    show_bar = not args.quiet and sys.stderr.isatty()

    def on_start(report, tasks: int) -> None:
        nonlocal bar
        if not args.quiet:
            variants = ", ".join(v.label for v in study.variants)
            print(f"Uncertainty {args.scenario}: {len(study.inputs)} inputs, {study.draws - 1} draws ({study.method}) "
                  f"+ the nominal one, variants {variants}, {study.replications} replication(s) each "
                  f"({study.nominal_replications} for the nominal draw); {report.reused} draw(s) already saved, "
                  f"{tasks} replications to run on {executor.workers} worker(s)", file=sys.stderr)
        bar = tqdm(total=tasks, unit="rep", desc="uncertainty", file=sys.stderr, disable=not show_bar)

    def on_outcome(outcome) -> None:
        if bar is not None:
            bar.update(1)
            if isinstance(outcome, Failed) and show_bar:
                bar.write(f"draw {outcome.task.key[0]} {outcome.task.key[1]} replication {outcome.replication} "
                          f"failed: {outcome.error}", file=sys.stderr)

    started = time.perf_counter()
    try:
        with executor:
            report = run_study(study, out, executor, args.force, on_start, on_outcome)
    except KeyboardInterrupt:
        saved = len(folder.finished())
        print(f"\ninterrupted: {saved} of {study.draws} draws are saved in {out}/; run the same command again "
              f"to resume", file=sys.stderr)
        return 130
    finally:
        if bar is not None:
            bar.close()
    tables = analyse(study, out)
    elapsed = time.perf_counter() - started
    if not args.quiet:
        print(tables["conclusion_zh" if args.lang == "zh" else "conclusion_en"])
        iv = tables["intervals"]
        shown = iv[iv["headline"].isin(["coverage", "effect:coverage"])]
        if len(shown):
            print("Intervals, side by side (95 %; coverage in %, the effect in points × 100 %):")
            for r in shown.itertuples():
                print(f"  {r.headline:16s} {r.mean:6.1%} [{r.low:.1%}, {r.high:.1%}]  n={r.n:<4d} {r.label_en}")
        dec = tables["decisions"]
        if len(dec):
            print("Plan against alternative (county coverage, share of draws better, mean and worst gain):")
            for r in dec.itertuples():
                print(f"  [{r.draws_used}] {r.plan} vs {r.alternative}: better in {r.share_better:.0%} of {r.draws}, "
                      f"gain {r.gain_mean * 100:+.1f} points (worst {r.gain_worst * 100:+.1f})")
    print(f"\nRan {report.ran} draw(s) in {elapsed:.1f} s ({report.reused} were already saved); wrote "
          f"{out}/indices.csv, intervals.csv, decisions.csv, regret.csv, conclusion_*.md and charts/")
    if report.failures:
        print(f"error: {len(report.failures)} replication(s) failed and are listed in {out}/errors.csv; "
              f"their draws are left out. Run the same command again to retry them.", file=sys.stderr)
        for f in report.failures[:10]:
            where = f" (at {f.where})" if f.where else ""
            print(f"error: draw {f.task.key[0]} {f.task.key[1]}, replication {f.replication}: {f.error}{where}",
                  file=sys.stderr)
        return 1
    return 0


def add_parser(sub, positive_int, positive_float) -> None:
    p = sub.add_parser(
        "uncertainty", help="global sensitivity and decisions that hold up across the scenario's [uncertainty] ranges",
        description="Draw the scenario's [uncertainty] ranges (Morris or Sobol'), run every draw for the scenario, "
                    "its before counterpart and each plan with common random numbers, and write sensitivity "
                    "indices, tornado charts, intervals, decisions and a conclusion. Resumable.",
    )
    p.add_argument("scenario", help="scenario TOML file with an [uncertainty] table, e.g. scenarios/huian.toml")
    p.add_argument("--plan", action="append", default=[], metavar="DIR",
                   help="a plan folder written by egrid optimize (repeatable): compared with the scenario")
    p.add_argument("--before", metavar="FILE",
                   help="the before-the-reform scenario (default: <name>-before.toml beside the scenario, if any)")
    p.add_argument("--no-before", action="store_true", help="no before → after effect")
    p.add_argument("--method", choices=["morris", "sobol"], default="morris")
    p.add_argument("--samples", type=positive_int, default=10,
                   help="Morris trajectories (draws = N × (inputs + 1)) or Sobol' base samples "
                        "(N × (inputs + 2), a power of 2 is best); default 10")
    p.add_argument("--days", type=positive_float, help="run length in days (scenario.horizon_days), for a quick look")
    p.add_argument("--replications", "-n", type=positive_int, default=2,
                   help="inner replications per draw and variant (default 2; the nominal draw runs at least the "
                        "scenario's replications for the noise-only interval)")
    p.add_argument("--out", help="study folder (default runs/uncertainty-<scenario>-<method>); an existing one is resumed")
    p.add_argument("--workers", type=positive_int, default=None, help="local processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--lang", choices=["zh", "en"], default="en", help="language of the conclusion printed")
    p.add_argument("--force", action="store_true", help="discard a folder holding a different study")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or conclusion printed")
    p.set_defaults(func=cmd_uncertainty)


__all__ = ["add_parser", "cmd_uncertainty"]

"""``egrid plan SCENARIO``: one command, one plan — posts, rotas, patrols — each lever credited, and its report.

    egrid plan SCENARIO [--objective coverage|equity|min-posts] [--days D] [-n N] [--seed S] [--out DIR]
                        [--lang zh|en] [--workers W] [--scheduler ADDRESS] [--before FILE] [--force]

Writes one plan folder (see :mod:`planning.plan`): the plan as a self-contained
``scenario.toml`` that ``egrid run`` reproduces, its tables, each lever's share of
the gain with paired 95 % CIs, the run folders of every plan compared and the
decision report (HTML, Word, Excel) in ``report/``.  The comparison is on
common random numbers at the scenario's full length unless ``--days``/``-n``
shorten it.  ``--before``: the scenario before the reform (default: the
scenario's ``<name>-before.toml`` beside it, if there is one).
"""

from __future__ import annotations

import argparse
import re
import sys
from functools import partial
from pathlib import Path

# pandas, the model and the optimisers are imported inside the functions: ``egrid --help`` stays quick


def before_file(args) -> Path | None:
    """``--before``, else ``<stem>-before.toml`` beside the scenario (if it exists and is not the scenario)."""
    from enforcement_grid.sim.errors import ScenarioError

    if args.before:
        p = Path(args.before)
        if not p.exists():
            raise ScenarioError(f"--before {args.before}: file not found")
        return p
    p = Path(args.scenario)
    guess = p.with_name(f"{p.stem}-before.toml")
    return guess if guess.exists() and guess.resolve() != p.resolve() else None


def comparison_table(folder: Path, keys: list[str]) -> pd.DataFrame:
    """Each pair of plans compared by replication (report.compare), named by their keys."""
    import pandas as pd

    from enforcement_grid.report import compare_runs

    pairs = [("today", "plan"), ("proportional", "plan"), ("before", "plan"), ("today", "proportional"),
             ("before", "today")]
    frames = []
    for a, b in pairs:
        if a in keys and b in keys:
            t = compare_runs(folder / "runs" / a, folder / "runs" / b)
            frames.append(t.assign(plan_a=a, plan_b=b))
    return pd.concat(frames, ignore_index=True)


def cmd_plan(args, load) -> int:
    from enforcement_grid.planning import PlanOptions, make_plan
    from enforcement_grid.sim.errors import ScenarioError
    from enforcement_grid.report.plan_report import conclusions, write_plan_report
    from enforcement_grid.experiments.output import check_target, run_inputs

    sc = load(args)
    out = Path(args.out) if args.out else Path("runs") / f"{sc.name}-plan"
    check_target(out, args.force, inputs=run_inputs(sc), what="plan folder")  # refuse before any work
    bfile = before_file(args)
    before = None
    if bfile is not None:
        before = load(argparse.Namespace(**{**vars(args), "scenario": str(bfile)}))
        s, b = sc.settings.scenario, before.settings.scenario
        if (s.seed, s.horizon_days, s.warmup_days) != (b.seed, b.horizon_days, b.warmup_days):
            raise ScenarioError(f"{bfile}: scenario.seed/horizon_days/warmup_days must equal {args.scenario}'s "
                                "for a paired comparison (common random numbers)")

    def progress(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    def finish(folder: Path, outcome) -> None:
        comparison_table(folder, list(outcome.plans["key"])).to_csv(folder / "comparison.csv", index=False)
        progress("writing the report …")
        write_plan_report(folder, folder / "report", args.lang)

    target = args.target
    if args.objective == "min-posts" and target is None:
        target = sc.settings.optimize.coverage_target if sc.settings.optimize is not None else None
    options = PlanOptions(objective=args.objective, target=target, replications=sc.settings.scenario.replications,
                          workers=args.workers, scheduler=args.scheduler, before=before,
                          enough=not args.no_enough, progress=progress)
    outcome = make_plan(sc, out, options, force=args.force, finish=finish)
    for line in conclusions(out, args.lang):
        print(line)
    for line in problem_lines(sc, outcome.problems):
        print(f"note: {line}", file=sys.stderr)
    print(f"\nWrote {out}/ (scenario.toml, allocation.csv, patrol.csv, visits.csv, rotas.csv, levers.csv, "
          f"runs/, report/)")
    return 0


_SHORT = re.compile(r"visits_min_(.+): (\d+) visits a week < (\d+)$")


def problem_lines(sc, problems: list[str]) -> list[str]:
    """The plan's problems for the command line: visits asked and not planned summed per town, one line each
    (the village by village figures are in visits.csv); other problems as they are."""
    town = {v.village: v.town for v in sc.villages}
    short: dict[str, list[tuple[int, int]]] = {}
    other = []
    for p in problems:
        m = _SHORT.match(p)
        if m and m.group(1) in town:
            short.setdefault(town[m.group(1)], []).append((int(m.group(2)), int(m.group(3))))
        else:
            other.append(p)
    lines = []
    for t, pairs in short.items():
        got, asked = sum(g for g, _ in pairs), sum(a for _, a in pairs)
        none = sum(1 for g, _ in pairs if g == 0)
        lines.append(f"{t}: {len(pairs)} village(s) get fewer patrol visits a week than the allocation asked "
                     f"({got} planned of {asked}; "
                     + (f"{none} village(s) not visited weekly" if none else "each still visited weekly")
                     + "): the brigade's patrol teams cannot fit more; see visits.csv")
    return lines + other


def add_parser(sub, scenario_args, positive_int, load) -> None:
    p = sub.add_parser("plan", help="one plan: posts, rotas and patrols, each lever credited, with its report",
                       description=__doc__.split("\n\n")[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    scenario_args(p)
    p.add_argument("--objective", choices=["coverage", "equity", "min-posts"], default="coverage")
    p.add_argument("--target", type=float, help="coverage target for min-posts (optimize.coverage_target)")
    p.add_argument("--replications", "-n", type=positive_int, help="replications of every plan (scenario.replications)")
    p.add_argument("--out", help="plan folder (default runs/<scenario>-plan)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of the report")
    p.add_argument("--workers", type=positive_int, default=None, help="parallel processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run the replications on a Dask cluster")
    p.add_argument("--before", metavar="FILE", help="the scenario before the reform (default <scenario>-before.toml)")
    p.add_argument("--no-enough", action="store_true", help="skip the 'are the posts enough' runs")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress messages")
    p.add_argument("--force", action="store_true", help="replace an existing plan folder")
    p.set_defaults(func=partial(cmd_plan, load=load))


__all__ = ["add_parser", "cmd_plan"]

"""What the story scripts of this folder share: their options, runs, reports and summary lines.

Not a story itself (``python scenarios/story.py`` lists the stories).  Every story
script reads like this::

    def main(args) -> int:
        sc = story.load("huian.toml", args)                # sim.load_scenario with --days
        runset, folder = story.simulate(sc, args, "after") # sim.run, then sim.output.write_run
        html = story.reports(folder, args, baseline=...)   # report.write_report, once per language
        table = report.compare_runs(before, folder)        # paired differences, 95 % CI
        story.print_differences(table, [...])              # the summary a planner reads
        return 0

    if __name__ == "__main__":
        sys.exit(story.main(main, story.parser("before_after", __doc__)))

and uses the public API only (:mod:`sim`, :mod:`report`, :mod:`optimize`'s
modules), so a planner can copy one as the start of their own study.  A mistake
in the input (a bad ``--days``, a scenario that does not validate) is a message
on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import math
import sys
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from enforcement_grid.cli.argtypes import nonnegative_float, positive_float, positive_int, share  # noqa: F401 (used by the story scripts)
from enforcement_grid.report import write_report
from enforcement_grid.report.compare import format_value
from enforcement_grid.report.labels import metric_label
from enforcement_grid.sim import ScenarioError, load_scenario
from enforcement_grid.experiments import run
from enforcement_grid.experiments.output import write_run

HERE = Path(__file__).resolve().parent

STORIES = {
    "before_after": "before versus after the reform (F1–F3, F8, F12)",
    "phased_delegation": "delegating the first platform categories, then all 35 items (F2, F8)",
    "merged_vs_separate_grids": "three grid networks merged into one, or kept separate (F10)",
    "campaign": "a two-violations campaign in two towns (F11)",
    "certification_transition": "certified teams over the three-year exam window (F4, F5)",
    "optimised_vs_proportional": "an optimised post allocation against a population-proportional one (F1, F3, F12)",
}

# Which way is better, for the verdict of a difference: +1 higher, -1 lower, 0 neither.
BETTER = {
    "coverage": 1, "coverage_street": 1, "coverage_building": 1, "coverage_hidden": 1, "coverage_weighted": 1,
    "discovery_delay_min": -1, "response_time_min": -1, "closure_time_min": -1,
    "backlog_end": -1, "latent_end": -1,
}


# ---------------------------------------------------------------------------- options


def parser(story: str, doc: str | None) -> argparse.ArgumentParser:
    """The options every story takes: --days, --replications, --workers, --out, --lang."""
    text = (doc or "").strip()
    first, _, rest = text.partition("\n\n")
    p = argparse.ArgumentParser(
        prog=f"scenarios/{story}.py", description=first, epilog=rest or None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--days", type=positive_float,
                   help="run length in days (default: the scenario's horizon_days; must exceed its warm-up)")
    p.add_argument("--replications", "-n", type=positive_int,
                   help="replications of every run (default: the scenario's)")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="parallel processes (default: all cores); the numbers do not depend on it")
    p.add_argument("--out", type=Path, default=Path("runs") / story,
                   help=f"folder for the run folders and reports (default runs/{story}); its runs and reports are replaced")
    p.add_argument("--lang", choices=["zh", "en", "both"], default="both", help="language of the reports (default both)")
    return p


def langs(args) -> list[str]:
    return ["zh", "en"] if args.lang == "both" else [args.lang]


def main(body: Callable[[argparse.Namespace], int], p: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> int:
    """Parse the options and run ``body``; a mistake in the input is a message and exit status 2."""
    args = p.parse_args(argv)
    try:
        return body(args)
    except ScenarioError as err:
        for line in err.problems:
            print(f"error: {line}", file=sys.stderr)
        return 2


# ---------------------------------------------------------------------------- runs


def load(file: str | Path, args, overrides: Sequence[str] = ()):
    """A scenario file (a path, or a name in this folder) with the story's --days (and any other overrides)."""
    path = Path(file)
    if not path.is_absolute() and not path.is_file():
        path = HERE / file
    more = list(overrides)
    if args.days is not None:
        more.append((f"--days {args.days:g}", f"scenario.horizon_days={args.days}"))
    sc = load_scenario(path, more)  # a --days shorter than the warm-up is refused here, with its reason
    CLASS_LABELS.update({k: {"zh": c.label_zh, "en": c.label_en} for k, c in sc.settings.classes.items()})
    return sc


CLASS_LABELS: dict[str, dict[str, str]] = {}  # the classes of the scenarios loaded, for the measures' labels


def measure_label(metric: str) -> str:
    """A measure's English label, a class's measure named with the scenario's class label."""
    return metric_label(metric, "en", CLASS_LABELS)


def replications(sc, args) -> int:
    return args.replications or sc.settings.scenario.replications


def simulate(sc, args, folder: str, keep_records: bool | None = None):
    """Run the scenario's replications and write its run folder ``<out>/<folder>``; returns (runset, path)."""
    n = replications(sc, args)
    print(f"  running {sc.name}: {n} replication(s) of {sc.settings.scenario.horizon_days:g} days …", flush=True)
    runset = run(sc, replications=n, workers=args.workers, keep_records=keep_records)
    path = write_run(Path(args.out) / folder, sc, runset, force=True)
    return runset, path


def reports(run_dir: Path, args, baseline: Path | None = None, name: str = "report") -> list[Path]:
    """``report.write_report`` once per language into ``<out>/<name>-<lang>``; returns the HTML files."""
    out = []
    for lang in langs(args):
        files = write_report(run_dir, Path(args.out) / f"{name}-{lang}", lang, baseline=baseline, force=True)
        out.append(files["html"])
    return out


# ---------------------------------------------------------------------------- summary


def row(table: pd.DataFrame, metric: str, scope: str = "county", plan_b: str | None = None) -> pd.Series | None:
    """One row of a :func:`report.compare_runs` table (None if the measure is absent)."""
    t = table[(table["scope"] == scope) & (table["metric"] == metric)]
    if plan_b is not None:
        t = t[t["plan_b"] == plan_b]
    return None if t.empty else t.iloc[0]


def verdict(r: pd.Series) -> str:
    """"better", "worse", "higher", "lower" or "no clear difference" (the 95 % CI includes zero)."""
    if not r["significant"]:
        return "no clear difference"
    up = r["diff"] > 0
    way = BETTER.get(r["metric"], 0)
    if way == 0:
        return "higher" if up else "lower"
    return "better" if (up == (way > 0)) else "worse"


def width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def pad(text: str, columns: int, right: bool = False) -> str:
    fill = " " * max(0, columns - width(text))
    return fill + text if right else text + fill


def difference_line(r: pd.Series) -> str:
    """``measure  a → b  difference [95 % CI]  verdict`` in display units."""
    m = r["metric"]
    a = format_value(m, r["mean_a"], math.nan, math.nan)
    b = format_value(m, r["mean_b"], math.nan, math.nan)
    d = format_value(m, r["diff"], r["diff_ci_low"], r["diff_ci_high"], signed=True)
    return f"    {pad(measure_label(m), 40)} {pad(a, 10, True)} → {pad(b, 10)} {pad(d, 34)} {verdict(r)}"


def print_differences(table: pd.DataFrame, metrics: Sequence[str], scope: str = "county",
                      plan_b: str | None = None, title: str | None = None) -> None:
    """The key differences of a comparison, one line each, with their paired 95 % CI."""
    t = table if plan_b is None else table[table["plan_b"] == plan_b]
    if title is None and not t.empty:
        title = f"{t['plan_b'].iloc[0]} against {t['plan_a'].iloc[0]}" + ("" if scope == "county" else f", {scope}")
    if title:
        print(f"  {title} (mean, then difference [95 % CI], paired on the same violations):")
    for m in metrics:
        r = row(t, m, scope)
        if r is not None and not (isinstance(r["mean_a"], float) and math.isnan(r["mean_a"])):
            print(difference_line(r))


def pp(x: float) -> str:
    """A difference of shares in percentage points."""
    return f"{x * 100:+.1f} pp"


def ci_pp(r: pd.Series) -> str:
    return f"{pp(r['diff'])} (95 % CI {r['diff_ci_low'] * 100:+.1f} to {r['diff_ci_high'] * 100:+.1f})"


def ci_hours(r: pd.Series) -> str:
    return f"{r['diff'] / 60:+.1f} h (95 % CI {r['diff_ci_low'] / 60:+.1f} to {r['diff_ci_high'] / 60:+.1f})"


def ci_count(r: pd.Series) -> str:
    return f"{r['diff']:+.1f} (95 % CI {r['diff_ci_low']:+.1f} to {r['diff_ci_high']:+.1f})"


def change(r: pd.Series) -> str:
    """A difference with its 95 % CI in the measure's unit (pp, hours or a count)."""
    m = r["metric"]
    if m.startswith("coverage") or m.endswith("_share") or m.endswith("utilisation"):
        return ci_pp(r)
    if m.endswith("_min"):
        return ci_hours(r)
    return ci_count(r)


def say(r: pd.Series | None, what: str) -> None:
    """One plain-language line: ``what`` changes by the difference (95 % CI) — the verdict."""
    if r is None or (isinstance(r["diff"], float) and math.isnan(r["diff"])):
        print(f"  - {what}: not measured in this run (too short for that class of violation?).")
        return
    v = verdict(r)
    tail = " at this run length and number of replications" if v == "no clear difference" else ""
    print(f"  - {what} changes by {change(r)} — {v}{tail}.")


def header(title: str, sc, args, extra: str = "") -> None:
    s = sc.settings.scenario
    print(f"\nSummary: {title}")
    print(f"  {s.horizon_days:g} days (warm-up {s.warmup_days:g}), {replications(sc, args)} replication(s), "
          f"seed {s.seed}{extra}")


def footer(html: Sequence[Path], extra: Sequence[Path] = ()) -> None:
    files = [*html, *extra]
    if files:
        print("\nReports: " + ", ".join(str(f) for f in files))


if __name__ == "__main__":
    print("The story scripts of this folder (run one with --help for its options):")
    for name, what in STORIES.items():
        print(f"  python scenarios/{name}.py   {what}")


# ---------------------------------------------------------------------------- levers (before → after)


def reform_levers(after):
    """The reform's differences from before, in four lever groups, each copied from ``after``.

    (1) the reporting chain (grid report delay, command-centre triage; F8), (2) the
    merged grid networks (F10), (3) brigades in the towns: one brigade per town with
    the 357 posts, who may act on which item, the exam drive and the transition
    arrangement (F1–F5), (4) the weekly patrol of every village and joint
    inspections (F12).
    """
    from enforcement_grid.experiments import lever_from_target
    from enforcement_grid.report.labels import lever_label

    return [
        lever_from_target("reporting_chain", after,
                          ["grid.report_delay_mean_min", "grid.report_delay_by_town_min",
                           "command_centre.triage_mean_min"],
                          label=lever_label("reporting_chain", "en")),
        lever_from_target("merged_grid", after, ["grid.networks"], label=lever_label("merged_grid", "en")),
        lever_from_target("town_brigades", after,
                          ["reform", "staffing", "certification", "transition"], tables=["staffing"],
                          label=lever_label("town_brigades", "en")),
        lever_from_target("weekly_patrols", after, ["patrol", "inspection"], label=lever_label("weekly_patrols", "en")),
    ]


def decompose(base, target, levers, args, keep_records="endpoints"):
    """``experiments.decompose`` with the story's replications and workers, printing each combination as it runs."""
    from enforcement_grid.experiments import decompose as run_levers

    n = replications(base, args)
    k = len(levers)

    def progress(mask, sc):
        moved = [lv.name for i, lv in enumerate(levers) if mask >> i & 1]
        print(f"  running {mask + 1}/{1 << k}: {', '.join(moved) or 'none moved'} ({sc.name}, {n} × "
              f"{sc.settings.scenario.horizon_days:g} days) …", flush=True)

    return run_levers(base, target, levers, replications=n, workers=args.workers,
                      keep_records=keep_records, on_run=progress)


def save(sc, runset, args, folder: str) -> Path:
    """Write a run folder ``<out>/<folder>`` for runs made elsewhere (e.g. a decomposition's base and target)."""
    return write_run(Path(args.out) / folder, sc, runset, force=True)


def effect_text(r: pd.Series, metric: str) -> str:
    """An effect of a decomposition table row with its 95 % CI, in the measure's unit."""
    as_diff = pd.Series({"metric": metric, "diff": r["effect"], "diff_ci_low": r["ci_low"], "diff_ci_high": r["ci_high"]})
    return change(as_diff)


def print_levers(decomposition, metrics: Sequence[str], scope: str = "county") -> None:
    """Per measure: the total effect, then each lever's Shapley share, effect alone and effect missed without it."""
    t = decomposition.table
    labels = {lv.name: lv.label or lv.name for lv in decomposition.levers}
    for m in metrics:
        rows = t[(t["scope"] == scope) & (t["metric"] == m)]
        if rows.empty:
            continue
        total = rows[rows["method"] == "total"].iloc[0]
        if total["n"] == 0:
            print(f"\n  {measure_label(m)} ({scope}): not measured in this run (too short for that class of violation?).")
            continue
        print(f"\n  {measure_label(m)} ({scope}): total {effect_text(total, m)}, n = {total['n']}")
        print(f"    {pad('lever', 58)} {pad('Shapley share', 36)} {pad('alone (base + lever)', 36)} without it (target − lever)")
        for name, label in labels.items():
            cells = []
            for method in ("shapley", "add_to_base", "drop_from_target"):
                r = rows[(rows["lever"] == name) & (rows["method"] == method)]
                cells.append(effect_text(r.iloc[0], m) if not r.empty else "–")
            print(f"    {pad(label, 58)} {pad(cells[0], 36)} {pad(cells[1], 36)} {cells[2]}")

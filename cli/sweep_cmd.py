"""``egrid sweep SWEEP_FILE``: a grid of scenario variants × replications, resumable, on cores or a cluster.

    egrid sweep SWEEP_FILE [--out DIR] [--workers N] [--scheduler ADDRESS [--security FILE]] [--force]
                [--max-violations N] [--quiet]

The sweep file format and the output folder are described in :mod:`sim.sweep`
and docs/sweeps.md.  Running the same command again after an interruption
resumes: finished replications are kept, the rest are run.

Exit status: 0 all replications stored and tables written; 1 some replications
raised (listed in DIR/errors.csv, the tables hold the others; run again to
retry them); 2 a bad sweep file, scenario or folder (nothing written);
130 interrupted, 143 terminated (SIGTERM) — what finished is saved.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

# pandas and the sweep machinery are imported inside the command: ``egrid --help`` stays quick


def _where(executor) -> str:
    from enforcement_grid.experiments.executors import DaskExecutor, ProcessExecutor

    if isinstance(executor, DaskExecutor):
        return f"Dask ({executor.workers} worker thread(s))"
    if isinstance(executor, ProcessExecutor):
        return f"{executor.workers} local processes"
    return "this process"


def _overview(report, factors: list[str], out) -> None:
    """County coverage per point, mean and 95 % CI."""
    import pandas as pd

    s = report.summary
    if s is None or s.empty:
        return
    rows = s[(s["scope"] == "county") & (s["metric"] == "coverage")]
    if rows.empty or len(rows) > 40:
        return
    shown = rows[[*factors, "mean", "ci_low", "ci_high", "n"]].copy()
    shown["coverage"] = [
        "—" if pd.isna(m) else (f"{m:6.1%} [{lo:.1%}, {hi:.1%}]" if not pd.isna(lo) else f"{m:6.1%}")
        for m, lo, hi in zip(shown["mean"], shown["ci_low"], shown["ci_high"], strict=True)
    ]
    print("\nCounty coverage by point (mean [95 % CI]):", file=out)
    print(shown[[*factors, "coverage", "n"]].to_string(index=False), file=out)


def cmd_sweep(args) -> int:
    from tqdm import tqdm

    from enforcement_grid.experiments.executors import Failed
    from enforcement_grid.sim.size import DEFAULT_MAX_VIOLATIONS
    from enforcement_grid.experiments.sweep import SweepFolder, SweepReport, check_sweep_size, load_sweep, run_sweep

    from .cluster import make_cli_executor
    from .stopping import exit_status

    sweep = load_sweep(args.sweep_file)
    limit = args.max_violations if args.max_violations is not None else DEFAULT_MAX_VIOLATIONS
    check_sweep_size(sweep, limit)
    out = Path(args.out) if args.out else Path("runs") / f"sweep-{Path(args.sweep_file).stem}"
    folder = SweepFolder(out)
    folder.check(sweep, args.force)  # refuse a folder holding something else before any work
    executor = make_cli_executor(args)
    total = len(sweep.points) * sweep.replications
    bar = None
    show_bar = not args.quiet and sys.stderr.isatty()

    def on_start(report: SweepReport) -> None:
        nonlocal bar
        if not args.quiet:
            reused = f", {report.reused} already saved" if report.reused else ""
            print(f"Sweep {args.sweep_file}: {len(sweep.points)} point(s) × {sweep.replications} replication(s) "
                  f"= {report.total}{reused}; running on {_where(executor)}", file=sys.stderr)
        bar = tqdm(total=report.total, initial=report.reused, unit="rep", desc="sweep", file=sys.stderr,
                   disable=not show_bar, smoothing=0.1)

    def on_outcome(outcome) -> None:
        if bar is not None:
            bar.update(1)
            if isinstance(outcome, Failed) and show_bar:
                bar.write(f"replication {outcome.replication} of point {outcome.task.key[0]} failed: {outcome.error}",
                          file=sys.stderr)

    started = time.perf_counter()
    try:
        with executor:
            report = run_sweep(sweep, out, executor, force=args.force, on_start=on_start, on_outcome=on_outcome)
    except KeyboardInterrupt as stop:
        if bar is not None:
            bar.close()
        saved = len(folder.finished(sweep)) if out.is_dir() else 0
        print(f"\ninterrupted: {saved} of {total} replications are saved in {out}/; "
              f"run the same command again to resume", file=sys.stderr)
        return exit_status(stop)
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - started
    if not args.quiet:
        _overview(report, sweep.factors, sys.stdout)
    print(f"\nRan {report.ran} replication(s) in {elapsed:.1f} s ({report.reused} were already saved); "
          f"wrote {out}/results.parquet and {out}/summary.csv")
    if report.failures:
        n = len(report.failures)
        print(f"error: {n} replication(s) failed and are listed in {out}/errors.csv; the tables hold the others. "
              f"Run the same command again to retry them.", file=sys.stderr)
        for f in sorted(report.failures, key=lambda f: f.task.key)[:10]:
            where = f" (at {f.where})" if f.where else ""
            print(f"error: point {f.task.key[0]}, replication {f.replication}, seed {f.seed}: {f.error}{where}",
                  file=sys.stderr)
        if n > 10:
            print(f"error: … and {n - 10} more", file=sys.stderr)
        return 1
    return 0


def add_parser(sub, positive_int, add_dask_args) -> None:
    p = sub.add_parser(
        "sweep", help="run a grid of scenario variants × replications (resumable; local cores or a Dask cluster)",
        description="Run every point of a sweep file's grid for its replications. Each replication is saved as "
                    "it finishes; running the same command again resumes.",
    )
    p.add_argument("sweep_file", metavar="SWEEP_FILE", help="sweep TOML file (see docs/sweeps.md)")
    p.add_argument("--out", help="sweep folder (default runs/sweep-<file name>); an existing one is resumed")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="local processes (default: all cores; 1 runs in this process)")
    add_dask_args(p)
    p.add_argument("--force", action="store_true",
                   help="discard a folder holding a different sweep and start again (only a folder egrid wrote; "
                        "never one holding the sweep's inputs)")
    p.add_argument("--max-violations", type=positive_int, default=None, metavar="N",
                   help="refuse a point expected to create more than N violations per replication "
                        "(estimated from the rate table before anything runs; default 2,000,000)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or overview")
    p.set_defaults(func=cmd_sweep)


__all__ = ["add_parser", "cmd_sweep"]

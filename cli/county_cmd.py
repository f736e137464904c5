"""Your county, your data: ``egrid new``, ``egrid calibrate``, ``egrid holdout`` and ``egrid export-cases``.

    egrid new DIR --county NAME --towns TOWNS.csv [--villages NAMES.csv] [--seat TOWN] [--name ID] [--force]
    egrid calibrate CASES --scenario S --out DIR [--mapping MAP.csv] [--period 2023-01:2023-09]
                    [--reference-replications N] [--workers W] [--set K=V] [--force]
    egrid holdout CASES --scenario S --out DIR [--holdout-months 3] [--replications N] [--mapping MAP.csv] [--force]
    egrid export-cases SCENARIO --out FILE [--start 2023-01-02] [--days D] [--synthetic]

Bad input (a missing column, a date that cannot be read, a town not in the scenario, a case
outside the period) prints one line per problem naming the file, the row and the column,
exits with status 2 and writes nothing.
"""

from __future__ import annotations

from pathlib import Path

# pandas and the model are imported inside the commands: ``egrid --help`` stays quick


def _mapping_path(args, sc) -> Path:
    from enforcement_grid.sim import ScenarioError

    path = Path(args.mapping) if args.mapping else Path(sc.files["items"]).parent / "cases-mapping.csv"
    if not path.exists():
        raise ScenarioError(f"{path}: mapping table not found; give --mapping FILE "
                            f"(columns platform_category, platform_subcategory, item, note)")
    return path


def cmd_new(args) -> int:
    from enforcement_grid.county.new import write_new

    out, todo = write_new(Path(args.dir), args.county, Path(args.towns),
                          Path(args.villages) if args.villages else None, seat=args.seat,
                          name=args.name, force=args.force)
    print(f"Wrote {out}/ (scenario.toml, towns.csv, villages.csv, items.csv, staffing.csv, departments.csv).")
    print(f"Try it: egrid run {out}/scenario.toml --days 30")
    print("\nStill to supply (every value marked \"estimate: copied from Hui'an — replace\"):")
    for line in todo:
        print(f"  - {line}")
    return 0


def _read_cases(args):
    """The checked output folder, the scenario, its category mapping and the export's cases (before any work)."""
    from enforcement_grid.county.cases import load_cases, load_mapping, parse_period
    from enforcement_grid.sim import load_scenario
    from enforcement_grid.sim.staging import check_target

    out = Path(args.out)
    check_target(out, args.force, inputs=[args.cases, args.scenario], what="output folder")  # refuse early
    sc = load_scenario(args.scenario, args.overrides)
    mapping = load_mapping(_mapping_path(args, sc), sc)
    period = parse_period(args.period) if args.period else None
    return out, sc, mapping, load_cases(args.cases, sc, mapping, period)


def cmd_calibrate(args) -> int:
    from enforcement_grid.county.fit import fit_all
    from enforcement_grid.county.write import write_fit

    out, sc, mapping, cases = _read_cases(args)
    fit = fit_all(cases, sc, mapping, replications=args.reference_replications, workers=args.workers)
    write_fit(fit, sc, out, force=args.force)
    print(f"Read {cases.provenance()} from {args.cases}; {len(cases.mapped):,} mapped to items.")
    for note in fit.notes:
        print(f"  note: {note}")
    r = fit.rates[fit.rates["fitted"]].groupby("klass")[["cases", "per_year", "model_per_year"]].sum()
    if len(r):
        print("\nViolations a year by class (export, scenario before the fit):")
        for klass, row in r.iterrows():
            print(f"  {klass:12s} {row['per_year']:10,.0f} {row['model_per_year']:10,.0f}")
    d = fit.discovery[fit.discovery["fitted"]]
    if len(d):
        print("\nDiscovery parameters (was → fitted [95 % CI]):")
        for row in d.itertuples():
            print(f"  classes.{row.klass}.{row.parameter}: {row.old:g} → {row.new:.3g} [{row.ci_low:.3g}, {row.ci_high:.3g}]")
    print(f"\nWrote {out}/scenario.toml (extends {args.scenario}), {out}/fit-report.md and charts.")
    return 0


def cmd_holdout(args) -> int:
    from enforcement_grid.county.validate import run_holdout

    out, sc, mapping, cases = _read_cases(args)
    result = run_holdout(cases, sc, mapping, args.holdout_months, out, replications=args.replications,
                         workers=args.workers, force=args.force)
    print(result.summary_text())
    print(f"\nWrote {out}/ (holdout-report.md, charts, tables, the scenario fitted on the first months).")
    return 0


def cmd_export(args) -> int:
    import pandas as pd

    from enforcement_grid.sim import load_scenario
    from enforcement_grid.county.cases import load_mapping
    from enforcement_grid.county.export import SYNTHETIC_NOTE, export_frame, write_export
    from enforcement_grid.experiments.runner import run

    overrides = list(args.overrides)
    if args.days is not None:
        overrides.append(f"scenario.horizon_days={args.days}")
    sc = load_scenario(args.scenario, overrides)
    mapping = load_mapping(_mapping_path(args, sc), sc)
    start = pd.Timestamp(args.start)
    runset = run(sc, 1, workers=1, keep_records=True)  # one replication: one county's period
    frame = export_frame(runset.records, sc, mapping, start)
    note = SYNTHETIC_NOTE.format(scenario=args.scenario, seed=sc.settings.scenario.seed,
                                 overrides=" ".join(overrides) or "none")
    write_export(frame, args.out, note if args.synthetic else "")
    print(f"Wrote {len(frame):,} cases to {args.out}")
    return 0


def add_parser(sub, positive_int) -> None:
    def sets(p):
        p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override a setting of the scenario (repeatable)")

    p = sub.add_parser("new", help="write a complete scenario for a county from a table of its towns")
    p.add_argument("dir", metavar="DIR", help="folder to write")
    p.add_argument("--county", required=True, help="the county's name, e.g. 惠安县")
    p.add_argument("--towns", required=True, help="CSV: town, population, area_km2, villages, [communities], lat, lon")
    p.add_argument("--villages", help="CSV of village names: village, town, kind (村 / 社区); else placeholders")
    p.add_argument("--seat", help="the county seat (default: the most populous town)")
    p.add_argument("--name", help="scenario id (letters, digits, _ . -; default from --county)")
    p.add_argument("--force", action="store_true", help="replace an existing folder")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("calibrate", help="fit a scenario to a platform case export (CSV or Excel)")
    p.add_argument("cases", metavar="CASES", help="the export: .csv (UTF-8 or GBK) or .xlsx")
    p.add_argument("--scenario", required=True, help="the scenario to fit, e.g. scenarios/huian.toml")
    p.add_argument("--out", required=True, help="folder for the fitted scenario and the fit report")
    p.add_argument("--mapping", help="category mapping CSV (default: cases-mapping.csv beside the items table)")
    p.add_argument("--period", help="the export's period, START:END, e.g. 2023-01:2023-09 (default: first to last case)")
    p.add_argument("--reference-replications", type=positive_int, default=2,
                   help="replications of the scenario's reference run (default 2)")
    p.add_argument("--workers", type=positive_int, default=1, help="parallel processes for the reference run")
    p.add_argument("--force", action="store_true", help="replace an existing folder")
    sets(p)
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("holdout", help="fit on the first months of an export, check the model on the last ones")
    p.add_argument("cases", metavar="CASES")
    p.add_argument("--scenario", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--holdout-months", type=positive_int, default=3, help="months held out (default 3)")
    p.add_argument("--replications", type=positive_int, default=5, help="replications of the check (default 5)")
    p.add_argument("--mapping")
    p.add_argument("--period")
    p.add_argument("--workers", type=positive_int, default=1)
    p.add_argument("--force", action="store_true")
    sets(p)
    p.set_defaults(func=cmd_holdout)

    p = sub.add_parser("export-cases", help="the model's own cases in the platform export format")
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--out", required=True, help="CSV to write")
    p.add_argument("--start", default="2023-01-02", help="the date of the run's minute 0, a Monday (default 2023-01-02)")
    p.add_argument("--days", type=float, help="run length in days (scenario.horizon_days)")
    p.add_argument("--mapping")
    p.add_argument("--synthetic", action="store_true", help="label the file synthetic in a header comment")
    sets(p)
    p.set_defaults(func=cmd_export)

"""A :class:`~.fit.Fit` → a scenario folder that extends the original, and its fit report.

The folder holds ``scenario.toml`` (``extends`` the original; only fitted values, each with
its provenance and interval in a comment), ``items.csv`` (when on-site times were fitted:
the original catalogue with the fitted ``on_site_mean_min`` and a note in ``source``),
``fit-report.md`` with charts in ``charts/`` and every fitted table in ``fit/``.  The
folder is written whole or not at all, and the written scenario is loaded (validated)
before it is put in place.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pandas as pd

from enforcement_grid.sim.config import Scenario
from enforcement_grid.sim.load import load_scenario
from enforcement_grid.sim.staging import check_target, staged_folder

from .fit import CONFIDENCE, FIT_CHANNELS, Fit


def toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isascii() and key.replace("_", "").replace("-", "").isalnum() \
        else json.dumps(key, ensure_ascii=False)


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, float):
        return f"{v:.6g}" if "e" not in f"{v:.6g}" else f"{v:.6e}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return str(v)


def _num(x: float) -> float:
    """Four significant figures, as a float TOML reads back."""
    return float(f"{x:.4g}")


def scenario_text(fit: Fit, sc: Scenario, extends: str, name: str, items_file: str | None) -> str:
    prov = fit.cases.provenance()
    lines = [
        f"# Fitted by egrid calibrate from {Path(fit.cases.file).name}: {prov}.",
        f"# Values not listed here are those of {extends}. Intervals are {CONFIDENCE:.0%}; see fit-report.md.",
        f"extends = {toml_value(extends)}",
        "",
        "[scenario]",
        f"name = {toml_value(name)}",
        f"description = {toml_value(f'{sc.name} fitted to {prov}')}",
    ]
    if items_file:
        lines += ["", "[tables]", f"items = {toml_value(items_file)}   # on-site times fitted from {prov}"]
    for klass, prof in fit.profiles.items():
        lines += ["", f"[profiles.{toml_key('fitted_' + klass)}]   # report times of {prof['n']:,} {klass} cases "
                      f"({prov}); reports come after arising by the discovery delay",
                  f"hour_of_day = {toml_value(prof['hour_of_day'])}",
                  f"day_of_week = {toml_value(prof['day_of_week'])}"]
    disc = fit.discovery[fit.discovery["fitted"]]
    for klass in sc.settings.classes:
        body = []
        if klass in fit.profiles:
            body.append(f"profile = {toml_value('fitted_' + klass)}   # fitted from the report times of "
                        f"{fit.profiles[klass]['n']:,} {klass} cases, {fit.cases.span()}")
        for r in disc[disc["klass"] == klass].itertuples():
            body.append(f"{r.parameter} = {toml_value(_num(r.new))}   # fitted from the {r.channel} share of "
                        f"{prov} (CI {r.ci_low:.3g}–{r.ci_high:.3g}; was {r.old:g}; anchored on the {r.anchor} channels)")
        if body:
            lines += ["", f"[classes.{toml_key(klass)}]", *body]
    rates = fit.rates[fit.rates["fitted"] & fit.rates["factor"].notna()]
    for klass, g in rates.groupby("klass", sort=False):
        lines += ["", f"[rate_factors.{toml_key(klass)}]   # × the item rates of {klass} violations in each town"]
        for r in g.itertuples():
            lines.append(f"{toml_key(r.town)} = {toml_value(_num(r.factor))}   # fitted from {r.cases:,} cases, "
                         f"{fit.cases.span()}: {r.per_year:,.1f} a year (CI {r.ci_low:,.1f}–{r.ci_high:,.1f}); "
                         f"the scenario expected {r.model_per_year:,.1f}")
    return "\n".join(lines) + "\n"


def write_items(fit: Fit, sc: Scenario, path: Path) -> bool:
    """The catalogue with fitted on-site means; False (nothing written) when none was fitted."""
    fitted = fit.on_site[fit.on_site["fitted"]].set_index("klass")
    if fitted.empty:
        return False
    prov = fit.cases.provenance()
    from .cases import read_text
    import io

    reader = csv.DictReader(io.StringIO(read_text(Path(sc.files["items"]))))
    rows = list(reader)
    for row in rows:
        k = row["class"]
        if k in fitted.index:
            f = fitted.loc[k]
            old = float(row["on_site_mean_min"])
            row["on_site_mean_min"] = f"{old * f['factor']:.1f}"
            note = (f"on_site_mean_min fitted: {old:g} × {f['factor']:.3f} (CI {f['factor_low']:.3f}–"
                    f"{f['factor_high']:.3f}) from {int(f['cases']):,} cases closed at the visit, {prov}")
            row["source"] = f"{row.get('source', '')} | {note}".lstrip(" |")
    with path.open("w", encoding="utf-8", newline="") as handle:
        w = csv.DictWriter(handle, fieldnames=reader.fieldnames, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return True


def write_fit(fit: Fit, sc: Scenario, out: Path, force: bool = False, name: str | None = None) -> Path:
    """Write the fitted scenario folder (see the module docstring)."""
    out = Path(out)
    check_target(out, force, what="calibration folder")  # before any work: refuse early
    out.parent.mkdir(parents=True, exist_ok=True)
    with staged_folder(out, writer="egrid calibrate", force=force, what="calibration folder") as tmp:
        extends = os.path.relpath(Path(sc.files["settings"]).resolve(), out.resolve().parent / out.name)
        items_file = "items.csv" if write_items(fit, sc, tmp / "items.csv") else None
        text = scenario_text(fit, sc, extends, name or f"{sc.name}-fitted", items_file)
        (tmp / "scenario.toml").write_text(text, encoding="utf-8")
        load_scenario(tmp / "scenario.toml")  # what we wrote must load
        tables = tmp / "fit"
        tables.mkdir()
        fit.rates.to_csv(tables / "rates.csv", index=False)
        fit.shares.to_csv(tables / "shares.csv", index=False)
        fit.discovery.to_csv(tables / "discovery.csv", index=False)
        fit.on_site.to_csv(tables / "on_site.csv", index=False)
        fit.closure.to_csv(tables / "closure.csv", index=False)
        fit.cases.unmapped.to_csv(tables / "unmapped.csv", index=False)
        fit.cases.other_sources.to_csv(tables / "other_sources.csv", index=False)
        charts = fit_charts(fit, sc, tmp / "charts")
        (tmp / "fit-report.md").write_text(report_text(fit, sc, charts), encoding="utf-8")
    return out


# --------------------------------------------------------------------------- charts and report


def _err(mid: pd.Series, lo: pd.Series, hi: pd.Series) -> list:
    """Error-bar lengths below and above (never negative, none where unknown)."""
    return [(mid - lo).clip(lower=0).fillna(0).to_numpy(), (hi - mid).clip(lower=0).fillna(0).to_numpy()]


def fit_charts(fit: Fit, sc: Scenario, folder: Path) -> dict[str, str]:
    """PNG charts: rates by town and class, profiles, channel shares, on-site and closure times."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from enforcement_grid.report.fonts import use_cjk_font

    use_cjk_font()
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    classes = list(sc.settings.classes)

    fig, axes = plt.subplots(len(classes), 1, figsize=(9, 2.6 * len(classes)), squeeze=False)
    for ax, klass in zip(axes[:, 0], classes):
        r = fit.rates[fit.rates["klass"] == klass]
        x = np.arange(len(r))
        ax.bar(x - 0.2, r["per_year"], 0.4, label="export (cases a year)", color="#3b6ea5")
        ax.errorbar(x - 0.2, r["per_year"], yerr=_err(r["per_year"], r["ci_low"], r["ci_high"]),
                    fmt="none", ecolor="black", lw=0.8)
        ax.bar(x + 0.2, r["model_per_year"], 0.4, label="scenario before the fit", color="#c8c8c8")
        ax.set_xticks(x, r["town"], rotation=45, ha="right", fontsize=8)
        ax.set_title(f"{klass}: violations a year by town ({CONFIDENCE:.0%} CI)", fontsize=10)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(folder / "rates.png", dpi=110)
    plt.close(fig)
    made["rates"] = "charts/rates.png"

    if fit.profiles:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
        for klass, prof in fit.profiles.items():
            axes[0].plot(range(24), prof["hour_of_day"], marker=".", label=klass)
            axes[1].plot(range(7), prof["day_of_week"], marker="o", label=klass)
        axes[0].set_title("hour of day (reports, mean 1)", fontsize=10)
        axes[1].set_title("weekday (reports, mean 1)", fontsize=10)
        axes[1].set_xticks(range(7), ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
        axes[0].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(folder / "profiles.png", dpi=110)
        plt.close(fig)
        made["profiles"] = "charts/profiles.png"

    sh = fit.shares
    ks = list(dict.fromkeys(sh["klass"]))
    fig, axes = plt.subplots(1, max(1, len(ks)), figsize=(3.4 * max(1, len(ks)), 3.2), squeeze=False)
    for ax, klass in zip(axes[0], ks):
        g = sh[sh["klass"] == klass].set_index("channel").reindex(list(FIT_CHANNELS))
        x = np.arange(len(FIT_CHANNELS))
        ax.bar(x - 0.2, g["share"], 0.4, color="#3b6ea5", label="export")
        ax.errorbar(x - 0.2, g["share"], yerr=_err(g["share"], g["ci_low"], g["ci_high"]),
                    fmt="none", ecolor="black", lw=0.8)
        ax.bar(x + 0.2, g["reference_share"], 0.4, color="#c8c8c8", label="scenario before the fit")
        ax.set_xticks(x, FIT_CHANNELS, rotation=30, fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(f"{klass}: found by", fontsize=10)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(folder / "shares.png", dpi=110)
    plt.close(fig)
    made["shares"] = "charts/shares.png"

    from .fit import closure_hours, same_visit_minutes

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    on = same_visit_minutes(fit.cases)
    on_k = fit.cases.mapped.loc[on.index, "klass"]
    hours = closure_hours(fit.cases)
    for klass in ks:
        if (on_k == klass).sum():
            axes[0].hist(on[on_k == klass], bins=40, histtype="step", label=klass)
        h = hours.loc[hours["klass"] == klass, "hours"]
        if len(h):
            axes[1].hist(np.log10(h.clip(lower=0.01)), bins=40, histtype="step", label=klass)
    axes[0].set_title("minutes on site (cases closed at the visit)", fontsize=10)
    axes[1].set_title("report → closure, log10 hours", fontsize=10)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(folder / "times.png", dpi=110)
    plt.close(fig)
    made["times"] = "charts/times.png"
    return made


def _md(df: pd.DataFrame, floatfmt: str = "{:,.3g}") -> str:
    if df.empty:
        return "(none)\n"
    cols = list(df.columns)
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        cells = [floatfmt.format(v) if isinstance(v, float) else str(v) for v in row]
        out.append("| " + " | ".join(c if c != "nan" else "—" for c in cells) + " |")
    return "\n".join(out) + "\n"


def report_text(fit: Fit, sc: Scenario, charts: dict[str, str]) -> str:
    c = fit.cases
    prov = c.provenance()
    mapped = len(c.mapped)
    parts = [
        f"# Fit of {sc.name} to {Path(c.file).name}\n",
        f"{prov}; {mapped:,} mapped to items of the catalogue. Period {c.period[0]:%Y-%m-%d} to "
        f"{c.period[1] - pd.Timedelta(days=1):%Y-%m-%d} ({c.days:g} days). Intervals are {CONFIDENCE:.0%}. "
        f"The reference run of the scenario before the fit has {len(fit.reference.frame):,} cases.\n",
        "How each value is fitted is in the docstring of `enforcement_grid.county.fit`.\n",
    ]
    if fit.notes:
        parts += ["## Read this first\n", *[f"- {n}" for n in fit.notes], ""]
    parts += ["## Violation rates by town and class\n", f"![rates]({charts['rates']})\n",
              _md(fit.rates.drop(columns=["factor_low", "factor_high"]))]
    if "profiles" in charts:
        parts += ["## Hour-of-day and weekday profiles\n", f"![profiles]({charts['profiles']})\n"]
    parts += ["## Found by which channel\n", f"![shares]({charts['shares']})\n", _md(fit.shares),
              "### Discovery parameters\n", _md(fit.discovery),
              "## Times\n", f"![times]({charts['times']})\n", "On-site time (cases closed at the visit):\n",
              _md(fit.on_site), "Report to closure (hours; not written into the scenario):\n", _md(fit.closure)]
    if len(c.unmapped):
        parts += ["## Unmapped categories (left out of every fit)\n", _md(c.unmapped.head(50))]
    if len(c.other_sources):
        parts += ["## Other sources (in the rates, not in the shares)\n", _md(c.other_sources)]
    return "\n".join(parts)

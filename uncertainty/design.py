"""Designs of parameter draws and global sensitivity indices, with SALib.

Every input is sampled on [0, 1] (its quantile) and mapped to a value by its range
(:meth:`~uncertainty.ranges.Range.at`), so the indices compare inputs on the same
footing: the effect of moving an input across its whole plausible range.

* ``morris`` — elementary-effects screening (Morris 1991, with the μ* of Campolongo
  et al. 2007): ``samples`` trajectories of k + 1 draws each.  Indices: ``mu_star``
  (mean absolute effect, bootstrap CI from SALib), ``mu`` (mean signed effect,
  t interval over the trajectories: an input that does not matter has an interval
  that includes 0) and ``sigma`` (spread of the effects: interactions or
  non-linearity; no interval).
* ``sobol`` — variance-based indices from a Saltelli design of ``samples`` × (k + 2)
  draws: ``S1`` (first order) and ``ST`` (total), bootstrap CIs from SALib.

The designs are seeded (the scenario's seed), so the same study draws the same
points on every machine and a rerun resumes the same design.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

METHODS = ("morris", "sobol")
MAIN_INDEX = {"morris": "mu_star", "sobol": "ST"}
MORRIS_LEVELS = 4
CONFIDENCE = 0.95
RESAMPLES = 1000


def problem(names: list[str]) -> dict:
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def sample(method: str, names: list[str], samples: int, seed: int) -> np.ndarray:
    """The design: one row per draw, one column per input, quantiles in [0, 1]."""
    p = problem(names)
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(p, samples, num_levels=MORRIS_LEVELS, seed=seed)
    from SALib.sample import sobol

    with warnings.catch_warnings():  # SALib warns when samples is not a power of 2; the design is still valid
        warnings.simplefilter("ignore")
        return sobol.sample(p, samples, calc_second_order=False, seed=seed)


def draws_needed(method: str, k: int, samples: int) -> int:
    return samples * (k + 1) if method == "morris" else samples * (k + 2)


def indices(method: str, names: list[str], X: np.ndarray, Y: np.ndarray, seed: int) -> pd.DataFrame:
    """Sensitivity indices of one headline: input, index, value, ci_low, ci_high (ranked by the main index)."""
    p = problem(names)
    Y = np.asarray(Y, float)
    rows = []
    if np.nanstd(Y) == 0.0:  # the headline does not move at all: every index is exactly 0
        for n in names:
            for idx in (("mu_star", "mu", "sigma") if method == "morris" else ("S1", "ST")):
                rows.append((n, idx, 0.0, 0.0, 0.0))
    elif method == "morris":
        from SALib.analyze import morris

        with warnings.catch_warnings():  # one trajectory: no spread to estimate (sigma is NaN), said by the NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            r = morris.analyze(p, X, Y, num_resamples=RESAMPLES, conf_level=CONFIDENCE,
                               num_levels=MORRIS_LEVELS, seed=seed)
        trajectories = len(Y) // (len(names) + 1)
        t = stats.t.ppf(0.5 + CONFIDENCE / 2, max(trajectories - 1, 1))
        for i, n in enumerate(names):
            ms, conf = float(r["mu_star"][i]), float(r["mu_star_conf"][i])
            mu, sd = float(r["mu"][i]), float(r["sigma"][i])
            half = t * sd / math.sqrt(trajectories) if trajectories > 1 else float("nan")
            rows.append((n, "mu_star", ms, max(0.0, ms - conf), ms + conf))
            rows.append((n, "mu", mu, mu - half, mu + half))
            rows.append((n, "sigma", sd, float("nan"), float("nan")))
    else:
        from SALib.analyze import sobol

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = sobol.analyze(p, Y, calc_second_order=False, num_resamples=RESAMPLES, conf_level=CONFIDENCE,
                              seed=seed)
        for i, n in enumerate(names):
            for idx in ("S1", "ST"):
                v, conf = float(r[idx][i]), float(r[f"{idx}_conf"][i])
                rows.append((n, idx, v, v - conf, v + conf))
    df = pd.DataFrame(rows, columns=["input", "index", "value", "ci_low", "ci_high"])
    main = df[df["index"] == MAIN_INDEX[method]].set_index("input")["value"]
    order = {n: i for i, n in enumerate(main.sort_values(ascending=False, kind="stable").index)}
    df["_rank"] = df["input"].map(order)
    df["_idx"] = df["index"].map({k: i for i, k in enumerate(("mu_star", "mu", "sigma", "ST", "S1"))})
    return df.sort_values(["_rank", "_idx"], kind="stable").drop(columns=["_rank", "_idx"]).reset_index(drop=True)


__all__ = ["METHODS", "MAIN_INDEX", "sample", "draws_needed", "indices", "problem"]

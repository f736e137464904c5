"""Confidence intervals for the statistical tests, each at a stated level (t or normal quantile).

Replications of two plans with the same seed see the same violations (common
random numbers), so plans are compared by the **paired** t interval of the
per-replication differences.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def t_interval(x, level: float) -> tuple[float, float]:
    """Two-sided ``level`` t interval for the mean of ``x`` (n − 1 degrees of freedom)."""
    x = np.asarray(x, float)
    x = x[~np.isnan(x)]
    h = stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return x.mean() - h, x.mean() + h


def paired_t_interval(a, b, level: float) -> tuple[float, float]:
    """Two-sided ``level`` t interval for the mean of ``b − a``, paired by index (replication)."""
    return t_interval(np.asarray(b, float) - np.asarray(a, float), level)


def welch_half_width(a, b, level: float) -> float:
    """Half-width of the two-sided ``level`` Welch interval for mean(b) − mean(a), as if unpaired."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    return stats.t.ppf(0.5 + level / 2, df) * math.sqrt(va + vb)

"""Tornado charts: which inputs move a headline, and which way.

For each of the inputs ranked highest by the headline's main sensitivity index,
two bars from the mean over all draws: the mean over the draws with the input in
the lower half of its range, and in the upper half.  Labels are bilingual and
use the CJK font that installs with the project.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from enforcement_grid.report.fonts import use_cjk_font  # noqa: E402

from .design import MAIN_INDEX  # noqa: E402

TOP = 12


def tornado_table(headline: str, draws: pd.DataFrame, design: np.ndarray, names: list[str],
                  indices: pd.DataFrame, method: str) -> pd.DataFrame:
    """input, index, low_half, high_half (means of the headline) for the top inputs, ranked."""
    main = indices[(indices["headline"] == headline) & (indices["index"] == MAIN_INDEX[method])].head(TOP)
    y = draws.loc[draws.index > 0, headline].to_numpy(float)
    rows = []
    for inp, value in zip(main["input"], main["value"], strict=True):
        u = design[: len(y), names.index(inp)]
        low, high = y[u < 0.5], y[u > 0.5]
        rows.append((inp, value, np.nanmean(low) if len(low) else np.nan, np.nanmean(high) if len(high) else np.nan))
    return pd.DataFrame(rows, columns=["input", "index", "low_half", "high_half"])


def tornado(headline: str, title: str, table: pd.DataFrame, centre: float, index_name: str):
    """A matplotlib Figure: one row per input, bars from the centre to the two half-range means."""
    use_cjk_font()
    n = len(table)
    fig, ax = plt.subplots(figsize=(8.0, 1.2 + 0.42 * max(n, 1)))
    pos = np.arange(n)[::-1]
    scale = 100.0  # points of coverage
    for y, r in zip(pos, table.itertuples(), strict=True):
        ax.barh(y, (r.low_half - centre) * scale, left=centre * scale, color="#4C78A8", height=0.6,
                label="lower half of range 范围下半" if y == pos[0] else None)
        ax.barh(y, (r.high_half - centre) * scale, left=centre * scale, color="#F58518", height=0.6,
                label="upper half of range 范围上半" if y == pos[0] else None)
    ax.axvline(centre * scale, color="black", linewidth=0.8)
    shown = (lambda v: f"{v * scale:.2g} pts") if index_name == "μ*" else (lambda v: f"{v:.2f}")
    ax.set_yticks(pos, [f"{r.input}  ({index_name} {shown(r.index)})" for r in table.itertuples()], fontsize=8)
    ax.set_xlabel("percentage points 百分点" if headline.startswith(("effect:", "gain:")) else "% of violations 占比 %")
    ax.set_title(title, fontsize=10)
    if n:
        fig.legend(fontsize=8, loc="lower center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


__all__ = ["tornado_table", "tornado"]

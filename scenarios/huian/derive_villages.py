"""Derive villages.csv (218 villages and communities) from towns.csv.

Run from anywhere:  /work/venv/bin/python derive_villages.py

Real village names, populations, areas and positions are not in our sources, so every
village figure is an estimate that splits its town's figure (see SOURCES.md).  The rule
(names, population, area, businesses, position, grid workers, hot spots; largest-remainder
rounding) lives in ``enforcement_grid.county.villages``, which ``egrid new`` uses for other
counties too; this script applies it to Hui'an with the fixed seed 350521 and checks the
result, so the output is reproducible byte for byte.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from enforcement_grid.county.villages import HUIAN_SEED, derive

HERE = Path(__file__).resolve().parent
SEED = HUIAN_SEED  # Hui'an's administrative division code


def check(villages: pd.DataFrame, towns: pd.DataFrame) -> None:
    assert len(villages) == 218, len(villages)
    assert villages.village.is_unique
    g = villages.groupby("town")
    t = towns.set_index("town").sort_index()
    for col in ("population", "businesses"):
        assert (g[col].sum() == t[col]).all(), col
    assert ((g["area_km2"].sum() - t["area_km2"]).abs() <= 0.05).all()
    kinds = villages.groupby(["town", "kind"]).size().unstack(fill_value=0).reindex(t.index, fill_value=0)
    assert (kinds["community"] == t["communities"]).all()
    assert (kinds["village"] == t["villages"]).all()
    hot = villages[villages.kind == "village"].groupby("town")["hot_spot"].apply(lambda s: (s == "yes").sum())
    assert (hot >= 1).all()


def main() -> None:
    towns = pd.read_csv(HERE / "towns.csv")
    villages = derive(towns)
    check(villages, towns)
    villages.to_csv(HERE / "villages.csv", index=False, encoding="utf-8")
    print(f"wrote {len(villages)} rows to villages.csv; "
          f"population {villages.population.sum():,}, businesses {villages.businesses.sum():,}, "
          f"area {villages.area_km2.sum():.2f} km2, grid workers {villages.grid_workers.sum():,}, "
          f"hot spots {(villages.hot_spot == 'yes').sum()}")


if __name__ == "__main__":
    main()

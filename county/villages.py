"""Villages and communities derived from a table of towns, when real village figures are missing.

Real village names, populations, areas and positions are often not at hand, so every
village figure made here is an estimate that splits its town's figure:

* names      ``<town without 镇><社区|村><NN>``, e.g. 螺城社区01, 螺城村01 (unless names are given)
* population town population split by weights lognormal(0, 0.35) × 1.8 (community) / 1.0 (village)
* area_km2   town area split by an independent lognormal(0, 0.35) × 0.3 (community) / 1.0 (village)
* businesses town businesses split by population share × 1.5 (community) / 1.0 (village)
* lat, lon   polar offset from the town seat: radius R·√u with R = √(area_km2/π) km,
             u ~ U(0,1) (communities: u·0.4², i.e. within 0.4 R), uniform angle
* grid_workers  max(1, round(population/1000)): one grid per ~1,000 residents and
             1.0 full-time worker per grid (grid-patrol-inspection.md §0)
* hot_spot   ``yes`` for the most populous ~20 % of kind=village rows in each town (at least one)

Integers (population, businesses) and area (in 0.01 km²) are rounded by largest remainder,
so each town's villages sum exactly to the town figure.  The draws are made town by town in
the table's order from one seeded generator, so the output is reproducible byte for byte.

This is the one home of the rule: ``scenarios/huian/derive_villages.py`` (Hui'an's
villages.csv) and ``egrid new`` (any county) both call :func:`derive`.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

HUIAN_SEED = 350521  # Hui'an's administrative division code
SIGMA = 0.35
POP_FACTOR = {"community": 1.8, "village": 1.0}
AREA_FACTOR = {"community": 0.3, "village": 1.0}
BUSINESS_FACTOR = {"community": 1.5, "village": 1.0}
COMMUNITY_RADIUS_SHARE = 0.4
HOT_SPOT_SHARE = 0.20
RESIDENTS_PER_GRID = 1000
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON_EQUATOR = 111.320


def source_notes(made_by: str, seed: int, named: bool = False) -> dict[str, str]:
    """The ``source`` cell of a derived community and village row: how each figure was made."""
    name = "name from the village table" if named else "placeholder name"
    head = f"estimate: {made_by} (seed {seed}) splits the town figures of towns.csv - {name}; "
    grid = "grid_workers grid-patrol-inspection.md §0 (1 grid per ~1,000 residents, 1.0 worker per grid); "
    return {
        "community": (
            head + "population lognormal(0.35) weight x1.8, area x0.3, businesses by "
            "population share x1.5, location within 0.4 R of the town seat; " + grid
            + "hot_spot no (communities not flagged)"
        ),
        "village": (
            head + "population lognormal(0.35) weight x1.0, area x1.0, businesses by "
            "population share x1.0, location within R = sqrt(area/pi) of the town seat; " + grid
            + "hot_spot estimate: top ~20% villages of the town by population (more people, more "
            "building pressure)"
        ),
    }


def largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Split integer ``total`` in proportion to ``weights``; the parts sum exactly to ``total``."""
    exact = total * weights / weights.sum()
    parts = np.floor(exact).astype(int)
    short = int(total - parts.sum())
    order = np.argsort(-(exact - parts), kind="stable")
    parts[order[:short]] += 1
    return parts


def round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def derive(
    towns: pd.DataFrame,
    seed: int = HUIAN_SEED,
    made_by: str = "derive_villages.py",
    names: dict[str, list[tuple[str, str]]] | None = None,
) -> pd.DataFrame:
    """villages.csv rows for ``towns`` (columns town, population, area_km2, villages, communities,
    businesses, lat).  ``names`` (town → [(name, kind), …], communities first or not) replaces the
    placeholder names and the counts of the town table for the towns it lists."""
    rng = np.random.default_rng(seed)
    rows = []
    notes = {True: source_notes(made_by, seed, named=True), False: source_notes(made_by, seed)}
    for town in towns.itertuples(index=False):
        given = (names or {}).get(town.town)
        if given:
            kinds = [k for _, k in given]
            labels = [n for n, _ in given]
        else:
            kinds = ["community"] * int(town.communities) + ["village"] * int(town.villages)
            stem = town.town.removesuffix("镇")
            numbers = [i + 1 for i in range(int(town.communities))] + [i + 1 for i in range(int(town.villages))]
            labels = [f"{stem}{'社区' if k == 'community' else '村'}{num:02d}" for k, num in zip(kinds, numbers)]
        n = len(kinds)

        pop_w = rng.lognormal(0.0, SIGMA, n) * np.array([POP_FACTOR[k] for k in kinds])
        area_w = rng.lognormal(0.0, SIGMA, n) * np.array([AREA_FACTOR[k] for k in kinds])
        population = largest_remainder(pop_w, int(town.population))
        area_centi = largest_remainder(area_w, round_half_up(town.area_km2 * 100))
        bus_w = population * np.array([BUSINESS_FACTOR[k] for k in kinds])
        businesses = largest_remainder(bus_w.astype(float), int(town.businesses))

        radius_km = math.sqrt(town.area_km2 / math.pi)
        u = rng.uniform(0.0, 1.0, n) * np.array(
            [COMMUNITY_RADIUS_SHARE**2 if k == "community" else 1.0 for k in kinds])
        r_km = radius_km * np.sqrt(u)
        theta = rng.uniform(0.0, 2.0 * math.pi, n)
        dlat = r_km * np.sin(theta) / KM_PER_DEG_LAT
        dlon = r_km * np.cos(theta) / (KM_PER_DEG_LON_EQUATOR * math.cos(math.radians(town.lat)))

        is_village = np.array([k == "village" for k in kinds])
        hot = np.zeros(n, dtype=bool)
        if is_village.any():
            n_hot = max(1, round_half_up(HOT_SPOT_SHARE * is_village.sum()))
            idx = np.flatnonzero(is_village)
            ranked = idx[np.argsort(-population[idx], kind="stable")]
            hot[ranked[:n_hot]] = True

        for i in range(n):
            rows.append({
                "village": labels[i],
                "town": town.town,
                "kind": kinds[i],
                "population": int(population[i]),
                "area_km2": area_centi[i] / 100,
                "businesses": int(businesses[i]),
                "lat": round(town.lat + dlat[i], 5),
                "lon": round(town.lon + dlon[i], 5),
                "grid_workers": max(1, round_half_up(population[i] / RESIDENTS_PER_GRID)),
                "hot_spot": "yes" if hot[i] else "no",
                "source": notes[bool(given)][kinds[i]],
            })
    return pd.DataFrame(rows)

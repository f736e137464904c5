"""Road travel times between town seats and villages.

travel (minutes) = overhead + 60 × circuity × great-circle distance (km) / speed (km/h),
with the slower urban speed for trips inside an urban-core town.  The noise of a
single trip is a log-normal factor with mean one (``noise_cv``), drawn by the
model from its ``travel`` stream.
"""

from __future__ import annotations

import math

import numpy as np

from .config import Travel

EARTH_RADIUS_KM = 6371.0088


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def great_circle_matrix_km(lat: np.ndarray, lon: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Pairwise haversine distances (km) between two sets of points, shape (len(lat), len(lat2))."""
    p1 = np.radians(lat)[:, None]
    p2 = np.radians(lat2)[None, :]
    dl = np.radians(lon2)[None, :] - np.radians(lon)[:, None]
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def travel_minutes(distance_km: np.ndarray | float, urban: np.ndarray | bool, travel: Travel):
    """Mean one-way travel time in minutes for a road trip of the given straight-line distance."""
    speed = np.where(urban, travel.urban_speed_kmh, travel.speed_kmh)
    return travel.overhead_min + 60.0 * travel.circuity * np.asarray(distance_km) / speed

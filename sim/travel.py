"""Road travel times between town seats and villages: the one home of "minutes from here to there".

travel (minutes) = overhead + 60 × circuity × great-circle distance (km) / speed (km/h),
with the slower urban speed for trips inside an urban-core town.  The noise of a
single trip is a log-normal factor with mean one (``noise_cv``), drawn by the
model from its ``travel`` stream.

:class:`TravelTimes` holds the mean minutes between every two places of a
scenario (villages ``0 … V-1``, then town seats ``V … V+T-1``, the model's
location numbers).  The simulator, the officer-hours budget, the patrol planner,
the coverage approximation and the patrol optimiser all read it, so they agree
on every trip; :func:`travel_times` gives one shared table per scenario.
"""

from __future__ import annotations

import math
import weakref

import numpy as np

from .config import Scenario, Town, Travel, Village

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


def _key(place: Village | Town) -> tuple[str, str]:
    """A place's identity: a village by its name, a town seat by its town."""
    if isinstance(place, Village):
        return ("village", place.village)
    if isinstance(place, Town):
        return ("seat", place.town)
    raise TypeError(f"not a village or a town seat: {place!r}")


class TravelTimes:
    """Mean travel minutes between any two places (villages and town seats) of a scenario.

    A trip stays at the urban speed only when both ends lie in the same town and
    that town is one of ``travel.urban_towns``; a place to itself is 0 minutes.
    """

    def __init__(self, sc: Scenario):
        travel = sc.settings.travel
        self.places: tuple[Village | Town, ...] = (*sc.villages, *sc.towns)
        self.index: dict[tuple[str, str], int] = {_key(p): i for i, p in enumerate(self.places)}
        lat = np.array([p.lat for p in self.places], float)
        lon = np.array([p.lon for p in self.places], float)
        town_of = [p.town for p in self.places]
        urban = set(travel.urban_towns)
        same_urban = np.array([[a == b and a in urban for b in town_of] for a in town_of], bool).reshape(
            len(town_of), len(town_of))
        km = great_circle_matrix_km(lat, lon, lat, lon)
        self.mean_min: np.ndarray = np.asarray(travel_minutes(km, same_urban, travel), float)
        np.fill_diagonal(self.mean_min, 0.0)
        self.mean_min.setflags(write=False)  # shared by every reader of the scenario
        self._rows: list[list[float]] = self.mean_min.tolist()  # plain floats: fast to read one at a time

    def index_of(self, place: Village | Town) -> int:
        """The place's location number (villages first, then town seats)."""
        return self.index[_key(place)]

    def minutes(self, a: Village | Town, b: Village | Town) -> float:
        """Mean one-way travel minutes from place ``a`` to place ``b``."""
        return self._rows[self.index[_key(a)]][self.index[_key(b)]]


_SHARED: "weakref.WeakKeyDictionary[Scenario, TravelTimes]" = weakref.WeakKeyDictionary()


def travel_times(sc: Scenario) -> TravelTimes:
    """The scenario's travel-time table, built once per scenario (scenarios are immutable)."""
    tt = _SHARED.get(sc)
    if tt is None:
        tt = _SHARED[sc] = TravelTimes(sc)
    return tt

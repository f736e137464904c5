"""One random generator per random activity, from ``(seed, replication)`` only.

Each stream is keyed by its name, not by its position, so adding a new activity
never shifts the draws of the others.  Streams do not depend on the staffing,
the patrol plan or the reform mode: two plans run with the same seed and
replication see the same violations at the same places and times (common random
numbers), so their difference is the plans' and not noise.  Nothing here touches
the global ``random`` or ``numpy.random`` state.
"""

from __future__ import annotations

import zlib

import numpy as np

STREAM_NAMES = (
    "arrivals",    # how many violations arise in each hour, and when
    "placement",   # in which village, of which item
    "discovery",   # grid-worker noticing, complaint times, how long a violation stays noticeable
    "reporting",   # report, relay and triage delays
    "travel",      # noise on the response trip of each violation
    "route",       # noise on patrol, inspection and return trips
    "on_site",     # on-site handling time
    "outcome",     # corrected on the spot, case filed, or escalated
    "patrol",      # whether a patrol visit finds a latent violation
    "inspection",  # which business an inspection visits, whether it finds the violation
    "roster",      # rounding of fractional teams on duty to whole teams
    "transfer",    # transfer delay to county departments
)


def stream_key(name: str) -> int:
    """A stable integer for a stream name (CRC-32: the same on every machine and Python)."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """Named ``numpy.random.Generator`` objects for one replication."""

    def __init__(self, seed: int, replication: int, names: tuple[str, ...] = STREAM_NAMES):
        self.seed = int(seed)
        self.replication = int(replication)
        self._gens = {
            name: np.random.Generator(
                np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=(self.replication, stream_key(name))))
            )
            for name in names
        }

    def __getitem__(self, name: str) -> np.random.Generator:
        return self._gens[name]

    def __getattr__(self, name: str) -> np.random.Generator:
        try:
            return self._gens[name]
        except KeyError:
            raise AttributeError(name) from None

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
    "on_site",     # on-site handling time
    "outcome",     # corrected on the spot, case filed, or escalated
    "stock",       # the old violations present at the start: where, of what, how old
    "transfer",    # transfer delay to county departments
    "county_travel",  # noise on a county department's trip to a violation (its own draw, not the department's queue order)
)


# Streams drawn while the model runs, one per unit (see Streams.for_unit).
UNIT_STREAM_NAMES = (
    "roster",      # rounding of fractional officers on duty to whole people
    "certification",  # exam results, officer by officer and sitting by sitting
    "lifecycle",   # working time of case stages
    "route",       # noise on patrol, inspection and return trips
    "patrol",      # whether a patrol visit finds a latent violation
    "inspection",  # which business an inspection visits, whether it finds the violation
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
        self._unit_gens: dict[tuple[str, str], np.random.Generator] = {}
        self._unit_uniforms: dict[tuple[str, str], BufferedUniforms] = {}

    def for_unit(self, name: str, unit: str) -> np.random.Generator:
        """A stream of activity ``name`` owned by one unit (brigade or department).

        Draws made while the model runs (patrol detection, which business to
        inspect, travel noise on routes) come from the unit's own stream, so one
        brigade's draws do not depend on what other brigades did: a change to one
        town's plan leaves the other towns' random numbers alone.
        """
        key = (name, unit)
        if key in self._unit_uniforms:
            raise RuntimeError(f"stream {name!r} of {unit!r} is read through uniforms_for_unit (buffered) only")
        return self._unit_gen(key)

    def uniforms_for_unit(self, name: str, unit: str) -> "BufferedUniforms":
        """Uniform draws of a unit's stream (as :meth:`for_unit`), a block at a time: for streams
        that only ever give uniforms (patrol and inspection detection, which business, re-inspection).
        The same numbers in the same order as ``for_unit(name, unit).random()``; once buffered, a
        stream is read only through its buffer (:meth:`for_unit` refuses it)."""
        key = (name, unit)
        buf = self._unit_uniforms.get(key)
        if buf is None:
            buf = self._unit_uniforms[key] = BufferedUniforms(self._unit_gen(key))
        return buf

    def _unit_gen(self, key: tuple[str, str]) -> np.random.Generator:
        name, unit = key
        gen = self._unit_gens.get(key)
        if gen is None:
            seq = np.random.SeedSequence(self.seed, spawn_key=(self.replication, stream_key(name), stream_key(unit)))
            gen = self._unit_gens[key] = np.random.Generator(np.random.PCG64(seq))
        return gen

    def __getitem__(self, name: str) -> np.random.Generator:
        return self._gens[name]

    def __getattr__(self, name: str) -> np.random.Generator:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._gens[name]
        except KeyError:
            raise AttributeError(name) from None


class _BlockBuffer:
    """Draws from a generator taken a block at a time and handed out one by one.

    The same numbers in the same order as one scalar call per draw (numpy fills an array one
    value at a time with the scalar algorithm), without a numpy call per draw.  Only for a
    stream used for nothing else: the block draws ahead of what is used.  ``_draw`` names the
    generator's method.
    """

    __slots__ = ("rng", "block", "_buf", "_i")
    _draw = ""

    def __init__(self, rng: np.random.Generator, block: int = 256):
        self.rng = rng
        self.block = block
        self._buf: list[float] = []
        self._i = 0

    def _next(self) -> float:
        i = self._i
        if i >= len(self._buf):
            self._buf = getattr(self.rng, self._draw)(self.block).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]


class BufferedUniforms(_BlockBuffer):
    """Uniforms on [0, 1), as ``rng.random()`` would give them one by one."""

    __slots__ = ()
    _draw = "random"

    def random(self, n: int | None = None):
        """One uniform (``n`` None) or a list of ``n`` of them, the next in the stream."""
        if n is not None:
            return [self._next() for _ in range(n)]
        return self._next()


class BufferedNormals(_BlockBuffer):
    """Standard normals, as ``rng.standard_normal()`` would give them one by one."""

    __slots__ = ()
    _draw = "standard_normal"
    standard_normal = _BlockBuffer._next

"""The machine's speed, measured in the same run as a benchmark: a bare SimPy M/M/c.

The 2-core machine's speed drifts (by 1.5–2.6× between sessions, seen on bare SimPy alone),
so a benchmark that has an absolute target (seconds, minutes) also prints its figure
scaled to the machine of the issue's measurements, where a bare SimPy M/M/c arrival cost
:data:`ISSUE_BARE_US` µs: ``figure × ISSUE_BARE_US ÷ (this run's bare µs)``.  The scaled figure
is a proxy (pure-Python work does not slow down uniformly); the measured one is printed too.
"""

from __future__ import annotations

import multiprocessing
import time

import numpy as np
import simpy

ISSUE_BARE_US = 7.6  # bare SimPy M/M/c, µs per arrival, as issue 15 measured it on the 2-core machine


def bare_simpy_mmc(n: int, c: int, lam_per_min: float, mean_service: float, seed: int = 1,
                   count_events: bool = False) -> float:
    """Seconds for a textbook SimPy M/M/c with n arrivals (``count_events``: instead, the SimPy events it
    processes, in an untimed run)."""
    rng = np.random.default_rng(seed)
    inter = rng.exponential(1 / lam_per_min, n)
    service = rng.exponential(mean_service, n)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=c)
    waits = []

    def customer(i):
        t0 = env.now
        with servers.request() as req:
            yield req
            waits.append(env.now - t0)
            yield env.timeout(service[i])

    def source():
        for i in range(n):
            yield env.timeout(inter[i])
            env.process(customer(i))

    env.process(source())
    if count_events:
        steps = counted_steps(env)
        env.run()
        return steps[0]
    t = time.perf_counter()
    env.run()
    return time.perf_counter() - t


def counted_steps(env: simpy.Environment) -> list[int]:
    """Count the events ``env`` processes from now on (this environment only): ``[count]``, kept up to date."""
    steps = [0]
    step = env.step

    def counted():
        steps[0] += 1
        step()

    env.step = counted
    return steps


def bare_us(n: int = 35_000, rounds: int = 3) -> float:
    """This machine's bare SimPy M/M/c cost per arrival now (µs, best of ``rounds``)."""
    return min(bare_simpy_mmc(n, 3, 4.0 / 60, 30.0, seed=s) for s in range(rounds)) / n * 1e6


def at_issue_speed(value: float, bare: float) -> float:
    """``value`` (a time measured here) scaled to the issue's machine speed."""
    return value * ISSUE_BARE_US / bare


def _spin(n: int) -> float:
    """Seconds for ``n`` additions in a pure-Python loop (CPU-bound, no memory traffic to speak of)."""
    t = time.perf_counter()
    total = 0
    for i in range(n):
        total += i
    return time.perf_counter() - t


def parallel_ceiling(n: int = 10_000_000, rounds: int = 2) -> list[float]:
    """What this machine gives two processes now: two copies of the same CPU-bound loop run at once,
    throughput against one copy alone (2.0 on two free cores), measured ``rounds`` times interleaved
    (one, two, one, two …): each round's ratio (2 × single ÷ pair).  On a shared machine the second
    core is not always a whole core: a parallel speed-up is read against this figure, measured in the
    same run."""
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    singles, pairs = [], []
    with ctx.Pool(2) as pool:
        pool.map(_spin, [1000, 1000])  # both workers started before the clock
        for _ in range(rounds):
            t = time.perf_counter()
            pool.apply(_spin, (n,))
            singles.append(time.perf_counter() - t)
            t = time.perf_counter()
            pool.map(_spin, [n, n], chunksize=1)
            pairs.append(time.perf_counter() - t)
    return [2 * s / p for s, p in zip(singles, pairs)]

"""On-call duty out of hours (值班 with call-out): the team a brigade calls out for urgent items.

Brigades whose shift pattern has ``on_call = true`` keep ``on_call.teams`` on-call
teams.  When the command centre routes an urgent item (``[on_call]``: severity or
class) to a brigade with no rostered team on duty, it calls out an on-call team:
after ``callout_delay_min`` (officers get the call, dress, fetch the car) the team
leaves the base and deals with the item alone, as one team, then returns to base.
If every on-call team is out, the item waits for the next one back.  On-call time
is overtime: it is counted in ``on_call_min``, not in the on-duty team time, and it
takes no team from the next day's roster (see :func:`sim.roster.expected_teams`).
"""

from __future__ import annotations

from collections import deque

from ..calendar import overlap
from .brigade import Response, Team


def is_urgent(settings, item) -> bool:
    """The one rule for an urgent item: severity ≥ ``on_call.min_severity`` or its class listed."""
    oc = settings.on_call
    return oc is not None and (item.severity >= oc.min_severity or item.klass in oc.classes)


class OnCallTeam(Team):
    """A team at home on call: takes only call-outs, never the unit's queue."""

    def __init__(self, unit, k: int, on_call: "OnCall"):
        self.on_call = on_call
        self.unit = unit
        self.env = unit.env
        self.shift_idx = -1
        self.k = k
        self.id = f"{unit.name}/on-call/{k}"
        self.location = unit.base
        self.agenda = []
        self.wake = None
        self.process = self.env.process(self.run())

    def on_duty(self, t: float) -> bool:
        return False  # not a rostered team: the dispatcher never hands it the queue

    def _account(self, activity: str, start: float, end: float) -> None:
        self.unit.counters.on_call_min += overlap(start, end, *self.unit.window)

    def run(self):
        env = self.env
        unit = self.unit
        while True:
            if self.on_call.waiting:
                job = self.on_call.waiting.popleft()
            else:
                if self.location != unit.base:
                    t0 = env.now
                    back = unit.travel.trip(self.location, unit.base, None, unit.route_rng)
                    self.location = unit.base
                    if back > 0:
                        yield env.timeout(back)
                        self._account("response", t0, env.now)
                    continue
                self.wake = env.event()
                self.on_call.idle.append(self)
                job = yield self.wake
            yield from self._respond(job)


class OnCall:
    """A brigade's on-call teams and its call-outs waiting for one of them."""

    def __init__(self, unit, teams: int, callout_delay_min: float):
        self.unit = unit
        self.env = unit.env
        self.delay = callout_delay_min
        self.idle: list[OnCallTeam] = []
        self.waiting: deque = deque()
        self.teams = [OnCallTeam(unit, k, self) for k in range(teams)]

    def call_out(self, v, priority: int) -> None:
        """Call out an on-call team for violation ``v``: it leaves after the call-out delay."""
        unit = self.unit
        unit.count("call_outs", self.env.now)
        if unit.trace is not None:
            unit.trace.append((self.env.now, unit.name, f"v{v.id} on-call team called out"))
        job = Response(v, "first", priority, 1)  # the on-call team acts alone
        ev = self.env.timeout(self.delay, value=job)
        ev.callbacks.append(self._leave)

    def _leave(self, event) -> None:
        job = event.value
        if self.idle:
            team = self.idle.pop(0)
            wake, team.wake = team.wake, None
            wake.succeed(job)
        else:
            self.waiting.append(job)

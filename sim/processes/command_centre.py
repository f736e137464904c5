"""The command centre (F6, F15): triage of reports, and transfer of items the town does not handle.

A report reaches the centre (after the channel's report delay) and is triaged
(the violation's pre-drawn triage delay).  Then: the town's item goes to its
brigade's queue (priority = severity); anything else is **transferred** to the
owning county department, which receives it after the transfer delay.  On receipt
the department decides (F15 joint consultation, 联合会商) whether the case needs
joint action with the town: a share ``transfer.returned_share`` is sent back to the
town's brigade at once, which acts jointly; the department acts on the rest.
A visiting team that finds an item that is not its brigade's reports it here
(:meth:`CommandCentre.relay`).  When the home brigade cannot act, a neighbour may
(:mod:`.mutual_aid`); an urgent item out of hours calls out the on-call team
(:mod:`.on_call`).
"""

from __future__ import annotations

from .brigade import Response
from .on_call import is_urgent


class CommandCentre:
    """Routes reported violations to the unit that acts (``units``: name → unit, filled by the model)."""

    def __init__(self, env, items, units: dict, watch, trace: list | None, settings):
        self.env = env
        self.settings = settings
        self.mutual_aid = None  # sim.processes.mutual_aid.MutualAid, set by the model when enabled
        self.items = items
        self.units = units
        self.watch = watch
        self.trace = trace
        self.returned_share = settings.transfer.returned_share

    def schedule_passive(self, v, now: float, horizon: float) -> None:
        """A passive discovery's report, triaged, arrives at ``t_passive + report + triage`` (if in the run)."""
        at = v.t_passive + v.report_delay + v.triage_delay
        if at < horizon:
            ev = self.env.timeout(at - now, value=v)
            ev.callbacks.append(self._passive_report)

    def _passive_report(self, event) -> None:
        v = event.value
        if v.found:  # a patrol or inspection got there first
            return
        v.found = True
        v.channel = v.passive_channel
        v.t_disc = v.t_passive
        v.t_report = v.t_passive + v.report_delay
        self.watch.remove(v)
        if self.trace is not None:
            self.trace.append((self.env.now, "command centre", f"v{v.id} reported by {v.channel}"))
        self.route(v)

    def relay(self, v) -> None:
        """A visiting team reports a violation it does not act on: triage, then route."""
        ev = self.env.timeout(v.triage_delay, value=v)
        ev.callbacks.append(lambda e: self.route(e.value))

    def route(self, v) -> None:
        """The triage decision: the town acts, or transfer to the county."""
        item = self.items[v.item]
        if v.handled:
            self._to_brigade(v, item)
        else:
            if self.trace is not None:
                self.trace.append((self.env.now, "command centre", f"v{v.id} transferred to {item.department}"))
            v.t_transfer = self.env.now
            ev = self.env.timeout(v.transfer_delay, value=v)
            ev.callbacks.append(self._transfer_arrives)

    def _to_brigade(self, v, item) -> None:
        """The town's item: its brigade; a neighbour if the home brigade cannot act (mutual aid);
        the on-call team if it is urgent and nobody is on duty (on-call); else the home queue."""
        now = self.env.now
        home = self.units[v.brigade]
        home.count("routed", now)
        helper = self.mutual_aid.helper(home, now) if self.mutual_aid is not None else None
        if helper is not None:
            home.count("aided_by_others", now)
            helper.count("aided_others", now)
            if self.trace is not None:
                self.trace.append((now, "command centre", f"v{v.id} to {helper.name} (mutual aid for {home.name})"))
            helper.submit(Response(v, "first", item.severity, item.teams_needed))
            return
        if self.trace is not None:
            self.trace.append((now, "command centre", f"v{v.id} to {v.brigade}"))
        if home.on_call is not None and is_urgent(self.settings, item) and not home.any_on_duty(now):
            home.on_call.call_out(v, item.severity)
            return
        home.submit(Response(v, "first", item.severity, item.teams_needed))

    def _transfer_arrives(self, event) -> None:
        """The department receives the case: joint action with the town (sent back on receipt, so
        when it reaches the town does not depend on the department's queue), or its own."""
        v = event.value
        item = self.items[v.item]
        if self.trace is not None:
            self.trace.append((self.env.now, item.department, f"v{v.id} received"))
        if v.return_u < self.returned_share:
            v.returned = True
            if self.trace is not None:
                self.trace.append((self.env.now, item.department, f"v{v.id} returned to {v.brigade} for joint action"))
            self.units[v.brigade].submit(Response(v, "joint", item.severity, item.teams_needed))
            return
        self.units[item.department].submit(Response(v, "transfer", item.severity, item.teams_needed))

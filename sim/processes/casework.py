"""From the first team on site to closure: outcomes, growing illegal buildings, the case lifecycle.

* **Outcome** of the first action (drawn from the violation's pre-drawn uniform
  against its class's shares): corrected on the spot, a case filed (the team does
  the class's follow-up work), or escalated to the owning county department.
* **Growth** (``[building_growth]``): for the listed classes, the floor area grows
  while the violation is unseen; a structure past a quarter of its final size
  can no longer be put right on the spot, and the officer-hours of dealing with
  it grow with the area (the acting team spends up to a cap of them itself).
* **Lifecycle** (``[lifecycle]``, F15): a filed town case goes through filing,
  investigation, legal review by the brigade's law posts (a limited resource, for
  cases of at least ``review_min_severity``) and decision, in working time; its
  time limit runs from the first action.
* **Transfer** (F2, F15): a county department acts on a transferred case; a case
  the department sent back on receipt (``returned_share``, :mod:`.command_centre`)
  gets the town's joint action instead, with the same outcome, growth and follow-up.
* **Re-inspection** (``[reinspection]``, 复查): after a brigade's first action on its
  own item, a share of the corrected violations and of the filed cases gets a second
  visit ``delay_days`` later (drawn from the brigade's ``reinspection`` stream); the
  visit is team time, not part of the violation's record.
"""

from __future__ import annotations

import math

import simpy

from ..calendar import WorkCalendar
from ..config import MIN_PER_DAY, MIN_PER_HOUR, OFFICERS_PER_TEAM, Scenario
from .brigade import Response, Revisit


class Casework:
    """The rules a violation follows once a team is on site.

    Collaborators: ``units`` (name → unit, for escalations and lifecycles; filled
    by the model after the units are built), the ``recorder`` (records and trace)
    and the ``streams`` (each brigade's lifecycle stream).
    """

    def __init__(self, env, sc: Scenario, units: dict, recorder, streams):
        self.env = env
        self.units = units
        self.recorder = recorder
        self.trace = recorder.trace
        self.streams = streams
        s = sc.settings
        class_keys = tuple(s.classes)
        self.classes = [s.classes[k] for k in class_keys]
        self.items = sc.items
        g = s.building_growth
        self.growth = g if (g is not None and g.enabled) else None
        self.growth_classes = {class_keys.index(k) for k in self.growth.classes} if self.growth else set()
        lc = s.lifecycle
        self.lifecycle = lc if (lc is not None and lc.enabled) else None
        if self.lifecycle is not None:
            from ..config import WEEKDAYS, _clock_min

            self.calendar = WorkCalendar(
                tuple(WEEKDAYS.index(d) for d in lc.working_days), _clock_min(lc.day_start),
                _clock_min(lc.day_end), tuple(lc.holidays),
            )
            self.limit_days = {i.code: lc.decision_working_days.get(i.category, lc.default_decision_working_days)
                               for i in sc.items}
            self.reviewers: dict[str, simpy.Resource] = {}
            for b in sc.brigades:
                law = sc.law_posts(b.name)
                self.reviewers[b.name] = simpy.Resource(
                    self.env, capacity=max(1, round(law * lc.reviewers_per_law_post)))
        self.reinspection = s.reinspection
        self.revisit_priority = s.command_centre.inspection_priority  # scheduled work, like an inspection

    # ------------------------------------------------------------------ first action

    def dispatched(self, v, team, stage: str) -> None:
        """The lead team of a response sets off: the first dispatch is the violation's."""
        if self.trace is not None:
            self.trace.append((self.env.now, team.id, f"v{v.id} dispatched ({stage})"))
        if stage == "first" or (stage in ("transfer", "joint") and math.isnan(v.t_dispatch)):
            v.t_dispatch = self.env.now
            v.team = team.id
            v.handler = team.unit.name

    def begin_action(self, v, team, stage: str) -> tuple[float, float]:
        """The team is on site: (on-site minutes, follow-up minutes), and the outcome."""
        now = self.env.now
        if self.trace is not None:
            self.trace.append((now, team.id, f"v{v.id} on site ({stage})"))
        if math.isnan(v.t_onsite):
            v.t_onsite = now
            if not v.team:
                v.team = team.id
                v.handler = team.unit.name
                v.t_dispatch = now
        if stage == "escalation":
            return v.on_site_dur, 0.0
        growing = v.klass in self.growth_classes
        if growing:
            g = self.growth
            v.area = min(g.max_area_m2, g.area_per_day_m2 * (now - v.t) / MIN_PER_DAY)
        if stage in ("transfer", "joint"):  # the department's own action, or the town's joint one
            v.outcome = "transferred"
            return v.on_site_dur, self._growth_followup(v) if growing else 0.0
        c = self.classes[v.klass]
        if v.outcome_u < c.corrected_share:
            v.outcome = "corrected"
        elif v.outcome_u < c.corrected_share + c.case_share:
            v.outcome = "case_filed"
        else:
            v.outcome = "escalated"
        if growing and v.outcome == "corrected" and v.area > self.growth.correctable_area_share * self.growth.max_area_m2:
            v.outcome = "case_filed"  # a largely built structure cannot be put right on the spot
        if v.outcome == "corrected":
            if growing:
                v.cost_h = self.growth.stop_officer_hours
            return v.on_site_dur, 0.0
        if growing:
            return v.on_site_dur, self._growth_followup(v)
        return v.on_site_dur, c.case_followup_min if v.outcome == "case_filed" else 0.0

    def _growth_followup(self, v) -> float:
        """Officer-hours of dealing with the structure; the team's own share of them, in minutes."""
        g = self.growth
        v.cost_h = g.stop_officer_hours + g.officer_hours_per_m2 * v.area
        team_hours = max(v.cost_h - g.stop_officer_hours, 0.0) / OFFICERS_PER_TEAM  # both officers work on it
        return min(team_hours, g.max_team_hours_per_case) * MIN_PER_HOUR

    def end_action(self, v, stage: str, team=None) -> None:
        units = self.units
        now = self.env.now
        item = self.items[v.item]
        trace = self.trace
        if trace is not None:
            trace.append((now, team.id, f"v{v.id} {v.outcome} ({stage})"))
        if stage == "first" and self.reinspection is not None and v.handled and v.outcome in ("corrected", "case_filed"):
            self._maybe_revisit(v)
        if stage == "first" and v.outcome == "escalated":
            if trace is not None:
                trace.append((now, team.id, f"v{v.id} escalated to {item.department}"))
            units[item.department].submit(Response(v, "escalation", item.severity, item.teams_needed))
            return
        if stage == "first" and v.outcome == "case_filed" and self.lifecycle is not None and v.handled:
            self.env.process(self._lifecycle(v, units[v.brigade]))
            return
        v.t_closed = now
        self.recorder.finish(v)

    def _maybe_revisit(self, v) -> None:
        r = self.reinspection
        share = r.corrected_share if v.outcome == "corrected" else r.case_share
        if share <= 0.0 or self.streams.uniforms_for_unit("reinspection", v.brigade).random() >= share:
            return
        # one timeout with a callback, not a process (a process costs two more events: its start and its end)
        self.env.timeout(r.delay_days * MIN_PER_DAY, value=v).callbacks.append(self._revisit_due)

    def _revisit_due(self, event) -> None:
        v = event.value
        if self.trace is not None:
            self.trace.append((self.env.now, v.brigade, f"v{v.id} re-inspection due"))
        self.units[v.brigade].submit(Revisit(v, self.reinspection.visit_min, self.revisit_priority))

    # ------------------------------------------------------------------ the case lifecycle

    def _lifecycle(self, v, unit):
        """Filing, investigation, legal review (if major), decision — in working time."""
        lc = self.lifecycle
        cal = self.calendar
        env = self.env
        rng = self.streams.for_unit("lifecycle", unit.name)
        v.t_filed = env.now
        trace = self.trace
        if trace is not None:
            trace.append((env.now, unit.name, f"v{v.id} filed"))
        v.deadline = cal.add(env.now, cal.working_days_to_minutes(self.limit_days[self.items[v.item].code]))
        for hours in (lc.filing_hours, lc.investigation_hours):
            yield env.timeout(cal.add(env.now, rng.exponential(hours * MIN_PER_HOUR) if hours else 0.0) - env.now)
        if v.severity >= lc.review_min_severity:
            v.t_review_req = env.now
            if trace is not None:
                trace.append((env.now, unit.name, f"v{v.id} review requested"))
            with self.reviewers[unit.name].request() as req:
                yield req
                v.t_review = env.now
                if trace is not None:
                    trace.append((env.now, unit.name, f"v{v.id} review started"))
                work = rng.exponential(lc.review_hours * MIN_PER_HOUR) if lc.review_hours else 0.0
                yield env.timeout(cal.add(env.now, work) - env.now)
        work = rng.exponential(lc.decision_hours * MIN_PER_HOUR) if lc.decision_hours else 0.0
        yield env.timeout(cal.add(env.now, work) - env.now)
        v.t_closed = env.now
        self.recorder.finish(v)


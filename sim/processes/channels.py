"""Discovery channels as small policy objects: how a latent violation comes to be known (F7, F8, F10–F12).

Two kinds:

* a **passive** channel (:class:`PassiveChannel`: grid worker, complaint) finds a
  violation by itself; its delay is drawn when the violation arises
  (:meth:`~PassiveChannel.delay_min`), and the earliest passive channel wins
  (ties go to the one registered first);
* a **visit** channel (:class:`VisitChannel`: patrol, inspection, campaign) looks at
  the latent violations where a team is; :meth:`~VisitChannel.found` draws whether
  the team sees one, from the team's unit's own stream.

The model builds one object of each registered class from the configuration
(:func:`build_channels`), hands the passive ones to the arrivals and each visit
channel to the units or campaigns that visit.

**Adding a channel**: write one class here (a subclass of ``PassiveChannel`` with
``name``, ``report_delay_mean_min`` and ``delay_min``, or of ``VisitChannel`` with
``name``, ``stream`` and ``detect_prob``) and add it to :data:`REGISTRY`.

**The stock of old violations** (``[stock]``): a violation present at the start
(``age`` > 0) is one nobody has reported so far, so the grid worker's and the
complaint rates and a patrol's detection probability are scaled by the stock's
own factors (``stock.grid_notice_factor``, ``complaint_factor``,
``patrol_detection_factor``); campaigns and inspections keep theirs.  Its
records carry ``channel = name`` and the measures count ``found_<name>``
automatically (:data:`CHANNELS`).  A passive channel that needs random numbers
draws them from a stream of its own, ``streams.for_unit(name, "county")``
(created on first use), so the draws of the others do not move; a new visit
channel needs a team that visits (a unit's job or a campaign's sweep) to call
``look`` and ``found``.  ``tests/test_paths.py`` adds a toy channel this way.
"""

from __future__ import annotations

import math

from ..config import MIN_PER_DAY
from .discovery import grid_coverage
from .inspection import Inspection

INF = math.inf


def stock_factor(sc, name: str) -> float:
    """The stock's factor ``name`` of its class's rate (1 without a stock)."""
    stock = sc.settings.stock
    return getattr(stock, name) if stock is not None else 1.0


class PassiveChannel:
    """Finds a violation on its own after a delay drawn when the violation arises."""

    name = ""
    report_delay_mean_min = 0.0  # mean delay from discovery to the command centre
    # delay_min draws from a stream of its own: a run that simulates some towns only must still ask
    # it for every other violation, to keep the stream where the whole county's run has it.  False
    # for a channel that only reads the arrival batch's pre-drawn numbers.
    draws_in_delay = True

    def __init__(self, sc, categories: list[str], streams):
        """Built once per replication from the scenario, the sorted item categories and the streams."""

    def delay_min(self, b, j: int, c: int, village: int, item: int, age: float) -> float:
        """Minutes from ``max(arising, 0)`` to discovery (``inf``: never); ``b`` the arrival batch,
        ``j`` the violation's row, ``c`` its class, ``age`` how old it is at minute 0 (stock)."""
        raise NotImplementedError

    def report_delay_min(self, town: str) -> float:
        """Mean minutes from discovery to the command centre for a violation in ``town``."""
        return self.report_delay_mean_min


class GridWorker(PassiveChannel):
    """The village grid worker notices at the class's rate × the village's grid coverage."""

    name = "grid"
    draws_in_delay = False  # the batch's grid_e

    def __init__(self, sc, categories: list[str], streams):
        s = sc.settings
        self.report_delay_mean_min = s.grid.report_delay_mean_min
        self.report_delay_by_town_min = dict(s.grid.report_delay_by_town_min)  # towns on a faster chain
        self.per_min = [c.grid_notice_per_day / MIN_PER_DAY for c in (s.classes[k] for k in s.classes)]
        # the grid covers each village in proportion to its workers per grid (and, with separate
        # networks, only through the networks that watch an item's category: F10)
        cover = []
        for v in sc.villages:
            row = []
            for cat in categories:
                if s.grid.networks == "separate":
                    share = sum(n.share for n in s.grid.separate.values() if cat in n.categories)
                else:
                    share = 1.0
                row.append(grid_coverage(v.grid_workers * share, v.population, s.grid.residents_per_grid))
            cover.append(row)
        self.cover = cover  # plain floats: read once per violation
        self.item_category = [categories.index(i.category) for i in sc.items]
        self.stock_factor = stock_factor(sc, "grid_notice_factor")

    def report_delay_min(self, town: str) -> float:
        return self.report_delay_by_town_min.get(town, self.report_delay_mean_min)

    def delay_min(self, b, j, c, village, item, age):
        rate = self.per_min[c] * self.cover[village][self.item_category[item]]
        if age > 0.0:
            rate *= self.stock_factor
        return b.grid_e[j] / rate if rate > 0 else INF


class Complaint(PassiveChannel):
    """A citizen complains at the class's rate while the violation stays noticeable."""

    name = "complaint"
    draws_in_delay = False  # the batch's complaint_e and noticeable_e

    def __init__(self, sc, categories: list[str], streams):
        s = sc.settings
        classes = [s.classes[k] for k in s.classes]
        self.report_delay_mean_min = s.complaint.relay_delay_mean_min
        self.per_min = [c.complaint_per_day / MIN_PER_DAY for c in classes]
        self.noticeable_min = [c.noticeable_days * MIN_PER_DAY for c in classes]
        self.stock_factor = stock_factor(sc, "complaint_factor")

    def delay_min(self, b, j, c, village, item, age):
        rate = self.per_min[c] * (self.stock_factor if age > 0.0 else 1.0)
        t = b.complaint_e[j] / rate if rate > 0 else INF
        noticeable = self.noticeable_min[c]
        if t > (b.noticeable_e[j] - age / noticeable) * noticeable:
            return INF  # no longer noticeable by then
        return t


class VisitChannel:
    """Looks at latent violations where a team is; the team sees each with a probability."""

    name = ""
    stream = ""  # the unit stream the detection draws come from
    stock_factor = 1.0  # of the class's detection probability, for the stock of old violations

    def __init__(self, sc, env, streams, watch, command_centre, trace):
        self.env = env
        self.streams = streams
        self.watch = watch
        self.command_centre = command_centre
        self.trace = trace
        self.classes = [sc.settings.classes[k] for k in sc.settings.classes]

    def detect_prob(self, klass: int) -> float:
        raise NotImplementedError

    def look(self, village: int) -> list:
        """Latent violations in the village that nobody has noticed yet."""
        return self.watch.visible_in_village(village, self.env.now)

    def found(self, v, team, p: float | None = None) -> bool:
        """Does the visiting team see ``v`` (probability ``p``, else the class's for this channel)?
        If so it is discovered; True if the team acts on it now (its own brigade's item),
        else it is reported to the command centre, which routes it."""
        now = self.env.now
        if v.found or v.t_passive <= now:
            return False  # seen since the visit began (by the grid, a complaint, or this team)
        if p is None:
            p = self.detect_prob(v.klass) * (self.stock_factor if v.stock else 1.0)
        if p <= 0.0 or self.streams.uniforms_for_unit(self.stream, team.unit.name).random() >= p:
            return False
        v.found = True
        v.channel = self.name
        v.t_disc = now
        v.t_report = now
        self.watch.remove(v)
        if self.trace is not None:
            self.trace.append((now, team.id, f"v{v.id} found on {self.name}"))
        if v.handled and v.brigade == team.unit.name:
            return True
        self.command_centre.relay(v)  # not the brigade's item: reported to the command centre
        return False


class Patrol(VisitChannel):
    """A brigade patrol visiting a village on its route (F12)."""

    name = "patrol"
    stream = "patrol"

    def __init__(self, sc, env, streams, watch, command_centre, trace):
        super().__init__(sc, env, streams, watch, command_centre, trace)
        self.visit_min = [sc.settings.patrol.visit_min(v.population) for v in sc.villages]
        self.stock_factor = stock_factor(sc, "patrol_detection_factor")

    def detect_prob(self, klass):
        return self.classes[klass].patrol_detect_prob


class Campaign(VisitChannel):
    """A campaign sweep (F11): the campaign's own detection probability, drawn like a patrol's."""

    name = "campaign"
    stream = "patrol"

    def detect_prob(self, klass):
        raise ValueError("a campaign sweep passes its campaign's detect_prob")


class InspectionChannel(Inspection, VisitChannel):
    """A business inspection (F8): the class's inspection detection probability."""

    name = "inspection"
    stream = "inspection"

    def __init__(self, sc, env, streams, watch, command_centre, trace):
        VisitChannel.__init__(self, sc, env, streams, watch, command_centre, trace)
        Inspection.__init__(self, sc, env, streams, watch)

    def detect_prob(self, klass):
        return self.classes[klass].inspection_detect_prob


# name → class, in the order the measures list the channels; passive channels compete in this order
REGISTRY: dict[str, type] = {
    "grid": GridWorker,
    "patrol": Patrol,
    "complaint": Complaint,
    "inspection": InspectionChannel,
    "campaign": Campaign,
}
CHANNELS = tuple(REGISTRY)


def build_channels(sc, env, streams, watch, command_centre, trace) -> dict[str, object]:
    """One object of each registered channel, configured from the scenario."""
    categories = sorted({i.category for i in sc.items})
    out = {}
    for name, cls in REGISTRY.items():
        if issubclass(cls, PassiveChannel):
            out[name] = cls(sc, categories, streams)
        else:
            out[name] = cls(sc, env, streams, watch, command_centre, trace)
    return out

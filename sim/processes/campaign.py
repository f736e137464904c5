"""Concentrated campaigns (F11: 分格管理、集中攻坚): teams pulled together onto one item category.

For each campaign day, ``teams_per_town`` first-shift teams of each campaign town
leave routine work (the model takes them off its roster before the run) and
sweep the campaign villages in turn from their town's seat: travel, a visit as
long as a patrol visit, and every latent violation of the campaign's category
there is found with ``detect_prob`` and acted on at once.  Their time is
counted as campaign time, apart from routine utilisation.
"""

from __future__ import annotations

from ..calendar import overlap
from ..config import MIN_PER_DAY, Campaign, Scenario


def campaign_villages(sc: Scenario, campaign: Campaign) -> list[str]:
    """The villages a campaign sweeps, in order: a list as given, else the hot spots (or all villages) of its towns."""
    if isinstance(campaign.villages, list):
        return list(campaign.villages)
    return [v.village for v in sc.villages
            if v.town in campaign.towns and (campaign.villages == "all" or v.hot_spot)]


class CampaignTeam:
    """A team on campaign duty: it looks like a team to the model's case rules."""

    def __init__(self, unit, k: int, campaign: Campaign):
        self.unit = unit
        self.id = f"{unit.name}/campaign:{campaign.name}/{k}"


def campaign_process(env, campaign: Campaign, villages: list[int], shift_of: dict, *, brigade_of_town: dict,
                     travel, channel, visit_min: list[float], casework, window: tuple[float, float],
                     horizon: float):
    """SimPy process of one campaign; ``shift_of[town]`` = (start, end) minutes of the town's first shift.
    Each day the brigades' rosters say how many teams they could send (at most ``teams_per_town``).

    Collaborators: ``brigade_of_town`` (town → its brigade unit), ``travel`` (trip times),
    ``channel`` (the campaign discovery channel: ``look`` and ``found``), ``visit_min``
    (minutes a visit takes, by village: as long as a patrol's), ``casework``, and the
    observation ``window``."""
    start_day = int(campaign.start_day)
    days = int(round(campaign.days))
    cursor = 0
    for d in range(days):
        day = start_day + d
        if day * MIN_PER_DAY >= horizon:
            return
        sweeps = []
        for town in campaign.towns:
            unit = brigade_of_town[town]
            unit.daily.teams_on(day)
            for k in range(min(campaign.teams_per_town, unit.daily.force.get(day, 0))):
                route = [villages[(cursor + j) % len(villages)] for j in range(len(villages))]
                cursor += 1
                s0, s1 = shift_of[town]
                sweeps.append(env.process(_sweep(env, campaign, CampaignTeam(unit, k, campaign), route,
                                                 day * MIN_PER_DAY + s0, day * MIN_PER_DAY + s1,
                                                 travel, channel, visit_min, casework, window)))
        if sweeps:
            yield env.all_of(sweeps)
        next_day = (day + 1) * MIN_PER_DAY
        if env.now < next_day:
            yield env.timeout(next_day - env.now)


def _sweep(env, campaign: Campaign, team: CampaignTeam, route: list[int], t_start: float, t_end: float,
           travel, channel, visit_min, casework, window):
    if t_start > env.now:
        yield env.timeout(t_start - env.now)
    unit = team.unit
    here = unit.base
    began = env.now
    for village in route:
        trip = travel.trip(here, village, None, unit.route_rng)
        if env.now + trip + visit_min[village] >= t_end:
            break
        yield env.timeout(trip + visit_min[village])
        here = village
        for v in channel.look(village):
            if casework.items[v.item].category != campaign.category:
                continue
            if channel.found(v, team, campaign.detect_prob):
                on_site, followup = casework.begin_action(v, team, "first")
                yield env.timeout(on_site + followup)
                casework.end_action(v, "first", team)
    yield env.timeout(travel.trip(here, unit.base, None, unit.route_rng))
    w0, w1 = window
    unit.counters.campaign_min += overlap(began, env.now, w0, w1)

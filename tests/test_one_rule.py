"""One rule per quantity: the simulator, the budget, the approximation and the patrol planners agree.

Teams a brigade fields on a shift come from :func:`sim.roster.expected_teams`
and travel minutes from :class:`sim.travel.TravelTimes`; these tests check that
every stage that uses either quantity gets the simulator's value, on the Hui'an
scenario and on a small factory scenario with transition posts.
"""

from __future__ import annotations

import math
from pathlib import Path

import factory
import numpy as np
import pytest

from enforcement_grid.optimize import patrol as OP
from enforcement_grid.optimize.approx import TownApprox
from enforcement_grid.optimize.data import need_certified_for_teams
from enforcement_grid.sim.budget import WEEKS_PER_YEAR, budget_table
from enforcement_grid.sim.config import MIN_PER_HOUR
from enforcement_grid.sim.load import load_scenario
from enforcement_grid.sim.model import Model
from enforcement_grid.sim.patrol_plan import default_plan, patrol_teams
from enforcement_grid.sim.roster import (
    DailyTeams,
    Roster,
    expected_people,
    expected_teams,
    first_shift,
    kept_share,
    mean_teams,
    presence_factor,
)
from enforcement_grid.sim.staffing import largest_remainder, with_staffing
from enforcement_grid.sim.streams import Streams
from enforcement_grid.experiments.sweep import restaff
from enforcement_grid.sim.travel import great_circle_km, travel_times


HUIAN = Path(__file__).resolve().parents[1] / "scenarios" / "huian.toml"
Z_999 = 3.2905  # two-sided 99.9 % standard normal quantile


@pytest.fixture(scope="module")
def huian():
    return load_scenario(HUIAN, ["scenario.horizon_days=30", "scenario.warmup_days=1"])


def _with_transition(settings, tables):
    settings["transition"] = {"sources": ["county_department"], "share_of_posts": 0.5, "available_share": 0.5}
    settings["patrol"]["response_teams_reserved"] = 0


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return load_scenario(factory.scenario(tmp_path_factory.mktemp("one_rule"), _with_transition))


@pytest.fixture(params=["huian", "small"])
def sc(request):
    return request.getfixturevalue(request.param)


# ---------------------------------------------------------------------------- teams per shift


def test_mean_teams_is_the_mean_of_the_simulators_rounding():
    # floor(floor(x + U) / 2) for U uniform: exact values
    assert mean_teams(5.84) == pytest.approx(2.84)  # 5 or 6 people → 2 or 3 teams
    assert mean_teams(4.94) == pytest.approx(2.0)  # 4 or 5 people → 2 teams either way
    assert mean_teams(1.5) == pytest.approx(0.5)
    assert mean_teams(0.7) == 0.0
    assert mean_teams(6.0) == 3.0


def test_simulator_fields_the_expected_people_of_the_one_rule(sc):
    model = Model(sc, 0)
    for b in sc.brigades:
        daily = model.units[b.name].daily
        want = expected_people(sc, b.name)
        got = daily._expected_people(0)  # day 0: nobody has sat an exam yet
        pattern = sc.settings.shift_patterns[b.shift_pattern]
        assert dict(zip([s.name for s in pattern.shifts], got.tolist())) == want  # exactly the same product


def test_small_scenario_counts_transition_posts(small):
    # 甲镇: 4 of its 22 officers are county-department posts, half in transition at half time
    assert kept_share(small, "甲镇") == pytest.approx(1 - 4 / 22 * 0.5 * 0.5)
    assert expected_people(small, "甲镇")["day"] == pytest.approx(
        16 * kept_share(small, "甲镇") * presence_factor(small, "day") * small.settings.officer_time.field_share)


def test_simulated_teams_average_to_expected_teams(small):
    """Mean teams over many simulated days within a 99.9 % normal interval of the one rule's value."""
    days = 4000
    for b in small.brigades:
        pattern = small.settings.shift_patterns[b.shift_pattern]
        streams = Streams(11, 0)
        roster = Roster(small, b.name, streams.for_unit("certification", b.name))
        daily = DailyTeams(pattern, presence_factor(small, b.shift_pattern), small.settings.officer_time.field_share,
                           streams.for_unit("roster", b.name), roster=roster)
        want = expected_teams(small, b.name)
        for s_i, shift in enumerate(pattern.shifts):
            draws = np.array([daily.teams_on(d)[s_i] for d in range(days) if d % 7 in shift.weekday_numbers], float)
            x = expected_people(small, b.name)[shift.name]
            f = x - math.floor(x)
            sd = math.sqrt(f * (1 - f)) if math.floor(x) % 2 == 1 else 0.0  # teams a or a + 1, or always a
            half = Z_999 * sd / math.sqrt(len(draws)) + 1e-12
            assert abs(draws.mean() - want[shift.name]) <= half, (b.name, shift.name, draws.mean(), want[shift.name])


def test_approximation_uses_the_simulators_teams(sc):
    for t in sc.towns:
        approx = TownApprox(sc, t.town, samples=20)
        certified = sum(r.certified for r in sc.staffing if r.brigade == t.town)
        assert approx.teams(certified) == expected_teams(sc, t.town)
        assert approx.teams(certified + 7) == expected_teams(sc, t.town, certified + 7)
        need = need_certified_for_teams(sc, t.town)
        assert min(expected_people(sc, t.town, need).values()) >= 2.0 - 1e-9
        if need > 2:
            assert min(expected_people(sc, t.town, need - 1).values()) < 2.0


def test_budget_team_hours_are_the_simulators_teams(sc):
    df = budget_table(sc).set_index("brigade")
    for b in sc.brigades:
        pattern = sc.settings.shift_patterns[b.shift_pattern]
        teams = expected_teams(sc, b.name)
        want = sum(2 * teams[s.name] * s.length_min / MIN_PER_HOUR * len(s.weekday_numbers) * WEEKS_PER_YEAR
                   for s in pattern.shifts)
        assert df.loc[b.name, "team_field_hours"] == pytest.approx(want, rel=1e-12)


def test_huian_first_shift_teams_count_transition_posts(huian):
    # 崇武镇: 2 × 2.92 people expected on the early shift → 2.84 teams, not floor(3.09) = 3 (the old figure)
    first = first_shift(huian, "staggered").name
    assert expected_people(huian, "崇武镇")[first] / 2 == pytest.approx(2.92, abs=0.005)
    assert expected_teams(huian, "崇武镇")[first] == pytest.approx(2.84, abs=0.005)
    assert patrol_teams(huian, "崇武镇") == max(0, 2 - huian.settings.patrol.response_teams_reserved)


def test_patrol_plans_use_the_one_rules_patrol_teams(sc):
    plan = default_plan(sc)
    for b in sc.brigades:
        mine = plan[plan["town"] == b.name]
        if not mine.empty:
            assert int(mine["team"].max()) < patrol_teams(sc, b.name)
        shift = first_shift(sc, b.shift_pattern)
        want = max(0, math.floor(expected_teams(sc, b.name)[shift.name]) - sc.settings.patrol.response_teams_reserved)
        assert patrol_teams(sc, b.name) == want


def test_patrol_optimiser_uses_the_one_rules_patrol_teams(small):
    result = OP.plan_patrols(small, time_limit_s=5)
    assert not result.problems
    for b in small.brigades:
        mine = result.plan[result.plan["town"] == b.name]
        per_day = mine.groupby("day")["team"].nunique()
        assert (per_day <= patrol_teams(small, b.name)).all()


# ---------------------------------------------------------------------------- travel minutes


def test_travel_rule_by_hand(huian):
    tt = travel_times(huian)
    tr = huian.settings.travel
    seat = huian.town_by_name["螺城镇"]  # an urban-core town
    own = next(v for v in huian.villages if v.town == "螺城镇")
    other = next(v for v in huian.villages if v.town == "紫山镇")
    km = great_circle_km(seat.lat, seat.lon, own.lat, own.lon)
    assert tt.minutes(seat, own) == pytest.approx(tr.overhead_min + 60 * tr.circuity * km / tr.urban_speed_kmh, rel=1e-12)
    km = great_circle_km(seat.lat, seat.lon, other.lat, other.lon)
    assert tt.minutes(seat, other) == pytest.approx(tr.overhead_min + 60 * tr.circuity * km / tr.speed_kmh, rel=1e-12)
    assert tt.minutes(own, own) == 0.0
    assert tt.minutes(seat, own) == tt.minutes(own, seat)


def test_simulator_and_planners_read_the_same_travel_minutes(sc):
    tt = travel_times(sc)
    model = Model(sc, 0)
    places = tt.places
    for a in places[:: max(1, len(places) // 15)]:
        for b in places[:: max(1, len(places) // 15)]:
            i, j = tt.index_of(a), tt.index_of(b)
            assert model.travel.rows[i][j] == tt.minutes(a, b)
            assert OP._trip(sc, a, b) == tt.minutes(a, b)
    for t in sc.towns:
        approx = TownApprox(sc, t.town, samples=20)
        villages = [v for v in sc.villages if v.town == t.town]
        seat = sc.town_by_name[sc.settings.reform.county_seat]
        assert approx.base_travel.tolist() == [tt.minutes(t, v) for v in villages]
        assert approx.county_travel.tolist() == [tt.minutes(seat, v) for v in villages]  # urban speed in the seat's town


def test_budget_patrol_hours_are_the_plans_routes_in_the_simulators_minutes(sc):
    tt = travel_times(sc)
    plan = default_plan(sc)
    df = budget_table(sc, plan).set_index("brigade")
    for b in sc.brigades:
        base = sc.town_by_name[b.base_town]
        total = 0.0
        for _, route in plan[plan["town"] == b.name].sort_values(["day", "team", "order"]).groupby(["day", "team"]):
            stops = [sc.village_by_name[v] for v in route["village"]]
            here, minutes = base, 0.0
            for stop in stops:
                minutes += tt.minutes(here, stop) + sc.settings.patrol.visit_min(stop.population)
                here = stop
            total += minutes + tt.minutes(here, base)
        assert df.loc[b.name, "patrol_hours"] == pytest.approx(total * WEEKS_PER_YEAR * 2 / MIN_PER_HOUR, rel=1e-12)


# ---------------------------------------------------------------------------- staffing


def test_largest_remainder_one_rule_for_lists_and_mappings():
    assert largest_remainder(10, [1, 1, 1]) == [4, 3, 3]
    assert largest_remainder(10, {"a": 1.0, "b": 1.0, "c": 1.0}) == {"a": 4, "b": 3, "c": 3}
    assert largest_remainder(7, [0.5, -1.0, 0.5]) == [4, 0, 3]
    assert largest_remainder(0, [1, 2]) == [0, 0]
    assert sum(largest_remainder(357, [781, 120, 55, 3])) == 357


def test_restaff_and_with_staffing_keep_the_source_totals(small):
    out = restaff(small, "乙镇", 20)
    assert sum(r.officers for r in out.staffing if r.brigade == "乙镇") == 20
    totals: dict[str, int] = {}
    for r in out.staffing:
        totals[r.source] = totals.get(r.source, 0) + r.officers
    assert out.settings.staffing.sources == totals
    same = with_staffing(small, small.staffing)
    assert same.settings.staffing.sources == small.settings.staffing.sources
    assert same.patrol_plan == small.patrol_plan


def test_every_interval_takes_the_one_t_quantile():
    """The t quantile of the summaries, of `egrid compare` and of the run folder's backlog is
    sim.measures.t_quantile: exactly scipy.stats' t quantile, NaN without a degree of freedom."""
    from scipy import stats

    from enforcement_grid.report import compare, rundir
    from enforcement_grid.sim import measures

    df = np.array([1, 2, 3, 4.5, 9, 29, 99, 1e6, np.inf])
    for confidence in (0.9, 0.95, 0.99):
        assert np.array_equal(measures.t_quantile(confidence, df), stats.t.ppf(0.5 + confidence / 2, df))
    assert np.isnan(measures.t_quantile(0.95, 0.0))
    for module in (compare, rundir):
        assert module.t_quantile is measures.t_quantile
        assert "stats" not in vars(module)  # no second way to the quantile
    values = np.array([[1.0, 2.0], [3.0, 5.0], [4.0, 4.0]])
    half = rundir._t_half(values, 0.95)
    assert np.array_equal(half, stats.t.ppf(0.975, 2) * values.std(axis=0, ddof=1) / np.sqrt(3))

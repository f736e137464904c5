"""Exact event logs of each path a violation can take, on a tiny deterministic scenario.

One town, one village at the seat (10 minutes away by the travel overhead), two
brigade teams and one team per county department on duty around the clock, fixed
on-site times, and violations injected with fixed draws (``factory.paths``).  Each
test compares the full list of ``(time, who, what)`` the model logs with the
expected list, as SimPy's own tests do.  Grid discovery takes 60 minutes (unit
exponential at 24 notices a day), the report 30, triage 10: a violation arising at
10:00 on Monday (minute 600) reaches the command centre's decision at minute 700.
"""

from __future__ import annotations

import pytest

import factory
from enforcement_grid.sim import load_scenario
from enforcement_grid.sim.model import Model
from enforcement_grid.sim.processes.violations import InjectedViolation

VILLAGE = "甲村1"
TOWN = "甲镇"
A, B = f"{TOWN}/all/0", f"{TOWN}/all/1"  # the brigade's two teams
CC = "command centre"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return load_scenario(factory.paths(tmp_path_factory.mktemp("paths")))


def event_log(sc, *arrivals: InjectedViolation) -> tuple[list[tuple], Model]:
    trace: list[tuple] = []
    model = Model(sc, 0, arrivals=list(arrivals), trace=trace)
    model.run()
    return [(round(t, 6), who, what) for t, who, what in trace], model


def start(item: str) -> list[tuple]:
    return [(600.0, VILLAGE, f"v0 arises: {item}"), (700.0, CC, "v0 reported by grid")]


def outcome_of(model: Model) -> str:
    (row,) = model.recorder.sink.rows
    return row.outcome


def test_corrected_on_the_spot(scenario):
    log, model = event_log(scenario, InjectedViolation(600.0, VILLAGE, "S-1"))
    assert log == start("S-1") + [
        (700.0, CC, f"v0 to {TOWN}"),
        (700.0, A, "v0 dispatched (first)"),
        (710.0, A, "v0 on site (first)"),
        (730.0, A, "v0 corrected (first)"),  # 20 minutes on site
        (730.0, TOWN, "v0 closed: corrected"),
    ]
    assert outcome_of(model) == "corrected"


def test_case_filed_through_legal_review_and_decision(scenario):
    """On site 90 minutes + 60 of follow-up; then filing and investigation, legal review
    and decision in working time (08:00–17:00, drawn from the brigade's lifecycle stream)."""
    log, model = event_log(scenario, InjectedViolation(600.0, VILLAGE, "B-1", outcome_u=0.6))
    assert log == start("B-1") + [
        (700.0, CC, f"v0 to {TOWN}"),
        (700.0, A, "v0 dispatched (first)"),
        (710.0, A, "v0 on site (first)"),
        (860.0, A, "v0 case_filed (first)"),
        (860.0, TOWN, "v0 filed"),
        (929.329704, TOWN, "v0 review requested"),
        (929.329704, TOWN, "v0 review started"),
        (1929.630534, TOWN, "v0 closed: case_filed"),  # the next working day
    ]
    assert outcome_of(model) == "case_filed"


def test_transferred_to_the_county_department(scenario):
    """Not the town's item: the command centre transfers it (2 hours), the fire department acts."""
    log, model = event_log(scenario, InjectedViolation(600.0, VILLAGE, "H-1"))
    assert log == start("H-1") + [
        (700.0, CC, "v0 transferred to fire"),
        (820.0, "fire", "v0 received"),
        (820.0, "fire/all/0", "v0 dispatched (transfer)"),
        (830.0, "fire/all/0", "v0 on site (transfer)"),
        (890.0, "fire/all/0", "v0 transferred (transfer)"),
        (890.0, "fire", "v0 closed: transferred"),
    ]
    assert outcome_of(model) == "transferred"


def test_returned_for_joint_action(scenario):
    """The department sends the case back on receipt (return_u below the returned share, F15
    joint consultation): the town acts jointly, the department's team never sets off, and the
    town's brigade is the case's handler."""
    log, model = event_log(scenario, InjectedViolation(600.0, VILLAGE, "H-1", return_u=0.0))
    assert log == start("H-1") + [
        (700.0, CC, "v0 transferred to fire"),
        (820.0, "fire", "v0 received"),
        (820.0, "fire", f"v0 returned to {TOWN} for joint action"),
        (820.0, A, "v0 dispatched (joint)"),
        (830.0, A, "v0 on site (joint)"),
        (890.0, A, "v0 transferred (joint)"),
        (890.0, TOWN, "v0 closed: transferred"),
    ]
    (row,) = model.recorder.sink.rows
    assert (row.outcome, row.returned, row.handler, row.dispatched_min) == ("transferred", True, TOWN, 820.0)


def test_escalated_to_the_county_department(scenario):
    log, model = event_log(scenario, InjectedViolation(600.0, VILLAGE, "S-1", outcome_u=0.9))
    assert log == start("S-1") + [
        (700.0, CC, f"v0 to {TOWN}"),
        (700.0, A, "v0 dispatched (first)"),
        (710.0, A, "v0 on site (first)"),
        (730.0, A, "v0 escalated (first)"),
        (730.0, A, "v0 escalated to urban"),
        (730.0, "urban/all/0", "v0 dispatched (escalation)"),
        (740.0, "urban/all/0", "v0 on site (escalation)"),
        (760.0, "urban/all/0", "v0 escalated (escalation)"),
        (760.0, TOWN, "v0 closed: escalated"),
    ]
    assert outcome_of(model) == "escalated"


def test_an_item_needing_four_officers_takes_two_teams(scenario):
    """Both teams are dispatched together; the escort stays on site as long as the lead."""
    log, model = event_log(scenario, InjectedViolation(600.0, VILLAGE, "Q-4"))
    assert log == start("Q-4") + [
        (700.0, CC, f"v0 to {TOWN}"),
        (700.0, A, "v0 dispatched (first)"),
        (700.0, B, "v0 escort dispatched"),
        (710.0, B, "v0 escort on site"),
        (710.0, A, "v0 on site (first)"),  # work starts with both teams there
        (750.0, A, "v0 corrected (first)"),  # 40 minutes on site
        (750.0, TOWN, "v0 closed: corrected"),
    ]
    assert outcome_of(model) == "corrected"


def test_a_four_officer_item_waits_for_the_second_team(scenario):
    """One team busy on a street case: the four-officer job waits until both are free, and the
    work starts when the second team is on site too (team A is already in the village)."""
    log, _ = event_log(scenario, InjectedViolation(600.0, VILLAGE, "S-1"),
                       InjectedViolation(610.0, VILLAGE, "Q-4"))
    assert [e for e in log if "v1" in e[2]] == [
        (610.0, VILLAGE, "v1 arises: Q-4"),
        (710.0, CC, "v1 reported by grid"),
        (710.0, CC, f"v1 to {TOWN}"),
        (730.0, A, "v1 dispatched (first)"),  # team A free at 730, in the village already
        (730.0, B, "v1 escort dispatched"),  # team B from the seat, 10 minutes away
        (740.0, B, "v1 escort on site"),
        (740.0, A, "v1 on site (first)"),
        (780.0, A, "v1 corrected (first)"),
        (780.0, TOWN, "v1 closed: corrected"),
    ]


def test_a_new_discovery_channel_is_one_class_and_its_registration(scenario, monkeypatch):
    """A toy passive channel (a hotline that hears of every violation after 5 minutes) registered
    before the grid: it wins, and the record and the log carry its name; nothing else changed."""
    from enforcement_grid.sim.processes import channels

    class Hotline(channels.PassiveChannel):
        name = "hotline"
        report_delay_mean_min = 15.0

        def __init__(self, sc, categories, streams):
            pass

        def delay_min(self, b, j, c, village, item, age):
            return 5.0

    monkeypatch.setattr(channels, "REGISTRY", {"hotline": Hotline, **channels.REGISTRY})
    log, model = event_log(scenario, InjectedViolation(600.0, VILLAGE, "S-1"))
    assert log[:3] == [(600.0, VILLAGE, "v0 arises: S-1"), (630.0, CC, "v0 reported by hotline"),
                       (630.0, CC, f"v0 to {TOWN}")]  # 5 + 15 report + 10 triage
    (row,) = model.recorder.sink.rows
    assert (row.channel, row.discovered_min, row.reported_min) == ("hotline", 605.0, 620.0)


def test_a_department_without_a_shift_clock_takes_a_case_at_its_next_shift_start(tmp_path):
    """A county department has no routine work, so it runs no shift clock: a case received after
    hours wakes it at the next shift start (Tuesday 08:00; after a Friday evening, Monday 08:00),
    and its on-duty time is still every shift of the run (10 weekdays × 9 h × one team)."""
    sc = load_scenario(factory.paths(tmp_path, department_pattern="day"))
    monday_3pm, friday_3pm = 900.0, 4 * 1440 + 900.0
    log, model = event_log(sc, InjectedViolation(monday_3pm, VILLAGE, "H-1"),
                           InjectedViolation(friday_3pm, VILLAGE, "H-1"))
    fire = [(t, what) for t, who, what in log if who.startswith("fire")]
    assert fire == [
        (1120.0, "v0 received"),  # Monday 18:40: after hours
        (1920.0, "v0 dispatched (transfer)"),  # Tuesday 08:00
        (1930.0, "v0 on site (transfer)"),
        (1990.0, "v0 transferred (transfer)"),
        (1990.0, "v0 closed: transferred"),
        (4 * 1440 + 1120.0, "v1 received"),  # Friday 18:40
        (7 * 1440 + 480.0, "v1 dispatched (transfer)"),  # Monday 08:00
        (7 * 1440 + 490.0, "v1 on site (transfer)"),
        (7 * 1440 + 550.0, "v1 transferred (transfer)"),
        (7 * 1440 + 550.0, "v1 closed: transferred"),
    ]
    fire_unit = model.units["fire"]
    assert not fire_unit.routine
    assert fire_unit.counters.team_shift_min == 10 * 540.0 and fire_unit.counters.shift_min == 10 * 540.0


def test_a_team_on_its_way_back_takes_waiting_work_when_it_reaches_base(scenario):
    """Team A heads back to base (10 minutes) after its first case; a four-officer job reported
    meanwhile waits for it, and both teams are dispatched when A is back at base, A leading (as a
    team arriving at base looks for work first)."""
    log, _ = event_log(scenario, InjectedViolation(600.0, VILLAGE, "S-1"),
                       InjectedViolation(635.0, VILLAGE, "Q-4"))
    assert [e for e in log if "v1" in e[2]] == [
        (635.0, VILLAGE, "v1 arises: Q-4"),
        (735.0, CC, "v1 reported by grid"),
        (735.0, CC, f"v1 to {TOWN}"),
        (740.0, A, "v1 dispatched (first)"),  # A left the village at 730: at base at 740
        (740.0, B, "v1 escort dispatched"),
        (750.0, B, "v1 escort on site"),
        (750.0, A, "v1 on site (first)"),
        (790.0, A, "v1 corrected (first)"),
        (790.0, TOWN, "v1 closed: corrected"),
    ]

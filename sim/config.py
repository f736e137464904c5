"""The validated, frozen configuration of a scenario.

A scenario is a TOML file of settings plus CSV tables (towns, villages, items,
staffing, county departments, optionally a patrol plan).  :mod:`sim.load` reads
them into the classes below; nothing downstream reads files.  Units are in the
field names (``_min`` minutes, ``_hours``, ``_days``, ``_per_day``,
``_per_year``); the model converts to its one internal unit, minutes, through the
``*_min`` properties here, so there is one place where units change.

Every class rejects unknown keys and values of the wrong type: a typo in a
scenario file is an error, never a silently ignored setting.

Facts cited as ``F1`` … ``F16`` here and throughout the code are those of
docs/domain.md, which also says where the model carries each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import datetime as dt
import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MIN_PER_HOUR = 60.0
MIN_PER_DAY = 1440.0
MIN_PER_WEEK = 7 * MIN_PER_DAY
OFFICERS_PER_TEAM = 2  # F4 (docs/domain.md): the law requires at least two certified officers to act
DAYS_PER_YEAR = 365.0
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# where posts come from (F3): the scenario's [sources] table (PostSource), never a list in code
# discovery channels: sim.processes.channels.CHANNELS (one policy object each)


class _Settings(BaseModel):
    """A TOML section: strict types, unknown keys rejected, immutable."""

    # str_strip_whitespace: a stray space typed after a value ("甲镇 ") is not part of it
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False, str_strip_whitespace=True)


class _Row(BaseModel):
    """A CSV row: text cells are parsed (``"12"`` → 12, ``"yes"`` → True), unknown columns rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False)


# --------------------------------------------------------------------------- settings


class ScenarioInfo(_Settings):
    """Name, seed and run length of a scenario."""

    name: str = Field(min_length=1, pattern=r"^[\w.-]+$")  # letters (Chinese too), digits, _ . -: a folder name
    title_zh: str = ""
    title_en: str = ""
    description: str = ""
    seed: int = Field(ge=0)
    horizon_days: float = Field(gt=0)
    warmup_days: float = Field(ge=0)
    replications: int = Field(ge=1)

    @model_validator(mode="after")
    def _warmup_inside_horizon(self):
        if self.warmup_days >= self.horizon_days:
            raise ValueError(
                f"warmup_days ({self.warmup_days}) must be shorter than horizon_days ({self.horizon_days})"
            )
        return self

    @property
    def horizon_min(self) -> float:
        return self.horizon_days * MIN_PER_DAY

    @property
    def warmup_min(self) -> float:
        return self.warmup_days * MIN_PER_DAY


class Tables(_Settings):
    """Paths of the CSV tables, relative to the TOML file that names them."""

    towns: str = Field(min_length=1)
    villages: str = Field(min_length=1)
    items: str = Field(min_length=1)
    staffing: str = Field(min_length=1)
    departments: str = Field(min_length=1)
    patrol_plan: str = ""


class Reform(_Settings):
    """Before or after the reform.

    ``after``: one brigade per town at the town seat, delegated items handled by
    the town (or only those of ``delegated_categories``, for a phased delegation),
    grid reports go to the town command centre.  ``before``: one county
    brigade at the county seat serves all towns and handles only the
    ``before_brigade_categories``; every other item belongs to a county department.
    """

    mode: Literal["after", "before"]
    county_seat: str
    county_brigade: str = Field(min_length=1)
    county_brigade_shift_pattern: str
    before_brigade_categories: list[str]
    # after the reform, only delegated items of these categories are the towns' (phased delegation);
    # absent: every delegated item
    delegated_categories: list[str] | None = None


class PostSource(_Settings):
    """A source of posts (F3, ``[sources.<key>]``): where a brigade's officers come from.

    ``law``: its posts count as law posts — the legal reviewers of the case
    lifecycle (``lifecycle.reviewers_per_law_post``) and the optimiser's
    ``min_law_posts_per_brigade``.
    """

    label_zh: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    law: bool = False


class CategoryLabel(_Settings):
    """The labels of an item category (``[categories.<category of items.csv>]``) for charts and reports."""

    label_zh: str = Field(min_length=1)
    label_en: str = Field(min_length=1)


class Staffing(_Settings):
    """Posts by source (F3): the staffing table must add up to these totals.

    Every key must be a source of ``[sources]`` (checked in :func:`sim.load.check_references`).
    """

    sources: dict[str, int]

    @field_validator("sources")
    @classmethod
    def _nonnegative(cls, v: dict[str, int]):
        for key, n in v.items():
            if n < 0:
                raise ValueError(f"sources.{key} must be >= 0, got {n}")
        return v


class OfficerTime(_Settings):
    """The officer time budget: what is left for the field of a nominal working year.

    ``other_town_work_share`` is the share of on-duty time lost to other town work
    (中心工作, secondment), the loss the no-secondment rule of F3 exists to stop.
    """

    duty_days_per_year: float = Field(gt=0, le=366)
    annual_leave_days: float = Field(ge=0)
    training_days: float = Field(ge=0)
    desk_share: float = Field(ge=0, lt=1)
    other_town_work_share: float = Field(ge=0, lt=1)

    @model_validator(mode="after")
    def _days_left(self):
        if self.annual_leave_days + self.training_days >= self.duty_days_per_year:
            raise ValueError("annual_leave_days + training_days must be fewer than duty_days_per_year")
        return self

    @property
    def net_duty_days(self) -> float:
        """Days a year an officer is actually on duty."""
        return self.duty_days_per_year - self.annual_leave_days - self.training_days

    @property
    def field_share(self) -> float:
        """Share of on-duty time available for field work (patrol, inspection, response)."""
        return (1.0 - self.desk_share) * (1.0 - self.other_town_work_share)


def _clock_text(v):
    """A clock time as written: ``"08:00"``, ``"08:00:00"`` or a TOML time (``08:00:00``) → ``"08:00"``."""
    if isinstance(v, dt.time) and not (v.second or v.microsecond):
        return v.strftime("%H:%M")
    if isinstance(v, str) and re.fullmatch(r"\s*\d{1,2}:\d\d:00\s*", v):
        return v.strip()[:-3]
    return v


def _clock_min(text: str) -> int:
    hh, _, mm = text.partition(":")
    if not (text.isascii() and hh.isdigit() and mm.isdigit() and len(mm) == 2):
        raise ValueError("expected a clock time HH:MM")
    h, m = int(hh), int(mm)
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise ValueError("expected a clock time between 00:00 and 24:00")
    return h * 60 + m


def _weekday_names(days: list[str]) -> list[str]:
    """Weekday names (Mon … Sun), each at most once."""
    for d in days:
        if d not in WEEKDAYS:
            raise ValueError(f"unknown weekday {d!r}; expected one of {', '.join(WEEKDAYS)}")
    if len(set(days)) != len(days):
        raise ValueError("a weekday is listed twice")
    return days


class Shift(_Settings):
    """One shift of a pattern: clock times, weekdays, and the share of staff on it."""

    name: str = Field(min_length=1)
    start: str
    end: str
    days: list[str] = Field(min_length=1)
    staff_share: float = Field(gt=0, le=1)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock_as_written(cls, v):
        return _clock_text(v)

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, v: str):
        _clock_min(v)
        return v

    @field_validator("days")
    @classmethod
    def _weekdays(cls, v: list[str]):
        return _weekday_names(v)

    @model_validator(mode="after")
    def _ordered(self):
        if _clock_min(self.end) <= _clock_min(self.start):
            raise ValueError(f"shift {self.name!r} must end after it starts (no shifts over midnight)")
        return self

    @property
    def start_min(self) -> int:
        """Minutes after midnight."""
        return _clock_min(self.start)

    @property
    def end_min(self) -> int:
        return _clock_min(self.end)

    @property
    def length_min(self) -> int:
        return self.end_min - self.start_min

    @property
    def weekday_numbers(self) -> tuple[int, ...]:
        return tuple(WEEKDAYS.index(d) for d in self.days)


class ShiftPattern(_Settings):
    """The shifts a brigade works (its rota), and whether it keeps a team on call out of hours.

    ``staff_share``: the share of the officers present on a day who work the shift.
    On each weekday the shares of the shifts running that day add up to at most one,
    and to exactly one on the fullest day (a weekday day shift of 1.0 plus a weekend
    duty shift of 0.3: on a Saturday 30 % of a weekday's staff are on duty).  Officers
    spread their duty days over all the slots (:func:`sim.roster.presence_factor`).
    ``on_call``: out of hours a team can be called out for urgent items (``[on_call]``).
    """

    shifts: list[Shift] = Field(min_length=1)
    on_call: bool = False
    label_zh: str = ""  # how reports name the rota (empty: its key)
    label_en: str = ""

    @model_validator(mode="after")
    def _shares(self):
        names = [s.name for s in self.shifts]
        if len(set(names)) != len(names):
            raise ValueError("shift names must be unique within a pattern")
        per_day = [sum(s.staff_share for s in self.shifts if d in s.weekday_numbers) for d in range(7)]
        if max(per_day) > 1.0 + 1e-6 or abs(max(per_day) - 1.0) > 1e-6:
            raise ValueError("staff_share of the shifts running on a weekday must sum to 1 on the fullest day "
                             f"and to at most 1 on any day; got {', '.join(f'{x:g}' for x in per_day)} (Mon…Sun)")
        return self

    @property
    def slot_days_per_week(self) -> float:
        """Σ staff_share × weekdays of each shift: the officer-days a week the rota asks per present officer."""
        return sum(s.staff_share * len(s.weekday_numbers) for s in self.shifts)

    @property
    def duty_day_min(self) -> float:
        """Mean shift minutes of an officer's duty day (weighted by the slots of each shift)."""
        return sum(s.staff_share * len(s.weekday_numbers) * s.length_min for s in self.shifts) / self.slot_days_per_week

    @property
    def working_days(self) -> tuple[int, ...]:
        """Weekdays (0 = Monday) on which at least one shift runs."""
        return tuple(sorted({d for s in self.shifts for d in s.weekday_numbers}))


class Profile(_Settings):
    """Relative intensity of violations by hour of day (24 values) and weekday (7, Monday first).

    Only the shape matters: each list is rescaled to mean one, so the annual rate
    of each item is kept.
    """

    hour_of_day: list[float] = Field(min_length=24, max_length=24)
    day_of_week: list[float] = Field(min_length=7, max_length=7)

    @field_validator("hour_of_day", "day_of_week")
    @classmethod
    def _nonnegative(cls, v: list[float]):
        if any(x < 0 for x in v):
            raise ValueError("weights must be >= 0")
        if sum(v) <= 0:
            raise ValueError("at least one weight must be > 0")
        return v


class ViolationClass(_Settings):
    """A group of items that share a target time and how they are found.

    Classes exist so that one class's volume (street cases) cannot hide another's
    (illegal building, hidden hazards) in the coverage figures.
    """

    label_zh: str
    label_en: str
    target_hours: float = Field(gt=0)
    profile: str
    grid_notice_per_day: float = Field(ge=0)
    complaint_per_day: float = Field(ge=0)
    noticeable_days: float = Field(gt=0)
    patrol_detect_prob: float = Field(ge=0, le=1)
    inspection_detect_prob: float = Field(ge=0, le=1)
    corrected_share: float = Field(ge=0, le=1)
    case_share: float = Field(ge=0, le=1)
    escalated_share: float = Field(ge=0, le=1)
    case_followup_min: float = Field(ge=0)
    weight: float = Field(ge=0)

    @model_validator(mode="after")
    def _outcome_shares(self):
        total = self.corrected_share + self.case_share + self.escalated_share
        if abs(total - 1.0) > 1e-6:
            raise ValueError(
                f"corrected_share + case_share + escalated_share must sum to 1, got {total:g}"
            )
        return self

    @property
    def target_min(self) -> float:
        return self.target_hours * MIN_PER_HOUR


class Grid(_Settings):
    """Village grid workers (F7, F10).

    A village has ``population / residents_per_grid`` grids (at least one); its
    grid coverage is grid workers ÷ grids, at most one, and scales how fast the
    grid notices violations.  Reports reach the command centre after an
    exponential delay with mean ``report_delay_mean_min``, or the town's own mean
    in ``report_delay_by_town_min`` (before the reform the county seat reported
    through the county urban-management information system, the rural towns by
    phone and paper through the town).

    Three networks in one (F10): ``merged`` — every grid worker watches every
    item category; ``separate`` — the village's grid workers are split among
    networks (urban-management assistants, public-security patrollers,
    governance grid workers), each watching only its ``categories``, so a
    violation is watched by the share of workers whose network covers it.
    """

    residents_per_grid: float = Field(gt=0)
    report_delay_mean_min: float = Field(ge=0)
    report_delay_by_town_min: dict[str, float] = {}
    networks: Literal["merged", "separate"] = "merged"
    separate: dict[str, "GridNetwork"] = {}

    @field_validator("report_delay_by_town_min")
    @classmethod
    def _nonnegative_delays(cls, v: dict[str, float]):
        for town, minutes in v.items():
            if minutes < 0:
                raise ValueError(f"report_delay_by_town_min.{town} must be >= 0, got {minutes:g}")
        return v

    @model_validator(mode="after")
    def _separate_networks(self):
        if self.networks == "separate":
            if not self.separate:
                raise ValueError('networks = "separate" needs [grid.separate.<network>] tables')
            total = sum(n.share for n in self.separate.values())
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"the separate networks' shares of grid workers must sum to 1, got {total:g}")
        return self


class GridNetwork(_Settings):
    """One of the separate grid networks: its share of the grid workers and the item categories it watches."""

    share: float = Field(ge=0, le=1)
    categories: list[str]


Grid.model_rebuild()


class Complaint(_Settings):
    """Citizen complaints (12345): relay time from the hotline to the command centre."""

    relay_delay_mean_min: float = Field(ge=0)


class CommandCentre(_Settings):
    """Triage at the command centre before a case is dispatched or transferred (F6), and dispatch order.

    A unit's queue is served highest priority first: a reported violation has its
    item's ``severity`` (1–3), a scheduled business inspection ``inspection_priority``.
    """

    triage_mean_min: float = Field(ge=0)
    inspection_priority: int = Field(ge=0)


class OnCall(_Settings):
    """On-call duty out of hours (值班 with call-out): an urgent item reported while its brigade
    has no team on duty calls out the on-call team after ``callout_delay_min``.

    Urgent: severity ≥ ``min_severity``, or a class in ``classes``.  Only brigades whose
    shift pattern has ``on_call = true`` keep ``teams`` on-call teams (outside the roster:
    a call-out is overtime, so it takes no team from the next shift).
    """

    enabled: bool
    callout_delay_min: float = Field(ge=0)
    min_severity: int = Field(ge=1, le=4)
    classes: list[str] = []
    teams: int = Field(ge=1)


class MutualAid(_Settings):
    """Neighbouring brigades help (左右协同): when the home brigade has no team on duty, or its
    queue holds ``queue_threshold`` jobs or more with no team free, the command centre sends the
    nearest brigade (by travel time, base to base: ``sim.travel``) that has a free team on duty,
    among those within ``max_travel_min``."""

    enabled: bool
    queue_threshold: int = Field(ge=0)
    max_travel_min: float = Field(gt=0)


class Transfer(_Settings):
    """Transfer (移送) of non-delegated items to the owning county department (F2, F15)."""

    delay_mean_hours: float = Field(ge=0)
    returned_share: float = Field(default=0.0, ge=0, le=1)  # sent back to the town for joint action

    @property
    def delay_mean_min(self) -> float:
        return self.delay_mean_hours * MIN_PER_HOUR


class Travel(_Settings):
    """Road travel time = overhead + circuity × great-circle distance / speed."""

    circuity: float = Field(ge=1, le=3)  # road ÷ straight-line distance; above 3 is a slip (125 for 1.25)
    speed_kmh: float = Field(gt=0, le=150)
    urban_speed_kmh: float = Field(gt=0, le=150)
    urban_towns: list[str]
    overhead_min: float = Field(ge=0)
    noise_cv: float = Field(ge=0, le=2)


class Patrol(_Settings):
    """Brigade village patrols (F12): frequency bounds and visit time.

    Visit time = ``visit_base_min`` + ``visit_min_per_1k_residents`` × residents / 1000.
    ``response_teams_reserved`` day-shift teams never patrol so response continues.
    """

    min_visits_per_week: int = Field(ge=0, le=7)
    hot_spot_visits_per_week: int = Field(ge=0, le=7)
    max_visits_per_week: int = Field(ge=0, le=7)
    visit_base_min: float = Field(ge=0)
    visit_min_per_1k_residents: float = Field(ge=0)
    response_teams_reserved: int = Field(ge=0)

    @model_validator(mode="after")
    def _bounds(self):
        if not (self.min_visits_per_week <= self.hot_spot_visits_per_week <= self.max_visits_per_week):
            raise ValueError(
                "expected min_visits_per_week <= hot_spot_visits_per_week <= max_visits_per_week"
            )
        return self

    def visit_min(self, residents: float) -> float:
        return self.visit_base_min + self.visit_min_per_1k_residents * residents / 1000.0

    def visits_per_week(self, hot_spot: bool) -> int:
        """The visits a week the rule asks of a village (F12: weekly; hot spots more often)."""
        return self.hot_spot_visits_per_week if hot_spot else self.min_visits_per_week


class Inspection(_Settings):
    """Scheduled business inspections (双随机, F12): each department's obligations and how they are met.

    ``obligations`` maps a county department to the inspections it owes per
    business a year.  Separate visits (``joint = false``): every obligation is its
    own visit, which checks only that department's items.  Joint visits (综合查一次):
    a visit checks every department's items, and ``joint_share`` of the
    obligations beyond the largest department's are folded into shared visits, so
    visits per business a year = Σ − joint_share × (Σ − max).
    """

    obligations: dict[str, float]
    joint: bool
    joint_share: float = Field(ge=0, le=1)
    visit_min: float = Field(gt=0)
    # Risk-based targeting (absent: every visit drawn uniformly, as 双随机 alone).  The first
    # ``high_risk_business_share`` of each village's businesses are high risk (三小场所, previous
    # violators, complained-about); business items arise there ``high_risk_rate_factor`` times as
    # often per business, and ``targeted_share`` of visits go to a high-risk business.
    targeted_share: float = Field(default=0.0, ge=0, le=1)
    high_risk_business_share: float = Field(default=0.0, ge=0, le=1)
    high_risk_rate_factor: float = Field(default=1.0, ge=1)

    @model_validator(mode="after")
    def _targets(self):
        if self.targeted_share > 0 and self.high_risk_business_share == 0:
            raise ValueError("targeted_share > 0 needs a high-risk group: expected high_risk_business_share > 0")
        return self

    @field_validator("obligations")
    @classmethod
    def _rates(cls, v: dict[str, float]):
        for key, rate in v.items():
            if rate < 0:
                raise ValueError(f"obligations.{key} must be >= 0, got {rate}")
            if rate > 1:
                raise ValueError(
                    f"obligations.{key} is inspections per business a year, at most 1 (every business once); "
                    f"got {rate:g}: for {rate:g} % write {rate / 100:g}"
                )
        return v

    def visits_per_business(self, joint: bool | None = None) -> float:
        """Inspection visits a year per business."""
        joint = self.joint if joint is None else joint
        rates = list(self.obligations.values())
        total = sum(rates)
        if not joint or not rates:
            return total
        return total - self.joint_share * (total - max(rates))


class Optimize(_Settings):
    """Settings of the optimiser (``egrid optimize``): bounds, targets and effort."""

    max_posts_per_brigade: int = Field(ge=1)
    min_law_posts_per_brigade: int = Field(ge=0)
    max_uncertified_per_certified: float = Field(ge=0)
    coverage_target: float = Field(gt=0, le=1)
    max_moves: int | None = Field(default=None, ge=0)
    approx_samples: int = Field(ge=100)
    loop_replications: int = Field(ge=2)
    loop_days: float = Field(gt=0)
    loop_max_iterations: int = Field(ge=1)
    time_limit_s: float = Field(gt=0)
    gap: float = Field(ge=0, lt=1)
    patrol_gap: float = Field(ge=0, lt=1)
    patrol_travel_value: float = Field(ge=0)
    tradeoff_posts: list[int] = Field(min_length=1)

    @field_validator("tradeoff_posts")
    @classmethod
    def _positive(cls, v: list[int]):
        if any(x <= 0 for x in v):
            raise ValueError("every total must be > 0")
        return v


class Certification(_Settings):
    """The enforcement qualification (F4): exam sittings, pass probability, three-year deadline.

    Officers not certified at the start sit every exam until they pass; only
    certified officers make up teams, so teams on duty grow as officers pass.
    """

    enabled: bool
    first_sitting_day: float = Field(ge=0)
    sitting_interval_days: float = Field(gt=0)
    pass_prob: float = Field(ge=0, le=1)
    deadline_years: float = Field(gt=0)


class Transition(_Settings):
    """Transition posts (F5): placed in a town but still belonging to a county department.

    ``share_of_posts`` of the posts of the listed ``sources`` are in transition
    and give the town only ``available_share`` of their time.
    """

    sources: list[str]  # keys of [sources]
    share_of_posts: float = Field(ge=0, le=1)
    available_share: float = Field(ge=0, le=1)


class BuildingGrowth(_Settings):
    """Illegal building grows while unseen, and acting on it costs more the later it is found.

    Floor area = min(``max_area_m2``, ``area_per_day_m2`` × days unseen); past
    ``correctable_area_share`` × ``max_area_m2`` it can no longer be put right on
    the spot (a case is filed).  Officer-hours to deal with it =
    ``stop_officer_hours`` + ``officer_hours_per_m2`` × area; the acting team
    spends up to ``max_team_hours_per_case`` team-hours of the part beyond the
    stop itself (officer-hours / OFFICERS_PER_TEAM; the rest — demolition crews,
    other staff — is counted, not simulated).
    """

    enabled: bool
    classes: list[str]
    area_per_day_m2: float = Field(ge=0)
    max_area_m2: float = Field(ge=0)
    stop_officer_hours: float = Field(ge=0)
    officer_hours_per_m2: float = Field(ge=0)
    max_team_hours_per_case: float = Field(ge=0)
    correctable_area_share: float = Field(ge=0, le=1)


class Stock(_Settings):
    """Old violations present at the start (e.g. unfound illegal buildings), with ages up to ``max_age_days``.

    An old structure that is still there is one nobody has reported: the stock has its
    own rates, as factors of its class's new-violation rates — ``grid_notice_factor``
    (grid noticing), ``complaint_factor`` (complaints) and ``patrol_detection_factor``
    (a patrol's detection probability).  Campaign sweeps keep their own ``detect_prob``.
    Absent, a factor is 1: old violations are found like new ones.
    """

    violations: int = Field(ge=0)
    klass: str
    max_age_days: float = Field(gt=0)
    grid_notice_factor: float = Field(default=1.0, ge=0)
    complaint_factor: float = Field(default=1.0, ge=0)
    patrol_detection_factor: float = Field(default=1.0, ge=0, le=1)


class Reinspection(_Settings):
    """Re-inspection after a correction (复查) and follow-up visits of filed cases (F15).

    A share of the violations put right on the spot (``corrected_share``) and of the
    filed town cases (``case_share``) get a second visit ``delay_days`` after the first
    action: a team travels to the village and spends ``visit_min`` there (queued with
    the inspection priority).  Its team time is counted as ``reinspection``.
    """

    corrected_share: float = Field(ge=0, le=1)
    case_share: float = Field(ge=0, le=1)
    delay_days: float = Field(ge=0)
    visit_min: float = Field(gt=0)


class Lifecycle(_Settings):
    """The case lifecycle after the first visit (F15, CJ/T 315 pattern): filing, investigation,
    legal review (law posts, for cases of severity ≥ ``review_min_severity``), decision, closure.

    Stage times are exponential with the given means in **working hours** of the
    working calendar; ``decision_working_days`` (by item category, else the
    default) is the time limit from filing to decision.
    """

    enabled: bool
    working_days: list[str] = Field(min_length=1)
    day_start: str
    day_end: str
    holidays: list[int] = []  # day numbers since the start (day 0 is a Monday)
    filing_hours: float = Field(ge=0)
    investigation_hours: float = Field(ge=0)
    review_hours: float = Field(ge=0)
    decision_hours: float = Field(ge=0)
    review_min_severity: int = Field(ge=1, le=4)
    reviewers_per_law_post: float = Field(ge=0, le=1)  # a share of each law post's time (0.5 = half)
    decision_working_days: dict[str, float] = {}
    default_decision_working_days: float = Field(gt=0)

    @field_validator("working_days")
    @classmethod
    def _weekdays(cls, v: list[str]):
        return _weekday_names(v)

    @field_validator("day_start", "day_end", mode="before")
    @classmethod
    def _clock_as_written(cls, v):
        return _clock_text(v)

    @field_validator("day_start", "day_end")
    @classmethod
    def _clock(cls, v: str):
        _clock_min(v)
        return v

    @field_validator("holidays")
    @classmethod
    def _day_numbers(cls, v: list[int]):
        for d in v:
            if d < 0:
                raise ValueError(f"holidays are day numbers from the start of the run (day 0), got {d}")
            if d > 36600:
                raise ValueError(f"holidays are day numbers from the start of the run (day 0 is a Monday), "
                                 f"not dates; got {d}")
        return v

    @model_validator(mode="after")
    def _day(self):
        if _clock_min(self.day_end) <= _clock_min(self.day_start):
            raise ValueError("day_end must be after day_start")
        for k, v in self.decision_working_days.items():
            if v <= 0:
                raise ValueError(f"decision_working_days.{k} must be > 0, got {v}")
        return self


class Campaign(_Settings):
    """A concentrated campaign (F11): teams pulled from towns for a span of days onto one item category.

    ``villages`` is ``"hot_spots"``, ``"all"`` or a list of village names of the
    towns.  Pulled teams leave routine work (first shift) for the campaign days
    and sweep the campaign villages, finding latent violations of the category
    with ``detect_prob`` per visit and acting on them at once.
    """

    name: str = Field(min_length=1)
    towns: list[str] = Field(min_length=1)
    category: str
    start_day: float = Field(ge=0)
    days: float = Field(gt=0)
    teams_per_town: int = Field(ge=1)
    villages: str | list[str]
    detect_prob: float = Field(ge=0, le=1)


class Records(_Settings):
    """Keep one record per violation (``true``) or only running sums (memory flat in run length)."""

    keep: bool = True


class PublishedRange(_Settings):
    """A published range a platform-style measure is set against (``[[published_ranges]]``).

    Not a target: the figures come from other places' platforms and years, and the
    validation table (``sim.measures.validation_table``) only shows where a run falls.
    """

    metric: str = Field(min_length=1)
    scope: str = "county"
    low: float = Field(ge=0)
    high: float = Field(ge=0)
    what: str = Field(min_length=1)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self):
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) must not exceed high ({self.high:g})")
        return self


class Settings(_Settings):
    """Everything in a scenario's TOML file."""

    scenario: ScenarioInfo
    tables: Tables
    reform: Reform
    sources: dict[str, PostSource] = Field(min_length=1)
    staffing: Staffing
    # labels of the item categories (keys: the category column of items.csv); absent: the category as written
    categories: dict[str, CategoryLabel] = {}
    officer_time: OfficerTime
    shift_patterns: dict[str, ShiftPattern] = Field(min_length=1)
    profiles: dict[str, Profile] = Field(min_length=1)
    classes: dict[str, ViolationClass] = Field(min_length=1)
    grid: Grid
    complaint: Complaint
    command_centre: CommandCentre
    transfer: Transfer
    on_call: OnCall | None = None
    mutual_aid: MutualAid | None = None
    travel: Travel
    patrol: Patrol
    inspection: Inspection
    records: Records = Records()
    optimize: Optimize | None = None
    certification: Certification | None = None
    transition: Transition | None = None
    building_growth: BuildingGrowth | None = None
    stock: Stock | None = None
    reinspection: Reinspection | None = None
    lifecycle: Lifecycle | None = None
    campaigns: list[Campaign] = []
    # each town's rota, replacing the towns table's shift_pattern column (town → a [shift_patterns] name):
    # a planner switches one town with --set rotas.TOWN=PATTERN
    rotas: dict[str, str] = {}
    # violation rates fitted to a county's case data (egrid calibrate): class → town → multiplier
    # of the item rates; absent: 1
    rate_factors: dict[str, dict[str, float]] = {}

    @field_validator("rate_factors")
    @classmethod
    def _factors(cls, v: dict[str, dict[str, float]]):
        for klass, towns in v.items():
            for town, f in towns.items():
                if f < 0:
                    raise ValueError(f"rate_factors.{klass}.{town} must be >= 0, got {f}")
        return v
    published_ranges: list[PublishedRange] = []
    # Ranges of the estimates and a county's observed figures: read and checked by
    # enforcement_grid.uncertainty (egrid uncertainty); the model itself ignores them.
    uncertainty: dict[str, dict] = {}
    observed: dict[str, dict] = {}


# --------------------------------------------------------------------------- table rows


class Town(_Row):
    """A town (镇) and its drivers of violations."""

    town: str = Field(min_length=1)
    town_en: str
    population: int = Field(gt=0)
    area_km2: float = Field(gt=0)
    villages: int = Field(ge=0)
    communities: int = Field(ge=0)
    businesses: int = Field(ge=0)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    urban_weight: float = Field(gt=0)
    shift_pattern: str
    source: str = ""


class Village(_Row):
    """A village or community: one base grid area watched by its grid workers."""

    village: str = Field(min_length=1)
    town: str
    kind: Literal["village", "community"]
    population: int = Field(ge=0)
    area_km2: float = Field(gt=0)
    businesses: int = Field(ge=0)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    grid_workers: float = Field(ge=0)
    hot_spot: bool
    source: str = ""


RATE_UNITS = {"population": "per_10k_residents", "businesses": "per_1k_businesses", "area": "per_km2"}


class Item(_Row):
    """An enforcement item of the catalogue (F2, F14)."""

    code: str = Field(min_length=1)
    name_zh: str
    name_en: str
    category: str
    klass: str = Field(alias="class")
    delegated: bool
    department: str
    legal_basis: str = ""
    severity: int = Field(ge=1, le=3)
    simple_procedure: bool
    on_site_mean_min: float = Field(gt=0)
    on_site_distribution: Literal["lognormal", "exponential", "fixed"] = "lognormal"
    on_site_cv: float = Field(ge=0, le=3)
    target_hours: float | None = Field(default=None, gt=0)  # blank: the class's target
    officers_needed: int = Field(ge=2)
    driver: Literal["population", "businesses", "area"]
    annual_rate: float = Field(ge=0)
    rate_unit: Literal["per_10k_residents", "per_1k_businesses", "per_km2"]
    urban_weighted: bool
    source: str = ""

    @model_validator(mode="after")
    def _unit_matches_driver(self):
        if RATE_UNITS[self.driver] != self.rate_unit:
            raise ValueError(
                f"rate_unit for driver {self.driver!r} must be {RATE_UNITS[self.driver]!r}, got {self.rate_unit!r}"
            )
        if self.officers_needed % 2:
            raise ValueError(f"officers_needed must be a multiple of 2 (two-officer teams), got {self.officers_needed}")
        return self

    @property
    def teams_needed(self) -> int:
        return self.officers_needed // 2


class Department(_Row):
    """A county department that receives transferred cases (F15)."""

    department: str = Field(min_length=1)
    name_zh: str
    name_en: str
    teams_after: int = Field(ge=0)
    teams_before: int = Field(ge=0)
    base_town: str
    shift_pattern: str
    source: str = ""


class StaffingRow(_Row):
    """Officers of one source in one brigade, and how many of them are certified (F3, F4)."""

    brigade: str = Field(min_length=1)
    source: str = Field(min_length=1)  # a key of [sources]
    officers: int = Field(ge=0)
    certified: int = Field(ge=0)
    source_note: str = ""

    @model_validator(mode="after")
    def _certified_le_officers(self):
        if self.certified > self.officers:
            raise ValueError(f"certified ({self.certified}) cannot exceed officers ({self.officers})")
        return self


class PatrolVisit(_Row):
    """One planned patrol visit: a team of a brigade visits a village on a weekday."""

    town: str
    team: int = Field(ge=0)
    day: str
    village: str
    order: int = Field(default=0, ge=0)

    @field_validator("day")
    @classmethod
    def _weekday(cls, v: str):
        if v not in WEEKDAYS:
            raise ValueError(f"unknown weekday {v!r}; expected one of {', '.join(WEEKDAYS)}")
        return v


# --------------------------------------------------------------------------- the scenario


@dataclass(frozen=True)
class Brigade:
    """An enforcement brigade: where its teams start and which towns it serves."""

    name: str
    base_town: str
    towns: tuple[str, ...]
    shift_pattern: str


@dataclass(frozen=True, eq=False)
class Scenario:
    """A validated scenario: settings plus tables, with lookups by name.

    ``files`` maps each part (``"settings"``, ``"towns"``, …) to the file it came
    from, so later stages can name the source of a value in messages and reports.
    """

    settings: Settings
    towns: tuple[Town, ...]
    villages: tuple[Village, ...]
    items: tuple[Item, ...]
    departments: tuple[Department, ...]
    staffing: tuple[StaffingRow, ...]
    patrol_plan: tuple[PatrolVisit, ...]
    files: dict[str, str]

    @property
    def name(self) -> str:
        return self.settings.scenario.name

    @cached_property
    def law_sources(self) -> tuple[str, ...]:
        """The sources whose posts count as law posts (``law = true`` in ``[sources]``)."""
        return tuple(k for k, src in self.settings.sources.items() if src.law)

    def law_posts(self, brigade: str) -> int:
        """Officers of a brigade from the law sources: its legal reviewers (lifecycle)."""
        law = self.law_sources
        return sum(r.officers for r in self.staffing if r.brigade == brigade and r.source in law)

    @cached_property
    def town_by_name(self) -> dict[str, Town]:
        return {t.town: t for t in self.towns}

    @cached_property
    def village_by_name(self) -> dict[str, Village]:
        return {v.village: v for v in self.villages}

    @cached_property
    def item_by_code(self) -> dict[str, Item]:
        return {i.code: i for i in self.items}

    @cached_property
    def department_by_key(self) -> dict[str, Department]:
        return {d.department: d for d in self.departments}

    @cached_property
    def brigades(self) -> tuple[Brigade, ...]:
        """After the reform one brigade per town at its seat; before it, one county brigade."""
        reform = self.settings.reform
        if reform.mode == "before":
            return (
                Brigade(
                    name=reform.county_brigade,
                    base_town=reform.county_seat,
                    towns=tuple(t.town for t in self.towns),
                    shift_pattern=reform.county_brigade_shift_pattern,
                ),
            )
        return tuple(Brigade(t.town, t.town, (t.town,), t.shift_pattern) for t in self.towns)

    @cached_property
    def brigade_of_town(self) -> dict[str, str]:
        return {town: b.name for b in self.brigades for town in b.towns}

    def handled_by_brigade(self, item: Item) -> bool:
        """Whether the town brigade (after) or county brigade (before) acts on this item itself."""
        reform = self.settings.reform
        if reform.mode == "before":
            return item.category in reform.before_brigade_categories
        if reform.delegated_categories is not None:
            return item.delegated and item.category in reform.delegated_categories
        return item.delegated

    def department_teams(self, dept: Department) -> int:
        return dept.teams_before if self.settings.reform.mode == "before" else dept.teams_after

"""Facilities as of any point (the domain's `Facility` as recorded by a store position) and a
facility's frame budget of a year: the API's facility reads, the UI's forms and pages read
them here."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import NotFound
from domain.facility import Facility, facility_id
from projections.frame import basistakst, frame_total, monthly_frames
from service.ledger import BudgetLedger, Timeline
from service.queries.regulation import TargetYearRegulation, regulation_of
from service.queries.values import Figure, Money


def facility_as_of(ledger: BudgetLedger, code: str, position: int | None) -> Facility:
    """The facility as of `position` (None: the latest); NotFound `unknown_facility` for one not
    registered by then (or never)."""
    version = None
    if position is not None:
        version = Timeline(ledger.engine).version_at(facility_id(code), position)
        if version is None:
            ledger.facility(code)  # 404 when it never existed
            raise NotFound("unknown_facility", f"facility {code} was not registered as of position {position}", "code")
    return ledger.facility(code, version)


def facilities_as_of(ledger: BudgetLedger, position: int | None) -> list[Facility]:
    """Every facility registered as of `position` (None: the latest), in code order."""
    found = []
    for code in ledger.facility_codes():
        try:
            found.append(facility_as_of(ledger, code, position))
        except NotFound:  # registered after the as-of point
            continue
    return found


@dataclass(frozen=True)
class FrameLine:
    category: str
    amount: Money


@dataclass(frozen=True)
class FrameBudget:
    """A facility's frame budget of a year (domain §4.2): its lines, their total, the
    basistakst and the monthly frames, and the regulation whose result enters the year's
    tariff (domain §4.9), with whether this frame carries its line."""

    facility: str
    year: int
    event_id: str
    budgeted_places: int
    planned_occupancy_pct: Figure
    lines: tuple[FrameLine, ...]
    total: Money
    basistakst: Money
    monthly: tuple[Money, ...]
    regulation: TargetYearRegulation | None


def frame_budget(ledger: BudgetLedger, code: str, year: int, position: int) -> FrameBudget:
    """The facility's frame budget of `year` as of a recorded position (NotFound
    `no_frame_budget` without one)."""
    facility = facility_as_of(ledger, code, position)
    frame = facility.frame_budget(year)
    if frame is None:
        raise NotFound("no_frame_budget", f"{code} has no frame budget for {year}", "year")
    total = frame_total(frame["lines"])
    return FrameBudget(
        code, year, frame["event_id"], frame["budgeted_places"], frame["planned_occupancy_pct"],
        tuple(FrameLine(line["category"], line["amount"]) for line in frame["lines"]), total,
        basistakst(total, frame["budgeted_places"], frame["planned_occupancy_pct"], year),
        tuple(monthly_frames(total)), regulation_of(ledger, code, year, position))

"""A facility's budget for a year (domain §4.2-4.5) as of a recorded position, from the read
models: the twelve months and the year with frame, activity, days, occupancy, staff hours and
FTE, and warnings for a missing frame or schedule and each month over capacity (the API's
GET /v1/budgets/{code}/{year} and the UI's facility page read it here)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from projections.budget import MonthFigures, fte, occupancy_pct, staff_hours
from projections.capacity import capacity_warnings, is_over_capacity
from service.ledger import BudgetLedger
from service.queries.values import Figure, Money
from service.read_models import BudgetReads


@dataclass(frozen=True)
class BudgetMonth:
    """A month of the facility's budget; `over_capacity`: more present days than capacity days."""

    month: int
    frame: Money
    activity: Money
    total: Money
    present_days: int
    funded_days: int
    capacity_days: int
    occupancy_pct: Figure
    staff_hours: Money
    """0.00 without an hourly rate (no tariff schedule)."""
    fte: Money
    citizens_by_level: dict[str, int]
    over_capacity: bool


@dataclass(frozen=True)
class BudgetTotals:
    """The year summed; citizens by level at its last day."""

    frame: Money
    activity: Money
    total: Money
    present_days: int
    funded_days: int
    capacity_days: int
    occupancy_pct: Figure
    staff_hours: Money
    fte: Money
    citizens_by_level: dict[str, int]


@dataclass(frozen=True)
class FacilityBudget:
    facility: str
    year: int
    as_of_position: int
    basistakst: Money
    months: tuple[BudgetMonth, ...]
    totals: BudgetTotals
    warnings: tuple[str, ...]


def _hours(figures: MonthFigures, hourly_rate: Decimal | None, months: int) -> tuple[Decimal, Decimal]:
    hours = staff_hours(figures.activity, hourly_rate)
    return hours, fte(hours, months)


def facility_budget(ledger: BudgetLedger, code: str, year: int, position: int) -> FacilityBudget:
    """The facility's year as of `position`: its months, its totals and its warnings."""
    figures = BudgetReads(ledger).facility_year(code, year, position)
    months = []
    for m in figures.months:
        hours, ftes = _hours(m, figures.hourly_rate, 1)
        months.append(BudgetMonth(
            m.month, m.frame, m.activity, m.total, m.present_days, m.funded_days, m.capacity_days,
            occupancy_pct(m.present_days, m.capacity_days), hours, ftes, m.citizens_by_level,
            is_over_capacity(m.present_days, m.capacity_days)))
    year_ = figures.totals()
    hours, ftes = _hours(year_, figures.hourly_rate, 12)
    totals = BudgetTotals(year_.frame, year_.activity, year_.total, year_.present_days, year_.funded_days,
                          year_.capacity_days, occupancy_pct(year_.present_days, year_.capacity_days), hours, ftes,
                          year_.citizens_by_level)
    return FacilityBudget(code, year, position, figures.basistakst, tuple(months), totals,
                          tuple(figures.warnings + capacity_warnings(year, figures.months)))

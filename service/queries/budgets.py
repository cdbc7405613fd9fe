"""A facility's budget for a year (domain §4.2-4.5) as of a recorded position, from the read
models: the twelve months and the year with frame, activity, days, occupancy, staff hours and
FTE, and warnings for a missing frame or schedule and each month over capacity (the API's
GET /v1/budgets/{code}/{year} and the UI's facility page read it here)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from projections.budget import MonthFigures, fte, occupancy_pct, staff_hours
from projections.capacity import capacity_warnings, is_over_capacity
from service.ledger import BudgetLedger
from service.queries.values import kr
from service.read_models import BudgetReads


def month_row(figures: MonthFigures, hourly_rate: Decimal | None, months: int) -> dict[str, Any]:
    hours = staff_hours(figures.activity, hourly_rate)
    return {
        "frame": kr(figures.frame), "activity": kr(figures.activity), "total": kr(figures.total),
        "present_days": figures.present_days, "funded_days": figures.funded_days,
        "capacity_days": figures.capacity_days,
        "occupancy_pct": str(occupancy_pct(figures.present_days, figures.capacity_days)),
        "staff_hours": kr(hours), "fte": kr(fte(hours, months)),
        "citizens_by_level": figures.citizens_by_level,
    }


def facility_budget(ledger: BudgetLedger, code: str, year: int, position: int) -> dict[str, Any]:
    """The facility's year as of `position`: its months, its totals and its warnings."""
    figures = BudgetReads(ledger).facility_year(code, year, position)
    return {
        "facility": code, "year": year, "as_of_position": position,
        "basistakst": kr(figures.basistakst),
        "months": [{"month": m.month, **month_row(m, figures.hourly_rate, 1),
                    "over_capacity": is_over_capacity(m.present_days, m.capacity_days)} for m in figures.months],
        "totals": month_row(figures.totals(), figures.hourly_rate, 12),
        "warnings": figures.warnings + capacity_warnings(year, figures.months),
    }

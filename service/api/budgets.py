"""Facility budgets for a year, as of any point, from the read models (domain §4.2-4.5)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path

from projections.budget import MonthFigures, fte, occupancy_pct, staff_hours
from service.api.common import kr
from service.api.deps import Ledger, ReadAt, Reader
from service.read_models import BudgetReads

router = APIRouter(tags=["budgets"])
Code = Annotated[str, Path(min_length=1, max_length=64)]
Year = Annotated[int, Path(ge=2000, le=2100)]


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


@router.get("/v1/budgets/{code}/{year}")
def get_budget(code: Code, year: Year, ledger: Ledger, actor: Reader, position: ReadAt) -> dict[str, Any]:
    """The twelve months and the year of a facility's budget: frame, activity, days,
    occupancy, staff hours and FTE, with `warnings` for a missing frame or schedule."""
    figures = BudgetReads(ledger).facility_year(code, year, position)
    return {
        "facility": code, "year": year, "as_of_position": position,
        "basistakst": kr(figures.basistakst),
        "months": [{"month": m.month, **month_row(m, figures.hourly_rate, 1)} for m in figures.months],
        "totals": month_row(figures.totals(), figures.hourly_rate, 12),
        "warnings": figures.warnings,
    }

"""Facility budgets for a year, as of any point (domain §4.2-4.5)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from projections.budget import MonthFigures, facility_year, fte, occupancy_pct, staff_hours
from service.api.common import kr
from service.api.deps import AsOf, Ledger, Reader
from service.readers import AsOfReader

router = APIRouter(tags=["budgets"])
Code = Annotated[str, Path(min_length=1, max_length=64)]
Year = Annotated[int, Path(ge=2000, le=2100)]


def _row(figures: MonthFigures, hourly_rate, months: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    hours = staff_hours(figures.activity, hourly_rate)
    return {
        "frame": kr(figures.frame), "activity": kr(figures.activity), "total": kr(figures.total),
        "present_days": figures.present_days, "funded_days": figures.funded_days,
        "capacity_days": figures.capacity_days,
        "occupancy_pct": str(occupancy_pct(figures.present_days, figures.capacity_days)),
        "staff_hours": kr(hours), "fte": kr(fte(hours, months)),
        "citizens_by_level": dict(sorted(figures.citizens_by_level.items())),
    }


@router.get("/v1/budgets/{code}/{year}")
def get_budget(code: Code, year: Year, ledger: Ledger, actor: Reader, position: AsOf) -> dict[str, Any]:
    reader = AsOfReader(ledger, position)
    facility = reader.facility(code)
    schedule = reader.schedule(year)
    hourly_rate = schedule.hourly_rate if schedule else None
    figures = facility_year(year, facility.frame_budget(year), facility.places_on, reader.stays_at(code),
                            reader.rate_of, hourly_rate)
    return {
        "facility": code, "year": year, "as_of_position": position,
        "basistakst": kr(figures.basistakst),
        "months": [{"month": m.month, **_row(m, hourly_rate, 1)} for m in figures.months],
        "totals": _row(figures.totals(), hourly_rate, 12),
        "warnings": figures.warnings,
    }

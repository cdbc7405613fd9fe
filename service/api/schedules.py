"""Tariff schedules as of any point: levels, rates in force and revisions (their commands are
service/api/commands.py's)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Path, Query

from domain.errors import InvalidValue
from domain.values import FIRST_YEAR, LAST_YEAR
from service.api.common import iso, kr
from service.api.deps import AsOf, Ledger, Reader
from service.api.routing import api_router
from service.ledger import BudgetLedger
from service.queries.schedules import schedule_as_of

router = api_router(tags=["tariff schedules"])
Year = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR)]


def _default_day(year: int) -> date:
    today = BudgetLedger.today()
    return min(max(today, date(year, 1, 1)), date(year, 12, 31))


@router.get("/v1/tariff-schedules/{year}")
def get_schedule(
    year: Year, ledger: Ledger, actor: Reader, position: AsOf,
    on: Annotated[date | None, Query(description="The day whose rates in force to show (default: today, within the year)")] = None,
) -> dict[str, Any]:
    schedule = schedule_as_of(ledger, year, position)
    day = on or _default_day(year)
    if day.year != year:
        raise InvalidValue("date_outside_year", f"`on` must be a day in {year}", "on")
    return {
        "year": year,
        "rates_on": iso(day),
        "hourly_rate": kr(schedule.hourly_rate),
        "runoff_months": schedule.runoff_months,
        "levels": [
            {"level": l.level, "min_hours": str(l.min_hours), "max_hours": str(l.max_hours),
             "published_rate": kr(l.daily_rate), "daily_rate": kr(schedule.rate_on(l.level, day))}
            for l in schedule.levels
        ],
        "special_tariffs": schedule.current["special_tariffs"],  # type: ignore[index]
        "revisions": [
            {"event_id": r["event_id"], "level": r["level"], "daily_rate": kr(r["daily_rate"]),
             "effective_date": iso(r["effective_date"])}
            for r in schedule.active_revisions()
        ],
    }

"""Tariff schedules as of any point (the domain's `TariffSchedule` as recorded by a store
position): the API's schedule read and the UI's what-if page read them here."""

from __future__ import annotations

from domain.errors import NotFound
from domain.tariff_schedule import TariffSchedule, schedule_id
from service.ledger import BudgetLedger, Timeline


def schedule_as_of(ledger: BudgetLedger, year: int, position: int | None) -> TariffSchedule:
    """The year's schedule as of `position` (None: the latest); NotFound `no_tariff_schedule`
    when there was none by then, or it is retracted."""
    version = None
    if position is not None:
        version = Timeline(ledger.engine).version_at(schedule_id(year), position)
        if version is None:
            raise NotFound("no_tariff_schedule", f"there was no tariff schedule for {year} as of position {position}",
                           "year")
    schedule = ledger.schedule(year, version)
    if not schedule.is_published:
        raise NotFound("no_tariff_schedule", f"the tariff schedule for {year} is retracted", "year")
    return schedule

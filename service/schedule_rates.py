"""The service rates the tariff schedules set, as of a store position: a level's rate on a day
(its revisions counted) and the days on which a revision takes effect.

Here the rates come from the schedule itself as the schedule read serves it
(service/queries/schedules.py `schedule_as_of`, GET /v1/tariff-schedules/{year}): one short
stream per year, loaded once per read (docs/adr/0035, "Reads from the read models only"). The
"rates" fact rows hold the same rates (docs/adr/0040), which the reads of a year beyond the
horizon price its days with (service/facts.py `RatesFact`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.errors import NotFound
from domain.tariff_schedule import TariffSchedule
from service.ledger import BudgetLedger
from service.queries.schedules import schedule_as_of


class RatesOfSchedules:
    """A level's rate on a day and the revision days, from whatever `schedule(year)` gives
    (the published schedule of that year as of some point, or None); each rate remembered."""

    _rates: dict[tuple[int, date], Decimal | None]

    def schedule(self, year: int) -> TariffSchedule | None:
        raise NotImplementedError

    def rate_of(self, level: int, day: date) -> Decimal | None:
        """The level's rate on `day` (None: no schedule for its year), remembered: a read asks
        the same few hundred days of every stay."""
        key = (level, day)
        if key not in self._rates:
            schedule = self.schedule(day.year)
            self._rates[key] = None if schedule is None else schedule.rate_on(level, day)
        return self._rates[key]

    def revision_days(self, years: range) -> list[date]:
        """The effective dates of the revisions in force of the schedules of `years`."""
        days: list[date] = []
        for year in years:
            schedule = self.schedule(year)
            if schedule is not None:
                days += [r["effective_date"] for r in schedule.active_revisions()]
        return days


class ScheduleRates(RatesOfSchedules):
    """The published schedules as of `position` (None: the latest state), each read once."""

    def __init__(self, ledger: BudgetLedger, position: int | None) -> None:
        self.ledger, self.position = ledger, position
        self._schedules: dict[int, TariffSchedule | None] = {}
        self._rates = {}

    def schedule(self, year: int) -> TariffSchedule | None:
        """The published schedule of `year` as of the position, or None."""
        if year not in self._schedules:
            try:
                self._schedules[year] = schedule_as_of(self.ledger, year, self.position)
            except NotFound:
                self._schedules[year] = None
        return self._schedules[year]

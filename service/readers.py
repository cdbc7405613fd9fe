"""Schedules and citizens as of a store position, loaded from their streams at the version
recorded at or before it: what the read models do not hold yet (a schedule's rates and
revisions, a stay's move-out kind and assessment events; docs/adr/0035, "Reads from the read
models only"). The reads of a facility's stays and figures come from the read models; the
reference they are tested against (tests/reference.py) extends this reader and no production
path calls it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.citizen import Citizen, citizen_id
from domain.errors import NotFound
from domain.tariff_schedule import TariffSchedule, schedule_id
from service.ledger import BudgetLedger, Timeline


class AsOfReader:
    """Aggregates as they stood at `position` (None: the latest state)."""

    def __init__(self, ledger: BudgetLedger, position: int | None) -> None:
        self.ledger, self.position = ledger, position
        self.timeline = Timeline(ledger.engine)
        self._schedules: dict[int, TariffSchedule | None] = {}
        self._rates: dict[tuple[int, date], Decimal | None] = {}

    def _version(self, originator_id) -> int | None:  # type: ignore[no-untyped-def]
        if self.position is None:
            return None
        version = self.timeline.version_at(originator_id, self.position)
        if version is None:
            raise NotFound("not_found", f"not recorded as of position {self.position}")
        return version

    def schedule(self, year: int) -> TariffSchedule | None:
        """The published schedule of `year` as of the position, or None."""
        if year not in self._schedules:
            try:
                schedule = self.ledger.schedule(year, self._version(schedule_id(year)))
                self._schedules[year] = schedule if schedule.is_published else None
            except NotFound:
                self._schedules[year] = None
        return self._schedules[year]

    def rate_of(self, level: int, day: date) -> Decimal | None:
        """The level's rate on `day` as of the position (remembered: a read asks the same few
        hundred days of every stay)."""
        key = (level, day)
        if key not in self._rates:
            schedule = self.schedule(day.year)
            self._rates[key] = None if schedule is None else schedule.rate_on(level, day)
        return self._rates[key]

    def revision_days(self, years: range) -> list[date]:
        days: list[date] = []
        for year in years:
            schedule = self.schedule(year)
            if schedule is not None:
                days += [r["effective_date"] for r in schedule.active_revisions()]
        return days

    def citizen(self, ref: str) -> Citizen:
        return self.ledger.citizen(ref, self._version(citizen_id(ref)))

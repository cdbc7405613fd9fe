"""Reads computed from the aggregates as of a store position.

This is the straightforward reader: it loads each stream it needs at the version recorded at
or before the position. It is exact and serves as the reference the read-model projections
(issue 3) must equal; it is not the design for scale (see docs/adr/0005).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.citizen import Citizen, citizen_id
from domain.errors import NotFound
from domain.facility import Facility, facility_id
from domain.tariff_schedule import TariffSchedule, schedule_id
from projections.budget import StayFacts
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

    def facility(self, code: str) -> Facility:
        self.ledger.facility(code)  # 404 for a facility that never existed
        try:
            return self.ledger.facility(code, self._version(facility_id(code)))
        except NotFound:
            raise NotFound("unknown_facility", f"facility {code} was not registered as of position {self.position}",
                           "code") from None

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

    def stays_at(self, code: str) -> list[StayFacts]:
        """Every stay at the facility as of the position."""
        stays = []
        for ref in self.ledger.citizens_ever_at(code, self.position):
            for stay in self.citizen(ref).active_stays:
                if stay.facility != code:
                    continue
                runoff = 1
                if stay.move_out is not None and (schedule := self.schedule(stay.move_out.year)) is not None:
                    runoff = schedule.runoff_months
                stays.append(StayFacts(ref, stay.move_in, stay.move_out, tuple(stay.conditions()), runoff, code,
                                       stay.stay_id))
        return stays

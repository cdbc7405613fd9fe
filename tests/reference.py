"""The reference the read models are held to: a facility's stays and figures and the
statement lines computed from the aggregates as of a position (each stream loaded at the
version recorded at or before it). Exact and slow; the property tests
(tests/integration/test_projection_properties.py) compare the read models with it. No
production path calls it (tests/unit/test_architecture.py)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from domain.citizen import Citizen, citizen_id
from domain.errors import NotFound
from domain.facility import Facility, facility_id
from domain.tariff_schedule import TariffSchedule, schedule_id
from projections.budget import StayFacts, YearFigures, facility_year, stay_segments
from projections.regulation import PricedGroup, day_groups
from service.db import ledger_entries
from service.ledger import BudgetLedger
from service.read_models import StatementLine
from service.schedule_rates import RatesOfSchedules


class ReferenceReader(RatesOfSchedules):
    """The aggregates as they stood at `position` (None: the latest state): a facility, the
    published schedules (each loaded here at its own version; the rate on a day is then the
    schedule's own `rate_on`, as production asks it) and every stay at a facility."""

    def __init__(self, ledger: BudgetLedger, position: int | None) -> None:
        self.ledger, self.position = ledger, position
        self._versions: dict[str, int] | None = None
        self._schedules: dict[int, TariffSchedule | None] = {}
        self._rates: dict[tuple[int, date], Decimal | None] = {}

    def _version(self, originator_id) -> int | None:  # type: ignore[no-untyped-def]
        """The stream's version as of the position: every stream's, read in one statement the
        first time (the tests' stores are small; a schedule is asked for every year a stay spans)."""
        if self.position is None:
            return None
        if self._versions is None:
            with self.ledger.engine.connect() as connection:
                self._versions = dict(connection.execute(
                    select(ledger_entries.c.originator_id, func.max(ledger_entries.c.originator_version))
                    .where(ledger_entries.c.position <= self.position).group_by(ledger_entries.c.originator_id)).all())
        version = self._versions.get(originator_id.hex)
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

    def citizen(self, ref: str) -> Citizen:
        return self.ledger.citizen(ref, self._version(citizen_id(ref)))

    def facility(self, code: str) -> Facility:
        self.ledger.facility(code)  # 404 for a facility that never existed
        try:
            return self.ledger.facility(code, self._version(facility_id(code)))
        except NotFound:
            raise NotFound("unknown_facility", f"facility {code} was not registered as of position {self.position}",
                           "code") from None

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


def reference_facility_year(ledger: BudgetLedger, code: str, year: int, position: int | None) -> YearFigures:
    """A facility-year computed from the aggregates as of `position`: exact, not fast."""
    reader = ReferenceReader(ledger, position)
    facility = reader.facility(code)
    schedule = reader.schedule(year)
    stays = reader.stays_at(code)
    years = range(min((s.move_in.year for s in stays), default=year), year + 1)
    return facility_year(year, facility.frame_budget(year), facility.places_on, stays,
                         reader.rate_of, schedule.hourly_rate if schedule else None, reader.revision_days(years))


def reference_statement_lines(ledger: BudgetLedger, municipality: str, year: int, month: int,
                              position: int | None) -> list[StatementLine]:
    """Statement lines computed from the aggregates as of `position`: exact, not fast."""
    from projections.statements import statement_lines
    reader = ReferenceReader(ledger, position)
    lines = []
    for code in ledger.facility_codes():
        for stay in reader.stays_at(code):
            years = range(stay.move_in.year, year + 1)
            found = statement_lines(stay, reader.rate_of, reader.revision_days(years), date(year, 12, 31))
            periods = found.get((municipality, year, month))
            if periods:
                lines.append(StatementLine(stay.stay_id, code, periods))
    return lines


def reference_day_groups(reader: ReferenceReader, codes: list[str], year: int) -> dict[PricedGroup, int]:
    """A year's present days by facility and by what prices them, from every stay of the
    aggregates as of the reader's position: exact, not fast."""
    groups: Counter[PricedGroup] = Counter()
    first, last = date(year, 1, 1), date(year, 12, 31)
    for code in codes:
        for stay in reader.stays_at(code):
            revisions = reader.revision_days(range(stay.move_in.year, year + 1))
            for (_, payer, level, special, rate), days in day_groups(
                    stay_segments(stay, reader.rate_of, revisions, until=last, since=first)).items():
                groups[code, payer, level, special, rate] += days
    return dict(+groups)

"""Reads of the budget read models as of a store position (docs/adr/0006).

A row counts at position N when recorded_from <= N < recorded_to (or recorded_to is NULL),
so a facility-year at any point is a handful of indexed rows: its year row, its frame, its
facility and the year's schedule. A year beyond the horizon the projection keeps as of N is
computed from the stay rows valid at N instead, priced by the year's rates fact and funded
by its frame as of N (a level's day of a year without a schedule counts 0.00, a special tariff
its own rate): the figures the year rows would hold (docs/adr/0014, docs/adr/0040).
tests/reference.py computes the same from the aggregates: the reference the read models are
tested against.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Engine

from domain.citizen import MOVED_IN
from domain.errors import NotFound
from domain.ledger import public_type
from projections.budget import StayFacts, YearFigures, month_end
from projections.regulation import PricedGroup
from projections.stays import StayRecord, StayRowTooOld, stay_record
from projections.tails import tail_day_groups
from service.facts import FacilityFact
from service.db import ledger_entries, rm_day_postings, rm_facts, rm_statement_lines, rm_stays
from service.ledger import BudgetLedger, Timeline, citizen_stream
from service.projection import ReadModelsOutdated
from service.year_window import YearWindow


def _valid(table: Any, position: int) -> Any:
    return and_(table.c.recorded_from <= position,
                or_(table.c.recorded_to.is_(None), table.c.recorded_to > position))


class BudgetReads:
    """Facility-years and the central model as of a position, from the read models."""

    def __init__(self, ledger: BudgetLedger) -> None:
        self.ledger = ledger
        self.engine: Engine = ledger.engine

    def facts(self, position: int, kind: str, year: int | None = None, facility: str | None = None
              ) -> dict[str, dict[str, Any]]:
        """Facts of a kind valid at `position`, by facility code ("" for store-wide facts)."""
        query = select(rm_facts.c.facility, rm_facts.c.value).where(rm_facts.c.kind == kind, _valid(rm_facts, position))
        if year is not None:
            query = query.where(rm_facts.c.year == year)
        if facility is not None:
            query = query.where(rm_facts.c.facility == facility)
        with self.engine.connect() as connection:
            return {row.facility: json.loads(row.value) for row in connection.execute(query)}

    def horizon(self, position: int) -> int | None:
        fact = self.facts(position, "horizon", 0).get("")
        return None if fact is None else fact["year"]

    def hourly_rate(self, position: int, year: int) -> Decimal | None:
        schedule = self.facts(position, "schedule", year).get("")
        return None if schedule is None else Decimal(schedule["hourly_rate"])

    def facility(self, code: str, position: int) -> FacilityFact:
        value = self.facts(position, "facility", 0, code).get(code)
        if value is None:
            self.ledger.facility(code)  # 404 for a facility that never existed
            raise NotFound("unknown_facility", f"facility {code} was not registered as of position {position}",
                           "code")
        return FacilityFact.of(code, value)

    def facility_codes(self, position: int) -> list[str]:
        return sorted(self.facts(position, "facility", 0))

    def stays(self, position: int, year: int, facility: str | None = None, since: date | None = None
              ) -> dict[str, list[StayFacts]]:
        """The stays valid at `position` that may fund a day of `year`, by facility, each with
        the run-off of its move-out year's schedule; with `since`, without the conditions
        superseded before it (`YearWindow.stays`)."""
        window = self.window(year, position, position, None if facility is None else [facility])
        return {code: found for code in window.stay_facilities() if (found := window.stays(code, position, since))}

    def day_groups(self, year: int, position: int) -> dict[PricedGroup, int]:
        """The present days of `year` as of `position`, by facility and by what prices them
        (`projections.regulation.day_groups`): the sums of the year's day postings up to
        `position` while the year is within the horizon there (docs/adr/0047), else from the
        facilities' open tails at `position` (a year beyond the horizon is all tail), priced as
        the year's other figures beyond the horizon (its rates fact as of `position`:
        docs/adr/0040, docs/adr/0049)."""
        horizon = self.horizon(position)
        if horizon is not None and year <= horizon:
            return self.posted_day_groups(year, position)
        return self.tail_day_groups(year, position)

    def posted_day_groups(self, year: int, position: int) -> dict[PricedGroup, int]:
        """`day_groups` from the day postings up to `position` (whole for a year within the
        horizon at `position`)."""
        posted = rm_day_postings.c
        keys = (posted.facility, posted.paying_municipality, posted.level, posted.special_tariff, posted.service_rate)
        query = select(*keys, func.sum(posted.days).label("days")).where(
            posted.year == year, posted.position <= position).group_by(*keys)
        with self.engine.connect() as connection:
            return {(row.facility, row.paying_municipality, row.level, row.special_tariff,
                     Decimal(row.service_rate).scaleb(-2)): int(row.days)
                    for row in connection.execute(query) if row.days}

    def tail_day_groups(self, year: int, position: int) -> dict[PricedGroup, int]:
        """`day_groups` of a year after the horizon's at `position`, from every facility's open
        tail there, priced by the year's rates fact as of `position`."""
        window = self.window(year, position, position)
        rate_of, revisions = window.pricing(position)
        return {(code, payer, level, special, rate): days
                for code, tail in window.tails(position).items()
                for (_, payer, level, special, rate), days in tail_day_groups(tail, rate_of, revisions, year).items()
                if days}

    def window(self, year: int, low: int, high: int, codes: list[str] | None = None) -> YearWindow:
        """The row versions of `year` between two positions, read once (`YearWindow`)."""
        return YearWindow(self.engine, year, low, high, codes)

    def facility_year(self, code: str, year: int, position: int) -> YearFigures:
        figures = self.window(year, position, position, [code]).figures(code, position)
        if figures is None:
            self.facility(code, position)  # the 404 of a facility not registered as of the position
        return figures  # type: ignore[return-value]

    def all_facility_years(self, year: int, position: int) -> dict[str, tuple[FacilityFact, YearFigures]]:
        """Every facility registered at `position`, with its figures for `year`."""
        window = self.window(year, position, position)
        return {code: (window.facility(code, position), window.figures(code, position))  # type: ignore[misc]
                for code in window.facility_codes(position)}

    def facility_years_at(self, year: int, positions: dict[str, int]) -> dict[str, YearFigures]:
        """Each facility's figures for `year` as of its own position (e.g. when its accounts
        were recorded), from the row versions between the first and the last position."""
        if not positions:
            return {}
        window = self.window(year, min(positions.values()), max(positions.values()), sorted(positions))
        found = {}
        for code, position in positions.items():
            figures = window.figures(code, position)
            found[code] = figures if figures is not None else self.facility_year(code, year, position)
        return found

    def baselines(self, year: int, position: int) -> dict[str, dict[str, Any]]:
        return self.facts(position, "baseline", year)


@dataclass(frozen=True)
class StatementLine:
    stay_id: str
    facility: str
    periods: tuple[Any, ...]


class StatementReads:
    """A paying municipality's statement lines for a month as of a position."""

    def __init__(self, ledger: BudgetLedger) -> None:
        self.ledger = ledger
        self.budgets = BudgetReads(ledger)

    def lines(self, municipality: str, year: int, month: int, position: int) -> list[StatementLine]:
        """The lines of `month`, from the rows of the year's lines (one per stay: docs/adr/0039)."""
        from projections.statements import StatementPeriod, periods_of_month

        horizon = self.budgets.horizon(position)
        if horizon is None or year > horizon:
            return self._beyond_horizon(municipality, year, month, position)
        query = select(rm_statement_lines).where(
            rm_statement_lines.c.municipality == municipality, rm_statement_lines.c.year == year,
            _valid(rm_statement_lines, position))
        with self.ledger.engine.connect() as connection:
            rows = connection.execute(query).all()
        lines = []
        for row in rows:
            value = json.loads(row.value)
            if periods := periods_of_month(value, month):
                lines.append(StatementLine(row.stay_id, value["facility"],
                                           tuple(StatementPeriod.of(p) for p in periods)))
        return lines

    def _beyond_horizon(self, municipality: str, year: int, month: int, position: int) -> list[StatementLine]:
        """Statement lines of a month beyond the horizon, from the stay rows, priced by the
        year's rates fact as of the position (a level's day of a year without one has no
        rate, a special tariff its own)."""
        from projections.statements import statement_lines

        lines = []
        first = date(year, month, 1)
        window = self.budgets.window(year, position, position)
        rate_of, revisions = window.pricing(position)
        for code in window.stay_facilities():
            for stay in window.stays(code, position, first):
                found = statement_lines(stay, rate_of, revisions, month_end(first), since=first)
                periods = found.get((municipality, year, month))
                if periods:
                    lines.append(StatementLine(stay.stay_id, code, periods))
        return lines

    def basistakst(self, facility: str, year: int, position: int) -> Decimal | None:
        frame = self.budgets.facts(position, "frame", year, facility).get(facility)
        return None if frame is None else Decimal(frame["basistakst"])

    def citizen_refs(self, stay_ids: list[str]) -> dict[str, str]:
        """The citizen of each stay (a stay's id is its move-in's event id)."""
        from uuid import UUID

        with self.ledger.engine.connect() as connection:
            rows = connection.execute(select(ledger_entries.c.event_id, ledger_entries.c.originator_id)
                                      .where(ledger_entries.c.event_id.in_(stay_ids))).all()
        return {row.event_id: self.ledger.citizen_ref_of(UUID(row.originator_id)) for row in rows}


@dataclass(frozen=True)
class CitizenAt:
    """A citizen as of a read position: its stored events up to the position (the store's
    own, nothing folded) and its stays (none void) from the stay rows valid there."""

    citizen_ref: str
    version: int
    """The citizen's stream version as of the position."""
    events: tuple[Any, ...]
    stays: tuple[StayRecord, ...]

    def recorded_assessments(self) -> dict[str, dict[str, Any]]:
        """The assessment each move-in and reassessment recorded, by event id."""
        return {event.meta.event_id: event.assessment for event in self.events if hasattr(event, "assessment")}


def known_citizen(ledger: BudgetLedger, ref: str) -> str:
    """The reference a citizen's stream was recorded with (its canonical form, or an older
    spelling: docs/adr/0020), from the store's own index, so it needs no projection; NotFound
    `unknown_citizen` for a citizen the ledger never recorded."""
    return ledger.recorded_citizen_ref(ref)


def citizen_at(ledger: BudgetLedger, ref: str, position: int) -> CitizenAt:
    """The citizen `ref` (its canonical reference, or the spelling an older stream was recorded
    with: docs/adr/0020) as of `position`, a position the projections have reached. NotFound
    `unknown_citizen` for a citizen the ledger never recorded, `not_found` for one recorded
    only after `position`; ReadModelsOutdated when the stay rows predate the facts a citizen's
    read shows (`ledger rebuild`)."""
    ref = known_citizen(ledger, ref)
    stream = citizen_stream(ref)
    timeline = Timeline(ledger.engine)
    version = timeline.version_at(stream, position)
    if version is None:
        raise NotFound("not_found", f"not recorded as of position {position}")
    events = tuple(ledger.events.get(stream, lte=version))
    stay_ids = [event.meta.event_id for event in events if public_type(event) == MOVED_IN]
    with ledger.engine.connect() as connection:
        rows = connection.execute(select(rm_stays.c.stay_id, rm_stays.c.value)
                                  .where(rm_stays.c.stay_id.in_(stay_ids), _valid(rm_stays, position))).all()
    values = {row.stay_id: json.loads(row.value) for row in rows}
    try:
        stays = tuple(stay_record(stay_id, values[stay_id]) for stay_id in stay_ids if stay_id in values)
    except StayRowTooOld as old:
        raise ReadModelsOutdated(str(old)) from None
    return CitizenAt(ref, version, events, stays)

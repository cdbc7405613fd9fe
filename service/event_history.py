"""The ledger's history as something to walk: pages of its events, newest first, filtered by
facility, citizen, type and actor, and, for what a page shows, the event that last changed it
and the next one that will (docs/adr/0030).

Both are queries over the ledger's own index and read models, answering typed results the
UI only formats:

- **Events** (`EventHistory.page`) come from the ledger index (`ledger_entries`, positions in
  recording order), described as the audit trail describes them (`service.audit.AuditTrail`:
  a citizen event belongs to the facility of its stay, a retraction to the facility of what it
  retracts). The citizen and facility filters narrow the streams read (the index of move-ins,
  `ledger_residents`); the type is known from each stored event's topic without decoding it;
  the actor from the decoded event. A page holds at most `limit` events and says where the
  older and the newer ones continue; one request reads at most `SCAN_LIMIT` index rows, and
  when a selective filter has not filled the page by then the page says where to go on.
- **Change points** (`ChangePoints.steps`): the positions at which the read-model rows that a
  page's figures are read from were replaced (`recorded_from`/`recorded_to` of
  `rm_facility_years`, `rm_facts`, `rm_stays`, `rm_statement_lines`, which the projection writes
  only when a row's value changes; a statement month's only where a version of a stay's year
  of lines changed that month: docs/adr/0039), or, for a citizen, the positions of the
  citizen's own stream. The latest at or before the page's position is the event that made the page what it
  is; reading as of one position before it shows the page just before that event; the first
  after it is the next event that changes the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterator, Union

from sqlalchemy import Table, and_, func, or_, select

from domain.citizen import citizen_id
from domain.errors import InvalidValue
from domain.values import check_reference
from service.audit import EVENT_TYPES, AuditTrail
from projections.statements import periods_of_month
from service.db import ledger_entries, rm_facility_years, rm_facts, rm_statement_lines, rm_stays, utc
from service.ledger import BudgetLedger, Timeline

SCAN_LIMIT = 5000
"""The most index rows one page reads while looking for events that pass its filters."""
MAX_PAGE = 200


@dataclass(frozen=True)
class LedgerEvent:
    """One recorded event as a history row names it."""

    position: int
    event_id: str
    type: str
    recorded_at: datetime
    effective_date: date
    actor: str
    reason: str | None
    case_ref: str | None
    citizen_ref: str | None
    facility: str | None
    year: int | None
    """The year of a tariff schedule's event (a facility's yearly events name it in their details)."""
    retracts: str | None
    """The id of the event a retraction retracts."""
    retracted_at_position: int | None
    """Where a later retraction of this event was recorded (as of the query's point)."""

    @property
    def before(self) -> int:
        """The position just before this event: the ledger as it stood without it."""
        return self.position - 1


@dataclass(frozen=True)
class EventQuery:
    facility: str | None = None
    citizen: str | None = None
    type: str | None = None
    actor: str | None = None
    until_position: int | None = None
    """Only events recorded up to this position (the page's "as of"; None: all)."""
    before_position: int | None = None
    """A page of events recorded before this position (newest first)."""
    after_position: int | None = None
    """A page of the events just after this position (still shown newest first)."""
    limit: int = 50


@dataclass(frozen=True)
class EventPage:
    events: tuple[LedgerEvent, ...]
    """Newest first."""
    older: int | None
    """`before_position` of the next, older page (None: nothing older)."""
    newer: int | None
    """`after_position` of the newer page (None: nothing newer)."""
    scanned_to: int | None
    """Set when the scan stopped at `SCAN_LIMIT` rows before filling the page: further events may
    still match; `older` (or, paging to newer events, `newer`) goes on from here."""


def check_query(query: EventQuery) -> EventQuery:
    """The query with canonical references, or InvalidValue naming the field and rule."""
    if query.type is not None and query.type not in EVENT_TYPES:
        raise InvalidValue("unknown_event_type", f"type must be one of {', '.join(EVENT_TYPES)}", "type")
    if query.before_position is not None and query.after_position is not None:
        raise InvalidValue("one_direction_only", "give before_position or after_position, not both", "after_position")
    if not 1 <= query.limit <= MAX_PAGE:
        raise InvalidValue("limit_out_of_range", f"limit must be 1..{MAX_PAGE}", "limit")
    if query.actor is not None and not query.actor.strip():
        raise InvalidValue("actor_required", "actor must not be empty", "actor")
    return EventQuery(
        facility=None if query.facility is None else check_reference(query.facility, "facility"),
        citizen=None if query.citizen is None else check_reference(query.citizen, "citizen"),
        type=query.type, actor=query.actor, until_position=query.until_position,
        before_position=query.before_position, after_position=query.after_position, limit=query.limit)


class EventHistory:
    """Pages of the ledger's events (see the module)."""

    def __init__(self, ledger: BudgetLedger) -> None:
        self.ledger = ledger
        self.trail = AuditTrail(ledger)

    def page(self, query: EventQuery) -> EventPage:
        query = check_query(query)
        streams = self.trail.streams_of(query.facility, query.citizen, query.until_position)
        if query.after_position is not None:
            found, more, scanned_to = self._scan(query, streams, after=query.after_position, descending=False,
                                                 wanted=query.limit + 1)
            events = tuple(reversed(found[:query.limit]))
            newer = events[0].position if more else scanned_to
            older = events[-1].position if events else None
            if older is not None and not self._scan(query, streams, before=older, descending=True, wanted=1)[0]:
                older = None
            return EventPage(events, older, newer, scanned_to)
        found, more, scanned_to = self._scan(query, streams, before=query.before_position, descending=True,
                                             wanted=query.limit + 1)
        events = tuple(found[:query.limit])
        older = events[-1].position if more else scanned_to
        newer = None
        if events and query.before_position is not None:
            if self._scan(query, streams, after=events[0].position, descending=False, wanted=1)[0]:
                newer = events[0].position
        return EventPage(events, older, newer, scanned_to)

    def event_at(self, position: int, until: int | None = None) -> LedgerEvent | None:
        """The event recorded at `position` (None: no such position)."""
        with self.ledger.engine.connect() as connection:
            row = connection.execute(select(ledger_entries).where(ledger_entries.c.position == position)).first()
        return None if row is None else self._event(row, until)

    def _scan(self, query: EventQuery, streams: set[str] | None, *, before: int | None = None, after: int | None = None,
              descending: bool, wanted: int) -> tuple[list[LedgerEvent], bool, int | None]:
        """Up to `wanted` matching events from `before` down (or `after` up), whether `wanted`
        were found, and where the scan stopped if it read `SCAN_LIMIT` rows first."""
        found: list[LedgerEvent] = []
        scanned = 0
        for row in self._rows(query.until_position, streams, before, after, descending, min(500, 2 * wanted + 10)):
            scanned += 1
            if self._matches(row, query):
                found.append(self._event(row, query.until_position))
                if len(found) == wanted:
                    return found, True, None
            if scanned >= SCAN_LIMIT:
                return found, False, row.position
        return found, False, None

    def _rows(self, until: int | None, streams: set[str] | None, before: int | None, after: int | None,
              descending: bool, chunk: int) -> Iterator[Any]:
        """Index rows in order, read `chunk` at a time at first and up to 500 at a time while a
        filter keeps asking for more (each chunk's streams are read in one go)."""
        column = ledger_entries.c.position
        while True:
            statement = select(ledger_entries)
            if until is not None:
                statement = statement.where(column <= until)
            if before is not None:
                statement = statement.where(column < before)
            if after is not None:
                statement = statement.where(column > after)
            if streams is not None:
                statement = statement.where(ledger_entries.c.originator_id.in_(sorted(streams)))
            statement = statement.order_by(column.desc() if descending else column).limit(chunk)
            with self.ledger.engine.connect() as connection:
                rows = connection.execute(statement).all()
            if not rows:
                return
            self.trail.load_streams(row.originator_id for row in rows)
            yield from rows
            if len(rows) < chunk:
                return
            if descending:
                before = rows[-1].position
            else:
                after = rows[-1].position
            chunk = min(500, chunk * 2)

    def _matches(self, row: Any, query: EventQuery) -> bool:
        if not self.trail.passes(row, query.type, query.actor):
            return False
        if query.facility is not None:
            return self.trail.describe(row, query.until_position, post_closing=False)["facility"] == query.facility
        return True

    def _event(self, row: Any, until: int | None) -> LedgerEvent:
        entry = self.trail.describe(row, until, post_closing=False)
        retracted = entry["retracted"]
        return LedgerEvent(
            position=entry["position"], event_id=entry["event_id"], type=entry["type"],
            recorded_at=utc(row.recorded_at), effective_date=date.fromisoformat(entry["effective_date"]),
            actor=entry["actor"], reason=entry["reason"], case_ref=entry["case_ref"],
            citizen_ref=entry["citizen_ref"], facility=entry["facility"],
            year=entry["year"] if entry["year"] is not None else entry["details"].get("year"),
            retracts=entry["retracts"], retracted_at_position=None if retracted is None else retracted["position"])


# Change points ---------------------------------------------------------------------------

@dataclass(frozen=True)
class FacilityYear:
    """A facility's budget for a year: its months, its facts (name, places, capacity changes)
    and frame budget of the year, the year's schedule, and the stays that touch the year."""

    facility: str
    year: int


@dataclass(frozen=True)
class MunicipalityYear:
    """Every facility's budget for a year (the central model; the what-if of the year)."""

    year: int


@dataclass(frozen=True)
class WhatIfYear:
    """The what-if of a year: every facility's budget and the year's rates, which the what-if
    starts from (a rate revision changes what it shows even when no budget moves)."""

    year: int


@dataclass(frozen=True)
class StatementMonth:
    """A paying municipality's statement for a month."""

    municipality: str
    year: int
    month: int


@dataclass(frozen=True)
class RegulationYear:
    """The regulation of a year: its months, accounts and frames, and the frames of the
    target year its results go to."""

    year: int
    target_year: int


@dataclass(frozen=True)
class CitizenEvents:
    """A citizen's timeline: the events of the citizen's own stream."""

    citizen: str


Scope = Union[FacilityYear, MunicipalityYear, WhatIfYear, StatementMonth, RegulationYear, CitizenEvents]


@dataclass(frozen=True)
class Steps:
    """Where a page stands in the history of what it shows."""

    position: int
    """The position the page is read as of."""
    last: LedgerEvent | None
    """The latest event at or before `position` that changed what the page shows (None: none yet)."""
    next: LedgerEvent | None
    """The first event after `position` that changes it (None: none recorded)."""

    @property
    def previous_position(self) -> int | None:
        """Read as of this position to see the page just before `last` (None: nothing before)."""
        return None if self.last is None else self.last.before


def _versions(table: Table, where: Any) -> list[tuple[Any, Any]]:
    """Both ends of the row versions of `table` that satisfy `where`."""
    return [(table.c.recorded_from, where), (table.c.recorded_to, where)]


def _year_touched(year: int) -> Any:
    return and_(rm_stays.c.move_in <= date(year, 12, 31),
                or_(rm_stays.c.move_out.is_(None), rm_stays.c.move_out >= date(year, 1, 1)))


def _columns(scope: Scope) -> list[tuple[Any, Any]]:
    """(column, condition) pairs whose values are the positions at which the scope's rows changed."""
    years, facts = rm_facility_years.c, rm_facts.c
    if isinstance(scope, FacilityYear):
        return [
            *_versions(rm_facility_years, and_(years.facility == scope.facility, years.year == scope.year)),
            *_versions(rm_facts, and_(facts.facility == scope.facility,
                                      or_(and_(facts.kind == "facility", facts.year == 0),
                                          and_(facts.kind == "frame", facts.year == scope.year)))),
            *_versions(rm_facts, and_(facts.kind == "schedule", facts.year == scope.year)),
            *_versions(rm_stays, and_(rm_stays.c.facility == scope.facility, _year_touched(scope.year))),
        ]
    if isinstance(scope, WhatIfYear):
        return [*_columns(MunicipalityYear(scope.year)),
                *_versions(rm_facts, and_(facts.kind == "rates", facts.year == scope.year))]
    if isinstance(scope, MunicipalityYear):
        return [
            *_versions(rm_facility_years, years.year == scope.year),
            *_versions(rm_facts, or_(and_(facts.kind == "facility", facts.year == 0),
                                     and_(facts.kind.in_(("frame", "baseline", "schedule")), facts.year == scope.year))),
        ]
    if isinstance(scope, RegulationYear):
        return [
            *_versions(rm_facility_years, years.year == scope.year),
            *_versions(rm_facts, or_(and_(facts.kind == "facility", facts.year == 0),
                                     and_(facts.kind.in_(("frame", "accounts")), facts.year == scope.year),
                                     and_(facts.kind == "frame", facts.year == scope.target_year))),
        ]
    stream = citizen_id(check_reference(scope.citizen, "citizen")).hex
    return [(ledger_entries.c.position, ledger_entries.c.originator_id == stream)]


def _statement_month_changes(connection: Any, scope: StatementMonth) -> set[int]:
    """The positions at which the municipality's statement lines of the month changed: a row
    holds a stay's lines of the whole year, so a version boundary counts only where the
    month's periods differ on its two sides."""
    lines = rm_statement_lines.c
    rows = connection.execute(select(lines.stay_id, lines.recorded_from, lines.recorded_to, lines.value).where(
        lines.municipality == scope.municipality, lines.year == scope.year)).all()
    by_stay: dict[str, list[tuple[int, int | None, list[Any]]]] = {}
    for row in rows:
        by_stay.setdefault(row.stay_id, []).append(
            (row.recorded_from, row.recorded_to, periods_of_month(json.loads(row.value), scope.month)))

    def at(versions: list[tuple[int, int | None, list[Any]]], position: int) -> list[Any]:
        return next((periods for start, end, periods in versions
                     if start <= position and (end is None or end > position)), [])

    changed = set()
    for versions in by_stay.values():
        for boundary in {p for start, end, _ in versions for p in (start, end) if p is not None}:
            if at(versions, boundary) != at(versions, boundary - 1):
                changed.add(boundary)
    return changed


class ChangePoints:
    """The events that changed what a page shows (see the module)."""

    def __init__(self, ledger: BudgetLedger) -> None:
        self.ledger = ledger
        self.history = EventHistory(ledger)

    def positions(self, scope: Scope, position: int) -> tuple[int | None, int | None]:
        """The latest change at or before `position`, and the first after it."""
        last: list[int] = []
        following: list[int] = []
        with self.ledger.engine.connect() as connection:
            if isinstance(scope, StatementMonth):
                changed = _statement_month_changes(connection, scope)
                return (max((p for p in changed if p <= position), default=None),
                        min((p for p in changed if p > position), default=None))
            for column, where in _columns(scope):
                found = connection.execute(select(func.max(column)).where(where, column <= position)).scalar()
                if found is not None:
                    last.append(found)
                found = connection.execute(select(func.min(column)).where(where, column > position)).scalar()
                if found is not None:
                    following.append(found)
        return max(last, default=None), min(following, default=None)

    def steps(self, scope: Scope, position: int | None) -> Steps:
        """Where the page read as of `position` (None: the latest) stands: the event that made it
        what it is, and the next event that changes it."""
        at = Timeline(self.ledger.engine).max_position() if position is None else position
        last, following = self.positions(scope, at)
        return Steps(at, None if last is None else self.history.event_at(last, at),
                     None if following is None else self.history.event_at(following))

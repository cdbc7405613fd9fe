"""The audit trail: every event in recording order with every field of domain §3, and who
retracted it (by whom, why, when), filtered by facility, citizen, time and position.

Read straight from the store (the ledger index orders and filters, the event store holds the
facts, decrypted when encryption at rest is on), so the trail is the events themselves, never
a copy. A citizen event belongs to the facility of its stay; a retraction to the facility of
the event it retracts.

Reads of citizen rows are themselves recorded (`citizen_reads`): who read which citizen's
rows, through which resource, and when.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterable
from uuid import UUID

from sqlalchemy import insert, or_, select

from domain.citizen import Citizen, citizen_id
from domain.facility import Facility, facility_id
from domain.ledger import public_type
from domain.tariff_schedule import TariffSchedule
from service.db import citizen_reads, ledger_entries, rm_budget_months, rm_facts, utc
from service.ledger import Actor, BudgetLedger

_HIDDEN = {"meta", "originator_id", "originator_version", "timestamp", "originator_topic"}


def plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@dataclass
class Stream:
    """One aggregate's events, with their positions, as the audit needs them."""

    kind: str
    events: dict[int, Any]
    """version -> domain event"""
    entries: dict[int, Any]
    """version -> ledger_entries row"""
    facility_of_stay: dict[str, str] = field(default_factory=dict)

    @property
    def first(self) -> Any:
        return self.events[min(self.events)]


@dataclass(frozen=True)
class AuditQuery:
    facility: str | None = None
    citizen: str | None = None
    after_position: int = 0
    until_position: int | None = None
    limit: int = 100


class AuditTrail:
    def __init__(self, ledger: BudgetLedger) -> None:
        self.ledger = ledger
        self._streams: dict[str, Stream] = {}

    def entries(self, query: AuditQuery) -> tuple[list[dict[str, Any]], int | None]:
        """A page of the trail, and the position to continue after (None: nothing more)."""
        streams = self._filter_streams(query)
        found: list[dict[str, Any]] = []
        after = query.after_position
        while len(found) < query.limit:
            rows = self._entries_after(after, query.until_position, streams, query.limit * 2)
            if not rows:
                return found, None
            for row in rows:
                after = row.position
                entry = self.describe(row, query.until_position)
                if query.facility is None or entry["facility"] == query.facility:
                    found.append(entry)
                    if len(found) == query.limit:
                        return found, after
        return found, after

    def _filter_streams(self, query: AuditQuery) -> set[str] | None:
        if query.citizen is None and query.facility is None:
            return None
        streams: set[str] | None = None
        if query.citizen is not None:
            streams = {citizen_id(query.citizen).hex}
        if query.facility is not None:
            at_facility = {facility_id(query.facility).hex} | {
                citizen_id(ref).hex for ref in self.ledger.citizens_ever_at(query.facility, query.until_position)}
            streams = at_facility if streams is None else streams & at_facility
        return streams

    def _entries_after(self, after: int, until: int | None, streams: set[str] | None, limit: int) -> list[Any]:
        statement = select(ledger_entries).where(ledger_entries.c.position > after)
        if until is not None:
            statement = statement.where(ledger_entries.c.position <= until)
        if streams is not None:
            statement = statement.where(ledger_entries.c.originator_id.in_(streams))
        with self.ledger.engine.connect() as connection:
            return connection.execute(statement.order_by(ledger_entries.c.position).limit(limit)).all()

    def stream(self, originator_id: str) -> Stream:
        if originator_id not in self._streams:
            uuid = UUID(originator_id)
            events = {e.originator_version: e for e in self.ledger.events.get(uuid)}
            with self.ledger.engine.connect() as connection:
                entries = {r.originator_version: r for r in connection.execute(
                    select(ledger_entries).where(ledger_entries.c.originator_id == originator_id))}
            first = events[min(events)]
            kind = ("citizen" if isinstance(first, Citizen.Event) else
                    "facility" if isinstance(first, Facility.Event) else
                    "tariff_schedule" if isinstance(first, TariffSchedule.Event) else "other")
            stream = Stream(kind, events, entries)
            for e in events.values():
                if kind == "citizen" and hasattr(e, "facility"):
                    stream.facility_of_stay[e.meta.event_id] = e.facility
            self._streams[originator_id] = stream
        return self._streams[originator_id]

    def describe(self, row: Any, until: int | None, post_closing: bool = True) -> dict[str, Any]:
        """The entry `row` as the trail shows it (`post_closing=False`: without looking up the
        closed facility-years it changed, for callers that do not show them)."""
        stream = self.stream(row.originator_id)
        event = stream.events[row.originator_version]
        meta = event.meta
        details = {k: plain(v) for k, v in vars(event).items() if k not in _HIDDEN}
        by_event_id = {e.meta.event_id: e for e in stream.events.values()}
        target = by_event_id.get(details.get("retracted_event_id", "")) if "retracted_event_id" in details else None
        return {
            "position": row.position, "event_id": row.event_id, "type": public_type(event),
            "recorded_at": utc(row.recorded_at).isoformat(), "effective_date": meta.effective_date.isoformat(),
            "actor": meta.actor, "reason": meta.reason, "case_ref": meta.case_ref,
            "stream": stream.kind,
            "citizen_ref": stream.first.citizen_ref if stream.kind == "citizen" else None,
            "facility": self._facility(stream, target or event),
            "year": getattr(stream.first, "year", None) if stream.kind == "tariff_schedule" else None,
            "details": details,
            "retracts": details.get("retracted_event_id"),
            "retracted": self._retraction_of(stream, row.event_id, until),
            "post_closing": self._post_closing(row.position) if post_closing else None,
        }

    def _post_closing(self, position: int) -> list[dict[str, Any]]:
        """The closed facility-years whose budget this event changed (domain §4.9): accepted
        as facts, flagged here, and shown as post-closing adjustments in the regulation."""
        months = rm_budget_months.c
        with self.ledger.engine.connect() as connection:
            touched = connection.execute(select(months.facility, months.year).where(
                or_(months.recorded_from == position, months.recorded_to == position)).distinct()).all()
            touched += connection.execute(select(rm_facts.c.facility, rm_facts.c.year).where(
                rm_facts.c.kind.in_(("frame", "baseline")),
                or_(rm_facts.c.recorded_from == position, rm_facts.c.recorded_to == position)).distinct()).all()
            if not touched:
                return []
            closed = {(r.facility, r.year) for r in connection.execute(select(rm_facts.c.facility, rm_facts.c.year).where(
                rm_facts.c.kind == "accounts", rm_facts.c.recorded_from < position,
                or_(rm_facts.c.recorded_to.is_(None), rm_facts.c.recorded_to >= position)))}
        return [{"facility": f, "year": y} for f, y in sorted(set(map(tuple, touched)) & closed)]

    @staticmethod
    def _facility(stream: Stream, event: Any) -> str | None:
        if stream.kind == "facility":
            return stream.first.code
        if stream.kind == "citizen":
            return getattr(event, "facility", None) or stream.facility_of_stay.get(getattr(event, "stay_id", ""))
        return None

    @staticmethod
    def _retraction_of(stream: Stream, event_id: str, until: int | None) -> dict[str, Any] | None:
        for version, e in sorted(stream.events.items()):
            if getattr(e, "retracted_event_id", None) != event_id:
                continue
            entry = stream.entries[version]
            if until is not None and entry.position > until:
                return None
            return {"by_event_id": e.meta.event_id, "position": entry.position,
                    "recorded_at": utc(entry.recorded_at).isoformat(), "actor": e.meta.actor, "reason": e.meta.reason}
        return None


def log_citizen_reads(ledger: BudgetLedger, reader: Actor, resource: str, refs: Iterable[str | None]) -> None:
    """Record that `reader` read these citizens' rows through `resource`."""
    now = datetime.now(timezone.utc)
    rows = [{"read_at": now, "reader": reader.name, "role": reader.role, "resource": resource[:300],
             "citizen_ref": ref} for ref in sorted({r for r in refs if r})]
    if rows:
        with ledger.engine.begin() as connection:
            connection.execute(insert(citizen_reads), rows)

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

from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic
from sqlalchemy import insert, or_, select

from domain.citizen import Citizen, citizen_id
from domain.facility import Facility, facility_id
from domain.ledger import LedgerAggregate, public_type
from domain.tariff_schedule import TariffSchedule
from service.db import citizen_reads, ledger_entries, rm_facility_years, rm_facts, utc
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


class Stream:
    """One aggregate's events, with their ledger entries, as the audit needs them. The stored
    events are decoded on first need: a trail row needs its own event, the stream's first
    (who the stream is) and at most one more (the move-in of its stay, or the event it
    retracts), not every event of a citizen's history."""

    def __init__(self, stored: Iterable[StoredEvent], entries: Iterable[Any], decode: Callable[[StoredEvent], Any]
                 ) -> None:
        self.stored = {s.originator_version: s for s in stored}
        self.entries = {e.originator_version: e for e in entries}
        """version -> ledger_entries row"""
        self._decode = decode
        self._events: dict[int, Any] = {}
        self._versions = {e.event_id: version for version, e in self.entries.items()}
        first = self.first
        self.kind = ("citizen" if isinstance(first, Citizen.Event) else
                     "facility" if isinstance(first, Facility.Event) else
                     "tariff_schedule" if isinstance(first, TariffSchedule.Event) else "other")

    def event(self, version: int) -> Any:
        if version not in self._events:
            self._events[version] = self._decode(self.stored[version])
        return self._events[version]

    @property
    def first(self) -> Any:
        return self.event(min(self.stored))

    def by_event_id(self, event_id: str) -> Any | None:
        version = self._versions.get(event_id)
        return None if version is None else self.event(version)

    def facility_of_stay(self, stay_id: str) -> str | None:
        """The facility a citizen's stay is at: its move-in's (the stay's id is the move-in's
        event id)."""
        move_in = self.by_event_id(stay_id) if self.kind == "citizen" else None
        return getattr(move_in, "facility", None)

    def retractions(self) -> Iterator[tuple[int, Any]]:
        """The retractions in the stream, in order (known by their topic before decoding)."""
        for version in sorted(self.stored):
            if self.stored[version].topic.endswith("." + LedgerAggregate.RETRACTION):
                yield version, self.event(version)


EVENT_TYPES = (
    "FacilityRegistered", "CapacityChanged", "FrameBudgetSet", "BaselineSet", "AnnualAccountsRecorded",
    "TariffSchedulePublished", "TariffRateRevised", "CitizenMovedIn", "CitizenReassessed", "SpecialTariffGranted",
    "PayingMunicipalityChanged", "CitizenMovedOut", "EntryRetracted",
)
"""The event types of domain §3, in its order: what a filter by type accepts."""


@lru_cache(maxsize=None)
def type_of_topic(topic: str) -> str:
    """The public type (domain §3) of a stored event's topic, without decoding the event."""
    return public_type_of_class(resolve_topic(topic))


def public_type_of_class(cls: type) -> str:
    return getattr(cls, "type_name", None) or cls.__name__


@dataclass(frozen=True)
class AuditQuery:
    facility: str | None = None
    citizen: str | None = None
    after_position: int = 0
    until_position: int | None = None
    limit: int = 100
    type: str | None = None
    """Only events of this type (one of `EVENT_TYPES`)."""
    actor: str | None = None
    """Only events recorded by this actor."""


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
            self.load_streams(row.originator_id for row in rows)
            for row in rows:
                after = row.position
                if not self.passes(row, query.type, query.actor):
                    continue
                entry = self.describe(row, query.until_position)
                if query.facility is None or entry["facility"] == query.facility:
                    found.append(entry)
                    if len(found) == query.limit:
                        return found, after
        return found, after

    def passes(self, row: Any, type_: str | None, actor: str | None) -> bool:
        """Whether the entry `row` is of the type and by the actor (None: any); the type is
        read from the stored event's topic, the actor from the decoded event."""
        stream = self.stream(row.originator_id)
        stored = stream.stored.get(row.originator_version)
        if stored is None:
            return False
        if type_ is not None and type_of_topic(stored.topic) != type_:
            return False
        return actor is None or stream.event(row.originator_version).meta.actor == actor

    def _filter_streams(self, query: AuditQuery) -> set[str] | None:
        return self.streams_of(query.facility, query.citizen, query.until_position)

    def streams_of(self, facility: str | None, citizen: str | None, until: int | None) -> set[str] | None:
        """The streams that can hold events of the facility and the citizen (None: every
        stream): the facility's own and those of every citizen ever moved in to it."""
        if citizen is None and facility is None:
            return None
        streams: set[str] | None = None
        if citizen is not None:
            streams = {citizen_id(citizen).hex}
        if facility is not None:
            at_facility = {facility_id(facility).hex} | {
                citizen_id(ref).hex for ref in self.ledger.citizens_ever_at(facility, until)}
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
        self.load_streams([originator_id])
        return self._streams[originator_id]

    def load_streams(self, originator_ids: Iterable[str]) -> None:
        """Read the streams not read yet: their stored events through the library's recorder
        (undecoded; `Stream` decodes what it shows), then their ledger entries in one query. A
        command committed between the two reads adds entries with no stored event here: a
        stream keeps only the versions both reads saw."""
        missing = sorted(set(originator_ids) - self._streams.keys())
        if not missing:
            return
        stored = {originator_id: self.ledger.recorder.select_events(UUID(originator_id)) for originator_id in missing}
        entries: dict[str, list[Any]] = {originator_id: [] for originator_id in missing}
        with self.ledger.engine.connect() as connection:
            for chunk in range(0, len(missing), 500):
                for row in connection.execute(select(ledger_entries).where(
                        ledger_entries.c.originator_id.in_(missing[chunk:chunk + 500]))):
                    entries[row.originator_id].append(row)
        for originator_id in missing:
            seen = {s.originator_version for s in stored[originator_id]}
            self._streams[originator_id] = Stream(stored[originator_id],
                                                  [e for e in entries[originator_id] if e.originator_version in seen],
                                                  self.ledger.mapper.to_domain_event)

    def describe(self, row: Any, until: int | None, post_closing: bool = True) -> dict[str, Any]:
        """The entry `row` as the trail shows it (`post_closing=False`: without looking up the
        closed facility-years it changed, for callers that do not show them)."""
        stream = self.stream(row.originator_id)
        event = stream.event(row.originator_version)
        meta = event.meta
        details = {k: plain(v) for k, v in vars(event).items() if k not in _HIDDEN}
        target = stream.by_event_id(details["retracted_event_id"]) if "retracted_event_id" in details else None
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
        years = rm_facility_years.c
        with self.ledger.engine.connect() as connection:
            touched = connection.execute(select(years.facility, years.year).where(
                or_(years.recorded_from == position, years.recorded_to == position)).distinct()).all()
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
            return getattr(event, "facility", None) or stream.facility_of_stay(getattr(event, "stay_id", ""))
        return None

    @staticmethod
    def _retraction_of(stream: Stream, event_id: str, until: int | None) -> dict[str, Any] | None:
        for version, e in stream.retractions():
            if getattr(e, "retracted_event_id", None) != event_id:
                continue
            entry = stream.entries[version]
            if until is not None and entry.position > until:
                return None
            return {"by_event_id": e.meta.event_id, "position": entry.position,
                    "recorded_at": utc(entry.recorded_at).isoformat(), "actor": e.meta.actor, "reason": e.meta.reason}
        return None


def log_citizen_reads(ledger: BudgetLedger, reader: Actor, resource: str, refs: Iterable[str | None]) -> None:
    """Record that `reader` read these citizens' rows through `resource` (with the paying
    municipality of a `buyer` reader)."""
    now = datetime.now(timezone.utc)
    rows = [{"read_at": now, "reader": reader.name, "role": reader.role, "resource": resource[:300],
             "citizen_ref": ref, "municipality": reader.municipality} for ref in sorted({r for r in refs if r})]
    if rows:
        with ledger.engine.begin() as connection:
            connection.execute(insert(citizen_reads), rows)

"""The application: every command of the ledger as a use case (load, act, save once).

Each command builds the event metadata (event_id, effective date, actor, reason, case_ref),
loads the aggregates it needs, lets the domain decide, and saves the new events together
with their index rows and idempotency record in one transaction (service/store.py).
Library errors are translated into domain ones here; nothing below the HTTP layer knows HTTP.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Callable, Iterator, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from domain.citizen import Citizen, Classification, SpecialTariff, citizen_id
from domain.errors import DomainError, InvalidValue, NotFound, RuleViolation
from domain.facility import Facility, facility_id
from domain.ledger import LedgerAggregate, public_type, replay
from domain.tariff_schedule import TariffSchedule, schedule_id
from domain.values import Meta, canonical_reference, check_no_cpr, check_year
from service.commands.declarations import (
    ChangeCapacity,
    ChangePayingMunicipality,
    Command,
    GrantSpecialTariff,
    MoveIn,
    MoveOut,
    PublishSchedule,
    Reassess,
    RecordAccounts,
    RegisterFacility,
    Retract,
    ReviseRate,
    SetBaseline,
    SetFrameBudget,
)
from service.commands.fields import SpecialTariffGrant
from service.db import idempotency_keys, ledger_entries, ledger_residents, make_engine, utc
from service.settings import Settings
from service.store import DateAsISO, Idempotency, LedgerWrite, MetaAsDict, Replayed, StaleRead

A = TypeVar("A", bound=LedgerAggregate)

citizen_stream = lru_cache(maxsize=65_536)(citizen_id)
facility_stream = lru_cache(maxsize=4_096)(facility_id)
schedule_stream = lru_cache(maxsize=256)(schedule_id)
"""The streams' ids (a UUID 5 of the name) of citizens, facilities and schedules, each computed
once per name: a command asks for its citizen's and its year's schedule's stream several times."""


@dataclass(frozen=True)
class Actor:
    """Who records: the authenticated token's name and role (and, for a `buyer`, the paying
    municipality it reads for)."""

    name: str
    role: str
    municipality: str | None = None


@dataclass(frozen=True)
class Recorded:
    """A command's outcome: the response body and whether it replays an earlier one."""

    body: dict[str, Any]
    replayed: bool = False


class IdempotencyConflict(RuleViolation):
    """The same Idempotency-Key came back with a different request."""


class NotAllowed(Exception):
    """The actor's role may not record this (e.g. a retraction of another role's event)."""


def _classification_body(c: Classification) -> dict[str, Any]:
    return {"hours_per_day": str(c.hours_per_day), "level": c.level, "special_tariff": None}


class BudgetLedger(Application):
    """The budget ledger's use cases over the eventsourcing store."""

    name = "BudgetLedger"

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings)
        self.after_write: list[Callable[[int], None]] = []
        """Called with the last position of every command stored (wakes the projections)."""
        self._batch: list[Any] | None = None
        self._cache: OrderedDict[UUID, LedgerAggregate] = OrderedDict()
        """In a batch: the aggregates decided on, the last used last (`IMPORT_HELD` of them
        once the batch's events are stored)."""
        self._streams: set[UUID] | None = None
        """In a batch: the streams the store held when it was last looked at (see `_exists`)."""
        self._schedules: dict[UUID, TariffSchedule] = {}
        """The tariff schedules commands decided on lately, by stream: a command that uses one
        has its version checked in its own transaction (docs/adr/0028)."""
        self._known: set[UUID] = set()
        """Streams seen to exist: a stream, once stored, is never removed."""
        self._deciding = threading.local()
        """The command being decided in this thread: the streams it read and did not write."""
        self._at_once = threading.BoundedSemaphore(settings.commands_at_once)
        """The commands decided and stored at a time (`_command`, docs/adr/0051)."""
        super().__init__(env=settings.library_env())

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(MetaAsDict())

    def close(self) -> None:
        super().close()
        self.engine.dispose()

    # Commands ----------------------------------------------------------------------------

    def handle(self, command: Command, actor: Actor, idempotency: Idempotency | None = None) -> Recorded:
        """Decide a command and store its events (with the idempotency record) in one
        transaction; in a batch, keep them for `flush()`. Raises the domain's errors."""
        return _HANDLERS[type(command)](self, command, actor, idempotency)

    def _register_facility(self, c: RegisterFacility, actor: Actor, idempotency: Idempotency | None) -> Recorded:
        code = canonical_reference(c.code, "code")

        def decide() -> list[LedgerAggregate]:
            if self._exists(facility_stream(code)):
                raise RuleViolation("facility_code_taken", f"facility {code} is already registered", "code")
            check_no_cpr(c.name, "name")
            check_no_cpr(c.area, "area")
            meta = self._meta(c.effective_date or self.today(), actor, c)
            return [Facility.register(code, c.name, c.kind, c.area, c.places, meta)]

        return self._command(decide, idempotency)

    def _change_capacity(self, c: ChangeCapacity, actor: Actor, idempotency: Idempotency | None) -> Recorded:
        def decide() -> list[LedgerAggregate]:
            facility = self.facility(c.code)
            facility.change_capacity(c.places, self._meta(c.effective_date, actor, c))
            return [facility]

        return self._command(decide, idempotency)

    def _set_frame_budget(self, c: SetFrameBudget, actor: Actor, idempotency: Idempotency | None) -> Recorded:
        def decide() -> list[LedgerAggregate]:
            facility = self.facility(c.code)
            meta = self._meta(date(check_year(c.year), 1, 1), actor, c)
            lines = [line.model_dump() for line in c.lines]
            facility.set_frame_budget(c.year, c.budgeted_places, str(c.planned_occupancy_pct), lines, meta)
            return [facility]

        return self._command(decide, idempotency)

    def _set_baseline(self, c: SetBaseline, actor: Actor, idempotency: Idempotency | None) -> Recorded:
        def decide() -> list[LedgerAggregate]:
            facility = self.facility(c.code)
            meta = self._meta(date(check_year(c.year), 1, 1), actor, c)
            facility.set_baseline(c.year, c.baseline_budget, str(c.phase_in_pct), meta)
            return [facility]

        return self._command(decide, idempotency)

    def _record_accounts(self, c: RecordAccounts, actor: Actor, idempotency: Idempotency | None) -> Recorded:
        def decide() -> list[LedgerAggregate]:
            facility = self.facility(c.code)
            meta = self._meta(date(check_year(c.year), 12, 31), actor, c)
            facility.record_accounts(c.year, c.actual_costs, meta)
            return [facility]

        return self._command(decide, idempotency)

    def _publish_schedule(self, c: PublishSchedule, actor: Actor, idempotency: Idempotency | None) -> Recorded:
        levels, special_tariffs = c.levels_for_domain(), [s.model_dump() for s in c.special_tariffs]

        def decide() -> list[LedgerAggregate]:
            meta = self._meta(date(check_year(c.year), 1, 1), actor, c)
            try:
                schedule = self._get(schedule_stream(c.year), TariffSchedule)
            except NotFound:
                return [TariffSchedule.publish_first(c.year, levels, special_tariffs, c.hourly_rate, c.runoff_months,
                                                     meta)]
            schedule.publish_again(levels, special_tariffs, c.hourly_rate, c.runoff_months, meta)
            return [schedule]

        return self._command(decide, idempotency)

    def _revise_rate(self, c: ReviseRate, actor: Actor, idempotency: Idempotency | None) -> Recorded:
        def decide() -> list[LedgerAggregate]:
            schedule = self.schedule(check_year(c.year))
            schedule.revise(c.level, c.daily_rate, self._meta(c.effective_date, actor, c))
            return [schedule]

        return self._command(decide, idempotency)

    def _move_in(self, c: MoveIn, actor: Actor, idempotency: Idempotency | None) -> Recorded:
        classified: list[Classification] = []
        citizen_ref = canonical_reference(c.citizen_ref, "citizen_ref")
        facility = canonical_reference(c.facility, "facility")

        def decide() -> list[LedgerAggregate]:
            meta = self._meta(c.effective_date, actor, c)
            self._known_facility(facility)
            schedule = self._schedule_in_force(c.effective_date)
            classification = Classification.of(c.assessment.as_domain(), schedule)
            special, special_meta = self._special(c.special_tariff, schedule, meta)
            try:
                citizen = self._get(citizen_stream(citizen_ref), Citizen)
            except NotFound:
                citizen = Citizen.first_move_in(citizen_ref, facility, c.paying_municipality, classification, meta,
                                                special, special_meta)
            else:
                citizen.move_in(facility, c.paying_municipality, classification, meta, special, special_meta)
            classified.append(classification)
            return [citizen]

        return self._command(decide, idempotency, lambda: _classification_body(classified[-1]))

    def _reassess(self, c: Reassess, actor: Actor, idempotency: Idempotency | None) -> Recorded:
        classified: list[Classification] = []

        def decide() -> list[LedgerAggregate]:
            citizen = self.citizen(c.citizen_ref)
            meta = self._meta(c.effective_date, actor, c)
            schedule = self._schedule_in_force(c.effective_date)
            classification = Classification.of(c.assessment.as_domain(), schedule)
            special, special_meta = self._special(c.special_tariff, schedule, meta)
            citizen.reassess(classification, meta, special, special_meta)
            classified.append(classification)
            return [citizen]

        return self._command(decide, idempotency, lambda: _classification_body(classified[-1]))

    def _grant_special_tariff(self, c: GrantSpecialTariff, actor: Actor, idempotency: Idempotency | None
                              ) -> Recorded:
        def decide() -> list[LedgerAggregate]:
            citizen = self.citizen(c.citizen_ref)
            meta = self._meta(c.effective_date, actor, c)
            meta.require_reason()
            schedule = self._schedule_in_force(c.effective_date)
            citizen.grant_special_tariff(SpecialTariff.of(c.code, c.daily_rate, schedule, field=""), meta)
            return [citizen]

        return self._command(decide, idempotency)

    def _change_paying_municipality(self, c: ChangePayingMunicipality, actor: Actor,
                                    idempotency: Idempotency | None) -> Recorded:
        def decide() -> list[LedgerAggregate]:
            citizen = self.citizen(c.citizen_ref)
            citizen.change_paying_municipality(c.paying_municipality, self._meta(c.effective_date, actor, c))
            return [citizen]

        return self._command(decide, idempotency)

    def _move_out(self, c: MoveOut, actor: Actor, idempotency: Idempotency | None) -> Recorded:
        def decide() -> list[LedgerAggregate]:
            citizen = self.citizen(c.citizen_ref)
            citizen.move_out(c.kind, self._meta(c.effective_date, actor, c))
            return [citizen]

        return self._command(decide, idempotency)

    def stream_of(self, event_id: str) -> tuple[UUID, type[LedgerAggregate]]:
        """The aggregate that holds `event_id`, from the ledger index (or the batch)."""
        for aggregate in self._cache.values():
            if event_id in aggregate.entries:
                return aggregate.id, type(aggregate)
        with self.engine.connect() as connection:
            row = connection.execute(
                select(ledger_entries.c.originator_id).where(ledger_entries.c.event_id == event_id)
            ).first()
        if row is None:
            raise NotFound("unknown_event", f"no event {event_id} in the ledger", "event_id")
        originator = UUID(row.originator_id)
        kind = type(self.load(originator))
        return originator, kind

    def _retract(self, c: Retract, actor: Actor, idempotency: Idempotency | None) -> Recorded:
        allowed = RETRACTABLE_BY_ROLE.get(actor.role, ())

        def decide() -> list[LedgerAggregate]:
            originator, kind = self.stream_of(c.event_id)
            if not issubclass(kind, allowed):
                raise NotAllowed(f"the role {actor.role} may not retract events of a {kind.__name__.lower()}")
            aggregate = self._get(originator, kind)
            target = aggregate.entry(c.event_id)
            meta = Meta.new(str(uuid.uuid4()), target.effective_date, actor.name, c.reason, c.case_ref,
                            date_of_a_stored_event=True)
            aggregate.retract(c.event_id, meta)
            return [aggregate]

        return self._command(decide, idempotency)

    # Reads -------------------------------------------------------------------------------

    def facility(self, code: str, version: int | None = None) -> Facility:
        code = self._spelling(code, "code", facility_stream)
        try:
            return self._get(facility_stream(code), Facility, version)
        except NotFound:
            raise NotFound("unknown_facility", f"no facility {code}", "code") from None

    def require_facility(self, code: str) -> None:
        """Refuse (404) a facility that was never registered, without loading its stream."""
        code = self._spelling(code, "code", facility_stream)
        if not self._exists(facility_stream(code)):
            raise NotFound("unknown_facility", f"no facility {code}", "code")

    def schedule(self, year: int, version: int | None = None) -> TariffSchedule:
        try:
            return self._get(schedule_stream(year), TariffSchedule, version)
        except NotFound:
            raise NotFound("no_tariff_schedule", f"there is no tariff schedule for {year}", "year") from None

    def schedule_in_force(self, day: date) -> TariffSchedule:
        """The published schedule an assessment taking effect on `day` is classified under, as
        a move-in or reassessment decides it (no_tariff_schedule when there is none)."""
        return self._schedule_in_force(day)

    def citizen(self, citizen_ref: str, version: int | None = None) -> Citizen:
        citizen_ref = self._spelling(citizen_ref, "citizen_ref", citizen_stream)
        try:
            return self._get(citizen_stream(citizen_ref), Citizen, version)
        except NotFound:
            raise NotFound("unknown_citizen", f"no citizen {citizen_ref} in the ledger", "citizen_ref") from None

    def recorded_citizen_ref(self, citizen_ref: str) -> str:
        """The reference a citizen's stream was recorded with (`_spelling`), from the store's
        own index, without loading the citizen; NotFound `unknown_citizen` for a citizen the
        ledger never recorded."""
        citizen_ref = self._spelling(citizen_ref, "citizen_ref", citizen_stream)
        if not self._exists(citizen_stream(citizen_ref)):
            raise NotFound("unknown_citizen", f"no citizen {citizen_ref} in the ledger", "citizen_ref")
        return citizen_ref

    def _spelling(self, text: str, field: str, stream: Callable[[str], UUID]) -> str:
        """The reference by which an existing facility or citizen is read or changed: its
        canonical form; or, for a stream recorded before references were canonical (e.g.
        `bor-0002`) and no canonical stream of that name, the spelling it was recorded with,
        given exactly (docs/adr/0020). New streams are only ever made canonical."""
        try:
            canonical: str | None = canonical_reference(text, field)
        except InvalidValue:
            canonical = None
        if canonical is not None and (canonical == text or self._exists(stream(canonical))):
            return canonical
        if isinstance(text, str) and text and self._exists(stream(text)):
            return text
        return canonical_reference(text, field)

    def facility_codes(self) -> list[str]:
        """Codes of every registered facility, in order of registration."""
        topic = f"{Facility.__module__}:{Facility.__qualname__}.FacilityRegistered"
        notifications = self.recorder.select_notifications(start=None, limit=1_000_000, topics=[topic])
        return [self.mapper.to_domain_event(n).code for n in notifications]  # type: ignore[attr-defined]

    def citizens_ever_at(self, code: str, position: int | None = None) -> list[str]:
        """References of every citizen with a move-in to `code` recorded up to `position`
        (retracted or not), in the order of their first: from the ledger's index of move-ins."""
        code = canonical_reference(code, "code")
        query = select(ledger_residents.c.originator_id).where(ledger_residents.c.facility == code)
        if position is not None:
            query = query.where(ledger_residents.c.position <= position)
        with self.engine.connect() as connection:
            streams = connection.execute(query.order_by(ledger_residents.c.position)).scalars().all()
        return [self.citizen_ref_of(UUID(stream)) for stream in dict.fromkeys(streams)]

    def citizens_ever_at_by_scan(self, code: str, position: int | None = None) -> list[str]:
        """The same as `citizens_ever_at`, by decoding every move-in of the store: the
        independent reference the index is tested against."""
        code = canonical_reference(code, "code")
        notifications = self.recorder.select_notifications(
            start=None, limit=10_000_000, stop=position, topics=move_in_topics())
        refs: dict[str, None] = {}
        for notification in notifications:
            event = self.mapper.to_domain_event(notification)
            if event.facility == code:  # type: ignore[attr-defined]
                refs[self.citizen_ref_of(event.originator_id)] = None
        return list(refs)

    def citizen_ref_of(self, originator_id: UUID) -> str:
        """The reference of a citizen stream (its first event names it)."""
        first = next(iter(self.events.get(originator_id, limit=1)))
        return first.citizen_ref  # type: ignore[attr-defined]

    # Internals ---------------------------------------------------------------------------

    # Batches (ledger import) ---------------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Decide commands against aggregates kept in memory, and store them only when
        `flush()` is called: many commands in one transaction, all or nothing."""
        self._batch, self._cache, self._streams = [], OrderedDict(), None
        try:
            yield
        finally:
            self._batch, self._cache, self._streams = None, OrderedDict(), None

    def flush(self) -> int | None:
        """Store the batch's events in one transaction; the last position (None: nothing)."""
        if not self._batch:
            return None
        events, self._batch = self._batch, []
        write = LedgerWrite(event_ids=[e.meta.event_id for e in events], timestamps=[e.timestamp for e in events],
                            response={}, residents=residents(events))
        try:
            self._put(events, write)
        except IntegrityError:
            self._cache, self._streams = OrderedDict(), None
            raise RuleViolation("concurrent_write", "another writer changed the same records during the import; "
                                "nothing of this batch was stored") from None
        self._let_go_of_stored({e.originator_id for e in events})
        for listener in self.after_write:
            listener(write.positions[-1])
        return write.positions[-1]

    IMPORT_HELD = 32768
    """Aggregates a batch keeps once its events are stored; the others are read again from
    the store when a later command needs them."""

    def _let_go_of_stored(self, stored: set[UUID]) -> None:
        """Every aggregate held is stored now (`flush`): keep the last used `IMPORT_HELD`, and
        know the streams just stored as the store's, so that one let go of is read again
        instead of taken for new (`_stored_streams`)."""
        if self._streams is not None:
            self._streams |= stored
        while len(self._cache) > self.IMPORT_HELD:
            self._cache.popitem(last=False)

    def _put(self, events: list[Any], write: LedgerWrite) -> None:
        """Store decided events with what the command stores beside them, in one transaction:
        what `save` does for events (no snapshots, no aggregate cache, nothing notified
        in process), without asking each event whether it is an event or an aggregate."""
        self.events.put(events, ledger_write=write)

    STALE_ATTEMPTS = 3
    """How often a command is decided again when what it read from the cache changed meanwhile."""

    def _command(self, decide: Any, idempotency: Idempotency | None, body: Any = None) -> Recorded:
        """Decide and store a command in one transaction. Its idempotency record is read in that
        transaction (store.py: a stored one rolls it back and is answered instead), and so is the
        version of every aggregate it only read: one changed since rolls it back, and the
        command is decided again on the current state (docs/adr/0028)."""
        if self._batch is not None:
            aggregates = decide()
            events = [e for aggregate in aggregates for e in aggregate.collect_events()]
            for aggregate in aggregates:
                self._cache[aggregate.id] = aggregate
                self._cache.move_to_end(aggregate.id)
            self._batch.extend(events)
            return Recorded({**(body() if body else {}), "event_ids": [e.meta.event_id for e in events]})
        with self._at_once:
            return self._decide_and_store(decide, idempotency, body)

    def _decide_and_store(self, decide: Any, idempotency: Idempotency | None, body: Any) -> Recorded:
        """One command, decided again when what it read has changed (`_command`). At most
        `commands_at_once` threads run this at a time: the store takes one writer at a time, and
        more threads deciding at once only take turns at the interpreter (docs/adr/0051)."""
        for attempt in range(self.STALE_ATTEMPTS):
            self._deciding.reads = {}
            try:
                aggregates = decide()
            except DomainError:
                if self._stale_reads():
                    continue  # refused on a cached aggregate that has changed: decide again
                # A racer with the same key may have stored this very command since we looked: its
                # answer, not the refusal its own effect now causes (e.g. open_stay_exists).
                earlier = self._replay(idempotency) if idempotency is not None else None
                if earlier is not None:
                    return earlier
                raise
            finally:
                reads, self._deciding.reads = self._deciding.reads, None
            events = [e for aggregate in aggregates for e in aggregate.collect_events()]
            response = body() if body else {}
            if "special_tariff" in response:
                granted = [e for e in events if public_type(e) == "SpecialTariffGranted"]
                response["special_tariff"] = granted[-1].code if granted else None  # type: ignore[attr-defined]
            written = {aggregate.id for aggregate in aggregates}
            write = LedgerWrite(
                event_ids=[e.meta.event_id for e in events],  # type: ignore[attr-defined]
                timestamps=[e.timestamp for e in events],
                response=response,
                idempotency=idempotency,
                residents=residents(events),
                read_versions={stream.hex: version for stream, version in reads.items() if stream not in written},
            )
            try:
                self._put(events, write)
            except Replayed as stored:
                return self._replayed(stored.fingerprint, stored.response, idempotency)
            except StaleRead:
                self._forget(reads)
                continue
            except IntegrityError:
                if idempotency is not None:
                    earlier = self._replay(idempotency)
                    if earlier is not None:
                        return earlier
                raise RuleViolation(
                    "concurrent_write",
                    "another command changed the same records at the same moment; read them again and retry",
                ) from None
            self._forget(written)
            for listener in self.after_write:
                listener(write.positions[-1])
            return Recorded(write.complete_response())
        raise RuleViolation("concurrent_write", "the records this command depends on kept changing while it was "
                            "decided; read them again and retry")

    def _stale_reads(self) -> bool:
        """Whether an aggregate the refused command read from the cache has changed since: then it
        is forgotten (and the command decided again); one statement, only when the cache was used."""
        reads = self._deciding.reads or {}
        cached = {stream: version for stream, version in reads.items() if stream in self._schedules}
        if not cached:
            return False
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(ledger_entries.c.originator_id, func.max(ledger_entries.c.originator_version))
                .where(ledger_entries.c.originator_id.in_([stream.hex for stream in cached]))
                .group_by(ledger_entries.c.originator_id)).all()
        now = {UUID(row[0]): row[1] for row in rows}
        stale = [stream for stream, version in cached.items() if now.get(stream) != version]
        self._forget(stale)
        return bool(stale)

    def _forget(self, streams: Any) -> None:
        for stream in streams:
            self._schedules.pop(stream, None)

    def _replay(self, idempotency: Idempotency) -> Recorded | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(idempotency_keys).where(
                    idempotency_keys.c.principal == idempotency.principal, idempotency_keys.c.key == idempotency.key_hash
                )
            ).first()
        if row is None:
            return None
        return self._replayed(row.fingerprint, row.response, idempotency)

    @staticmethod
    def _replayed(fingerprint: str, response: str, idempotency: Idempotency | None) -> Recorded:
        if idempotency is None or fingerprint != idempotency.fingerprint:
            raise IdempotencyConflict(
                "idempotency_key_reused",
                "this Idempotency-Key was already used with a different request; use a new key",
                "Idempotency-Key",
            )
        return Recorded(json.loads(response), replayed=True)

    def _meta(self, effective_date: date, actor: Actor, command: Command) -> Meta:
        return Meta.new(str(uuid.uuid4()), effective_date, actor.name, command.reason, command.case_ref)

    def _special(self, special: SpecialTariffGrant | None, schedule: TariffSchedule, meta: Meta
                 ) -> tuple[SpecialTariff | None, Meta | None]:
        if special is None:
            return None, None
        tariff = SpecialTariff.of(special.code, special.daily_rate, schedule)
        return tariff, Meta(str(uuid.uuid4()), meta.effective_date, meta.actor, meta.reason, meta.case_ref)

    def _known_facility(self, code: str) -> None:
        if not self._exists(facility_stream(code)):
            raise RuleViolation("unknown_facility", f"there is no facility {code}; register it first", "facility")

    def _schedule_in_force(self, day: date) -> TariffSchedule:
        """The year's schedule a command decides on: in a command, from the cache when it holds
        it, its version then checked in the command's transaction (`_command`)."""
        try:
            schedule = self._decided_on(schedule_stream(day.year))
        except NotFound:
            schedule = None
        if schedule is None or not schedule.is_published:
            raise RuleViolation(
                "no_tariff_schedule",
                f"there is no tariff schedule for {day.year}: publish it before recording assessments in that year",
                "effective_date",
            )
        return schedule

    def _decided_on(self, originator_id: UUID) -> TariffSchedule:
        """A schedule a command reads but does not change, from the cache when it is there; the
        version read is noted for the check in the command's transaction. Outside a command (a
        read, or a batch of `ledger import`) loaded as every aggregate is."""
        reads = getattr(self._deciding, "reads", None)
        if reads is None or self._batch is not None:
            return self._get(originator_id, TariffSchedule)
        schedule = self._schedules.get(originator_id)
        if schedule is None:
            schedule = self._get(originator_id, TariffSchedule)
            if len(self._schedules) >= 64:
                self._schedules.clear()
            self._schedules[originator_id] = schedule
        reads[originator_id] = schedule.version
        return schedule

    def _exists(self, originator_id: UUID) -> bool:
        if originator_id in self._cache or originator_id in self._known:
            return True
        if self._batch is not None and originator_id not in self._stored_streams():
            return False
        if not self.recorder.select_events(originator_id, limit=1):
            return False
        if len(self._known) >= 100_000:
            self._known.clear()
        self._known.add(originator_id)
        return True

    def _stored_streams(self) -> set[UUID]:
        """The streams of the store, read once per batch: a stream the batch has not touched
        and the store did not hold then is new, with no query per command. Should another
        writer create it meanwhile, the unique (stream, version) of the store refuses the
        batch (`concurrent_write`), so nothing is decided on a stale answer."""
        if self._streams is None:
            with self.engine.connect() as connection:
                rows = connection.execute(select(ledger_entries.c.originator_id).distinct())
                self._streams = {UUID(str(row[0])) for row in rows}
        return self._streams

    def load(self, originator_id: UUID, version: int | None = None) -> Any:
        """An aggregate from its stored events (up to `version`); raises the library's
        AggregateNotFoundError when it has none."""
        return self.repository.get(originator_id, version=version, projector_func=replay)

    def _get(self, originator_id: UUID, kind: type[A], version: int | None = None) -> A:
        cached = self._cache.get(originator_id) if version is None and self._batch is not None else None
        if cached is not None:
            if not isinstance(cached, kind):
                raise NotFound("not_found", "not found")
            self._cache.move_to_end(originator_id)
            return cached
        if self._batch is not None and version is None and originator_id not in self._stored_streams():
            raise NotFound("not_found", "not found")
        try:
            aggregate = self.load(originator_id, version)
            if self._batch is not None and version is None:
                self._cache[originator_id] = aggregate
        except AggregateNotFoundError:
            raise NotFound("not_found", "not found") from None
        if not isinstance(aggregate, kind):
            raise NotFound("not_found", "not found")
        return aggregate

    @staticmethod
    def today() -> date:
        from zoneinfo import ZoneInfo

        return datetime.now(ZoneInfo("Europe/Copenhagen")).date()


RETRACTABLE_BY_ROLE: dict[str, tuple[type[LedgerAggregate], ...]] = {
    "admin": (Facility, TariffSchedule, Citizen),
    "finance": (Facility, TariffSchedule),
    "caseworker": (Citizen,),
}
"""Whose events a role may retract: case workers citizens', finance facilities' and schedules'."""

_HANDLERS: dict[type[Command], Callable[[BudgetLedger, Any, Actor, Idempotency | None], Recorded]] = {
    RegisterFacility: BudgetLedger._register_facility,
    ChangeCapacity: BudgetLedger._change_capacity,
    SetFrameBudget: BudgetLedger._set_frame_budget,
    RecordAccounts: BudgetLedger._record_accounts,
    SetBaseline: BudgetLedger._set_baseline,
    PublishSchedule: BudgetLedger._publish_schedule,
    ReviseRate: BudgetLedger._revise_rate,
    MoveIn: BudgetLedger._move_in,
    Reassess: BudgetLedger._reassess,
    GrantSpecialTariff: BudgetLedger._grant_special_tariff,
    ChangePayingMunicipality: BudgetLedger._change_paying_municipality,
    MoveOut: BudgetLedger._move_out,
    Retract: BudgetLedger._retract,
}
"""The use case of each command (`BudgetLedger.handle`)."""


def move_in_topics() -> list[str]:
    return [f"{Citizen.__module__}:{Citizen.__qualname__}.{name}" for name in ("FirstMovedIn", "MovedIn")]


def residents(events: list[Any]) -> list[tuple[int, str]]:
    """(index, facility) of the move-ins among a command's events."""
    return [(index, event.facility) for index, event in enumerate(events)
            if isinstance(event, (Citizen.FirstMovedIn, Citizen.MovedIn))]


def _stored_time(instant: datetime, sqlite: bool) -> datetime:
    """An instant as the index compares it: in UTC; on SQLite, which keeps UTC without an
    offset, converted first and then stripped (never stripped as it was)."""
    from datetime import timezone

    utc_instant = instant.astimezone(timezone.utc) if instant.tzinfo else instant.replace(tzinfo=timezone.utc)
    return utc_instant.replace(tzinfo=None) if sqlite else utc_instant


class Timeline:
    """Bitemporal look-ups in the ledger index: instant → position → aggregate version."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def max_position(self) -> int:
        from sqlalchemy import func

        with self.engine.connect() as connection:
            return connection.execute(select(func.max(ledger_entries.c.position))).scalar() or 0

    def position_at(self, instant: datetime) -> int:
        """The last position recorded at or before `instant` (0: before the first event)."""
        return self._last_position(instant, inclusive=True)

    def position_before(self, instant: datetime) -> int:
        """The last position recorded strictly before `instant` (0: none)."""
        return self._last_position(instant, inclusive=False)

    def _last_position(self, instant: datetime, inclusive: bool) -> int:
        """Recording times never decrease along the positions (the store writes each entry's
        time as at least its predecessor's), so the last position up to an instant is the last
        of those recorded at the latest time up to it: two seeks in the index on recorded_at,
        where "the greatest position recorded up to the instant" read every entry before it
        (145 ms at `national` for an instant late in the history)."""
        from sqlalchemy import func

        recorded_at = ledger_entries.c.recorded_at
        instant = _stored_time(instant, self.engine.dialect.name == "sqlite")
        latest = select(func.max(recorded_at)).where(recorded_at <= instant if inclusive else recorded_at < instant)
        with self.engine.connect() as connection:
            return connection.execute(
                select(func.max(ledger_entries.c.position)).where(recorded_at == latest.scalar_subquery())
            ).scalar() or 0

    def version_at(self, originator_id: UUID, position: int) -> int | None:
        """The aggregate's version as of `position`; None when it did not exist yet."""
        from sqlalchemy import func

        with self.engine.connect() as connection:
            return connection.execute(
                select(func.max(ledger_entries.c.originator_version)).where(
                    ledger_entries.c.originator_id == originator_id.hex, ledger_entries.c.position <= position
                )
            ).scalar()

    def entries_of(self, originator_id: UUID) -> dict[int, tuple[int, datetime, str]]:
        """version → (position, recorded_at, event_id) for one stream."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(ledger_entries).where(ledger_entries.c.originator_id == originator_id.hex)
            ).all()
        return {r.originator_version: (r.position, utc(r.recorded_at), r.event_id) for r in rows}

"""The base of every aggregate in the ledger: entries that can be retracted, never deleted.

Every event of a ledger aggregate carries `meta` (domain §3: event_id, effective date,
actor, reason, case_ref). The aggregate keeps an index of its own entries so that a
retraction (*EntryRetracted*) can be checked against the rules:

- the event must belong to this aggregate and must not be retracted already;
- a retraction cannot be retracted (record the fact again instead);
- a reason is required;
- each aggregate adds its own rules in `check_retractable` (e.g. a move-in only after every
  later event of its stay is retracted).

A retracted event stays in the store and in the audit trail; it stops counting from the
retraction's recording on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, Iterable

from eventsourcing.domain import Aggregate, event

from domain.errors import NotFound, RuleViolation
from domain.values import Meta


@dataclass
class Entry:
    """One recorded event of the aggregate, as the rules need to see it."""

    event_id: str
    type: str
    effective_date: date
    sequence: int
    retracted_by: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.retracted_by is None


def replay(aggregate: Any, events: Iterable[Any]) -> Any:
    """The aggregate after `events`, each mutating what the one before left (None: not
    created yet): the library's `project_aggregate` without its check of every event against
    a runtime protocol (docs/adr/0054). The store holds only this domain's events, and each of
    them mutates."""
    for domain_event in events:
        aggregate = domain_event.mutate(aggregate)
    return aggregate


class LedgerAggregate(Aggregate):
    """Aggregate whose events carry `meta` and are indexed as retractable entries."""

    RETRACTION = "EntryRetracted"

    class Event(Aggregate.Event):
        type_name: ClassVar[str | None] = None
        """The event's public type (domain §3); defaults to the class name."""

        def mutate(self, aggregate: Any) -> Any:
            aggregate = super().mutate(aggregate)
            aggregate._index(self)
            return aggregate

    class Created(Event, Aggregate.Created):
        def mutate(self, aggregate: Any) -> Any:
            aggregate = Aggregate.Created.mutate(self, aggregate)
            aggregate._index(self)
            return aggregate

    def _index(self, evt: Any) -> None:
        if not hasattr(self, "entries"):
            self.entries: dict[str, Entry] = {}
        meta: Meta = evt.meta
        self.entries[meta.event_id] = Entry(
            event_id=meta.event_id,
            type=public_type(evt),
            effective_date=meta.effective_date,
            sequence=len(self.entries) + 1,
        )

    def entry(self, event_id: str) -> Entry:
        try:
            return self.entries[event_id]
        except KeyError:
            raise NotFound("unknown_event", f"no event {event_id}", "event_id") from None

    # Retraction --------------------------------------------------------------------------

    def retract(self, retracted_event_id: str, meta: Meta) -> None:
        """Record that an earlier event of this aggregate stops counting."""
        meta.require_reason()
        target = self.entry(retracted_event_id)
        if target.type == self.RETRACTION:
            raise RuleViolation(
                "retraction_cannot_be_retracted",
                "a retraction cannot be retracted; record the fact again instead",
                "event_id",
            )
        if not target.active:
            raise RuleViolation(
                "already_retracted",
                f"event {retracted_event_id} was already retracted by {target.retracted_by}",
                "event_id",
            )
        self.check_retractable(target)
        self._retracted(meta=meta, retracted_event_id=retracted_event_id)

    def check_retractable(self, target: Entry) -> None:
        """Each aggregate's own rules for retracting `target`; raise RuleViolation."""

    @event(RETRACTION)
    def _retracted(self, meta: Meta, retracted_event_id: str) -> None:
        self.entries[retracted_event_id].retracted_by = meta.event_id
        self.on_retracted(self.entries[retracted_event_id])

    def on_retracted(self, target: Entry) -> None:
        """Hook: update derived state after `target` stopped counting."""


def public_type(evt: Any) -> str:
    """The event's type as domain §3 names it."""
    return getattr(type(evt), "type_name", None) or type(evt).__name__

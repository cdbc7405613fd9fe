"""What the read models hold per event, by event type: issue 19's "a citizen event writes O(1)
read-model rows on average at every scale (report the figure per event type)".

Counted after `ledger rebuild`, from the store as the product left it, with nothing of the
read side's design assumed:

- the tables are every read-model table the store holds (a name starting `rm_`, not a
  rebuild's `_next` leftover, and every name of `service.db.READ_MODEL_TABLES`); those with a
  `recorded_from` column are counted, and those whose rows an event appends
  (`service.db.APPENDED_TABLES`, by their `position` column); the others are named with their
  row counts;
- a row version belongs to the event at its `recorded_from` position (an appended row, at
  its `position`); the events and their
  positions are read from the store's notification log, each typed by its topic as the API
  names it (`service.audit.type_of_topic`), a retraction as `EntryRetracted (<the type it
  retracts>)`;
- a citizen event is one of a citizen's stream, or the retraction of one.

What is counted is the row versions kept: a table that overwrites a row in place counts it
once. PostgreSQL's own count of the rows inserted, updated and deleted in each table (which a
renamed `_next` table keeps, so after a rebuild it is the rebuild's) is reported beside it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterator

from eventsourcing.utils import resolve_topic
from sqlalchemy import select

from bench.store import Database

PREFIX = "rm_"
LEFTOVER = "_next"
POSITION_COLUMN = "recorded_from"
APPENDED_POSITION = "position"
RETRACTION = "EntryRetracted"
PAGE = 5000


@dataclass(frozen=True)
class EventType:
    """The events of one type and the row versions they wrote."""

    name: str
    citizen: bool
    events: int = 0
    rows: int = 0
    most: int = 0
    """The most row versions one event of the type wrote."""
    by_table: dict[str, int] = field(default_factory=dict)

    @property
    def per_event(self) -> float:
        return self.rows / self.events if self.events else 0.0


@dataclass(frozen=True)
class Writes:
    """The read-model row versions per event, by event type (see the module)."""

    tables: tuple[str, ...]
    """The tables counted (with a `recorded_from` column)."""
    types: tuple[EventType, ...]
    """In the order of `service.audit.EVENT_TYPES`, each retraction type after the plain ones."""
    unattributed: dict[str, int]
    """Row versions whose `recorded_from` is no event's position, by table (none in a sound store)."""
    uncounted: dict[str, int]
    """Read-model tables without a `recorded_from` column, with their row counts."""
    postgresql_writes: dict[str, dict[str, int]] | None = None

    def total(self, citizen_only: bool = False) -> EventType:
        """All events (or the citizen events) as one type."""
        chosen = [t for t in self.types if t.citizen or not citizen_only]
        by_table: Counter[str] = Counter()
        for t in chosen:
            by_table.update(t.by_table)
        return EventType("citizen events" if citizen_only else "all events", citizen_only,
                         sum(t.events for t in chosen), sum(t.rows for t in chosen),
                         max((t.most for t in chosen), default=0), {name: by_table[name] for name in self.tables})

    def to_json(self) -> dict[str, Any]:
        def one(t: EventType) -> dict[str, Any]:
            return {"events": t.events, "rows": t.rows, "per_event": round(t.per_event, 4), "most": t.most,
                    "citizen": t.citizen, "by_table": t.by_table}

        return {"tables": list(self.tables), "types": {t.name: one(t) for t in self.types},
                "citizen_events": one(self.total(True)), "all_events": one(self.total()),
                "unattributed": self.unattributed, "uncounted": self.uncounted,
                "postgresql_writes": self.postgresql_writes}

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> "Writes":
        types = tuple(EventType(name, t["citizen"], t["events"], t["rows"], t["most"], t["by_table"])
                      for name, t in body["types"].items())
        return cls(tuple(body["tables"]), types, body["unattributed"], body["uncounted"], body.get("postgresql_writes"))


def position_column(table: str) -> str:
    """The column naming the position of the event that wrote a row of `table`."""
    from service.db import APPENDED_TABLES

    return APPENDED_POSITION if table in APPENDED_TABLES else POSITION_COLUMN


def read_model_tables(database: Database) -> tuple[tuple[str, ...], dict[str, int]]:
    """The read-model tables with a `recorded_from` column or appended to by the events, and
    the others with their row counts."""
    from service.db import READ_MODEL_TABLES

    found = {name: columns for name, columns in database.columns(PREFIX).items() if not name.endswith(LEFTOVER)}
    for name in READ_MODEL_TABLES:
        if name not in found:
            found.update((n, c) for n, c in database.columns(name).items() if n == name)
    counted = tuple(sorted(name for name, columns in found.items() if position_column(name) in columns))
    others = tuple(sorted(set(found) - set(counted)))
    return counted, database.row_counts(others) if others else {}


def count(database: Database) -> Writes:
    """The row versions of every read-model table of `database`, by the type of the event at
    their `recorded_from` (see the module)."""
    tables, uncounted = read_model_tables(database)
    rows: dict[int, Counter[str]] = defaultdict(Counter)
    for table in tables:
        for position, n in database.counts_by(table, position_column(table)).items():
            rows[position][table] += n
    kinds = dict(_event_kinds(database))
    by_type: dict[str, list[Any]] = {}
    """name -> [citizen, events, rows, most, Counter by table]"""
    for position, (name, citizen) in kinds.items():
        entry = by_type.setdefault(name, [citizen, 0, 0, 0, Counter()])
        written = rows.pop(position, Counter())
        entry[1] += 1
        entry[2] += sum(written.values())
        entry[3] = max(entry[3], sum(written.values()))
        entry[4].update(written)
    unattributed: Counter[str] = Counter()
    for written in rows.values():
        unattributed.update(written)
    types = tuple(EventType(name, e[0], e[1], e[2], e[3], {t: e[4][t] for t in tables})
                  for name, e in sorted(by_type.items(), key=lambda item: _order(item[0])))
    return Writes(tables, types, dict(unattributed), uncounted, database.writes(tables))


def _order(name: str) -> tuple[bool, int, str]:
    """The plain types in the order of domain §3, then the retractions in the order of what they retract."""
    from service.audit import EVENT_TYPES

    plain, _, target = name.partition(" (")
    base = target.rstrip(")") if target else plain
    return bool(target), EVENT_TYPES.index(base) if base in EVENT_TYPES else len(EVENT_TYPES), name


def _event_kinds(database: Database) -> Iterator[tuple[int, tuple[str, bool]]]:
    """(position, (public type, citizen event?)) of every stored event: the type from the topic,
    a retraction's from what it retracts (the retractions alone are decoded)."""
    from domain.citizen import Citizen
    from service.audit import type_of_topic
    from service.db import ledger_entries
    from service.ledger import BudgetLedger
    from service.settings import Settings

    app = BudgetLedger(Settings(database_url=database.url, database_schema=database.schema))
    try:
        kinds: dict[int, tuple[str, bool]] = {}
        retractions: dict[int, str] = {}
        """position -> the id of the event it retracts"""
        start = 1
        while notifications := app.recorder.select_notifications(start=start, limit=PAGE):
            for n in notifications:
                name = type_of_topic(n.topic)
                if name == RETRACTION:
                    retractions[n.id] = app.mapper.to_domain_event(n).retracted_event_id
                else:
                    kinds[n.id] = (name, issubclass(resolve_topic(n.topic), Citizen.Event))
            start = notifications[-1].id + 1
        ids = sorted(set(retractions.values()))
        positions: dict[str, int] = {}
        with app.engine.connect() as connection:
            for i in range(0, len(ids), 500):
                positions.update(connection.execute(select(ledger_entries.c.event_id, ledger_entries.c.position)
                                                    .where(ledger_entries.c.event_id.in_(ids[i:i + 500]))).all())
        for position, target in retractions.items():
            name, citizen = kinds.get(positions.get(target, -1), ("?", False))
            kinds[position] = (f"{RETRACTION} ({name})", citizen)
        yield from kinds.items()
    finally:
        app.close()

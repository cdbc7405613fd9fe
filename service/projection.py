"""Running the budget projection against the store: replay, follow, rebuild (docs/adr/0006).

- The projection reads the library's notification log (`select_notifications`) in batches and
  writes each batch's row versions together with the library's tracking record (the
  position of the batch's last event) in one transaction of the library's own tracking
  recorder: a batch is stored whole or not at all, and never twice (the single-row tracking
  insert refuses a position that is not beyond the tracked one).
- On start, the rows valid at the tracked position are read from the read models and the
  facilities and tariff schedules from their streams as of that position (nothing is
  written); the citizens are read from the store by their streams as their events come
  (`BudgetProjection`'s bounded LRU, docs/adr/0041). The projection continues from there.
- `follow()` runs until stopped: in the service process (the embedded default), woken by
  every write; or as its own process (`ledger project --follow`), polling.
- `rebuild()` projects the whole store into `<table>_next` tables with a tracked position of
  their own while the current read models keep answering, then puts them in place of the
  current ones in one transaction (service/next_tables.py, docs/adr/0034). Row versions
  depend only on the events and their order, never on the batching, so a rebuild gives
  exactly the rows that following gave.
- An event the projection cannot apply stops it at that event's position: the rows before it
  are written, the stop is recorded (service/projection_stops.py) and the projector does not
  retry until it is started again (docs/adr/0034).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Sequence
from uuid import UUID

from eventsourcing.persistence import InfrastructureFactory, InterfaceError, OperationalError, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.utils import Environment

from domain.citizen import Citizen
from domain.facility import Facility, facility_id
from domain.tariff_schedule import schedule_id
from domain.values import FIRST_YEAR, LAST_YEAR
from projections.budget import BudgetMonth
from projections.projector import FACILITY_FACTS, BudgetProjection, Change
from sqlalchemy import Table, and_, func, or_, select
from starlette.concurrency import run_in_threadpool

from service.db import LEDGER_INDEX_TABLES, READ_MODEL_TABLES, rm_facility_years, rm_facts, rm_statement_lines, rm_stays
from service.db import ledger_entries, rm_day_postings, rm_tail_checkpoints, rm_tails, utc
from service.facts import YEAR_ROWS, named, whole
from service.ledger import BudgetLedger
from service.next_tables import REBUILD_APPLICATION, SUFFIX, create_statements, next_table, switch_statements
from service.projection_stops import ProjectionStopped, Stop, clear_stop, event_stop, read_stop, record_stop
from service.polling import SharedPoll
from service.settings import Settings

log = logging.getLogger("ledger.projection")
APPLICATION = "BudgetLedger"
"""The upstream application's name in the tracking record."""


class Written:
    """How the projection's changes to one of its tables (`Change.table`) become row versions
    of a read-model table: the change's key in the key columns (the primary key but
    recorded_from), then recorded_from and recorded_to, then `encode(value)` in every other
    column, in the table's order (`values`)."""

    def __init__(self, table: Table, encode: Callable[[Any], Sequence[Any]],
                 posted: Callable[[int, Any], Sequence[Any]] | None = None) -> None:
        self.name, self.encode, self.posted = table.name, encode, posted
        """`posted(position, key)`: the key columns of a row appended at the change's position
        (the day postings), in the key's order."""
        self.versioned = "recorded_from" in table.c
        """False for a table whose rows are written once and never closed (the tails'
        checkpoints, the day postings): the change's key and its encoded value, nothing else."""
        self.keys = tuple(c.name for c in table.primary_key.columns if c.name != "recorded_from")
        self.values = tuple(c.name for c in table.columns
                            if c.name not in self.keys and c.name not in ("recorded_from", "recorded_to"))
        self.columns = (*self.keys, "recorded_from", "recorded_to", *self.values) if self.versioned \
            else (*self.keys, *self.values)


def json_value(value: str) -> tuple[str]:
    return (value,)


def stay_values(value: str) -> tuple[Any, ...]:
    """A stay row's columns: its facility, move-in and move-out (for finding it) and its facts."""
    facts = json.loads(value)
    move_out = facts["move_out"]
    columns = {"facility": facts["facility"], "move_in": date.fromisoformat(facts["move_in"]),
               "move_out": None if move_out is None else date.fromisoformat(move_out), "value": value}
    return tuple(columns[column] for column in TABLES["stay"].values)


def posting_key(position: int, key: tuple[Any, ...]) -> tuple[Any, ...]:
    """A day posting's key columns: year and position first, the service rate in øre."""
    facility, year, payer, level, special, rate = key
    return year, position, facility, payer, level, special, whole(rate, 2)


def tail_values(value: tuple[int, Any]) -> tuple[int, int]:
    """A tail group's citizens and their hours per day (in whole hundredths)."""
    citizens, hours = value
    return citizens, whole(hours, 2)


TABLES = {
    "year": Written(rm_facility_years, YEAR_ROWS.encode),
    "fact": Written(rm_facts, json_value),
    "line": Written(rm_statement_lines, json_value),
    "stay": Written(rm_stays, stay_values),
    "tail": Written(rm_tails, tail_values),
    "checkpoint": Written(rm_tail_checkpoints, tail_values),
    "posting": Written(rm_day_postings, lambda days: (days,), posted=posting_key),
}
"""Each change table's read-model table and how its values are written."""

READ_MODELS = (rm_facility_years, rm_facts, rm_statement_lines, rm_stays, rm_tails)
"""The tables whose rows valid at a position are the projection's state there (`rows_at`)."""

CHECKPOINT_EVERY = 10_000
"""Positions between two checkpoints of every facility's tail (docs/adr/0042): a read of every
facility's tail reads one checkpoint and the tail versions of at most this many positions."""


class ReadModelWriter:
    """Writes a batch of row versions and its tracking record in one library transaction."""

    param = "?"
    datastore: Any
    suffix = ""
    """`_next` while a rebuild writes the tables that will replace the current ones."""
    application = APPLICATION
    """The name the written tables' position is tracked under."""

    def table(self, name: str) -> str:
        return name + self.suffix

    def for_rebuild(self) -> None:
        """Write the `_next` tables and track them apart from the current ones."""
        self.suffix, self.application = SUFFIX, REBUILD_APPLICATION

    def record_batch(self, changes: Sequence[tuple[int, Change]], tracking: Tracking, after: int = 0) -> None:
        """Write the batch that follows position `after`; refused (ProjectionConflict) when the
        tracked position is not `after`: another projector or a rebuild got there first."""
        closes: dict[str, list[tuple[Any, ...]]] = {table: [] for table in TABLES}
        inserts: dict[str, list[list[Any]]] = {table: [] for table in TABLES}
        open_in_batch: dict[tuple[str, tuple], list[Any]] = {}
        for position, change in changes:
            slot = (change.table, change.key)
            written = TABLES[change.table]
            if not written.versioned:
                key = change.key if written.posted is None else written.posted(position, change.key)
                inserts[change.table].append([*key, *written.encode(change.value)])
                continue
            earlier = open_in_batch.pop(slot, None)
            if earlier is not None:
                earlier[len(written.keys) + 1] = position  # the version written earlier in this batch ends here
            elif change.replaces:
                closes[change.table].append((position, *change.key))
            if change.value is None:
                continue
            row = [*change.key, position, None, *written.encode(change.value)]
            inserts[change.table].append(row)
            open_in_batch[slot] = row
        p = self.param
        with self.datastore.transaction(commit=True) as c:
            self._lock_writers(c)
            c.execute(f"SELECT notification_id FROM {self.tracking_table()} WHERE application_name = {p}",
                      (self.application,))
            row = c.fetchone()
            tracked = (row["notification_id"] if isinstance(row, dict) else row[0]) if row else 0
            if tracked != after:
                raise ProjectionConflict(f"the read models are at position {tracked}, not {after}: another "
                                         "projector or a rebuild wrote them")
            for table, written in TABLES.items():
                name, columns = written.name, written.columns
                key = " AND ".join(f"{column} = {p}" for column in written.keys)
                if closes[table]:
                    c.executemany(f"UPDATE {self.table(name)} SET recorded_to = {p} WHERE {key} AND recorded_to IS NULL",
                                  closes[table])
                if inserts[table]:
                    c.executemany(f"INSERT INTO {self.table(name)} ({', '.join(columns)}) "
                                  f"VALUES ({', '.join([p] * len(columns))})", [tuple(row) for row in inserts[table]])
            self._insert_tracking(c, tracking)  # type: ignore[attr-defined]  # the library's

    def _lock_writers(self, c: Any) -> None:
        """Take the write lock before reading the tracked position. SQLite: a write statement
        first (even one that changes nothing), so the transaction waits for the lock instead of
        failing to upgrade a read to a write when another writer got in between."""
        c.execute(f"UPDATE {self.tracking_table()} SET notification_id = notification_id WHERE 0 = 1")

    def refresh_statistics(self) -> None:
        """Let the store's planner see the read models as they are now. PostgreSQL plans from
        statistics and reads past dead tuples that autovacuum (when it is on) takes care of
        only long after a bulk projection (at `national`, none had been taken of ten million
        fresh row versions, and it read the open versions through the wrong index:
        docs/adr/0015). SQLite's plans here do not depend on statistics: nothing to do."""

    def reset(self) -> None:
        """Empty the written read models and forget their tracked position, in one transaction
        (the current ones: what a rebuild did before it wrote `_next` tables; tests use it to
        move the read models under a projector)."""
        with self.datastore.transaction(commit=True) as c:
            self._lock_writers(c)
            for name in READ_MODEL_TABLES:
                c.execute(f"DELETE FROM {self.table(name)}")
            c.execute(f"DELETE FROM {self.tracking_table()} WHERE application_name = {self.param}",
                      (self.application,))

    def schema(self) -> str | None:
        return None

    def prepare_rebuild(self) -> int:
        """Create empty `_next` tables (dropping a failed or killed rebuild's) and forget their
        tracked position; return the position the discarded rebuild had reached (0: none)."""
        left = self.max_tracking_id(REBUILD_APPLICATION) or 0  # type: ignore[attr-defined]
        statements = create_statements(self.store, self.schema())  # compiled before the lock is taken
        with self.datastore.transaction(commit=True) as c:
            self._lock_writers(c)  # SQLite: a DROP IF EXISTS reads first; a read cannot always become a write
            for statement in statements:
                c.execute(statement)
            c.execute(f"DELETE FROM {self.tracking_table()} WHERE application_name = {self.param}",
                      (REBUILD_APPLICATION,))
            c.execute(f"DELETE FROM {self.stops_table()} WHERE application_name = {self.param}",
                      (REBUILD_APPLICATION,))
        return left

    def switch(self, position: int) -> None:
        """Put the `_next` tables, projected up to `position`, in place of the current read
        models in one transaction under the projections' write lock, with the tracked
        position and without any recorded stop."""
        p = self.param
        statements = switch_statements(self.store, self.schema())  # compiled before the lock is taken
        with self.datastore.transaction(commit=True) as c:
            self._lock_writers(c)
            self._bound_lock_waits(c)
            for statement in statements:
                c.execute(statement)
            c.execute(f"DELETE FROM {self.tracking_table()} WHERE application_name IN ({p}, {p})",
                      (APPLICATION, REBUILD_APPLICATION))
            c.execute(f"INSERT INTO {self.tracking_table()} (application_name, notification_id) VALUES ({p}, {p})",
                      (APPLICATION, position))
            c.execute(f"DELETE FROM {self.stops_table()} WHERE application_name = {p}", (APPLICATION,))

    def stops_table(self) -> str:
        return "projection_stops"

    def _bound_lock_waits(self, c: Any) -> None:
        """SQLite: the write lock is all the switch needs (readers read on in WAL mode)."""

    def read_stop(self) -> Stop | None:
        """The recorded stop of the tables this writer writes (on the library's connections)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT position, event_id, event_type, error, stopped_at FROM {self.stops_table()} "
                      f"WHERE application_name = {self.param}", (self.application,))
            row = c.fetchone()
        if row is None:
            return None
        values = [row[key] for key in ("position", "event_id", "event_type", "error", "stopped_at")]
        stopped_at = values[4] if isinstance(values[4], datetime) else datetime.fromisoformat(str(values[4]))
        return Stop(values[0], values[1], values[2], values[3], utc(stopped_at))

    def tracking_table(self) -> str:
        return "tracking"


class SQLiteReadModelView(ReadModelWriter, SQLiteTrackingRecorder):
    """The library's SQLite tracking recorder, writing the read models in its transaction."""

    store = "sqlite"


class PostgresReadModelView(ReadModelWriter, PostgresTrackingRecorder):
    """The library's PostgreSQL tracking recorder, writing the read models in its transaction."""

    param = "%s"
    store = "postgresql"

    def table(self, name: str) -> str:
        return f'"{self.datastore.schema}".{name}{self.suffix}'

    def schema(self) -> str | None:
        return self.datastore.schema  # type: ignore[no-any-return]

    def stops_table(self) -> str:
        return f'"{self.datastore.schema}".projection_stops'

    def _bound_lock_waits(self, c: Any) -> None:
        """The switch's DDL waits for the reads in flight on the read-model tables, and the reads
        that come after wait behind it: give up after SWITCH_LOCK_TIMEOUT (the rebuild tries
        again) rather than hold every new read behind one long read."""
        c.execute(f"SET LOCAL lock_timeout = '{int(SWITCH_LOCK_TIMEOUT * 1000)}ms'")

    def tracking_table(self) -> str:
        return f'"{self.datastore.schema}"."{self.tracking_table_name}"'

    def _lock_writers(self, c: Any) -> None:
        c.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{self.datastore.schema}.projections",))

    def refresh_statistics(self) -> None:
        """VACUUM (ANALYZE), on the library's pooled connection (autocommit: VACUUM runs outside
        a transaction). Closing versions leaves a dead tuple for every version, and their index
        entries stay until a vacuum; autovacuum is off on some installations (on the benchmark
        machine) and far behind a bulk projection on others. The ledger's index of the events
        (append-only, nothing to vacuum) is analysed too: without statistics PostgreSQL read
        all of it for a trail row's stream (docs/adr/0018)."""
        with self.datastore.get_connection() as connection:  # type: ignore[attr-defined]
            connection.execute(f"VACUUM (ANALYZE) {', '.join(self.table(name) for name in READ_MODEL_TABLES)}")
            ledger_index = ", ".join(f'"{self.datastore.schema}".{name}' for name in LEDGER_INDEX_TABLES)
            connection.execute(f"ANALYZE {ledger_index}")


def make_view(settings: Settings, create_table: bool = False) -> ReadModelWriter:
    env = settings.library_env() | {"CREATE_TABLE": "y" if create_table else "n"}
    factory = InfrastructureFactory.construct(Environment(APPLICATION, env))
    view_class = SQLiteReadModelView if settings.store == "sqlite" else PostgresReadModelView
    return factory.tracking_recorder(view_class)  # type: ignore[arg-type,return-value]


def decoded_years(result: Any) -> dict[Any, tuple[BudgetMonth | None, ...]]:
    """Facility-year rows of a query's result, by (facility, year), as the projection holds them."""
    key, decode = named(result.keys(), "facility", "year"), YEAR_ROWS.decoder(result.keys())
    return {key(r): decode(r) for r in result}


def rows_at(engine: Any, position: int, suffix: str = "", stays: bool = True, years: bool = True
            ) -> tuple[dict[Any, tuple[BudgetMonth | None, ...]], dict[Any, str], dict[Any, str], dict[Any, str],
                       dict[Any, Any]]:
    """Every read-model row valid at `position` (recorded_from <= N < recorded_to): the
    projection's state there, keyed as the projection keys it (`suffix`: of a rebuild's
    `_next` tables). Without `stays`, no stay rows and no statement lines (a projector reads
    those of the stays it needs, docs/adr/0041); without `years`, no facility-year rows (it
    reads those it needs too)."""
    rm_facility_years, rm_facts, rm_statement_lines, rm_stays, rm_tails = (
        READ_MODELS if not suffix else tuple(next_table(table.name) for table in READ_MODELS))

    def valid(table: Any) -> Any:
        return and_(table.c.recorded_from <= position,
                    or_(table.c.recorded_to.is_(None), table.c.recorded_to > position))

    with engine.connect() as connection:
        found: dict[Any, tuple[BudgetMonth | None, ...]] = {}
        if years:
            result = connection.execute(select(rm_facility_years).where(valid(rm_facility_years)))
            found = decoded_years(result)
        facts = {(r.kind, r.facility, r.year): r.value
                 for r in connection.execute(select(rm_facts).where(valid(rm_facts)))}
        result = connection.execute(select(rm_tails).where(valid(rm_tails)))
        key = named(result.keys(), *TABLES["tail"].keys)
        tails = {key(r): (r.citizens, Decimal(r.hours).scaleb(-2)) for r in result}
        if not stays:
            return found, facts, {}, {}, tails
        lines = {(r.municipality, r.year, r.stay_id): r.value
                 for r in connection.execute(select(rm_statement_lines).where(valid(rm_statement_lines)))}
        held = {(r.stay_id,): r.value for r in connection.execute(select(rm_stays).where(valid(rm_stays)))}
    return found, facts, lines, held, tails


STATISTICS_EVERY = 50_000
"""Events projected before the store's statistics of the read models are first refreshed; after
that, whenever the projected events have doubled since the last refresh, and when the
projection has caught up with at least a quarter more (and this many) than at the last one
(`refresh_statistics`): a projection that follows a long import ends with statistics of
everything it wrote, not of what it had at the last doubling."""


class Projector:
    """The budget projection against one store."""

    def __init__(self, settings: Settings, batch_size: int = 500, checkpoint_every: int = CHECKPOINT_EVERY) -> None:
        self.settings = settings
        self.batch_size = batch_size
        self.checkpoint_every = checkpoint_every
        self.source = BudgetLedger(settings)
        self.view = make_view(settings)
        self.projection = self._projection()
        self.position = 0
        """The position the in-memory state has reached."""
        self.loaded = False
        self.analysed_at = 0
        """The position at which the store's statistics of the read models were last refreshed."""
        self.wake = threading.Event()
        self.progressed = threading.Condition()
        self.stop: Stop | None = None
        """Where the projection stopped at an event it cannot apply (None: it runs)."""
        self.switch_seconds = 0.0
        """How long the last rebuild's switch to its tables held the projections' write lock."""

    def close(self) -> None:
        self.source.close()
        self.view.datastore.close()  # type: ignore[attr-defined]

    def tracked(self) -> int:
        return self.view.max_tracking_id(self.view.application) or 0  # type: ignore[attr-defined]

    def _events_after(self, position: int, limit: int, stop: int | None = None) -> list[tuple[int, Any]]:
        notifications = self.source.recorder.select_notifications(start=position + 1, limit=limit, stop=stop)
        return [(n.id, self.source.mapper.to_domain_event(n)) for n in notifications]

    def _projection(self) -> BudgetProjection:
        """An empty projection whose citizens, and stay rows of other citizens, come from this store."""
        return BudgetProjection(self._aggregate, self.settings.projector_citizens, self._stays_touching,
                                self._year_rows, self.settings.projector_facility_years,
                                self.settings.projector_stay_page, self.settings.projector_facilities,
                                self._facility_facts, self.settings.projector_packed_citizens_mib * 2**20)

    def _aggregate(self, stream: UUID, version: int) -> Citizen | Facility:
        return self.source.load(stream, version)  # type: ignore[no-any-return]

    def _stays_touching(self, first: date | None, last: date | None, after: str, limit: int) -> dict[str, str]:
        """A page of the stay rows valid now in the tables this projector writes, by stay id in
        the store's order: at most `limit` after the id `after` of those that move in by `last`
        and are open or move out at most a year before `first` (the longest run-off; the
        projection keeps those with a funded day in [first, last])."""
        table = rm_stays if not self.view.suffix else next_table(rm_stays.name)
        query = (select(table.c.stay_id, table.c.value)
                 .where(table.c.recorded_to.is_(None), table.c.stay_id > after)
                 .order_by(table.c.stay_id).limit(limit))
        if last is not None:
            query = query.where(table.c.move_in <= last)
        if first is not None:
            query = query.where(or_(table.c.move_out.is_(None),
                                    table.c.move_out >= date(first.year - 1, first.month, 1)))
        with self.source.engine.connect() as connection:
            return dict(connection.execute(query).all())

    def _facility_facts(self, code: str) -> dict[tuple[str, str, int], str]:
        """A facility's own fact rows valid now in the tables this projector writes."""
        table = rm_facts if not self.view.suffix else next_table(rm_facts.name)
        query = select(table.c.kind, table.c.facility, table.c.year, table.c.value).where(
            table.c.recorded_to.is_(None), table.c.kind.in_(FACILITY_FACTS), table.c.facility == code)
        with self.source.engine.connect() as connection:
            return {(row.kind, row.facility, row.year): row.value for row in connection.execute(query)}

    def _year_rows(self, facility: str | None, year: int) -> dict[tuple[str, int], tuple[BudgetMonth | None, ...]]:
        """The facility-year rows of `year` valid now in the tables this projector writes: of
        one facility, or of every facility (None)."""
        table = rm_facility_years if not self.view.suffix else next_table(rm_facility_years.name)
        query = select(table).where(table.c.recorded_to.is_(None), table.c.year == year)
        if facility is not None:
            query = query.where(table.c.facility == facility)
        with self.source.engine.connect() as connection:
            return decoded_years(connection.execute(query))

    def load(self, progress: Callable[[int], None] | None = None) -> None:
        """Pick up where the read models are, writing nothing: take the rows valid at the
        tracked position from the read models, and the facilities and tariff schedules as of
        that position from their streams, so a restart costs reading the rows, not the history
        (the citizens are read as their events come)."""
        self.projection, self.position, self.loaded = self._projection(), 0, True
        target = self.tracked()
        if target:
            rows = rows_at(self.source.engine, target, self.view.suffix, stays=False, years=False)
            for aggregate in self._aggregates_at(target, rows[1]):
                self.projection.take(aggregate)
            self.projection.restore(*rows, cap=self._cap_at(target))
            self.position = target
            if progress:
                progress(self.position)
        self.analysed_at = target
        self.stop = read_stop(self.source.engine, self.view.application)

    def _cap_at(self, position: int) -> int | None:
        """The projection's cap after the events up to `position`: the year after the latest
        recording time (`recorded_at` never goes backwards along the positions, service/store.py)."""
        with self.source.engine.connect() as connection:
            latest = connection.execute(select(ledger_entries.c.recorded_at).where(ledger_entries.c.position <= position)
                                        .order_by(ledger_entries.c.position.desc()).limit(1)).scalar()
        return None if latest is None else utc(latest).year + 1

    def _aggregates_at(self, position: int, facts: dict[tuple[str, str, int], str]) -> list[Any]:
        """The facilities (those the fact rows name) and the tariff schedules (of any year)
        as their events up to `position` left them."""
        streams = [facility_id(code) for kind, code, _ in facts if kind == "facility"]
        streams += [schedule_id(year) for year in range(FIRST_YEAR, LAST_YEAR + 1)]
        versions: dict[str, int] = {}
        with self.source.engine.connect() as connection:
            for chunk in range(0, len(streams), 500):
                versions.update(connection.execute(
                    select(ledger_entries.c.originator_id, func.max(ledger_entries.c.originator_version))
                    .where(ledger_entries.c.originator_id.in_([s.hex for s in streams[chunk:chunk + 500]]),
                           ledger_entries.c.position <= position)
                    .group_by(ledger_entries.c.originator_id)).all())
        return [self.source.load(UUID(stream), version)
                for stream, version in sorted(versions.items())]

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Project every event recorded after the state's position; return how many."""
        if not self.loaded:
            self.load()
        count = 0
        while batch := self._events_after(self.position, self.batch_size):
            try:
                self._record(batch)
            except TRANSIENT:
                raise
            except Exception:  # noqa: BLE001 - rolled back whole: find the event that cannot be applied
                count += self._record_one_by_one(batch)
                continue
            count += len(batch)
            if self.stop is not None and self.position >= self.stop.position:
                clear_stop(self.source.engine, self.view.application, self.position)
                self.stop = None
            if self.position - self.analysed_at >= max(STATISTICS_EVERY, self.analysed_at):
                self._refresh_statistics()  # the read models doubled since: let the planner know
            with self.progressed:
                self.progressed.notify_all()
            if progress:
                progress(self.position)
        if count and self.position - self.analysed_at >= max(STATISTICS_EVERY, self.analysed_at // 4):
            self._refresh_statistics()  # caught up with a quarter more than the planner has seen
        return count

    def _record(self, batch: list[tuple[int, Any]]) -> None:
        changes: list[tuple[int, Change]] = []
        every, previous = self.checkpoint_every, self.position
        for position, event in batch:
            if position // every > previous // every:  # the state holds every event before the boundary
                changes += [(position, c) for c in self.projection.tail_checkpoint(position // every * every - 1)]
            changes += [(position, change) for change in self.projection.apply(event)]
            previous = position
        self.view.record_batch(changes, Tracking(self.view.application, batch[-1][0]), after=self.position)
        self.position = batch[-1][0]
        self.projection.written()

    def _record_one_by_one(self, batch: list[tuple[int, Any]]) -> int:
        """After a batch failed (nothing of it written, the state in memory spoilt): replay the
        state, write the batch event by event, and at the event that fails again record the
        stop and raise ProjectionStopped. Returns how many were written when none failed (a
        failure of the store that went away)."""
        self.load()
        written = 0
        for position, event in batch:
            if position <= self.position:
                continue
            try:
                self._record([(position, event)])
            except TRANSIENT:
                raise
            except Exception as error:  # noqa: BLE001 - this event cannot be applied: stop at it
                self.loaded = False  # the state in memory holds part of the event
                self.stop = event_stop(position, event, error)
                record_stop(self.source.engine, self.view.application, self.stop)
                log.error("%s; the read models stay at position %s", self.stop.describe(), self.position)
                raise ProjectionStopped(self.stop) from error
            written += 1
        return written

    def rebuild(self, progress: Callable[[int], None] | None = None,
                discarded: Callable[[int], None] | None = None) -> int:
        """Project the whole store into the `_next` tables while the current read models keep
        answering, then switch to them in one transaction (service/next_tables.py). A rebuild
        that fails leaves the current read models as they were (ProjectionStopped names an
        event that cannot be applied). `discarded` hears the position of a failed or killed
        earlier rebuild whose tables this one dropped."""
        self.view.for_rebuild()
        left = self.view.prepare_rebuild()
        if left and discarded:
            discarded(left)
        self.projection, self.position, self.loaded, self.analysed_at = self._projection(), 0, True, 0
        self.stop = None
        count = self.catch_up(progress)
        if self.position != self.analysed_at:
            self._refresh_statistics()
        count += self.catch_up(progress)  # the events recorded meanwhile
        for attempt in range(1, SWITCH_ATTEMPTS + 1):
            started = time.monotonic()
            try:
                self.view.switch(self.position)
                break
            except Exception:  # noqa: BLE001 - rolled back: the current read models are as they were
                if attempt == SWITCH_ATTEMPTS:
                    raise
                log.warning("the switch to the rebuilt read models at position %s failed (attempt %s); trying "
                            "again", self.position, attempt, exc_info=True)
                time.sleep(0.2 * attempt)
                count += self.catch_up(progress)
        self.switch_seconds = time.monotonic() - started
        log.info("switched to the rebuilt read models at position %s in %.3f s", self.position, self.switch_seconds)
        self.view.suffix, self.view.application = "", APPLICATION
        return count

    def _refresh_statistics(self) -> None:
        """Maintenance, not projection: the rows and their tracking are committed already, so
        a failure (a role that may not vacuum, a lock timeout) is logged and the projection
        goes on; the next refresh (a doubling, or a catch-up with a quarter more) tries again."""
        try:
            self.view.refresh_statistics()
        except Exception:  # noqa: BLE001 - the read models are right either way
            log.warning("could not refresh the store's statistics of the read models at position %s",
                        self.position, exc_info=True)
        self.analysed_at = self.position

    def follow(self, stopping: threading.Event, poll_seconds: float = 0.5) -> None:
        """Project new events until `stopping` is set; recover from failures by replaying."""
        failures = 0
        self.loaded = False
        while not stopping.is_set():
            try:
                if self.loaded and self.tracked() != self.position:
                    self.load()  # another projector or a rebuild moved the read models
                self.catch_up()
                failures = 0
            except ProjectionStopped:
                return  # recorded and logged; a new start of the projection tries again
            except Exception:  # noqa: BLE001 - a failed batch is rolled back: replay the state and retry
                failures += 1
                log.exception("projection batch failed after position %s; replaying the state", self.position)
                self.loaded = False  # replay the state from the store before the next batch
                stopping.wait(min(0.1 * 2 ** failures, 5))
                continue
            self.wake.wait(poll_seconds)
            self.wake.clear()


class EmbeddedProjector:
    """The projection in the service process: a thread woken by every write."""

    def __init__(self, settings: Settings) -> None:
        self.projector = Projector(settings)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.projector.follow, args=(self.stopping,), name="projection",
                                       daemon=True)

    def start(self) -> None:
        self.thread.start()

    def nudge(self, _position: int | None = None) -> None:
        self.projector.wake.set()

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    def stop(self) -> None:
        self.stopping.set()
        self.projector.wake.set()
        self.thread.join(timeout=30)
        self.projector.close()


SWITCH_LOCK_TIMEOUT = 2.0
"""Seconds a rebuild's switch waits for the reads in flight on PostgreSQL before it tries again."""
SWITCH_ATTEMPTS = 5


class ProjectionConflict(Exception):
    """Another writer moved the read models under this projector; it must replay."""


TRANSIENT = (ProjectionConflict, OperationalError, InterfaceError, ConnectionError, TimeoutError)
"""Failures of a batch that are not the events': the batch is tried again after a replay."""


class ProjectionLagging(Exception):
    """The projections have not reached the position a read names within the wait."""

    def __init__(self, position: int, reached: int, seconds: float) -> None:
        super().__init__(f"the read models have reached position {reached}, not yet {position} "
                         f"(waited {seconds:g} s); try again shortly")
        self.position, self.reached = position, reached


class ReadModelsOutdated(ProjectionLagging):
    """The read models hold rows of an older form than a read needs (a stay row without the
    move-out's kind and the assessments in force): they catch up only by `ledger rebuild`
    (docs/adr/0035). Answered 503 `read_models_outdated`, never as a 500."""

    def __init__(self, detail: str) -> None:
        Exception.__init__(self, detail)
        self.position = self.reached = 0


class ProjectionStatus:
    """How far the projections have come, and waiting for them to reach a position."""

    def __init__(self, settings: Settings) -> None:
        self.view = make_view(settings)
        self.poll = SharedPoll(self.reached, pause=0.005)

    def reached(self) -> int:
        return self.view.max_tracking_id(APPLICATION) or 0  # type: ignore[attr-defined]

    def stopped(self) -> Stop | None:
        """Where the projection stopped at an event it cannot apply (None: it runs)."""
        return self.view.read_stop()

    def _answerable(self, position: int, reached: int) -> int | None:
        """The position a read of `position` is answered at when the projections stopped
        before it: the last consistent one they reached (None: they did not stop before it)."""
        stop = self.stopped()
        return reached if stop is not None and stop.position <= position else None

    def wait(self, position: int, timeout: float) -> int:
        """Wait in this thread until the projections reach `position` and return it
        (ProjectionLagging after `timeout` seconds); when they stopped at an event before it,
        return at once the position they reached (the reads answer as of that position)."""
        deadline = time.monotonic() + timeout
        pause = 0.002
        if (reached := self.reached()) < position and (answer := self._answerable(position, reached)) is not None:
            return answer
        while (reached := self.reached()) < position:
            if time.monotonic() >= deadline:
                if (answer := self._answerable(position, reached)) is not None:
                    return answer
                raise ProjectionLagging(position, reached, timeout)
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
        return position

    async def wait_async(self, position: int, timeout: float) -> int:
        """`wait` on the event loop: no worker thread is held while waiting, and the waiters
        share the reads of the tracked position (service/polling.py), so requests waiting for
        the projections cannot use up the workers that other requests need (docs/adr/0021)."""
        if (reached := await self.poll.wait_for(position, 0)) >= position:
            return position
        if (answer := await run_in_threadpool(self._answerable, position, reached)) is not None:
            return answer
        if (reached := await self.poll.wait_for(position, timeout)) < position:
            if (answer := await run_in_threadpool(self._answerable, position, reached)) is not None:
                return answer
            raise ProjectionLagging(position, reached, timeout)
        return position

    def close(self) -> None:
        self.view.datastore.close()  # type: ignore[attr-defined]

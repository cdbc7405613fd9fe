"""The event store: the eventsourcing library's SQLite and PostgreSQL recorders, extended to
write the ledger's own index in the same transaction as the events.

For every stored event the recorder writes a row of `ledger_entries` (position, event_id,
stream and version, recorded time), its link in the hash chain (`ledger_chain`, see
service/chain.py) and, for a command sent with an `Idempotency-Key`, the key's SHA-256 (never
the key itself: a client may put anything in a header) and its response. Both land in the library's own transaction, so a command is either
stored whole (events, index, idempotency record) or not at all.

In the same transaction, before the index is written, one statement reads what the command's
decision rests on besides the aggregates it writes (docs/adr/0028): the command's idempotency
record (found: the command was stored before, `Replayed`; the transaction is rolled back) and
the current version of every aggregate the command only read, e.g. the year's tariff schedule
from the ledger's cache (changed since: `StaleRead`, rolled back, decided again). Writers are
serialised when it runs (below), so nothing can change between that read and the commit.

`recorded_at` is the event's own timestamp, raised when needed so that it never goes
backwards along the positions: writers are serialised (PostgreSQL: the library's table
lock; SQLite: the database write lock), so "recorded at or before T" and "at or before
position N" always agree.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable, NamedTuple, Sequence

from eventsourcing.persistence import ProgrammingError, StoredEvent, Transcoding
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from domain.values import Meta
from service.chain import GENESIS, chain_hash, content_hash, entry_hash


@dataclass
class Idempotency:
    """A command's Idempotency-Key as the client sent it, its sender and its request's
    fingerprint. Only `key_hash` is stored and looked up."""

    principal: str
    key: str
    fingerprint: str

    @property
    def key_hash(self) -> str:
        return idempotency_key_hash(self.key)


def idempotency_key_hash(key: str) -> str:
    """What `idempotency_keys.key` holds: the SHA-256 of the key (UTF-8), in hex."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def request_fingerprint(method: str, path: str, raw: bytes) -> str:
    """What an Idempotency-Key is bound to: the method, the path and the body as canonical JSON
    (keys sorted, no spaces; a body that is not JSON as it came), hashed."""
    try:
        canonical = json.dumps(json.loads(raw or b"null"), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = raw
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


class TokenState(NamedTuple):
    """An API token's row as the service checks it on every request (service/auth.py)."""

    name: str
    role: str
    salt: str
    token_hash: str
    revoked: bool
    municipality: str | None


class Replayed(Exception):
    """The command's Idempotency-Key is already stored (by a racer, or an earlier request):
    its stored fingerprint and response; nothing of this command was stored."""

    def __init__(self, fingerprint: str, response: str) -> None:
        super().__init__("idempotency key already stored")
        self.fingerprint, self.response = fingerprint, response


class StaleRead(Exception):
    """An aggregate the command read (not wrote) has changed since it was read: nothing was
    stored; decide again on its current version."""

    def __init__(self, originator_ids: list[str]) -> None:
        super().__init__(f"changed since read: {', '.join(originator_ids)}")
        self.originator_ids = originator_ids


@dataclass
class LedgerWrite:
    """What a command stores besides its events, passed to the recorder with them."""

    event_ids: list[str]
    timestamps: list[datetime]
    response: dict[str, Any]
    idempotency: Idempotency | None = None
    residents: list[tuple[int, str]] = field(default_factory=list)
    """(index among the events, facility) of every move-in: indexed in `ledger_residents`."""
    read_versions: dict[str, int] = field(default_factory=dict)
    """Stream (hex) → the version the command read of an aggregate it does not write: checked
    against the ledger index in the transaction (`StaleRead`)."""
    positions: list[int] = field(default_factory=list)
    recorded_at: list[datetime] = field(default_factory=list)
    state: list[Any] = field(default_factory=list)
    """The state statement's row, read in the transaction before the events are inserted."""

    def complete_response(self) -> dict[str, Any]:
        return {
            **self.response,
            "event_id": self.event_ids[-1],
            "event_ids": list(self.event_ids),
            "position": self.positions[-1],
            "recorded_at": self.recorded_at[-1].isoformat(),
        }


def _recorded_times(previous: datetime | None, timestamps: Sequence[datetime]) -> list[datetime]:
    times = []
    for stamp in timestamps:
        stamp = stamp.astimezone(timezone.utc)
        if previous is not None and stamp < previous:
            stamp = previous
        times.append(stamp)
        previous = stamp
    return times


def _state_statement(prefix: str, p: str, write: LedgerWrite) -> tuple[str, tuple]:
    """One statement for what the index and the decision need from the store, in the write's
    transaction: the last recorded time, the chain's head, the idempotency record (if a key was
    sent) and the current version of every stream the command only read."""
    columns = [f"(SELECT recorded_at FROM {prefix}ledger_entries ORDER BY position DESC LIMIT 1)",
               f"(SELECT chain_hash FROM {prefix}ledger_chain ORDER BY position DESC LIMIT 1)"]
    params: list[Any] = []
    if write.idempotency is not None:
        for column in ("fingerprint", "response"):
            columns.append(f"(SELECT {column} FROM {prefix}idempotency_keys WHERE principal = {p} AND key = {p})")
            params += [write.idempotency.principal, write.idempotency.key_hash]
    for stream in write.read_versions:
        columns.append(f"(SELECT MAX(originator_version) FROM {prefix}ledger_entries WHERE originator_id = {p})")
        params.append(stream)
    return "SELECT " + ", ".join(f"{column} AS s{i}" for i, column in enumerate(columns)), tuple(params)


def _check_state(row: Sequence[Any], write: LedgerWrite) -> tuple[Any, str | None]:
    """(last recorded time, chain head) from the state row; `Replayed` or `StaleRead` when
    the command must not be stored as decided."""
    last, head, rest = row[0], row[1], list(row[2:])
    if write.idempotency is not None:
        fingerprint, response, rest = rest[0], rest[1], rest[2:]
        if fingerprint is not None:
            raise Replayed(fingerprint, response)
    stale = [stream for (stream, version), now in zip(write.read_versions.items(), rest) if now != version]
    if stale:
        raise StaleRead(stale)
    return last, head


def _index_rows(stored_events: Sequence[StoredEvent], write: LedgerWrite, head: str | None,
                time_to_db: Callable[[datetime], Any]) -> tuple[list[tuple], list[tuple], list[tuple], tuple | None]:
    """The rows of `ledger_entries`, `ledger_chain`, `ledger_residents` and `idempotency_keys`."""
    entries, links = [], []
    previous = head or GENESIS
    for stored, position, event_id, recorded in zip(stored_events, write.positions, write.event_ids, write.recorded_at):
        originator = stored.originator_id.hex if hasattr(stored.originator_id, "hex") else str(stored.originator_id)
        entries.append((position, event_id, originator, stored.originator_version, time_to_db(recorded)))
        content = content_hash(stored.originator_id, stored.originator_version, stored.topic, stored.state)
        entry = entry_hash(event_id, recorded)
        previous = chain_hash(previous, position, content, entry)
        links.append((position, content, entry, previous))
    residents = [(facility, entries[index][2], entries[index][0]) for index, facility in write.residents]
    key = None
    if write.idempotency is not None:
        i = write.idempotency
        key = (i.principal, i.key_hash, i.fingerprint, json.dumps(write.complete_response()),
               time_to_db(write.recorded_at[-1]))
    return entries, links, residents, key


def _prepare(stored_events: Sequence[StoredEvent], positions: Sequence[int], write: LedgerWrite | None,
             state: Sequence[Any], parse_time: Callable[[Any], datetime | None]) -> tuple[LedgerWrite, str | None]:
    if write is None or len(write.event_ids) != len(stored_events):
        raise ProgrammingError("every save must pass a LedgerWrite with one event_id per event")
    last, head = _check_state(state, write)
    write.positions = list(positions)
    write.recorded_at = _recorded_times(parse_time(last), write.timestamps)
    return write, head


ENTRY_COLUMNS = "(position, event_id, originator_id, originator_version, recorded_at)"
CHAIN_COLUMNS = "(position, content_hash, entry_hash, chain_hash)"
RESIDENT_COLUMNS = "(facility, originator_id, position)"
KEY_COLUMNS = "(principal, key, fingerprint, response, created_at)"


def _sqlite_time(moment: datetime) -> str:
    """SQLAlchemy's storage format for DateTime on SQLite (naive UTC, `%Y-%m-%d %H:%M:%S.%f`)."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")


def _parse_sqlite_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


class LedgerSQLiteRecorder(SQLiteApplicationRecorder):
    """The library's SQLite recorder, writing the ledger index in the same transaction."""

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        write = kwargs.get("ledger_write")
        statement, params = _state_statement("", "?", write) if write is not None else ("SELECT NULL, NULL", ())
        c.execute(statement, params)
        write, head = _prepare(stored_events, positions or [], write, c.fetchone(), _parse_sqlite_time)
        entries, links, residents, key = _index_rows(stored_events, write, head, _sqlite_time)
        c.executemany(f"INSERT INTO ledger_entries {ENTRY_COLUMNS} VALUES (?, ?, ?, ?, ?)", entries)
        c.executemany(f"INSERT INTO ledger_chain {CHAIN_COLUMNS} VALUES (?, ?, ?, ?)", links)
        if residents:
            c.executemany(f"INSERT INTO ledger_residents {RESIDENT_COLUMNS} VALUES (?, ?, ?)", residents)
        if key is not None:
            c.execute(f"INSERT INTO idempotency_keys {KEY_COLUMNS} VALUES (?, ?, ?, ?, ?)", key)
        return positions

    def token_state(self, token_id: str) -> TokenState | None:
        """A token's row, one statement on the recorder's own connection."""
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT name, role, salt, token_hash, revoked_at IS NOT NULL, municipality FROM api_tokens "
                      "WHERE token_id = ?", (token_id,))
            row = c.fetchone()
        return None if row is None else TokenState(row[0], row[1], row[2], row[3], bool(row[4]), row[5])


class LedgerPostgresRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder, writing the ledger index in the same transaction
    (after the library's table lock, so index rows follow the positions).

    The events table is `stored_events` on both stores (the library would otherwise name
    it after the application on PostgreSQL)."""

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name="stored_events")

    def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """Before the events: the library's table lock, then the state statement. Raised here,
        `Replayed` and `StaleRead` roll the transaction back (the library keeps an exception
        raised after its INSERT until its transaction block has ended: it would commit)."""
        super()._insert_events(curs, stored_events, **kwargs)
        write = kwargs.get("ledger_write")
        if write is None or len(write.event_ids) != len(stored_events):
            raise ProgrammingError("every save must pass a LedgerWrite with one event_id per event")
        self._lock_table(curs)
        statement, params = _state_statement(f'"{self.datastore.schema}".', "%s", write)
        curs.execute(statement, params)
        write.state = list(curs.fetchone().values())
        _check_state(write.state, write)

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """The library's insert without its table lock, which `_insert_events` has taken."""
        self._notify_channel(curs)
        PostgresAggregateRecorder._insert_stored_events(self, curs, stored_events, **kwargs)

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        prefix = f'"{self.datastore.schema}".'
        write = kwargs["ledger_write"]
        write, head = _prepare(stored_events, positions or [], write, write.state, lambda t: t)
        entries, links, residents, key = _index_rows(stored_events, write, head, lambda t: t)
        if len(entries) <= ONE_STATEMENT_EVENTS:
            curs.execute(*_one_insert(prefix, entries, links, residents, key))
            return positions
        p = "%s"
        curs.executemany(f"INSERT INTO {prefix}ledger_entries {ENTRY_COLUMNS} VALUES ({p}, {p}, {p}, {p}, {p})", entries)
        curs.executemany(f"INSERT INTO {prefix}ledger_chain {CHAIN_COLUMNS} VALUES ({p}, {p}, {p}, {p})", links)
        if residents:
            curs.executemany(f"INSERT INTO {prefix}ledger_residents {RESIDENT_COLUMNS} VALUES ({p}, {p}, {p})",
                             residents)
        if key is not None:
            curs.execute(f"INSERT INTO {prefix}idempotency_keys {KEY_COLUMNS} VALUES ({p}, {p}, {p}, {p}, {p})", key)
        return positions

    def token_state(self, token_id: str) -> TokenState | None:
        """A token's row: one statement, on a connection of the recorder's pool (autocommit: no
        BEGIN or ROLLBACK around it, no ping before it)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(f'SELECT name, role, salt, token_hash, revoked_at IS NOT NULL AS revoked, municipality '
                         f'FROM "{self.datastore.schema}".api_tokens WHERE token_id = %s', (token_id,), prepare=True)
            row = curs.fetchone()
        return None if row is None else TokenState(row["name"], row["role"], row["salt"], row["token_hash"],
                                                   row["revoked"], row["municipality"])


ONE_STATEMENT_EVENTS = 64
"""A write of up to this many events (every command) stores its index rows in one statement;
a larger one (a batch of `ledger import`) with one `executemany` per table."""


def _one_insert(prefix: str, entries: list[tuple], links: list[tuple], residents: list[tuple],
                key: tuple | None) -> tuple[str, list[Any]]:
    """The index rows of a write as one PostgreSQL statement (data-modifying WITH clauses)."""
    parts, params = [], []

    def values(rows: list[tuple]) -> str:
        for row in rows:
            params.extend(row)
        return ", ".join("(" + ", ".join(["%s"] * len(row)) + ")" for row in rows)

    parts.append(f"e AS (INSERT INTO {prefix}ledger_entries {ENTRY_COLUMNS} VALUES {values(entries)})")
    parts.append(f"c AS (INSERT INTO {prefix}ledger_chain {CHAIN_COLUMNS} VALUES {values(links)})")
    if residents:
        parts.append(f"r AS (INSERT INTO {prefix}ledger_residents {RESIDENT_COLUMNS} VALUES {values(residents)})")
    if key is not None:
        parts.append(f"k AS (INSERT INTO {prefix}idempotency_keys {KEY_COLUMNS} VALUES {values([key])})")
    return "WITH " + ", ".join(parts) + " SELECT 1", params


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class MetaAsDict(Transcoding):
    type = Meta
    name = "meta"

    def encode(self, obj: Meta) -> dict[str, Any]:
        return {
            "event_id": obj.event_id, "effective_date": obj.effective_date, "actor": obj.actor,
            "reason": obj.reason, "case_ref": obj.case_ref,
        }

    def decode(self, data: dict[str, Any]) -> Meta:
        return Meta(**data)

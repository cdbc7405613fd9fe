"""The event store: the eventsourcing library's SQLite and PostgreSQL recorders, extended to
write the ledger's own index in the same transaction as the events.

For every stored event the recorder writes a row of `ledger_entries` (position, event_id,
stream and version, recorded time), its link in the hash chain (`ledger_chain`, see
service/chain.py) and, for a command sent with an `Idempotency-Key`, the key's SHA-256 (never
the key itself: a client may put anything in a header) and its response. Both land in the library's own transaction, so a command is either
stored whole (events, index, idempotency record) or not at all.

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
from typing import Any, Callable, Sequence

from eventsourcing.persistence import ProgrammingError, StoredEvent, Transcoding
from eventsourcing.postgres import PostgresApplicationRecorder
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


@dataclass
class LedgerWrite:
    """What a command stores besides its events, passed to the recorder with them."""

    event_ids: list[str]
    timestamps: list[datetime]
    response: dict[str, Any]
    idempotency: Idempotency | None = None
    residents: list[tuple[int, str]] = field(default_factory=list)
    """(index among the events, facility) of every move-in: indexed in `ledger_residents`."""
    positions: list[int] = field(default_factory=list)
    recorded_at: list[datetime] = field(default_factory=list)

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


def _write_index(
    execute: Callable[[str, tuple], Any],
    executemany: Callable[[str, list[tuple]], Any],
    fetch_last: Callable[[], datetime | None],
    fetch_head: Callable[[], str | None],
    param: str,
    prefix: str,
    stored_events: Sequence[StoredEvent],
    positions: Sequence[int],
    write: LedgerWrite | None,
    time_to_db: Callable[[datetime], Any],
) -> None:
    if write is None or len(write.event_ids) != len(stored_events):
        raise ProgrammingError("every save must pass a LedgerWrite with one event_id per event")
    write.positions = list(positions)
    write.recorded_at = _recorded_times(fetch_last(), write.timestamps)
    p = param
    entries, links = [], []
    previous = fetch_head() or GENESIS
    for stored, position, event_id, recorded in zip(stored_events, positions, write.event_ids, write.recorded_at):
        originator = stored.originator_id.hex if hasattr(stored.originator_id, "hex") else str(stored.originator_id)
        entries.append((position, event_id, originator, stored.originator_version, time_to_db(recorded)))
        content = content_hash(stored.originator_id, stored.originator_version, stored.topic, stored.state)
        entry = entry_hash(event_id, recorded)
        previous = chain_hash(previous, position, content, entry)
        links.append((position, content, entry, previous))
    executemany(f"INSERT INTO {prefix}ledger_entries (position, event_id, originator_id, originator_version, "
                f"recorded_at) VALUES ({p}, {p}, {p}, {p}, {p})", entries)
    executemany(f"INSERT INTO {prefix}ledger_chain (position, content_hash, entry_hash, chain_hash) "
                f"VALUES ({p}, {p}, {p}, {p})", links)
    if write.residents:
        executemany(f"INSERT INTO {prefix}ledger_residents (facility, originator_id, position) VALUES ({p}, {p}, {p})",
                    [(facility, entries[index][2], entries[index][0]) for index, facility in write.residents])
    if write.idempotency is not None:
        i = write.idempotency
        execute(
            f"INSERT INTO {prefix}idempotency_keys (principal, key, fingerprint, response, created_at) "
            f"VALUES ({p}, {p}, {p}, {p}, {p})",
            (i.principal, i.key_hash, i.fingerprint, json.dumps(write.complete_response()), time_to_db(write.recorded_at[-1])),
        )


def _sqlite_time(moment: datetime) -> str:
    """SQLAlchemy's storage format for DateTime on SQLite (naive UTC)."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _parse_sqlite_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


class LedgerSQLiteRecorder(SQLiteApplicationRecorder):
    """The library's SQLite recorder, writing the ledger index in the same transaction."""

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)

        def fetch_last() -> datetime | None:
            c.execute("SELECT recorded_at FROM ledger_entries ORDER BY position DESC LIMIT 1")
            row = c.fetchone()
            return _parse_sqlite_time(row[0]) if row else None

        def fetch_head() -> str | None:
            c.execute("SELECT chain_hash FROM ledger_chain ORDER BY position DESC LIMIT 1")
            row = c.fetchone()
            return row[0] if row else None

        _write_index(c.execute, c.executemany, fetch_last, fetch_head, "?", "", stored_events, positions or [],
                     kwargs.get("ledger_write"), _sqlite_time)
        return positions


class LedgerPostgresRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder, writing the ledger index in the same transaction
    (after the library's table lock, so index rows follow the positions).

    The events table is `stored_events` on both stores (the library would otherwise name
    it after the application on PostgreSQL)."""

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name="stored_events")

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        prefix = f'"{self.datastore.schema}".'

        def fetch_last() -> datetime | None:
            curs.execute(f"SELECT recorded_at FROM {prefix}ledger_entries ORDER BY position DESC LIMIT 1")
            row = curs.fetchone()
            return row["recorded_at"] if row else None

        def fetch_head() -> str | None:
            curs.execute(f"SELECT chain_hash FROM {prefix}ledger_chain ORDER BY position DESC LIMIT 1")
            row = curs.fetchone()
            return row["chain_hash"] if row else None

        _write_index(curs.execute, curs.executemany, fetch_last, fetch_head, "%s", prefix, stored_events, positions or [],
                     kwargs.get("ledger_write"), lambda t: t)
        return positions


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

"""Tamper evidence: every stored event is chained by a hash over its content and the previous
link (quality.md, docs/adr/0007).

- content hash = SHA-256 over the stored event as the store holds it (stream, version, topic,
  the stored bytes, encrypted or not): it does not depend on the position, so an event moved
  elsewhere is recognised;
- entry hash = SHA-256 over its index entry (event_id, recorded time);
- chain hash = SHA-256 over the previous chain hash, the position and both hashes.

The chain rows (`ledger_chain`) are written in the same transaction as the events, and are
append-only like them. `verify` walks the whole store in position order and names the first
event that was changed, removed, inserted or reordered, or a chain row that was altered.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator
from uuid import UUID

GENESIS = "0" * 64


def stream_text(originator_id: Any) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else UUID(str(originator_id)).hex


def time_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def content_hash(originator_id: Any, originator_version: int, topic: str, state: Any) -> str:
    """The stored event as the table holds it, whatever its position."""
    digest = hashlib.sha256()
    for part in (stream_text(originator_id), str(originator_version), topic):
        digest.update(part.encode())
        digest.update(b"\x1f")
    digest.update(bytes(state) if isinstance(state, (bytes, bytearray, memoryview)) else str(state).encode())
    return digest.hexdigest()


def entry_hash(event_id: str, recorded_at: datetime) -> str:
    """The event's index entry: its id and when the ledger learned it."""
    return hashlib.sha256(f"{event_id}|{time_text(recorded_at)}".encode()).hexdigest()


def chain_hash(previous: str, position: int, content: str, entry: str) -> str:
    return hashlib.sha256(f"{previous}|{position}|{content}|{entry}".encode()).hexdigest()


@dataclass(frozen=True)
class StoredRow:
    """One stored event with its index entry, as read back from the tables."""

    position: int
    originator_id: Any
    originator_version: int
    topic: str
    state: bytes
    event_id: str | None
    recorded_at: datetime | None

    def content_hash(self) -> str:
        return content_hash(self.originator_id, self.originator_version, self.topic, self.state)

    def entry_hash(self) -> str | None:
        if self.event_id is None or self.recorded_at is None:
            return None
        return entry_hash(self.event_id, self.recorded_at)


@dataclass(frozen=True)
class ChainRow:
    position: int
    content_hash: str
    entry_hash: str
    chain_hash: str


@dataclass(frozen=True)
class Finding:
    """The first sign of tampering: what happened, at which position, to which event."""

    kind: str
    """changed, removed, inserted, reordered or chain_altered"""
    position: int
    event_id: str | None
    detail: str


@dataclass(frozen=True)
class Verdict:
    events: int
    head: str
    finding: Finding | None
    last_position: int = 0
    """The last position walked (positions may have gaps where a write was rolled back)."""

    @property
    def intact(self) -> bool:
        return self.finding is None


def verify(events: Iterable[StoredRow], chain: Iterable[ChainRow], position_of_content: Any) -> Verdict:
    """Walk events and chain rows together in position order. `position_of_content(hash)`
    returns the position the chain recorded that content at (None if nowhere)."""
    events_it: Iterator[StoredRow] = iter(events)
    chain_it: Iterator[ChainRow] = iter(chain)
    event, link = next(events_it, None), next(chain_it, None)
    previous, count, last = GENESIS, 0, 0

    def finding(kind: str, position: int, event_id: str | None, detail: str) -> Verdict:
        return Verdict(count, previous, Finding(kind, position, event_id, detail), last)

    while event is not None or link is not None:
        if link is not None and (event is None or link.position < event.position):
            return finding("removed", link.position, None,
                           f"the event recorded at position {link.position} is missing from the store")
        if event is not None and (link is None or event.position < link.position):
            return finding("inserted", event.position, event.event_id,
                           f"position {event.position} holds an event the chain never recorded")
        assert event is not None and link is not None
        if chain_hash(previous, link.position, link.content_hash, link.entry_hash) != link.chain_hash:
            return finding("chain_altered", link.position, event.event_id,
                           f"the chain row at position {link.position} does not follow from the one before it")
        actual = event.content_hash()
        if actual != link.content_hash:
            elsewhere = position_of_content(actual)
            if elsewhere is not None and elsewhere != link.position:
                return finding("reordered", event.position, event.event_id,
                               f"position {event.position} holds the event recorded at position {elsewhere}")
            return finding("changed", event.position, event.event_id,
                           f"the event at position {event.position} is not the one recorded there")
        if event.entry_hash() != link.entry_hash:
            return finding("changed", event.position, event.event_id,
                           f"the index entry of position {event.position} (event id or recorded time) was changed")
        previous, count, last = link.chain_hash, count + 1, link.position
        event, link = next(events_it, None), next(chain_it, None)
    return Verdict(count, previous, None, last)

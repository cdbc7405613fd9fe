"""`ledger verify`: read the whole store back and check it against the hash chain.

Events are read through the library's notification log (the stored bytes as they are in the
table, encrypted or not), their index entries and chain links through SQLAlchemy, page by
page in position order. Besides the chain, the projections' tracking record must not be
ahead of the store: events cut off the end would leave it there.
"""

from __future__ import annotations

from typing import Any, Iterator

from sqlalchemy import func, select

from service.chain import ChainRow, StoredRow, Verdict, verify
from service.db import ledger_chain, ledger_entries, utc
from service.ledger import BudgetLedger

PAGE = 5000


def stored_rows(ledger: BudgetLedger) -> Iterator[StoredRow]:
    start = 1
    while notifications := ledger.recorder.select_notifications(start=start, limit=PAGE):
        first, last = notifications[0].id, notifications[-1].id
        with ledger.engine.connect() as connection:
            entries = {r.position: r for r in connection.execute(select(ledger_entries).where(
                ledger_entries.c.position >= first, ledger_entries.c.position <= last))}
        for n in notifications:
            entry = entries.get(n.id)
            yield StoredRow(n.id, n.originator_id, n.originator_version, n.topic, n.state,
                            entry.event_id if entry else None, utc(entry.recorded_at) if entry else None)
        start = last + 1


def chain_rows(ledger: BudgetLedger) -> Iterator[ChainRow]:
    after = 0
    while True:
        with ledger.engine.connect() as connection:
            rows = connection.execute(select(ledger_chain).where(ledger_chain.c.position > after)
                                      .order_by(ledger_chain.c.position).limit(PAGE)).all()
        if not rows:
            return
        yield from (ChainRow(r.position, r.content_hash, r.entry_hash, r.chain_hash) for r in rows)
        after = rows[-1].position


def verify_store(ledger: BudgetLedger, projections_reached: int = 0) -> Verdict:
    def position_of(content: str) -> int | None:
        with ledger.engine.connect() as connection:
            return connection.execute(select(func.min(ledger_chain.c.position))
                                      .where(ledger_chain.c.content_hash == content)).scalar()

    verdict = verify(stored_rows(ledger), chain_rows(ledger), position_of)
    if verdict.intact and projections_reached > verdict.last_position:
        from service.chain import Finding

        return Verdict(verdict.events, verdict.head, Finding(
            "removed", verdict.last_position + 1, None,
            f"the store ends at position {verdict.last_position}, but the projections have seen position "
            f"{projections_reached}: events were removed from its end"), verdict.last_position)
    return verdict


def link_stored_events(connection: Any) -> int:
    """Write the chain links of every stored event (for a store from before the chain); returns
    how many. Run by the migration that creates `ledger_chain`, on an empty table."""
    from datetime import datetime

    from sqlalchemy import text

    from service.chain import GENESIS, chain_hash, content_hash, entry_hash

    position = "e.notification_id" if connection.dialect.name == "postgresql" else "e.rowid"
    rows = connection.execute(text(
        f"SELECT {position} AS position, e.originator_id, e.originator_version, e.topic, e.state, "
        f"i.event_id, i.recorded_at FROM stored_events e JOIN ledger_entries i ON i.position = {position} "
        f"ORDER BY {position}")).all()
    previous = GENESIS
    for row in rows:
        recorded = datetime.fromisoformat(row.recorded_at) if isinstance(row.recorded_at, str) else row.recorded_at
        content = content_hash(row.originator_id, row.originator_version, row.topic, row.state)
        entry = entry_hash(row.event_id, utc(recorded))
        previous = chain_hash(previous, row.position, content, entry)
        connection.execute(text("INSERT INTO ledger_chain (position, content_hash, entry_hash, chain_hash) "
                                "VALUES (:p, :c, :e, :h)"), {"p": row.position, "c": content, "e": entry, "h": previous})
    return len(rows)

"""The hash chain of tamper evidence (service/chain.py, docs/adr/0007), append-only, with the
links of every event already stored.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from service.chain import GENESIS, chain_hash, content_hash, entry_hash
from service.db import utc

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_chain",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("chain_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_ledger_chain_content", "ledger_chain", ["content_hash"])
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    position = "e.notification_id" if postgres else "e.rowid"
    rows = bind.execute(sa.text(
        f"SELECT {position} AS position, e.originator_id, e.originator_version, e.topic, e.state, "
        "i.event_id, i.recorded_at FROM stored_events e JOIN ledger_entries i ON i.position = "
        f"{position} ORDER BY {position}"))
    previous = GENESIS
    for row in rows:
        recorded = row.recorded_at
        if isinstance(recorded, str):
            from datetime import datetime

            recorded = datetime.fromisoformat(recorded)
        content = content_hash(row.originator_id, row.originator_version, row.topic, row.state)
        entry = entry_hash(row.event_id, utc(recorded))
        previous = chain_hash(previous, row.position, content, entry)
        bind.execute(sa.text("INSERT INTO ledger_chain (position, content_hash, entry_hash, chain_hash) "
                             "VALUES (:p, :c, :e, :h)"), {"p": row.position, "c": content, "e": entry, "h": previous})
    if postgres:
        op.execute("CREATE TRIGGER ledger_chain_append_only BEFORE UPDATE OR DELETE ON ledger_chain "
                   "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()")
        op.execute("CREATE TRIGGER ledger_chain_no_truncate BEFORE TRUNCATE ON ledger_chain "
                   "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()")
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER ledger_chain_no_{operation.lower()} BEFORE {operation} ON ledger_chain "
                       f"BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: {operation} of ledger_chain is refused'); END")


def downgrade() -> None:
    raise NotImplementedError("the ledger's history is never dropped by a migration")

"""The hash chain of tamper evidence (service/chain.py, docs/adr/0007), append-only, with the
links of every event already stored.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from service.verify import link_stored_events

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
    link_stored_events(bind)
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

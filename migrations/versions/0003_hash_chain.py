"""The hash chain of tamper evidence (service/chain.py, docs/adr/0007), append-only, with the
links of every event already stored.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from migrations.guards import append_only

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
    link_stored_events(op.get_bind())
    append_only("ledger_chain")


def downgrade() -> None:
    raise NotImplementedError("the ledger's history is never dropped by a migration")

"""The log of reads of citizen rows (who read which citizen, through what, when), append-only.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from migrations.guards import append_only

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "citizen_reads",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reader", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("resource", sa.String(300), nullable=False),
        sa.Column("citizen_ref", sa.String(64), nullable=False),
    )
    op.create_index("ix_citizen_reads_citizen", "citizen_reads", ["citizen_ref", "id"])
    append_only("citizen_reads")


def downgrade() -> None:
    raise NotImplementedError("the log of reads is never dropped by a migration")

"""Stay versions: one row version per change of a stay's facts (move-in, conditions by date,
move-out), for the reads that need a facility's stays as of a point: a year beyond the
projections' horizon, explain across it, and the what-if (docs/adr/0014).

The table is a projection like the others, so the read models are emptied and the
projections' tracked position forgotten: the projector projects the whole store again on its
next start (read models are derived; nothing recorded is touched).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TRACKING_TABLES = ("tracking", "budgetledger_tracking")
"""The library's tracking table of the projections (SQLite, PostgreSQL)."""


def upgrade() -> None:
    op.create_table(
        "rm_stays",
        sa.Column("stay_id", sa.String(36), primary_key=True),
        sa.Column("recorded_from", sa.BigInteger, primary_key=True),
        sa.Column("recorded_to", sa.BigInteger, nullable=True),
        sa.Column("facility", sa.String(64), nullable=False),
        sa.Column("move_in", sa.Date, nullable=False),
        sa.Column("move_out", sa.Date, nullable=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    # No index on recorded_to alone: PostgreSQL would pick it (with its NULLs: every open
    # version) for the projector's "close the open version of this stay", instead of the key.
    op.create_index("ix_rm_stays_facility", "rm_stays", ["facility", "recorded_from"])
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for table in ("rm_budget_months", "rm_facts", "rm_statement_lines"):
        op.execute(f"DELETE FROM {table}")
    for table in TRACKING_TABLES:
        if table in existing:
            op.execute(f"DELETE FROM {table} WHERE application_name = 'BudgetLedger'")


def downgrade() -> None:
    op.drop_index("ix_rm_stays_facility", "rm_stays")
    op.drop_table("rm_stays")

"""Open tails: each facility's groups of funded days after the horizon, bitemporal, and
checkpoints of every facility's groups every few thousand positions, so that a year beyond
the horizon is read from a few rows instead of every stay (docs/adr/0042).

The tables are projections like the others, so the read models are emptied and the
projections' tracked position forgotten: the projector projects the whole store again on its
next start (read models are derived; nothing recorded is touched).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TRACKING_TABLES = ("tracking", "budgetledger_tracking")
"""The library's tracking table of the projections (SQLite, PostgreSQL)."""


def _group_columns() -> list[sa.Column]:
    return [sa.Column("first_day", sa.Date, primary_key=True), sa.Column("last_day", sa.Date, primary_key=True),
            sa.Column("level_key", sa.String(8), primary_key=True), sa.Column("level", sa.Integer, primary_key=True),
            sa.Column("special_rate", sa.BigInteger, primary_key=True),
            sa.Column("sold", sa.Boolean, primary_key=True), sa.Column("present", sa.Boolean, primary_key=True)]


def upgrade() -> None:
    op.create_table(
        "rm_tails",
        sa.Column("facility", sa.String(64), primary_key=True),
        *_group_columns(),
        sa.Column("recorded_from", sa.BigInteger, primary_key=True),
        sa.Column("recorded_to", sa.BigInteger, nullable=True),
        sa.Column("citizens", sa.Integer, nullable=False),
        sa.Column("hours", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_rm_tails_from", "rm_tails", ["recorded_from"])
    op.create_index("ix_rm_tails_to", "rm_tails", ["recorded_to"], postgresql_where=sa.text("recorded_to IS NOT NULL"),
                    sqlite_where=sa.text("recorded_to IS NOT NULL"))
    op.create_table(
        "rm_tail_checkpoints",
        sa.Column("position", sa.BigInteger, primary_key=True),
        sa.Column("facility", sa.String(64), primary_key=True),
        *_group_columns(),
        sa.Column("citizens", sa.Integer, nullable=False),
        sa.Column("hours", sa.BigInteger, nullable=False),
    )
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for table in ("rm_facility_years", "rm_facts", "rm_statement_lines", "rm_stays"):
        op.execute(f"DELETE FROM {table}")
    for table in TRACKING_TABLES:
        if table in existing:
            op.execute(f"DELETE FROM {table} WHERE application_name = 'BudgetLedger'")


def downgrade() -> None:
    op.drop_table("rm_tail_checkpoints")
    op.drop_index("ix_rm_tails_to", "rm_tails")
    op.drop_index("ix_rm_tails_from", "rm_tails")
    op.drop_table("rm_tails")

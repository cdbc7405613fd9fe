"""Open tails by paying municipality: a tail group's piece keeps the municipality that pays its
present days (`payer`, "" on a run-off piece) instead of only whether they are sold, so that
the what-if of a year beyond the horizon sums the groups by payer instead of reading every stay
(docs/adr/0049).

The two tail tables are created again with the new key column. They are projections like the
others, so the read models are emptied and the projections' tracked position forgotten: the
projector projects the whole store again on its next start (read models are derived; nothing
recorded is touched).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

TRACKING_TABLES = ("tracking", "budgetledger_tracking")
"""The library's tracking table of the projections (SQLite, PostgreSQL)."""


def _group_columns(payer: sa.Column) -> list[sa.Column]:
    return [sa.Column("first_day", sa.Date, primary_key=True), sa.Column("last_day", sa.Date, primary_key=True),
            sa.Column("level_key", sa.String(8), primary_key=True), sa.Column("level", sa.Integer, primary_key=True),
            sa.Column("special_rate", sa.BigInteger, primary_key=True), payer,
            sa.Column("present", sa.Boolean, primary_key=True)]


def _create(payer: sa.Column, checkpoint_payer: sa.Column) -> None:
    op.create_table(
        "rm_tails",
        sa.Column("facility", sa.String(64), primary_key=True),
        *_group_columns(payer),
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
        *_group_columns(checkpoint_payer),
        sa.Column("citizens", sa.Integer, nullable=False),
        sa.Column("hours", sa.BigInteger, nullable=False),
    )


def _drop() -> None:
    op.drop_table("rm_tail_checkpoints")
    op.drop_index("ix_rm_tails_to", "rm_tails")
    op.drop_index("ix_rm_tails_from", "rm_tails")
    op.drop_table("rm_tails")


def _forget_projections() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for table in ("rm_facility_years", "rm_facts", "rm_statement_lines", "rm_stays", "rm_day_postings"):
        op.execute(f"DELETE FROM {table}")
    for table in TRACKING_TABLES:
        if table in existing:
            op.execute(f"DELETE FROM {table} WHERE application_name = 'BudgetLedger'")


def upgrade() -> None:
    _drop()
    _create(sa.Column("payer", sa.String(3), primary_key=True), sa.Column("payer", sa.String(3), primary_key=True))
    _forget_projections()


def downgrade() -> None:
    _drop()
    _create(sa.Column("sold", sa.Boolean, primary_key=True), sa.Column("sold", sa.Boolean, primary_key=True))
    _forget_projections()

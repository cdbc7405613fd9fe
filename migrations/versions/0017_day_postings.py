"""Day postings: what each event changed in a facility-year's present days, by the group that
prices them (paying municipality, level, special tariff, service rate), appended and never
changed, so that the what-if of a year sums them instead of replaying every stay
(docs/adr/0047).

The table is a projection like the others, so the read models are emptied and the
projections' tracked position forgotten: the projector projects the whole store again on its
next start (read models are derived; nothing recorded is touched).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TRACKING_TABLES = ("tracking", "budgetledger_tracking")
"""The library's tracking table of the projections (SQLite, PostgreSQL)."""


def upgrade() -> None:
    op.create_table(
        "rm_day_postings",
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("position", sa.BigInteger, primary_key=True),
        sa.Column("facility", sa.String(64), primary_key=True),
        sa.Column("paying_municipality", sa.String(3), primary_key=True),
        sa.Column("level", sa.Integer, primary_key=True),
        sa.Column("special_tariff", sa.String(8), primary_key=True),
        sa.Column("service_rate", sa.BigInteger, primary_key=True),
        sa.Column("days", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for table in ("rm_facility_years", "rm_facts", "rm_statement_lines", "rm_stays", "rm_tails",
                  "rm_tail_checkpoints"):
        op.execute(f"DELETE FROM {table}")
    for table in TRACKING_TABLES:
        if table in existing:
            op.execute(f"DELETE FROM {table} WHERE application_name = 'BudgetLedger'")


def downgrade() -> None:
    op.drop_table("rm_day_postings")

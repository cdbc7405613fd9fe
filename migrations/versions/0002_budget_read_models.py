"""Budget read models: bitemporal month rows and fact rows (docs/adr/0006).

Every row is valid for the store positions recorded_from <= N < recorded_to (recorded_to
NULL: still valid). Money is stored as whole øre, hours as hundredths: exact on both stores.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rm_budget_months",
        sa.Column("facility", sa.String(64), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("month", sa.Integer, primary_key=True),
        sa.Column("recorded_from", sa.BigInteger, primary_key=True),
        sa.Column("recorded_to", sa.BigInteger, nullable=True),
        sa.Column("activity", sa.BigInteger, nullable=False),
        sa.Column("present_days", sa.Integer, nullable=False),
        sa.Column("funded_days", sa.Integer, nullable=False),
        sa.Column("unpriced_days", sa.Integer, nullable=False),
        sa.Column("sold_days", sa.Integer, nullable=False),
        sa.Column("sold_service", sa.BigInteger, nullable=False),
        sa.Column("present_service", sa.BigInteger, nullable=False),
        sa.Column("support_hours", sa.BigInteger, nullable=False),
        sa.Column("citizens_by_level", sa.Text, nullable=False),
    )
    op.create_index("ix_rm_budget_months_year", "rm_budget_months", ["year", "recorded_from"])
    op.create_table(
        "rm_facts",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("facility", sa.String(64), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("recorded_from", sa.BigInteger, primary_key=True),
        sa.Column("recorded_to", sa.BigInteger, nullable=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_index("ix_rm_facts_kind_year", "rm_facts", ["kind", "year", "recorded_from"])


def downgrade() -> None:
    op.drop_table("rm_facts")
    op.drop_table("rm_budget_months")

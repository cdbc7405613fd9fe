"""Statement lines for paying municipalities (bitemporal), and indexes to find what an event
changed (post-closing flags).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rm_statement_lines",
        sa.Column("municipality", sa.String(3), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("month", sa.Integer, primary_key=True),
        sa.Column("stay_id", sa.String(36), primary_key=True),
        sa.Column("recorded_from", sa.BigInteger, primary_key=True),
        sa.Column("recorded_to", sa.BigInteger, nullable=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_index("ix_rm_budget_months_from", "rm_budget_months", ["recorded_from"])
    op.create_index("ix_rm_budget_months_to", "rm_budget_months", ["recorded_to"])


def downgrade() -> None:
    op.drop_index("ix_rm_budget_months_to", "rm_budget_months")
    op.drop_index("ix_rm_budget_months_from", "rm_budget_months")
    op.drop_table("rm_statement_lines")

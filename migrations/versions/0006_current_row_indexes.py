"""Indexes on recorded_to of the facts and statement lines, so the rows valid at the tracked
position (what a restarting projector takes instead of projecting again) are found without
reading every row version.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_rm_facts_to", "rm_facts", ["recorded_to"])
    op.create_index("ix_rm_statement_lines_to", "rm_statement_lines", ["recorded_to"])


def downgrade() -> None:
    op.drop_index("ix_rm_statement_lines_to", "rm_statement_lines")
    op.drop_index("ix_rm_facts_to", "rm_facts")

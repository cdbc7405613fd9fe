"""The paying municipality a `buyer` token is bound to, and the municipality of the buyer
behind each read of citizen rows (docs/adr/0026). Both columns are empty for every other role.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("municipality", sa.String(3), nullable=True))
    op.add_column("citizen_reads", sa.Column("municipality", sa.String(3), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("the log of reads is never narrowed by a migration")

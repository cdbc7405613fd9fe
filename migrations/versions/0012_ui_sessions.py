"""The web UI's server-side sessions (docs/adr/0022): the SHA-256 of each session's random id,
the id of the API token it was opened with (never the token), the actor's name and role, and
when it was opened, last used and ends at the latest.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ui_sessions",
        sa.Column("session_hash", sa.String(64), primary_key=True),
        sa.Column("token_id", sa.String(32), nullable=False),
        sa.Column("actor_name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ui_sessions_token", "ui_sessions", ["token_id"])
    op.create_index("ix_ui_sessions_expires", "ui_sessions", ["expires_at"])
    op.create_index("ix_ui_sessions_last_seen", "ui_sessions", ["last_seen_at"])


def downgrade() -> None:
    op.drop_table("ui_sessions")

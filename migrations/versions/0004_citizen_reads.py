"""The log of reads of citizen rows (who read which citizen, through what, when), append-only.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

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
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER citizen_reads_append_only BEFORE UPDATE OR DELETE ON citizen_reads "
                   "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()")
        op.execute("CREATE TRIGGER citizen_reads_no_truncate BEFORE TRUNCATE ON citizen_reads "
                   "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()")
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER citizen_reads_no_{operation.lower()} BEFORE {operation} ON citizen_reads "
                       f"BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: {operation} of citizen_reads is refused'); END")


def downgrade() -> None:
    raise NotImplementedError("the log of reads is never dropped by a migration")

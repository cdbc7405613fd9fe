"""Which citizen streams ever moved in to which facility, from which position: part of the
ledger's own index (written in the events' transaction, append-only), so the readers that need
"every citizen ever at a facility" (explain, the audit trail by facility, reads beyond the
projections' horizon, the web UI's stays) ask an index instead of decoding every move-in of
the store. Existing move-ins are indexed by this migration.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from uuid import UUID

import sqlalchemy as sa
from alembic import op

from migrations.guards import append_only

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_residents",
        sa.Column("facility", sa.String(64), primary_key=True),
        sa.Column("originator_id", sa.String(32), primary_key=True),
        sa.Column("position", sa.BigInteger, primary_key=True),
    )
    append_only("ledger_residents")
    _index_existing_move_ins()


def _index_existing_move_ins() -> None:
    from service.ledger import BudgetLedger, move_in_topics
    from service.settings import Settings

    settings = op.get_context().config.attributes.get("settings") or Settings()
    ledger = BudgetLedger(settings)
    try:
        rows = [{"facility": ledger.mapper.to_domain_event(n).facility, "originator_id": UUID(str(n.originator_id)).hex,
                 "position": n.id}
                for n in ledger.recorder.select_notifications(start=None, limit=100_000_000, topics=move_in_topics())]
    finally:
        ledger.close()
    if rows:
        table = sa.table("ledger_residents", sa.column("facility"), sa.column("originator_id"), sa.column("position"))
        op.bulk_insert(table, rows)


def downgrade() -> None:
    raise NotImplementedError("the ledger's index is never dropped by a migration")

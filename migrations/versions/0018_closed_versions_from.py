"""The closed versions' indexes carry `recorded_from`: a read as of N asks for the versions
closed after N (recorded_to > N) that began by N (recorded_from <= N), and with both in the
index the store skips the versions that began after N without reading their rows
(docs/adr/0048).

- `ix_rm_stays_closed`: (recorded_to) becomes (recorded_to, recorded_from);
- `ix_rm_facility_years_closed`: (year, recorded_to) becomes (year, recorded_to, recorded_from).

Both stay partial (closed versions only). Nothing is emptied: the indexes are built again
from the rows.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

CLOSED = sa.text("recorded_to IS NOT NULL")


def _replace(name: str, table: str, columns: list[str]) -> None:
    op.drop_index(name, table)
    op.create_index(name, table, columns, postgresql_where=CLOSED, sqlite_where=CLOSED)


def upgrade() -> None:
    _replace("ix_rm_stays_closed", "rm_stays", ["recorded_to", "recorded_from"])
    _replace("ix_rm_facility_years_closed", "rm_facility_years", ["year", "recorded_to", "recorded_from"])


def downgrade() -> None:
    _replace("ix_rm_facility_years_closed", "rm_facility_years", ["year", "recorded_to"])
    _replace("ix_rm_stays_closed", "rm_stays", ["recorded_to"])

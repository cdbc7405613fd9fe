"""Partial indexes that split a window of row versions into the open ones and the closed ones
(docs/adr/0015).

A read as of N wants the versions with recorded_from <= N and (recorded_to NULL or
recorded_to > N). For every facility at once (the central model, regulation, the what-if),
asked as one condition, the stores read every version of the year (the month rows) or of the
table (the stay rows) and filtered them: at `national` about 570 000 month versions to find a
year's 12 000. Asked as two, each part has its own small index:

- the open versions (recorded_to NULL): `ix_rm_budget_months_open` (recorded_to, year,
  facility, month) and `ix_rm_stays_open` (stay_id), partial. They are also exactly the
  projector's "close the open version of this row" (the key and recorded_to IS NULL), so
  neither can become the trap of migration 0008 (an index on recorded_to alone, which
  PostgreSQL picked for that statement, reading every open version);
- the versions closed after N (recorded_to > N): `ix_rm_budget_months_closed` (year,
  recorded_to) and `ix_rm_stays_closed` (recorded_to), partial (no open version in them).

`ix_rm_budget_months_year` (year, recorded_from) goes: with it, SQLite (no statistics)
preferred it to the open index and read the whole year again. `ix_rm_budget_months_to`
(recorded_to) becomes partial (closed versions only, for the projector's restart): whole, it
held an entry for every version ever open, and PostgreSQL preferred it to the open index
(95 ms against 6 ms for a year's open versions at `national`, after VACUUM; 830 ms before).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OPEN = sa.text("recorded_to IS NULL")
CLOSED = sa.text("recorded_to IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_rm_budget_months_year", "rm_budget_months")
    op.drop_index("ix_rm_budget_months_to", "rm_budget_months")
    op.create_index("ix_rm_budget_months_to", "rm_budget_months", ["recorded_to"], postgresql_where=CLOSED,
                    sqlite_where=CLOSED)
    op.create_index("ix_rm_budget_months_open", "rm_budget_months", ["recorded_to", "year", "facility", "month"],
                    postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index("ix_rm_budget_months_closed", "rm_budget_months", ["year", "recorded_to"],
                    postgresql_where=CLOSED, sqlite_where=CLOSED)
    op.create_index("ix_rm_stays_open", "rm_stays", ["stay_id"], postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index("ix_rm_stays_closed", "rm_stays", ["recorded_to"], postgresql_where=CLOSED,
                    sqlite_where=CLOSED)


def downgrade() -> None:
    op.drop_index("ix_rm_stays_closed", "rm_stays")
    op.drop_index("ix_rm_stays_open", "rm_stays")
    op.drop_index("ix_rm_budget_months_closed", "rm_budget_months")
    op.drop_index("ix_rm_budget_months_open", "rm_budget_months")
    op.create_index("ix_rm_budget_months_year", "rm_budget_months", ["year", "recorded_from"])
    op.drop_index("ix_rm_budget_months_to", "rm_budget_months")
    op.create_index("ix_rm_budget_months_to", "rm_budget_months", ["recorded_to"])

"""Drop `ix_rm_budget_months_facility_year` (year, facility, recorded_from) (docs/adr/0018).

A read of one facility-year finds its rows by the primary key (facility, year, month,
recorded_from) as well. A read of every facility's open versions of a year is meant for
`ix_rm_budget_months_open`, but PostgreSQL, whenever its estimate of a year's open versions
fell to a row or two (statistics taken before most of the year's rows were written), chose
this index instead and read every version of the year: 650 ms against 54 ms for the open
index at `national`, the same years slow in every run. Without the index there is no wrong
choice left to make.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_rm_budget_months_facility_year", "rm_budget_months")


def downgrade() -> None:
    op.create_index("ix_rm_budget_months_facility_year", "rm_budget_months", ["year", "facility", "recorded_from"])

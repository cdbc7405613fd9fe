"""Facility-year rows instead of facility-month rows, statement lines by year (docs/adr/0039).

`rm_facility_years` replaces `rm_budget_months`: one row version per facility-year holds the
twelve months' summed figures (a column per month and figure, `m01_activity` ...
`m12_support_hours`, as `service/db.py` `year_table` derives them from the declaration of
the figures) and the citizens by level of each month (a JSON list of twelve). Its indexes
serve the same reads as the month table's (docs/adr/0015, 0019): the open versions of a
year, the versions of a year closed after a position, the closed versions alone (the
projector's restart), and the key for one facility-year.

`rm_statement_lines` is keyed by (municipality, year, stay_id): one row holds a stay's lines
of every month of the year.

The read models are derived: every one is emptied and the projections' tracked positions
(the current one and a rebuild's) forgotten, so the projector projects the whole store again
on its next start. A rebuild's leftover `_next` tables of the old form are dropped.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TRACKING_TABLES = ("tracking", "budgetledger_tracking")
"""The library's tracking table of the projections (SQLite, PostgreSQL)."""
APPLICATIONS = ("BudgetLedger", "BudgetLedger.rebuild")
FIGURES = (("activity", sa.BigInteger), ("present_days", sa.Integer), ("funded_days", sa.Integer),
           ("unpriced_days", sa.Integer), ("sold_days", sa.Integer), ("sold_service", sa.BigInteger),
           ("present_service", sa.BigInteger), ("support_hours", sa.BigInteger))
"""The summed figures and their column types as declared when this migration was written."""
OPEN = sa.text("recorded_to IS NULL")
CLOSED = sa.text("recorded_to IS NOT NULL")


def _month_table() -> None:
    op.create_table(
        "rm_budget_months",
        sa.Column("facility", sa.String(64), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("month", sa.Integer, primary_key=True),
        sa.Column("recorded_from", sa.BigInteger, primary_key=True),
        sa.Column("recorded_to", sa.BigInteger, nullable=True),
        *(sa.Column(name, kind, nullable=False) for name, kind in FIGURES),
        sa.Column("citizens_by_level", sa.Text, nullable=False),
    )
    op.create_index("ix_rm_budget_months_from", "rm_budget_months", ["recorded_from"])
    op.create_index("ix_rm_budget_months_to", "rm_budget_months", ["recorded_to"], postgresql_where=CLOSED,
                    sqlite_where=CLOSED)
    op.create_index("ix_rm_budget_months_open", "rm_budget_months", ["recorded_to", "year", "facility", "month"],
                    postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index("ix_rm_budget_months_closed", "rm_budget_months", ["year", "recorded_to"],
                    postgresql_where=CLOSED, sqlite_where=CLOSED)


def _lines_table(by_month: bool) -> None:
    op.create_table(
        "rm_statement_lines",
        sa.Column("municipality", sa.String(3), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        *([sa.Column("month", sa.Integer, primary_key=True)] if by_month else []),
        sa.Column("stay_id", sa.String(36), primary_key=True),
        sa.Column("recorded_from", sa.BigInteger, primary_key=True),
        sa.Column("recorded_to", sa.BigInteger, nullable=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_index("ix_rm_statement_lines_to", "rm_statement_lines", ["recorded_to"])


def _forget_positions() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for table in ("rm_facts", "rm_stays"):
        op.execute(f"DELETE FROM {table}")
    for table in TRACKING_TABLES:
        if table in existing:
            op.execute(f"DELETE FROM {table} WHERE application_name IN ('{APPLICATIONS[0]}', '{APPLICATIONS[1]}')")
    for table in sorted(existing):
        if table.startswith("rm_") and table.endswith("_next"):
            op.drop_table(table)  # a rebuild's leftovers, of the form this migration replaces


def upgrade() -> None:
    _forget_positions()
    op.drop_table("rm_budget_months")
    op.drop_table("rm_statement_lines")
    op.create_table(
        "rm_facility_years",
        sa.Column("facility", sa.String(64), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("recorded_from", sa.BigInteger, primary_key=True),
        sa.Column("recorded_to", sa.BigInteger, nullable=True),
        *(sa.Column(f"m{month:02d}_{name}", kind, nullable=False) for month in range(1, 13) for name, kind in FIGURES),
        sa.Column("citizens_by_level", sa.Text, nullable=False),
    )
    op.create_index("ix_rm_facility_years_from", "rm_facility_years", ["recorded_from"])
    op.create_index("ix_rm_facility_years_to", "rm_facility_years", ["recorded_to"], postgresql_where=CLOSED,
                    sqlite_where=CLOSED)
    op.create_index("ix_rm_facility_years_open", "rm_facility_years", ["recorded_to", "year", "facility"],
                    postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index("ix_rm_facility_years_closed", "rm_facility_years", ["year", "recorded_to"],
                    postgresql_where=CLOSED, sqlite_where=CLOSED)
    _lines_table(by_month=False)


def downgrade() -> None:
    _forget_positions()
    op.drop_table("rm_statement_lines")
    op.drop_table("rm_facility_years")
    _month_table()
    _lines_table(by_month=True)

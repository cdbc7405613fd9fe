"""The facility-year rows' table as the migrations leave it has a column for every month and
summed figure of the declaration, of its kind's type: a figure added to `StayFigures` without
the migration of its columns fails here, on both stores (docs/adr/0036, 0039). A migration
adds columns at the end and a rebuild creates the table in the declaration's order: the rows
are read by name, so the order of the stored columns does not matter."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, inspect

from projections.budget import FIGURES, Kind
from service.db import month_column, rm_facility_years
from service.ledger import BudgetLedger


def test_the_migrated_year_table_has_the_declared_figure_columns_of_every_month(ledger: BudgetLedger, settings):  # type: ignore[no-untyped-def]
    schema = settings.database_schema if settings.store == "postgresql" else None
    stored = inspect(ledger.engine).get_columns("rm_facility_years", schema=schema)
    assert sorted(c["name"] for c in stored) == sorted(c.name for c in rm_facility_years.columns)  # read by name
    types = {c["name"]: c["type"] for c in stored}
    for month in range(1, 13):
        for figure in FIGURES:  # whole hundredths in 64 bits, days in 32 (service.db.FIGURE_TYPES)
            column = month_column(month, figure.name)
            assert isinstance(types[column], Integer), column
            assert isinstance(types[column], BigInteger) == (figure.kind is not Kind.COUNT), column


def test_the_migrated_tables_have_the_declared_indexes(ledger: BudgetLedger, settings):  # type: ignore[no-untyped-def]
    schema = settings.database_schema if settings.store == "postgresql" else None
    for table in ("rm_facility_years", "rm_statement_lines", "rm_stays"):
        stored = {index["name"]: index["column_names"] for index in inspect(ledger.engine).get_indexes(table, schema=schema)}
        declared = {index.name: [c.name for c in index.columns] for index in rm_facility_years.metadata.tables[table].indexes}
        assert stored == declared, table

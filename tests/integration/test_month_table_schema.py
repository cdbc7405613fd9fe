"""The month rows' table as the migrations leave it has a column for every summed figure of
the declaration, of its kind's type: a figure added to `StayFigures` without the migration of
its column fails here, on both stores (docs/adr/0036). A migration adds a column at the end
and a rebuild creates the table in the declaration's order: the rows are read by name, so the
order of the stored columns does not matter."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, inspect

from projections.budget import FIGURES, Kind
from service.db import rm_budget_months
from service.ledger import BudgetLedger


def test_the_migrated_month_table_has_the_declared_figure_columns(ledger: BudgetLedger, settings):  # type: ignore[no-untyped-def]
    schema = settings.database_schema if settings.store == "postgresql" else None
    stored = inspect(ledger.engine).get_columns("rm_budget_months", schema=schema)
    assert sorted(c["name"] for c in stored) == sorted(c.name for c in rm_budget_months.columns)  # read by name
    types = {c["name"]: c["type"] for c in stored}
    for figure in FIGURES:  # whole hundredths in 64 bits, days in 32 (service.db.FIGURE_TYPES)
        assert isinstance(types[figure.name], Integer), figure.name
        assert isinstance(types[figure.name], BigInteger) == (figure.kind is not Kind.COUNT), figure.name

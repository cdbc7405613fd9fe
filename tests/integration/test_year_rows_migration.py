"""Migration 0015 (docs/adr/0039) on both stores: the facility-month rows and the lines by
month go, the facility-year rows and the lines by year come, the read models are emptied and
the tracked position forgotten, so the projector projects the whole store again; and it goes
back down to the month table and up again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from service.db import alembic_config, create_library_tables, make_engine, migrate
from service.projection import APPLICATION, Projector, make_view
from service.read_models import BudgetReads, StatementReads
from tests.integration.test_residents_index import history
from service.ledger import BudgetLedger, Timeline


def tables(engine, settings) -> set[str]:  # type: ignore[no-untyped-def]
    schema = settings.database_schema if settings.store == "postgresql" else None
    return set(inspect(engine).get_table_names(schema=schema))


def test_the_migration_replaces_the_month_rows_and_the_projector_projects_again(settings):  # type: ignore[no-untyped-def]
    create_library_tables(settings)
    engine = make_engine(settings)
    command.upgrade(alembic_config(settings, engine), "0014")
    ledger = BudgetLedger(settings)
    view = make_view(settings)
    try:
        history(ledger)
        last = Timeline(ledger.engine).max_position()
        with engine.begin() as connection:  # the read models of before, projected to the end
            connection.execute(text(f"INSERT INTO {view.tracking_table()} (application_name, notification_id) "
                                    f"VALUES ('{APPLICATION}', {last})"))
            connection.execute(text("INSERT INTO rm_facts (kind, facility, year, recorded_from, value) "
                                    "VALUES ('horizon', '', 0, 1, '{\"year\": 2026}')"))
        assert {"rm_budget_months", "rm_statement_lines"} <= tables(engine, settings)
        migrate(settings)
        assert "rm_budget_months" not in tables(engine, settings) and "rm_facility_years" in tables(engine, settings)
        assert not view.max_tracking_id(APPLICATION)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM rm_facts")).scalar() == 0
        projector = Projector(settings)
        try:
            assert projector.catch_up() == last
        finally:
            projector.close()
        figures = BudgetReads(ledger).facility_year("F2", 2026, last)
        assert [m.stays.present_days for m in figures.months][:6] == [0, 28, 31, 30, 31, 60]  # B from Feb, A from Jun
        lines = StatementReads(ledger).lines("751", 2026, 3, last)
        assert [(len(line.periods), line.facility) for line in lines] == [(1, "F2")]
        command.downgrade(alembic_config(settings, engine), "0014")
        assert "rm_budget_months" in tables(engine, settings) and "rm_facility_years" not in tables(engine, settings)
        migrate(settings)
        assert "rm_facility_years" in tables(engine, settings)
    finally:
        view.datastore.close()  # type: ignore[attr-defined]
        ledger.close()
        engine.dispose()

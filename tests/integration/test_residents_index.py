"""The ledger's index of move-ins (`ledger_residents`, Alembic 0007): written with the events,
append-only, and built for the move-ins a store held before the migration."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import select, text

import service.ledger
from service.db import alembic_config, create_library_tables, ledger_residents, make_engine, migrate
from service.ledger import Actor, BudgetLedger
from tests.factories import SPECIAL_TARIFFS, levels
from service.commands.declarations import MoveIn, MoveOut, PublishSchedule, RegisterFacility

FINANCE, CASEWORKER = Actor("finance-tester", "finance"), Actor("caseworker-tester", "caseworker")


def history(ledger: BudgetLedger) -> None:
    for code in ("F1", "F2"):
        ledger.handle(RegisterFacility(code=code, name=f"Bo {code}", kind="botilbud", area="Grenaa", places=10,
                                       effective_date=date(2026, 1, 1)), FINANCE)
    ledger.handle(PublishSchedule(year=2026, levels=levels(), special_tariffs=SPECIAL_TARIFFS, hourly_rate="420.00",
                                  runoff_months=1), FINANCE)
    ledger.handle(MoveIn(citizen_ref="A", facility="F1", effective_date=date(2026, 2, 1), paying_municipality="707",
                         assessment={"hours_per_day": "3"}), CASEWORKER)
    ledger.handle(MoveIn(citizen_ref="B", facility="F2", effective_date=date(2026, 2, 1), paying_municipality="751",
                         assessment={"hours_per_day": "5"}), CASEWORKER)
    ledger.handle(MoveOut(citizen_ref="A", effective_date=date(2026, 5, 31), kind="moved"), CASEWORKER)
    ledger.handle(MoveIn(citizen_ref="A", facility="F2", effective_date=date(2026, 6, 1), paying_municipality="707",
                         assessment={"hours_per_day": "3"}), CASEWORKER)
    with ledger.batch():
        ledger.handle(MoveIn(citizen_ref="C", facility="F1", effective_date=date(2026, 3, 1),
                             paying_municipality="707", assessment={"hours_per_day": "2"}), CASEWORKER)
        ledger.flush()


def test_move_ins_are_indexed_with_their_events(ledger):
    history(ledger)
    assert ledger.citizens_ever_at("F1") == ledger.citizens_ever_at_by_scan("F1") == ["A", "C"]
    assert ledger.citizens_ever_at("F2") == ledger.citizens_ever_at_by_scan("F2") == ["B", "A"]
    with ledger.engine.connect() as connection:
        positions = connection.execute(select(ledger_residents.c.position).order_by("position")).scalars().all()
    assert ledger.citizens_ever_at("F2", positions[1] - 1) == []  # B moved in to F2 at the second move-in
    assert ledger.citizens_ever_at("F2", positions[1]) == ["B"]


def test_the_index_is_append_only(ledger):
    history(ledger)
    with ledger.engine.connect() as connection:
        for statement in ("UPDATE ledger_residents SET facility = 'F9'", "DELETE FROM ledger_residents"):
            with pytest.raises(Exception):
                connection.execute(text(statement))
            connection.rollback()


def test_the_migration_indexes_the_move_ins_already_stored(settings, monkeypatch):
    create_library_tables(settings)
    engine = make_engine(settings)
    command.upgrade(alembic_config(settings, engine), "0006")
    monkeypatch.setattr(service.ledger, "residents", lambda events: [])  # a ledger from before the index
    ledger = BudgetLedger(settings)
    try:
        history(ledger)
        monkeypatch.undo()
        migrate(settings)
        with engine.connect() as connection:
            assert connection.execute(select(ledger_residents)).all() != []
        assert ledger.citizens_ever_at("F1") == ledger.citizens_ever_at_by_scan("F1") == ["A", "C"]
        assert ledger.citizens_ever_at("F2") == ledger.citizens_ever_at_by_scan("F2") == ["B", "A"]
    finally:
        ledger.close()
        engine.dispose()

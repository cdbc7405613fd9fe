"""Tamper evidence on both stores: an attacker with the table owner's rights turns the
append-only triggers off and changes, removes, inserts or reorders stored events; `ledger
verify` finds each and names the first one touched."""

from __future__ import annotations

import os
import subprocess
from contextlib import contextmanager
from datetime import date

import psycopg
import pytest

from service.ledger import Actor, BudgetLedger
from service.projection import Projector
from service.verify import verify_store
from tests.conftest import _conninfo
from tests.e2e.test_serve import LEDGER
from tests.factories import SPECIAL_TARIFFS, levels
from service.commands.declarations import MoveIn, PublishSchedule, Reassess, RegisterFacility

FINANCE, CASEWORKER = Actor("finance-tester", "finance"), Actor("caseworker-tester", "caseworker")


@pytest.fixture
def history(ledger: BudgetLedger) -> BudgetLedger:
    ledger.handle(RegisterFacility(code="GRENAA-BO", name="Grenaa Bo", kind="botilbud", area="Grenaa", places=10,
                                   effective_date=date(2026, 1, 1)), FINANCE)
    ledger.handle(PublishSchedule(year=2026, levels=levels(), special_tariffs=SPECIAL_TARIFFS, hourly_rate="420.00",
                                  runoff_months=1), FINANCE)
    ledger.handle(MoveIn(citizen_ref="A", facility="GRENAA-BO", effective_date=date(2026, 3, 10),
                         paying_municipality="707", assessment={"hours_per_day": "4.5"}), CASEWORKER)
    ledger.handle(Reassess(citizen_ref="A", effective_date=date(2026, 5, 16), assessment={"hours_per_day": "6.5"},
                           reason="ny vurdering"), CASEWORKER)
    ledger.handle(MoveIn(citizen_ref="B", facility="GRENAA-BO", effective_date=date(2026, 9, 1),
                         paying_municipality="751", assessment={"hours_per_day": "1.5"}), CASEWORKER)
    return ledger


@contextmanager
def as_attacker(ledger: BudgetLedger):  # type: ignore[no-untyped-def]
    """A raw connection with the append-only triggers off, as the table owner could."""
    settings = ledger.settings
    if settings.store == "sqlite":
        import sqlite3

        connection = sqlite3.connect(settings.sqlite_path)
        triggers = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]
        for name in triggers:
            connection.execute(f"DROP TRIGGER {name}")
        yield connection, "rowid"
        connection.commit()
        connection.close()
        return
    with psycopg.connect(_conninfo(), autocommit=True) as connection:
        connection.execute(f'SET search_path TO "{settings.database_schema}"')
        for table in ("stored_events", "ledger_entries", "ledger_chain"):
            connection.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        yield connection, "notification_id"


def finding(ledger: BudgetLedger, reached: int = 0):  # type: ignore[no-untyped-def]
    verdict = verify_store(ledger, reached)
    return None if verdict.finding is None else (verdict.finding.kind, verdict.finding.position)


def test_an_untouched_store_verifies(history):
    verdict = verify_store(history)
    assert verdict.intact and verdict.events == 5 and len(verdict.head) == 64


def test_a_changed_event_is_named(history):
    with as_attacker(history) as (db, id_):
        db.execute(f"UPDATE stored_events SET state = state || 'x' WHERE {id_} = 4")  # type: ignore[attr-defined]
    assert finding(history) == ("changed", 4)


def test_a_changed_recorded_time_is_named(history):
    with as_attacker(history) as (db, _):
        db.execute("UPDATE ledger_entries SET recorded_at = '2020-01-01 00:00:00' WHERE position = 3")  # type: ignore[attr-defined]
    assert finding(history) == ("changed", 3)


def test_a_removed_event_is_named(history):
    with as_attacker(history) as (db, id_):
        db.execute(f"DELETE FROM stored_events WHERE {id_} = 3")  # type: ignore[attr-defined]
    assert finding(history) == ("removed", 3)


def test_an_inserted_event_is_named(history):
    with as_attacker(history) as (db, id_):
        columns = "originator_id, originator_version, topic, state"
        db.execute(f"INSERT INTO stored_events ({columns}) SELECT originator_id, originator_version + 100, topic, state "  # type: ignore[attr-defined]
                   f"FROM stored_events WHERE {id_} = 4")
    assert finding(history) == ("inserted", 6)


def test_reordered_events_are_named(history):
    with as_attacker(history) as (db, id_):
        rows = {r[0]: r[1:] for r in db.execute(  # type: ignore[attr-defined]
            f"SELECT {id_}, originator_id, originator_version, topic, state FROM stored_events WHERE {id_} IN (3, 5)")}
        param = "?" if id_ == "rowid" else "%s"
        db.execute(f"DELETE FROM stored_events WHERE {id_} IN (3, 5)")  # type: ignore[attr-defined]
        for position, source in ((3, 5), (5, 3)):
            db.execute(f"INSERT INTO stored_events ({id_}, originator_id, originator_version, topic, state) "  # type: ignore[attr-defined]
                       f"VALUES ({param}, {param}, {param}, {param}, {param})", (position, *rows[source]))
    assert finding(history) == ("reordered", 3)


def test_an_altered_chain_is_named(history):
    with as_attacker(history) as (db, _):
        db.execute("UPDATE ledger_chain SET chain_hash = content_hash WHERE position = 2")  # type: ignore[attr-defined]
    assert finding(history) == ("chain_altered", 2)


def test_events_cut_off_the_end_are_found_by_the_projections_tracking(history):
    projector = Projector(history.settings)
    projector.catch_up()
    projector.close()
    with as_attacker(history) as (db, id_):
        db.execute(f"DELETE FROM stored_events WHERE {id_} = 5")  # type: ignore[attr-defined]
        db.execute("DELETE FROM ledger_chain WHERE position = 5")  # type: ignore[attr-defined]
    assert finding(history, reached=5) == ("removed", 5)


def test_ledger_verify_exits_non_zero_naming_the_event(history, tmp_path):
    env = os.environ | {"LEDGER_DATABASE_URL": history.settings.database_url,
                        "LEDGER_DATABASE_SCHEMA": history.settings.database_schema}
    intact = subprocess.run([LEDGER, "verify"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert intact.returncode == 0 and intact.stdout.startswith("intact: 5 events")
    with as_attacker(history) as (db, id_):
        db.execute(f"UPDATE stored_events SET topic = topic || 'x' WHERE {id_} = 2")  # type: ignore[attr-defined]
    tampered = subprocess.run([LEDGER, "verify"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert tampered.returncode == 1 and "changed at position 2" in tampered.stdout


def test_the_migration_links_the_events_already_stored(history):
    from sqlalchemy import select

    from service.db import ledger_chain
    from service.verify import link_stored_events

    with history.engine.connect() as connection:
        before = connection.execute(select(ledger_chain).order_by(ledger_chain.c.position)).all()
    with as_attacker(history) as (db, _):  # a store from before the chain existed
        db.execute("DELETE FROM ledger_chain")  # type: ignore[attr-defined]
    with history.engine.begin() as connection:
        assert link_stored_events(connection) == 5
    with history.engine.connect() as connection:
        assert connection.execute(select(ledger_chain).order_by(ledger_chain.c.position)).all() == before
    assert verify_store(history).intact

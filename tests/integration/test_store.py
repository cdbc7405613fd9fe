"""The store on SQLite and PostgreSQL: exact values, the ledger index, append-only guards,
idempotency and concurrent writers."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest
from eventsourcing.application import project_aggregate
from sqlalchemy import func, select, text

from domain.errors import RuleViolation
from service.db import idempotency_keys, ledger_entries, migrate
from service.ledger import Actor, BudgetLedger, IdempotencyConflict
from service.store import Idempotency
from tests.factories import frame_body, levels, ref
from service.commands.declarations import (
    ChangeCapacity,
    GrantSpecialTariff,
    MoveIn,
    MoveOut,
    Reassess,
    PublishSchedule,
    RegisterFacility,
    Retract,
    SetFrameBudget,
)

FINANCE = Actor("finance-tester", "finance")
CASEWORKER = Actor("caseworker-tester", "caseworker")


def setup_facility(ledger: BudgetLedger, code: str = "GRENAA-BO") -> None:
    ledger.handle(RegisterFacility(code=code, name="Grenaa Bo", kind="botilbud", area="Grenaa", places=10), FINANCE)
    ledger.handle(PublishSchedule(year=2026, levels=levels(), special_tariffs=[{"code": "S1", "name": "S1"}],
                                  hourly_rate="420.00", runoff_months=1), FINANCE)


def test_decimals_and_dates_come_back_exactly(ledger: BudgetLedger):
    setup_facility(ledger)
    body = frame_body()
    body["lines"].append({"category": "regulation", "amount": "-0.01"})
    ledger.handle(SetFrameBudget(code="GRENAA-BO", year=2026, budgeted_places=10, planned_occupancy_pct="99.95",
                                 lines=body["lines"], reason="budget"), FINANCE)
    fresh = BudgetLedger(ledger.settings)
    try:
        frame = fresh.facility("GRENAA-BO").frame_budget(2026)
        assert frame["planned_occupancy_pct"] == Decimal("99.95")
        assert [line["amount"] for line in frame["lines"]] == [
            Decimal("1200000.00"), Decimal("800000.00"), Decimal("1650000.00"), Decimal("-0.01")]
        assert all(isinstance(line["amount"], Decimal) for line in frame["lines"])
        schedule = fresh.schedule(2026)
        assert schedule.levels[7].max_hours == Decimal("18.00")
        events = list(fresh.events.get(schedule.id))
        assert events[0].meta.effective_date == date(2026, 1, 1)
    finally:
        fresh.close()


def test_every_event_gets_an_index_row_with_position_and_recorded_time(ledger: BudgetLedger):
    setup_facility(ledger)
    result = ledger.handle(MoveIn(citizen_ref="A", facility="GRENAA-BO", effective_date=date(2026, 3, 10),
                                  paying_municipality="707", assessment={"hours_per_day": "19"},
                                  special_tariff={"code": "S1", "daily_rate": "7500.00"}, reason="særlige behov"
                                  ), CASEWORKER).body
    assert len(result["event_ids"]) == 2 and result["position"] == 4
    with ledger.engine.connect() as connection:
        rows = connection.execute(select(ledger_entries).order_by(ledger_entries.c.position)).all()
    assert [r.position for r in rows] == [1, 2, 3, 4]
    assert [r.event_id for r in rows[-2:]] == result["event_ids"]
    times = [r.recorded_at for r in rows]
    assert times == sorted(times)
    assert ledger.recorder.max_notification_id() == 4


def test_a_refused_command_leaves_the_store_exactly_as_it_was(ledger: BudgetLedger):
    setup_facility(ledger)
    ledger.handle(MoveIn(citizen_ref="A", facility="GRENAA-BO", effective_date=date(2026, 3, 10),
                         paying_municipality="707", assessment={"hours_per_day": "4.5"}), CASEWORKER)
    before = ledger.recorder.max_notification_id()
    with pytest.raises(RuleViolation):
        ledger.handle(MoveIn(citizen_ref="A", facility="GRENAA-BO", effective_date=date(2026, 4, 10),
                             paying_municipality="707", assessment={"hours_per_day": "4.5"}), CASEWORKER)
    assert ledger.recorder.max_notification_id() == before
    with ledger.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ledger_entries)).scalar() == before


@pytest.mark.parametrize("statement", [
    "UPDATE stored_events SET topic = 'x'",
    "DELETE FROM stored_events",
    "UPDATE ledger_entries SET actor = 'x'",
    "DELETE FROM ledger_entries WHERE position = 1",
    "TRUNCATE stored_events",
    "TRUNCATE ledger_entries",
    "UPDATE ledger_chain SET chain_hash = 'x'",
    "DELETE FROM ledger_chain WHERE position = 2",
    "TRUNCATE ledger_chain",
])
def test_stored_events_are_append_only_at_the_database(ledger: BudgetLedger, store: str, statement: str):
    setup_facility(ledger)
    if statement.startswith("TRUNCATE") and store == "sqlite":
        statement = statement.replace("TRUNCATE", "DELETE FROM")  # SQLite's truncate is an unqualified DELETE
    statement = statement.replace("SET actor = 'x'", "SET originator_version = 99")
    with pytest.raises(Exception) as error:
        with ledger.engine.begin() as connection:
            connection.execute(text(statement))
    assert "append-only" in str(error.value)
    assert ledger.recorder.max_notification_id() == 2


def test_the_same_idempotency_key_and_body_records_once(ledger: BudgetLedger):
    setup_facility(ledger)
    key = Idempotency("caseworker-tester", "move-in-A", "fingerprint-1")
    first = ledger.handle(MoveIn(citizen_ref="A", facility="GRENAA-BO", effective_date=date(2026, 3, 10),
                                 paying_municipality="707", assessment={"hours_per_day": "4.5"}), CASEWORKER, key)
    again = ledger.handle(MoveIn(citizen_ref="A", facility="GRENAA-BO", effective_date=date(2026, 3, 10),
                                 paying_municipality="707", assessment={"hours_per_day": "4.5"}), CASEWORKER, key)
    assert not first.replayed and again.replayed and again.body == first.body
    assert ledger.recorder.max_notification_id() == 3
    with pytest.raises(IdempotencyConflict):
        ledger.handle(MoveIn(citizen_ref="A", facility="GRENAA-BO", effective_date=date(2026, 3, 11),
                             paying_municipality="707", assessment={"hours_per_day": "4.5"}
                             ), CASEWORKER, Idempotency("caseworker-tester", "move-in-A", "fingerprint-2"))
    with ledger.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(idempotency_keys)).scalar() == 1


def test_racing_move_ins_of_one_citizen_give_one_success(ledger: BudgetLedger):
    setup_facility(ledger)
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def move_in(day: int) -> None:
        barrier.wait()
        try:
            ledger.handle(MoveIn(citizen_ref="RACE", facility="GRENAA-BO", effective_date=date(2026, 3, day),
                                 paying_municipality="707", assessment={"hours_per_day": "4.5"}), CASEWORKER)
            outcomes.append("ok")
        except RuleViolation as error:
            outcomes.append(error.rule)

    threads = [threading.Thread(target=move_in, args=(day,)) for day in (10, 11, 12, 13)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 1
    assert set(outcomes) - {"ok"} <= {"concurrent_write", "open_stay_exists"}
    assert len(ledger.citizen("RACE").stays) == 1
    with ledger.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ledger_entries)).scalar() == 3


def test_writers_on_different_citizens_all_succeed(ledger: BudgetLedger):
    setup_facility(ledger)
    refs = [ref() for _ in range(6)]
    errors: list[Exception] = []

    def move_in(citizen: str) -> None:
        try:
            ledger.handle(MoveIn(citizen_ref=citizen, facility="GRENAA-BO", effective_date=date(2026, 3, 10),
                                 paying_municipality="707", assessment={"hours_per_day": "4.5"}), CASEWORKER)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=move_in, args=(r,)) for r in refs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert ledger.recorder.max_notification_id() == 2 + len(refs)


@pytest.mark.parametrize("at_once", [1, 2])
def test_a_process_decides_and_stores_commands_at_once_at_a_time(settings, at_once: int):  # type: ignore[no-untyped-def]
    """`LEDGER_COMMANDS_AT_ONCE`: eight threads send a command each at the same moment; at most
    that many are between deciding and stored at once (each held there a while), and every
    command is recorded."""
    migrate(settings)
    ledger = BudgetLedger(settings.model_copy(update={"commands_at_once": at_once}))
    try:
        setup_facility(ledger)
        inside, most, lock = [0], [0], threading.Lock()
        put = ledger._put

        def held_put(events, write):  # type: ignore[no-untyped-def]
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            try:
                threading.Event().wait(0.05)
                put(events, write)
            finally:
                with lock:
                    inside[0] -= 1

        ledger._put = held_put  # type: ignore[method-assign]
        barrier, errors = threading.Barrier(8), []

        def move_in(citizen: str) -> None:
            barrier.wait()
            try:
                ledger.handle(MoveIn(citizen_ref=citizen, facility="GRENAA-BO", effective_date=date(2026, 3, 10),
                                     paying_municipality="707", assessment={"hours_per_day": "4.5"}), CASEWORKER)
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)

        threads = [threading.Thread(target=move_in, args=(ref(),)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert most[0] == at_once
        assert ledger.recorder.max_notification_id() == 2 + 8
    finally:
        ledger.close()


def test_migrations_can_run_again(ledger: BudgetLedger):
    setup_facility(ledger)
    migrate(ledger.settings)
    assert ledger.recorder.max_notification_id() == 2


def test_retraction_by_event_id_finds_its_stream(ledger: BudgetLedger):
    setup_facility(ledger)
    ledger.handle(ChangeCapacity(code="GRENAA-BO", places=12, effective_date=date(2026, 6, 1), reason="new wing"
                                 ), FINANCE)
    change = ledger.facility("GRENAA-BO").capacity_changes[0]["event_id"]
    ledger.handle(Retract(event_id=change, reason="the wing opens later"), FINANCE)
    assert ledger.facility("GRENAA-BO").places_on(date(2026, 7, 1)) == 10
    assert ledger.recorder.max_notification_id() == 4


def test_a_long_token_name_can_use_idempotency_keys(ledger: BudgetLedger):
    setup_facility(ledger)
    actor = Actor("x" * 100, "caseworker")
    key = Idempotency(actor.name, "k" * 200, "f")
    first = ledger.handle(MoveIn(citizen_ref="A", facility="GRENAA-BO", effective_date=date(2026, 3, 10),
                                 paying_municipality="707", assessment={"hours_per_day": "4.5"}), actor, key)
    assert ledger.handle(MoveIn(citizen_ref="A", facility="GRENAA-BO", effective_date=date(2026, 3, 10),
                                paying_municipality="707", assessment={"hours_per_day": "4.5"}), actor, key).body == first.body


def test_an_aggregate_loads_as_the_librarys_own_replay_rebuilds_it(ledger: BudgetLedger):
    """`load` replays without the library's check of each event against a protocol
    (domain.ledger.replay): every version of every stream comes out as the library's
    `project_aggregate` rebuilds it, retractions included."""
    setup_facility(ledger)
    move_in = ledger.handle(MoveIn(citizen_ref="A", facility="GRENAA-BO", effective_date=date(2026, 3, 10),
                                   paying_municipality="707", assessment={"hours_per_day": "4.5"}), CASEWORKER)
    ledger.handle(Reassess(citizen_ref="A", effective_date=date(2026, 5, 1), assessment={"hours_per_day": "9"}),
                  CASEWORKER)
    granted = ledger.handle(GrantSpecialTariff(citizen_ref="A", effective_date=date(2026, 6, 1), code="S1",
                                               daily_rate="1500.00", reason="night watch"), CASEWORKER)
    ledger.handle(Retract(event_id=granted.body["event_ids"][0], reason="granted in error"), CASEWORKER)
    ledger.handle(MoveOut(citizen_ref="A", effective_date=date(2026, 9, 30), kind="moved"), CASEWORKER)
    ledger.handle(ChangeCapacity(code="GRENAA-BO", places=12, effective_date=date(2026, 6, 1), reason="new wing"),
                  FINANCE)
    assert move_in.body["event_ids"]
    with ledger.engine.connect() as connection:
        streams = connection.execute(select(ledger_entries.c.originator_id,
                                            func.max(ledger_entries.c.originator_version))
                                     .group_by(ledger_entries.c.originator_id)).all()
    assert len(streams) == 3 and max(version for _, version in streams) == 5
    for stream, last in streams:
        for version in range(1, last + 1):
            loaded = ledger.load(UUID(stream), version)
            rebuilt = ledger.repository.get(UUID(stream), version=version, projector_func=project_aggregate)
            assert type(loaded) is type(rebuilt) and loaded.version == version
            assert vars(loaded) == vars(rebuilt), (stream, version)

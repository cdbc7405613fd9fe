"""The bench counts the read-model row versions each event wrote, by event type (bench/writes.py,
issue 19's "report the figure per event type"), on both stores, over whatever read-model
tables the store holds: every row version is given to the event at its `recorded_from`, and
one at no event's position is named, not lost."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from bench.harness import rows_per_citizen_event
from bench.report import Results, markdown
from bench.store import Database
from bench.writes import Writes, count, position_column
from service.commands.declarations import MoveIn, MoveOut, PublishSchedule, Reassess, RegisterFacility, Retract
from service.db import APPENDED_TABLES, READ_MODEL_TABLES
from service.ledger import Actor, BudgetLedger
from service.projection import Projector
from tests.factories import SPECIAL_TARIFFS, levels

FINANCE, CASEWORKER = Actor("finance-tester", "finance"), Actor("caseworker-tester", "caseworker")


def history(ledger: BudgetLedger) -> dict[str, int]:
    """A facility, a schedule, two stays, a reassessment that is retracted and a move-out: the
    position of each event by a name."""
    at: dict[str, int] = {}

    def record(name: str, command: object, actor: Actor) -> str:
        body = ledger.handle(command, actor).body  # type: ignore[arg-type]
        at[name] = body["position"]
        return str(body["event_id"])

    record("facility", RegisterFacility(code="F1", name="Bo", kind="botilbud", area="Grenaa", places=10,
                                        effective_date=date(2026, 1, 1)), FINANCE)
    record("schedule", PublishSchedule(year=2026, levels=levels(), special_tariffs=SPECIAL_TARIFFS,
                                       hourly_rate="420.00", runoff_months=1), FINANCE)
    for ref in ("A", "B"):
        record(f"move_in_{ref}", MoveIn(citizen_ref=ref, facility="F1", effective_date=date(2026, 3, 1),
                                        paying_municipality="751", assessment={"hours_per_day": "3"}), CASEWORKER)
    wrong = record("reassessed", Reassess(citizen_ref="A", effective_date=date(2026, 5, 1),
                                          assessment={"hours_per_day": "6"}), CASEWORKER)
    record("retraction", Retract(event_id=wrong, reason="the wrong citizen"), CASEWORKER)
    record("move_out", MoveOut(citizen_ref="B", effective_date=date(2026, 9, 30), kind="moved"), CASEWORKER)
    return at


def table(settings, name: str) -> str:  # type: ignore[no-untyped-def]
    return name if settings.store == "sqlite" else f'"{settings.database_schema}".{name}'


def test_every_row_version_is_given_to_the_event_at_its_recorded_from_by_event_type(ledger, settings, store,
                                                                                   tmp_path):
    at = history(ledger)
    Projector(settings).rebuild()
    with ledger.engine.begin() as connection:  # tables the product may add, found by their columns
        connection.execute(text(f"CREATE TABLE {table(settings, 'rm_probe')} (k INTEGER, recorded_from BIGINT)"))
        connection.execute(text(f"CREATE TABLE {table(settings, 'rm_probe_next')} (recorded_from BIGINT)"))
        connection.execute(text(f"CREATE TABLE {table(settings, 'rm_plain')} (k INTEGER)"))
        connection.execute(text(f"INSERT INTO {table(settings, 'rm_probe')} VALUES (1, {at['move_in_A']}), "
                                f"(2, {at['move_in_A']}), (3, 9999)"))
        connection.execute(text(f"INSERT INTO {table(settings, 'rm_probe_next')} VALUES ({at['move_in_A']})"))
        connection.execute(text(f"INSERT INTO {table(settings, 'rm_plain')} VALUES (1), (2)"))
    if store == "postgresql":
        with ledger.engine.begin() as connection:  # the inserts' statistics are flushed at this one's end
            connection.execute(text("SELECT pg_stat_force_next_flush()"))
    database = Database(store, settings.database_url, settings.database_schema, tmp_path)

    counted = count(database)

    versioned = {name for name in READ_MODEL_TABLES if "recorded_from" in database.columns(name).get(name, ())}
    assert versioned and versioned | set(APPENDED_TABLES) | {"rm_probe"} == set(counted.tables)
    unversioned = set(READ_MODEL_TABLES) - versioned - set(APPENDED_TABLES)  # the tails' checkpoints: listed only
    assert counted.uncounted == {"rm_plain": 2, **{name: n for name, n in counted.uncounted.items() if name in unversioned}}
    assert counted.unattributed == {"rm_probe": 1}
    types = {t.name: t for t in counted.types}
    assert [(t.name, t.events, t.citizen) for t in counted.types] == [
        ("FacilityRegistered", 1, False), ("TariffSchedulePublished", 1, False), ("CitizenMovedIn", 2, True),
        ("CitizenReassessed", 1, True), ("CitizenMovedOut", 1, True), ("EntryRetracted (CitizenReassessed)", 1, True)]
    # each row version once, at its event: the tables' rows are the types' rows and the unattributed ones
    rows = database.row_counts(counted.tables)
    for name in counted.tables:
        assert sum(t.by_table[name] for t in counted.types) + counted.unattributed.get(name, 0) == rows[name]
    for t in counted.types:
        assert t.rows == sum(t.by_table.values()) and t.per_event <= t.most <= t.rows
    by_position = {name: database.counts_by(name, position_column(name)) for name in counted.tables}
    assert types["CitizenReassessed"].rows == sum(c.get(at["reassessed"], 0) for c in by_position.values()) > 0
    assert types["CitizenMovedIn"].by_table["rm_probe"] == 2 and types["CitizenMovedIn"].rows >= 2 + 2
    assert types["EntryRetracted (CitizenReassessed)"].rows > 0  # the retraction changed the figures back
    citizen, every = counted.total(citizen_only=True), counted.total()
    assert (citizen.events, every.events) == (5, 7)
    assert every.rows == sum(rows.values()) - 1 and citizen.rows == every.rows - sum(
        types[name].rows for name in ("FacilityRegistered", "TariffSchedulePublished"))
    writes = counted.postgresql_writes
    assert writes is None if store == "sqlite" else writes["rm_probe"]["inserted"] == 3

    again = Writes.from_json(counted.to_json())
    assert again == counted
    figure = rows_per_citizen_event(again)
    assert figure.value == citizen.rows / 5 and figure.growth == 0.0 and figure.target is None
    shown = markdown(Results("tiny", store, 1, "", "", {}, {"rows_per_event": counted.to_json()}, [figure]))
    assert "| EntryRetracted (CitizenReassessed) · | 1 | " in shown
    assert f"| **citizen events** | 5 | {citizen.rows} | {citizen.rows / 5:.2f} | {citizen.most} |" in shown
    assert "rm_plain (2 rows)" in shown and "rm_probe 1" in shown

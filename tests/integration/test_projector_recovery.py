"""The projector keeps the read models right when something moves under it: a rebuild while
it follows, a failure when it starts, instants with offsets, and gaps in the positions."""

from __future__ import annotations

import pickle
import threading
import time
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from domain.citizen import Citizen, citizen_id
from domain.facility import facility_id
from service.db import utc
from service.ledger import Actor, BudgetLedger, Timeline
from projections.projector import FACILITY_FACTS
from service.projection import Projector
from service.verify import verify_store
from tests.factories import SPECIAL_TARIFFS, frame_body, levels
from tests.integration.test_projection_properties import dump
from service.commands.declarations import (
    ChangePayingMunicipality,
    MoveIn,
    MoveOut,
    PublishSchedule,
    Reassess,
    RegisterFacility,
    Retract,
    SetFrameBudget,
    ReviseRate,
)

FINANCE, CASEWORKER = Actor("finance-tester", "finance"), Actor("caseworker-tester", "caseworker")
ADMIN = Actor("admin-tester", "admin")


def record(ledger: BudgetLedger, ref: str = "A") -> None:
    if not ledger._exists(facility_id("F1")):
        ledger.handle(RegisterFacility(code="F1", name="Bo", kind="botilbud", area="Grenaa", places=10,
                                       effective_date=date(2026, 1, 1)), FINANCE)
        ledger.handle(PublishSchedule(year=2026, levels=levels(), special_tariffs=SPECIAL_TARIFFS,
                                      hourly_rate="420.00", runoff_months=1), FINANCE)
    ledger.handle(MoveIn(citizen_ref=ref, facility="F1", effective_date=date(2026, 3, 1), paying_municipality="751",
                         assessment={"hours_per_day": "3"}), CASEWORKER)


def assert_rows_of_a_rebuild(ledger: BudgetLedger, follower: Projector) -> None:
    """The rows `follower` wrote are those of a rebuild by a projector holding every citizen
    (the follower is closed)."""
    rows = dump(ledger)
    follower.close()
    everyone = Projector(ledger.settings)
    everyone.rebuild()
    assert dump(ledger) == rows
    everyone.close()


def test_a_rebuild_while_a_projector_follows_leaves_the_rows_of_a_rebuild(ledger):
    record(ledger)
    follower = Projector(ledger.settings, batch_size=1)
    follower.catch_up()
    rebuilder = Projector(ledger.settings)
    rebuilder.view.reset()  # the rebuild has emptied the read models ...
    record(ledger, "B")
    with pytest.raises(Exception):
        follower.catch_up()  # ... so the follower's next batch is refused, not written on top
    rebuilder.rebuild()
    stopping = threading.Event()
    thread = threading.Thread(target=follower.follow, args=(stopping, 0.05))
    thread.start()
    record(ledger, "C")
    follower.wake.set()
    deadline = time.monotonic() + 10
    while follower.tracked() < Timeline(ledger.engine).max_position() and time.monotonic() < deadline:
        time.sleep(0.05)
    stopping.set()
    thread.join(10)
    followed = dump(ledger)
    Projector(ledger.settings).rebuild()
    assert dump(ledger) == followed
    rebuilder.close()
    follower.close()


def test_a_projector_that_fails_to_start_keeps_trying(ledger, monkeypatch):
    record(ledger)
    projector = Projector(ledger.settings)
    calls = {"n": 0}
    real = projector.tracked

    def flaky() -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("the store is restarting")
        return real()

    monkeypatch.setattr(projector, "tracked", flaky)
    stopping = threading.Event()
    thread = threading.Thread(target=projector.follow, args=(stopping, 0.05))
    thread.start()
    deadline = time.monotonic() + 10
    while real() < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert thread.is_alive() and real() == 3
    stopping.set()
    thread.join(10)
    projector.close()


def test_an_instant_with_an_offset_is_the_same_moment_on_both_stores(ledger):
    record(ledger)
    with ledger.engine.connect() as connection:
        recorded = connection.execute(text("SELECT recorded_at FROM ledger_entries WHERE position = 2")).scalar()
    moment = utc(recorded if not isinstance(recorded, str) else datetime.fromisoformat(recorded))
    in_denmark = moment.astimezone(timezone(timedelta(hours=1)))
    timeline = Timeline(ledger.engine)
    assert timeline.position_at(in_denmark) == 2 and timeline.position_before(in_denmark) == 1


def test_gaps_in_the_positions_are_not_taken_for_removed_events(ledger, store):
    if store != "postgresql":
        pytest.skip("SQLite positions are row ids without gaps")
    record(ledger)
    with ledger.engine.begin() as connection:  # a rolled-back write leaves its position unused
        connection.execute(text("SELECT nextval(pg_get_serial_sequence('stored_events', 'notification_id'))"))
    record(ledger, "B")
    assert Timeline(ledger.engine).max_position() == 5
    verdict = verify_store(ledger, projections_reached=5)
    assert verdict.intact and verdict.events == 4 and verdict.last_position == 5


def test_a_restarted_projector_takes_the_rows_and_holds_the_state_it_would_have_computed(ledger):
    """`load` takes the rows valid at the tracked position and the facilities and schedules as
    of it (no citizen: they come from the store as their events do): its state is the one
    projecting every event again gives, and it goes on the same way."""
    for ref in ("A", "B", "C"):
        record(ledger, ref)
    ledger.handle(PublishSchedule(year=2027, levels=levels(), special_tariffs=SPECIAL_TARIFFS, hourly_rate="420.00",
                                  runoff_months=2), FINANCE)
    ledger.handle(MoveOut(citizen_ref="B", effective_date=date(2026, 11, 30), kind="moved"), CASEWORKER)
    ledger.handle(ChangePayingMunicipality(citizen_ref="A", effective_date=date(2026, 6, 1),
                                           paying_municipality="707"), CASEWORKER)
    computed = Projector(ledger.settings, batch_size=2)
    computed.catch_up()
    restarted = Projector(ledger.settings)
    restarted.load()
    assert restarted.position == computed.position
    for name in ("facts", "horizon", "cap", "tails", "schedule_years"):
        assert getattr(restarted.projection, name) == getattr(computed.projection, name), name
    assert not restarted.projection.stay_rows and not restarted.projection.lines  # read as the stays are needed
    assert not restarted.projection.months  # read as the facility-years are needed
    assert computed.projection.months
    for facility, year in {key[:2] for key in computed.projection.months}:
        assert restarted.projection.year_row(facility, year) == computed.projection.year_row(facility, year)
    for name in ("facilities", "schedules"):
        assert {key: aggregate.version for key, aggregate in getattr(restarted.projection, name).items()} == \
            {key: aggregate.version for key, aggregate in getattr(computed.projection, name).items()}, name
    assert not restarted.projection.citizens
    assert computed.projection.stay_rows  # the held citizens' stays
    ledger.handle(Reassess(citizen_ref="C", effective_date=date(2026, 5, 1), assessment={"hours_per_day": "9"}
                           ), CASEWORKER)
    ledger.handle(PublishSchedule(year=2028, levels=levels(), special_tariffs=SPECIAL_TARIFFS, hourly_rate="420.00",
                                  runoff_months=1), FINANCE)
    restarted.catch_up()
    followed = dump(ledger)
    Projector(ledger.settings).rebuild()
    assert dump(ledger) == followed
    computed.close()
    restarted.close()


def test_a_projector_holding_two_citizens_writes_the_rows_of_one_holding_them_all(ledger):
    """Citizens beyond the LRU are read from the store at the version before their event: the
    rows are the same whatever the LRU's size, also across schedules that reprice a year and
    raise the horizon (which read the stays from the stay rows)."""
    refs = [f"C{n}" for n in range(6)]
    for ref in refs:
        record(ledger, ref)
    for round_, ref in enumerate(refs * 2):  # every citizen again, in turn: each misses an LRU of two
        ledger.handle(Reassess(citizen_ref=ref, effective_date=date(2026, 4 + round_ % 6, 1 + round_),
                               assessment={"hours_per_day": str(2 + round_ % 5)}), CASEWORKER)
        if round_ == 4:
            ledger.handle(PublishSchedule(year=2026, levels=levels(), special_tariffs=SPECIAL_TARIFFS,
                                          hourly_rate="430.00", runoff_months=2), FINANCE)
        if round_ == 7:
            ledger.handle(MoveOut(citizen_ref=ref, effective_date=date(2026, 12, 20), kind="moved"), CASEWORKER)
            ledger.handle(PublishSchedule(year=2027, levels=levels(), special_tariffs=SPECIAL_TARIFFS,
                                          hourly_rate="440.00", runoff_months=0), FINANCE)
    ledger.handle(ChangePayingMunicipality(citizen_ref="C1", effective_date=date(2026, 6, 1),
                                           paying_municipality="707"), CASEWORKER)
    small = Projector(ledger.settings.model_copy(update={"projector_citizens": 2}), batch_size=3)
    small.rebuild()
    assert len(small.projection.citizens) == 2
    held = dump(ledger)
    large = Projector(ledger.settings)
    large.rebuild()
    assert len(large.projection.citizens) == len(refs)
    assert dump(ledger) == held
    small.close()
    large.close()


def test_a_projector_lets_go_of_the_stays_of_each_citizen_it_lets_go_of(ledger):
    """A follower holding three citizens, written after every event: each citizen let go of
    takes its stay rows and statement lines with it, found from that citizen alone; only every
    third one goes through every held citizen (`BudgetProjection.written`). The rows are those
    of a projector that holds every citizen."""
    record(ledger, "L0")
    follower = Projector(ledger.settings.model_copy(update={"projector_citizens": 3}), batch_size=1)
    follower.load()
    projection = follower.projection
    sweeps, sweep = [], projection._sweep

    def counted() -> None:
        sweeps.append(len(projection.citizens))
        sweep()

    projection._sweep = counted  # type: ignore[method-assign]
    refs = [f"L{n}" for n in range(12)]
    for ref in refs:
        if ref != "L0":
            record(ledger, ref)
        follower.catch_up()
        held = {stay.stay_id for cid, citizen in projection.citizens.items()
                for stay in projection._stays_of_citizen(cid, citizen)}
        assert len(held) == min(3, refs.index(ref) + 1)
        assert {key[0] for key in projection.stay_rows} == held
        assert set(projection.line_keys) == held  # 751 pays: every stay is sold
    assert len(sweeps) == (len(refs) - 3) // 3  # nine let go of, every third by going through all
    assert_rows_of_a_rebuild(ledger, follower)


def test_a_projector_takes_the_citizens_it_let_go_of_from_those_it_keeps_pickled(ledger):
    """Citizens let go of are kept pickled up to `packed_bytes`, the least recently let go of
    dropped beyond it (docs/adr/0055). An event of a citizen kept pickled is applied to it
    unpickled, with no read of the store; one dropped is read from the store. The rows are those
    of a projector that holds every citizen."""
    refs = [f"P{n}" for n in range(6)]
    for ref in refs:
        record(ledger, ref)
    size = len(pickle.dumps(ledger.citizen("P0"), protocol=pickle.HIGHEST_PROTOCOL))
    follower = Projector(ledger.settings.model_copy(update={"projector_citizens": 1}), batch_size=1)
    follower.load()
    projection = follower.projection
    projection.packed_limit = 3 * size + size // 2  # three citizens of one move-in each (a byte or two apart)
    loads: list[str] = []
    load = projection.load_aggregate

    def counted(stream, version):  # type: ignore[no-untyped-def]
        aggregate = load(stream, version)
        if isinstance(aggregate, Citizen):
            loads.append(aggregate.citizen_ref)
        return aggregate

    projection.load_aggregate = counted
    follower.catch_up()
    assert [ref for ref in refs if citizen_id(ref) in projection.citizens] == ["P5"]
    assert list(projection.packed) == [citizen_id(ref) for ref in ("P2", "P3", "P4")]
    assert projection._packed_bytes == sum(map(len, projection.packed.values())) <= projection.packed_limit
    assert loads == []

    ledger.handle(Reassess(citizen_ref="P3", effective_date=date(2026, 5, 1), assessment={"hours_per_day": "6"}),
                  CASEWORKER)
    follower.catch_up()
    assert loads == []  # P3 was kept pickled: unpickled, not read from the store
    assert list(projection.packed) == [citizen_id(ref) for ref in ("P2", "P4", "P5")]
    ledger.handle(Reassess(citizen_ref="P0", effective_date=date(2026, 5, 1), assessment={"hours_per_day": "6"}),
                  CASEWORKER)
    follower.catch_up()
    assert loads == ["P0"]  # dropped beyond the bytes kept: read from the store
    assert projection._unpacked(citizen_id("P4"), 2) is None  # kept at version 1 only: read from the store
    assert citizen_id("P4") not in projection.packed
    assert_rows_of_a_rebuild(ledger, follower)


def test_a_projector_holding_one_citizen_writes_whole_years_of_the_stays_it_does_not_hold(ledger):
    """The stays of citizens not held are read from the stay rows whenever every stay
    counts: a rate revision mid-year writes their year of statement lines whole (the months
    before it too), a lowered horizon drops their lines beyond it, a schedule beyond the
    horizon shifts their tails, and the tails are computed again from them when the horizon
    moves; a facility not held is read from its stream, its own facts from their rows; the
    rows are those of a projector holding every citizen and facility."""
    for ref in ("A", "B", "C"):
        record(ledger, ref)
    ledger.handle(ChangePayingMunicipality(citizen_ref="A", effective_date=date(2026, 4, 16),
                                           paying_municipality="707"), CASEWORKER)  # statement lines until then
    ledger.handle(MoveOut(citizen_ref="A", effective_date=date(2028, 3, 10), kind="moved"), CASEWORKER)

    def others(day: int) -> None:  # A is let go of: an LRU of one holds B or C
        for ref in ("B", "C"):
            ledger.handle(Reassess(citizen_ref=ref, effective_date=date(2026, 5, day),
                                   assessment={"hours_per_day": str(2 + day % 3)}), CASEWORKER)

    others(1)
    publication = ledger.handle(PublishSchedule(year=2027, levels=levels(), special_tariffs=SPECIAL_TARIFFS,
                                                hourly_rate="420.00", runoff_months=2), FINANCE)
    ledger.handle(RegisterFacility(code="F2", name="Hus", kind="botilbud", area="Grenaa", places=5,
                                   effective_date=date(2026, 1, 1)), FINANCE)
    ledger.handle(SetFrameBudget(code="F2", year=2026, **frame_body()), FINANCE)  # an LRU of one holds F2
    frame = ledger.handle(SetFrameBudget(code="F1", year=2027, **frame_body()), FINANCE)  # F1 read again
    others(2)
    ledger.handle(ReviseRate(year=2026, level=2, daily_rate="1300.00", effective_date=date(2026, 7, 15)), FINANCE)
    others(3)
    ledger.handle(ReviseRate(year=2027, level=2, daily_rate="1350.00", effective_date=date(2027, 5, 15)), FINANCE)
    others(4)
    ledger.handle(Retract(event_id=publication.body["event_ids"][0], reason="wrong year"), ADMIN)  # 2027 repriced
    others(5)
    ledger.handle(Retract(event_id=frame.body["event_ids"][0], reason="wrong year"), ADMIN)  # lowered to 2026
    others(6)
    ledger.handle(PublishSchedule(year=2028, levels=levels(), special_tariffs=SPECIAL_TARIFFS, hourly_rate="420.00",
                                  runoff_months=3), FINANCE)  # beyond the horizon, which rises again
    others(7)
    ledger.handle(PublishSchedule(year=2028, levels=levels(), special_tariffs=SPECIAL_TARIFFS, hourly_rate="420.00",
                                  runoff_months=0), FINANCE)  # beyond the horizon, which stays: A's tail shifts
    others(8)
    small = Projector(ledger.settings.model_copy(update={"projector_citizens": 1, "projector_facility_years": 1,
                                                         "projector_facilities": 1}), batch_size=1)
    small.rebuild()
    assert list(small.projection.citizens) != [ledger.citizen("A").id]
    assert len(small.projection._years) == 1  # the other facility-years were read from their rows
    assert len(small.projection.facility_streams) > len(small.projection.facilities) == 1  # and the facilities
    assert {code for kind, code, _ in small.projection.facts if kind in FACILITY_FACTS} == \
        {facility.code for facility in small.projection.facilities.values()}  # with their own facts
    held = dump(ledger)
    large = Projector(ledger.settings)
    large.rebuild()
    assert dump(ledger) == held
    small.close()
    large.close()


def test_the_planner_sees_the_read_models_after_a_rebuild_and_as_they_grow(ledger, monkeypatch):
    """PostgreSQL's statistics of the read models (and of the ledger's index) are refreshed at
    the end of a rebuild and whenever the projected events have doubled (autovacuum comes only
    later, and plans made without them read the open versions through the wrong index:
    docs/adr/0015, 0018)."""
    import service.projection as projection

    record(ledger)
    record(ledger, "B")
    refreshed: list[int] = []
    projector = Projector(ledger.settings, batch_size=1)
    original = type(projector.view).refresh_statistics
    monkeypatch.setattr(type(projector.view), "refresh_statistics",
                        lambda view: (refreshed.append(projector.position), original(view)))
    monkeypatch.setattr(projection, "STATISTICS_EVERY", 2)
    projector.rebuild()
    last = Timeline(ledger.engine).max_position()
    assert refreshed == [p for p in (2, 4) if p < last] + [last]  # at 2 events, when doubled, at the end
    if ledger.settings.store == "postgresql":
        with ledger.engine.connect() as connection:
            analysed = connection.execute(text(
                "SELECT relname FROM pg_stat_user_tables WHERE schemaname = :schema AND last_analyze IS NOT NULL AND last_vacuum IS NOT NULL"),
                {"schema": ledger.settings.database_schema}).scalars().all()
        assert {"rm_facility_years", "rm_facts", "rm_statement_lines", "rm_stays"} <= set(analysed)
        with ledger.engine.connect() as connection:  # the ledger's index: analysed (append-only: no vacuum)
            analysed = connection.execute(text(
                "SELECT relname FROM pg_stat_user_tables WHERE schemaname = :schema AND last_analyze IS NOT NULL"),
                {"schema": ledger.settings.database_schema}).scalars().all()
        assert {"ledger_entries", "ledger_residents"} <= set(analysed)
    projector.close()


def test_a_projection_that_catches_up_leaves_the_planner_statistics_of_what_it_wrote(ledger, monkeypatch):
    """A projector following an import refreshes the statistics when it has caught up with a
    quarter more events than at its last refresh (and at least STATISTICS_EVERY), not only
    when they have doubled, and not again for the few events of the next command."""
    import service.projection as projection

    monkeypatch.setattr(projection, "STATISTICS_EVERY", 3)
    projector = Projector(ledger.settings, batch_size=100)
    refreshed: list[int] = []
    original = type(projector.view).refresh_statistics
    monkeypatch.setattr(type(projector.view), "refresh_statistics",
                        lambda view: (refreshed.append(projector.position), original(view)))
    for ref in ("A", "B", "C"):
        record(ledger, ref)
    projector.catch_up()  # one batch of every event: caught up with >= 3 new ones
    first = Timeline(ledger.engine).max_position()
    assert first >= 3 and refreshed == [first]
    ledger.handle(MoveOut(citizen_ref="A", effective_date=date(2026, 6, 30), kind="moved"), CASEWORKER)
    projector.catch_up()  # one more event: less than STATISTICS_EVERY since
    assert refreshed == [first]
    for ref in ("D", "E", "F"):
        record(ledger, ref)
    projector.catch_up()
    assert refreshed == [first, Timeline(ledger.engine).max_position()]
    projector.close()


def test_the_position_at_an_instant_is_the_last_recorded_up_to_it(ledger):
    """Two index seeks (the latest time up to the instant, then its last position) give what
    scanning every entry gives, at each recorded time, just before and just after it."""
    for ref in ("A", "B", "C"):
        record(ledger, ref)
    ledger.handle(MoveOut(citizen_ref="A", effective_date=date(2026, 6, 30), kind="moved"), CASEWORKER)
    with ledger.engine.connect() as connection:
        entries = [(row.position, utc(row.recorded_at if not isinstance(row.recorded_at, str)
                                      else datetime.fromisoformat(row.recorded_at)))
                   for row in connection.execute(text("SELECT position, recorded_at FROM ledger_entries"))]
    timeline = Timeline(ledger.engine)
    assert [t for _, t in sorted(entries)] == sorted(t for _, t in entries)  # times never decrease along positions
    tick = timedelta(microseconds=1)
    for _, moment in entries:
        for instant in (moment - tick, moment, moment + tick):
            assert timeline.position_at(instant) == max((p for p, t in entries if t <= instant), default=0)
            assert timeline.position_before(instant) == max((p for p, t in entries if t < instant), default=0)
    first = min(t for _, t in entries)
    assert timeline.position_at(first - timedelta(days=1)) == 0 and timeline.position_before(first) == 0


def test_a_failed_refresh_of_the_statistics_leaves_the_projection_whole(ledger, monkeypatch, caplog):
    """Vacuuming is maintenance: when the store refuses it, the rebuild still ends with every
    row a rebuild writes, and says so in the log."""
    import service.projection as projection

    record(ledger)
    Projector(ledger.settings).rebuild()
    expected = dump(ledger)
    projector = Projector(ledger.settings, batch_size=1)

    def refuse(view):  # type: ignore[no-untyped-def]
        raise RuntimeError("must be owner of table rm_facility_years")

    monkeypatch.setattr(type(projector.view), "refresh_statistics", refuse)
    monkeypatch.setattr(projection, "STATISTICS_EVERY", 1)
    projector.rebuild()
    assert dump(ledger) == expected and projector.tracked() == Timeline(ledger.engine).max_position()
    assert "could not refresh the store's statistics" in caplog.text
    projector.close()

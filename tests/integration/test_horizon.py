"""The horizon (docs/adr/0040): year rows are kept up to the latest year a schedule or frame
reaches, never past the year after the latest recording, and no longer than what reached it
stays in force. A schedule for a far year writes no rows; retracting what reached the latest
year drops its rows, and the year is then read from the stay rows, priced as the rows were."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from service.commands.declarations import (
    ChangePayingMunicipality,
    GrantSpecialTariff,
    MoveIn,
    MoveOut,
    PublishSchedule,
    Reassess,
    RegisterFacility,
    Retract,
    SetFrameBudget,
)
from service.db import ledger_entries, rm_facility_years, rm_facts, rm_statement_lines, rm_stays, utc
from service.ledger import Actor, BudgetLedger, Timeline
from service.projection import Projector
from service.read_models import BudgetReads, StatementReads
from tests.factories import SPECIAL_TARIFFS, frame_body, levels
from tests.integration.test_projection_properties import dump, figures
from tests.reference import reference_facility_year, reference_statement_lines

FINANCE, CASEWORKER = Actor("finance-tester", "finance"), Actor("caseworker-tester", "caseworker")
ADMIN = Actor("admin-tester", "admin")
TABLES = (rm_facility_years, rm_statement_lines, rm_facts, rm_stays)


def recorded_year(ledger: BudgetLedger) -> int:
    """The year of the latest recording: the horizon's cap is the year after it."""
    with ledger.engine.connect() as connection:
        return utc(connection.execute(select(func.max(ledger_entries.c.recorded_at))).scalar_one()).year


def start(ledger: BudgetLedger, years: tuple[int, ...]) -> int:
    """A facility, schedules for `years` and an open stay paid by 751 (on statements) from
    March of the first; the year of the latest recording."""
    ledger.handle(RegisterFacility(code="F1", name="Bo", kind="botilbud", area="Grenaa", places=10,
                                   effective_date=date(2026, 1, 1)), FINANCE)
    for year in years:
        publish(ledger, year)
    ledger.handle(MoveIn(citizen_ref="A", facility="F1", effective_date=date(2026, 3, 1), paying_municipality="751",
                         assessment={"hours_per_day": "3"}), CASEWORKER)
    return recorded_year(ledger)


def publish(ledger: BudgetLedger, year: int) -> str:
    result = ledger.handle(PublishSchedule(year=year, levels=levels(), special_tariffs=SPECIAL_TARIFFS,
                                           hourly_rate="420.00", runoff_months=1), FINANCE)
    return result.body["event_ids"][0]  # type: ignore[no-any-return]


def frame(ledger: BudgetLedger, year: int) -> str:
    body = frame_body()
    result = ledger.handle(SetFrameBudget(code="F1", year=year, budgeted_places=8, planned_occupancy_pct="95",
                                          lines=body["lines"], reason="b"), FINANCE)
    return result.body["event_ids"][0]  # type: ignore[no-any-return]


def retract(ledger: BudgetLedger, event_id: str) -> None:
    ledger.handle(Retract(event_id=event_id, reason="wrong year"), ADMIN)


def written_since(ledger: BudgetLedger, position: int) -> dict[str, int]:
    """The row versions each read-model table got after `position`."""
    with ledger.engine.connect() as connection:
        return {table.name: connection.execute(select(func.count()).select_from(table)
                                               .where(table.c.recorded_from > position)).scalar_one()
                for table in TABLES}


def open_years(ledger: BudgetLedger) -> set[int]:
    """The years of the year rows and statement lines in force now."""
    with ledger.engine.connect() as connection:
        return {row.year for table in (rm_facility_years, rm_statement_lines)
                for row in connection.execute(select(table.c.year).where(table.c.recorded_to.is_(None)))}


def reassess(ledger: BudgetLedger, hours: str) -> None:
    ledger.handle(Reassess(citizen_ref="A", effective_date=date(2026, 5, 1), assessment={"hours_per_day": hours},
                           reason="test"), CASEWORKER)


def test_a_schedule_for_a_far_year_makes_citizen_events_write_no_more_rows(ledger):
    this_year = start(ledger, (2026, 2027))
    cap = this_year + 1
    projector = Projector(ledger.settings, batch_size=1)
    reads, timeline = BudgetReads(ledger), Timeline(ledger.engine)
    reassess(ledger, "6")
    before = timeline.max_position() - 1
    projector.catch_up()
    without = written_since(ledger, before)
    publish(ledger, 2099)
    frame(ledger, 2099)
    projector.catch_up()
    assert reads.horizon(timeline.max_position()) == min(2099, cap)
    reassess(ledger, "9")  # the same months change as with "6" above
    before = timeline.max_position() - 1
    projector.catch_up()
    assert written_since(ledger, before) == without
    assert max(open_years(ledger)) == max(2027, cap)  # nothing of the years up to 2099


def test_retracting_the_schedule_that_reached_the_latest_year_lowers_the_horizon(ledger):
    cap = start(ledger, (2026,)) + 1  # the stay's first year: never after the recording's
    projector = Projector(ledger.settings, batch_size=1)
    reads, statements, timeline = BudgetReads(ledger), StatementReads(ledger), Timeline(ledger.engine)
    projector.catch_up()
    assert reads.horizon(timeline.max_position()) == 2026
    far = publish(ledger, 2099)
    far_frame = frame(ledger, 2099)
    projector.catch_up()
    raised = timeline.max_position()
    assert reads.horizon(raised) == cap and cap in open_years(ledger)  # the open stay's months of the cap year
    retract(ledger, far)
    projector.catch_up()
    assert reads.horizon(timeline.max_position()) == cap  # the frame still reaches 2099
    retract(ledger, far_frame)
    projector.catch_up()
    lowered = timeline.max_position()
    assert reads.horizon(lowered) == 2026
    assert cap not in open_years(ledger)  # its rows closed: the year is read beyond the horizon
    for position in (raised, lowered):
        for year in (2026, cap, 2099):
            assert figures(reads.facility_year("F1", year, position)) == \
                figures(reference_facility_year(ledger, "F1", year, position)), (position, year)
        assert sorted(statements.lines("751", cap, 2, position), key=str) == \
            sorted(reference_statement_lines(ledger, "751", cap, 2, position), key=str)
    followed = dump(ledger)
    Projector(ledger.settings).rebuild()
    assert dump(ledger) == followed


def test_a_year_beyond_the_horizon_is_priced_by_its_schedule_and_funded_by_its_frame(ledger):
    cap = start(ledger, (2026,)) + 1
    far = cap + 1
    publish(ledger, far)
    frame(ledger, far)
    ledger.handle(PublishSchedule(year=far, levels=levels(factor=Decimal("1.05")), special_tariffs=SPECIAL_TARIFFS,
                                  hourly_rate="430.00", runoff_months=2), FINANCE)
    Projector(ledger.settings).catch_up()
    reads, position = BudgetReads(ledger), Timeline(ledger.engine).max_position()
    assert reads.horizon(position) == cap < far
    found = reads.facility_year("F1", far, position)
    assert figures(found) == figures(reference_facility_year(ledger, "F1", far, position))
    assert found.hourly_rate == 430 and found.basistakst > 0 and found.totals().activity > 0 and not found.warnings



def test_one_window_followed_through_a_year_beyond_the_horizon_reads_as_each_position_alone(ledger):
    """Explain follows a facility's open tail through its versions, taking away and adding
    only the groups that changed (`YearWindow._beyond_horizon_months`): at every position of
    the window, in order and after a step back, the figures are those of a read of that
    position alone. The citizens move in, are reassessed, get a special tariff, change payer,
    move out and have a move-in retracted while the year is beyond the horizon."""
    cap = start(ledger, (2026,)) + 1
    far = cap + 1
    publish(ledger, far)
    first = Timeline(ledger.engine).max_position()
    for ref, hours in (("B", "2"), ("C", "5"), ("D", "9")):
        ledger.handle(MoveIn(citizen_ref=ref, facility="F1", effective_date=date(2026, 4, 1),
                             paying_municipality="707", assessment={"hours_per_day": hours}), CASEWORKER)
    for ref, hours in (("A", "6"), ("B", "7"), ("A", "3")):
        ledger.handle(Reassess(citizen_ref=ref, effective_date=date(2026, 6, 1), assessment={"hours_per_day": hours},
                               reason="test"), CASEWORKER)
    ledger.handle(GrantSpecialTariff(citizen_ref="C", effective_date=date(2026, 7, 1), code="S1",
                                     daily_rate="2500.00", reason="test"), CASEWORKER)
    ledger.handle(ChangePayingMunicipality(citizen_ref="D", effective_date=date(2026, 8, 1),
                                           paying_municipality="751"), CASEWORKER)
    ledger.handle(MoveOut(citizen_ref="B", effective_date=date(far, 3, 15), kind="moved"), CASEWORKER)
    moved_in = ledger.handle(MoveIn(citizen_ref="E", facility="F1", effective_date=date(2026, 9, 1),
                                    paying_municipality="707", assessment={"hours_per_day": "4"}), CASEWORKER)
    retract(ledger, moved_in.body["event_ids"][0])
    Projector(ledger.settings).catch_up()
    reads, last = BudgetReads(ledger), Timeline(ledger.engine).max_position()
    assert reads.horizon(last) == cap < far
    window = reads.window(far, first, last, ["F1"])
    for position in [*range(first, last + 1), first + 2, last]:
        assert figures(window.figures("F1", position)) == figures(reads.facility_year("F1", far, position)), position

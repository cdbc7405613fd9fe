"""A citizen's assessments with what changed from one to the next (projections/assessments.py),
from the domain's own citizen: same-day assessments, retractions, stays and migrated hours."""

from datetime import date
from decimal import Decimal

import pytest

from domain.citizen import Citizen, Classification, SpecialTariff
from domain.tariff_schedule import TariffSchedule
from projections.assessments import assessment_history
from projections.stays import StayRecord
from tests.factories import SPECIAL_TARIFFS, levels, meta


@pytest.fixture
def schedule():
    return TariffSchedule.publish_first(2026, levels(), SPECIAL_TARIFFS, "420.00", 1, meta("2026-01-01"))


def skema(*cells):
    return {"entries": [{"theme": t, "slot": s, "kind": k, "minutes": m} for t, s, k, m in cells]}


def records(citizen):
    """The stays as their rows hold them (projections/stays.py `StayRecord`)."""
    return [StayRecord.of(stay) for stay in citizen.active_stays]


def recorded(citizen):
    return {e.meta.event_id: e.assessment for e in citizen.collect_events() if hasattr(e, "assessment")}


def test_same_day_assessments_count_the_last_recorded_and_retracted_ones_not_at_all(schedule):
    first = skema(("egenomsorg", "morning", "direct", 120), ("egenomsorg", "morning", "direct", 30))
    citizen = Citizen.first_move_in("A", "GRENAA-BO", "707", Classification.of(first, schedule), meta("2026-03-01"))
    replaced = meta("2026-04-01")
    citizen.reassess(Classification.of(skema(("mobilitet", "night", "direct", 60)), schedule), replaced)
    citizen.reassess(Classification.of(skema(("egenomsorg", "morning", "direct", 150),
                                             ("mobilitet", "night", "indirect", 240)), schedule), meta("2026-04-01"))
    wrong = meta("2026-05-01")
    citizen.reassess(Classification.of({"hours_per_day": "1"}, schedule), wrong)
    citizen.retract(wrong.event_id, meta("2026-05-01", reason="Forkert"))
    history = assessment_history(records(citizen), recorded(citizen))
    assert [(a.effective_date, a.hours_per_day, a.level) for a in history] == [
        (date(2026, 3, 1), Decimal("2.50"), 2), (date(2026, 4, 1), Decimal("6.50"), 4)]
    assert history[0].minutes() == {("egenomsorg", "morning", "direct"): 150} and history[0].change is None
    change = history[1].change
    assert change.previous_event_id == history[0].event_id and change.cells_compared
    assert [(c.cell, c.change) for c in change.cells] == [(("mobilitet", "night", "indirect"), "added")]
    assert change.hours_difference == Decimal("4.00") and (change.level_before, change.level_after) == (2, 4)


def test_each_stay_starts_afresh_and_migrated_hours_compare_only_hours_and_level(schedule):
    citizen = Citizen.first_move_in("A", "GRENAA-BO", "707", Classification.of({"hours_per_day": "3"}, schedule),
                                    meta("2026-01-01"))
    citizen.reassess(Classification.of(skema(("relationer", "evening", "direct", 1200)), schedule),
                     meta("2026-02-01"), SpecialTariff.of("S2", "7000.00", schedule), meta("2026-02-01", "Nat"))
    citizen.move_out("transferred", meta("2026-06-30"))
    citizen.move_in("AUNING-BO", "707", Classification.of(skema(("relationer", "evening", "direct", 60)), schedule),
                    meta("2026-07-01"))
    history = assessment_history(records(citizen), recorded(citizen))
    assert [(a.facility, a.level, a.special_tariff, a.is_døgnskema) for a in history] == [
        ("GRENAA-BO", 2, None, False), ("GRENAA-BO", None, "S2", True), ("AUNING-BO", 1, None, True)]
    assert not history[1].change.cells_compared and history[1].change.cells == ()
    assert (history[1].change.level_before, history[1].change.level_after) == (2, None)
    assert history[2].change is None  # a new stay: nothing before it in that stay

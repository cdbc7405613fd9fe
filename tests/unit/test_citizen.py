from datetime import date
from decimal import Decimal

import pytest

from domain.citizen import Citizen, Classification, SpecialTariff
from domain.errors import InvalidValue, RuleViolation
from domain.tariff_schedule import TariffSchedule
from tests.factories import SPECIAL_TARIFFS, døgnskema, levels, meta


@pytest.fixture
def schedule():
    return TariffSchedule.publish_first(2026, levels(), SPECIAL_TARIFFS, "420.00", 1, meta("2026-01-01"))


def hours(h, schedule):
    return Classification.of({"hours_per_day": h}, schedule)


def moved_in(schedule, day="2026-03-10", h="4.5", payer="707"):
    return Citizen.first_move_in("A", "GRENAA-BO", payer, hours(h, schedule), meta(day))


def ids(citizen):
    return [e.meta.event_id for e in citizen.collect_events()]


def test_move_in_stores_the_classified_level_and_hours(schedule):
    citizen = Citizen.first_move_in("A", "GRENAA-BO", "707", Classification.of(døgnskema(270), schedule), meta("2026-03-10"))
    [event] = citizen.collect_events()
    assert type(event).type_name == "CitizenMovedIn"
    assert (event.level, event.hours_per_day, event.facility) == (3, Decimal("4.50"), "GRENAA-BO")
    assert event.assessment["entries"][0]["minutes"] == 135
    assert citizen.open_stay.move_in == date(2026, 3, 10)


def test_a_second_move_in_while_a_stay_is_open_is_refused(schedule):
    citizen = moved_in(schedule)
    with pytest.raises(RuleViolation) as error:
        citizen.move_in("AUNING-BO", "707", hours("2", schedule), meta("2026-05-01"))
    assert error.value.rule == "open_stay_exists"


def test_stays_never_overlap(schedule):
    citizen = moved_in(schedule)
    citizen.move_out("transferred", meta("2026-08-20"))
    with pytest.raises(RuleViolation) as error:
        citizen.move_in("AUNING-BO", "707", hours("2", schedule), meta("2026-08-20"))
    assert error.value.rule == "stays_overlap"
    citizen.move_in("AUNING-BO", "707", hours("2", schedule), meta("2026-08-21"))
    assert [s.facility for s in citizen.active_stays] == ["GRENAA-BO", "AUNING-BO"]
    assert type(citizen.collect_events()[-1]).type_name == "CitizenMovedIn"


def test_events_outside_every_stay_are_refused(schedule):
    citizen = moved_in(schedule)
    with pytest.raises(RuleViolation) as error:
        citizen.reassess(hours("6.5", schedule), meta("2026-03-09"))
    assert error.value.rule == "outside_stay"
    citizen.move_out("moved", meta("2026-08-20"))
    for act in (
        lambda: citizen.reassess(hours("6.5", schedule), meta("2026-08-21")),
        lambda: citizen.change_paying_municipality("751", meta("2026-09-01")),
        lambda: citizen.grant_special_tariff(SpecialTariff("S1", Decimal("7000.00")), meta("2026-09-01", reason="x")),
    ):
        with pytest.raises(RuleViolation) as error:
            act()
        assert error.value.rule == "outside_stay"


def test_a_retroactive_reassessment_within_a_closed_stay_is_accepted(schedule):
    citizen = moved_in(schedule)
    citizen.reassess(hours("6.5", schedule), meta("2026-05-16"))
    citizen.move_out("moved", meta("2026-08-20"))
    citizen.reassess(hours("8.25", schedule), meta("2026-04-01"))
    stay = citizen.active_stays[0]
    assert [(d, c.level) for d, c in stay.conditions()] == [
        (date(2026, 3, 10), 3), (date(2026, 4, 1), 5), (date(2026, 5, 16), 4)]
    assert stay.condition_on(date(2026, 8, 20)).level == 4


def test_move_out_is_on_or_after_every_event_of_the_stay(schedule):
    citizen = moved_in(schedule)
    citizen.reassess(hours("6.5", schedule), meta("2026-05-16"))
    with pytest.raises(RuleViolation) as error:
        citizen.move_out("moved", meta("2026-05-15"))
    assert error.value.rule == "move_out_before_stay_events"
    citizen.move_out("deceased", meta("2026-05-16"))
    assert citizen.active_stays[0].move_out_kind == "deceased"
    with pytest.raises(RuleViolation) as error:
        citizen.move_out("moved", meta("2026-06-01"))
    assert error.value.rule == "no_open_stay"
    with pytest.raises(InvalidValue):
        moved_in(schedule).move_out("vanished", meta("2026-06-01"))


def test_level_8_and_above_needs_a_special_tariff(schedule):
    with pytest.raises(RuleViolation) as error:
        moved_in(schedule, h="18")
    assert error.value.rule == "level_8_needs_special_tariff"
    citizen = Citizen.first_move_in("A", "GRENAA-BO", "707", hours("19", schedule), meta("2026-03-10"),
                                    SpecialTariff("S1", Decimal("7500.00")), meta("2026-03-10", reason="særlige behov"))
    assert [type(e).__name__ for e in citizen.collect_events()] == ["FirstMovedIn", "SpecialTariffGranted"]
    condition = citizen.open_stay.condition_on(date(2026, 3, 10))
    assert (condition.level, condition.special_tariff, condition.special_rate) == (None, "S1", Decimal("7500.00"))


def test_a_reassessment_above_level_8_keeps_a_special_tariff_in_force(schedule):
    citizen = moved_in(schedule)
    with pytest.raises(RuleViolation):
        citizen.reassess(hours("20", schedule), meta("2026-04-01"))
    citizen.grant_special_tariff(SpecialTariff("S2", Decimal("8000.00")), meta("2026-04-01", reason="behov"))
    citizen.reassess(hours("20", schedule), meta("2026-05-01"))
    assert citizen.open_stay.condition_on(date(2026, 5, 1)).special_tariff == "S2"


def test_a_reassessment_that_lands_on_a_level_ends_the_special_tariff(schedule):
    citizen = moved_in(schedule)
    citizen.grant_special_tariff(SpecialTariff("S1", Decimal("7000.00")), meta("2026-04-01", reason="behov"))
    citizen.reassess(hours("3", schedule), meta("2026-06-01"))
    stay = citizen.open_stay
    assert stay.condition_on(date(2026, 5, 1)).special_tariff == "S1"
    assert (stay.condition_on(date(2026, 6, 1)).special_tariff, stay.condition_on(date(2026, 6, 1)).level) == (None, 2)


def test_a_retroactive_reassessment_above_level_8_before_the_special_tariff_is_refused(schedule):
    citizen = moved_in(schedule)
    citizen.grant_special_tariff(SpecialTariff("S1", Decimal("7000.00")), meta("2026-05-01", reason="behov"))
    with pytest.raises(RuleViolation) as error:
        citizen.reassess(hours("20", schedule), meta("2026-04-01"))
    assert error.value.rule == "level_8_needs_special_tariff"


def test_special_tariff_needs_a_reason_and_a_code_of_the_schedule(schedule):
    citizen = moved_in(schedule)
    with pytest.raises(InvalidValue) as error:
        citizen.grant_special_tariff(SpecialTariff("S1", Decimal("7000.00")), meta("2026-04-01"))
    assert error.value.rule == "reason_required"
    with pytest.raises(InvalidValue):
        SpecialTariff.of("S3", "7000.00", schedule)
    with pytest.raises(InvalidValue):
        SpecialTariff.of("S1", "0.00", schedule)
    only_s1 = TariffSchedule.publish_first(2027, levels(), SPECIAL_TARIFFS[:1], "420.00", 1, meta("2027-01-01"))
    with pytest.raises(RuleViolation) as error:
        SpecialTariff.of("S2", "7000.00", only_s1)
    assert error.value.rule == "special_tariff_not_in_schedule"


def test_same_day_events_recorded_last_win(schedule):
    citizen = moved_in(schedule)
    citizen.reassess(hours("6.5", schedule), meta("2026-05-01"))
    citizen.reassess(hours("2.5", schedule), meta("2026-05-01"))
    assert citizen.open_stay.condition_on(date(2026, 5, 1)).level == 2


def test_paying_municipality_changes_within_the_stay(schedule):
    citizen = moved_in(schedule, payer="707")
    citizen.change_paying_municipality("751", meta("2026-06-01"))
    stay = citizen.open_stay
    assert stay.condition_on(date(2026, 5, 31)).paying_municipality == "707"
    assert stay.condition_on(date(2026, 6, 1)).paying_municipality == "751"
    with pytest.raises(InvalidValue):
        citizen.change_paying_municipality("75", meta("2026-06-01"))


def test_a_move_in_is_retracted_only_after_every_later_event_of_its_stay(schedule):
    citizen = moved_in(schedule)
    citizen.reassess(hours("6.5", schedule), meta("2026-05-16"))
    move_in, reassessment = ids(citizen)
    with pytest.raises(RuleViolation) as error:
        citizen.retract(move_in, meta("2026-03-10", reason="wrong citizen"))
    assert error.value.rule == "retract_later_events_first"
    citizen.retract(reassessment, meta("2026-05-16", reason="wrong citizen"))
    citizen.retract(move_in, meta("2026-03-10", reason="wrong citizen"))
    assert citizen.active_stays == [] and citizen.open_stay is None
    citizen.move_in("GRENAA-BO", "707", hours("2", schedule), meta("2026-03-01"))
    assert citizen.open_stay.move_in == date(2026, 3, 1)


def test_retracting_a_move_out_reopens_the_stay_unless_a_later_stay_follows(schedule):
    citizen = moved_in(schedule)
    citizen.move_out("moved", meta("2026-08-20"))
    move_out = ids(citizen)[-1]
    citizen.retract(move_out, meta("2026-08-20", reason="did not move"))
    assert citizen.open_stay is not None
    citizen.move_out("moved", meta("2026-08-25"))
    second_out = ids(citizen)[-1]
    citizen.move_in("AUNING-BO", "707", hours("2", schedule), meta("2026-09-01"))
    with pytest.raises(RuleViolation) as error:
        citizen.retract(second_out, meta("2026-08-25", reason="x"))
    assert error.value.rule == "stays_overlap"


def test_a_retraction_that_would_leave_a_day_without_a_rate_is_refused(schedule):
    citizen = Citizen.first_move_in("A", "GRENAA-BO", "707", hours("19", schedule), meta("2026-03-10"),
                                    SpecialTariff("S1", Decimal("7500.00")), meta("2026-03-10", reason="behov"))
    _, grant = ids(citizen)
    with pytest.raises(RuleViolation) as error:
        citizen.retract(grant, meta("2026-03-10", reason="x"))
    assert error.value.rule == "level_8_needs_special_tariff"


def test_retracting_a_reassessment_restores_the_earlier_level(schedule):
    citizen = moved_in(schedule)
    citizen.reassess(hours("8.25", schedule), meta("2026-04-01"))
    reassessment = ids(citizen)[-1]
    citizen.retract(reassessment, meta("2026-04-01", reason="wrong døgnskema"))
    assert citizen.open_stay.condition_on(date(2026, 4, 2)).level == 3
    events = citizen.collect_events()
    assert type(events[-1]).__name__ == "EntryRetracted" and events[-1].retracted_event_id == reassessment


def test_unknown_event_ids_are_not_found(schedule):
    from domain.errors import NotFound

    with pytest.raises(NotFound):
        moved_in(schedule).retract("nope", meta("2026-03-10", reason="x"))


def test_state_rebuilds_from_its_events(schedule):
    citizen = moved_in(schedule)
    citizen.reassess(hours("6.5", schedule), meta("2026-05-16"))
    citizen.move_out("moved", meta("2026-08-20"))
    copy = None
    for event in citizen.collect_events():
        copy = event.mutate(copy)
    assert [(d, c.level) for d, c in copy.active_stays[0].conditions()] == [
        (date(2026, 3, 10), 3), (date(2026, 5, 16), 4)]
    assert copy.active_stays[0].move_out == date(2026, 8, 20)

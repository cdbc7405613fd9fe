from datetime import date
from decimal import Decimal

import pytest

from domain.errors import InvalidValue, RuleViolation
from domain.tariff_schedule import TariffSchedule
from tests.factories import SPECIAL_TARIFFS, levels, meta


def publish(year=2026, lvls=None, hourly="420.00", runoff=1):
    return TariffSchedule.publish_first(year, lvls or levels(), SPECIAL_TARIFFS, hourly, runoff, meta(f"{year}-01-01"))


def test_publishing_records_the_schedule_event():
    schedule = publish()
    events = schedule.collect_events()
    assert [type(e).type_name for e in events] == ["TariffSchedulePublished"]
    assert events[0].levels[2]["daily_rate"] == Decimal("2000.00")
    assert schedule.hourly_rate == Decimal("420.00") and schedule.runoff_months == 1


@pytest.mark.parametrize("minutes,level", [(0, 1), (119, 1), (120, 2), (270, 3), (390, 4), (495, 5), (1079, 8)])
def test_classification_uses_half_open_spans(minutes, level):
    assert publish().classify(Decimal(minutes)) == level


def test_at_or_above_level_8_max_there_is_no_level():
    assert publish().classify(Decimal(18 * 60)) is None


def test_levels_must_be_contiguous_without_gaps():
    lvls = levels()
    lvls[3]["min_hours"] = "6.5"
    with pytest.raises(InvalidValue) as error:
        publish(lvls=lvls)
    assert error.value.rule == "levels_gap"


def test_levels_must_not_overlap():
    lvls = levels()
    lvls[3]["min_hours"] = "5"
    with pytest.raises(InvalidValue) as error:
        publish(lvls=lvls)
    assert error.value.rule == "levels_overlap"


def test_levels_start_at_zero_and_number_one_to_eight():
    lvls = levels()
    lvls[0]["min_hours"] = "1"
    with pytest.raises(InvalidValue) as error:
        publish(lvls=lvls)
    assert error.value.rule == "starts_at_zero"
    with pytest.raises(InvalidValue):
        publish(lvls=levels()[:7])
    lvls = levels()
    lvls[7]["level"] = 7
    with pytest.raises(InvalidValue):
        publish(lvls=lvls)


def test_rates_must_be_positive():
    lvls = levels()
    lvls[0]["daily_rate"] = "0.00"
    with pytest.raises(InvalidValue) as error:
        publish(lvls=lvls)
    assert error.value.rule == "must_be_positive"
    with pytest.raises(InvalidValue):
        publish(hourly="-1.00")


def test_revision_applies_from_its_effective_date_latest_recorded_wins():
    schedule = publish()
    schedule.revise(3, "2100.00", meta("2026-07-01"))
    schedule.revise(3, "2200.00", meta("2026-07-01"))
    assert schedule.rate_on(3, date(2026, 6, 30)) == Decimal("2000.00")
    assert schedule.rate_on(3, date(2026, 7, 1)) == Decimal("2200.00")
    assert schedule.rate_on(4, date(2026, 7, 1)) == Decimal("2700.00")
    assert [type(e).__name__ for e in schedule.collect_events()][-1] == "TariffRateRevised"


def test_revision_must_fall_within_the_year():
    with pytest.raises(InvalidValue) as error:
        publish().revise(3, "2100.00", meta("2027-01-01"))
    assert error.value.rule == "date_outside_year"


def test_publishing_again_replaces_schedule_and_earlier_revisions():
    schedule = publish()
    schedule.revise(3, "2100.00", meta("2026-07-01"))
    schedule.publish_again(levels(factor=Decimal(2)), SPECIAL_TARIFFS, "500.00", 1, meta("2026-01-01"))
    assert schedule.rate_on(3, date(2026, 8, 1)) == Decimal("4000.00")
    assert schedule.active_revisions() == []
    assert type(schedule.collect_events()[-1]).type_name == "TariffSchedulePublished"


def test_retracting_the_republication_restores_the_earlier_schedule_and_revisions():
    schedule = publish()
    schedule.revise(3, "2100.00", meta("2026-07-01"))
    schedule.publish_again(levels(factor=Decimal(2)), SPECIAL_TARIFFS, "500.00", 1, meta("2026-01-01"))
    republished = schedule.collect_events()[-1].meta.event_id
    schedule.retract(republished, meta("2026-01-01", reason="published by mistake"))
    assert schedule.rate_on(3, date(2026, 8, 1)) == Decimal("2100.00")


def test_revising_a_retracted_schedule_is_refused():
    schedule = publish()
    first = schedule.collect_events()[0].meta.event_id
    schedule.retract(first, meta("2026-01-01", reason="wrong year"))
    with pytest.raises(RuleViolation) as error:
        schedule.revise(3, "2100.00", meta("2026-07-01"))
    assert error.value.rule == "no_tariff_schedule"

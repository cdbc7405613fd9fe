"""The rates fact holds what prices a day beyond the horizon (docs/adr/0040): a level's rate on
a day found from the fact is the schedule's own `rate_on`, revisions and republications
counted, and its revision days are those of the revisions in force."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from domain.tariff_schedule import TariffSchedule
from projections.projector import canonical, rates_fact
from service.facts import RatesFact, rates_of
from tests.factories import SPECIAL_TARIFFS, levels, meta


def fact_of(schedule: TariffSchedule) -> RatesFact:
    return RatesFact.of(schedule.year, json.loads(canonical(rates_fact(schedule))))  # as stored and read


def same_rates(schedule: TariffSchedule) -> None:
    fact = fact_of(schedule)
    days = [date(2027, 1, 1) + timedelta(days=n) for n in range(0, 365, 3)] + [date(2027, 3, 15), date(2027, 6, 30)]
    for level in range(1, 9):
        for day in days:
            assert fact.rate_on(level, day) == schedule.rate_on(level, day), (level, day)
    assert sorted(fact.revision_days()) == sorted(r["effective_date"] for r in schedule.active_revisions())


def test_rates_from_the_fact_are_the_schedules_own_with_revisions_and_republications():
    schedule = TariffSchedule.publish_first(2027, levels(), SPECIAL_TARIFFS, "432.60", 2, meta("2027-01-01"))
    same_rates(schedule)
    schedule.revise(3, "3100.00", meta("2027-03-15"))
    schedule.revise(3, "3200.00", meta("2027-03-15"))  # the same day, recorded later: it counts
    schedule.revise(3, "2900.00", meta("2027-02-01"))  # earlier effective, recorded later
    schedule.revise(5, "5100.50", meta("2027-06-30"))
    same_rates(schedule)
    schedule.publish_again(levels(factor=Decimal("1.1")), SPECIAL_TARIFFS, "440.00", 0, meta("2027-01-01"))
    same_rates(schedule)  # the revisions before the publication in force are replaced
    schedule.revise(1, "1000.00", meta("2027-09-01"))
    same_rates(schedule)


def test_no_schedule_and_another_years_day_have_no_rate():
    schedule = TariffSchedule.publish_first(2027, levels(), SPECIAL_TARIFFS, "432.60", 1, meta("2027-01-01"))
    assert rates_of(None)(1, date(2027, 5, 1)) is None
    assert rates_of(fact_of(schedule))(1, date(2028, 1, 1)) is None
    assert rates_of(fact_of(schedule))(1, date(2027, 5, 1)) == schedule.rate_on(1, date(2027, 5, 1))

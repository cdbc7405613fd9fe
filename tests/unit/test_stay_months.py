"""`stay_months` against a day-by-day oracle (domain §4.3-4.6), and the edge cases of the key
figures: leap years, mid-month changes, run-off, years without a schedule or a frame."""

from __future__ import annotations

import calendar
from dataclasses import asdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from domain.citizen import Condition
from domain.facility import places_in_force
from projections.budget import (
    FIGURES, BudgetMonth, StayFacts, assemble_year, average_support_hours, capacity_days, facility_year,
    occupancy_pct, sold_income, stay_months,
)

RATES = {1: "600.00", 2: "1250.00", 3: "2000.00", 4: "2700.00",
         5: "3400.00", 6: "4100.00", 7: "4800.00", 8: "5600.00"}
YEAR_FACTOR = {2025: Decimal("0.97"), 2026: Decimal("1"), 2027: Decimal("1.03")}  # no schedule for 2028
REVISION = date(2026, 6, 15)  # TariffRateRevised: level 2 costs 1300.00 from here to the end of 2026
SPECIAL = {"S1": Decimal("6500.00"), "S2": Decimal("7250.50")}
END = date(2028, 12, 31)
NORDDJURS, AARHUS = "707", "751"


def rate_of(level: int, day: date) -> Decimal | None:
    if day.year not in YEAR_FACTOR:
        return None
    if level == 2 and REVISION <= day <= date(2026, 12, 31):
        return Decimal("1300.00")
    return (Decimal(RATES[level]) * YEAR_FACTOR[day.year]).quantize(Decimal("0.01"))


def cond(level: int | None, payer: str = NORDDJURS, hours: str = "4.50", special: str | None = None) -> Condition:
    return Condition(level, Decimal(hours), special, SPECIAL.get(special or ""), payer)


def last_of_month(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


# The oracle: every day, one at a time --------------------------------------------------------


def oracle(stay: StayFacts, rate_of, until: date) -> dict:
    def in_force(day: date) -> Condition:  # latest effective; on one day, the last listed
        return [c for start, c in sorted(stay.conditions, key=lambda sc: sc[0]) if start <= day][-1]

    last = until
    if stay.move_out is not None:
        index = stay.move_out.year * 12 + stay.move_out.month - 1 + stay.runoff_months
        last = min(until, last_of_month(index // 12, index % 12 + 1))
    months: dict = {}
    day = stay.move_in
    while day <= last:
        present = stay.move_out is None or day <= stay.move_out
        c = in_force(day if present else stay.move_out)
        rate = c.special_rate if c.special_tariff else rate_of(c.level, day)
        m = months.setdefault((day.year, day.month), {figure.name: 0 for figure in FIGURES} | {"level_at_end": None})
        m["activity"] += rate or 0
        m["funded_days"] += 1
        m["unpriced_days"] += rate is None
        if present:
            m["present_days"] += 1
            m["present_service"] += rate or 0
            m["support_hours"] += c.hours_per_day
            if c.paying_municipality != NORDDJURS:
                m["sold_days"] += 1
                m["sold_service"] += rate or 0
        day += timedelta(days=1)
    for (year, month), m in months.items():
        end = last_of_month(year, month)
        if stay.move_out is None or end <= stay.move_out:
            c = in_force(end)
            m["level_at_end"] = c.special_tariff or str(c.level)
    return months


def computed(stay: StayFacts, until: date = END) -> dict:
    return {k: asdict(v) for k, v in stay_months(stay, rate_of, [REVISION], until=until).items()}


EDGE_DAYS = [date(2025, 12, 31), date(2026, 1, 1), date(2026, 2, 28), date(2026, 6, 14), REVISION,
             date(2026, 12, 31), date(2027, 1, 1), date(2027, 12, 31)]
some_day = st.one_of(st.dates(date(2025, 1, 1), date(2027, 12, 31)), st.sampled_from(EDGE_DAYS))
conditions = st.builds(
    lambda kind, level, payer, hours: cond(level if kind is None else None if level == 8 else level,
                                           payer, hours, kind),
    st.sampled_from([None, None, "S1", "S2"]), st.integers(1, 8), st.sampled_from([NORDDJURS, AARHUS]),
    st.decimals(Decimal(0), Decimal("17.99"), places=2).map(str))


@st.composite
def stays(draw) -> StayFacts:
    move_in = draw(some_day)
    move_out = draw(st.one_of(st.none(), st.dates(move_in, END), st.sampled_from(EDGE_DAYS).filter(
        lambda d: d >= move_in)))
    starts = {move_in} | set(draw(st.lists(st.dates(move_in, move_out or END), max_size=3)))
    return StayFacts("C", move_in, move_out, tuple((d, draw(conditions)) for d in sorted(starts)),
                     runoff_months=draw(st.integers(0, 2)))


@settings(max_examples=200, deadline=None)
@given(stays())
def test_stay_months_equal_a_day_by_day_count(stay):
    assert computed(stay) == oracle(stay, rate_of, END)


# Named rules ---------------------------------------------------------------------------------


def test_february_of_a_leap_year_has_29_days_and_a_2028_year_stay_366_funded_days():
    stay = StayFacts("L", date(2028, 1, 1), None, ((date(2028, 1, 1), cond(3)),))
    months = stay_months(stay, lambda level, day: Decimal("100.00"), until=END)
    assert months[(2028, 2)].funded_days == months[(2028, 2)].present_days == 29
    assert months[(2028, 2)].activity == Decimal("2900.00")
    assert sum(m.funded_days for m in months.values()) == 366
    assert sum(m.activity for m in months.values()) == Decimal("36600.00")


def test_a_mid_month_reassessment_prices_the_days_before_at_the_old_level_and_from_its_date_at_the_new():
    stay = StayFacts("A", date(2026, 3, 1), None,
                     ((date(2026, 3, 1), cond(3)), (date(2026, 3, 16), cond(4, hours="6.50"))))
    march = stay_months(stay, rate_of, until=date(2026, 12, 31))[(2026, 3)]
    assert march.activity == 15 * Decimal("2000.00") + 16 * Decimal("2700.00") == Decimal("73200.00")
    assert march.support_hours == 15 * Decimal("4.50") + 16 * Decimal("6.50")
    assert march.level_at_end == "4"


def test_a_rate_revision_effective_mid_month_applies_from_its_date():
    stay = StayFacts("R", date(2026, 6, 1), None, ((date(2026, 6, 1), cond(2)),))
    months = stay_months(stay, rate_of, [REVISION], until=date(2027, 1, 31))
    assert months[(2026, 6)].activity == 14 * Decimal("1250.00") + 16 * Decimal("1300.00")
    assert months[(2026, 7)].activity == 31 * Decimal("1300.00")
    assert months[(2027, 1)].activity == 31 * Decimal("1287.50")  # the 2027 schedule from 1 January


def test_a_special_tariff_replaces_the_level_rate_until_a_reassessment_lands_on_a_level():
    stay = StayFacts("S", date(2026, 1, 1), None, (
        (date(2026, 1, 1), cond(5)),
        (date(2026, 1, 11), cond(5, special="S1")),  # granted: the level number stays, its rate does not
        (date(2026, 2, 21), cond(6))))
    months = stay_months(stay, rate_of, until=date(2026, 3, 31))
    assert months[(2026, 1)].activity == 10 * Decimal("3400.00") + 21 * Decimal("6500.00")
    assert months[(2026, 1)].level_at_end == "S1"
    assert months[(2026, 2)].activity == 20 * Decimal("6500.00") + 8 * Decimal("4100.00")
    assert months[(2026, 2)].level_at_end == "6"


def test_a_paying_municipality_change_mid_month_sells_only_the_days_paid_by_751():
    stay = StayFacts("P", date(2026, 9, 1), None,
                     ((date(2026, 9, 1), cond(1)), (date(2026, 9, 11), cond(1, payer=AARHUS))))
    september = stay_months(stay, rate_of, until=date(2026, 9, 30))[(2026, 9)]
    assert (september.present_days, september.sold_days) == (30, 20)
    assert september.sold_service == 20 * Decimal("600.00")
    assert september.present_service == september.activity == 30 * Decimal("600.00")
    assert sold_income(september.sold_service, september.sold_days, Decimal("1000.00")) == Decimal("32000.00")


def test_a_move_out_on_the_20th_runs_off_to_the_end_of_the_next_month_at_the_move_out_days_level():
    stay = StayFacts("A", date(2026, 3, 10), date(2026, 8, 20), (
        (date(2026, 3, 10), cond(4, payer=AARHUS)),
        (date(2026, 8, 20), cond(5, payer=AARHUS))), runoff_months=1)
    months = stay_months(stay, rate_of, until=END)
    august, september = months[(2026, 8)], months[(2026, 9)]
    assert (august.present_days, august.funded_days, august.sold_days) == (20, 31, 20)
    assert august.activity == 19 * Decimal("2700.00") + 12 * Decimal("3400.00")
    assert august.sold_service == 19 * Decimal("2700.00") + Decimal("3400.00")
    assert (september.present_days, september.funded_days, september.sold_days) == (0, 30, 0)
    assert september.activity == 30 * Decimal("3400.00")
    assert august.level_at_end is None and september.level_at_end is None
    assert max(months) == (2026, 9)


def test_a_move_out_in_december_runs_off_into_january_at_next_years_rate():
    stay = StayFacts("D", date(2026, 12, 1), date(2026, 12, 20), ((date(2026, 12, 1), cond(4)),))
    january = stay_months(stay, rate_of, until=END)[(2027, 1)]
    assert (january.present_days, january.funded_days) == (0, 31)
    assert january.activity == 31 * Decimal("2781.00")


def test_a_mid_month_capacity_change_counts_the_same_by_runs_as_day_by_day():
    changes = [(date(2026, 3, 16), 12), (date(2026, 7, 1), 8), (date(2026, 3, 16), 11), (date(2026, 5, 10), 14)]

    def places_on(day: date) -> int:
        return places_in_force(10, changes, day)

    by_runs = capacity_days(2026, places_on, {d for d, _ in changes})
    assert by_runs == capacity_days(2026, places_on)
    assert by_runs[2] == 15 * 10 + 16 * 11  # on 16 March the later recorded change (11) counts
    assert by_runs[4] == 9 * 11 + 22 * 14 and by_runs[6] == 31 * 8


def test_a_month_in_a_year_without_a_schedule_counts_zero_and_warns():
    stay = StayFacts("N", date(2027, 11, 1), date(2027, 12, 10), ((date(2027, 11, 1), cond(3)),))
    figures = facility_year(2028, None, lambda d: 10, [stay], rate_of, None)
    january = figures.months[0]
    assert (january.funded_days, january.present_days, january.activity) == (31, 0, Decimal("0.00"))
    assert january.stays.unpriced_days == 31
    assert "no tariff schedule for 2028: its days count 0.00" in figures.warnings
    # unpriced days warn even when the year has an hourly rate
    year = assemble_year(2028, None, [310] * 12, {1: BudgetMonth(funded_days=31, unpriced_days=31)},
                         Decimal("440.00"))
    assert any("no tariff schedule for 2028" in w for w in year.warnings)


def test_a_facility_year_without_a_frame_has_frame_and_basistakst_zero_and_warns():
    figures = facility_year(2026, None, lambda d: 10, [], rate_of, Decimal("420.00"))
    assert all(m.frame == Decimal("0.00") for m in figures.months)
    assert figures.totals().frame == Decimal("0.00") and figures.basistakst == Decimal("0.00")
    assert figures.warnings == ["no frame budget for 2026: frame and basistakst are 0.00"]


@pytest.mark.parametrize("support_hours,present_days,average", [
    ("4.50", 4, "1.13"),   # 1.125 rounds half-up, not to even
    ("0.05", 2, "0.03"),   # 0.025
    ("10.00", 3, "3.33"),
    ("7.00", 0, "0.00"),   # no present days
])
def test_average_support_hours_rounds_half_up_to_two_decimals(support_hours, present_days, average):
    result = average_support_hours(Decimal(support_hours), present_days)
    assert result == Decimal(average) and isinstance(result, Decimal)
    assert str(result) == average


def test_occupancy_rounds_half_up_to_one_decimal():
    assert occupancy_pct(1, 16) == Decimal("6.3")  # 6.25
    assert occupancy_pct(0, 0) == Decimal("0.0")


@pytest.mark.parametrize("year", [2025, 2026, 2027, 2028])
def test_capacity_by_runs_equals_day_by_day_in_years_with_and_without_changes(year):
    """Changes before, on 1 January of, within and after the year (2028: a leap year)."""
    changes = [(date(2025, 6, 1), 12), (date(2027, 1, 1), 9), (date(2028, 2, 29), 7), (date(2028, 2, 29), 6)]

    def places_on(day: date) -> int:
        return places_in_force(10, changes, day)

    assert capacity_days(year, places_on, {d for d, _ in changes}) == capacity_days(year, places_on)


def test_a_month_held_long_shares_its_level_counts_and_keeps_its_figures():
    """`BudgetMonth.shared`: the same figures, its citizens by level sorted and without zeros,
    each (key, count) pair the same object as the equal pair of another month."""
    month = BudgetMonth(Decimal("123.45"), 3, 3, 0, 1, Decimal("10.00"), Decimal("20.00"), Decimal("4.50"),
                        (("3", 2), ("S1", 1)))
    other = BudgetMonth().add(([Decimal("1.00"), 1, 1, 0, 0, Decimal("0"), Decimal("0"), Decimal("0")],
                               {"S1": 1, "3": 2, "5": 0}))
    shared, again = month.shared(), other.shared()
    assert shared == month and again.citizens_by_level == (("3", 2), ("S1", 1))
    assert all(a is b for a, b in zip(shared.citizens_by_level, again.citizens_by_level))

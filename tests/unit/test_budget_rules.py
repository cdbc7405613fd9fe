"""The budget rules of domain §4.2-4.5 as pure functions, on the worked example (examples.md)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.citizen import Condition
from projections.budget import StayFacts, facility_year, fte, occupancy_pct, staff_hours
from projections.frame import basistakst, monthly_frames

RATES = {1: "600.00", 2: "1250.00", 3: "2000.00", 4: "2700.00", 5: "3400.00"}
FRAME = {"budgeted_places": 10, "planned_occupancy_pct": Decimal(100), "lines": [
    {"category": "ledelse_administration", "amount": Decimal("1200000.00")},
    {"category": "bygninger_drift", "amount": Decimal("800000.00")},
    {"category": "nattevagt", "amount": Decimal("1650000.00")}]}


def rate_of(level: int, day: date) -> Decimal | None:
    if day.year == 2026:
        return Decimal(RATES[level])
    if day.year == 2027:
        return (Decimal(RATES[level]) * Decimal("1.03")).quantize(Decimal("0.01"))
    return None


def cond(level, payer="707"):
    return Condition(level, Decimal(0), None, None, payer)


def example_stays(retroactive: bool) -> list[StayFacts]:
    a = [(date(2026, 3, 10), cond(3))]
    if retroactive:
        a.append((date(2026, 4, 1), cond(5)))
    a.append((date(2026, 5, 16), cond(4)))
    return [
        StayFacts("A", date(2026, 3, 10), date(2026, 8, 20), tuple(a)),
        StayFacts("B", date(2026, 9, 1), None, ((date(2026, 9, 1), cond(1, "751")),)),
    ]


def test_basistakst_and_monthly_frame_of_the_example():
    assert basistakst(Decimal("3650000.00"), 10, Decimal(100), 2026) == Decimal("1000.00")
    months = monthly_frames(Decimal("3650000.00"))
    assert months[0] == Decimal("304166.67") and months[11] == Decimal("304166.63")
    assert sum(months) == Decimal("3650000.00")


@pytest.mark.parametrize("retroactive,activity,year", [
    (False, {3: "44000.00", 4: "60000.00", 5: "73200.00", 6: "81000.00", 7: "83700.00", 8: "83700.00",
             9: "99000.00", 10: "18600.00"}, "579800.00"),
    (True, {3: "44000.00", 4: "102000.00", 5: "94200.00", 6: "81000.00", 7: "83700.00", 8: "83700.00",
            9: "99000.00", 10: "18600.00"}, "642800.00"),
])
def test_activity_budget_of_the_worked_example(retroactive, activity, year):
    figures = facility_year(2026, FRAME, lambda d: 10, example_stays(retroactive), rate_of, Decimal("420.00"))
    for month, amount in activity.items():
        assert figures.months[month - 1].activity == Decimal(amount), month
    totals = figures.totals()
    assert totals.activity == Decimal(year)
    assert (totals.present_days, totals.funded_days) == (286, 327)
    assert [(m.present_days, m.funded_days) for m in figures.months[7:9]] == [(20, 31), (30, 60)]
    assert figures.basistakst == Decimal("1000.00") and figures.warnings == []


def test_key_figures_of_the_example():
    figures = facility_year(2026, FRAME, lambda d: 10, example_stays(True), rate_of, Decimal("420.00"))
    march, april = figures.months[2], figures.months[3]
    assert occupancy_pct(march.present_days, march.capacity_days) == Decimal("7.1")
    hours = staff_hours(april.activity, Decimal("420.00"))
    assert hours == Decimal("242.86") and fte(hours) == Decimal("1.51")
    assert april.total == Decimal("406166.67")
    assert figures.totals().frame + figures.totals().activity == Decimal("4292800.00")
    assert dict(figures.months[11].citizens_by_level) == {"1": 1}


def test_december_move_out_runs_off_into_january_at_next_years_rate():
    stay = StayFacts("C", date(2026, 12, 1), date(2026, 12, 20), ((date(2026, 12, 1), cond(3)),))
    assert stay.funded_until == date(2027, 1, 31)
    next_year = facility_year(2027, None, lambda d: 10, [stay], rate_of, Decimal("432.60"))
    assert next_year.months[0].activity == 31 * Decimal("2060.00")
    assert (next_year.months[0].present_days, next_year.months[0].funded_days) == (0, 31)
    assert next_year.months[1].funded_days == 0


def test_a_year_without_schedule_or_frame_counts_zero_and_warns():
    stay = StayFacts("C", date(2028, 1, 1), None, ((date(2028, 1, 1), cond(3)),))
    figures = facility_year(2028, None, lambda d: 10, [stay], rate_of, None)
    assert figures.totals().activity == Decimal("0.00") and figures.totals().funded_days == 366
    assert figures.basistakst == Decimal("0.00") and len(figures.warnings) == 2


def test_leap_year_has_366_capacity_days():
    figures = facility_year(2028, None, lambda d: 10, [], rate_of, None)
    assert figures.totals().capacity_days == 3660 and figures.months[1].capacity_days == 290


from hypothesis import given, strategies as st  # noqa: E402


@given(st.decimals(min_value=Decimal("-1000000000"), max_value=Decimal("1000000000"), places=2))
def test_the_twelve_monthly_frames_sum_to_the_annual_frame(total):
    months = monthly_frames(total)
    assert sum(months) == total and len(months) == 12
    assert all(m == months[0] for m in months[:11])


@given(st.lists(st.tuples(st.integers(0, 360), st.integers(0, 200), st.sampled_from([1, 2, 3, 4, 5])),
                max_size=6))
def test_the_months_of_activity_and_days_sum_to_the_year(raw):
    stays = []
    for i, (start, length, level) in enumerate(raw):
        move_in = date(2026, 1, 1) + timedelta(days=start)
        move_out = move_in + timedelta(days=length) if length < 150 else None
        stays.append(StayFacts(f"C{i}", move_in, move_out, ((move_in, cond(level)),)))
    figures = facility_year(2026, FRAME, lambda d: 10, stays, rate_of, Decimal("420.00"))
    totals = figures.totals()
    assert totals.activity == sum(m.activity for m in figures.months)
    assert totals.funded_days == sum(m.funded_days for m in figures.months) >= totals.present_days
    assert totals.frame == Decimal("3650000.00")


def test_phased_budget_moves_the_baseline_toward_the_model_by_the_phase_in_share():
    from projections.budget import phased_budget

    assert phased_budget(Decimal("4292800.00"), Decimal("4000000.00"), Decimal("25")) == Decimal("4073200.00")
    assert phased_budget(Decimal("100.00"), Decimal("200.01"), Decimal("50")) == Decimal("150.01")  # 150.005 half-up
    assert phased_budget(Decimal("100.00"), Decimal("200.00"), Decimal("100")) == Decimal("100.00")

"""Regulation rules of domain §4.9 as pure functions."""

from datetime import date
from decimal import Decimal

from hypothesis import given, strategies as st

from domain.citizen import Condition
from projections.budget import StayFacts, stay_segments
from projections.regulation import day_groups, regulate, revenue, what_if_sums

D = Decimal


def test_revenue_is_present_days_at_basistakst_plus_their_service_rates():
    assert revenue(286, D("1000.00"), D("532100.00")) == D("818100.00")


def test_a_surplus_beyond_five_percent_goes_to_the_tariff_as_a_negative_line():
    r = regulate(D("1100.00"), D("1000.00"), D("1000.00"), D("5"))
    assert (r.result, r.carry_over, r.to_tariff, r.regulation_line) == (D("100.00"), D("50.00"), D("50.00"), D("-50.00"))


def test_a_deficit_beyond_five_percent_raises_the_tariff():
    r = regulate(D("900.00"), D("1000.00"), D("1000.00"), D("5"))
    assert (r.result, r.carry_over, r.to_tariff, r.regulation_line) == (D("-100.00"), D("-50.00"), D("-50.00"), D("50.00"))


def test_the_limit_is_rounded_half_up_to_ore():
    assert regulate(D("0.00"), D("100.10"), D("100.00"), D("5")).carry_over == D("-5.01")  # 5.005


@given(st.decimals(-10**7, 10**7, places=2), st.decimals(0, 10**7, places=2), st.decimals(0, 10**7, places=2))
def test_carry_over_and_to_tariff_add_up_to_the_result_within_the_limit(earned, basis, costs):
    r = regulate(earned, basis, costs, D("5"))
    assert r.carry_over + r.to_tariff == r.result
    assert abs(r.carry_over) <= (basis * D("0.05")).quantize(D("0.01"), rounding="ROUND_HALF_UP")


def _rate_of(level: int, day: date) -> Decimal | None:
    """Level n at n × 100.00 a day in 2026 (from 1 July n × 110.00); 2027 has no schedule."""
    if day.year != 2026:
        return None
    return D(level * (110 if day >= date(2026, 7, 1) else 100))


def test_a_stays_present_days_are_grouped_by_what_prices_them():
    """A level-3 day paid by 751 before and after the 1 July revision, a special tariff's
    days at its own rate, a day above level 8 (no level) paid by 707, the run-off after the
    move-out not present (never charged), and 2027's days at 0.00 (no schedule)."""
    stay = StayFacts("C", date(2026, 6, 29), date(2027, 1, 2), (
        (date(2026, 6, 29), Condition(3, D("4"), None, None, "751")),
        (date(2026, 7, 3), Condition(3, D("4"), "S1", D("2000.00"), "751")),
        (date(2026, 7, 5), Condition(None, D("30"), None, None, "707")),
        (date(2026, 12, 31), Condition(3, D("4"), None, None, "707")),
    ), runoff_months=1, facility="F1", stay_id="s")
    groups = day_groups(stay_segments(stay, _rate_of, [date(2026, 7, 1)], until=date(2027, 12, 31)))
    assert groups == {
        (2026, "751", 3, "", D("300")): 2, (2026, "751", 3, "", D("330")): 2,
        (2026, "751", 0, "S1", D("2000.00")): 2,
        (2026, "707", 0, "", D("0")): 179,  # 5 July to 30 December
        (2026, "707", 3, "", D("330")): 1, (2027, "707", 3, "", D("0")): 2,  # 31 December; 1-2 January
    }


def test_the_what_if_prices_each_group_at_its_rate_and_at_the_drafts():
    groups = {("F1", "751", 3, "", D("300.00")): 10, ("F1", "751", 0, "S1", D("2000.00")): 2,
              ("F1", "707", 0, "S2", D("1500.00")): 1, ("F2", "707", 0, "", D("0.00")): 4,
              ("F2", "751", 5, "", D("500.00")): 0}
    facilities, payers = what_if_sums(groups, {"F1": D("1000.00")}, {3: D("350.00"), 5: D("1.00")},
                                      {"S1": D("2500.00")})
    assert facilities == {
        "F1": [10 * D("1300.00") + 2 * D("3000.00") + D("2500.00"), 10 * D("1350.00") + 2 * D("3500.00") + D("2500.00")],
        "F2": [D("0.00"), D("0.00")],  # no frame: basistakst 0.00; a day without a level keeps its rate
    }
    assert payers == {"751": [10 * D("1300.00") + 2 * D("3000.00"), 10 * D("1350.00") + 2 * D("3500.00")],
                      "707": [D("2500.00"), D("2500.00")]}

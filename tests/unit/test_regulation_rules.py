"""Regulation rules of domain §4.9 as pure functions."""

from decimal import Decimal

from hypothesis import given, strategies as st

from projections.regulation import regulate, revenue

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

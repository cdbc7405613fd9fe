from decimal import Decimal

import pytest

from domain.assessment import hours_per_day, minutes_per_day, normalise_assessment
from domain.errors import InvalidValue
from domain.values import check_municipality, check_no_cpr, check_reference, looks_like_cpr, money, round_money
from tests.factories import døgnskema


def test_money_is_exact_decimal_with_two_places():
    assert money("1234.5") == Decimal("1234.50")
    assert money(7) == Decimal("7.00")
    assert str(money("0.1")) == "0.10"


def test_money_refuses_floats_and_more_than_two_decimals():
    with pytest.raises(InvalidValue) as error:
        money(0.1)
    assert error.value.rule == "decimal_not_float"
    with pytest.raises(InvalidValue) as error:
        money("1.005")
    assert error.value.rule == "too_many_decimals"
    with pytest.raises(InvalidValue):
        money("NaN")
    with pytest.raises(InvalidValue):
        money("abc")


def test_rounding_is_half_up_to_øre():
    assert round_money(Decimal("304166.665")) == Decimal("304166.67")
    assert round_money(Decimal("0.005")) == Decimal("0.01")
    assert round_money(Decimal("-0.005")) == Decimal("-0.01")


@pytest.mark.parametrize("text", ["010190-1234", "0101901234", "ref 1212311234 x", "A-311299-0001"])
def test_cpr_shaped_values_are_refused(text):
    assert looks_like_cpr(text)
    with pytest.raises(InvalidValue) as error:
        check_no_cpr(text, "reason")
    assert error.value.rule == "cpr_number_refused" and error.value.field == "reason"


@pytest.mark.parametrize("text", ["A", "B-17", "27.10.08-P20-1-26", "123456789", "2026-1234"])
def test_ordinary_references_pass(text):
    assert not looks_like_cpr(text)
    assert check_reference(text, "citizen_ref") == text


def test_reference_shape_and_cpr_refused():
    with pytest.raises(InvalidValue):
        check_reference("has space", "citizen_ref")
    with pytest.raises(InvalidValue) as error:
        check_reference("0101901234", "citizen_ref")
    assert error.value.rule == "cpr_number_refused"


def test_municipality_is_three_digits():
    assert check_municipality("751") == "751"
    for bad in ("75", "7510", "abc"):
        with pytest.raises(InvalidValue):
            check_municipality(bad)


def test_døgnskema_hours_are_minutes_over_sixty():
    assessment = normalise_assessment(døgnskema(270))
    assert minutes_per_day(assessment) == 270
    assert hours_per_day(assessment) == Decimal("4.50")
    assert hours_per_day(normalise_assessment(døgnskema(495))) == Decimal("8.25")


def test_hours_form_for_migrated_data():
    assert hours_per_day(normalise_assessment({"hours_per_day": "5.5"})) == Decimal("5.50")
    assert minutes_per_day(normalise_assessment({"hours_per_day": 2})) == 120


@pytest.mark.parametrize("bad,rule", [
    ({}, "invalid_assessment"),
    ({"hours_per_day": "1", "entries": []}, "invalid_assessment"),
    ({"hours_per_day": "25"}, "hours_out_of_range"),
    ({"hours_per_day": "-1"}, "hours_out_of_range"),
    ({"entries": [{"theme": "x", "slot": "morning", "kind": "direct", "minutes": 5}]}, "unknown_theme"),
    ({"entries": [{"theme": "egenomsorg", "slot": "noon", "kind": "direct", "minutes": 5}]}, "unknown_slot"),
    ({"entries": [{"theme": "egenomsorg", "slot": "night", "kind": "both", "minutes": 5}]}, "unknown_kind"),
    ({"entries": [{"theme": "egenomsorg", "slot": "night", "kind": "direct", "minutes": 0}]}, "invalid_minutes"),
    ({"entries": [{"theme": "egenomsorg", "slot": "night", "kind": "direct", "minutes": 1000},
                  {"theme": "relationer", "slot": "night", "kind": "direct", "minutes": 1000}]}, "minutes_exceed_day"),
])
def test_bad_assessments_name_the_rule(bad, rule):
    with pytest.raises(InvalidValue) as error:
        normalise_assessment(bad)
    assert error.value.rule == rule

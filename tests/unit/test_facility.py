from datetime import date
from decimal import Decimal

import pytest

from domain.errors import InvalidValue, RuleViolation
from domain.facility import Facility
from tests.factories import meta


def register(places=10):
    return Facility.register("GRENAA-BO", "Grenaa Bo", "botilbud", "Grenaa", places, meta("2026-01-01"))


LINES = [{"category": "ledelse_administration", "amount": "1200000.00"}, {"category": "nattevagt", "amount": "1650000"}]


def test_registration_records_facility_registered():
    facility = register()
    events = facility.collect_events()
    assert [type(e).__name__ for e in events] == ["FacilityRegistered"]
    assert (events[0].code, events[0].kind, events[0].places) == ("GRENAA-BO", "botilbud", 10)
    assert events[0].meta.actor == "tester"


@pytest.mark.parametrize("kwargs,field", [
    ({"places": 0}, "places"), ({"places": -1}, "places"), ({"kind": "hotel"}, "kind"),
    ({"name": " "}, "name"), ({"code": "with space"}, "code"), ({"places": 10_001}, "places"),
])
def test_registration_rules(kwargs, field):
    args = {"code": "X", "name": "n", "kind": "botilbud", "area": "Grenaa", "places": 3} | kwargs
    with pytest.raises(InvalidValue) as error:
        Facility.register(meta=meta("2026-01-01"), **args)
    assert error.value.field == field


def test_capacity_on_a_day_is_the_latest_effective_change_then_latest_recorded():
    facility = register()
    facility.change_capacity(12, meta("2026-06-01"))
    facility.change_capacity(8, meta("2026-03-01"))
    facility.change_capacity(11, meta("2026-06-01"))
    assert facility.places_on(date(2026, 2, 1)) == 10
    assert facility.places_on(date(2026, 3, 1)) == 8
    assert facility.places_on(date(2026, 6, 1)) == 11
    with pytest.raises(InvalidValue):
        facility.change_capacity(0, meta("2026-06-01"))


def test_frame_budget_replaces_the_year_and_keeps_decimals():
    facility = register()
    facility.set_frame_budget(2026, 10, "100", LINES, meta("2026-01-01"))
    facility.set_frame_budget(2026, 10, "95", LINES[:1], meta("2026-01-01"))
    frame = facility.frame_budget(2026)
    assert frame["planned_occupancy_pct"] == Decimal("95.00")
    assert frame["lines"] == [{"category": "ledelse_administration", "amount": Decimal("1200000.00")}]
    assert facility.frame_budget(2027) is None


def test_frame_budget_amounts_are_not_negative_except_regulation():
    facility = register()
    with pytest.raises(InvalidValue) as error:
        facility.set_frame_budget(2026, 10, "100", [{"category": "nattevagt", "amount": "-1.00"}], meta("2026-01-01"))
    assert error.value.rule == "must_not_be_negative" and error.value.field == "lines[0].amount"
    facility.set_frame_budget(2026, 10, "100", [{"category": "regulation", "amount": "-5000.00"}], meta("2026-01-01"))
    assert facility.frame_budget(2026)["lines"][0]["amount"] == Decimal("-5000.00")


@pytest.mark.parametrize("lines,rule", [
    ([{"category": "coffee", "amount": "1"}], "unknown_category"),
    ([{"category": "tilsyn", "amount": "1"}, {"category": "tilsyn", "amount": "2"}], "duplicate_category"),
    ([], "lines_required"),
])
def test_frame_budget_categories(lines, rule):
    with pytest.raises(InvalidValue) as error:
        register().set_frame_budget(2026, 10, "100", lines, meta("2026-01-01"))
    assert error.value.rule == rule


def test_planned_occupancy_and_places():
    with pytest.raises(InvalidValue):
        register().set_frame_budget(2026, 10, "0", LINES, meta("2026-01-01"))
    with pytest.raises(InvalidValue):
        register().set_frame_budget(2026, 10, "100.5", LINES, meta("2026-01-01"))
    with pytest.raises(InvalidValue):
        register().set_frame_budget(2026, 0, "100", LINES, meta("2026-01-01"))


def test_baseline_and_phase_in():
    facility = register()
    facility.set_baseline(2026, "3900000.00", "50", meta("2026-01-01"))
    assert facility.baseline(2026)["phase_in_pct"] == Decimal("50.00")
    with pytest.raises(InvalidValue):
        facility.set_baseline(2026, "-1.00", "50", meta("2026-01-01"))
    with pytest.raises(InvalidValue):
        facility.set_baseline(2026, "1.00", "101", meta("2026-01-01"))


def test_accounts_close_the_year_and_a_correction_needs_a_reason():
    facility = register()
    facility.record_accounts(2026, "4000000.00", meta("2026-12-31"))
    assert facility.is_closed(2026) and not facility.is_closed(2027)
    with pytest.raises(RuleViolation) as error:
        facility.record_accounts(2026, "4100000.00", meta("2026-12-31"))
    assert error.value.rule == "accounts_correction_needs_reason"
    facility.record_accounts(2026, "4100000.00", meta("2026-12-31", reason="revised by the auditor"))
    assert facility.accounts_for(2026)["actual_costs"] == Decimal("4100000.00")


def test_retracting_a_capacity_change_restores_the_places():
    facility = register()
    facility.change_capacity(12, meta("2026-06-01"))
    change = facility.collect_events()[-1].meta.event_id
    facility.retract(change, meta("2026-06-01", reason="typed the wrong number"))
    assert facility.places_on(date(2026, 7, 1)) == 10
    assert facility.collect_events()[-1].retracted_event_id == change


def test_registration_cannot_be_retracted_nor_a_retraction():
    facility = register()
    registered = facility.collect_events()[0].meta.event_id
    with pytest.raises(RuleViolation) as error:
        facility.retract(registered, meta("2026-01-01", reason="x"))
    assert error.value.rule == "registration_not_retractable"
    facility.change_capacity(12, meta("2026-06-01"))
    change = facility.collect_events()[-1].meta.event_id
    facility.retract(change, meta("2026-06-01", reason="x"))
    retraction = facility.collect_events()[-1].meta.event_id
    with pytest.raises(RuleViolation) as error:
        facility.retract(retraction, meta("2026-06-01", reason="y"))
    assert error.value.rule == "retraction_cannot_be_retracted"
    with pytest.raises(RuleViolation) as error:
        facility.retract(change, meta("2026-06-01", reason="again"))
    assert error.value.rule == "already_retracted"


def test_a_retraction_needs_a_reason():
    facility = register()
    facility.change_capacity(12, meta("2026-06-01"))
    change = facility.collect_events()[-1].meta.event_id
    with pytest.raises(InvalidValue) as error:
        facility.retract(change, meta("2026-06-01"))
    assert error.value.rule == "reason_required"

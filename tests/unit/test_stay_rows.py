"""A stay row's conditions are written and read by the names of `CONDITION_COLUMNS`, in the
order the rows already stored hold them (docs/adr/0036); the move-out's kind and the
assessments in force a citizen's read needs are in it too, and a row stored before they were
reads for the budgets as before and asks for a rebuild from a citizen's read (docs/adr/0035)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.citizen import Condition
from projections.budget import StayFacts
from projections.stays import (ASSESSMENT_COLUMNS, CONDITION_COLUMNS, Assessed, StayRecord, StayRowTooOld,
                               has_special_tariff, stay_of, stay_record, stay_value)

STORED = {"facility": "F1", "move_in": "2020-01-05", "move_out": "2022-03-01", "conditions": [
    ["2020-01-05", 3, "4.50", None, None, "707"], ["2021-01-05", None, "2.25", "S1", "6500.00", "751"]]}
"""A stay row as the projection has stored them since docs/adr/0014."""

conditions = st.one_of(
    st.builds(Condition, st.integers(1, 8), st.decimals("0", "24", places=2), st.none(), st.none(),
              st.sampled_from(["707", "751", "101"])),
    st.builds(Condition, st.none(), st.decimals("0", "24", places=2), st.sampled_from(["S1", "S2"]),
              st.decimals("0", "99999", places=2), st.sampled_from(["707", "751"])))


@st.composite
def stays(draw):  # type: ignore[no-untyped-def]
    move_in = draw(st.dates(date(2017, 1, 1), date(2030, 12, 31)))
    gaps = draw(st.lists(st.integers(1, 400), max_size=6))
    days = [move_in]
    for gap in gaps:
        days.append(days[-1] + timedelta(days=gap))
    move_out = draw(st.none() | st.just(days[-1] + timedelta(days=draw(st.integers(0, 300)))))
    found = tuple((day, draw(conditions)) for day in days)
    return StayFacts("", move_in, move_out, found, 1, draw(st.sampled_from(["F1", "F2"])), "s1")


def test_the_stored_order_is_the_one_the_rows_hold():
    assert CONDITION_COLUMNS == ("start", "level", "hours_per_day", "special_tariff", "special_rate",
                                 "paying_municipality")


def test_a_stored_row_is_read_by_its_names():
    stay = stay_of("s1", STORED)
    assert stay.conditions == (
        (date(2020, 1, 5), Condition(3, Decimal("4.50"), None, None, "707")),
        (date(2021, 1, 5), Condition(None, Decimal("2.25"), "S1", Decimal("6500.00"), "751")))
    assert (stay.facility, stay.move_in, stay.move_out) == ("F1", date(2020, 1, 5), date(2022, 3, 1))
    assert has_special_tariff(STORED)
    assert stay_value(stay) == STORED


@given(stays())
def test_every_stay_comes_back_as_it_went_in(stay):
    value = json.loads(json.dumps(stay_value(stay)))
    assert stay_of(stay.stay_id, value) == stay
    assert has_special_tariff(value) == any(c.special_tariff is not None for _, c in stay.conditions)


assessed = st.builds(Assessed, st.uuids().map(str), st.sampled_from(["CitizenMovedIn", "CitizenReassessed"]),
                     st.dates(date(2017, 1, 1), date(2030, 12, 31)), st.decimals("0", "24", places=2),
                     st.none() | st.integers(1, 8))


def test_the_assessments_are_stored_in_their_declared_order():
    assert ASSESSMENT_COLUMNS == ("event_id", "type", "effective_date", "hours_per_day", "level")


@given(stays(), st.none() | st.sampled_from(["moved", "deceased", "transferred"]), st.lists(assessed, max_size=4))
def test_a_stay_record_comes_back_as_it_went_in(stay, kind, assessments):
    record = StayRecord(stay.stay_id, stay.facility, stay.move_in, stay.move_out, kind, stay.conditions,
                        tuple(assessments))
    value = json.loads(json.dumps(stay_value(stay, record)))
    assert stay_record(stay.stay_id, value) == record
    assert stay_of(stay.stay_id, value) == stay  # the budgets read the same row as before


def test_a_row_stored_before_the_citizen_facts_asks_for_a_rebuild():
    with pytest.raises(StayRowTooOld, match="ledger rebuild"):
        stay_record("s1", STORED)

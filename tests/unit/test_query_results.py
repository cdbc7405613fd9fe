"""A query's typed result is written as the API's body by its declared types alone
(service/queries/values.py `public`): money with exactly two decimals, figures as computed,
days in ISO 8601, fields in their declared order under their aliases, None as null."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import date
from decimal import Decimal

import pytest

from service.queries.explain import ExplainedChange, Explanation
from service.queries.statements import ChargedPeriod
from service.queries.values import public


def change(**overrides):  # type: ignore[no-untyped-def]
    return ExplainedChange(**{"event_id": "e1", "position": 7, "type": "CitizenMovedIn", "citizen_ref": "BOR-1",
                              "facility": "F", "effective_date": "2026-01-01", "recorded_at": "2026-01-02T10:00:00+00:00",
                              "actor": "a", "reason": None, "case_ref": None, "delta": Decimal("12.5"), **overrides})


def test_money_is_written_with_two_decimals_and_days_under_their_aliases():
    period = ChargedPeriod(date(2026, 3, 1), date(2026, 3, 31), "4", None, 31, Decimal("1234.5"))
    assert public(period) == {"from": "2026-03-01", "to": "2026-03-31", "level": "4", "service_rate": None,
                              "days": 31, "amount": "1234.50"}
    assert list(public(period)) == ["from", "to", "level", "service_rate", "days", "amount"]


def test_an_explained_change_names_the_retracted_event_only_on_a_retraction():
    explained = Explanation("F", 2026, "all", 0, 9, Decimal(0), Decimal("12.50"), Decimal("12.50"),
                            (change(), change(event_id="e2", type="EntryRetracted", retracted_event_id="e0")))
    body = public(explained)
    assert body["before"] == "0.00" and body["changes"][0]["delta"] == "12.50"
    assert "retracted_event_id" not in body["changes"][0]
    assert body["changes"][1]["retracted_event_id"] == "e0"
    assert list(body["changes"][1])[-2:] == ["delta", "retracted_event_id"]
    assert explained.citizen_refs() == ["BOR-1", "BOR-1"]


def test_a_result_cannot_be_changed_by_the_code_that_formats_it():
    period = ChargedPeriod(date(2026, 3, 1), date(2026, 3, 31), "4", None, 31, Decimal("1.00"))
    with pytest.raises(FrozenInstanceError):
        period.amount = Decimal(0)  # type: ignore[misc]

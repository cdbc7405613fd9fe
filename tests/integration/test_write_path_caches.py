"""The write path's caches never decide a command on stale state (docs/adr/0028): two ledgers on
one store stand for two service processes; one changes the year's schedule after the other
has decided commands on it from its cache."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from domain.citizen import citizen_id
from service.db import migrate
from service.ledger import Actor, BudgetLedger
from service.settings import Settings
from service.store import Idempotency
from tests.factories import SPECIAL_TARIFFS, levels, ref

FINANCE = Actor("finance-1", "finance")
CASE = Actor("case-1", "caseworker")
DAY = date(2026, 3, 10)


@pytest.fixture
def two(settings: Settings) -> Iterator[tuple[BudgetLedger, BudgetLedger]]:
    migrate(settings)
    first, second = BudgetLedger(settings), BudgetLedger(settings)
    yield first, second
    first.close()
    second.close()


def shifted_levels() -> list[dict]:
    """The same rates with level 2 reaching 5 hours: 4.5 hours a day is level 2, not 3."""
    shifted = levels()
    shifted[1]["max_hours"], shifted[2]["min_hours"] = "5", "5"
    return shifted


def test_a_schedule_published_again_elsewhere_is_used_by_the_next_command(two):
    first, second = two
    facility = ref("F")
    first.register_facility(facility, "Bo", "botilbud", "Grenaa", 10, FINANCE)
    first.publish_schedule(2026, levels(), SPECIAL_TARIFFS[:1], "420.00", 1, FINANCE)
    assert first.move_in(ref(), facility, DAY, "707", {"hours_per_day": "4.5"}, CASE).body["level"] == 3

    second.publish_schedule(2026, shifted_levels(), SPECIAL_TARIFFS[:1], "420.00", 1, FINANCE, reason="ny")

    citizen = ref()
    recorded = first.move_in(citizen, facility, DAY, "707", {"hours_per_day": "4.5"}, CASE)
    assert recorded.body["level"] == 2
    assert next(iter(second.events.get(citizen_id(citizen)))).level == 2  # type: ignore[attr-defined]


def test_a_refusal_is_never_decided_on_a_cached_schedule_that_has_changed(two):
    first, second = two
    facility = ref("F")
    first.register_facility(facility, "Bo", "botilbud", "Grenaa", 10, FINANCE)
    first.publish_schedule(2026, levels(), SPECIAL_TARIFFS[:1], "420.00", 1, FINANCE)
    first.move_in(ref(), facility, DAY, "707", {"hours_per_day": "4.5"}, CASE)  # the schedule is cached

    second.publish_schedule(2026, levels(), SPECIAL_TARIFFS, "420.00", 1, FINANCE, reason="S2 tilføjet")

    recorded = first.move_in(ref(), facility, DAY, "707", {"hours_per_day": "19"}, CASE,
                             special_tariff={"code": "S2", "daily_rate": "9000.00"}, reason="behov")
    assert recorded.body["special_tariff"] == "S2"


def test_a_replay_is_answered_from_the_record_read_in_the_commands_transaction(two):
    first, second = two
    facility = ref("F")
    first.register_facility(facility, "Bo", "botilbud", "Grenaa", 10, FINANCE)
    first.publish_schedule(2026, levels(), SPECIAL_TARIFFS, "420.00", 1, FINANCE)
    key = Idempotency(principal=CASE.name, key="k-1", fingerprint="f-1")
    citizen = ref()
    stored = first.move_in(citizen, facility, DAY, "707", {"hours_per_day": "4.5"}, CASE, idempotency=key)
    again = second.move_in(citizen, facility, DAY, "707", {"hours_per_day": "4.5"}, CASE, idempotency=key)
    assert again.replayed and again.body == stored.body
    other = ref()  # a decision that would succeed again is answered from the record too, storing nothing
    stored = first.move_in(other, facility, DAY, "707", {"hours_per_day": "4.5"}, CASE,
                           idempotency=Idempotency(CASE.name, "k-2", "f-2"))
    first.move_out(other, date(2026, 4, 1), "moved", CASE)
    again = second.move_in(other, facility, DAY, "707", {"hours_per_day": "4.5"}, CASE,
                           idempotency=Idempotency(CASE.name, "k-2", "f-2"))
    assert again.replayed and again.body == stored.body
    assert len(second.citizen(other).stays) == 1

"""The write path's caches never decide a command on stale state (docs/adr/0028): two ledgers on
one store stand for two service processes; one changes the year's schedule after the other
has decided commands on it from its cache."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from domain.citizen import citizen_id
from service.commands.declarations import MoveIn, MoveOut, PublishSchedule, RegisterFacility
from service.db import migrate
from service.ledger import Actor, BudgetLedger, Recorded
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


def setup(ledger: BudgetLedger, special_tariffs: list[dict]) -> str:
    facility = ref("F")
    ledger.handle(RegisterFacility(code=facility, name="Bo", kind="botilbud", area="Grenaa", places=10), FINANCE)
    publish(ledger, levels(), special_tariffs)
    return facility


def publish(ledger: BudgetLedger, levels_: list[dict], special_tariffs: list[dict], reason: str | None = None) -> None:
    ledger.handle(PublishSchedule(year=2026, levels=levels_, special_tariffs=special_tariffs, hourly_rate="420.00",
                                  runoff_months=1, reason=reason), FINANCE)


def move_in(ledger: BudgetLedger, citizen: str, facility: str, hours: str = "4.5", key: Idempotency | None = None,
            **extra) -> Recorded:  # type: ignore[no-untyped-def]
    return ledger.handle(MoveIn(citizen_ref=citizen, facility=facility, effective_date=DAY, paying_municipality="707",
                                assessment={"hours_per_day": hours}, **extra), CASE, key)


def shifted_levels() -> list[dict]:
    """The same rates with level 2 reaching 5 hours: 4.5 hours a day is level 2, not 3."""
    shifted = levels()
    shifted[1]["max_hours"], shifted[2]["min_hours"] = "5", "5"
    return shifted


def test_a_schedule_published_again_elsewhere_is_used_by_the_next_command(two):
    first, second = two
    facility = setup(first, SPECIAL_TARIFFS[:1])
    assert move_in(first, ref(), facility).body["level"] == 3  # the schedule is cached

    publish(second, shifted_levels(), SPECIAL_TARIFFS[:1], reason="ny")

    citizen = ref()
    assert move_in(first, citizen, facility).body["level"] == 2
    assert next(iter(second.events.get(citizen_id(citizen)))).level == 2  # type: ignore[attr-defined]


def test_a_refusal_is_never_decided_on_a_cached_schedule_that_has_changed(two):
    first, second = two
    facility = setup(first, SPECIAL_TARIFFS[:1])
    move_in(first, ref(), facility)  # the schedule is cached

    publish(second, levels(), SPECIAL_TARIFFS, reason="S2 tilføjet")

    recorded = move_in(first, ref(), facility, hours="19", special_tariff={"code": "S2", "daily_rate": "9000.00"},
                       reason="behov")
    assert recorded.body["special_tariff"] == "S2"


def test_a_replay_is_answered_from_the_record_read_in_the_commands_transaction(two):
    first, second = two
    facility = setup(first, SPECIAL_TARIFFS)
    key = Idempotency(principal=CASE.name, key="k-1", fingerprint="f-1")
    citizen = ref()
    stored = move_in(first, citizen, facility, key=key)
    again = move_in(second, citizen, facility, key=key)
    assert again.replayed and again.body == stored.body
    other = ref()  # a decision that would succeed again is answered from the record too, storing nothing
    stored = move_in(first, other, facility, key=Idempotency(CASE.name, "k-2", "f-2"))
    first.handle(MoveOut(citizen_ref=other, effective_date=date(2026, 4, 1), kind="moved"), CASE)
    again = move_in(second, other, facility, key=Idempotency(CASE.name, "k-2", "f-2"))
    assert again.replayed and again.body == stored.body
    assert len(second.citizen(other).stays) == 1

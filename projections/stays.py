"""A stay's facts as a read-model row (`rm_stays`, docs/adr/0014) and back.

The row holds what the citizen's events say of the stay: the facility, the move-in, the
conditions by date and the move-out. It holds no citizen reference (the events keep it, under
the store's cipher when one is set; a read that names citizens finds them by the stay's id,
which is its move-in's event id). The run-off is not in it either: it is the schedule's of the
move-out year, so a read takes it from the schedules as of its own point.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any

from domain.citizen import MOVED_IN, REASSESSED, Condition, Stay
from projections.budget import StayFacts

CONDITION_COLUMNS = ("start", "level", "hours_per_day", "special_tariff", "special_rate", "paying_municipality")
"""A condition in a stay row: a JSON array of these values, in this order (the rows already
stored keep it): the day it takes effect (ISO), then the `Condition`'s fields, amounts as
strings."""


def _columns(*names: str) -> itemgetter[Any]:
    """The named values of a stored condition, by positions found once."""
    return itemgetter(*(CONDITION_COLUMNS.index(name) for name in names))


_condition = _columns("start", "level", "hours_per_day", "special_tariff", "special_rate", "paying_municipality")
_start, _special_tariff = _columns("start"), _columns("special_tariff")
_in_stored_order = itemgetter(*CONDITION_COLUMNS)


def _condition_row(start: date, condition: Condition) -> list[Any]:
    rate = condition.special_rate
    values = {"start": start.isoformat(), "level": condition.level, "hours_per_day": str(condition.hours_per_day),
              "special_tariff": condition.special_tariff, "special_rate": None if rate is None else str(rate),
              "paying_municipality": condition.paying_municipality}
    return list(_in_stored_order(values))


ASSESSMENT_COLUMNS = ("event_id", "type", "effective_date", "hours_per_day", "level")
"""An assessment in force in a stay row (under "assessments"): a JSON array of these values,
in this order: the move-in's or reassessment's event id and public type, the day it takes
effect (ISO), hours per day (a string) and level (None: above level 8)."""


@dataclass(frozen=True)
class Assessed:
    """A move-in or reassessment in force in a stay: the last recorded of those taking effect
    on its day, not retracted (domain/citizen.py `Stay.conditions`, whose level and hours it
    set from its day on)."""

    event_id: str
    type: str
    effective_date: date
    hours_per_day: Decimal
    level: int | None


@dataclass(frozen=True)
class StayRecord:
    """What a citizen's read shows of one stay (not void): the stay row's facts, with the
    move-out's kind and the assessments in force (projections/assessments.py compares them)."""

    stay_id: str
    facility: str
    move_in: date
    move_out: date | None
    move_out_kind: str | None
    conditions: tuple[tuple[date, Condition], ...]
    assessments: tuple[Assessed, ...]

    @property
    def is_open(self) -> bool:
        return self.move_out is None

    @classmethod
    def of(cls, stay: Stay) -> "StayRecord":
        """The record of a stay of the domain (the projector writes its row from it)."""
        facts = sorted((f for f in stay.active_facts() if f["type"] in (MOVED_IN, REASSESSED)),
                       key=lambda f: (f["effective_date"], f["sequence"]))
        in_force = [f for i, f in enumerate(facts)
                    if i + 1 == len(facts) or facts[i + 1]["effective_date"] != f["effective_date"]]
        return cls(stay.stay_id, stay.facility, stay.move_in, stay.move_out, stay.move_out_kind,
                   tuple(stay.conditions()),
                   tuple(Assessed(f["event_id"], f["type"], f["effective_date"], Decimal(f["hours_per_day"]),
                                  f["level"]) for f in in_force))


class StayRowTooOld(LookupError):
    """A stay row written before the rows held the move-out's kind and the assessments in
    force: the read models need `ledger rebuild` (docs/adr/0035)."""


def stay_value(stay: StayFacts, record: StayRecord | None = None) -> dict[str, Any]:
    """The row of a stay; with its `record`, the move-out's kind and the assessments in force
    too (every row the projector writes has them; `stay_of` reads a row without)."""
    value: dict[str, Any] = {
        "facility": stay.facility,
        "move_in": stay.move_in.isoformat(),
        "move_out": None if stay.move_out is None else stay.move_out.isoformat(),
        "conditions": [_condition_row(start, c) for start, c in stay.conditions],
    }
    if record is not None:
        value["move_out_kind"] = record.move_out_kind
        value["assessments"] = [[a.event_id, a.type, a.effective_date.isoformat(), str(a.hours_per_day), a.level]
                                for a in record.assessments]
    return value


def stay_record(stay_id: str, value: dict[str, Any]) -> StayRecord:
    """The record a stay row describes; StayRowTooOld for a row written before the rows held
    the move-out's kind and the assessments in force."""
    if "assessments" not in value or "move_out_kind" not in value:
        raise StayRowTooOld(f"the stay row of {stay_id} predates the move-out kind and the assessments in force; "
                            "run `ledger rebuild`")
    stay = stay_of(stay_id, value)
    assessments = tuple(Assessed(event_id, type_, date.fromisoformat(day), Decimal(hours), level)
                        for event_id, type_, day, hours, level in value["assessments"])
    return StayRecord(stay_id, stay.facility, stay.move_in, stay.move_out, value["move_out_kind"],
                      stay.conditions, assessments)


def has_special_tariff(value: dict[str, Any]) -> bool:
    """True when some condition of the stay row is a special tariff."""
    return any(_special_tariff(row) is not None for row in value["conditions"])


def stay_of(stay_id: str, value: dict[str, Any], runoff_months: int = 1, since: date | None = None) -> StayFacts:
    """The stay a row describes, with the run-off its move-out year's schedule sets (and no
    citizen reference: ""). With `since`, the conditions superseded before it (and before the
    move-out, whose condition the run-off days keep) are left out: the stay's days from `since`
    on are the same, and a read of one year builds a few conditions instead of a life's."""
    move_out = None if value["move_out"] is None else date.fromisoformat(value["move_out"])
    rows = value["conditions"]
    if since is not None:
        keep_from = (since if move_out is None else min(since, move_out)).isoformat()
        first = 0
        for index, row in enumerate(rows):  # ISO dates sort as the days do
            if _start(row) <= keep_from:
                first = index
        rows = rows[first:]
    conditions = tuple(
        (date.fromisoformat(start), Condition(level=level, hours_per_day=Decimal(hours), special_tariff=special,
                                              special_rate=None if rate is None else Decimal(rate),
                                              paying_municipality=payer))
        for start, level, hours, special, rate, payer in map(_condition, rows))
    return StayFacts("", date.fromisoformat(value["move_in"]), move_out, conditions,
                     runoff_months, value["facility"], stay_id)

"""A stay's facts as a read-model row (`rm_stays`, docs/adr/0014) and back.

The row holds what the citizen's events say of the stay: the facility, the move-in, the
conditions by date and the move-out. It holds no citizen reference (the events keep it, under
the store's cipher when one is set; a read that names citizens finds them by the stay's id,
which is its move-in's event id). The run-off is not in it either: it is the schedule's of the
move-out year, so a read takes it from the schedules as of its own point.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.citizen import Condition
from projections.budget import StayFacts


def stay_value(stay: StayFacts) -> dict[str, Any]:
    return {
        "facility": stay.facility,
        "move_in": stay.move_in.isoformat(),
        "move_out": None if stay.move_out is None else stay.move_out.isoformat(),
        "conditions": [[start.isoformat(), c.level, str(c.hours_per_day), c.special_tariff,
                        None if c.special_rate is None else str(c.special_rate), c.paying_municipality]
                       for start, c in stay.conditions],
    }


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
            if row[0] <= keep_from:
                first = index
        rows = rows[first:]
    conditions = tuple(
        (date.fromisoformat(start), Condition(level=level, hours_per_day=Decimal(hours), special_tariff=special,
                                              special_rate=None if rate is None else Decimal(rate),
                                              paying_municipality=payer))
        for start, level, hours, special, rate, payer in rows)
    return StayFacts("", date.fromisoformat(value["move_in"]), move_out, conditions,
                     runoff_months, value["facility"], stay_id)

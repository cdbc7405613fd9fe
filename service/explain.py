"""Why did a budget change? (domain §4.8, explain)

For a facility and a month (or the whole year) and two points of the store, the events
recorded between them that changed the figure (the facility budget: frame + activity), in
recording order, each with its own delta: the figure just after the event less the figure
just before it. The events are applied one at a time in recording order, so the deltas sum
exactly to after − before.

The candidates are the positions at which a row of the facility-year changed in the read
models (a month row or the frame got a new version, or lost one). For a year the projection
does not reach at some point between the two (beyond its horizon), every event of the
facility, of a schedule and of the facility's citizens is a candidate instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import and_, or_, select, true, union

from domain.citizen import Citizen, citizen_id
from domain.facility import Facility, facility_id
from domain.errors import NotFound
from domain.ledger import public_type
from domain.tariff_schedule import TariffSchedule
from domain.values import ZERO
from projections.budget import YearFigures
from service.db import ledger_entries, rm_budget_months, rm_facts, utc
from service.ledger import BudgetLedger
from service.read_models import BudgetReads


@dataclass(frozen=True)
class Change:
    position: int
    delta: Decimal


def figure(figures: YearFigures, month: int | None) -> Decimal:
    """The facility budget of the month (frame + activity), or of the year."""
    return figures.totals().total if month is None else figures.months[month - 1].total


class Explainer:
    def __init__(self, ledger: BudgetLedger) -> None:
        self.ledger = ledger
        self.reads = BudgetReads(ledger)

    def explain(self, code: str, year: int, month: int | None, start: int, end: int) -> dict[str, Any]:
        self.ledger.facility(code)  # 404 for a facility that never existed
        before, after = self.figure_at(code, year, month, start), self.figure_at(code, year, month, end)
        changes, previous = [], before
        for position in self._candidates(code, year, month, start, end):
            now = self.figure_at(code, year, month, position)
            if now != previous:
                changes.append(Change(position, now - previous))
                previous = now
        if sum((c.delta for c in changes), ZERO) != after - before:
            raise RuntimeError(f"explain of {code} {year}/{month}: the deltas do not sum to the change")
        return {"before": before, "after": after, "delta": after - before,
                "changes": [self._describe(c) for c in changes]}

    def figure_at(self, code: str, year: int, month: int | None, position: int) -> Decimal:
        """The figure as of `position`; 0.00 before the facility was registered."""
        try:
            return figure(self.reads.facility_year(code, year, position), month)
        except NotFound:
            return ZERO

    def _candidates(self, code: str, year: int, month: int | None, start: int, end: int) -> list[int]:
        horizons = [self.reads.horizon(start), self.reads.horizon(end)]
        if any(h is None or year > h for h in horizons):
            return self._event_positions(code, start, end)
        months = rm_budget_months.c
        facts = rm_facts.c
        month_rows = and_(months.facility == code, months.year == year,
                          true() if month is None else months.month == month)
        frame_rows = and_(facts.kind == "frame", facts.facility == code, facts.year == year)
        queries = [
            select(months.recorded_from.label("p")).where(month_rows, months.recorded_from > start,
                                                          months.recorded_from <= end),
            select(months.recorded_to.label("p")).where(month_rows, months.recorded_to > start,
                                                        months.recorded_to <= end),
            select(facts.recorded_from.label("p")).where(frame_rows, facts.recorded_from > start,
                                                         facts.recorded_from <= end),
            select(facts.recorded_to.label("p")).where(frame_rows, facts.recorded_to > start,
                                                       facts.recorded_to <= end),
        ]
        with self.ledger.engine.connect() as connection:
            return sorted({row.p for row in connection.execute(union(*queries))})

    def _event_positions(self, code: str, start: int, end: int) -> list[int]:
        streams = {facility_id(code).hex} | {citizen_id(ref).hex for ref in self.ledger.citizens_ever_at(code, end)}
        schedule_topic = f"{TariffSchedule.__module__}:{TariffSchedule.__qualname__}."
        schedules = {n.originator_id.hex for n in self.ledger.recorder.select_notifications(
            start=start + 1, limit=1_000_000, stop=end) if n.topic.startswith(schedule_topic)}
        with self.ledger.engine.connect() as connection:
            rows = connection.execute(select(ledger_entries.c.position).where(
                ledger_entries.c.position > start, ledger_entries.c.position <= end,
                or_(ledger_entries.c.originator_id.in_(streams | schedules))).order_by(ledger_entries.c.position))
            return [row.position for row in rows]

    def _describe(self, change: Change) -> dict[str, Any]:
        with self.ledger.engine.connect() as connection:
            entry = connection.execute(select(ledger_entries).where(ledger_entries.c.position == change.position)).one()
        stream = UUID(entry.originator_id)
        (event,) = self.ledger.events.get(stream, gt=entry.originator_version - 1, lte=entry.originator_version)
        meta = event.meta  # type: ignore[attr-defined]
        first = next(iter(self.ledger.events.get(stream, limit=1)))
        citizen_ref = getattr(first, "citizen_ref", None) if isinstance(first, Citizen.Event) else None
        described = {
            "event_id": entry.event_id, "position": entry.position, "type": public_type(event),
            "citizen_ref": citizen_ref, "facility": getattr(first, "code", None) if isinstance(first, Facility.Event)
            else None, "effective_date": meta.effective_date.isoformat(), "recorded_at": utc(entry.recorded_at).isoformat(),
            "actor": meta.actor, "reason": meta.reason, "case_ref": meta.case_ref, "delta": change.delta,
        }
        if described["type"] == "EntryRetracted":
            described["retracted_event_id"] = event.retracted_event_id  # type: ignore[attr-defined]
        return described

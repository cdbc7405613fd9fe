"""Why did a budget change? (domain §4.8, explain)

For a facility and a month (or the whole year) and two points of the store, the events
recorded between them that changed the figure (the facility budget: frame + activity), in
recording order, each with its own delta: the figure just after the event less the figure
just before it. The events are applied one at a time in recording order, so the deltas sum
exactly to after − before.

The candidates are the positions at which a row of the facility-year changed in the read
models (the year row, where the month's figures differ, or the frame got a new version, or
lost one); the figure is compared at each and only the positions where it moved are kept. For
a year the projection does not reach at some point between the two (beyond its horizon), the
versions of the facility's open tail (docs/adr/0042), of the schedules, their rates and the
horizon, and of its registration are candidates too (docs/adr/0014; the horizon rises and is
lowered: docs/adr/0040). Every such version is valid somewhere between the two points, so one
read of the window (`YearWindow`) finds the candidates and the figure at each (docs/adr/0017).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from domain.errors import NotFound
from domain.values import ZERO
from projections.budget import YearFigures
from service.audit import AuditTrail
from service.db import ledger_entries
from service.ledger import BudgetLedger
from service.read_models import BudgetReads


FIELDS = ("event_id", "position", "type", "citizen_ref", "facility", "effective_date", "recorded_at", "actor",
          "reason", "case_ref")
"""What explain shows of each event (the audit trail's fields, less the event's own details)."""


@dataclass(frozen=True)
class Change:
    position: int
    delta: Decimal


def figure(figures: YearFigures, month: int | None) -> Decimal:
    """The facility budget of the month (frame + activity), or of the year (the months'
    added up: exact, as every amount is)."""
    return sum((m.total for m in figures.months), ZERO) if month is None else figures.months[month - 1].total


class Explainer:
    def __init__(self, ledger: BudgetLedger) -> None:
        self.ledger = ledger
        self.reads = BudgetReads(ledger)

    def explain(self, code: str, year: int, month: int | None, start: int, end: int) -> dict[str, Any]:
        self.ledger.require_facility(code)  # 404 for a facility that never existed
        window = self.reads.window(year, start, end, [code])  # every version between the points, read once

        def figure_at(position: int) -> Decimal:
            figures = window.figures(code, position)
            return ZERO if figures is None else figure(figures, month)

        before, after = figure_at(start), figure_at(end)
        changes, previous = [], before
        for position in window.changes(code, month, window.beyond()):
            now = figure_at(position)
            if now != previous:
                changes.append(Change(position, now - previous))
                previous = now
        trail = AuditTrail(self.ledger)
        if sum((c.delta for c in changes), ZERO) != after - before:
            raise RuntimeError(f"explain of {code} {year}/{month}: the deltas do not sum to the change")
        with self.ledger.engine.connect() as connection:
            entries = {row.position: row for row in connection.execute(select(ledger_entries).where(
                ledger_entries.c.position.in_([c.position for c in changes])))} if changes else {}
        trail.load_streams(entry.originator_id for entry in entries.values())
        return {"before": before, "after": after, "delta": after - before,
                "changes": [self._describe(c, entries[c.position], trail) for c in changes]}

    def figure_at(self, code: str, year: int, month: int | None, position: int) -> Decimal:
        """The figure as of `position` by a read of its own (what `explain` finds from one
        window); 0.00 before the facility was registered."""
        try:
            return figure(self.reads.facility_year(code, year, position), month)
        except NotFound:
            return ZERO

    def _describe(self, change: Change, entry: Any, trail: AuditTrail) -> dict[str, Any]:
        """The event behind a change, as the audit trail shows it, with the change's delta."""
        row = trail.describe(entry, until=None, post_closing=False)
        described = {name: row[name] for name in FIELDS} | {"delta": change.delta}
        if row["retracts"] is not None:
            described["retracted_event_id"] = row["retracts"]
        return described

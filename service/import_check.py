"""`ledger import --dry-run`: decide every line against the ledger's real rules, record nothing,
and report what would be recorded and every line that would be refused.

How: the commands are decided exactly as `ledger import` decides them (`decide_line`: the
same schema as the HTTP request, the same use case of service/ledger.py), inside
`BudgetLedger.batch()`, which decides against aggregates kept in memory and stores only when
`flush()` is called; the dry run never calls it. Why this and not a transaction rolled back:
it is exact (the same code decides, later lines see earlier lines' effects, e.g. a citizen
moved in twice), and it never reaches the store at all, whereas an insert rolled back still
consumes PostgreSQL's notification-id sequence (the next real event's position would jump)
and holds the store's write lock for the whole check. The store is byte-for-byte unchanged.

Unlike the import, the check goes on after a refused line, as if that line were left out,
so one run lists every line to fix.

It also names the facility-months the file would put over capacity (more present days than
capacity days, projections/capacity.py): for every facility where a citizen of the file
stays, the stays of all its citizens as they would be after the file (the batch's aggregates
in memory, the store's for the others) are counted with the budget's own rule, for each year
the file's stays touch.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from projections.budget import StayFacts, facility_year
from projections.capacity import capacity_warnings
from service.importer import LineRefused, decide_line
from service.ledger import Actor, BudgetLedger
from service.old_model import RowRefusal


@dataclass
class CheckReport:
    lines: int = 0
    commands: int = 0
    events: int = 0
    would_record: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(command, facility or "") -> how many would be recorded"""
    refusals: list[RowRefusal] = field(default_factory=list)
    capacity_warnings: list[str] = field(default_factory=list)
    """"CODE 2026-03: ... present days exceed ... capacity days" for each month over capacity"""

    @property
    def by_facility(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for (_, facility), count in self.would_record.items():
            counts[facility] += count
        return dict(sorted(counts.items()))


def check_lines(ledger: BudgetLedger, lines: Iterable[str], actor: Actor, skip: int = 0,
                progress: Callable[[int], None] | None = None) -> CheckReport:
    """Decide every command line in memory; nothing is stored."""
    report = CheckReport()
    citizens: set[str] = set()
    with ledger.batch():
        for number, text in enumerate(lines, start=1):
            report.lines = number
            if number <= skip or not text.strip():
                continue
            try:
                report.events += decide_line(ledger, number, text, actor)
            except LineRefused as refused:
                report.refusals.append(RowRefusal(number, refused.field, refused.rule, refused.message))
                continue
            report.commands += 1
            report.would_record[_kind(text)] += 1
            citizens.add(_citizen_of(text))
            if progress and number % 1000 == 0:
                progress(number)
        report.capacity_warnings = over_capacity_after(ledger, citizens - {""})
    return report


def over_capacity_after(ledger: BudgetLedger, refs: Iterable[str]) -> list[str]:
    """The months over capacity, after the batch, of every facility-year where `refs` stay."""
    refs = list(refs)
    touched: dict[str, set[int]] = {}
    for ref in refs:
        for stay in _stays(ledger, ref):
            last = stay.move_out.year if stay.move_out else max(stay.move_in.year, ledger.today().year)
            touched.setdefault(stay.facility, set()).update(range(stay.move_in.year, last + 1))
    warnings = []
    for code, years in sorted(touched.items()):
        facility = ledger.facility(code)
        stays = [StayFacts(ref, stay.move_in, stay.move_out, tuple(stay.conditions()), facility=code,
                           stay_id=stay.stay_id)
                 for ref in dict.fromkeys([*ledger.citizens_ever_at(code), *refs])
                 for stay in _stays(ledger, ref) if stay.facility == code]
        for year in sorted(years):
            figures = facility_year(year, None, facility.places_on, stays, lambda level, day: None, None)
            warnings += [f"{code} {warning}" for warning in capacity_warnings(year, figures.months)]
    return warnings


def _stays(ledger: BudgetLedger, ref: str) -> list[Any]:
    """The citizen's stays as the batch leaves them (none for a citizen never moved in)."""
    from domain.errors import NotFound

    try:
        return ledger.citizen(ref).active_stays
    except NotFound:
        return []


def _citizen_of(text: str) -> str:
    """The line's citizen in canonical form ("" for a command about no citizen): `a` and `A`
    are one citizen, counted once."""
    from domain.values import canonical_reference

    ref = json.loads(text).get("citizen_ref")
    return "" if ref is None else canonical_reference(ref, "citizen_ref")


def _kind(text: str) -> tuple[str, str]:
    data = json.loads(text)
    return data["command"], str(data.get("facility") or data.get("code") or "")

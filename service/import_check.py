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
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable

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
            if progress and number % 1000 == 0:
                progress(number)
    return report


def _kind(text: str) -> tuple[str, str]:
    data = json.loads(text)
    return data["command"], str(data.get("facility") or data.get("code") or "")

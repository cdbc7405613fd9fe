"""The step bar of the Køberkommune pages (issue 22.7, docs/adr/0045): for what one page shows
one buying municipality, the event that last changed it and the next event that changes it.

A buyer may learn nothing outside its scope (service/buyers.py), so the bar is not the
finance pages' (`service.event_history.ChangePoints`, which names every event that touched a
citizen's stream or a facility's rows, its type and its actor). Here a position is a change
only when the page's own content, as that buyer reads it, differs just before and at it:

- the list (`citizens_steps`): the year's paid stays (`buyers.paid_stays`), the month so far
  of the page's reference day (`buyers.month_to_date`) and the names of their facilities;
- a citizen's support (`support_steps`): the paid periods and the døgnskemaer in force on
  paid days (`buyers.support`; none while the municipality has not paid for the citizen) and
  the names of their facilities;
- a statement (`statement_steps`): the month's statement (`statement_at`), the year's months
  as the page lists them (stays and total) and the names of their facilities.

Candidates are the positions at which the read-model rows such content is read from were
replaced (a superset: the municipality's statement lines of the year, the facility, frame,
schedule and horizon facts, and for a citizen the citizen's stream and its stay rows). Each
candidate is checked by reading the content just before and at it, walking from the page's
position until a change is found or `MAX_WALK` candidates were read; so a position of an event
outside the buyer's scope (another municipality's period, a rename of a facility it does not
see) is never named. What a change shows is its position, the time it was recorded and which
part of the page changed (`changed`): never the event's type, actor or citizen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Callable, Iterable

from sqlalchemy import and_, func, or_, select

from domain.citizen import citizen_id
from domain.errors import NotFound
from service import buyers
from service.access import check_own_municipality
from service.db import ledger_entries, rm_facts, rm_statement_lines, rm_stays
from service.ledger import Actor, BudgetLedger, Timeline
from service.queries.buyers import check_buying_municipality, support_of
from service.queries.statements import point_of, statement_at
from service.read_models import BudgetReads, StatementReads, known_citizen

MAX_WALK = 200
"""The most candidate positions one direction of a bar reads before it stops looking."""


@dataclass(frozen=True)
class BuyerChange:
    """A position at which what the page shows the buyer changed."""

    position: int
    recorded_at: datetime | None
    changed: tuple[str, ...]
    """The parts of the page that differ just before and at `position`: for the list
    `citizens`, `amounts`, `names`; for the support `paid`, `periods`, `assessments`, `names`;
    for a statement `month`, `year`, `names`."""


@dataclass(frozen=True)
class BuyerSteps:
    """Where a buyer's page stands in the history of what it shows that buyer."""

    position: int
    last: BuyerChange | None
    """The latest change at or before `position` (None: none found)."""
    next: BuyerChange | None
    """The first change after `position` (None: none recorded)."""
    previous_position: int | None
    """Read as of this position to see the page just before `last` (None: no such page, e.g.
    before the municipality paid for the citizen)."""


Content = dict[str, Any] | None


def _names(ledger: BudgetLedger, position: int, facilities: Iterable[str]) -> tuple[tuple[str, str], ...]:
    found = BudgetReads(ledger).facts(position, "facility", 0)
    return tuple((code, found[code]["name"]) for code in sorted(facilities) if code in found)


def citizens_content(ledger: BudgetLedger, municipality: str, day: date, position: int) -> Content:
    """The list as of `position` for the reference `day`: its rows, month so far and names."""
    stays = tuple(buyers.paid_stays(ledger, municipality, day.year, position))
    so_far = tuple(sorted(buyers.month_to_date(ledger, municipality, day, position).items()))
    facilities = frozenset(s.facility for s in stays)
    return {"citizens": stays, "amounts": so_far, "names": _names(ledger, position, facilities),
            "facilities": facilities}


def support_content(ledger: BudgetLedger, municipality: str, ref: str, position: int) -> Content:
    """The citizen's paid support as of `position` (None: not paid for as of then)."""
    try:
        found = replace(support_of(buyers.support(ledger, municipality, ref, position)), as_of_position=0)
    except NotFound:
        return None
    facilities = frozenset(p.facility for p in found.periods)
    return {"periods": found.periods, "assessments": found.assessments, "names": _names(ledger, position, facilities),
            "facilities": facilities}


def statement_content(ledger: BudgetLedger, municipality: str, year: int, month: int, position: int) -> Content:
    """The month's statement and the year's months (stays and total) as of `position`."""
    reads = StatementReads(ledger)
    months = {m: statement_at(reads, municipality, year, m, position) for m in range(1, 13)}
    return {"month": replace(months[month], as_of_position=0),
            "year": tuple((m, len(s.lines), s.total) for m, s in months.items() if s.lines),
            "names": _names(ledger, position, {line.facility for line in months[month].lines}),
            "facilities": frozenset(line.facility for s in months.values() for line in s.lines)}


def _versions(table: Any, where: Any) -> list[tuple[Any, Any]]:
    return [(table.c.recorded_from, where), (table.c.recorded_to, where)]


def _facts_of(facilities: set[str], year: int | None) -> Any:
    """The facts the figures and names of `facilities` are read from: their names and frames,
    and every schedule and horizon."""
    facts = rm_facts.c
    frames = facts.kind == "frame" if year is None else and_(facts.kind == "frame", facts.year == year)
    return or_(facts.kind.in_(("schedule", "horizon")),
               and_(facts.facility.in_(sorted(facilities)), or_(facts.kind == "facility", frames)))


def _statement_candidates(ledger: BudgetLedger, municipality: str, year: int, position: int
                          ) -> Callable[[set[str]], list[tuple[Any, Any]]]:
    """The municipality's statement lines of the year; beyond the horizon (lines read from the
    stay rows) the stay rows that touch the year."""
    lines = rm_statement_lines.c
    reads = BudgetReads(ledger)
    horizons = [reads.horizon(position), reads.horizon(Timeline(ledger.engine).max_position())]
    beyond = any(h is None or year > h for h in horizons)
    touching = and_(rm_stays.c.move_in <= date(year, 12, 31),
                    or_(rm_stays.c.move_out.is_(None), rm_stays.c.move_out >= date(year, 1, 1)))
    fixed = [*_versions(rm_statement_lines, and_(lines.municipality == municipality, lines.year == year)),
             *(_versions(rm_stays, touching) if beyond else [])]
    return lambda facilities: [*fixed, *_versions(rm_facts, _facts_of(facilities, year))]


def _support_candidates(ledger: BudgetLedger, ref: str) -> Callable[[set[str]], list[tuple[Any, Any]]]:
    """The citizen's stream and its stay rows."""
    stream = citizen_id(known_citizen(ledger, ref)).hex
    with ledger.engine.connect() as connection:
        stays = [row.event_id for row in connection.execute(
            select(ledger_entries.c.event_id).where(ledger_entries.c.originator_id == stream))]
    fixed = [(ledger_entries.c.position, ledger_entries.c.originator_id == stream),
             *_versions(rm_stays, rm_stays.c.stay_id.in_(stays))]
    return lambda facilities: [*fixed, *_versions(rm_facts, _facts_of(facilities, None))]


class _Walk:
    """Candidate positions one at a time, each checked against the page's content."""

    def __init__(self, ledger: BudgetLedger, candidates: Callable[[set[str]], list[tuple[Any, Any]]],
                 content: Callable[[int], Content]) -> None:
        self.ledger, self.candidates_of, self.content = ledger, candidates, content
        self.candidates: list[tuple[Any, Any]] = []

    def _candidate(self, position: int, before: bool) -> int | None:
        found: list[int] = []
        with self.ledger.engine.connect() as connection:
            for column, where in self.candidates:
                if before:
                    value = connection.execute(select(func.max(column)).where(where, column <= position)).scalar()
                else:
                    value = connection.execute(select(func.min(column)).where(where, column > position)).scalar()
                if value is not None:
                    found.append(value)
        if not found:
            return None
        return max(found) if before else min(found)

    def steps(self, position: int) -> BuyerSteps:
        here = self.content(position)
        # While the walk finds no change the content is `here`, so only the facts of the
        # facilities it shows can change it (others' changes show as line or stay rows first).
        self.candidates = self.candidates_of(set() if here is None else here["facilities"])
        last, before = self._last(position, here)
        return BuyerSteps(position, last, self._next(position, here),
                          None if last is None or before is None else last.position - 1)

    def _last(self, position: int, here: Content) -> tuple[BuyerChange | None, Content]:
        candidate = self._candidate(position, before=True)
        for _ in range(MAX_WALK):
            if candidate is None or candidate < 1:
                return None, None
            earlier = self.content(candidate - 1)
            if earlier != here:
                return self._change(candidate, earlier, here), earlier
            candidate = self._candidate(candidate - 1, before=True)
        return None, None

    def _next(self, position: int, here: Content) -> BuyerChange | None:
        candidate = self._candidate(position, before=False)
        for _ in range(MAX_WALK):
            if candidate is None:
                return None
            later = self.content(candidate)
            if later != here:
                return self._change(candidate, here, later)
            candidate = self._candidate(candidate, before=False)
        return None

    def _change(self, position: int, before: Content, after: Content) -> BuyerChange:
        if before is None or after is None:
            changed: tuple[str, ...] = ("paid",)
        else:
            changed = tuple(part for part in after if part != "facilities" and before.get(part) != after[part])
        return BuyerChange(position, point_of(self.ledger, position).recorded_at, changed)


def citizens_steps(ledger: BudgetLedger, actor: Actor, municipality: str, day: date, position: int) -> BuyerSteps:
    """The list's bar, its content read for the page's reference `day` at every position."""
    check_own_municipality(actor, check_buying_municipality(municipality))
    return _Walk(ledger, _statement_candidates(ledger, municipality, day.year, position),
                 lambda at: citizens_content(ledger, municipality, day, at)).steps(position)


def support_steps(ledger: BudgetLedger, actor: Actor, municipality: str, ref: str, position: int) -> BuyerSteps:
    """A citizen's support page's bar; NotPaidFor (as the page) when the municipality does not
    pay for the citizen as of `position`, so the bar never tells another municipality's
    citizen from an unknown one."""
    check_own_municipality(actor, check_buying_municipality(municipality))
    if support_content(ledger, municipality, ref, position) is None:
        raise buyers.NotPaidFor(municipality, ref)
    return _Walk(ledger, _support_candidates(ledger, ref),
                 lambda at: support_content(ledger, municipality, ref, at)).steps(position)


def statement_steps(ledger: BudgetLedger, actor: Actor, municipality: str, year: int, month: int, position: int
                    ) -> BuyerSteps:
    """A statement page's bar."""
    check_own_municipality(actor, check_buying_municipality(municipality))
    return _Walk(ledger, _statement_candidates(ledger, municipality, year, position),
                 lambda at: statement_content(ledger, municipality, year, month, at)).steps(position)

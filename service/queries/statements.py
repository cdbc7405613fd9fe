"""Statements for the municipalities that buy places (domain §4.7), as of any point, with
what has changed since: a statement sent earlier is reproduced exactly with the `as_of` it
was made at, and a later retroactive event shows as a difference, never hidden. The API, the
UI's pages and `ledger export statement` read them here; whoever shows one logs its citizens
as read (`log_statement_reads`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Annotated, Iterable

from pydantic import Field
from sqlalchemy import select

from domain import municipalities
from domain.values import NORDDJURS, ZERO
from projections.statements import line_amount
from service import buyers
from service.audit import log_citizen_reads
from service.db import ledger_entries, utc
from service.ledger import Actor, BudgetLedger, Timeline
from service.projection import ProjectionStatus
from service.queries.buyers import check_buying_municipality, support_of
from service.queries.values import Money, ore, public
from service.read_models import BudgetReads, StatementReads
from service.statement_document import Point, statement_pdf

BUYERS = [code for code in municipalities.CODES if code != NORDDJURS]
"""The codes a statement can be for: every municipality of the register but Norddjurs itself."""


@dataclass(frozen=True)
class ChargedPeriod:
    """A run of days of one level and service rate: days × (basistakst + service rate)."""

    start: Annotated[date, Field(serialization_alias="from")]
    end: Annotated[date, Field(serialization_alias="to")]
    level: str
    service_rate: Money | None
    """None: no tariff schedule for the year; the days are charged basistakst only."""
    days: int
    amount: Money


@dataclass(frozen=True)
class StatementLine:
    """One stay with present days in the month paid by the municipality."""

    citizen_ref: str | None
    facility: str
    stay_id: str
    days: int
    basistakst: Money
    periods: tuple[ChargedPeriod, ...]
    amount: Money


@dataclass(frozen=True)
class ChangedLine:
    """A stay whose amount differs between the statement's point and now."""

    citizen_ref: str | None
    facility: str
    stay_id: str
    amount_then: Money
    amount_now: Money
    difference: Money


@dataclass(frozen=True)
class StatementNow:
    """What today's figures say about the month, when events were recorded after the statement."""

    as_of_position: int
    total: Money
    difference: Money
    changed_lines: tuple[ChangedLine, ...]


@dataclass(frozen=True)
class Statement:
    """A month's statement for a buying municipality as of a store position; the total is the
    sum of the lines' amounts, each rounded to øre."""

    municipality: str
    municipality_name: str
    year: int
    month: int
    as_of_position: int
    lines: tuple[StatementLine, ...]
    total: Money
    warnings: tuple[str, ...]
    now: StatementNow | None = None

    def citizen_refs(self) -> list[str | None]:
        """Every citizen the statement names: its lines and, when later events changed the
        month, the changed lines under `now` (a stay recorded after the statement is only there)."""
        changed = self.now.changed_lines if self.now else ()
        return [line.citizen_ref for line in (*self.lines, *changed)]


def statement_lines(reads: StatementReads, municipality: str, year: int, month: int, position: int
                    ) -> tuple[tuple[StatementLine, ...], tuple[str, ...]]:
    """The month's lines, ordered by facility, citizen and stay, and the warnings they raise."""
    lines, warnings = [], set()
    found = reads.lines(municipality, year, month, position)
    refs = reads.citizen_refs([line.stay_id for line in found])
    for line in found:
        rate = reads.basistakst(line.facility, year, position)
        if rate is None:
            warnings.add(f"{line.facility} has no frame budget for {year}: basistakst is 0.00")
            rate = ZERO
        if any(p.service_rate is None for p in line.periods):
            warnings.add(f"no tariff schedule for {year}: days without a service rate are charged basistakst only")
        lines.append(StatementLine(
            citizen_ref=refs.get(line.stay_id), facility=line.facility, stay_id=line.stay_id,
            days=sum(p.days for p in line.periods), basistakst=ore(rate),
            periods=tuple(ChargedPeriod(p.start, p.end, p.level, p.service_rate, p.days, ore(p.amount(rate)))
                          for p in line.periods),
            amount=ore(line_amount(line.periods, rate)),
        ))
    lines.sort(key=lambda line: (line.facility, line.citizen_ref or "", line.stay_id))
    return tuple(lines), tuple(sorted(warnings))


def statement_at(reads: StatementReads, municipality: str, year: int, month: int, position: int) -> Statement:
    """The statement as of `position`, naming its municipality beside its code; the
    municipality is one of the register's (`unknown_municipality` otherwise) and not Norddjurs."""
    check_buying_municipality(municipality)
    lines, warnings = statement_lines(reads, municipality, year, month, position)
    return Statement(municipality, municipalities.official_name(municipality), year, month, position, lines,
                     sum((line.amount for line in lines), ZERO), warnings)


def statement_body(ledger: BudgetLedger, municipality: str, year: int, month: int, position: int,
                   status: ProjectionStatus) -> Statement:
    """The statement as of a recorded position, with `now` (today's figures and the difference)
    when later events exist; `status` waits for the projections to reach today. Whoever shows
    it logs the citizen reads with `log_statement_reads`. The municipality is one of the
    register's (`unknown_municipality` otherwise) and not Norddjurs."""
    reads = StatementReads(ledger)
    made = statement_at(reads, municipality, year, month, position)
    latest = Timeline(ledger.engine).max_position()
    if position >= latest:
        return made
    latest = status.wait(latest, ledger.settings.read_wait_seconds)  # earlier when the projections stopped
    now_lines, _ = statement_lines(reads, municipality, year, month, latest)
    then_amounts = {line.stay_id: line.amount for line in made.lines}
    now_amounts = {line.stay_id: line.amount for line in now_lines}
    refs = {line.stay_id: (line.citizen_ref, line.facility) for line in (*made.lines, *now_lines)}
    changed = tuple(
        ChangedLine(refs[stay][0], refs[stay][1], stay, then_amounts.get(stay, ZERO), now_amounts.get(stay, ZERO),
                    now_amounts.get(stay, ZERO) - then_amounts.get(stay, ZERO))
        for stay in sorted(set(then_amounts) | set(now_amounts))
        if then_amounts.get(stay, ZERO) != now_amounts.get(stay, ZERO)
    )
    now_total = sum((line.amount for line in now_lines), ZERO)
    return replace(made, now=StatementNow(latest, now_total, now_total - made.total, changed))


@dataclass(frozen=True)
class StatementDocument:
    """A statement's PDF and the citizens it names (for the caller to log the read)."""

    content: bytes
    citizen_refs: tuple[str | None, ...]


def statement_document_pdf(ledger: BudgetLedger, municipality: str, year: int, month: int, position: int,
                           since: int | None) -> StatementDocument:
    """The PDF of the statement as of `position` (a correction since `since` when given)."""
    reads = StatementReads(ledger)
    made = statement_at(reads, municipality, year, month, position)
    supports = {}
    for ref in sorted({line.citizen_ref for line in made.lines if line.citizen_ref}):
        try:
            supports[ref] = public(support_of(buyers.support(ledger, municipality, ref, position)))
        except buyers.NotPaidFor:
            continue
    names = {code: value["name"] for code, value in BudgetReads(ledger).facts(position, "facility", 0).items()}
    earlier = None if since is None else statement_at(reads, municipality, year, month, since)
    then = None if earlier is None else (public(earlier), point_of(ledger, since))
    content = statement_pdf(public(made), supports, names, point_of(ledger, position), then)
    named = (*made.lines, *(earlier.lines if earlier else ()))
    return StatementDocument(content, tuple(line.citizen_ref for line in named))


def point_of(ledger: BudgetLedger, position: int) -> Point:
    """A store position with the time it was recorded (none for position 0)."""
    with ledger.engine.connect() as connection:
        recorded = connection.execute(select(ledger_entries.c.recorded_at)
                                      .where(ledger_entries.c.position == position)).scalar()
    return Point(position, None if recorded is None else utc(recorded))


def log_statement_reads(ledger: BudgetLedger, actor: Actor, resource: str, refs: Iterable[str | None]) -> None:
    """Record that `actor` read the citizens a statement names (`Statement.citizen_refs`, or a
    document's) through `resource` (the API, the UI and `ledger export statement` all log
    through here)."""
    log_citizen_reads(ledger, actor, resource, list(refs))

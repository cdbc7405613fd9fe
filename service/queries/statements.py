"""Statements for the municipalities that buy places (domain §4.7), as of any point, with
what has changed since: a statement sent earlier is reproduced exactly with the `as_of` it
was made at, and a later retroactive event shows as a difference, never hidden. The API, the
UI's pages and `ledger export statement` read them here; whoever shows one logs its citizens
as read (`log_statement_reads`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from domain import municipalities
from domain.values import NORDDJURS, ZERO
from projections.statements import line_amount
from service import buyers
from service.audit import log_citizen_reads
from service.db import ledger_entries, utc
from service.ledger import Actor, BudgetLedger, Timeline
from service.projection import ProjectionStatus
from service.queries.buyers import check_buying_municipality, support_body
from service.queries.values import kr
from service.read_models import BudgetReads, StatementReads
from service.statement_document import Point, statement_pdf

BUYERS = [code for code in municipalities.CODES if code != NORDDJURS]
"""The codes a statement can be for: every municipality of the register but Norddjurs itself."""


def statement(reads: StatementReads, municipality: str, year: int, month: int, position: int) -> dict[str, Any]:
    lines, warnings = [], []
    found = reads.lines(municipality, year, month, position)
    refs = reads.citizen_refs([line.stay_id for line in found])
    for line in found:
        rate = reads.basistakst(line.facility, year, position)
        if rate is None:
            warnings.append(f"{line.facility} has no frame budget for {year}: basistakst is 0.00")
            rate = ZERO
        if any(p.service_rate is None for p in line.periods):
            warnings.append(f"no tariff schedule for {year}: days without a service rate are charged basistakst only")
        lines.append({
            "citizen_ref": refs.get(line.stay_id), "facility": line.facility, "stay_id": line.stay_id,
            "days": sum(p.days for p in line.periods), "basistakst": kr(rate),
            "periods": [{"from": p.start.isoformat(), "to": p.end.isoformat(), "level": p.level,
                         "service_rate": kr(p.service_rate), "days": p.days, "amount": kr(p.amount(rate))}
                        for p in line.periods],
            "amount": kr(line_amount(line.periods, rate)),
        })
    lines.sort(key=lambda line: (line["facility"], line["citizen_ref"] or "", line["stay_id"]))
    total = sum((Decimal(line["amount"]) for line in lines), ZERO)
    return {"lines": lines, "total": kr(total), "warnings": sorted(set(warnings))}


def statement_body(ledger: BudgetLedger, municipality: str, year: int, month: int, position: int,
                   status: ProjectionStatus) -> dict[str, Any]:
    """The statement's body as of a recorded position, with `now` (today's figures and the
    difference) when later events exist; `status` waits for the projections to reach today.
    Whoever shows it logs the citizen reads with `log_statement_reads`. The municipality is one of the register's (`unknown_municipality`
    otherwise) and not Norddjurs; the body names it beside its code (`municipality_name`)."""
    reads = StatementReads(ledger)
    body = {**statement_at(reads, municipality, year, month, position), "now": None}
    made = body
    latest = Timeline(ledger.engine).max_position()
    if position < latest:
        latest = status.wait(latest, ledger.settings.read_wait_seconds)  # earlier when the projections stopped
        now = statement(reads, municipality, year, month, latest)
        then_amounts = {line["stay_id"]: Decimal(line["amount"]) for line in made["lines"]}
        now_amounts = {line["stay_id"]: Decimal(line["amount"]) for line in now["lines"]}
        refs = {line["stay_id"]: (line["citizen_ref"], line["facility"]) for line in made["lines"] + now["lines"]}
        changed = [
            {"citizen_ref": refs[stay][0], "facility": refs[stay][1], "stay_id": stay,
             "amount_then": kr(then_amounts.get(stay, ZERO)), "amount_now": kr(now_amounts.get(stay, ZERO)),
             "difference": kr(now_amounts.get(stay, ZERO) - then_amounts.get(stay, ZERO))}
            for stay in sorted(set(then_amounts) | set(now_amounts))
            if then_amounts.get(stay, ZERO) != now_amounts.get(stay, ZERO)
        ]
        body["now"] = {"as_of_position": latest, "total": now["total"],
                       "difference": kr(Decimal(now["total"]) - Decimal(made["total"])), "changed_lines": changed}
    return body


def statement_at(reads: StatementReads, municipality: str, year: int, month: int, position: int) -> dict[str, Any]:
    """The statement as of `position`, naming its municipality beside its code; the
    municipality is one of the register's (`unknown_municipality` otherwise) and not Norddjurs."""
    check_buying_municipality(municipality)
    return {"municipality": municipality, "municipality_name": municipalities.official_name(municipality),
            "year": year, "month": month, "as_of_position": position,
            **statement(reads, municipality, year, month, position)}


def statement_document_pdf(ledger: BudgetLedger, municipality: str, year: int, month: int, position: int,
                           since: int | None) -> tuple[bytes, list[dict[str, Any]]]:
    """The PDF of the statement as of `position` (a correction since `since` when given), and
    the lines whose citizens it names (for the caller to log the read)."""
    reads = StatementReads(ledger)
    body = statement_at(reads, municipality, year, month, position)
    supports = {}
    for ref in sorted({line["citizen_ref"] for line in body["lines"] if line["citizen_ref"]}):
        try:
            supports[ref] = support_body(buyers.support(ledger, municipality, ref, position))
        except buyers.NotPaidFor:
            continue
    names = {code: value["name"] for code, value in BudgetReads(ledger).facts(position, "facility", 0).items()}
    then = None
    if since is not None:
        then = (statement_at(reads, municipality, year, month, since), point_of(ledger, since))
    content = statement_pdf(body, supports, names, point_of(ledger, position), then)
    return content, body["lines"] + (then[0]["lines"] if then else [])


def point_of(ledger: BudgetLedger, position: int) -> Point:
    """A store position with the time it was recorded (none for position 0)."""
    with ledger.engine.connect() as connection:
        recorded = connection.execute(select(ledger_entries.c.recorded_at)
                                      .where(ledger_entries.c.position == position)).scalar()
    return Point(position, None if recorded is None else utc(recorded))


def statement_citizen_refs(body: dict[str, Any]) -> list[str | None]:
    """Every citizen a statement body names: its lines and, when later events changed the
    month, the changed lines under `now` (a stay recorded after the statement is only there)."""
    changed = (body.get("now") or {}).get("changed_lines", [])
    return [line["citizen_ref"] for line in [*body["lines"], *changed]]


def log_statement_reads(ledger: BudgetLedger, actor: Actor, resource: str, body: dict[str, Any]) -> None:
    """Record that `actor` read the citizens of a statement body through `resource` (the API,
    the UI and `ledger export statement` all log through here)."""
    log_citizen_reads(ledger, actor, resource, statement_citizen_refs(body))

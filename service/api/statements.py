"""Statements for the municipalities that buy places (domain §4.7), as of any point, with
what has changed since: a statement sent earlier is reproduced exactly with the `as_of` it
was made at, and a later retroactive event shows as a difference, never hidden."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from domain import municipalities
from domain.errors import InvalidValue
from domain.values import FIRST_YEAR, LAST_YEAR, NORDDJURS, ZERO
from projections.statements import line_amount
from service import buyers, export
from service.api.buyers import BUYING_READERS, check_buying_municipality, check_own_municipality, support_body
from service.api.common import kr
from service.api.deps import AsOfInstant, AsOfPositionQuery, Ledger, ProjectionStatusDep, ReadAt, allow, position_as_of
from service.api.downloads import DOWNLOAD_RESPONSES, ExportFormat, ExportSlot, download, render
from service.api.routing import api_router
from service.audit import log_citizen_reads
from service.db import ledger_entries, utc
from service.ledger import Actor, BudgetLedger, Timeline
from service.projection import ProjectionStatus
from service.read_models import BudgetReads, StatementReads
from service.statement_document import Point, statement_pdf

router = api_router(tags=["statements"])
StatementReader = Annotated[Actor, Depends(allow(*BUYING_READERS))]
"""Finance, auditor, admin, and the `buyer` of the statement's municipality (`check_own_municipality`)."""
BUYERS = [code for code in municipalities.CODES if code != NORDDJURS]
"""The codes a statement can be for: every municipality of the register but Norddjurs itself."""
Municipality = Annotated[str, Path(
    pattern=municipalities.CODE_PATTERN, json_schema_extra={"enum": BUYERS}, examples=["751"],
    description="The paying municipality's code (ASCII digits), one of the register's but 707 (Norddjurs)")]
Year = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR)]
Month = Annotated[int, Path(ge=1, le=12)]


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


@router.get("/v1/statements/{municipality}/{year}/{month}")
def get_statement(municipality: Municipality, year: Year, month: Month, ledger: Ledger, actor: StatementReader,
                  position: ReadAt, status: ProjectionStatusDep) -> dict[str, Any]:
    """One line per stay with present days in the month paid by the municipality: days,
    basistakst, the periods of level and service rate with their days and amounts, and the
    total. Read as of the point a statement was made, it is that statement exactly; `now`
    then shows what today's figures say and the difference."""
    check_own_municipality(actor, check_buying_municipality(municipality))
    body = statement_body(ledger, municipality, year, month, position, status)
    log_statement_reads(ledger, actor, f"/v1/statements/{municipality}/{year}/{month}", body)
    return body


@router.get("/v1/statements/{municipality}/{year}/{month}/export", response_class=Response,
            responses=DOWNLOAD_RESPONSES)
def export_statement(request: Request, municipality: Municipality, year: Year, month: Month, ledger: Ledger,
                     actor: StatementReader, _slot: ExportSlot, position: ReadAt, status: ProjectionStatusDep,
                     fmt: ExportFormat = "xlsx") -> Response:
    """The statement (as GET /v1/statements/...) as a workbook (`xlsx`: a row per period,
    what changed since, and what the figures are as of) or a CSV table in Danish Excel's
    convention (`;`, decimal comma, UTF-8 with BOM)."""
    check_own_municipality(actor, check_buying_municipality(municipality))
    body = statement_body(ledger, municipality, year, month, position, status)
    log_statement_reads(ledger, actor, f"/v1/statements/{municipality}/{year}/{month}/export", body)
    return download(render(request, "statement", fmt, body),
                    export.statement_filename(municipality, year, month, fmt), fmt)


def statement_body(ledger: BudgetLedger, municipality: str, year: int, month: int, position: int,
                   status: ProjectionStatus) -> dict[str, Any]:
    """The statement's body as of a recorded position, with `now` (today's figures and the
    difference) when later events exist; `status` waits for the projections to reach today.
    The API, the UI and the exports share it; whoever shows it logs the citizen reads with
    `log_statement_reads`. The municipality is one of the register's (`unknown_municipality`
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


SinceInstant = Annotated[AsOfInstant, Query(description="A correction document: what changed since this instant "
                                                        "(RFC 3339 with an offset)")]
SincePosition = Annotated[AsOfPositionQuery, Query(description="A correction document: what changed since this "
                                                               "store position")]
PDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The statement as a PDF document, as an attachment",
          "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
    429: DOWNLOAD_RESPONSES[429],
}
"""A document is made within the client's export slots, as a spreadsheet is (docs/adr/0021)."""


@router.get("/v1/statements/{municipality}/{year}/{month}/document", response_class=Response,
            responses=PDF_RESPONSES)
def statement_document(municipality: Municipality, year: Year, month: Month, ledger: Ledger, actor: StatementReader,
                       _slot: ExportSlot, position: ReadAt, since: SinceInstant = None,
                       since_position: SincePosition = None) -> Response:
    """The statement as a PDF document (seller, buyer, period, a line per stay with its rate
    periods, totals, and each citizen's døgnskema support), as of the read's point: the same
    point gives the same bytes, its "dannet" time is that point's recording time. With `since`
    or `since_position` (at or before the read's point) a correction document: what changed
    between the two points, then the statement as it is now."""
    check_own_municipality(actor, check_buying_municipality(municipality))
    earlier = None
    if since is not None and since_position is not None:
        raise InvalidValue("one_point_only", "give since or since_position, not both", "since")
    if since is not None or since_position is not None:
        earlier = position_as_of(Timeline(ledger.engine), since, since_position, 0)
        assert earlier is not None
        if earlier > position:
            field = "since" if since is not None else "since_position"
            raise InvalidValue("since_after_point", f"{field} (position {earlier}) lies after the read's point "
                               f"(position {position}): a correction shows what changed up to the point", field)
    content, lines = statement_document_pdf(ledger, municipality, year, month, position, earlier)
    log_statement_reads(ledger, actor, f"/v1/statements/{municipality}/{year}/{month}/document", {"lines": lines})
    suffix = "" if earlier is None else f"-rettelse-siden-{earlier}"
    filename = f"afregning-{municipality}-{year}-{month:02d}-position-{position}{suffix}.pdf"
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": export.content_disposition(filename), "Cache-Control": "no-store"})


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

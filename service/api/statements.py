"""Statements for the municipalities that buy places (domain §4.7), as of any point, with
what has changed since: a statement sent earlier is reproduced exactly with the `as_of` it
was made at, and a later retroactive event shows as a difference, never hidden."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from fastapi.responses import Response

from domain import municipalities
from domain.errors import InvalidValue
from domain.values import FIRST_YEAR, LAST_YEAR
from service import export
from service.access import BUYING_READERS, check_own_municipality
from service.api.deps import AsOfInstant, AsOfPositionQuery, Ledger, ProjectionStatusDep, ReadAt, allow
from service.api.downloads import DOWNLOAD_RESPONSES, ExportFormat, ExportSlot, download, render
from service.api.routing import api_router
from service.ledger import Actor, Timeline
from service.queries.buyers import check_buying_municipality
from service.queries.positions import position_as_of
from service.queries.statements import BUYERS, log_statement_reads, statement_body, statement_document_pdf
from service.queries.values import public

router = api_router(tags=["statements"])
StatementReader = Annotated[Actor, Depends(allow(*BUYING_READERS))]
"""Finance, auditor, admin, and the `buyer` of the statement's municipality (`check_own_municipality`)."""
Municipality = Annotated[str, Path(
    pattern=municipalities.CODE_PATTERN, json_schema_extra={"enum": BUYERS}, examples=["751"],
    description="The paying municipality's code (ASCII digits), one of the register's but 707 (Norddjurs)")]
Year = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR)]
Month = Annotated[int, Path(ge=1, le=12)]


@router.get("/v1/statements/{municipality}/{year}/{month}")
def get_statement(municipality: Municipality, year: Year, month: Month, ledger: Ledger, actor: StatementReader,
                  position: ReadAt, status: ProjectionStatusDep) -> dict[str, Any]:
    """One line per stay with present days in the month paid by the municipality: days,
    basistakst, the periods of level and service rate with their days and amounts, and the
    total. Read as of the point a statement was made, it is that statement exactly; `now`
    then shows what today's figures say and the difference."""
    check_own_municipality(actor, check_buying_municipality(municipality))
    found = statement_body(ledger, municipality, year, month, position, status)
    log_statement_reads(ledger, actor, f"/v1/statements/{municipality}/{year}/{month}", found.citizen_refs())
    return public(found)


@router.get("/v1/statements/{municipality}/{year}/{month}/export", response_class=Response,
            responses=DOWNLOAD_RESPONSES)
def export_statement(request: Request, municipality: Municipality, year: Year, month: Month, ledger: Ledger,
                     actor: StatementReader, _slot: ExportSlot, position: ReadAt, status: ProjectionStatusDep,
                     fmt: ExportFormat = "xlsx") -> Response:
    """The statement (as GET /v1/statements/...) as a workbook (`xlsx`: a row per period,
    what changed since, and what the figures are as of) or a CSV table in Danish Excel's
    convention (`;`, decimal comma, UTF-8 with BOM)."""
    check_own_municipality(actor, check_buying_municipality(municipality))
    found = statement_body(ledger, municipality, year, month, position, status)
    log_statement_reads(ledger, actor, f"/v1/statements/{municipality}/{year}/{month}/export", found.citizen_refs())
    return download(render(request, "statement", fmt, public(found)),
                    export.statement_filename(municipality, year, month, fmt), fmt)


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
    document = statement_document_pdf(ledger, municipality, year, month, position, earlier)
    log_statement_reads(ledger, actor, f"/v1/statements/{municipality}/{year}/{month}/document", document.citizen_refs)
    suffix = "" if earlier is None else f"-rettelse-siden-{earlier}"
    filename = f"afregning-{municipality}-{year}-{month:02d}-position-{position}{suffix}.pdf"
    return Response(document.content, media_type="application/pdf",
                    headers={"Content-Disposition": export.content_disposition(filename), "Cache-Control": "no-store"})

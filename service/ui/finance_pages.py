"""Statements for the buying municipalities, regulation of closed years, and the spreadsheet
downloads, for the roles the API lets read them (statements and regulation: finance and
auditor; the central model: every reader; admin does all).

The statement page is the API's statement body (`statement_body`): the lines as of the page's
"Opgjort pr." date and, when later events changed them, what they are now and the difference.
Downloads hand the same bodies to the export module, so a file shows what the page shows.
"""

from __future__ import annotations

from typing import Any, Callable

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from domain import municipalities
from domain.errors import InvalidValue
from domain.values import NORDDJURS
from service import downloads, export
from service.db import rm_statement_lines
from service.ledger import Actor, BudgetLedger
from service.event_history import RegulationYear, StatementMonth
from service.queries.central import central_model
from service.queries.regulation import YearRegulation, regulation_body
from service.queries.statements import BUYERS, log_statement_reads, statement_body
from service.queries.values import public
from service.ui.asof import UiProblem, as_of_text, parse_as_of, read_position
from service.ui.auth import UiFinanceReader, UiReader
from service.ui.charts import Box, Series, stacked_bars
from service.ui.formatting import kroner
from service.ui.history_pages import step_bar
from service.ui.render import REFUSALS, facility_names, ledger_of, page, parse_month, parse_year, problem_of, render

router = APIRouter(include_in_schema=False)


def previous_month() -> tuple[int, int]:
    today = BudgetLedger.today()
    return (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)


def paying_municipalities(ledger: BudgetLedger, year: int) -> list[str]:
    """The municipalities with statement lines in the year (to choose among)."""
    query = select(rm_statement_lines.c.municipality).where(rm_statement_lines.c.year == year).distinct()
    with ledger.engine.connect() as connection:
        return sorted(connection.execute(query).scalars())


def check_municipality(code: str) -> str:
    """A buying municipality of the register (as the API's path), refused in Danish otherwise."""
    try:
        municipalities.check(code, "municipality")
    except InvalidValue as refused:
        reason = "er ikke en kendt kommune" if refused.rule == "unknown_municipality" else \
            "er ikke en kommunekode med 3 cifre (0-9)"
        raise UiProblem(422, f"Betalingskommune: «{code}» {reason}.") from None
    if code == NORDDJURS:
        raise UiProblem(422, "707 er Norddjurs selv: afregninger er for de kommuner, der køber pladser.")
    return code


def statement_of(request: Request, actor: Actor, municipality: str, year: int, month: int, as_of: str | None,
                 resource: str, as_of_position: str | None = None) -> dict[str, Any]:
    ledger = ledger_of(request)
    position = read_position(request, parse_as_of(as_of, as_of_position))
    found = statement_body(ledger, check_municipality(municipality), year, month, position,
                           request.app.state.projections)
    log_statement_reads(ledger, actor, resource, found.citizen_refs())
    return public(found)


@router.get("/ui/afregning")
def statements(request: Request, actor: UiFinanceReader, municipality: str | None = None, year: str | None = None,
               month: str | None = None, as_of: str | None = None, as_of_position: str | None = None) -> Response:
    default_year, default_month = previous_month()
    form = {"municipality": municipality or "", "year": year or str(default_year),
            "month": month or str(default_month), "as_of": as_of_text(as_of, as_of_position), "municipalities": [],
            "register": BUYERS}

    def build() -> dict[str, Any]:
        year_ = parse_year(year, default_year)
        month_ = parse_month(month or str(default_month))
        if month_ is None:
            raise UiProblem(422, "Vælg en måned: en afregning gælder én måned.")
        form["municipalities"] = paying_municipalities(ledger_of(request), year_)
        if not municipality:
            return {"statement": None}
        body = statement_of(request, actor, municipality, year_, month_, as_of, "/ui/afregning", as_of_position)
        history = step_bar(request, StatementMonth(body["municipality"], year_, month_), body["as_of_position"],
                           "/ui/afregning", municipality=body["municipality"], year=year_, month=month_)
        return {"statement": body, "names": facility_names(ledger_of(request), body["as_of_position"]),
                "history": history}

    return page(request, actor, "statements.html", form, build)


@router.get("/ui/efterregulering")
def regulation(request: Request, actor: UiFinanceReader, year: str | None = None, as_of: str | None = None,
               as_of_position: str | None = None) -> Response:
    default_year = BudgetLedger.today().year - 1
    form = {"year": year or str(default_year), "as_of": as_of_text(as_of, as_of_position)}

    def build() -> dict[str, Any]:
        year_ = parse_year(year, default_year)
        position = read_position(request, parse_as_of(as_of, as_of_position))
        found = regulation_body(ledger_of(request), year_, position)
        scope = RegulationYear(year_, year_ + found.years_to_tariff)
        return {"regulation": public(found), "names": facility_names(ledger_of(request), position),
                "history": step_bar(request, scope, position, "/ui/efterregulering", year=year_),
                "chart": regulation_chart(found) if found.facilities else None}

    return page(request, actor, "regulation.html", form, build)


def regulation_chart(found: YearRegulation) -> Any:
    """Each facility's result as a bar of its two parts: what is carried over (within the
    limit) and what goes to the tariff; the bar's height is the result."""
    rows = found.facilities
    return stacked_bars(
        [row.facility for row in rows],
        [Series("Overført", "carry-over", tuple(row.carry_over for row in rows)),
         Series("Til takst", "to-tariff", tuple(row.to_tariff for row in rows))],
        title=f"Resultat {found.year} pr. tilbud: overført og til takst",
        descriptions=[f"{row.name or row.facility} (resultat {kroner(row.result)} kr.)" for row in rows],
        box=Box(height=400, bottom=100))


def file_format(value: str) -> str:
    if value not in export.FORMATS:
        raise UiProblem(422, f"Format: «{value}» kendes ikke; vælg xlsx eller csv.")
    return value


def refused(request: Request, actor: Actor, error: Exception) -> Response:
    problem = problem_of(error)
    return render(request, actor, "message.html", {"problem": problem, "form": {}}, problem.status)


def busy(request: Request, actor: Actor) -> Response:
    message = "Du er allerede ved at hente et regneark. Vent, til det er hentet, og prøv så igen."
    response = render(request, actor, "message.html",
                      {"problem": {"status": 429, "message": message, "detail": None}, "form": {}}, 429)
    response.headers["Retry-After"] = str(downloads.RETRY_AFTER_SECONDS)
    return response


def spreadsheet(request: Request, actor: Actor, view: str, format: str,
                read: Callable[[str], tuple[dict[str, Any], str]]) -> Response:
    """A download of a view's body (`read` gives it and the file's name for the format), made
    as the API's export is (service/downloads.py): within the client's export slots (one
    more is a 429 page), refused when it holds more rows than an export may, and rendered in
    the export's worker processes; whatever is refused is a Danish page, not a 500."""
    slots: downloads.ExportSlots = request.app.state.export_slots
    try:
        fmt = file_format(format)
        slots.take(actor.name)
        try:
            body, filename = read(fmt)
            content = downloads.rendered(request.app.state.settings, view, fmt, body)
        finally:
            slots.give_back(actor.name)
    except downloads.ExportBusy:
        return busy(request, actor)
    except REFUSALS as error:
        return refused(request, actor, error)
    return downloads.download(content, filename, fmt)


@router.get("/ui/download/central/{year}")
def download_central(request: Request, year: str, actor: UiReader, format: str = "xlsx", month: str | None = None,
                     as_of: str | None = None, as_of_position: str | None = None) -> Response:
    """The central model as on the overview, as a workbook or a CSV file."""

    def read(fmt: str) -> tuple[dict[str, Any], str]:
        year_, month_ = parse_year(year, 0), parse_month(month)
        position = read_position(request, parse_as_of(as_of, as_of_position))
        return (public(central_model(ledger_of(request), year_, month_, position)),
                export.central_filename(year_, month_, fmt))

    return spreadsheet(request, actor, "central", format, read)


@router.get("/ui/download/statements/{municipality}/{year}/{month}")
def download_statement(request: Request, municipality: str, year: str, month: str, actor: UiFinanceReader,
                       format: str = "xlsx", as_of: str | None = None, as_of_position: str | None = None) -> Response:
    """A statement as on the statements page, as a workbook or a CSV file."""

    def read(fmt: str) -> tuple[dict[str, Any], str]:
        year_, month_ = parse_year(year, 0), parse_month(month)
        if month_ is None:
            raise UiProblem(422, "Vælg en måned: en afregning gælder én måned.")
        body = statement_of(request, actor, municipality, year_, month_, as_of,
                            f"/ui/download/statements/{municipality}/{year_}/{month_}", as_of_position)
        return body, export.statement_filename(municipality, year_, month_, fmt)

    return spreadsheet(request, actor, "statement", format, read)


@router.get("/ui/download/regulation/{year}")
def download_regulation(request: Request, year: str, actor: UiFinanceReader, format: str = "xlsx",
                        as_of: str | None = None, as_of_position: str | None = None) -> Response:
    """The regulation as on its page, as a workbook or a CSV file."""

    def read(fmt: str) -> tuple[dict[str, Any], str]:
        year_ = parse_year(year, 0)
        position = read_position(request, parse_as_of(as_of, as_of_position))
        return public(regulation_body(ledger_of(request), year_, position)), export.regulation_filename(year_, fmt)

    return spreadsheet(request, actor, "regulation", format, read)

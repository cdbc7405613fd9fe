"""The what-if screen: a year's revenue replayed with a draft of its tariff schedule, for the
roles that may ask the API's what-if (finance and auditor; admin does all).

The form is the year's published schedule as of the page's "Opgjort pr." point (its levels'
spans and rates, its special tariffs), each rate editable (a special tariff's left empty keeps
each citizen's granted rate). The result is the API's what-if body (service/queries/what_if.py, the
same read as POST /v1/regulation/{year}/what-if): per facility and per paying municipality,
what was charged, what the draft would have charged, and the difference, with totals; the
download is that body as the API's export renders it. Like every read the form is a GET: the
what-if records nothing. A rate that is not an amount from 0.01 to 100 000.00 kr. with at
most two decimals is refused beside its field, in Danish, and nothing is computed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from fastapi import APIRouter, Request
from starlette.responses import Response

from domain.errors import InvalidValue, NotFound
from domain.tariff_schedule import TariffSchedule
from domain.values import MAX_DAILY_RATE, check_daily_rate, money
from service import export
from service.event_history import WhatIfYear
from service.ledger import BudgetLedger
from service.queries.schedules import schedule_as_of
from service.queries.values import public
from service.queries.what_if import what_if_body
from service.ui.asof import UiProblem, as_of_text, parse_as_of, read_position
from service.ui.auth import UiFinanceReader
from service.ui.finance_pages import spreadsheet
from service.ui.formatting import kroner
from service.ui.history_pages import step_bar
from service.ui.render import ledger_of, page, parse_year, with_query

router = APIRouter(include_in_schema=False)
_AMOUNT = re.compile(r"\d+(\.\d+)?")
_THOUSANDS = re.compile(r"\d{1,3}(\.\d{3})+")


def field_of(code: int | str) -> str:
    """The form field of a level's (1..8) or a special tariff's (S1, S2) draft rate."""
    return f"rate_{code}"


def parse_amount(text: str) -> Decimal:
    """A Danish amount as written in the form: 1250, 1250,50, 1.250,50 or 1250.50."""
    plain = text.strip().replace(" ", "").replace("\u00a0", "")
    if "," in plain:
        plain = plain.replace(".", "").replace(",", ".")
    elif _THOUSANDS.fullmatch(plain):
        plain = plain.replace(".", "")
    if not _AMOUNT.fullmatch(plain):
        raise InvalidOperation(text)
    return Decimal(plain)


def checked_rate(text: str, label: str) -> Decimal:
    """A draft rate by the domain's rule for daily rates, or ValueError with the Danish reason."""
    rule = f"skal være et beløb fra 0,01 til {kroner(MAX_DAILY_RATE)} kr. med højst to decimaler, fx 1250,00"
    try:
        amount = parse_amount(text)
    except InvalidOperation:
        raise ValueError(f"{label}: «{text}» er ikke et beløb; det {rule}.") from None
    try:
        return check_daily_rate(money(amount, "daily_rate"), "daily_rate")
    except InvalidValue:
        raise ValueError(f"{label}: {text} {rule}.") from None


@dataclass
class Draft:
    """The form's rows (the schedule's levels and special tariffs, with what was entered and
    any error beside it), and whether rates were sent."""

    levels: list[dict[str, Any]]
    special_tariffs: list[dict[str, Any]]
    sent: bool

    @property
    def errors(self) -> list[str]:
        return [row["error"] for row in (*self.levels, *self.special_tariffs) if row["error"]]

    def params(self) -> dict[str, str]:
        """The rates as the form sends them (for the download links)."""
        return {row["field"]: row["value"] for row in (*self.levels, *self.special_tariffs) if row["value"]}

    def body_levels(self) -> list[dict[str, Any]]:
        return [{"level": row["level"], "min_hours": row["min_hours"], "max_hours": row["max_hours"],
                 "daily_rate": str(row["rate"])} for row in self.levels]

    def body_special_tariffs(self) -> list[dict[str, Any]]:
        return [{"code": row["code"], "name": row["name"],
                 "daily_rate": None if row["rate"] is None else str(row["rate"])} for row in self.special_tariffs]


def draft_of(schedule: TariffSchedule, sent: Mapping[str, str]) -> Draft:
    """The schedule's rows with the rates sent (a level's published rate where its field was
    not sent at all; a field sent empty is refused)."""
    any_sent = any(field_of(code) in sent for code in [*range(1, 9), "S1", "S2"])
    levels = []
    for level in schedule.levels:
        field = field_of(level.level)
        value = (sent.get(field) or "").strip() if field in sent else kroner(level.daily_rate)
        row = {"level": level.level, "min_hours": str(level.min_hours), "max_hours": str(level.max_hours),
               "published_rate": level.daily_rate, "field": field, "value": value, "rate": None, "error": None}
        try:
            row["rate"] = checked_rate(value, f"Niveau {level.level}")
        except ValueError as refused:
            row["error"] = str(refused) if value else f"Niveau {level.level}: skriv en takst (kr. pr. døgn)."
        levels.append(row)
    special = []
    for item in schedule.current["special_tariffs"]:  # type: ignore[index]
        field = field_of(item["code"])
        value = (sent.get(field) or "").strip()
        row = {"code": item["code"], "name": item["name"], "field": field, "value": value, "rate": None, "error": None}
        if value:
            try:
                row["rate"] = checked_rate(value, f"Særtakst {item['code']}")
            except ValueError as refused:
                row["error"] = str(refused)
        special.append(row)
    return Draft(levels, special, any_sent)


def published_schedule(ledger: BudgetLedger, year: int, position: int) -> TariffSchedule:
    try:
        return schedule_as_of(ledger, year, position)
    except NotFound:
        raise UiProblem(404, f"Der er ingen offentliggjort takstmodel for {year} pr. den valgte dato. Vælg et år "
                             "med en takstmodel.") from None


def rate_params(request: Request) -> dict[str, str]:
    return {name: value for name, value in request.query_params.items() if name.startswith("rate_")}


@router.get("/ui/hvad-hvis")
def what_if_page(request: Request, actor: UiFinanceReader, year: str | None = None, as_of: str | None = None,
                 as_of_position: str | None = None) -> Response:
    default_year = BudgetLedger.today().year
    form: dict[str, Any] = {"year": year or str(default_year), "as_of": as_of_text(as_of, as_of_position),
                            "draft": None}

    def build() -> dict[str, Any]:
        year_ = parse_year(year, default_year)
        ledger = ledger_of(request)
        position = read_position(request, parse_as_of(as_of, as_of_position))
        draft = form["draft"] = draft_of(published_schedule(ledger, year_, position), rate_params(request))
        history = step_bar(request, WhatIfYear(year_), position, "/ui/hvad-hvis", year=year_, **draft.params())
        if draft.errors:
            raise UiProblem(422, "Udkastet blev ikke beregnet: ret de markerede takster.")
        if not draft.sent:
            return {"result": None, "history": history}
        body = public(what_if_body(ledger, year_, position, draft.body_levels(), draft.body_special_tariffs()))
        links = {fmt: with_query(f"/ui/download/what-if/{year_}", format=fmt, as_of_position=position,
                                 **draft.params()) for fmt in export.FORMATS}
        return {"result": body, "history": history, "downloads": links}

    return page(request, actor, "what_if.html", form, build)


@router.get("/ui/download/what-if/{year}")
def download_what_if(request: Request, year: str, actor: UiFinanceReader, format: str = "xlsx",
                     as_of: str | None = None, as_of_position: str | None = None) -> Response:
    """The what-if as on its page, as a workbook or a CSV file."""

    def read(fmt: str) -> tuple[dict[str, Any], str]:
        year_ = parse_year(year, 0)
        ledger = ledger_of(request)
        position = read_position(request, parse_as_of(as_of, as_of_position))
        draft = draft_of(published_schedule(ledger, year_, position), rate_params(request))
        if draft.errors:
            raise UiProblem(422, "Udkastet kan ikke hentes: " + " ".join(draft.errors))
        if not draft.sent:
            raise UiProblem(422, "Angiv udkastets takster (rate_1 … rate_8): hent beregningen fra siden «Hvad nu hvis?».")
        body = public(what_if_body(ledger, year_, position, draft.body_levels(), draft.body_special_tariffs()))
        return body, export.what_if_filename(year_, fmt)

    return spreadsheet(request, actor, "what_if", format, read)


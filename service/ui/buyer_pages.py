"""The "Køberkommune" pages: what a buying municipality sees (docs/adr/0026). A `buyer`
session sees its own municipality only (and no other page of the UI); finance, auditor and
admin choose the municipality. Each page is the API's read (service/queries/buyers.py,
service/queries/statements.py), the same body for the same point, and logs its citizen reads
under its own path.

- /ui/koeber: the citizens it pays for this year, with the level on the page's day and the
  amount of the month so far;
- /ui/koeber/borger/{ref}: a citizen's support: periods of level and rate, each døgnskema as
  a table of minutes by theme, time slot and direct/indirect, and what changed from the one
  before;
- /ui/koeber/afregning: its statement of a month, and the statement as a PDF document
  (/ui/koeber/dokument/...), also as a correction since an earlier day.

Each page has a step bar of its own (docs/adr/0045, service/queries/buyer_steps.py): the
positions at which what it shows that municipality changed, with the time and the part of the
page that changed, never the event's type or actor.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from service import buyers, export
from service.access import BUYING_READERS
from service.audit import log_citizen_reads
from service.auth import BUYER
from service.danish import KINDS, SLOTS, THEMES
from service.ledger import Actor, BudgetLedger
from service.queries.buyer_steps import BuyerSteps, citizens_steps, statement_steps, support_steps
from service.queries.buyers import buyer_citizen_body, buyer_citizens_body
from service.queries.values import public
from service.queries.statements import (
    BUYERS, log_statement_reads, point_of, statement_at, statement_body, statement_document_pdf,
)
from service.read_models import StatementReads
from service.ui.asof import PointInTime, UiProblem, parse_as_of, read_position, store_position
from service.ui.auth import ui_allow
from service.ui.formatting import COPENHAGEN
from service.ui.finance_pages import check_municipality, previous_month, refused
from service.ui.render import REFUSALS, facility_names, ledger_of, page, parse_month, parse_year, with_query

router = APIRouter(include_in_schema=False)
UiBuyingReader = Annotated[Actor, Depends(ui_allow(*BUYING_READERS))]


def municipality_of(actor: Actor, chosen: str | None) -> str | None:
    """The municipality a page shows: a buyer's own (another is refused), else the one chosen."""
    if actor.role == BUYER:
        if chosen and chosen != actor.municipality:
            raise UiProblem(403, "Du kan kun se din egen kommunes borgere og afregninger.")
        return actor.municipality
    return check_municipality(chosen) if chosen else None


CHANGED = {"citizens": "borgere og betalte perioder", "amounts": "beløb for måneden til dato",
           "names": "tilbuddenes navne", "paid": "om kommunen betaler for borgeren",
           "periods": "perioder, niveau og takst", "assessments": "døgnskemaer", "month": "månedens afregning",
           "year": "årets afregninger"}
"""What a step bar names as changed (`BuyerChange.changed`): the part of the page, never the event."""


def step_links(steps: BuyerSteps, path: str, **params: Any) -> dict[str, Any]:
    """A buyer page's step bar (docs/adr/0045): `steps`, what changed in words, and the links
    that read `path` with `params` as of the position just before the last change and as of
    the next one."""
    previous = steps.previous_position

    def words(change: Any) -> str | None:
        return None if change is None else ", ".join(CHANGED[part] for part in change.changed).capitalize()

    return {"steps": steps, "last_changed": words(steps.last), "next_changed": words(steps.next),
            "previous_href": None if previous is None else with_query(path, **params, as_of=previous),
            "next_href": None if steps.next is None else with_query(path, **params, as_of=steps.next.position),
            "latest_href": with_query(path, **params)}


def base_form(actor: Actor, municipality: str | None, as_of: str | None) -> dict[str, Any]:
    return {"municipality": municipality or "", "as_of": as_of or "", "register": BUYERS,
            "is_buyer": actor.role == BUYER}


@router.get("/ui/koeber")
def buyer_citizens(request: Request, actor: UiBuyingReader, municipality: str | None = None,
                   as_of: str | None = None) -> Response:
    form = base_form(actor, municipality if actor.role != BUYER else actor.municipality, as_of)

    def build() -> dict[str, Any]:
        code = municipality_of(actor, municipality)
        if code is None:
            return {"body": None}
        point = parse_as_of(as_of)
        position = read_position(request, point)
        ledger = ledger_of(request)
        day = reference_day(ledger, point)
        found = buyer_citizens_body(ledger, actor, code, day.year, position)
        so_far = buyers.month_to_date(ledger, code, day, position)
        body = public(found)
        rows = []
        for paid, row in zip(found.citizens, body["citizens"]):
            now = so_far.get(paid.stay_id)
            runs_today = paid.paid_from <= day <= paid.paid_to
            rows.append({**row, "level_now": _level(now.level, now.special_tariff) if now and runs_today
                         else _level(paid.level, paid.special_tariff),
                         "month_to_date": now.amount if now and runs_today else Decimal("0.00")})
        log_citizen_reads(ledger, actor, "/ui/koeber", [r["citizen_ref"] for r in rows])
        chosen = None if actor.role == BUYER else code
        return {"body": body, "rows": rows, "day": day, "total": sum((r["month_to_date"] for r in rows), Decimal(0)),
                "names": facility_names(ledger, position),
                "history": step_links(citizens_steps(ledger, actor, code, day, position), "/ui/koeber",
                                      municipality=chosen)}

    return page(request, actor, "koeber.html", form, build)


def reference_day(ledger: BudgetLedger, point: PointInTime | None) -> date:
    """The day whose level and month so far the list shows: the day of "Opgjort pr." (of a
    position: the day it was recorded, in Copenhagen), today for the latest."""
    if point is None:
        return BudgetLedger.today()
    if point.day is not None:
        return point.day
    if point.instant is not None:
        return point.instant.astimezone(COPENHAGEN).date()
    recorded = point_of(ledger, point.position or 0).recorded_at
    return BudgetLedger.today() if recorded is None else recorded.astimezone(COPENHAGEN).date()


def _level(level: int | None, special: str | None) -> str:
    return special or ("-" if level is None else str(level))


@router.get("/ui/koeber/borger/{ref:path}")
def buyer_citizen(request: Request, ref: str, actor: UiBuyingReader, municipality: str | None = None,
                  as_of: str | None = None) -> Response:
    form = {**base_form(actor, municipality if actor.role != BUYER else actor.municipality, as_of), "ref": ref}

    def build() -> dict[str, Any]:
        code = municipality_of(actor, municipality)
        if code is None:
            raise UiProblem(422, "Vælg en betalingskommune.")
        position = read_position(request, parse_as_of(as_of))
        ledger = ledger_of(request)
        found = buyer_citizen_body(ledger, actor, code, ref, position)
        log_citizen_reads(ledger, actor, f"/ui/koeber/borger/{ref}", [found.citizen_ref])
        body = public(found)
        chosen = None if actor.role == BUYER else code
        return {"support": body, "assessments": [schema_table(a) for a in body["assessments"]],
                "names": facility_names(ledger, found.as_of_position),
                "history": step_links(support_steps(ledger, actor, code, ref, position),
                                      f"/ui/koeber/borger/{quote(ref, safe='')}", municipality=chosen)}

    return page(request, actor, "koeber_borger.html", form, build)


def schema_table(assessment: dict[str, Any]) -> dict[str, Any]:
    """A døgnskema as rows by theme and columns by time slot and kind (minutes), with totals."""
    minutes: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    for entry in assessment["entries"]:
        cell = (entry["slot"], entry["kind"])
        minutes[entry["theme"]][cell] = minutes[entry["theme"]].get(cell, 0) + entry["minutes"]
    columns = [(slot, kind) for slot in SLOTS for kind in KINDS]
    order = {theme: i for i, theme in enumerate(THEMES)}
    rows = [{"theme": THEMES.get(theme, theme), "cells": [cells.get(c, 0) for c in columns],
             "total": sum(cells.values())} for theme, cells in sorted(minutes.items(), key=lambda t: order.get(t[0], 99))]
    changes = assessment["changes"]
    return {**assessment, "rows": rows, "slots": [SLOTS[s] for s in SLOTS], "kinds": [KINDS[k] for k in KINDS],
            "column_totals": [sum(r["cells"][i] for r in rows) for i in range(len(columns))],
            "change_rows": [{**e, "theme_name": THEMES.get(e["theme"], e["theme"]), "slot_name": SLOTS.get(e["slot"]),
                             "kind_name": KINDS.get(e["kind"]), "difference": e["minutes_after"] - e["minutes_before"]}
                            for e in (changes["entries"] if changes else [])]}


@router.get("/ui/koeber/afregning")
def buyer_statement(request: Request, actor: UiBuyingReader, municipality: str | None = None, year: str | None = None,
                    month: str | None = None, as_of: str | None = None, siden: str | None = None) -> Response:
    default_year, default_month = previous_month()
    form = {**base_form(actor, municipality if actor.role != BUYER else actor.municipality, as_of),
            "year": year or str(default_year), "month": month or str(default_month), "siden": siden or ""}

    def build() -> dict[str, Any]:
        code = municipality_of(actor, municipality)
        year_ = parse_year(year, default_year)
        month_ = parse_month(month or str(default_month))
        if month_ is None:
            raise UiProblem(422, "Vælg en måned: en afregning gælder én måned.")
        if code is None:
            return {"statement": None}
        ledger = ledger_of(request)
        position = read_position(request, parse_as_of(as_of))
        found = statement_body(ledger, code, year_, month_, position, request.app.state.projections)
        log_statement_reads(ledger, actor, "/ui/koeber/afregning", found.citizen_refs())
        chosen = None if actor.role == BUYER else code
        return {"statement": public(found), "names": facility_names(ledger, position),
                "months": year_of_statements(ledger, code, year_, position),
                "history": step_links(statement_steps(ledger, actor, code, year_, month_, position),
                                      "/ui/koeber/afregning", municipality=chosen, year=year_, month=month_)}

    return page(request, actor, "koeber_afregning.html", form, build)


def year_of_statements(ledger: BudgetLedger, municipality: str, year: int, position: int) -> list[dict[str, Any]]:
    """The year's statements of the municipality as of the position: each month with lines,
    its number of stays and its total (the statements' own figures)."""
    reads = StatementReads(ledger)
    months = [statement_at(reads, municipality, year, month, position) for month in range(1, 13)]
    return [{"month": s.month, "stays": len(s.lines), "total": s.total} for s in months if s.lines]


@router.get("/ui/koeber/dokument/{municipality}/{year}/{month}")
def buyer_document(request: Request, municipality: str, year: str, month: str, actor: UiBuyingReader,
                   as_of: str | None = None, siden: str | None = None) -> Response:
    """The statement as the PDF of GET /v1/statements/.../document, as of the page's day; with
    `siden` (a day) the correction since the end of that day."""
    try:
        code = municipality_of(actor, municipality)
        assert code is not None
        year_, month_ = parse_year(year, 0), parse_month(month)
        if month_ is None:
            raise UiProblem(422, "Vælg en måned: en afregning gælder én måned.")
        position = read_position(request, parse_as_of(as_of))
        since_point = parse_as_of(siden, field="Rettelse siden")
        since = store_position(request, since_point, "Rettelse siden") if since_point else None
        if since is not None and since > position:
            raise UiProblem(422, "Rettelse siden skal ligge før eller på Opgjort pr.")
        document = statement_document_pdf(ledger_of(request), code, year_, month_, position, since)
    except REFUSALS as error:
        return refused(request, actor, error)
    log_statement_reads(ledger_of(request), actor, f"/ui/koeber/dokument/{code}/{year_}/{month_}", document.citizen_refs)
    suffix = "" if since is None else f"-rettelse-siden-{since}"
    return Response(document.content, media_type="application/pdf", headers={
        "Content-Disposition": export.content_disposition(
            f"afregning-{code}-{year_}-{month_:02d}-position-{position}{suffix}.pdf"),
        "Cache-Control": "no-store"})

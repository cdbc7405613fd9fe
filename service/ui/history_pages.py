"""Walking the ledger's history in the web UI (docs/adr/0030).

- "Hændelser" (/ui/haendelser): the ledger's events, newest first, a page at a time, filtered
  by facility, citizen, type and actor (the query `service.event_history.EventHistory`). Each
  event links to its facility's budget just before it (as of its position − 1) and just after
  it (as of its position), for the year it concerns (an event of a tariff schedule: the central
  model of every facility). It shows what GET /v1/audit shows, for
  the same roles (finance and auditor), and logs the citizens it names as that read does.
- The step bar of every page with figures (`step_bar`): the event that made the page what it
  is and the next one that changes it (`service.event_history.ChangePoints`), with links that
  read the same page as of the position just before that event and as of the next event.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from domain.errors import InvalidValue
from service.audit import log_citizen_reads
from service.event_history import EVENT_TYPES, ChangePoints, EventHistory, EventQuery, LedgerEvent, Scope
from service.ledger import BudgetLedger
from service.ui.asof import MAX_POSITION, UiProblem, as_of_text, parse_as_of, store_position
from service.ui.auth import UiFinanceReader
from service.ui.formatting import event_type
from service.ui.render import facility_names, ledger_of, page, with_query

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
FIELDS = {"facility": "Tilbud", "citizen": "Borger", "type": "Type", "actor": "Udført af",
          "after_position": "Side", "before_position": "Side", "limit": "Antal"}


def step_bar(request: Request, scope: Scope, position: int | None, path: str, **params: Any) -> dict[str, Any]:
    """The page's place in history (`Steps`) and the links that step through it: `path` with
    `params` read as of the position just before the event that last changed the page, and as
    of the next event that changes it."""
    steps = ChangePoints(ledger_of(request)).steps(scope, position)
    previous = steps.previous_position
    return {"steps": steps,
            "previous_href": None if previous is None else with_query(path, **params, as_of_position=previous),
            "next_href": None if steps.next is None else with_query(path, **params,
                                                                      as_of_position=steps.next.position),
            "latest_href": with_query(path, **params)}


def budget_year(event: LedgerEvent) -> int:
    """The year whose budget an event is best seen in: its own year (frame, schedule,
    accounts), else the year of its effective date."""
    return event.year if event.year is not None and 2000 <= event.year <= 2099 else event.effective_date.year


def budget_path(facility: str | None) -> str:
    """The facility's budget page; for an event of no facility (a tariff schedule's), the
    central model of every facility."""
    return "/ui/oversigt" if facility is None else f"/ui/tilbud/{quote(facility, safe='')}"


def number_or_none(value: str | None, field: str) -> int | None:
    if value in (None, ""):
        return None
    if not value.isdigit() or not value.isascii() or int(value) > MAX_POSITION:
        raise UiProblem(422, f"{FIELDS[field]}: «{value}» er ikke en position (et helt tal fra 0 til {MAX_POSITION}).")
    return int(value)


def danish_refusal(error: InvalidValue) -> UiProblem:
    """The query's refusal, in Danish beside the field it names."""
    label = FIELDS.get(error.field or "", error.field or "")
    if error.rule == "unknown_event_type":
        return UiProblem(422, f"{label}: vælg en af hændelsestyperne på listen.")
    if error.field in ("facility", "citizen"):
        return UiProblem(422, f"{label}: en reference er 1-64 tegn (bogstaver, tal, punktum, bindestreg, "
                              "understreg) og må ikke ligne et CPR-nummer.", error.message)
    return UiProblem(422, f"{label}: ugyldig værdi.", error.message)


@router.get("/ui/haendelser")
def events(request: Request, actor: UiFinanceReader, facility: str | None = None, citizen: str | None = None,
           type: str | None = None,
           actor_name: Annotated[str | None, Query(alias="actor")] = None, as_of: str | None = None,
           as_of_position: str | None = None, before_position: str | None = None,
           after_position: str | None = None) -> Response:
    """The ledger's events, newest first, filtered and paged (see the module)."""
    form = {"facility": facility or "", "citizen": citizen or "", "type": type or "", "actor_name": actor_name or "",
            "as_of": as_of_text(as_of, as_of_position), "types": {t: event_type(t) for t in EVENT_TYPES},
            "facilities": {}}
    filters = {"facility": facility or None, "citizen": citizen or None, "type": type or None,
               "actor": actor_name or None}

    def build() -> dict[str, Any]:
        ledger: BudgetLedger = ledger_of(request)
        until = store_position(request, parse_as_of(as_of, as_of_position))
        form["facilities"] = facility_names(ledger, until)
        query = EventQuery(facility=filters["facility"], citizen=filters["citizen"], type=filters["type"],
                           actor=filters["actor"], until_position=until,
                           before_position=number_or_none(before_position, "before_position"),
                           after_position=number_or_none(after_position, "after_position"), limit=PAGE_SIZE)
        try:
            found = EventHistory(ledger).page(query)
        except InvalidValue as refused:
            raise danish_refusal(refused) from None
        log_citizen_reads(ledger, actor, with_query("/ui/haendelser", **filters, as_of_position=until),
                          (e.citizen_ref for e in found.events))
        keep = {**filters, "as_of": form["as_of"] or None}
        rows = [{"event": e, "year": budget_year(e),
                 "before_href": None if e.type == "FacilityRegistered" else with_query(
                     budget_path(e.facility), year=budget_year(e), as_of_position=e.before),
                 "after_href": with_query(budget_path(e.facility), year=budget_year(e), as_of_position=e.position),
                 "why_href": None if e.facility is None else with_query(
                     "/ui/forklar", facility=e.facility, year=budget_year(e), fra=e.before, til=e.position)}
                for e in found.events]
        return {"page": found, "rows": rows, "names": form["facilities"],
                "older_href": None if found.older is None else with_query("/ui/haendelser", **keep,
                                                                            before_position=found.older),
                "newer_href": None if found.newer is None else with_query("/ui/haendelser", **keep,
                                                                            after_position=found.newer),
                "first_href": with_query("/ui/haendelser", **keep) if (before_position or after_position) else None}

    return page(request, actor, "events.html", form, build)


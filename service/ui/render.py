"""Rendering a page: the templates, the navigation a role sees, the page's own form values,
and refusals shown as a Danish message on the page rather than as a 500.

A page's figures are built by a function that calls the queries (service/queries/), as the
API does; whatever those refuse (an unknown facility or citizen, a point not recorded yet, projections behind) is
shown on the same page, with the form still there to ask again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from domain.errors import DomainError, InvalidValue, NotFound
from service.access import FINANCE_READERS, READERS, Forbidden, may
from service.commands.declarations import COMMANDS
from service.ledger import Actor, BudgetLedger, Timeline
from service.projection import ProjectionLagging
from service.read_models import BudgetReads
from service.ui.asof import UiProblem, as_of_label
from service.ui.csrf import csrf_field
from service.ui.formatting import FILTERS, MONTHS, instant

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
TEMPLATES.env.filters.update(FILTERS)
TEMPLATES.env.filters.update({"as_of_label": as_of_label,
                              "instant_seconds": lambda moment: instant(moment, seconds=True)})
TEMPLATES.env.globals["MONTHS"] = MONTHS
TEMPLATES.env.globals["csrf_field"] = csrf_field
"""`{{ csrf_field() }}` inside every `<form method="post">` (service/ui/csrf.py)."""
TEMPLATES.context_processors.append(lambda request: {"today": BudgetLedger.today().isoformat()})


COMMAND_ROLES = tuple(sorted({role for command in COMMANDS.values() for role in command.spec.roles}))
"""The roles that may send some command (the declarations' roles; admin besides): the forms' menu item."""


def may_send(actor: Actor | None, name: str) -> bool:
    """Whether the actor's role may send the command of this import name (its declared roles;
    admin does all): a page shows a form's link only to those it admits."""
    return actor is not None and name in COMMANDS and may(actor, COMMANDS[name].spec.roles)


TEMPLATES.env.globals["may_send"] = may_send


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    roles: tuple[str, ...]


NAV = (
    NavItem("/ui/oversigt", "Oversigt", READERS),
    NavItem("/ui/forklar", "Hvorfor ændrede det sig?", READERS),
    NavItem("/ui/borger", "Borgere", READERS),
    NavItem("/ui/afregning", "Afregninger", FINANCE_READERS),
    NavItem("/ui/efterregulering", "Efterregulering", FINANCE_READERS),
    NavItem("/ui/hvad-hvis", "Hvad nu hvis?", FINANCE_READERS),
    NavItem("/ui/haendelser", "Hændelser", FINANCE_READERS),
    NavItem("/ui/registrer", "Registrér", COMMAND_ROLES),
    NavItem("/ui/koeber", "Køberkommune", (*FINANCE_READERS, "buyer")),
)


def ledger_of(request: Request) -> BudgetLedger:
    return request.app.state.ledger


def with_query(path: str, **params: Any) -> str:
    """A link with the given query parameters (empty ones left out)."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


TEMPLATES.env.globals["with_query"] = with_query


def render(request: Request, actor: Actor | None, template: str, context: dict[str, Any], status: int = 200
           ) -> Response:
    as_of = (context.get("form") or {}).get("as_of")
    nav = [{"href": with_query(item.href, as_of=as_of), "label": item.label, "path": item.href}
           for item in NAV if actor is not None and may(actor, item.roles)]
    return TEMPLATES.TemplateResponse(request, template, {"actor": actor, "nav": nav, **context}, status_code=status)


REFUSALS = (UiProblem, DomainError, ProjectionLagging, Forbidden)
"""What a read refuses with; anything else is a failure of the service and stays one."""


def problem_of(error: Exception) -> UiProblem:
    """A refusal from the reads, as a Danish message (the service's own words kept as detail)."""
    if isinstance(error, UiProblem):
        return error
    if isinstance(error, NotFound):
        return UiProblem(404, "Findes ikke i ledgeren pr. den valgte dato.", error.message)
    if isinstance(error, InvalidValue):
        return UiProblem(422, "Ugyldig værdi i forespørgslen.", error.message)
    if isinstance(error, DomainError):
        return UiProblem(409, "Forespørgslen kan ikke besvares som stillet.", error.message)
    if isinstance(error, ProjectionLagging):
        return UiProblem(503, "Beregningerne er ikke nået helt frem endnu. Prøv igen om et øjeblik.", str(error))
    assert isinstance(error, Forbidden)
    return UiProblem(403, "Forespørgslen kan ikke besvares som stillet.", error.message)


def page(request: Request, actor: Actor, template: str, form: dict[str, Any],
         build: Callable[[], dict[str, Any]]) -> Response:
    """Render `template` with what `build` computes, or with the reason it could not."""
    try:
        context = build()
    except REFUSALS as error:
        problem = problem_of(error)
        return render(request, actor, template, {"form": form, "problem": problem}, problem.status)
    return render(request, actor, template, {"form": form, "problem": None, **context})


def facility_names(ledger: BudgetLedger, position: int | None = None) -> dict[str, str]:
    """Facility names by code as of `position` (the latest: None), to show beside the codes."""
    at = Timeline(ledger.engine).max_position() if position is None else position
    return {code: value["name"] for code, value in sorted(BudgetReads(ledger).facts(at, "facility", 0).items())}


def parse_year(value: str | None, default: int) -> int:
    if not value:
        return default
    if not value.isdigit() or not 2000 <= int(value) <= 2099:
        raise UiProblem(422, f"År: «{value}» er ikke et år mellem 2000 og 2099.")
    return int(value)


def parse_month(value: str | None) -> int | None:
    """1..12, or None for the whole year ('' or 'all')."""
    if not value or value == "all":
        return None
    if not value.isdigit() or not 1 <= int(value) <= 12:
        raise UiProblem(422, f"Måned: «{value}» er ikke en måned (1-12) eller hele året.")
    return int(value)

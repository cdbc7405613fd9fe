"""A citizen's timeline: stays with their periods of level and service rate, and every event
the ledger holds about the citizen, retracted ones included and marked with who retracted
them, when and why. It is GET /v1/citizens/{ref} (the same body, the same roles), as of the
page's "Opgjort pr." date; the read is logged under the page's own path (`/ui/borger/{ref}`).
Each assessment in force is shown as its døgnskema with what changed from the one before it
(service/queries/assessments.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from service.audit import log_citizen_reads
from service.event_history import CitizenEvents
from service.queries.assessments import citizen_assessments
from service.queries.citizens import citizen_body
from service.queries.positions import consistent_position
from service.queries.values import public
from service.ui.asof import as_of_text, parse_as_of, store_position
from service.ui.auth import UiReader
from service.ui.doegnskema import fieldset
from service.ui.history_pages import step_bar
from service.ui.render import facility_names, ledger_of, page, with_query
from service.ui.timeline import timeline

router = APIRouter(include_in_schema=False)


@router.get("/ui/borger")
def find_citizen(request: Request, actor: UiReader, ref: str | None = None, as_of: str | None = None) -> Response:
    """A form to look a citizen up by reference; with a reference, its timeline."""
    if ref and ref.strip():
        return RedirectResponse(with_query(f"/ui/borger/{quote(ref.strip(), safe='')}", as_of=as_of), status_code=303)
    return page(request, actor, "citizen.html", {"ref": "", "as_of": as_of or ""}, lambda: {"citizen": None})


@router.get("/ui/borger/{ref:path}")
def citizen(request: Request, ref: str, actor: UiReader, as_of: str | None = None,
            as_of_position: str | None = None) -> Response:
    form = {"ref": ref, "as_of": as_of_text(as_of, as_of_position)}

    def build() -> dict[str, Any]:
        position = store_position(request, parse_as_of(as_of, as_of_position))
        read_at = consistent_position(ledger_of(request), request.app.state.projections, position,
                                      request.app.state.settings.read_wait_seconds)
        found = citizen_body(ref, ledger_of(request), position, read_at)
        log_citizen_reads(ledger_of(request), actor, f"/ui/borger/{ref}", [found.citizen_ref])
        history = step_bar(request, CitizenEvents(found.citizen_ref), found.as_of_position,
                           f"/ui/borger/{quote(found.citizen_ref, safe='')}")
        assessments = citizen_assessments(ledger_of(request), found.citizen_ref, read_at).assessments
        body = public(found)
        return {"citizen": body, "events": timeline(body["events"]), "history": history,
                "names": facility_names(ledger_of(request), position),
                "assessments": [(record, fieldset(record=record)) for record in assessments]}

    return page(request, actor, "citizen.html", form, build)

"""Move-in (indflytning) and reassessment (revurdering) with a døgnskema, as forms of the web
UI, for the roles that may send those commands (case workers; admin does all).

One form, two buttons: "Beregn" shows, before anything is saved, the hours per day and the
level the døgnskema gives under the schedule of the effective date (service/ui/doegnskema.py
`preview`, the ledger's own figure), and when they need a special tariff (level 8 and above)
the same form asks for it; "Gem" records the command through `BudgetLedger.handle`, as the
API does, with the session's actor. Every rendered form carries an idempotency key of its own,
kept through its previews and refusals, so a form sent twice records once; the key is bound
to the command's request (method, path, body), as an `Idempotency-Key` of the API is; the
same move-in or reassessment sent again by the form rendered anew (Back, after saving) is not
recorded twice either, unless "Registrer igen" is ticked (docs/adr/0044). After
"Gem" the page shows the events recorded and, as every form's answer does
(service/ui/form_pages.py `links_after`), links to the facility's budget and to "Hvorfor
ændrede det sig?" for exactly these events.

Refusals are shown beside their field in Danish: the døgnskema's cells by
`parse_assessment`, the other fields by the command's declared bounds, and the ledger's rules
by the field they name. POSTs pass the UI's CSRF check (service/ui/csrf.py).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Mapping
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.responses import Response

from domain import municipalities
from domain.errors import DomainError, InvalidValue, NotFound
from domain.values import NORDDJURS
from projections.assessments import AssessmentRecord
from service.audit import log_citizen_reads
from service.commands.declarations import MoveIn, Reassess
from service.commands.fields import Assessment
from service.ledger import Actor, BudgetLedger, IdempotencyConflict
from service.projection import ProjectionLagging
from service.queries.assessments import AssessmentPreview, citizen_assessments
from service.queries.positions import consistent_position
from service.ui.auth import ui_allow
from service.ui.doegnskema import SkemaErrors, cell_values, fieldset, parse_assessment, preview, values_of
from service.ui.form_pages import CONFIRM, AlreadyRecorded, already_recorded, describe_events, links_after
from service.ui.form_pages import remember_recorded
from service.ui.forms import form_idempotency, new_key, valid_key
from service.ui.render import facility_names, ledger_of, render

router = APIRouter(include_in_schema=False)

MoveInActor = Annotated[Actor, Depends(ui_allow(*MoveIn.spec.roles))]
ReassessActor = Annotated[Actor, Depends(ui_allow(*Reassess.spec.roles))]

FIELDS = ("citizen_ref", "facility", "effective_date", "paying_municipality", "special_code", "special_rate",
          "reason", "case_ref", "idempotency_key")
"""The form's fields besides the døgnskema's cells."""
LABELS = {
    "citizen_ref": "Borgerreference", "facility": "Tilbud", "effective_date": "Virkningsdato",
    "paying_municipality": "Betalingskommune", "special_tariff": "Særtakst", "special_code": "Særtakst",
    "special_rate": "Særtakstens døgntakst", "reason": "Begrundelse", "case_ref": "Sagsnummer",
}
RULES = {
    "no_tariff_schedule": "Der er intet takstblad for året: økonomi skal offentliggøre det, før døgnskemaer med "
                          "virkning det år kan beregnes og registreres.",
    "level_8_needs_special_tariff": "Timerne ligger på eller over niveau 8: vælg en særtakst (S1/S2) og skriv "
                                    "dens døgntakst.",
    "special_tariff_not_in_schedule": "Årets takstblad har ikke denne særtakst.",
    "reason_required": "Skriv en begrundelse: en særtakst kræver den.",
    "open_stay_exists": "Borgeren bor allerede på et tilbud: registrér fraflytningen først.",
    "stays_overlap": "Indflytningen skal have virkning efter det forrige ophold sluttede.",
    "outside_stay": "Borgeren har intet ophold på den dato: revurderingen skal have virkning inden for et ophold.",
    "unknown_facility": "Tilbuddet findes ikke i ledgeren.",
    "unknown_citizen": "Borgeren findes ikke i ledgeren.",
    "cpr_number_refused": "Feltet ligner et CPR-nummer: skriv ingen personoplysninger.",
    "unknown_municipality": "Vælg en kommune fra listen.",
    "invalid_municipality": "Vælg en kommune fra listen.",
    "invalid_reference": "Kun bogstaverne A-Z, cifre, '.', '_' og '-', højst 64 tegn (fx BOR-0042).",
}
"""The ledger's rules, as the form says them in Danish (the ledger's own words kept below)."""


async def posted(request: Request) -> dict[str, str]:
    """The posted form's text fields (read once; the CSRF check has read the same form)."""
    return {name: value for name, value in (await request.form()).items() if isinstance(value, str)}


Posted = Annotated[dict[str, str], Depends(posted)]


def _field_of(location: tuple[Any, ...]) -> str:
    """A command field's place in the form, from a pydantic location or a domain field."""
    parts = [str(p) for p in location]
    if parts[:1] == ["special_tariff"]:
        return {"code": "special_code", "daily_rate": "special_rate"}.get(parts[1] if len(parts) > 1 else "",
                                                                            "special_code")
    return parts[0] if parts else "form"


def _bound_message(field: str, error: dict[str, Any]) -> str:
    """A declared bound refused, in Danish, for the field's label."""
    label = LABELS.get(field, field)
    texts = {
        "citizen_ref": "kun bogstaverne A-Z, cifre, '.', '_' og '-', højst 64 tegn (fx BOR-0042).",
        "facility": "vælg et tilbud.",
        "effective_date": "skriv en dato fra 2000-01-01 til 2099-12-31.",
        "paying_municipality": "vælg en kommune fra listen.",
        "special_code": "vælg S1 eller S2.",
        "special_rate": "et beløb i kroner fra 0,01 til 100.000,00 med højst 2 decimaler.",
        "reason": "højst 1.000 tegn.",
        "case_ref": "højst 100 tegn.",
    }
    return f"{label}: {texts.get(field, error.get('msg', 'ugyldig værdi'))}"


def _rate(text: str) -> str:
    """A Danish amount as the command's decimal string: '1.234,50' -> '1234.50'."""
    text = text.strip().replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    return text


def _command_values(kind: str, form: Mapping[str, str], assessment: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "citizen_ref": form.get("citizen_ref", "").strip(),
        "effective_date": form.get("effective_date", "").strip() or None,
        "assessment": assessment,
        "reason": form.get("reason", "").strip() or None,
        "case_ref": form.get("case_ref", "").strip() or None,
    }
    if kind == "move-in":
        values["facility"] = form.get("facility", "").strip()
        values["paying_municipality"] = form.get("paying_municipality", "").strip()
    code, rate = form.get("special_code", "").strip(), form.get("special_rate", "").strip()
    if code or rate:
        values["special_tariff"] = {"code": code, "daily_rate": _rate(rate)}
    return values


class FormState:
    """One rendering of the form: its values, errors, preview and outcome."""

    def __init__(self, kind: str, form: Mapping[str, str]) -> None:
        self.kind = kind
        self.form = {name: form.get(name, "") for name in FIELDS}
        if not valid_key(self.form["idempotency_key"]):
            self.form["idempotency_key"] = new_key()
        self.cells = cell_values(form)
        self.errors: dict[str, str] = {}
        self.problem: dict[str, Any] | None = None
        self.preview: AssessmentPreview | None = None
        self.assessment: Any = None
        self.current: AssessmentRecord | None = None
        """The assessment in force that a reassessment starts from."""
        self.repeat: AlreadyRecorded | None = None
        """The same registration this session saved a moment ago by another form."""

    def refuse(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)


def _domain_refusal(state: FormState, error: DomainError) -> None:
    field = _field_of(tuple((error.field or "").split(".")))
    message = RULES.get(error.rule)
    if field.startswith("assessment"):
        field = "doegnskema"
    if field in LABELS or field == "doegnskema":
        state.refuse(field, message or f"{LABELS.get(field, 'Døgnskema')}: ledgeren afviste værdien.")
    status = 404 if isinstance(error, NotFound) else 422 if isinstance(error, InvalidValue) else 409
    state.problem = {"status": status, "message": message or "Ledgeren afviste registreringen.",
                     "detail": error.message}


def _parse(state: FormState, request: Request, form: Mapping[str, str]) -> None:
    """The døgnskema and the date; then the preview, when both are there."""
    try:
        state.assessment = parse_assessment(form)
    except SkemaErrors as refused:
        state.errors.update(refused.errors)
    day = None
    text = state.form["effective_date"].strip()
    if not text:
        state.refuse("effective_date", "Virkningsdato: skriv datoen, døgnskemaet gælder fra.")
    else:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            state.refuse("effective_date", f"Virkningsdato: «{text}» er ikke en dato; skriv den som ÅÅÅÅ-MM-DD.")
    if state.assessment is not None and day is not None:
        try:
            state.preview = preview(ledger_of(request), state.assessment, day)
        except DomainError as refused:
            _domain_refusal(state, refused)


PLACEHOLDER = Assessment(hours_per_day="0")
"""Stands in for a refused døgnskema while the other fields are checked, so that every error of
the form shows at once; never recorded."""


def _command(state: FormState) -> MoveIn | Reassess | None:
    """The command of the form, checked by its declared bounds (each refusal set beside its
    field); None when any field of the form is refused."""
    command_type = MoveIn if state.kind == "move-in" else Reassess
    values = _command_values(state.kind, state.form, state.assessment or PLACEHOLDER)
    if state.kind == "move-in" and values["paying_municipality"] and \
            not municipalities.is_known(values["paying_municipality"]):
        state.refuse("paying_municipality", "Betalingskommune: vælg en kommune fra listen.")
    try:
        command = command_type.model_validate(values)
    except ValidationError as refused:
        for error in refused.errors():
            field = _field_of(error["loc"])
            if field != "assessment":
                state.refuse(field, _bound_message(field, error))
        return None
    return None if state.errors else command


def _record(state: FormState, command: MoveIn | Reassess, request: Request, actor: Actor,
            confirmation: str | None) -> dict[str, Any] | None:
    """Record the command; its outcome, or None when refused (the refusals set on `state`)."""
    key = state.form["idempotency_key"]
    if (repeat := already_recorded(request, actor, command, key, confirmation)) is not None:
        state.repeat = repeat
        state.problem = {"status": 409, "message": f"Denne registrering er allerede gemt kl. {repeat.time}: "
                         "intet er registreret nu.", "detail": None}
        return None
    try:
        recorded = ledger_of(request).handle(command, actor, form_idempotency(actor, key, command))
    except IdempotencyConflict:
        state.form["idempotency_key"] = new_key()
        state.problem = {"status": 409, "message": "Formularen er allerede sendt med andre værdier og registreret. "
                         "Se borgerens side; denne formular har fået en ny nøgle, hvis du vil sende en ny "
                         "registrering.", "detail": None}
        return None
    except DomainError as refused:
        _domain_refusal(state, refused)
        return None
    return {"command": command, "body": recorded.body, "replayed": recorded.replayed, "recorded": recorded}


def _page(request: Request, actor: Actor, state: FormState, status: int = 200, outcome: dict | None = None
          ) -> Response:
    ledger = ledger_of(request)
    needs_special = bool(state.preview and state.preview.needs_special_tariff)
    context = {
        "kind": state.kind, "form": state.form, "errors": state.errors, "form_problem": state.problem,
        "skema": fieldset(state.cells, state.errors), "preview": state.preview, "outcome": outcome,
        "current": state.current, "repeat": state.repeat, "confirm": CONFIRM,
        "show_special": needs_special or bool(state.form["special_code"] or state.form["special_rate"])
        or any(f.startswith("special") for f in state.errors),
        "facilities": facility_choices(ledger) if state.kind == "move-in" else {},
        "municipalities": [(code, municipalities.label(code)) for code in municipalities.CODES],
        "norddjurs": NORDDJURS, "action": "/ui/indflytning" if state.kind == "move-in" else "/ui/revurdering",
        "title": "Indflytning" if state.kind == "move-in" else "Revurdering",
    }
    return render(request, actor, "assessment_form.html", context, status)


def facility_choices(ledger: BudgetLedger) -> dict[str, str]:
    """Every registered facility (from the store, so one registered a moment ago is there) by
    code, named as the read models name it (its code until they have caught up)."""
    names = facility_names(ledger)
    return {code: names.get(code, code) for code in ledger.facility_codes()}


def _status(state: FormState) -> int:
    """A refusal's status (the ledger's, or 422 for the form's own errors); 200 otherwise."""
    if state.problem:
        return int(state.problem["status"])
    return 422 if state.errors else 200


def _submitted(request: Request, actor: Actor, kind: str, form: Mapping[str, str]) -> Response:
    state = FormState(kind, form)
    if kind == "reassessment":
        _citizen_known(request, state)
    _parse(state, request, form)
    if form.get("handling") != "gem":
        return _page(request, actor, state, _status(state))
    command = _command(state)
    if command is None:
        state.problem = state.problem or {"status": 422, "message": "Formularen har fejl: se felterne markeret "
                                          "nedenfor. Intet er registreret.", "detail": None}
        return _page(request, actor, state, _status(state))
    confirmation = form.get(CONFIRM)
    outcome = _record(state, command, request, actor, confirmation)
    if outcome is None:
        return _page(request, actor, state, _status(state))
    ref = outcome["command"].citizen_ref
    events = describe_events(ledger_of(request), outcome["body"]["event_ids"])
    page = render(request, actor, "assessment_recorded.html", {
        "kind": kind, "title": "Indflytning registreret" if kind == "move-in" else "Revurdering registreret",
        "outcome": outcome, "body": outcome["body"], "form": {}, "events": events,
        "links": [link for link in links_after(outcome["command"], events) if not link[1].startswith("/ui/borger/")],
        "citizen_href": f"/ui/borger/{quote(ref.upper(), safe='')}"}, 200)
    return remember_recorded(request, page, actor, outcome["command"], state.form["idempotency_key"],
                             outcome["recorded"])


def _citizen_known(request: Request, state: FormState) -> None:
    ref = state.form["citizen_ref"].strip()
    if not ref:
        state.refuse("citizen_ref", "Borgerreference: skriv borgerens reference.")
        return
    try:
        state.form["citizen_ref"] = ledger_of(request).citizen(ref).citizen_ref
    except DomainError as refused:
        _domain_refusal(state, refused)


@router.get("/ui/indflytning")
def move_in_form(request: Request, actor: MoveInActor, ref: str | None = None) -> Response:
    """An empty move-in form (the citizen's reference filled in when given)."""
    state = FormState("move-in", {"citizen_ref": (ref or "").strip(), "paying_municipality": NORDDJURS})
    return _page(request, actor, state)


@router.post("/ui/indflytning")
def move_in(request: Request, actor: MoveInActor, form: Posted) -> Response:
    return _submitted(request, actor, "move-in", form)


@router.get("/ui/revurdering")
def reassessment_form(request: Request, actor: ReassessActor, ref: str | None = None) -> Response:
    """A reassessment form, its døgnskema filled in with the assessment in force now in the
    citizen's latest stay (the starting point of the new one)."""
    state = FormState("reassessment", {"citizen_ref": (ref or "").strip()})
    if not state.form["citizen_ref"]:
        return _page(request, actor, state)
    _citizen_known(request, state)
    if state.errors:
        return _page(request, actor, state, _status(state))
    ledger = ledger_of(request)
    try:
        position = consistent_position(ledger, request.app.state.projections, None,
                                       request.app.state.settings.read_wait_seconds)
        history = citizen_assessments(ledger, state.form["citizen_ref"], position)
    except NotFound as refused:
        _domain_refusal(state, refused)
        return _page(request, actor, state, 404)
    except ProjectionLagging as lagging:
        state.problem = {"status": 503, "message": "Beregningerne er ikke nået helt frem endnu. Prøv igen om et "
                         "øjeblik.", "detail": str(lagging)}
        return _page(request, actor, state, 503)
    log_citizen_reads(ledger, actor, "/ui/revurdering", [history.citizen_ref])
    if history.assessments:
        state.current = history.assessments[-1]
        state.cells = values_of(state.current.minutes())
    return _page(request, actor, state)


@router.post("/ui/revurdering")
def reassess(request: Request, actor: ReassessActor, form: Posted) -> Response:
    return _submitted(request, actor, "reassessment", form)

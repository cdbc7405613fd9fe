"""The pages that record: a form for every command (service/ui/forms.py draws it from the
command's declaration), shown only to the roles the declaration names (and admin), sent
through the session and CSRF check of every UI POST and decided by `BudgetLedger.handle`
with the session's actor, exactly as the API decides it.

A rendered form carries a random key that is the command's Idempotency-Key (as the API's
header is, under the session's actor): a form sent twice, by a double click or a reload,
records once and shows the same events. A form rendered anew (Back, after saving) with the
content the session recorded a few minutes ago is not recorded again either: the page says
when it was saved, links to it, and offers "Registrer igen" for the rare command meant twice
(`already_recorded`, docs/adr/0044). A refusal shows the form again with what was typed,
the messages beside their inputs, and nothing recorded. After a command the page shows the
events recorded and links to what they changed and to "Hvorfor ændrede det sig?" for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Iterable
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from starlette.responses import Response

from domain.citizen import Citizen
from domain.errors import DomainError, InvalidValue, NotFound
from domain.facility import COST_CATEGORIES, Facility, facility_id
from domain.tariff_schedule import TariffSchedule
from service.access import may
from service.audit import AuditTrail
from service.commands.declarations import COMMANDS, Command, Retract
from service.db import ledger_entries
from service.ledger import RETRACTABLE_BY_ROLE, Actor, BudgetLedger, NotAllowed, Recorded
from service.queries.facilities import facility_as_of
from service.queries.recorded_requests import recorded_request
from service.ui.asof import UiProblem, read_position
from service.ui.auth import RoleNotAllowed, ui_allow
from service.ui.csrf import SESSION_COOKIE
from service.ui.forms import FORM_KEY, FormState, content_fingerprint, form_idempotency, frame_preview, new_key, parse
from service.ui.forms import parts, place, place_domain_error, valid_key
from service.ui.login import cookie_options
from service.ui.recent_forms import COOKIE as RECENT_FORMS
from service.ui.recent_forms import cookie_value, read_marks, with_recording
from service.ui.sessions import session_hash
from service.ui.render import (
    COMMAND_ROLES, REFUSALS, TEMPLATES, facility_names, ledger_of, may_send, render, with_query,
)
from service.ui.formatting import COPENHAGEN, kroner, number
from service.ui.timeline import timeline

router = APIRouter(include_in_schema=False)

WRITERS = COMMAND_ROLES
GROUPS = (
    ("Økonomi", ("register-facility", "capacity", "frame-budget", "baseline", "accounts", "tariff-schedule",
                 "revision")),
    ("Sagsbehandling", ("move-in", "reassessment", "special-tariff", "paying-municipality", "move-out")),
)
"""The forms of the index page; a retraction is sent from the row of the event it retracts."""
INTROS = {
    "register-facility": "Et nyt botilbud eller bofællesskab med dets pladser.",
    "capacity": "Tilbuddets antal pladser fra virkningsdatoen.",
    "frame-budget": ("Årets rammebudget: et beløb pr. omkostningskategori (tomme linjer udelades). «Beregn» viser "
                     "summen og den basistakst, budgettet giver, uden at gemme."),
    "baseline": "Udgangsbudgettet for året og hvor stor en del af ændringen, der indfases.",
    "accounts": "Årets faktiske udgifter. Registreringen lukker året.",
    "tariff-schedule": ("Årets takstblad: otte niveauer med timer pr. døgn og takst, særtakster, timepris og "
                        "udløbsmåneder. Findes takstbladet for året før, er formularen udfyldt med det."),
    "revision": "En ny takst for et niveau fra en dato i takstbladets år.",
    "move-in": ("Borgeren flytter ind på et tilbud; niveauet følger af døgnskemaet (eller timerne pr. døgn for "
                "data fra den gamle model) og takstbladet."),
    "reassessment": "Ny vurdering af borgerens støtte fra virkningsdatoen: døgnskemaet, eller timer pr. døgn.",
    "special-tariff": "Borgeren får en særtakst fra virkningsdatoen. Begrundelsen er påkrævet.",
    "paying-municipality": "En anden kommune betaler for opholdet fra virkningsdatoen.",
    "move-out": "Borgerens ophold slutter på virkningsdatoen.",
    "retraction": ("Hændelsen holder op med at tælle; intet slettes, og tilbagekaldelsen står i historikken med din "
                   "begrundelse."),
}
WARNINGS = {
    "accounts": ("Når regnskabet er registreret, er året lukket. Hændelser, der registreres senere og ændrer årets "
                 "budget, bliver efterreguleringer (post-closing adjustments) og vises som sådan i "
                 "efterreguleringen."),
}
AGGREGATES = {"citizen": Citizen, "facility": Facility, "tariff_schedule": TariffSchedule}
UiWriter = Annotated[Actor, Depends(ui_allow(*WRITERS))]


def command_of(name: str) -> type[Command]:
    if name not in COMMANDS:
        raise UiProblem(404, "Der er ingen formular med dette navn.")
    return COMMANDS[name]


SCHEDULE_EVENTS = frozenset({"TariffSchedulePublished", "TariffRateRevised"})


def _field(event: Any, name: str) -> Any:
    """A field of an event as a page holds it: the audit trail's dict or a `LedgerEvent`."""
    return event.get(name) if isinstance(event, dict) else getattr(event, name, None)


def stream_of(event: Any) -> str:
    """Whose event it is: "citizen", "facility" or "tariff_schedule"."""
    if stream := _field(event, "stream"):
        return str(stream)
    if _field(event, "citizen_ref"):
        return "citizen"
    return "tariff_schedule" if _field(event, "type") in SCHEDULE_EVENTS else "facility"


def may_retract(actor: Actor | None, event: Any, stream: str | None = None) -> bool:
    """Whether the actor may retract the event of a `stream` ("citizen", "facility" or
    "tariff_schedule"; else the event's own) by the ledger's rule (case workers citizens'
    events, finance those of facilities and schedules), and it is one that can be retracted."""
    if actor is None or _field(event, "retracted") or _field(event, "retracted_at_position") is not None:
        return False
    if _field(event, "type") in ("EntryRetracted", "FacilityRegistered"):
        return False
    kind = AGGREGATES.get(stream or stream_of(event))
    return kind is not None and issubclass(kind, RETRACTABLE_BY_ROLE.get(actor.role, ()))


def sendable(actor: Actor | None, names: Iterable[str]) -> list[str]:
    """Of the commands named, those the actor may send."""
    return [name for name in names if may_send(actor, name)]


FORM_PAGES = {"move-in": "/ui/indflytning", "reassessment": "/ui/revurdering"}
"""Commands whose form is a page of its own (the døgnskema's, service/ui/doegnskema_pages.py,
which takes the citizen as `ref`); their form here takes the assessment as hours per day."""


def form_link(name: str, citizen_ref: str | None = None, **values: Any) -> str:
    """Where a command's form is, with the citizen, facility or year it is for filled in."""
    if name in FORM_PAGES:
        return with_query(FORM_PAGES[name], ref=citizen_ref)
    return with_query(f"/ui/registrer/{name}", citizen_ref=citizen_ref, **values)


def retract_link(event: Any) -> str:
    return with_query("/ui/registrer/retraction", event_id=_field(event, "event_id"))


TEMPLATES.env.globals.update(may_retract=may_retract, retract_link=retract_link, sendable=sendable,
                             form_link=form_link, command_label=lambda name: COMMANDS[name].spec.label)


def _allowed(actor: Actor, command: type[Command]) -> None:
    if not may(actor, command.spec.roles):
        raise RoleNotAllowed(actor, command.spec.roles)


# Reading what the form shows -------------------------------------------------------------------------


def describe_events(ledger: BudgetLedger, event_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The events as the audit trail describes them, each with its summary, in recording order."""
    ids = list(event_ids)
    with ledger.engine.connect() as connection:
        rows = connection.execute(select(ledger_entries).where(ledger_entries.c.event_id.in_(ids))
                                  .order_by(ledger_entries.c.position)).all()
    trail = AuditTrail(ledger)
    trail.load_streams(row.originator_id for row in rows)
    entries = [trail.describe(row, None, post_closing=False) for row in rows]
    targets = [trail.describe(r, None, post_closing=False) for r in _targets(ledger, trail, entries)]
    wanted = {e["event_id"] for e in entries}
    return [e for e in timeline(entries + targets) if e["event_id"] in wanted]


def _targets(ledger: BudgetLedger, trail: AuditTrail, entries: list[dict[str, Any]]) -> list[Any]:
    """The ledger rows of the events the entries retract (their summaries name them)."""
    retracted = [e["retracts"] for e in entries if e.get("retracts")]
    if not retracted:
        return []
    with ledger.engine.connect() as connection:
        rows = connection.execute(select(ledger_entries).where(ledger_entries.c.event_id.in_(retracted))).all()
    trail.load_streams(row.originator_id for row in rows)
    return rows


def facility_events(ledger: BudgetLedger, code: str, position: int) -> list[dict[str, Any]]:
    """The facility's own events up to `position` (registration, places, frame budgets,
    baselines, accounts), newest first, as the audit trail describes them."""
    with ledger.engine.connect() as connection:
        rows = connection.execute(select(ledger_entries).where(
            ledger_entries.c.originator_id == facility_id(code).hex, ledger_entries.c.position <= position)
            .order_by(ledger_entries.c.position.desc())).all()
    trail = AuditTrail(ledger)
    trail.load_streams(row.originator_id for row in rows)
    return timeline([trail.describe(row, position, post_closing=False) for row in rows])[::-1]


def schedule_values(ledger: BudgetLedger, year: int) -> tuple[dict[str, str], int | None]:
    """A tariff schedule form's values: the year's published schedule, else the year before's
    (and which year they come from; None: neither exists)."""
    for source in (year, year - 1):
        try:
            schedule = ledger.schedule(source)
        except DomainError:  # none recorded, or a year outside the ledger's
            continue
        if not schedule.is_published:
            continue
        values = {"hourly_rate": kroner(schedule.hourly_rate), "runoff_months": str(schedule.runoff_months)}
        for index, level in enumerate(schedule.levels):
            values |= {f"levels.{index}.min_hours": number(level.min_hours, 2),
                       f"levels.{index}.max_hours": number(level.max_hours, 2),
                       f"levels.{index}.daily_rate": kroner(level.daily_rate)}
        for special in schedule.current["special_tariffs"]:  # type: ignore[index]
            index = 0 if special["code"] == "S1" else 1
            values[f"special_tariffs.{index}.name"] = special["name"]
        return values, source
    return {}, None


def frame_values(ledger: BudgetLedger, code: str, year: int) -> dict[str, str]:
    """A frame budget form's values: the facility's frame budget of the year, when it has one."""
    try:
        frame = facility_as_of(ledger, code, None).frame_budget(year)
    except DomainError:
        return {}
    if frame is None:
        return {}
    values = {"budgeted_places": str(frame["budgeted_places"]),
              "planned_occupancy_pct": number(frame["planned_occupancy_pct"], 2)}
    for line in frame["lines"]:
        values[f"lines.{COST_CATEGORIES.index(line['category'])}.amount"] = kroner(line["amount"])
    return values


def first_values(request: Request, ledger: BudgetLedger, command: type[Command]) -> tuple[dict[str, str], str | None]:
    """What a new form shows: the query's values (a link from a page names the citizen, the
    facility, the year), today as the effective date and this year as the year; a schedule
    or frame budget already recorded fills its form. Also a note on where values came from."""
    values = {k: v for k, v in request.query_params.items() if k not in (FORM_KEY, "csrf_token")}
    fields = command.model_fields
    if "effective_date" in fields:
        values.setdefault("effective_date", BudgetLedger.today().isoformat())
    if "year" in fields:
        values.setdefault("year", str(BudgetLedger.today().year))
    note = None
    year = int(values["year"]) if values.get("year", "").isdigit() else None
    if command.spec.name == "tariff-schedule" and year is not None and 2000 <= year <= 2099:
        found, source = schedule_values(ledger, year)
        values = {**found, **values}
        if source is not None:
            note = (f"Udfyldt med det gældende takstblad for {source}." if source == year else
                    f"Udfyldt med takstbladet for {source}; ret tallene til {year}.")
    if command.spec.name == "frame-budget" and year is not None and values.get("code"):
        found = frame_values(ledger, values["code"], year)
        if found:
            values = {**found, **values}
            note = f"Udfyldt med tilbuddets rammebudget for {year}; gemmes det, erstatter det det gældende."
    return values, note


def retraction_target(ledger: BudgetLedger, event_id: str | None) -> dict[str, Any] | None:
    if not event_id:
        return None
    found = describe_events(ledger, [event_id])
    return found[0] if found else None


# The same registration again ---------------------------------------------------------------------------


CONFIRM = "gentag"
"""The "Registrer igen" checkbox: its value is the confirmation of the recording it repeats."""


@dataclass(frozen=True)
class AlreadyRecorded:
    """A form's command that this session recorded a moment ago by another form: when (HH:MM,
    Copenhagen time), its events, links to what they changed, and the confirmation that
    "Registrer igen" carries (the recording's first event)."""

    time: str
    events: list[dict[str, Any]]
    links: list[tuple[str, str]]
    confirmation: str


def session_of(request: Request) -> str:
    """The session as the store keeps it: the SHA-256 of its id (the actor was found by it)."""
    return session_hash(request.cookies.get(SESSION_COOKIE, ""))


def already_recorded(request: Request, actor: Actor, command: Command, key: str, confirmation: str | None
                     ) -> AlreadyRecorded | None:
    """The session's latest recording of exactly this command, within the last
    `ui_form_repeat_minutes` and by another form than the one with `key` (service/ui
    /recent_forms.py); None when there is none, or when the form confirms ("Registrer igen")
    that it repeats exactly that recording. The rule of every UI form, not of the API: what it
    returns is refused, and nothing recorded."""
    fingerprint, own = content_fingerprint(command), form_idempotency(actor, key, command).key_hash
    ledger = ledger_of(request)
    window = timedelta(minutes=request.app.state.settings.ui_form_repeat_minutes)
    for mark in read_marks(request.cookies.get(RECENT_FORMS), session_of(request)):
        if not mark.marks(fingerprint) or mark.key_hash == own:
            continue
        earlier = recorded_request(ledger, actor.name, mark.key_hash)
        if earlier is None or earlier.fingerprint != fingerprint or not earlier.event_ids or \
                datetime.now(timezone.utc) - earlier.recorded_at >= window:
            continue
        if confirmation == earlier.event_ids[0]:
            return None
        events = describe_events(ledger, earlier.event_ids)
        return AlreadyRecorded(earlier.recorded_at.astimezone(COPENHAGEN).strftime("%H:%M"), events,
                               links_after(command, events), earlier.event_ids[0])
    return None


def remember_recorded(request: Request, response: Response, actor: Actor, command: Command, key: str,
                      recorded: Recorded) -> Response:
    """The answer to a form that recorded its command, with the session's mark of it (a
    replay is no new recording)."""
    if recorded.replayed:
        return response
    session = session_of(request)
    marks = with_recording(read_marks(request.cookies.get(RECENT_FORMS), session), content_fingerprint(command),
                           form_idempotency(actor, key, command).key_hash)
    response.set_cookie(RECENT_FORMS, cookie_value(marks, session),
                        max_age=int(request.app.state.settings.ui_form_repeat_minutes * 60) + 1,
                        **cookie_options(request))  # type: ignore[arg-type]
    return response


def confirmation_of(posted: Any) -> str | None:
    value = posted.get(CONFIRM)
    return value if isinstance(value, str) else None


# The pages ---------------------------------------------------------------------------------------------


def form_page(request: Request, actor: Actor, state: FormState, status: int = 200, note: str | None = None,
              repeat: AlreadyRecorded | None = None) -> Response:
    ledger = ledger_of(request)
    preview = frame_preview(state.values) if state.command.spec.name == "frame-budget" else None
    target = retraction_target(ledger, state.values.get("event_id")) if state.command is Retract else None
    return render(request, actor, "command_form.html", {
        "state": state, "spec": state.command.spec, "parts": parts(state), "intro": INTROS.get(state.command.spec.name),
        "warning": WARNINGS.get(state.command.spec.name), "preview": preview, "target": target, "note": note,
        "form_key": FORM_KEY, "repeat": repeat, "confirm": CONFIRM, "form": {}, "problem": None}, status)


def with_facilities(request: Request, state: FormState) -> FormState:
    try:
        state.facilities = facility_names(ledger_of(request), read_position(request, None))
    except REFUSALS:  # projections behind: the facility is typed as a code; the command still decides
        state.facilities = {}
    return state


@router.get("/ui/registrer")
def index(request: Request, actor: UiWriter) -> Response:
    """The forms the actor's role may send, by whose work they are."""
    groups = [(title, [COMMANDS[name] for name in names if may_send(actor, name)]) for title, names in GROUPS]
    return render(request, actor, "command_index.html", {
        "groups": [(title, commands) for title, commands in groups if commands], "intros": INTROS,
        "form_pages": FORM_PAGES,
        "form": {}, "problem": None})


@router.get("/ui/registrer/{name}")
def new_form(request: Request, name: str, actor: UiWriter) -> Response:
    """A command's form, filled with what the link names; a fresh idempotency key."""
    try:
        command = command_of(name)
    except UiProblem as problem:
        return render(request, actor, "message.html", {"problem": problem, "form": {}}, problem.status)
    _allowed(actor, command)
    values, note = first_values(request, ledger_of(request), command)
    state = with_facilities(request, FormState(command, values, key=new_key()))
    return form_page(request, actor, state, note=note)


@router.post("/ui/registrer/{name}")
async def send_form(request: Request, name: str, actor: UiWriter) -> Response:
    """The posted form as the command; "Beregn" only shows the frame budget's figures."""
    try:
        command = command_of(name)
    except UiProblem as problem:
        return render(request, actor, "message.html", {"problem": problem, "form": {}}, problem.status)
    _allowed(actor, command)
    posted = await request.form()
    values = {k: v for k, v in posted.items()
              if isinstance(v, str) and k not in (FORM_KEY, "csrf_token", "handling", CONFIRM)}
    key = posted.get(FORM_KEY)
    state = FormState(command, values, key=key if isinstance(key, str) and valid_key(key) else new_key())
    return await run_in_threadpool(decide, request, actor, state, isinstance(key, str) and valid_key(key),
                                   posted.get("handling") == "beregn", confirmation_of(posted))


def decide(request: Request, actor: Actor, state: FormState, keyed: bool, preview_only: bool,
           confirmation: str | None = None) -> Response:
    with_facilities(request, state)
    if not keyed:
        state.problems.append("Formularen manglede sin nøgle. Kontrollér værdierne og send den igen.")
        return form_page(request, actor, state, 422)
    command = parse(state)
    if command is None:
        return form_page(request, actor, state, 422)
    if preview_only:
        return form_page(request, actor, state)
    if (repeat := already_recorded(request, actor, command, state.key, confirmation)) is not None:
        return form_page(request, actor, state, 409, repeat=repeat)
    ledger = ledger_of(request)
    try:
        recorded = ledger.handle(command, actor, form_idempotency(actor, state.key, command))
    except NotAllowed:
        place(state, "event_id", "Din rolle må ikke tilbagekalde denne hændelse: sagsbehandlere tilbagekalder "
                                 "borgeres hændelser, økonomi tilbuds og takstblades.")
        return form_page(request, actor, state, 403)
    except DomainError as error:
        place_domain_error(state, error)
        status = 422 if isinstance(error, InvalidValue) else 404 if isinstance(error, NotFound) else 409
        return form_page(request, actor, state, status)
    return remember_recorded(request, done_page(request, actor, command, recorded), actor, command, state.key,
                             recorded)


# After a command ---------------------------------------------------------------------------------------


def done_page(request: Request, actor: Actor, command: Command, recorded: Recorded) -> Response:
    ledger = ledger_of(request)
    events = describe_events(ledger, recorded.body["event_ids"])
    return render(request, actor, "command_done.html", {
        "spec": command.spec, "recorded": recorded, "events": events, "links": links_after(command, events),
        "again": with_query(f"/ui/registrer/{command.spec.name}", **again_values(command)),
        "form": {}, "problem": None}, 200 if recorded.replayed else 201)


def again_values(command: Command) -> dict[str, Any]:
    """What a new form of the same kind keeps: the facility, the year or the citizen."""
    if command.spec.name == "register-facility":
        return {}
    fields = type(command).model_fields
    return {name: getattr(command, name) for name in ("code", "year", "citizen_ref") if name in fields}


def links_after(command: Command, events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Links to what the events changed: the facility's budget, the citizen's page, the
    central model of a schedule's year, and "Hvorfor ændrede det sig?" for exactly these events."""
    if not events:
        return []
    first, last = events[0], events[-1]
    year = int(str(getattr(command, "year", None) or first["year"] or first["effective_date"][:4]))
    facility, citizen = first.get("facility"), first.get("citizen_ref")
    links = []
    if facility:
        links.append((f"Tilbuddets budget {year}", f"/ui/tilbud/{quote(facility, safe='')}?year={year}"))
    if citizen:
        links.append((f"Borger {citizen}", f"/ui/borger/{quote(citizen, safe='')}"))
    if first["stream"] == "tariff_schedule":
        links.append((f"Oversigt {year}", f"/ui/oversigt?year={year}"))
    links.append(("Hvorfor ændrede det sig?", with_query(
        "/ui/forklar", facility=facility, year=year, fra=first["position"] - 1, til=last["position"])))
    return links

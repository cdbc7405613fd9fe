"""The web UI's forms, made from the command declarations (service/commands/declarations.py):
a declaration's fields become the form's inputs, a posted form becomes the command, validated
by the declaration itself, and the refusals of the declaration or of the domain come back as
Danish messages beside the input they concern (docs/adr/0033).

How a field is shown follows from its declared type: a `Literal` is a choice, a date a date
field, a whole number a number field, a municipality a choice of the 98 ("Aarhus Kommune
(751)"), an existing facility a choice of the registered ones, a money or hours string a text
field that takes a decimal comma (1.234,50); a list of small models (a frame budget's lines,
a schedule's levels) is a table with a row per category or level; a nested model is a group
(`special_tariff`: none unless a code is chosen); a whole number of at most 13 values (a
level, the runoff months) is a choice. A field may have its own `Fieldset`
(`FIELDSETS`): the assessment's is hours per day, the place where the døgnskema's goes.

Input names are the field's path (`lines.3.amount`), so an error's location in pydantic
(`('lines', 3, 'amount')`) or in the domain (`lines[3].amount`) names the input it belongs to.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from types import NoneType, UnionType
from typing import Any, Literal, Mapping, Protocol, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from domain import municipalities
from domain.errors import DomainError
from domain.facility import COST_CATEGORIES
from projections.frame import basistakst
from service.commands.declarations import Command
from service.danish import COST_CATEGORIES as CATEGORY_LABELS
from service.danish import FACILITY_KINDS, field_label
from service.ledger import Actor
from service.store import Idempotency, request_fingerprint
from service.ui.formatting import MOVE_OUT_KINDS, day, kroner, number

FORM_KEY = "form_key"
"""The hidden input holding the rendered form's idempotency key."""
_KEY = re.compile(r"[0-9a-f]{32}")

OPTION_LABELS: dict[str, dict[str, str]] = {
    "kind": {**FACILITY_KINDS, **{k: v.capitalize() for k, v in MOVE_OUT_KINDS.items()}},
    "category": CATEGORY_LABELS,
    "code": {"S1": "S1", "S2": "S2"},
}
"""The Danish label of a choice's value, by the field's name."""

FIXED_ROWS: dict[str, tuple[dict[str, str], ...]] = {
    "lines": tuple({"category": c} for c in COST_CATEGORIES),
    "levels": tuple({"level": str(n)} for n in range(1, 9)),
    "special_tariffs": ({"code": "S1"}, {"code": "S2"}),
}
"""A table's rows and the column each row fixes (a frame budget has a row per cost category)."""
ROWS_KEPT_WHEN_BLANK = frozenset({"levels"})
"""Tables whose blank rows are sent (a schedule has eight levels); other blank rows are left out."""


@dataclass
class Input:
    """One input of a form, as the template draws it."""

    name: str
    label: str
    kind: str
    """text, amount (a decimal comma is taken), number, date, select, textarea or fixed (shown, sent hidden)."""
    value: str = ""
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()
    error: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    help: str | None = None


@dataclass
class Table:
    """A list of small models: one row of inputs per fixed value (category, level, code)."""

    name: str
    label: str
    columns: tuple[str, ...]
    rows: list[list[Input]]
    error: str | None = None
    kind: str = "table"


@dataclass
class Group:
    """A nested model's inputs under one heading."""

    name: str
    label: str
    inputs: list[Input]
    error: str | None = None
    help: str | None = None
    kind: str = "group"


Part = Input | Table | Group


@dataclass
class FormState:
    """A command's form: the values as typed (by input name), the errors beside them, and the
    refusals that concern no single input."""

    command: type[Command]
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    key: str = ""
    facilities: dict[str, str] = field(default_factory=dict)
    """Codes and names of the registered facilities, for the choices of an existing facility."""

    def label(self, path: str) -> str:
        return field_label(self.command.spec.name, path)


class Fieldset(Protocol):
    """A field drawn and read by its own inputs rather than from its declared type."""

    def part(self, state: FormState, name: str, info: FieldInfo) -> Part: ...

    def parse(self, values: Mapping[str, str], name: str) -> Any:
        """The field's value for the command, or `MISSING` when nothing was entered."""


MISSING: Any = object()


# Reading a declared type ---------------------------------------------------------------------------


def _members(annotation: Any) -> list[Any]:
    """The types of a field, `None` and `Annotated` taken off."""
    members = list(get_args(annotation)) if get_origin(annotation) in (Union, UnionType) else [annotation]
    return [m for m in members if m is not NoneType]


def _model(annotation: Any) -> type[BaseModel] | None:
    members = _members(annotation)
    if len(members) == 1 and isinstance(members[0], type) and issubclass(members[0], BaseModel):
        return members[0]
    return None


def _list_model(annotation: Any) -> type[BaseModel] | None:
    members = _members(annotation)
    if len(members) == 1 and get_origin(members[0]) is list:
        return _model(get_args(members[0])[0])
    return None


def _literal(annotation: Any) -> tuple[str, ...] | None:
    members = _members(annotation)
    if len(members) == 1 and get_origin(members[0]) is Literal:
        return tuple(str(v) for v in get_args(members[0]))
    return None


def _bounds(info: FieldInfo) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in info.metadata:
        for name in ("ge", "le", "max_length", "pattern"):
            if getattr(item, name, None) is not None:
                found[name] = getattr(item, name)
    return found


def _is_whole_number(annotation: Any) -> bool:
    return _members(annotation) == [int]


def _is_decimal(annotation: Any, info: FieldInfo) -> bool:
    """Money and hours are declared as strings of digits (or a string or number)."""
    members = _members(annotation)
    text = str(annotation)
    return ("str" in text and ("int" in text or "float" in text)) or (
        members == [str] and r"\d" in str(_bounds(info).get("pattern", "")))


def _facility_choice(command: type[Command], name: str) -> bool:
    """An existing facility is chosen: a move-in's `facility`, or the `{code}` of a facility's route."""
    return name == "facility" or (name == "code" and "code" in command.spec.path_fields)


MUNICIPALITY_OPTIONS = tuple((code, municipalities.label(code)) for code in
                             sorted(municipalities.CODES, key=lambda c: municipalities.label(c)))
"""The 98 municipalities by name: "Aarhus Kommune (751)"."""


# Drawing a form --------------------------------------------------------------------------------------


def scalar(state: FormState, path: str, name: str, info: FieldInfo, annotation: Any) -> Input:
    """The input of one plain field at `path` (its declared `name` decides how it is drawn)."""
    bounds = _bounds(info)
    inp = Input(path, state.label(path), "text", state.values.get(path, ""), info.is_required(),
                error=state.errors.get(path))
    choices = _literal(annotation)
    if choices is not None:
        labels = OPTION_LABELS.get(name, {})
        inp.kind, inp.options = "select", tuple((c, labels.get(c, c)) for c in choices)
    elif _members(annotation) == [date]:
        inp.kind = "date"
    elif name == "paying_municipality":
        inp.kind, inp.options = "select", MUNICIPALITY_OPTIONS
    elif _facility_choice(state.command, name) and path == name:
        inp.kind = "select"
        inp.options = tuple((code, f"{title} ({code})") for code, title in state.facilities.items())
        if inp.value and inp.value not in state.facilities:
            inp.options += ((inp.value, inp.value),)
    elif _is_whole_number(annotation) and bounds.get("le", 10**9) - bounds.get("ge", 0) <= 12:
        inp.kind = "select"
        inp.options = tuple((str(n), str(n)) for n in range(bounds["ge"], bounds["le"] + 1))
    elif _is_whole_number(annotation):
        inp.kind = "number"
        inp.attrs = {k: str(v) for k, v in (("min", bounds.get("ge")), ("max", bounds.get("le"))) if v is not None}
        inp.attrs["step"] = "1"
    elif _is_decimal(annotation, info):
        inp.kind = "amount"
        inp.attrs = {"inputmode": "decimal"}
    elif name == "reason":
        inp.kind = "textarea"
    if inp.kind in ("text", "textarea") and "max_length" in bounds:
        inp.attrs["maxlength"] = str(bounds["max_length"])
    if name == "reason" and not inp.required:
        inp.help = "Frivillig. Ingen personoplysninger (intet CPR-nummer)."
    if name == "case_ref":
        inp.help = "Journalnummer, fx 27.12-G01-7. Intet CPR-nummer."
    return inp


def table(state: FormState, name: str, model: type[BaseModel]) -> Table:
    rows = []
    for index, fixed in enumerate(FIXED_ROWS[name]):
        row = []
        for column, info in model.model_fields.items():
            path = f"{name}.{index}.{column}"
            if column in fixed:
                value = fixed[column]
                shown = OPTION_LABELS.get(column, {}).get(value, value)
                row.append(Input(path, state.label(path), "fixed", value, True, options=((value, shown),),
                                 error=state.errors.get(path)))
            else:
                inp = scalar(state, path, column, info, info.annotation)
                inp.required = inp.required and name in ROWS_KEPT_WHEN_BLANK
                row.append(inp)
        rows.append(row)
    columns = tuple(state.label(f"{name}.{column}") for column in model.model_fields)
    return Table(name, state.label(name), columns, rows, state.errors.get(name))


def group(state: FormState, name: str, model: type[BaseModel], optional: bool) -> Group:
    inputs = [scalar(state, f"{name}.{sub}", sub, info, info.annotation) for sub, info in model.model_fields.items()]
    if optional:
        for inp in inputs:
            inp.required = False
        if inputs[0].kind == "select":
            inputs[0].options = (("", "Ingen"), *inputs[0].options)
    return Group(name, state.label(name), inputs, state.errors.get(name))


class HoursAssessment:
    """The assessment as hours per day (api.md's `hours_per_day`). The døgnskema (themes × time
    slots × direct/indirect minutes) is a `Fieldset` of its own that replaces this one in
    `FIELDSETS["assessment"]`; the command and its validation stay as they are."""

    def part(self, state: FormState, name: str, info: FieldInfo) -> Part:
        path = f"{name}.hours_per_day"
        inp = Input(path, state.label(path), "amount", state.values.get(path, ""), True,
                    error=state.errors.get(path), attrs={"inputmode": "decimal"},
                    help="Timer pr. døgn efter døgnskemaet, fx 5,5. Niveauet følger af takstbladet for "
                         "virkningsdatoen.")
        return Group(name, state.label(name), [inp], state.errors.get(name))

    def parse(self, values: Mapping[str, str], name: str) -> Any:
        hours = decimal_text(values.get(f"{name}.hours_per_day", ""))
        return {"hours_per_day": hours} if hours else {}


FIELDSETS: dict[str, Fieldset] = {"assessment": HoursAssessment()}
"""Fields with inputs of their own, by the field's name."""


def parts(state: FormState) -> list[Part]:
    """Every input of the command's form, in the declaration's order."""
    found: list[Part] = []
    for name, info in state.command.model_fields.items():
        annotation = info.annotation
        if name in FIELDSETS:
            found.append(FIELDSETS[name].part(state, name, info))
        elif (item := _list_model(annotation)) is not None and name in FIXED_ROWS:
            found.append(table(state, name, item))
        elif (model := _model(annotation)) is not None:
            found.append(group(state, name, model, not info.is_required()))
        else:
            found.append(scalar(state, name, name, info, annotation))
    return found


# Reading a posted form -------------------------------------------------------------------------------


def decimal_text(text: str) -> str:
    """A number as typed in Danish (1.234,50, 1234,5 or 2.150.000) as the API writes it
    (1234.50); other text as it came (the declaration refuses it)."""
    text = text.strip().replace(" ", "").replace("\u00a0", "")
    if "," in text or _THOUSANDS.fullmatch(text):
        text = text.replace(".", "").replace(",", ".")
    return text


_THOUSANDS = re.compile(r"-?[0-9]{1,3}(\.[0-9]{3})+")
"""2.150.000: dots between groups of three digits separate thousands."""


def _value(text: str, annotation: Any, info: FieldInfo) -> Any:
    text = text.strip()
    if _is_whole_number(annotation) and re.fullmatch(r"-?[0-9]{1,9}", text):
        return int(text)
    if _is_decimal(annotation, info):
        return decimal_text(text)
    return text


def command_data(command: type[Command], values: Mapping[str, str]) -> dict[str, Any]:
    """The posted inputs as the command's fields: blank inputs left out (so the declaration
    says what is missing and defaults apply), a table's blank rows left out, an optional group
    with nothing chosen left out."""
    data: dict[str, Any] = {}
    for name, info in command.model_fields.items():
        annotation = info.annotation
        if name in FIELDSETS:
            value = FIELDSETS[name].parse(values, name)
            if value is not MISSING:
                data[name] = value
        elif (item := _list_model(annotation)) is not None and name in FIXED_ROWS:
            rows = []
            for index, fixed in enumerate(FIXED_ROWS[name]):
                row = {column: _value(values.get(f"{name}.{index}.{column}", ""), sub.annotation, sub)
                       for column, sub in item.model_fields.items()}
                entered = {k: v for k, v in row.items() if k not in fixed and v != ""}
                if entered or name in ROWS_KEPT_WHEN_BLANK:
                    rows.append({**fixed, **entered})
            data[name] = rows
        elif (model := _model(annotation)) is not None:
            sub = {column: _value(values.get(f"{name}.{column}", ""), s.annotation, s)
                   for column, s in model.model_fields.items()}
            sub = {k: v for k, v in sub.items() if v != ""}
            if sub and (info.is_required() or next(iter(model.model_fields)) in sub):
                data[name] = sub
        else:
            value = _value(values.get(name, ""), annotation, info)
            if value != "":
                data[name] = value
    return data


def levels_with_number_values(data: dict[str, Any]) -> dict[str, Any]:
    """A fixed column holds text; the declaration's whole numbers (a level) are numbers."""
    for row in data.get("levels", []):
        if isinstance(row.get("level"), str) and row["level"].isdigit():
            row["level"] = int(row["level"])
    return data


def parse(state: FormState) -> Command | None:
    """The command of the posted form, or None with the form's errors filled in."""
    data = levels_with_number_values(command_data(state.command, state.values))
    try:
        return state.command.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            place(state, ".".join(str(p) for p in item["loc"]), pydantic_message(item))
        return None


# Refusals in Danish ----------------------------------------------------------------------------------


def known_names(state: FormState) -> set[str]:
    names: set[str] = set()
    for part in parts(FormState(state.command, facilities=state.facilities)):
        names.add(part.name)
        if isinstance(part, Table):
            names.update(inp.name for row in part.rows for inp in row)
        elif isinstance(part, Group):
            names.update(inp.name for inp in part.inputs)
    return names


def place(state: FormState, location: str, message: str) -> None:
    """The message beside the input `location` names (or its nearest enclosing one), else above
    the form. The first message of an input is kept."""
    path = re.sub(r"\[(\d+)\]", r".\1", location or "")
    names = known_names(state)
    parts_ = path.split(".") if path else []
    while parts_:
        candidate = ".".join(parts_)
        if candidate in names:
            state.errors.setdefault(candidate, message)
            return
        parts_.pop()
    if message not in state.problems:
        state.problems.append(message)


def _range(low: str, high: str) -> str:
    def shown(value: str) -> str:
        try:
            amount = Decimal(value)
        except InvalidOperation:
            return value
        return number(amount, 2 if amount != amount.to_integral() else 0)

    return f"Skal være fra {shown(low)} til {shown(high)}."


def _bound(value: Any) -> str:
    return day(value) if isinstance(value, date) else number(value) if isinstance(value, int) else str(value)


def pydantic_message(error: Mapping[str, Any]) -> str:
    """A declaration's refusal of one value, in Danish."""
    kind, ctx = error["type"], error.get("ctx") or {}
    last = next((str(p) for p in reversed(error["loc"]) if isinstance(p, str)), "")
    if kind == "missing" or kind == "string_too_short" and ctx.get("min_length") == 1:
        return "Skal udfyldes."
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "Skriv et helt tal."
    if kind.startswith("date") or kind.startswith("datetime"):
        return "Skriv en dato som ÅÅÅÅ-MM-DD."
    if kind == "greater_than_equal":
        return f"Skal være mindst {_bound(ctx.get('ge'))}."
    if kind == "less_than_equal":
        return f"Må højst være {_bound(ctx.get('le'))}."
    if kind == "literal_error" or kind == "enum":
        return "Vælg en af mulighederne."
    if kind == "string_pattern_mismatch":
        if last == "paying_municipality":
            return "Vælg en af de 98 kommuner."
        if last in ("code", "facility", "citizen_ref"):
            return "Kun bogstaverne A-Z, cifre, punktum, bindestreg og understregning (højst 64 tegn)."
        if last == "event_id":
            return "Ikke et hændelses-id."
        return "Skriv et beløb i kroner med højst to decimaler, fx 1.234,50."
    if kind == "string_too_long":
        return f"Højst {ctx.get('max_length')} tegn."
    if kind == "too_short":
        return f"Mindst {ctx.get('min_length')} linjer skal udfyldes."
    if kind == "too_long":
        return f"Højst {ctx.get('max_length')} linjer."
    if kind == "extra_forbidden":
        return "Feltet kendes ikke."
    if kind == "value_error":
        message = str(ctx.get("error", error.get("msg", "")))
        if found := re.search(r"must be from (\S+) to (\S+)", message):
            return _range(found.group(1), found.group(2))
        return "Skriv et tal, fx 1.234,50."
    return "Ugyldig værdi."


DOMAIN_RULES = {
    "open_stay_exists": "Borgeren bor allerede på et tilbud. Registrér fraflytningen først, eller brug revurdering.",
    "no_open_stay": "Borgeren bor ikke på et tilbud på virkningsdatoen.",
    "stays_overlap": "Opholdet ville overlappe et andet ophold for borgeren.",
    "outside_stay": "Datoen ligger uden for borgerens ophold.",
    "move_out_before_stay_events": "Fraflytningen ligger før hændelser i opholdet; tilbagekald dem først.",
    "unknown_facility": "Tilbuddet findes ikke; opret det først.",
    "unknown_citizen": "Borgeren findes ikke i ledgeren.",
    "facility_code_taken": "Der er allerede et tilbud med denne kode.",
    "no_tariff_schedule": "Der er intet takstblad for året; offentliggør takstbladet først.",
    "no_frame_budget": "Tilbuddet har intet rammebudget for året.",
    "special_tariff_not_in_schedule": "Særtaksten står ikke i årets takstblad.",
    "unknown_special_tariff": "Særtaksten står ikke i årets takstblad.",
    "unknown_event": "Hændelsen findes ikke i ledgeren.",
    "already_retracted": "Hændelsen er allerede tilbagekaldt.",
    "retraction_cannot_be_retracted": "En tilbagekaldelse kan ikke selv tilbagekaldes.",
    "registration_not_retractable": "Oprettelsen af et tilbud kan ikke tilbagekaldes.",
    "retract_later_events_first": "Senere hændelser bygger på denne; tilbagekald dem først.",
    "accounts_correction_needs_reason": "Et nyt regnskab for et lukket år kræver en begrundelse.",
    "reason_required": "Skriv en begrundelse.",
    "name_required": "Skriv et navn.",
    "lines_required": "Udfyld mindst én budgetlinje.",
    "duplicate_category": "Kategorien står to gange.",
    "eight_levels": "Takstbladet skal have præcis otte niveauer.",
    "starts_at_zero": "Niveau 1 skal begynde ved 0 timer.",
    "hours_out_of_range": "Timer pr. døgn skal være fra 0 til 24.",
    "invalid_level": "Niveauerne skal følge hinanden uden huller eller overlap.",
    "rate_out_of_range": "Taksten skal være fra 0,01 til 100.000 kr.",
    "amount_out_of_range": "Beløbet er for stort.",
    "date_out_of_range": "Datoen skal ligge fra 01.01.2000 til 31.12.2099.",
    "date_outside_year": "Datoen skal ligge i takstbladets år.",
    "too_many_places": "For mange pladser.",
    "too_many_decimals": "Højst to decimaler.",
    "percent_out_of_range": "Procenten skal være fra 0 til 100.",
    "unknown_municipality": "Ikke en af de 98 kommuner.",
    "invalid_municipality": "Vælg en af de 98 kommuner.",
    "invalid_assessment": "Udfyld vurderingen.",
    "cpr_number_refused": "Feltet ligner et CPR-nummer. Skriv ingen personoplysninger.",
    "idempotency_key_reused": ("Denne formular er allerede sendt med andre værdier. Åbn formularen igen for at "
                               "registrere noget nyt."),
    "concurrent_write": "En anden ændrede det samme i samme øjeblik. Send formularen igen.",
}
"""The domain's refusals (domain/errors.py, by rule) in Danish; a rule not here is shown by a
general sentence and the ledger's own words."""


def domain_message(error: DomainError) -> str:
    if error.rule in DOMAIN_RULES:
        return DOMAIN_RULES[error.rule]
    return f"Ledgeren afviste værdien ({error.rule}): {error.message}"


def place_domain_error(state: FormState, error: DomainError) -> None:
    field_ = error.field if error.field not in (None, "Idempotency-Key") else ""
    if error.rule == "idempotency_key_reused":
        state.key = new_key()
    place(state, field_ or "", domain_message(error))


# The form's idempotency key, and the frame budget's preview ------------------------------------------


def new_key() -> str:
    return secrets.token_hex(16)


def valid_key(text: str | None) -> bool:
    return bool(text) and _KEY.fullmatch(text or "") is not None


def form_idempotency(actor: Actor, key: str, command: Command) -> Idempotency:
    """What makes a rendered form record once: its key under the actor, with the command's
    request as the fingerprint (the same form sent again replays its first answer; the same
    key with other values is `idempotency_key_reused`)."""
    return Idempotency(principal=actor.name, key=f"ui-form-{key}", fingerprint=content_fingerprint(command))


def content_fingerprint(command: Command) -> str:
    """The command's declared content as the API's request for it (method, path, canonical
    body), hashed: what an idempotency key is bound to, and what tells that a form records
    the same thing as one recorded a moment ago (service/ui/recent_forms.py)."""
    body = json.dumps(command.request_body(), sort_keys=True, separators=(",", ":")).encode()
    return request_fingerprint("POST", command.request_path(), body)


@dataclass(frozen=True)
class FramePreview:
    """A frame budget as typed: the sum of its lines and the basistakst it gives (None where
    an input is not a number yet)."""

    total: str | None
    basistakst: str | None


def frame_preview(values: Mapping[str, str]) -> FramePreview:
    """The running total and basistakst of a frame budget's inputs, by projections/frame.py."""
    total = Decimal(0)
    for index in range(len(COST_CATEGORIES)):
        text = decimal_text(values.get(f"lines.{index}.amount", ""))
        if not text:
            continue
        try:
            total += Decimal(text)
        except InvalidOperation:
            return FramePreview(None, None)
    try:
        places = int(values.get("budgeted_places", ""))
        pct = Decimal(decimal_text(values.get("planned_occupancy_pct", "")))
        year = int(values.get("year", ""))
        rate = basistakst(total, places, pct, year) if places > 0 and 0 < pct <= 100 and 2000 <= year <= 2099 else None
    except (ValueError, InvalidOperation):
        rate = None
    return FramePreview(kroner(total), None if rate is None else kroner(rate))


"""`ledger import`: bulk-load commands from JSON Lines, in one pass, in batches.

One command per line: `{"command": "move-in", "citizen_ref": "A", "facility": ..., ...}`, with
the same fields as the HTTP request body of that command plus the path's parameters
(`code`, `year`, `citizen_ref`). Every line is checked by the same schema as its HTTP request
and decided by the same use case; the commands of a batch are stored in one transaction.

A bad line stops the import: it is reported with its line number, field and rule, nothing
of its batch is stored, and every earlier batch is (the report says up to which line), so
`--skip` resumes after fixing the line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from pydantic import BaseModel, ValidationError

from domain.errors import DomainError
from service.api import schemas
from service.ledger import Actor, BudgetLedger


@dataclass(frozen=True)
class Command:
    schema: type[BaseModel] | None
    path: tuple[str, ...]
    run: Callable[[BudgetLedger, Any, dict[str, Any], Actor], Any]


def _special(body: Any) -> dict[str, Any] | None:
    return body.special_tariff.model_dump() if getattr(body, "special_tariff", None) else None


def _levels(body: Any) -> list[dict[str, Any]]:
    return [{"level": l.level, "min_hours": str(l.min_hours), "max_hours": str(l.max_hours), "daily_rate": l.daily_rate}
            for l in body.levels]


COMMANDS: dict[str, Command] = {
    "register-facility": Command(schemas.FacilityCreate, (), lambda l, b, p, a: l.register_facility(
        b.code, b.name, b.kind, b.area, b.places, a, b.effective_date, b.reason, b.case_ref)),
    "capacity": Command(schemas.CapacityCreate, ("code",), lambda l, b, p, a: l.change_capacity(
        p["code"], b.places, b.effective_date, a, b.reason, b.case_ref)),
    "frame-budget": Command(schemas.FrameBudgetPut, ("code", "year"), lambda l, b, p, a: l.set_frame_budget(
        p["code"], p["year"], b.budgeted_places, str(b.planned_occupancy_pct), [x.model_dump() for x in b.lines], a,
        b.reason, b.case_ref)),
    "accounts": Command(schemas.AccountsCreate, ("code", "year"), lambda l, b, p, a: l.record_accounts(
        p["code"], p["year"], b.actual_costs, a, b.reason, b.case_ref)),
    "baseline": Command(schemas.BaselinePut, ("code", "year"), lambda l, b, p, a: l.set_baseline(
        p["code"], p["year"], b.baseline_budget, str(b.phase_in_pct), a, b.reason, b.case_ref)),
    "tariff-schedule": Command(schemas.SchedulePut, ("year",), lambda l, b, p, a: l.publish_schedule(
        p["year"], _levels(b), [s.model_dump() for s in b.special_tariffs], b.hourly_rate, b.runoff_months, a,
        b.reason, b.case_ref)),
    "revision": Command(schemas.RevisionCreate, ("year",), lambda l, b, p, a: l.revise_rate(
        p["year"], b.level, b.daily_rate, b.effective_date, a, b.reason, b.case_ref)),
    "move-in": Command(schemas.MoveInCreate, ("citizen_ref",), lambda l, b, p, a: l.move_in(
        p["citizen_ref"], b.facility, b.effective_date, b.paying_municipality, schemas.assessment_dict(b.assessment),
        a, _special(b), b.reason, b.case_ref)),
    "reassessment": Command(schemas.ReassessmentCreate, ("citizen_ref",), lambda l, b, p, a: l.reassess(
        p["citizen_ref"], b.effective_date, schemas.assessment_dict(b.assessment), a, _special(b), b.reason,
        b.case_ref)),
    "special-tariff": Command(schemas.SpecialTariffCreate, ("citizen_ref",), lambda l, b, p, a:
                              l.grant_special_tariff(p["citizen_ref"], b.effective_date, b.code, b.daily_rate, a,
                                                     b.reason, b.case_ref)),
    "paying-municipality": Command(schemas.PayingMunicipalityCreate, ("citizen_ref",), lambda l, b, p, a:
                                   l.change_paying_municipality(p["citizen_ref"], b.effective_date,
                                                                b.paying_municipality, a, b.reason, b.case_ref)),
    "move-out": Command(schemas.MoveOutCreate, ("citizen_ref",), lambda l, b, p, a: l.move_out(
        p["citizen_ref"], b.effective_date, b.kind, a, b.reason, b.case_ref)),
    "retraction": Command(schemas.RetractionCreate, (), lambda l, b, p, a: l.retract(
        b.event_id, b.reason, a, b.case_ref)),
}


class ImportFailed(Exception):
    def __init__(self, line: int, field: str | None, rule: str, message: str, stored_through: int) -> None:
        where = f"line {line}" + (f", field {field}" if field else "")
        super().__init__(f"{where}: {message} ({rule}); nothing of its batch was stored; lines up to "
                         f"{stored_through} are stored: resume with --skip {stored_through}")
        self.line, self.field, self.rule, self.message, self.stored_through = line, field, rule, message, stored_through


@dataclass
class ImportResult:
    lines: int = 0
    commands: int = 0
    events: int = 0
    last_position: int | None = None


def decide_line(ledger: BudgetLedger, number: int, text: str, actor: Actor) -> int:
    """Decide one line's command in the open batch; returns how many events it made."""
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        raise _Refused(None, "invalid_json", f"not valid JSON: {error.msg}") from None
    except ValueError:  # a number longer than the interpreter converts
        raise _Refused(None, "invalid_json", "not valid JSON: a number too long to read") from None
    except RecursionError:
        raise _Refused(None, "invalid_json", "not valid JSON: arrays or objects nested too deeply") from None
    if not isinstance(data, dict) or data.get("command") not in COMMANDS:
        raise _Refused("command", "unknown_command", f"command must be one of {', '.join(COMMANDS)}")
    command = COMMANDS[data.pop("command")]
    path = {}
    for name in command.path:
        if name not in data:
            raise _Refused(name, "required", f"{name} is required for this command")
        path[name] = data.pop(name)
    if "year" in path and (not isinstance(path["year"], int) or isinstance(path["year"], bool)):
        raise _Refused("year", "invalid_year", "year must be a whole number")
    try:
        body = command.schema.model_validate(data) if command.schema else None
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())) or None
        raise _Refused(field, "invalid_input", first.get("msg", "invalid")) from None
    try:
        recorded = command.run(ledger, body, path, actor)
    except DomainError as error:
        raise _Refused(error.field, error.rule, error.message) from None
    return len(recorded.body.get("event_ids", []))


class _Refused(Exception):
    def __init__(self, field: str | None, rule: str, message: str) -> None:
        super().__init__(message)
        self.field, self.rule, self.message = field, rule, message


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A line's object, refused (`duplicate_key`, as the API does) when it repeats a key rather
    than taking its last value silently."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Refused(key[:100], "duplicate_key", f"the key {key[:100]!r} appears more than once in one object")
        seen[key] = value
    return seen


LineRefused = _Refused
"""A line's command refused, with its field, rule and message (the dry run reports each one)."""


def import_lines(ledger: BudgetLedger, lines: Iterable[str], actor: Actor, batch_size: int = 1000, skip: int = 0,
                 progress: Callable[[int], None] | None = None) -> ImportResult:
    """Import commands from JSON Lines; raises ImportFailed at the first bad line."""
    result = ImportResult()
    stored_through = skip
    pending = 0
    with ledger.batch():
        for number, text in enumerate(lines, start=1):
            result.lines = number
            if number <= skip or not text.strip():
                continue
            try:
                result.events += decide_line(ledger, number, text, actor)
            except _Refused as refused:
                raise ImportFailed(number, refused.field, refused.rule, refused.message, stored_through) from None
            result.commands += 1
            pending += 1
            if pending >= batch_size:
                result.last_position = _flush(ledger, number, stored_through) or result.last_position
                stored_through, pending = number, 0
                if progress:
                    progress(number)
        result.last_position = _flush(ledger, result.lines, stored_through) or result.last_position
        if progress:
            progress(result.lines)
    return result


def _flush(ledger: BudgetLedger, number: int, stored_through: int) -> int | None:
    try:
        return ledger.flush()
    except DomainError as error:
        raise ImportFailed(number, error.field, error.rule, error.message, stored_through) from None

"""`ledger import`: bulk-load commands from JSON Lines, in one pass, in batches.

One command per line: `{"command": "move-in", "citizen_ref": "A", "facility": ..., ...}`: the
command's declaration (service/commands/declarations.py) by its name, with its fields, which
are those of its HTTP request body plus the path's parameters (`code`, `year`, `citizen_ref`).
A line is validated by that declaration and decided by `BudgetLedger.handle`, as a request is;
the commands of a batch are stored in one transaction.

A bad line stops the import: it is reported with its line number, field and rule, nothing
of its batch is stored, and every earlier batch is (the report says up to which line), so
`--skip` resumes after fixing the line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from pydantic import ValidationError

from domain.errors import DomainError
from domain.values import canonical_reference, check_year
from service.commands.declarations import COMMANDS
from service.ledger import Actor, BudgetLedger


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
    for name in command.spec.path_fields.values():
        if name not in data:
            raise _Refused(name, "required", f"{name} is required for this command")
    try:
        for name in command.spec.path_fields.values():  # the path's own checks, as a route's are
            check_year(data[name]) if name == "year" else canonical_reference(data[name], name)
        decided = command.model_validate(data)
    except DomainError as error:
        raise _Refused(error.field, error.rule, error.message) from None
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())) or None
        raise _Refused(field, "invalid_input", first.get("msg", "invalid")) from None
    try:
        recorded = ledger.handle(decided, actor)
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
    unique = dict(pairs)
    if len(unique) == len(pairs):
        return unique
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise _Refused(key[:100], "duplicate_key", f"the key {key[:100]!r} appears more than once in one object")
        seen.add(key)
    return unique  # not reached: a shorter dict means a repeated key


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

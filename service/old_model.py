"""The old model's citizens as move-in commands (issue 7: taking over from the old model).

`ledger import FILE.csv` (or `--format old-model-csv`) reads a CSV of the citizens who live
at the facilities when the ledger takes over: one row per citizen, one column each for

| field (as `ledger import` names it) | header in English | Danish headers accepted |
|---|---|---|
| citizen_ref | citizen_ref | borger, borger_ref, borgerreference |
| facility | facility | tilbud, tilbudskode |
| effective_date (the move-in date) | move_in_date | indflytningsdato, indflytning |
| hours per day (the assessment) | hours_per_day | timer_pr_dag, timer, støttetimer_pr_dag |
| paying_municipality | paying_municipality | betalingskommune, handlekommune |
| special tariff code, optional | special_tariff | særtakst, saertakst |
| its daily rate, optional | special_tariff_daily_rate | særtakst_dagstakst, saertakst_dagstakst |

Headers are matched without regard to case, surrounding spaces, or `-`/space versus `_`.
Fields are separated by `;` (Danish Excel) or `,` (whichever the header line uses); a
decimal comma is accepted (`4,5` hours); dates are `YYYY-MM-DD` or Danish `DD-MM-YYYY`
(also with `.` or `/`). The file is UTF-8 (a byte order mark is fine); a file that is not
UTF-8 is read as Windows-1252, which is what Excel's "CSV (semikolonsepareret)" writes.

Each row becomes the JSON Lines command `ledger import` consumes: a `move-in` with the
assessment `{"hours_per_day": ...}` (domain §4.1: migrated data may give hours alone), the
reason "overført fra gammel model" and the case_ref "gammel model <file> linje <n>", so the
audit trail names where every stay came from. The commands are decided by the same schema
and use case as the HTTP move-in. The commands are aligned with the file's lines (the
header and blank lines are empty), so a refusal names the file's own line number.

A row whose cells cannot become a command (a missing value, a date that is not a date, a
CPR-shaped value in any cell, a value in a cell beyond the header's columns, as an unquoted
`4,5` in a file separated by commas would give) is refused here, with its line, column and rule; the ledger's
rules refuse the rest (an unknown facility, a citizen with an open stay, 8+ hours without a
special tariff, ...), named by the file's header for the field.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from domain.values import looks_like_cpr

REASON = "overført fra gammel model"
FIELDS: dict[str, tuple[str, ...]] = {
    "citizen_ref": ("citizen_ref", "borger", "borger_ref", "borgerreference"),
    "facility": ("facility", "tilbud", "tilbudskode"),
    "move_in_date": ("move_in_date", "indflytningsdato", "indflytning"),
    "hours_per_day": ("hours_per_day", "timer_pr_dag", "timer", "støttetimer_pr_dag"),
    "paying_municipality": ("paying_municipality", "betalingskommune", "handlekommune"),
    "special_tariff": ("special_tariff", "særtakst", "saertakst"),
    "special_tariff_daily_rate": ("special_tariff_daily_rate", "særtakst_dagstakst", "saertakst_dagstakst"),
}
REQUIRED = ("citizen_ref", "facility", "move_in_date", "hours_per_day", "paying_municipality")
COMMAND_FIELDS = {
    # a field of the move-in command (or the start of one) -> the column it came from
    "citizen_ref": "citizen_ref", "facility": "facility", "effective_date": "move_in_date",
    "assessment": "hours_per_day", "paying_municipality": "paying_municipality",
    "special_tariff.code": "special_tariff", "special_tariff.daily_rate": "special_tariff_daily_rate",
    "special_tariff": "special_tariff",
}
DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%Y")
_DECIMAL = re.compile(r"^-?\d+([.,]\d+)?$")


@dataclass(frozen=True)
class RowRefusal:
    """A refused line of an import file: its number, the field (or the file's column), the
    rule and why: the old model's parser and the dry run (service/import_check.py) report these."""

    line: int
    field: str | None
    rule: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}" + (f", field {self.field}" if self.field else "") + f": {self.message} ({self.rule})"


@dataclass
class OldModelFile:
    """The file as commands, one entry per line of the file (empty where no command is)."""

    lines: list[str] = field(default_factory=list)
    refusals: list[RowRefusal] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    """column -> the header as the file writes it"""
    encoding: str = "utf-8"

    @property
    def rows(self) -> int:
        return sum(1 for line in self.lines if line)

    def header_of(self, command_field: str | None) -> str | None:
        """The file's header for a field of the move-in command (the field itself if none)."""
        if command_field is None:
            return None
        for prefix, column in COMMAND_FIELDS.items():
            if command_field == prefix or command_field.startswith(prefix + "."):
                if column not in self.headers and column.startswith("special_tariff"):
                    column = "hours_per_day"  # 8+ hours and no special tariff columns: the hours are at fault
                return self.headers.get(column, command_field)
        return command_field


def _key(header: str) -> str:
    return re.sub(r"[\s-]+", "_", header.strip().lower())


ALIASES = {_key(alias): column for column, aliases in FIELDS.items() for alias in aliases}


def read_old_model(path: Path) -> OldModelFile:
    raw = path.read_bytes()
    try:
        text, encoding = raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = raw.decode("cp1252", errors="replace"), "windows-1252"
    parsed = parse_old_model(text, path.name)
    parsed.encoding = encoding
    return parsed


def parse_old_model(text: str, source: str) -> OldModelFile:
    """The old model's rows as move-in commands (JSON text), aligned with the file's lines."""
    result = OldModelFile()
    physical = text.splitlines()
    if not physical or not physical[0].strip():
        result.refusals.append(RowRefusal(1, None, "missing_header", "the first line must name the columns, e.g. "
                                          "borger;tilbud;indflytningsdato;timer_pr_dag;betalingskommune"))
        return result
    delimiter = ";" if physical[0].count(";") >= physical[0].count(",") else ","
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    header = next(reader)
    columns, header_refusals = _columns(header)
    result.refusals += header_refusals
    result.headers = {column: header[index].strip() for column, index in columns.items()}
    result.lines.append("")
    if header_refusals:
        return result
    case = source[-60:]
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            result.refusals.append(RowRefusal(start, None, "invalid_csv", f"not a CSV row: {error}"))
            break
        result.lines += [""] * (reader.line_num - len(result.lines))  # a row spanning several lines
        if not any(cell.strip() for cell in cells):
            continue
        command, refusal = _command(cells, columns, result.headers, start, case)
        if refusal is not None:
            result.refusals.append(refusal)
        else:
            result.lines[start - 1] = json.dumps(command, ensure_ascii=False)
    result.lines += [""] * (len(physical) - len(result.lines))
    return result


def _columns(header: list[str]) -> tuple[dict[str, int], list[RowRefusal]]:
    columns: dict[str, int] = {}
    refusals = []
    for index, name in enumerate(header):
        column = ALIASES.get(_key(name))
        if column is None:
            if name.strip():
                refusals.append(RowRefusal(1, name.strip(), "unknown_column", "not a column of the old model's file; "
                                           "accepted: " + ", ".join(a for names in FIELDS.values() for a in names)))
            continue
        if column in columns:
            refusals.append(RowRefusal(1, name.strip(), "duplicate_column", f"names the column {column} again"))
        columns[column] = index
    for column in REQUIRED:
        if column not in columns:
            refusals.append(RowRefusal(1, column, "missing_column",
                                       f"the column is required (header {' or '.join(FIELDS[column][:2])})"))
    return columns, refusals


def _command(cells: list[str], columns: dict[str, int], headers: dict[str, str], line: int,
             source: str) -> tuple[dict[str, Any] | None, RowRefusal | None]:
    values = {column: cells[index].strip() if index < len(cells) else "" for column, index in columns.items()}
    for column, value in values.items():
        if looks_like_cpr(value):
            return None, RowRefusal(line, headers[column], "cpr_number_refused", "holds a value shaped like a CPR "
                                    "number; the ledger stores no CPR numbers (use the case system's pseudonymous "
                                    "reference)")
    unread = [index for index, cell in enumerate(cells) if cell.strip() and index not in columns.values()]
    if unread:
        return None, RowRefusal(line, f"column {unread[0] + 1}", "too_many_cells",
                                "holds a value outside the header's columns (is a decimal comma unquoted in a "
                                "file separated by commas?); empty cells after the last column are fine")
    for column in REQUIRED:
        if not values[column]:
            return None, RowRefusal(line, headers[column], "required", "a value is required")
    moved_in = _date(values["move_in_date"])
    if moved_in is None:
        return None, RowRefusal(line, headers["move_in_date"], "invalid_date",
                                "must be a date, YYYY-MM-DD or DD-MM-YYYY")
    hours = values["hours_per_day"]
    if not _DECIMAL.match(hours):
        return None, RowRefusal(line, headers["hours_per_day"], "invalid_hours",
                                "must be a number of hours, e.g. 4,5 or 4.5")
    command: dict[str, Any] = {
        "command": "move-in", "citizen_ref": values["citizen_ref"], "facility": values["facility"],
        "effective_date": moved_in.isoformat(), "paying_municipality": values["paying_municipality"],
        "assessment": {"hours_per_day": hours.replace(",", ".")},
        "reason": REASON, "case_ref": f"gammel model {source} linje {line}",
    }
    code, rate = values.get("special_tariff", ""), values.get("special_tariff_daily_rate", "")
    if code or rate:
        if not (code and rate):
            missing = "special_tariff" if not code else "special_tariff_daily_rate"
            return None, RowRefusal(line, headers.get(missing, missing), "required",
                                    "a special tariff needs both its code (S1/S2) and its daily rate")
        if not _DECIMAL.match(rate):
            return None, RowRefusal(line, headers["special_tariff_daily_rate"], "invalid_amount",
                                    "must be an amount in kroner, e.g. 6500,00")
        command["special_tariff"] = {"code": code.upper(), "daily_rate": rate.replace(",", ".")}
    return command, None


def _date(text: str) -> date | None:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None

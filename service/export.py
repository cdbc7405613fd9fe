"""Spreadsheet exports of the central budget model, of statements, of a year's regulation and
of a year's what-if (docs/adr/0010, 0030).

Each function takes the API's JSON body (a query's result as `service.queries.values.public`
writes it) and returns the file's bytes, so a spreadsheet always shows exactly the figures of
the read it was made from, as of the position that read names.

Workbooks (openpyxl): every figure is a typed cell, never text: money a number with the
format `#,##0.00` (Excel shows it with the reader's separators, in Danish `1.234,50`; exact
for amounts below 10^13 kr. with øre, i.e. up to 15 significant digits: a larger number is
refused rather than written rounded, see `typed`), days
and places whole numbers, percentages and hours numbers as the API gives them (7.1 means
7.1 %), dates real dates. Danish headers, a frozen header row, one sheet per view, and a
sheet "Om udtrækket" that names the year, month, store position and warnings.

CSV: Danish Excel's convention, so a double click opens it in columns: UTF-8 with a byte
order mark, `;` between fields, `,` as decimal separator and no thousands separator
(`1234,50`), dates as `YYYY-MM-DD`, CRLF line ends; one table with a header row and a
totals row ("I alt"). The position and warnings are in the workbook (and the API body).

Neither holds a formula: text is always text. A workbook's text cells are strings even when
they start with `=`; in CSV, text starting with `=`, `+`, `-`, `@`, a tab or a carriage return
gets a leading `'`, so Excel does not evaluate it (the `'` stays part of the field's text).
"""

from __future__ import annotations

import csv
import io
from urllib.parse import quote
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Callable, Iterable

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from domain import municipalities, tariff_schedule
from domain.errors import RuleViolation
from service.danish import MONTHS, facility_kind

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
MEDIA_TYPES = {"xlsx": XLSX, "csv": CSV}
FORMATS = tuple(MEDIA_TYPES)

MONEY = "#,##0.00"
WHOLE = "#,##0"
ONE_DECIMAL = "0.0"
TWO_DECIMALS = "0.00"
DATE = "yyyy-mm-dd"
LEVELS = tuple(str(level) for level in tariff_schedule.LEVELS) + tariff_schedule.SPECIAL_TARIFF_CODES
"""The columns of citizens by level: tariff levels 1-8 and the special tariffs (the UI's too)."""
TOTAL = "I alt"


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its Danish header, the body field it shows, and how."""

    header: str
    field: str
    kind: str = "text"
    """text, money, whole, pct (one decimal), hours (two decimals), date or level"""


BUDGET = [
    Column("Tilbud", "facility"), Column("Navn", "name"), Column("Område", "area"), Column("Type", "kind"),
    Column("Pladser", "places", "whole"),
    Column("Rammebudget (kr.)", "frame", "money"), Column("Aktivitetsbudget (kr.)", "activity", "money"),
    Column("Budget i alt (kr.)", "total", "money"), Column("Basistakst (kr./dag)", "basistakst", "money"),
    Column("Belægningsdage", "present_days", "whole"), Column("Finansierede dage", "funded_days", "whole"),
    Column("Kapacitetsdage", "capacity_days", "whole"), Column("Belægning (%)", "occupancy_pct", "pct"),
    Column("Solgte dage", "sold_days", "whole"), Column("Andel solgt (%)", "sold_share_pct", "pct"),
    Column("Indtægt solgte pladser (kr.)", "sold_income", "money"),
    Column("Gns. støttetimer pr. dag", "avg_support_hours", "hours"),
    Column("Basisbudget, gammel model (kr.)", "baseline", "money"),
    Column("Difference model - basis (kr.)", "difference", "money"),
    Column("Indfaset budget (kr.)", "phased", "money"),
    Column("Over kapacitet (måneder)", "over_capacity"),
]
STATEMENT = [
    Column("Borger", "citizen_ref"), Column("Tilbud", "facility"), Column("Fra", "from", "date"),
    Column("Til", "to", "date"), Column("Niveau", "level", "level"),
    Column("Basistakst (kr./dag)", "basistakst", "money"), Column("Servicetakst (kr./dag)", "service_rate", "money"),
    Column("Dage", "days", "whole"), Column("Beløb (kr.)", "amount", "money"),
    Column("Betalingskommune", "municipality"),
]
CHANGES = [
    Column("Borger", "citizen_ref"), Column("Tilbud", "facility"),
    Column("Beløb dengang (kr.)", "amount_then", "money"), Column("Beløb nu (kr.)", "amount_now", "money"),
    Column("Difference (kr.)", "difference", "money"),
]
REGULATION = [
    Column("Tilbud", "facility"), Column("Navn", "name"),
    Column("Indtægt (kr.)", "revenue", "money"), Column("Omkostningsgrundlag (kr.)", "cost_basis", "money"),
    Column("Faktiske omkostninger (kr.)", "actual_costs", "money"), Column("Resultat (kr.)", "result", "money"),
    Column("Overført (kr.)", "carry_over", "money"), Column("Til takst (kr.)", "to_tariff", "money"),
    Column("Takstår", "target_year", "whole"), Column("Reguleringslinje (kr.)", "regulation_line", "money"),
    Column("Efterposteringer (kr.)", "post_closing_adjustments", "money"),
    Column("Resultat ved regnskab (kr.)", "result_at_closing", "money"),
    Column("Indregnet", "applied_text"), Column("Linje i rammebudgettet (kr.)", "applied_line", "money"),
]
NUMBER_FORMATS = {"money": MONEY, "whole": WHOLE, "pct": ONE_DECIMAL, "hours": TWO_DECIMALS, "date": DATE}


# Values -----------------------------------------------------------------------------------

SIGNIFICANT_DIGITS = 15
"""The most significant digits a number may have to reach the reader exactly (see `typed`)."""


def typed(value: Any, kind: str, field: str | None = None) -> Any:
    """A body value as the cell's type: Decimal for money, percentages and hours, int for days,
    date for dates; a level's number as int, S1/S2 as text.

    A number is exact in the workbook only up to 15 significant digits: openpyxl writes a
    Decimal through a float (`"%.16g"`), and Excel reads a double and shows 15 digits. So
    amounts below 10^13 kr. with øre are exact; a number with more digits is refused
    (`amount_too_large_for_a_spreadsheet`, naming the field) rather than written rounded."""
    if value is None or value == "":
        return None
    if kind in ("money", "pct", "hours"):
        number = Decimal(value)
        if len(number.as_tuple().digits) > SIGNIFICANT_DIGITS:
            raise RuleViolation("amount_too_large_for_a_spreadsheet", f"{value} has more than {SIGNIFICANT_DIGITS} "
                                "significant digits: a spreadsheet cell would hold it rounded", field)
        return number
    if kind == "whole":
        return int(value)
    if kind == "date":
        return value if isinstance(value, date) else date.fromisoformat(value)
    if kind == "level":
        return int(value) if str(value).isdigit() else cell_text(str(value))
    return cell_text(value)


def cell_text(value: Any) -> Any:
    """Text as a workbook can hold it: the control characters XML 1.0 forbids (which openpyxl
    refuses) are written visibly as `\\xNN` instead of failing the whole download."""
    if not isinstance(value, str):
        return value
    return ILLEGAL_CHARACTERS_RE.sub(lambda found: f"\\x{ord(found.group()):02x}", value)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes Excel read a CSV field as a formula (OWASP, "CSV injection")."""


def danish(value: Any) -> str:
    """A typed value as Danish Excel reads it from CSV: decimal comma, no thousands separator.
    Text that Excel would take for a formula (it starts with = + - @, a tab or a carriage
    return, e.g. a facility named `=HYPERLINK(...)`) gets a leading `'`, so it stays text."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", ",")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_STARTS) else text


def level_counts(by_level: dict[str, int]) -> dict[str, int]:
    """Citizens by level in the fixed order 1..8, S1, S2 (and any other code after them)."""
    codes = list(LEVELS) + sorted(set(by_level) - set(LEVELS))
    return {code: int(by_level.get(code, 0)) for code in codes}


# Rows of each view ------------------------------------------------------------------------

def over_capacity_text(months: Iterable[int]) -> str:
    """The months over capacity (more present days than capacity days) in Danish: "marts, april"."""
    return ", ".join(MONTHS[month - 1] for month in months)


def _central_rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [{**row, "kind": facility_kind(row["kind"]),
             "over_capacity": over_capacity_text(row.get("over_capacity_months") or [])}
            for row in body["facilities"]]
    rows.append({**body["totals"], "facility": TOTAL, "name": None, "area": None, "kind": None, "basistakst": None})
    return rows


def _level_columns(body: dict[str, Any]) -> tuple[list[Column], list[dict[str, Any]]]:
    codes = list(level_counts(body["totals"]["citizens_by_level"]))
    columns = [Column("Tilbud", "facility"), Column("Navn", "name"),
               *(Column(f"Niveau {code}" if code.isdigit() else f"Særtakst {code}", code, "whole") for code in codes),
               Column("Borgere i alt", "citizens", "whole")]
    rows = []
    for row in _central_rows(body):
        counts = level_counts(row["citizens_by_level"])
        rows.append({"facility": row["facility"], "name": row.get("name"),
                     **{code: counts.get(code, 0) for code in codes}, "citizens": sum(counts.values())})
    return columns, rows


def _statement_rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    """A row per period and a totals row, each naming the paying municipality ("Aarhus Kommune (751)")."""
    payer = municipalities.label(body["municipality"])
    rows = [{"citizen_ref": line["citizen_ref"], "facility": line["facility"], "basistakst": line["basistakst"],
             **period, "municipality": payer} for line in body["lines"] for period in line["periods"]]
    rows.append({"citizen_ref": TOTAL, "days": sum(line["days"] for line in body["lines"]), "amount": body["total"],
                 "municipality": payer})
    return rows


def _period(body: dict[str, Any]) -> str:
    month = body.get("month")
    return f"{MONTHS[month - 1]} {body['year']}" if month else f"hele {body['year']}"


# Workbooks --------------------------------------------------------------------------------

def _sheet(book: Workbook, title: str, columns: list[Column], rows: Iterable[dict[str, Any]],
           freeze: str = "B2", total_label: str | None = TOTAL) -> Worksheet:
    sheet = book.create_sheet(title)
    sheet.append([c.header for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    widths = [min(max(len(c.header) // 2 + 2, 10), 40) for c in columns]
    for row in rows:
        values = [typed(row.get(c.field), c.kind, c.field) for c in columns]
        sheet.append(values)
        bold = total_label is not None and row.get(columns[0].field) == total_label
        for index, (cell, column, value) in enumerate(zip(sheet[sheet.max_row], columns, values)):
            if column.kind in NUMBER_FORMATS:
                cell.number_format = NUMBER_FORMATS[column.kind]
            if bold:
                cell.font = Font(bold=True)
            widths[index] = min(max(widths[index], len(danish(value)) + 4), 40)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = freeze
    return sheet


def _about(book: Workbook, facts: list[tuple[str, Any]], warnings: list[str], notes: list[str]) -> None:
    sheet = book.create_sheet("Om udtrækket")
    for label, value in facts:
        sheet.append([label, cell_text(value)])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True)
    sheet.append([])
    warnings = [cell_text(warning) for warning in warnings]
    sheet.append(["Advarsler", "ingen" if not warnings else warnings[0]])
    sheet.cell(sheet.max_row, 1).font = Font(bold=True)
    for warning in warnings[1:]:
        sheet.append([None, warning])
    sheet.append([])
    sheet.append(["Sådan læses tallene"])
    sheet.cell(sheet.max_row, 1).font = Font(bold=True)
    for note in notes:
        sheet.append([None, note])
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 100


def _text_only(book: Workbook) -> None:
    """No cell is a formula: openpyxl makes a string starting with `=` a formula, so a
    facility named `=HYPERLINK(...)` would be one; every such cell is written as the text it is."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"


def _save(book: Workbook) -> bytes:
    del book[book.sheetnames[0]]  # the empty default sheet
    _text_only(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


CENTRAL_NOTES = [
    "Budget i alt = rammebudget + aktivitetsbudget. Aktivitetsbudgettet er servicetaksten for hver finansieret dag.",
    "Finansierede dage = belægningsdage + afløb: efter en fraflytning finansieres pladsen måneden ud og "
    "én måned mere.",
    "Belægning = belægningsdage / kapacitetsdage × 100. Solgte dage: dage betalt af en anden kommune end "
    "Norddjurs Kommune (707).",
    "Indtægt solgte pladser = solgte dage × (basistakst + servicetakst). Støttetimer: gennemsnit pr. "
    "belægningsdag.",
    "Indfaset budget = basisbudget + indfasningsprocent × (model − basis); kun for et år med et basisbudget.",
    "Over kapacitet: de måneder, hvor belægningsdagene overstiger kapacitetsdagene (flere borgere end pladser); "
    "de står også under Advarsler.",
    "Niveauer: borgere pr. takstniveau eller særtakst på periodens sidste dag.",
    "Tallene er læst som de stod ved den nævnte position i hændelseslageret; samme position giver altid samme tal "
    "(GET /v1/central/{år}?as_of_position=…).",
]


def central_workbook(body: dict[str, Any]) -> bytes:
    """The central model as a workbook: "Budget" (a row per facility and a totals row),
    "Niveauer" (citizens by level) and "Om udtrækket"."""
    book = Workbook()
    _sheet(book, "Budget", BUDGET, _central_rows(body))
    columns, rows = _level_columns(body)
    _sheet(book, "Niveauer", columns, rows)
    _about(book, [("Udtræk", "Central budgetmodel"), ("År", body["year"]),
                  ("Måned", body["month"] if body.get("month") else "hele året"), ("Periode", _period(body)),
                  ("Opgjort pr. position", body["as_of_position"])],
           list(body.get("warnings") or []), CENTRAL_NOTES)
    return _save(book)


STATEMENT_NOTES = [
    "En række pr. periode med samme takstniveau og servicetakst; beløb = dage × (basistakst + servicetakst).",
    "Købende kommuner betaler for belægningsdage (indflytnings- og fraflytningsdag medregnes).",
    "Afregningen er læst som den stod ved den nævnte position; samme position giver altid samme afregning. "
    "\"Ændringer siden\" viser, hvad dagens tal siger, når senere hændelser har ændret måneden.",
]


def statement_workbook(body: dict[str, Any]) -> bytes:
    """A statement as a workbook: "Afregning" (a row per period and a totals row), "Ændringer
    siden" when later events changed the month, and "Om udtrækket"."""
    book = Workbook()
    _sheet(book, "Afregning", STATEMENT, _statement_rows(body), freeze="A2")
    now = body.get("now")
    facts: list[tuple[str, Any]] = [
        ("Udtræk", "Afregning til betalingskommune"),
        ("Betalingskommune", municipalities.label(body["municipality"])), ("År", body["year"]),
        ("Måned", body["month"]), ("Periode", _period(body)),
        ("Opgjort pr. position", body["as_of_position"]), ("Total (kr.)", typed(body["total"], "money", "total"))]
    if now is not None:
        changed = [*now["changed_lines"],
                   {"citizen_ref": TOTAL, "amount_then": body["total"], "amount_now": now["total"],
                    "difference": now["difference"]}]
        _sheet(book, "Ændringer siden", CHANGES, changed, freeze="A2")
        facts += [("Nu: position", now["as_of_position"]), ("Nu: total (kr.)", typed(now["total"], "money", "total")),
                  ("Difference (kr.)", typed(now["difference"], "money", "difference"))]
    _about(book, facts, list(body.get("warnings") or []), STATEMENT_NOTES)
    sheet = book["Om udtrækket"]
    for row in sheet.iter_rows(min_col=2, max_col=2):
        if isinstance(row[0].value, Decimal):
            row[0].number_format = MONEY
    return _save(book)


def _regulation_rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    """A row per facility and a totals row ("I alt": the amounts summed, how many are applied)."""
    rows = [{**row, "applied_text": "Ja" if row["applied"] else "Nej"} for row in body["facilities"]]
    totals = body["totals"]
    rows.append({**totals, "facility": TOTAL, "applied_text": f"{totals['applied']} af {totals['facilities']}"})
    return rows


REGULATION_NOTES = [
    "Resultat = indtægt − faktiske omkostninger (positivt: overskud); indtægt = belægningsdage × basistakst + "
    "servicetakster.",
    "Overført: resultatet inden for ± grænsen af omkostningsgrundlaget; til takst = resultat − overført, som "
    "indgår i takståret som reguleringslinjen −(til takst).",
    "Indregnet: om takstårets rammebudget har reguleringslinjen med netop det beløb.",
    "Efterposteringer: ændringer i resultatet efter regnskabet blev registreret.",
]


def regulation_workbook(body: dict[str, Any]) -> bytes:
    """The regulation of a year as a workbook: "Efterregulering" (a row per facility with
    closed accounts and a totals row) and "Om udtrækket"."""
    book = Workbook()
    _sheet(book, "Efterregulering", REGULATION, _regulation_rows(body))
    _about(book, [("Udtræk", "Efterregulering"), ("Regnskabsår", body["year"]),
                  ("Grænse for overførsel (%)", typed(body["limit_pct"], "pct")),
                  ("År til takst", body["years_to_tariff"]), ("Opgjort pr. position", body["as_of_position"])],
           list(body.get("warnings") or []), REGULATION_NOTES)
    return _save(book)


def regulation_csv(body: dict[str, Any]) -> bytes:
    """The regulation of a year as one CSV table: a row per facility and a totals row."""
    return _csv(REGULATION, _regulation_rows(body))


WHAT_IF = [
    Column("Opdeling", "part"), Column("Kode", "code"), Column("Navn", "name"),
    Column("Faktisk opkrævet (kr.)", "actual", "money"), Column("Med udkastet (kr.)", "what_if", "money"),
    Column("Difference (kr.)", "difference", "money"),
]
WHAT_IF_PARTS = {"facilities": ("Tilbud", "facility", "name"),
                 "paying_municipalities": ("Betalingskommune", "paying_municipality", "paying_municipality_name")}
WHAT_IF_NOTES = [
    "Årets indtægt genberegnet med udkastets takster: udkastets takst pr. niveau erstatter årets takster og "
    "takstreguleringer; borgernes niveauer er som visiteret.",
    "En særtakst beholder den takst, borgeren har fået bevilget, medmindre udkastet giver særtaksten en takst.",
    "Indtægt pr. belægningsdag = basistakst + servicetakst; difference = med udkastet − faktisk opkrævet.",
    "Intet registreres: beregningen ændrer ikke ledgeren.",
]


def _what_if_rows(body: dict[str, Any], part: str) -> list[dict[str, Any]]:
    """A part's rows ("Tilbud" or "Betalingskommune") and its totals row (both parts sum to the totals)."""
    label, code, name = WHAT_IF_PARTS[part]
    rows = [{"part": label, "code": row[code], "name": row.get(name), "actual": row["actual"],
             "what_if": row["what_if"], "difference": row["difference"]} for row in body[part]]
    rows.append({"part": label, "code": TOTAL, **body["totals"]})
    return rows


def what_if_workbook(body: dict[str, Any]) -> bytes:
    """The what-if of a year as a workbook: "Tilbud" and "Betalingskommuner" (a row each and a
    totals row), and "Om udtrækket" with the draft's rates."""
    book = Workbook()
    columns = WHAT_IF[1:]
    _sheet(book, "Tilbud", columns, _what_if_rows(body, "facilities"), freeze="A2")
    _sheet(book, "Betalingskommuner", columns, _what_if_rows(body, "paying_municipalities"), freeze="A2")
    draft = body["draft"]
    facts: list[tuple[str, Any]] = [("Udtræk", "Hvad nu hvis: indtægt med et udkast til takster"), ("År", body["year"]),
                                    ("Opgjort pr. position", body["as_of_position"])]
    facts += [(f"Udkast: niveau {row['level']} (kr./døgn)", typed(row["daily_rate"], "money"))
              for row in draft["levels"]]
    facts += [(f"Udkast: særtakst {row['code']} (kr./døgn)",
               typed(row["daily_rate"], "money") if row.get("daily_rate") else "den bevilgede takst")
              for row in draft["special_tariffs"]]
    _about(book, facts, list(body.get("warnings") or []), WHAT_IF_NOTES)
    sheet = book["Om udtrækket"]
    for row in sheet.iter_rows(min_col=2, max_col=2):
        if isinstance(row[0].value, Decimal):
            row[0].number_format = MONEY
    return _save(book)


def what_if_csv(body: dict[str, Any]) -> bytes:
    """The what-if of a year as one CSV table: the facilities and their total, then the paying
    municipalities and theirs, the column "Opdeling" saying which."""
    return _csv(WHAT_IF, [*_what_if_rows(body, "facilities"), *_what_if_rows(body, "paying_municipalities")])


# CSV --------------------------------------------------------------------------------------

def _csv(columns: list[Column], rows: Iterable[dict[str, Any]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow([c.header for c in columns])
    for row in rows:
        writer.writerow([danish(typed(row.get(c.field), c.kind, c.field)) for c in columns])
    return text.getvalue().encode("utf-8-sig")


def central_csv(body: dict[str, Any]) -> bytes:
    """The central model as one CSV table: the "Budget" columns and the citizens by level."""
    level_columns, level_rows = _level_columns(body)
    columns = BUDGET + level_columns[2:]
    rows = [{**budget, **levels} for budget, levels in zip(_central_rows(body), level_rows)]
    return _csv(columns, rows)


def statement_csv(body: dict[str, Any]) -> bytes:
    """A statement as one CSV table: a row per period and a totals row."""
    return _csv(STATEMENT, _statement_rows(body))


# Files ------------------------------------------------------------------------------------

RENDERERS: dict[tuple[str, str], Callable[[dict[str, Any]], bytes]] = {
    ("central", "xlsx"): central_workbook, ("central", "csv"): central_csv,
    ("statement", "xlsx"): statement_workbook, ("statement", "csv"): statement_csv,
    ("regulation", "xlsx"): regulation_workbook, ("regulation", "csv"): regulation_csv,
    ("what_if", "xlsx"): what_if_workbook, ("what_if", "csv"): what_if_csv,
}


def row_count(view: str, body: dict[str, Any]) -> int:
    """The rows a view's file will hold (its largest cost), counted from the body before rendering."""
    if view in ("central", "regulation"):
        return len(body["facilities"]) + 1
    if view == "what_if":
        return len(body["facilities"]) + len(body["paying_municipalities"]) + 2
    changed = (body.get("now") or {}).get("changed_lines") or []
    return sum(len(line["periods"]) for line in body["lines"]) + 1 + len(changed)


def central_filename(year: int, month: int | None, fmt: str) -> str:
    return f"central-{year}" + (f"-{month:02d}" if month else "") + f".{fmt}"


def statement_filename(municipality: str, year: int, month: int, fmt: str) -> str:
    return f"afregning-{municipality}-{year}-{month:02d}.{fmt}"


def regulation_filename(year: int, fmt: str) -> str:
    return f"efterregulering-{year}.{fmt}"


def what_if_filename(year: int, fmt: str) -> str:
    return f"hvad-hvis-{year}.{fmt}"


def content_disposition(filename: str) -> str:
    """An attachment header that always encodes (RFC 6266): `filename="..."` in printable
    ASCII, every other character (and `"` and `\\`) as `_`, and, when that is not the name
    itself, the exact name as `filename*=UTF-8''...` (RFC 8187), which browsers prefer."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename)
    header = f'attachment; filename="{fallback}"'
    if fallback != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header
